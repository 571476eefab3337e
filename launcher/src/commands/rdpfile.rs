//! `rdpl import`, `rdpl sanitize` and `rdpl rdp`: everything that reads or writes .rdp files.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use rdpl_profiles::convert::{self, Imported};
use rdpl_profiles::rdp::RdpFile;
use rdpl_profiles::rdp::parse::Severity;
use rdpl_profiles::rdp::sanitize::{self, Action, Policy, Sanitized};

use super::common::{
    load, parse_loaded, policy, print_json, profile_name, resolve_target, store_error, write_output,
};
use crate::cli::{ImportArgs, RdpArgs, SanitizeArgs};
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::{ImportJson, JSON_VERSION, ProfileJson, RdpJson, SanitizeJson};
use crate::output::print_sanitized;
use crate::pipeline::{self, Ask};
use crate::ui::outln;
use crate::ui::{Ui, style};
use rdpl_core::plan::Overrides;

pub(super) fn sanitize(a: SanitizeArgs, ui: &mut Ui) -> CmdResult {
    let policy = policy(&a.allow)?;
    let file = load(&a.file)?;
    let s = sanitize::sanitize(&file, &policy);
    let to_stdout = a.output.as_deref() == Some(Path::new("-"));
    if let Some(out) = a.output.as_deref().filter(|_| !to_stdout) {
        write_output(out, &s.document.to_bytes())?;
    }
    if a.json {
        print_json(ui, &SanitizeJson::new(a.file.display().to_string(), &file, &s))?;
        return Ok(Exit::Ok);
    }
    if to_stdout {
        let _ = ui.out.write_all(s.document.to_text().as_bytes());
        // The report goes to stderr so stdout stays a clean .rdp file.
        std::mem::swap(&mut ui.out, &mut ui.err);
        summary(ui, &a.file, &file, &s, None);
        std::mem::swap(&mut ui.out, &mut ui.err);
    } else {
        summary(ui, &a.file, &file, &s, a.output.as_deref());
    }
    Ok(Exit::Ok)
}

fn summary(ui: &mut Ui, path: &Path, file: &RdpFile, s: &Sanitized, out: Option<&Path>) {
    let b = style::BOLD;
    let n = |act| s.changes.iter().filter(|c| c.action == act).count();
    outln!(
        ui,
        "{b}{}{b:#}: {}, {} lines, {} properties; {} removed, {} forced off, {} changed",
        path.display(),
        file.encoding,
        file.lines,
        file.effective().len(),
        n(Action::Removed),
        n(Action::ForcedOff),
        n(Action::Changed)
    );
    print_sanitized(ui, s);
    match out {
        Some(o) => outln!(
            ui,
            "wrote {} ({} properties, UTF-16LE with BOM)",
            o.display(),
            s.document.len()
        ),
        None => outln!(ui, "(use -o FILE to write the clean file, or -o - to print it)"),
    }
}

/// `rdpl import FILE.rdp` (the bytes read and recognised as an .rdp file by `commands::import`).
pub(super) fn import(
    a: ImportArgs,
    bytes: &[u8],
    policy: &Policy,
    config: &Config,
    ui: &mut Ui,
) -> CmdResult {
    let file = parse_loaded(&a.file, bytes)?;
    let s = sanitize::sanitize(&file, policy);
    let name = match &a.name {
        Some(n) => profile_name(n)?,
        None => {
            let host = s
                .document
                .get("full address")
                .and_then(|v| v.as_str())
                .and_then(|h| h.parse::<rdpl_profiles::name::TargetAddr>().ok());
            let stem = a
                .file
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|_| a.file != Path::new("-"));
            match host.map(|h| convert::suggested_name(stem, &h.host)) {
                Some(Some(n)) => n,
                _ => stem
                    .and_then(rdpl_profiles::name::ProfileName::sanitized_from)
                    .unwrap_or_else(|| {
                        rdpl_profiles::name::ProfileName::for_host(&rdpl_profiles::name::Host::Name(
                            "imported".into(),
                        ))
                    }),
            }
        }
    };
    let Imported { profile, notes } = convert::from_rdp(name, &s).map_err(|e| {
        let mut err = CliError::usage(anyhow!("{}: cannot import: {e}", a.file.display()));
        err.help = s
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .take(5)
            .map(|d| d.to_string())
            .collect();
        err.help
            .push("`rdpl sanitize FILE` shows everything rdpl read in the file".into());
        err
    })?;
    let store = config.store();
    let created = !a.dry_run;
    if created {
        store.add(&profile).map_err(|e| {
            let e = store_error(e);
            e.help("pass --name NAME to import under another name")
        })?;
    }
    if a.json {
        let doc = ImportJson {
            version: JSON_VERSION,
            created,
            path: created.then(|| store.path_of(&profile.name).display().to_string()),
            profile: ProfileJson::from(&profile),
            notes: &notes,
            changes: &s.changes,
            diagnostics: &s.diagnostics,
        };
        print_json(ui, &doc)?;
        return Ok(Exit::Ok);
    }
    let (g, b) = (style::OK, style::BOLD);
    let verb = if created { "imported" } else { "would import" };
    outln!(
        ui,
        "{g}{verb}{g:#} {b}{}{b:#} -> {} from {}",
        profile.name,
        profile.target(),
        a.file.display()
    );
    print_sanitized(ui, &s);
    for n in &notes {
        outln!(
            ui,
            "  {}note{:#}     {}: {}",
            style::DIM,
            style::DIM,
            n.name,
            n.message
        );
    }
    if created {
        ui.note(format!("saved {}", store.path_of(&profile.name).display()));
    }
    Ok(Exit::Ok)
}

pub(super) fn rdp(a: RdpArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    let mut warnings = Vec::new();
    let (doc, profile_sign) = if a.offline {
        let profile = resolve_target(&store, &a.target)?;
        let doc = convert::to_document(&profile).map_err(|e| {
            CliError::usage(anyhow!(
                "profile `{}` can't be written as .rdp: {e}",
                profile.name
            ))
        })?;
        (doc, profile.sign)
    } else {
        let profile = resolve_target(&store, &a.target)?;
        let ask = Ask {
            timeout: a.timeout,
            overrides: Overrides::from(a.cert),
            credentials: false,
        };
        let prepared = pipeline::prepare(config, profile, &a.target, ask, ui)?;
        for w in &prepared.plan.warnings {
            ui.warn(w);
            warnings.push(w.clone());
        }
        prepared.check_go(ui, &a.target)?;
        let (plan, profile) = (prepared.plan, prepared.profile);
        if plan.record_pin {
            ui.note("note: `rdpl connect` pins this certificate on first use; `rdpl pin accept` does it now");
        }
        (plan.document, profile.sign)
    };
    let explicit = a.sign.as_deref().map(|cert| crate::signing::SignSource {
        cert,
        key: a.key.as_deref(),
    });
    let doc = crate::signing::sign_if_asked(
        doc,
        explicit,
        profile_sign.as_ref(),
        a.pfx_password_stdin,
        config,
        ui,
    )?;
    if let Some(out) = &a.output {
        write_output(out, &doc.to_bytes())?;
    }
    if a.json {
        let doc = RdpJson {
            version: JSON_VERSION,
            target: a.target.clone(),
            offline: a.offline,
            output: a.output.as_ref().map(|o| o.display().to_string()),
            properties: doc.len(),
            signed: doc.get("signature").is_some(),
            warnings,
            rdp: doc.to_text(),
        };
        print_json(ui, &doc)?;
        return Ok(Exit::Ok);
    }
    match &a.output {
        Some(out) => {
            ui.note(format!(
                "wrote {} ({} properties, UTF-16LE with BOM, CRLF)",
                out.display(),
                doc.len()
            ));
        }
        None => {
            let _ = ui.out.write_all(doc.to_text().as_bytes());
        }
    }
    Ok(Exit::Ok)
}

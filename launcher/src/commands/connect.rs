//! `rdpl connect TARGET` and `rdpl open FILE.rdp`: pre-flight -> plan -> clear stale credentials -> write
//! the sanitized .rdp -> hand off to the client, passing its exit code through. `--dry-run` shows all of it
//! and changes nothing.

use std::path::Path;

use anyhow::anyhow;
use rdpl_profiles::convert::{self, Imported};
use rdpl_profiles::profile::{Backend, Profile};
use rdpl_profiles::rdp::sanitize;
use serde::Serialize;

use super::common::{load, policy, print_json, resolve_target, store_error};
use crate::cli::{ConnectArgs, ConnectOpts, OpenArgs, WithBackend};
use crate::config::Config;
use crate::credentials::{self as creds};
use crate::exit::{CliError, CmdResult, Exit};
use crate::handoff::{self, Handoff, HandoffError, Launch, Passthrough};
use crate::output::{print_causes, print_plan, print_sanitized};
use crate::pipeline::{self, Ask, cred_error, password_for, stdin_password};
use crate::ui::outln;
use crate::ui::{Ui, shown, style};
use rdpl_core::doctor::{self, CauseId, PasswordSource};
use rdpl_core::plan::{Layer, Overrides, Plan};
use rdpl_core::stale;

pub(super) fn connect(a: ConnectArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let profile = resolve_target(&config.store(), &a.target)?;
    run(profile, &a.target, &a.opts, config, ui)
}

pub(super) fn open(a: OpenArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let file = load(&a.file)?;
    let s = sanitize::sanitize(&file, &policy(&a.allow)?);
    // With --json the report goes to stderr: stdout is the JSON document alone.
    let json = a.opts.json;
    if json {
        std::mem::swap(&mut ui.out, &mut ui.err);
    }
    outln!(
        ui,
        "{}{}{:#}",
        style::BOLD,
        shown(&a.file.display().to_string()),
        style::BOLD
    );
    print_sanitized(ui, &s);
    if json {
        std::mem::swap(&mut ui.out, &mut ui.err);
    }
    let Imported { profile, notes } = convert::from_rdp(transient_name(&a.file), &s)
        .map_err(|e| CliError::usage(anyhow!("{}: cannot connect: {e}", a.file.display())))?;
    for n in &notes {
        ui.note(format!("note: {}: {}", n.name, n.message));
    }
    // A profile for the same host and port wins: its settings, pins and saved credentials are the user's.
    let store = config.store();
    let (profiles, _broken) = store.load_all().map_err(store_error)?;
    let profile = match profiles.into_iter().find(|p| {
        p.host.to_string().eq_ignore_ascii_case(&profile.host.to_string()) && p.port == profile.port
    }) {
        Some(existing) => {
            ui.note(format!(
                "using profile `{}` for {}; the file's other settings are ignored",
                existing.name,
                existing.target()
            ));
            existing
        }
        None => {
            ui.note(format!(
                "no profile for {}: connecting with the sanitized file's settings (`rdpl import` keeps them)",
                profile.target()
            ));
            profile
        }
    };
    let label = profile.name.to_string();
    run(profile, &label, &a.opts, config, ui)
}

fn transient_name(file: &Path) -> rdpl_profiles::name::ProfileName {
    file.file_stem()
        .and_then(|s| s.to_str())
        .and_then(rdpl_profiles::name::ProfileName::sanitized_from)
        .unwrap_or_else(|| {
            rdpl_profiles::name::ProfileName::for_host(&rdpl_profiles::name::Host::Name("rdp-file".into()))
        })
}

#[derive(Serialize)]
struct DryRunJson<'a> {
    version: u32,
    target: &'a str,
    go: bool,
    plan: &'a Plan,
    password: &'static str,
    handoff: Option<&'a Handoff>,
    udp_policy: Option<&'a str>,
    rdp: String,
}

fn run(profile: Profile, label: &str, o: &ConnectOpts, config: &Config, ui: &mut Ui) -> CmdResult {
    // Read a piped password first, before anything else can block on standard input.
    let stdin_password = stdin_password(o.password_stdin)?;
    if o.save_password && stdin_password.is_none() {
        return Err(CliError::usage(anyhow!("--save-password needs --password-stdin"))
            .help("or save it first with `rdpl creds set TARGET`"));
    }
    let ask = Ask {
        timeout: o.timeout,
        overrides: Overrides {
            with: backend_of(o.with),
            ..Overrides::from(o.cert)
        },
        credentials: true,
    };
    let mut prepared = pipeline::prepare(config, profile, label, ask, ui)?;
    // mstsc warns about unsigned files; a profile with a signing certificate gets them signed (the PFX password
    // only from RDPL_PFX_PASSWORD here: standard input is the RDP password's). A dry run only says so.
    if let Some(sign) = prepared
        .profile
        .sign
        .clone()
        .filter(|_| prepared.plan.backend == Backend::Mstsc && prepared.plan.go())
    {
        if o.dry_run {
            ui.note(format!(
                "the .rdp file would be signed with {}",
                sign.cert.display()
            ));
        } else {
            let doc = std::mem::take(&mut prepared.plan.document);
            prepared.plan.document =
                crate::signing::sign_if_asked(doc, None, Some(&sign), false, config, ui)?;
        }
    }

    if prepared.plan.backend == Backend::Native && !o.dry_run {
        return crate::session::window(config, prepared, label, o.timeout, stdin_password, ui);
    }
    let (profile, plan, vault) = (&prepared.profile, &prepared.plan, &prepared.vault);
    let key = stale::profile_key(profile);
    let (password, source) = password_for(plan, vault, key.as_ref(), stdin_password, ui);

    let private_dir = config.private_dir();
    let launch = Launch {
        profile,
        plan,
        password: password.as_ref(),
        save_password: o.save_password,
        pass: Passthrough {
            admin: o.admin,
            full_screen: o.full_screen,
            multimon: o.multimon,
        },
        private_dir: &private_dir,
        system_root: config.system_root.as_deref(),
        home: config.dirs.home.as_deref(),
    };
    let handoff = handoff::describe(plan.backend, &launch);
    let udp_policy = udp_policy_note();

    if o.dry_run {
        let pw = match source {
            PasswordSource::Stdin => "standard input",
            PasswordSource::Keyring => "keyring",
            PasswordSource::None => "none (the client asks)",
        };
        if o.json {
            print_json(
                ui,
                &DryRunJson {
                    version: crate::json::JSON_VERSION,
                    target: label,
                    go: plan.go(),
                    plan,
                    password: pw,
                    handoff: handoff.as_ref().ok(),
                    udp_policy: udp_policy.as_deref(),
                    rdp: plan.document.to_text(),
                },
            )?;
        } else {
            print_plan(ui, label, plan, pw, &handoff);
            if let Some(n) = &udp_policy {
                outln!(ui, "  note         {}", shown(n));
            }
        }
        return Ok(if plan.go() { Exit::Ok } else { Exit::Failed });
    }

    for w in &plan.warnings {
        ui.warn(w);
    }
    if let Some(n) = &udp_policy {
        ui.note(n);
    }
    prepared.check_go(ui, label)?;
    let handoff = handoff.map_err(handoff_error)?;
    prepared.record_pin(config, ui)?;
    if o.keep_creds {
        if !plan.clear.is_empty() {
            ui.note(format!(
                "--keep-creds: left {} stale saved credential(s) alone",
                plan.clear.len()
            ));
        }
    } else {
        for s in &plan.clear {
            match creds::clear(vault, &s.item) {
                Ok(true) => outln!(
                    ui,
                    "{}cleared{:#} {}: {}",
                    style::OK,
                    style::OK,
                    shown(&s.item.to_string()),
                    shown(&s.reason)
                ),
                Ok(false) => {}
                Err(e) => ui.warn(format!("could not clear {}: {e}", s.item)),
            }
        }
    }
    if let (Some(p), Some(k), PasswordSource::Stdin, true) = (&password, &key, source, o.save_password) {
        let kind = vault.set(k, Some(profile.name.as_str()), p).map_err(cred_error)?;
        ui.note(format!("saved the password of {k} in the {kind}"));
    }

    ui.note(format!(
        "connecting to {} with {} ({}{})",
        plan.address,
        handoff.backend,
        match plan.layer {
            Layer::Nla => "NLA",
            Layer::Tls => "TLS, no NLA",
            Layer::Rdp => "Standard RDP Security",
        },
        if plan.udp_off { ", UDP off" } else { "" }
    ));
    let client = handoff::start(plan.backend, &launch).map_err(handoff_error)?;
    // The client has the password now: zeroize rdpl's copy instead of holding it for the whole session.
    drop(password);
    let code = client.wait().map_err(handoff_error)?;
    if code == 0 {
        return Ok(Exit::Ok);
    }
    // The client failed: say why, most likely cause first, and mark a rejected saved password.
    let causes = doctor::diagnose_exit(profile, &prepared.facts, &handoff.backend, code, plan.nla, source);
    if let (Some(top), PasswordSource::Keyring, Some(k)) = (causes.first(), source, &key)
        && top.id == CauseId::StaleCredentials
        && let Err(e) = vault.mark_failed(k, &top.title)
    {
        ui.warn(format!("could not mark the saved password as rejected: {e}"));
    }
    if let Some(top) = causes.first() {
        print_causes(ui, label, std::slice::from_ref(top));
    }
    Ok(Exit::Child(u8::try_from(code & 0xff).unwrap_or(1).max(1)))
}

/// On Windows, whether the documented client-side UDP switch ("Turn Off UDP On Client", fClientDisableUDP)
/// is set: it decides over the `disableudptransport` line rdpl writes.
fn udp_policy_note() -> Option<String> {
    #[cfg(windows)]
    {
        match crate::credentials::windows::udp_policy() {
            Ok(Some((key, disabled))) => Some(format!(
                "the policy \"Turn Off UDP On Client\" is set in {key}: UDP is {} for every connection, whatever the .rdp says",
                if disabled { "off" } else { "allowed" }
            )),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!("could not read the UDP policy: {e}");
                None
            }
        }
    }
    #[cfg(not(windows))]
    None
}

fn backend_of(w: WithBackend) -> Option<Backend> {
    match w {
        WithBackend::Auto => None,
        WithBackend::Mstsc => Some(Backend::Mstsc),
        WithBackend::Xfreerdp => Some(Backend::Xfreerdp),
        WithBackend::Macos => Some(Backend::Macos),
        WithBackend::Native => Some(Backend::Native),
    }
}

fn handoff_error(e: HandoffError) -> CliError {
    match e {
        HandoffError::NotInstalled { program, install } => CliError {
            exit: Exit::Failed,
            error: anyhow!("{program} was not found"),
            help: vec![install, "`--with` picks another client".into()],
        },
        HandoffError::Unsupported(m) => CliError::usage(anyhow!(m)),
        e => CliError {
            exit: Exit::Failed,
            error: anyhow!(e),
            help: vec![],
        },
    }
}

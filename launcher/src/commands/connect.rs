//! `rdpl connect TARGET` and `rdpl open FILE.rdp`: pre-flight -> plan -> clear stale credentials -> write
//! the sanitized .rdp -> hand off to the client, passing its exit code through. `--dry-run` shows all of it
//! and changes nothing.

use std::path::Path;

use anyhow::anyhow;
use rdpl_profiles::convert::{self, Imported};
use rdpl_profiles::pins;
use rdpl_profiles::profile::{Backend, Profile};
use rdpl_profiles::rdp::sanitize;
use secrecy::SecretString;
use serde::Serialize;

use super::check::check_profile;
use super::creds::{cred_error, read_password};
use super::rdpfile::{load, policy, print_report};
use super::{print_json, resolve_target, store_error};
use crate::cli::{ConnectArgs, ConnectOpts, OpenArgs, WithBackend};
use crate::config::Config;
use crate::credentials::stale::{self, Inventory};
use crate::credentials::{self as creds};
use crate::doctor::{self, PasswordSource};
use crate::exit::{CliError, CmdResult, Exit};
use crate::handoff::{self, Handoff, HandoffError, Launch, Passthrough};
use crate::outln;
use crate::plan::{self, Layer, Overrides, Plan};
use crate::probe::report::Report;
use crate::ui::{Ui, style};

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
    outln!(ui, "{}{}{:#}", style::BOLD, a.file.display(), style::BOLD);
    print_report(ui, &s);
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
    let stdin_password = if o.password_stdin {
        Some(read_password(true, "")?)
    } else {
        None
    };
    if o.save_password && stdin_password.is_none() {
        return Err(CliError::usage(anyhow!("--save-password needs --password-stdin"))
            .help("or save it first with `rdpl creds set TARGET`"));
    }
    let (report, now) = check_profile(config, profile.clone(), label, o.timeout)?;
    let vault = config.vault();
    let inventory = creds::inventory(&vault).unwrap_or_else(|e| {
        ui.warn(format!("could not list saved credentials: {e}"));
        Inventory::default()
    });
    let overrides = Overrides {
        with: backend_of(o.with),
        ..Overrides::from(o.cert)
    };
    let mut plan = plan::plan(&profile, &report, &inventory, overrides).map_err(|e| {
        CliError::usage(anyhow!(
            "profile `{}` can't be written as .rdp: {e}",
            profile.name
        ))
    })?;
    // mstsc warns about unsigned files; a profile with a signing certificate gets them signed (the PFX password
    // only from RDPL_PFX_PASSWORD here: standard input is the RDP password's). A dry run only says so.
    if let Some(sign) = profile
        .sign
        .as_ref()
        .filter(|_| plan.backend == Backend::Mstsc && plan.go())
    {
        if o.dry_run {
            ui.note(format!(
                "the .rdp file would be signed with {}",
                sign.cert.display()
            ));
        } else {
            let doc = std::mem::take(&mut plan.document);
            plan.document = crate::signing::sign_if_asked(doc, None, Some(sign), false, config, ui)?;
        }
    }

    if plan.backend == Backend::Native && !o.dry_run {
        return super::native::window(config, profile, (report, now), label, o, stdin_password, ui);
    }
    let key = stale::profile_key(&profile);
    let (password, source) = password_for(&plan, &vault, key.as_ref(), stdin_password, ui);

    let private_dir = config.private_dir();
    let launch = Launch {
        profile: &profile,
        plan: &plan,
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
                    plan: &plan,
                    password: pw,
                    handoff: handoff.as_ref().ok(),
                    udp_policy: udp_policy.as_deref(),
                    rdp: plan.document.to_text(),
                },
            )?;
        } else {
            print_plan(ui, label, &plan, pw, &handoff);
            if let Some(n) = &udp_policy {
                outln!(ui, "  note         {n}");
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
    if !plan.go() {
        return Err(blocked(ui, label, &profile, &report, &plan));
    }
    let handoff = handoff.map_err(handoff_error)?;

    if let (true, Some(c)) = (plan.record_pin, &report.certificate) {
        let (host, port) = (profile.host.to_string(), profile.port.get());
        let pin = crate::probe::cert::pin_of(c, now);
        store_pin(config, &host, port, pin)?;
        ui.note(format!("pinned {host}:{port} to SHA-256 {}", c.sha256));
    }
    if o.keep_creds {
        if !plan.clear.is_empty() {
            ui.note(format!(
                "--keep-creds: left {} stale saved credential(s) alone",
                plan.clear.len()
            ));
        }
    } else {
        for s in &plan.clear {
            match creds::clear(&vault, &s.item) {
                Ok(true) => outln!(ui, "{}cleared{:#} {}: {}", style::OK, style::OK, s.item, s.reason),
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
    let causes = doctor::diagnose_exit(&profile, &report, &handoff.backend, code, plan.nla, source);
    if let (Some(top), PasswordSource::Keyring, Some(k)) = (causes.first(), source, &key)
        && top.id == "stale_credentials"
        && let Err(e) = vault.mark_failed(k, &top.title)
    {
        ui.warn(format!("could not mark the saved password as rejected: {e}"));
    }
    if let Some(top) = causes.first() {
        super::doctor::print_causes(ui, label, std::slice::from_ref(top));
    }
    Ok(Exit::Child(u8::try_from(code & 0xff).unwrap_or(1).max(1)))
}

/// The password for a connection: `--password-stdin`, else the keyring entry of `key` (unless the plan is about
/// to clear that entry as stale).
pub(crate) fn password_for(
    plan: &Plan,
    vault: &creds::Vault,
    key: Option<&rdpl_profiles::creds::CredKey>,
    stdin_password: Option<SecretString>,
    ui: &mut Ui,
) -> (Option<SecretString>, PasswordSource) {
    let key_is_stale = |k: &rdpl_profiles::creds::CredKey| {
        plan.clear
            .iter()
            .any(|s| matches!(&s.item, stale::StaleItem::Rdpl { key } if key == k))
    };
    match (stdin_password, key) {
        (Some(p), _) => (Some(p), PasswordSource::Stdin),
        (None, Some(k)) if !key_is_stale(k) => match vault.get(k) {
            Ok(Some(p)) => (Some(p), PasswordSource::Keyring),
            Ok(None) => (None, PasswordSource::None),
            Err(e) => {
                ui.warn(format!("could not read the saved password ({e})"));
                (None, PasswordSource::None)
            }
        },
        _ => (None, PasswordSource::None),
    }
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

pub(crate) fn store_pin(config: &Config, host: &str, port: u16, pin: pins::Pin) -> Result<(), CliError> {
    config
        .store()
        .update_pins(|set| set.record(host, port, pin))
        .map_err(store_error)
}

/// The error for a blocked plan, after printing the doctor's most likely cause.
pub(crate) fn blocked(ui: &mut Ui, label: &str, profile: &Profile, report: &Report, plan: &Plan) -> CliError {
    // With the error on stderr, not on stdout: that is the .rdp text (`rdp`) or a JSON document (`--json`).
    if let Some(top) = doctor::diagnose(profile, report).first() {
        std::mem::swap(&mut ui.out, &mut ui.err);
        super::doctor::print_causes(ui, label, std::slice::from_ref(top));
        std::mem::swap(&mut ui.out, &mut ui.err);
    }
    CliError {
        exit: Exit::Failed,
        error: anyhow!(
            "the pre-flight blocks this connection: {}",
            plan.blocked.join("; ")
        ),
        help: vec![format!("`rdpl check {label}` shows the whole report")],
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

fn print_plan(
    ui: &mut Ui,
    label: &str,
    plan: &Plan,
    password: &str,
    handoff: &Result<Handoff, HandoffError>,
) {
    let (b, d) = (style::BOLD, style::DIM);
    outln!(
        ui,
        "{b}plan for {label}{b:#} {d}(dry run: nothing is changed or started){d:#}"
    );
    outln!(
        ui,
        "  address      {}  {d}({}){d:#}",
        plan.address,
        plan.address_reason
    );
    let layer = match plan.layer {
        Layer::Nla => "NLA (CredSSP)",
        Layer::Tls => "TLS, NLA off",
        Layer::Rdp => "Standard RDP Security",
    };
    match &plan.nla_reason {
        Some(r) => outln!(ui, "  security     {layer}  {d}({r}){d:#}"),
        None => outln!(ui, "  security     {layer}"),
    }
    match &plan.udp_reason {
        Some(r) => outln!(ui, "  udp          off  {d}({r}){d:#}"),
        None => outln!(ui, "  udp          on"),
    }
    if let Some(g) = &plan.gateway {
        outln!(ui, "  gateway      {g}");
    }
    if let Some(c) = &plan.cert_sha256 {
        let note = if plan.record_pin {
            " (new: pinned on connect)"
        } else {
            ""
        };
        outln!(ui, "  certificate  SHA-256 {c}{note}");
    }
    outln!(ui, "  password     {password}");
    match handoff {
        Ok(h) => {
            outln!(ui, "  client       {}", h.backend);
            let mut line = std::iter::once(h.program.as_str())
                .chain(h.args.iter().map(String::as_str))
                .map(shell_quote)
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(s) = &h.stdin {
                line.push_str(&format!("  {d}(stdin: {s}){d:#}"));
            }
            outln!(ui, "  command      {line}");
        }
        Err(e) => outln!(ui, "  client       {}{e}{:#}", style::ERR, style::ERR),
    }
    if plan.clear.is_empty() {
        outln!(ui, "  would clear  nothing");
    } else {
        for (i, s) in plan.clear.iter().enumerate() {
            let head = if i == 0 { "would clear" } else { "" };
            outln!(ui, "  {head:<12} {}  {d}({}){d:#}", s.item, s.reason);
        }
    }
    for w in &plan.warnings {
        outln!(ui, "  {}warning{:#}      {w}", style::WARN, style::WARN);
    }
    for x in &plan.blocked {
        outln!(ui, "  {}blocked{:#}      {x}", style::ERR, style::ERR);
    }
    outln!(
        ui,
        "{b}the .rdp file{b:#} {d}(written UTF-16LE with BOM, CRLF){d:#}"
    );
    for line in plan.document.to_text().lines() {
        outln!(ui, "  {line}");
    }
}

/// Quotes an argument for display the way a POSIX shell would need it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/:.,_-+=@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

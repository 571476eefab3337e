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
use crate::cli::{ConnectArgs, ConnectOpts, OpenArgs};
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
    /// The FreeRDP client: program, version and why it was chosen.
    client: Option<&'a handoff::freerdp::FreerdpClient>,
    udp_policy: Option<&'a str>,
    rdp: String,
}

fn run(profile: Profile, label: &str, o: &ConnectOpts, config: &Config, ui: &mut Ui) -> CmdResult {
    // Read a piped password first, before anything else can block on standard input.
    let stdin_password = stdin_password(o.password_stdin)?;
    // `connect --json` (no dry run): stdout is the closing JSON document alone; everything else goes to stderr.
    let json_result = o.json && !o.dry_run;
    let mut json_out = None;
    if json_result {
        let to_stderr: Box<dyn std::io::Write> =
            Box::new(anstream::AutoStream::new(std::io::stderr(), config.color));
        json_out = Some(std::mem::replace(&mut ui.out, to_stderr));
    }
    if o.save_password && stdin_password.is_none() {
        return Err(CliError::usage(anyhow!("--save-password needs --password-stdin"))
            .help("or save it first with `rdpl creds set TARGET`"));
    }
    let ask = Ask {
        timeout: o.timeout,
        overrides: Overrides {
            with: o.with.0.as_ref().map(|c| c.backend),
            ..Overrides::from(o.cert)
        },
        credentials: true,
    };
    let mut prepared = pipeline::prepare(config, profile, label, ask, ui)?;
    // Every file handed to mstsc is signed: since April 2026 (CVE-2026-26151) mstsc warns about each unsigned
    // file and starts it with every redirection off. A profile's own certificate wins (its PFX password only
    // from RDPL_PFX_PASSWORD here: standard input is the RDP password's); otherwise rdpl's own publisher,
    // made on first use. A dry run only says so.
    if prepared.plan.backend == Backend::Mstsc && prepared.plan.go() {
        match (prepared.profile.sign.clone(), o.dry_run) {
            (Some(sign), true) => ui.note(format!(
                "the .rdp file would be signed with {}",
                sign.cert.display()
            )),
            (Some(sign), false) => {
                let doc = std::mem::take(&mut prepared.plan.document);
                prepared.plan.document =
                    crate::signing::sign_if_asked(doc, None, Some(&sign), false, config, ui)?;
            }
            (None, true) => ui.note(match crate::publisher::existing(config)? {
                Some(p) => format!(
                    "the .rdp file would be signed by rdpl's publisher (SHA-1 thumbprint {})",
                    p.thumbprint
                ),
                None => "the .rdp file would be signed by rdpl's publisher, created on first use".to_owned(),
            }),
            (None, false) => {
                let (signed, p) = crate::publisher::sign(&prepared.plan.document, config)?;
                prepared.plan.document = signed;
                if p.created {
                    ui.note(format!(
                        "created rdpl's .rdp publisher certificate ({}, SHA-1 thumbprint {}); `rdpl integrate \
                         --trust-publisher` lets mstsc open rdpl's files without a warning",
                        p.path.display(),
                        p.thumbprint
                    ));
                }
                tracing::debug!(thumbprint = %p.thumbprint, "signed the .rdp file with rdpl's publisher");
            }
        }
    }

    if prepared.plan.backend == Backend::Native && !o.dry_run {
        return crate::session::window(config, prepared, label, o.timeout, stdin_password, ui);
    }
    let (profile, plan, vault) = (&prepared.profile, &prepared.plan, &prepared.vault);
    let key = stale::profile_key(profile);
    let (password, source) = if o.dry_run {
        // A dry run runs no vault command: it only says where the password would come from.
        match &profile.password_command {
            Some(_) if stdin_password.is_none() => (None, PasswordSource::Command),
            _ => password_for(plan, vault, key.as_ref(), None, stdin_password, ui)?,
        }
    } else {
        password_for(
            plan,
            vault,
            key.as_ref(),
            profile.password_command.as_ref(),
            stdin_password,
            ui,
        )?
    };
    let gateway_password = gateway_password(profile, plan, vault, ui);
    // `--with xfreerdp` is the FreeRDP family even when the profile names one program; no --with: the profile's.
    let (program, chosen_by) = match &o.with.0 {
        Some(c) => (c.program.clone(), format!("--with {c}")),
        None if profile.backend == Backend::Auto => (None, "the platform default".to_owned()),
        None => (
            profile.freerdp_program.clone(),
            format!("the profile's backend ({})", profile.client()),
        ),
    };

    let private_dir = config.private_dir();
    let launch = Launch {
        profile,
        plan,
        password: password.as_ref(),
        gateway_password: gateway_password.as_ref(),
        program: program.as_deref(),
        chosen_by: &chosen_by,
        search_path: &config.search_path,
        stdout_to_stderr: json_result,
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
            PasswordSource::Command => "password.command",
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
                    client: handoff.as_ref().ok().and_then(|h| h.client.as_ref()),
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
    let started = std::time::Instant::now();
    let client = handoff::start(plan.backend, &launch).map_err(handoff_error)?;
    // The client has the passwords now: zeroize rdpl's copies instead of holding them for the whole session.
    drop(password);
    drop(gateway_password);
    let code = client.wait().map_err(handoff_error)?;
    let program = handoff
        .client
        .as_ref()
        .map_or_else(|| handoff.backend.clone(), |c| c.program.clone());
    // mstsc exits 0 whatever happened: when it ends soon after its start, the reason is in its event log.
    if plan.backend == Backend::Mstsc {
        let reason = mstsc_reason(started.elapsed(), read_mstsc_log);
        if let Some((exit, causes)) = explain_mstsc_end(reason, label, &prepared.facts, profile, ui) {
            if let Some(out) = json_out {
                ui.out = out;
                print_json(ui, &ConnectJson::new(label, &handoff, code, exit, &causes))?;
            }
            return Ok(exit);
        }
    }
    if code == 0 {
        if let Some(out) = json_out {
            ui.out = out;
            print_json(ui, &ConnectJson::new(label, &handoff, code, Exit::Ok, &[]))?;
        }
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
    // rdpl's own exit code contract: 3 for an authentication failure, 1 for any other failed connection. The
    // client's status stays in the message and the JSON.
    let auth = doctor::is_auth_failure(&handoff.backend, code)
        || causes.first().is_some_and(|c| doctor::is_auth_cause(c.id));
    let exit = if auth { Exit::Auth } else { Exit::Failed };
    let meaning = rdpl_core::doctor::exit_meaning(&handoff.backend, code);
    ui.warn(format!("{program} exited with {code}{meaning}"));
    if let Some(top) = causes.first() {
        print_causes(ui, label, std::slice::from_ref(top));
    }
    if let Some(out) = json_out {
        ui.out = out;
        print_json(ui, &ConnectJson::new(label, &handoff, code, exit, &causes))?;
    }
    Ok(exit)
}

/// How soon after its start an exit of mstsc counts as a failed connection worth explaining.
const MSTSC_SOON: std::time::Duration = std::time::Duration::from_secs(60);

/// What mstsc's event log says about a session that ended after `elapsed`: `Ok(None)` when it ran long or
/// ended normally, the reason as a doctor code when it failed, an error when the log could not be read.
/// `read` is the event log (the Windows seam; tests give a fake).
fn mstsc_reason(
    elapsed: std::time::Duration,
    read: impl FnOnce(std::time::Duration) -> Result<Option<u32>, String>,
) -> Result<Option<doctor::code::Code>, String> {
    if elapsed >= MSTSC_SOON {
        return Ok(None);
    }
    // The session's whole life, and a little before it (the event is written as the window closes).
    let reason = read(elapsed + std::time::Duration::from_secs(5))?;
    Ok(reason
        .filter(|r| !doctor::code::normal_end(*r))
        .map(|code| doctor::code::Code {
            client: doctor::code::Client::Mstsc,
            code,
            extended: None,
        }))
}

/// The RDP client's event log on Windows; elsewhere there is none.
fn read_mstsc_log(within: std::time::Duration) -> Result<Option<u32>, String> {
    #[cfg(windows)]
    return crate::credentials::windows::last_rdp_client_disconnect(within).map_err(|e| e.to_string());
    #[cfg(not(windows))]
    {
        let _ = within;
        Err("mstsc's event log exists on Windows only".into())
    }
}

/// Prints the diagnosis of an mstsc session that failed (its top cause and fix) and returns rdpl's exit code
/// with the whole diagnosis; `None` when there is nothing to explain (and says so when the log could not be
/// read).
fn explain_mstsc_end(
    reason: Result<Option<doctor::code::Code>, String>,
    label: &str,
    facts: &rdpl_core::facts::Facts,
    profile: &Profile,
    ui: &mut Ui,
) -> Option<(Exit, Vec<doctor::Cause>)> {
    match reason {
        Ok(None) => None,
        Err(e) => {
            ui.note(format!(
                "mstsc ended soon after it started; its disconnect reason could not be read ({e}): `rdpl doctor {label} --code CODE` explains the code it showed"
            ));
            None
        }
        Ok(Some(code)) => {
            ui.warn(format!("mstsc ended the connection: {code}"));
            let causes = doctor::diagnose_with_code(profile, facts, &code);
            if let Some(top) = causes.first() {
                print_causes(ui, label, std::slice::from_ref(top));
            }
            let auth = causes.first().is_some_and(|c| doctor::is_auth_cause(c.id));
            Some((if auth { Exit::Auth } else { Exit::Failed }, causes))
        }
    }
}

/// `connect --json` after the client ended.
#[derive(Serialize)]
struct ConnectJson<'a> {
    version: u32,
    target: &'a str,
    backend: &'a str,
    client: Option<&'a handoff::freerdp::FreerdpClient>,
    /// The client's own exit status.
    client_exit: i32,
    /// `ended` (the session ended normally), `auth_failed` or `failed`.
    status: &'static str,
    /// rdpl's exit code.
    exit: u8,
    /// The diagnosis, most likely cause first (empty when the session ended normally).
    causes: &'a [doctor::Cause],
}

impl<'a> ConnectJson<'a> {
    fn new(target: &'a str, h: &'a Handoff, code: i32, exit: Exit, causes: &'a [doctor::Cause]) -> Self {
        ConnectJson {
            version: crate::json::JSON_VERSION,
            target,
            backend: &h.backend,
            client: h.client.as_ref(),
            client_exit: code,
            status: match exit {
                Exit::Ok => "ended",
                Exit::Auth => "auth_failed",
                _ => "failed",
            },
            exit: exit.code(),
            causes,
        }
    }
}

/// The RD Gateway's own password from the keyring, when the gateway has its own account and FreeRDP takes
/// the connection (mstsc asks for it itself; rdpl's session uses the connection's account).
fn gateway_password(
    profile: &Profile,
    plan: &Plan,
    vault: &creds::Vault,
    ui: &mut Ui,
) -> Option<secrecy::SecretString> {
    if plan.backend != Backend::Xfreerdp {
        return None;
    }
    let key = stale::gateway_key(profile)?;
    if let Some(command) = profile.gateway.as_ref().and_then(|g| g.password_command.as_ref()) {
        return match crate::pipeline::vault_password(command) {
            Ok(p) => Some(p),
            Err(e) => {
                ui.warn(format!("{:#}; FreeRDP asks for the gateway's password", e.error));
                None
            }
        };
    }
    match vault.get(&key) {
        Ok(Some(p)) => Some(p),
        Ok(None) => {
            ui.note(format!(
                "no saved password for the gateway account {key}: FreeRDP asks for it (`rdpl creds set {} --gateway` saves it)",
                profile.name
            ));
            None
        }
        Err(e) => {
            ui.warn(format!("could not read the gateway's saved password: {e}"));
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_quick_mstsc_exit_is_explained_from_its_event_log() {
        // Soon after the start, a failure reason in the log: a code for the doctor.
        let code = mstsc_reason(Duration::from_secs(3), |within| {
            assert!(within >= Duration::from_secs(3));
            Ok(Some(0x904))
        })
        .expect("read");
        assert_eq!(
            code.map(|c| (c.code, c.client)),
            Some((0x904, doctor::code::Client::Mstsc))
        );
        // A normal end, no event, or a long session: nothing to explain (the log is not even read for the last).
        assert_eq!(mstsc_reason(Duration::from_secs(3), |_| Ok(Some(0x2))), Ok(None));
        assert_eq!(mstsc_reason(Duration::from_secs(3), |_| Ok(None)), Ok(None));
        assert_eq!(
            mstsc_reason(Duration::from_secs(600), |_| panic!(
                "not read after a long session"
            )),
            Ok(None)
        );
        // A log that cannot be read is said so.
        assert_eq!(
            mstsc_reason(Duration::from_secs(1), |_| Err("no such channel".into())),
            Err("no such channel".into())
        );
    }

    #[test]
    fn the_top_cause_and_exit_code_follow_the_reason() {
        let profile = Profile::new(
            "web01".parse().expect("name"),
            rdpl_profiles::name::Host::Name("web01".into()),
        );
        let mut facts = rdpl_core::facts::Facts::empty("web01");
        facts.address.chosen = Some("10.0.0.5:3389".parse().expect("addr"));
        let mut ui = Ui::sink();
        let code = |c| {
            Ok(Some(doctor::code::Code {
                client: doctor::code::Client::Mstsc,
                code: c,
                extended: None,
            }))
        };
        let mut end = |r| {
            explain_mstsc_end(r, "web01", &facts, &profile, &mut ui)
                .map(|(e, c)| (e, c.first().map(|c| c.id)))
        };
        assert_eq!(end(code(0x807)), Some((Exit::Auth, Some(CauseId::WrongPassword))));
        assert_eq!(end(code(0x808)), Some((Exit::Failed, Some(CauseId::Licensing))));
        assert_eq!(end(Err("x".into())), None);
    }
}

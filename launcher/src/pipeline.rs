//! The one connection pipeline: pre-flight -> saved-credential inventory -> plan -> blocked, run once for
//! every command that connects, or shows or writes what it would connect with (`connect`, `open`, `rdp`,
//! `doctor`, `pin`, `screenshot`, `check --login`, the native window). Commands call it and print; no command
//! module imports another.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use rdpl_core::doctor::{self, PasswordSource};
use rdpl_core::facts::Facts;
use rdpl_core::finding::{Finding, FindingId};
#[cfg(feature = "native")]
use rdpl_core::login::{LoginOutcome, LoginStatus};
use rdpl_core::plan::{self, Overrides, Plan};
use rdpl_core::preflight::cert;
use rdpl_core::stale::{self, Inventory};
#[cfg(feature = "native")]
use rdpl_profiles::creds::CredKey;
use rdpl_profiles::pins;
use rdpl_profiles::profile::Profile;
use rdpl_profiles::store::Store;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::config::Config;
use crate::credentials::{self as creds, CredError, Vault};
use crate::exit::{CliError, Exit};
use crate::lookup::{resolve_target, store_error};
#[cfg(feature = "native")]
use crate::native::{Endpoint, GatewayTarget, Login, Route, Settings, Trust};
use crate::output;
use crate::probe::{Context, Limits, Target};
use crate::ui::Ui;
#[cfg(feature = "native")]
use rdpl_profiles::profile::GatewayUsage;

/// A tokio runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(anyhow!(e).context("could not start the async runtime")))
}

/// The limits of a check with this time budget.
fn limits(total: Duration) -> Limits {
    let mut limits = Limits {
        total,
        ..Limits::default()
    };
    limits.step = limits.step.min(total);
    limits
}

/// The probe context: resolver, pins, limits, now.
pub(crate) fn context(config: &Config, store: &Store, total: Duration) -> Result<Context, CliError> {
    crate::probe::tls::warm_up();
    let limits = limits(total);
    let (resolver, resolver_error) = match crate::probe::dns::resolver(config.dns_server, limits.timing.dns) {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    let pins = store.load_pins().map_err(store_error)?;
    Ok(Context {
        resolver,
        resolver_error,
        pins,
        limits,
        now: OffsetDateTime::now_utc(),
    })
}

/// Targets with their cached last-good address.
pub(crate) fn target(
    store: &Store,
    label: &str,
    state: &rdpl_profiles::state::State,
) -> Result<Target, CliError> {
    let profile = resolve_target(store, label)?;
    Ok(target_of(profile, label, state))
}

/// A target for a profile already loaded (`check --all`: looking each name up again would list the
/// profiles directory once per profile, O(n²) for a fleet).
pub(crate) fn target_of(profile: Profile, label: &str, state: &rdpl_profiles::state::State) -> Target {
    let cache = state
        .last_good
        .get(&pins::key(&profile.host.to_string(), profile.port.get()))
        .and_then(|s| s.parse::<SocketAddr>().ok());
    Target {
        label: label.to_owned(),
        profile,
        cache,
    }
}

/// Runs the probes, at most `jobs` at once, and remembers the addresses that worked.
pub(crate) fn check_all(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    targets: Vec<Target>,
    ctx: Context,
    jobs: usize,
    progress: bool,
) -> Vec<Facts> {
    let ctx = Arc::new(ctx);
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(targets.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} {wide_bar} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let reports = rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        let mut set = tokio::task::JoinSet::new();
        for (i, t) in targets.iter().cloned().enumerate() {
            let (ctx, sem, bar) = (ctx.clone(), sem.clone(), bar.clone());
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = crate::probe::run(&t, &ctx).await;
                if let Some(b) = &bar {
                    b.inc(1);
                }
                (i, r)
            });
        }
        let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
        in_target_order(set, &labels).await
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    remember(store, &targets, &reports);
    reports
}

/// The same pre-flight as `check_all` for one target, from inside a running runtime (the exporter, which
/// keeps one resolver for its life): the pins and "now" are read afresh for every run, the time budget is the
/// caller's, and the address that worked is remembered.
pub(crate) async fn check_in_runtime(
    store: &Store,
    base: &Context,
    t: &Target,
    total: Duration,
) -> Result<Facts, CliError> {
    let ctx = Context {
        pins: store.load_pins().map_err(store_error)?,
        limits: limits(total),
        now: OffsetDateTime::now_utc(),
        ..base.clone()
    };
    let report = crate::probe::run(t, &ctx).await;
    // The state file is read and written under the config lock (blocking file I/O, off the async workers),
    // and only when the address that worked is not the one the target was made with.
    if report.address.chosen.is_some() && report.address.chosen != t.cache {
        tokio::task::block_in_place(|| {
            remember(store, std::slice::from_ref(t), std::slice::from_ref(&report))
        });
    }
    Ok(report)
}

/// Remembers the addresses that worked (`state/last-good.toml`, a cache only).
fn remember(store: &Store, targets: &[Target], reports: &[Facts]) {
    let worked: Vec<(String, String)> = targets
        .iter()
        .zip(reports)
        .filter_map(|(t, r)| {
            let chosen = r.address.chosen?.to_string();
            Some((
                pins::key(&t.profile.host.to_string(), t.profile.port.get()),
                chosen,
            ))
        })
        .collect();
    // A cache only: written when an address changed, and failing to write it must not fail the check.
    let known = store.load_state();
    let changed: Vec<_> = worked
        .into_iter()
        .filter(|(k, v)| known.last_good.get(k) != Some(v))
        .collect();
    if !changed.is_empty() {
        let _ = store.update_state(|s| s.last_good.extend(changed));
    }
}

/// The reports of `set`'s tasks (each `(index, report)`) in the order of `labels`. A task that panicked or was
/// cancelled is an error of its target (`check.aborted`), never a silent success: each target keeps its place,
/// so reports and targets stay paired.
async fn in_target_order(mut set: tokio::task::JoinSet<(usize, Facts)>, labels: &[&str]) -> Vec<Facts> {
    let mut out: Vec<Option<Facts>> = vec![None; labels.len()];
    let mut lost = Vec::new();
    while let Some(done) = set.join_next().await {
        match done {
            Ok((i, r)) => out[i] = Some(r),
            Err(e) => lost.push(e.to_string()),
        }
    }
    let mut lost = lost.into_iter();
    out.into_iter()
        .zip(labels)
        .map(|(r, label)| r.unwrap_or_else(|| aborted(label, lost.next())))
        .collect()
}

/// The report of a target whose check stopped before it ended (`why`: the task's error, when known).
fn aborted(label: &str, why: Option<String>) -> Facts {
    let mut f = Facts::empty(label);
    f.findings.push(Finding::new(
        FindingId::CheckAborted,
        format!(
            "The check of {label} stopped before it ended ({}); nothing it learned is reported.",
            why.unwrap_or_else(|| "no reason given".into())
        ),
    ));
    f
}

/// Pre-flights one target (a profile or `host[:port]`): its profile, the report, and the time the
/// certificate was judged at.
pub(crate) fn check_one(
    config: &Config,
    label: &str,
    total: Duration,
) -> Result<(Profile, Facts, OffsetDateTime), CliError> {
    let store = config.store();
    let t = target(&store, label, &store.load_state())?;
    let profile = t.profile.clone();
    let (report, now) = check_target(config, &store, t, total)?;
    Ok((profile, report, now))
}

/// The pre-flight of a profile that need not be in the store (`rdpl open` of a file).
pub(crate) fn check_profile(
    config: &Config,
    profile: Profile,
    label: &str,
    total: Duration,
) -> Result<(Facts, OffsetDateTime), CliError> {
    let store = config.store();
    let t = target_of(profile, label, &store.load_state());
    check_target(config, &store, t, total)
}

fn check_target(
    config: &Config,
    store: &Store,
    t: Target,
    total: Duration,
) -> Result<(Facts, OffsetDateTime), CliError> {
    let ctx = context(config, store, total)?;
    let now = ctx.now;
    let local = mstsc_findings(config, &t.profile);
    let mut report = check_all(&runtime()?, store, vec![t], ctx, 1, false)
        .pop()
        .ok_or_else(|| CliError {
            exit: Exit::Failed,
            error: anyhow!("the pre-flight did not finish"),
            help: vec![],
        })?;
    report.findings.extend(local);
    Ok((report, now))
}

/// On Windows, when mstsc takes this profile's connections: whether mstsc will open the signed files rdpl
/// hands it without the security dialog and with their redirections (the trusted-publishers policy), or at
/// all (AllowSignedFiles). The publisher is the profile's `sign.cert` when it has one, else rdpl's own.
pub(crate) fn mstsc_findings(config: &Config, profile: &Profile) -> Vec<rdpl_core::finding::Finding> {
    #[cfg(windows)]
    if plan::choose(None, profile) == rdpl_profiles::profile::Backend::Mstsc {
        let thumbprint = match &profile.sign {
            Some(s) => crate::signing::load_signer(
                crate::signing::SignSource {
                    cert: &s.cert,
                    key: s.key.as_deref(),
                },
                config.pfx_password.as_ref(),
            )
            .ok()
            .map(|signer| signer.thumbprint()),
            None => crate::publisher::existing(config)
                .ok()
                .flatten()
                .map(|p| p.thumbprint),
        };
        match crate::credentials::windows::rdp_file_policy() {
            Ok(policy) => return rdpl_core::mstsc::findings(thumbprint.as_deref(), &policy),
            Err(e) => tracing::debug!("could not read mstsc's .rdp file policies: {e}"),
        }
    }
    let _ = (config, profile);
    Vec::new()
}

/// A credential error as a user error (exit 1: the keyring, not the input, failed).
pub(crate) fn cred_error(e: CredError) -> CliError {
    let help = match &e {
        CredError::NoKeyring(_) => vec![
            "on Linux rdpl uses the Secret Service (GNOME Keyring, KWallet, KeePassXC) on the session bus, else \
             the kernel keyring (keyutils); set RDPL_KEYRING=keyutils to skip the Secret Service"
                .to_owned(),
        ],
        CredError::Index(_) => vec![
            "the index names accounts only (no passwords); fix or delete it and save the passwords again".into(),
        ],
        _ => vec![],
    };
    CliError {
        exit: Exit::Failed,
        error: anyhow!(e),
        help,
    }
}

/// Reads a password: one line from standard input, or a no-echo prompt on the terminal.
pub(crate) fn read_password(from_stdin: bool, prompt: &str) -> Result<SecretString, CliError> {
    let line = if from_stdin {
        creds::read_secret_line().map_err(|e| {
            CliError::usage(anyhow!(e).context("could not read the password from standard input"))
        })?
    } else {
        let p = rpassword::prompt_password(prompt).map_err(|e| {
            CliError::usage(anyhow!(e).context("could not ask for the password (no terminal?)"))
                .help("pass --password-stdin and write the password to standard input")
        })?;
        SecretString::from(p)
    };
    if secrecy::ExposeSecret::expose_secret(&line).is_empty() {
        return Err(CliError::usage(anyhow!("the password is empty")));
    }
    Ok(line)
}

impl From<crate::cli::CertFlags> for Overrides {
    fn from(c: crate::cli::CertFlags) -> Self {
        Overrides {
            with: None,
            changed_pin: c.accept_changed_cert,
            expired: c.accept_expired_cert,
            strict_pin: c.strict_pin,
        }
    }
}

/// The password from standard input when `--password-stdin` asks for it (read before anything else can block
/// on standard input).
pub(crate) fn stdin_password(asked: bool) -> Result<Option<SecretString>, CliError> {
    asked.then(|| read_password(true, "")).transpose()
}

/// What a run needs to decide: the time budget, the per-run overrides, and whether the saved credentials are
/// looked at (they are not for `rdp`, which writes a file and clears nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask {
    /// The pre-flight's time budget.
    pub(crate) timeout: Duration,
    /// `--with`, `--accept-*-cert`, `--strict-pin`.
    pub(crate) overrides: Overrides,
    /// Read the inventory of saved credentials (to clear what is stale).
    pub(crate) credentials: bool,
}

/// A decided connection: the profile, what the pre-flight found, when, the plan, and the keyring.
pub(crate) struct Prepared {
    pub(crate) profile: Profile,
    pub(crate) facts: Facts,
    pub(crate) checked_at: OffsetDateTime,
    pub(crate) plan: Plan,
    pub(crate) vault: Vault,
}

/// Pre-flight, then [`decide`].
pub(crate) fn prepare(
    config: &Config,
    profile: Profile,
    label: &str,
    ask: Ask,
    ui: &mut Ui,
) -> Result<Prepared, CliError> {
    let checked = check_profile(config, profile.clone(), label, ask.timeout)?;
    decide(config, profile, checked, ask, ui)
}

/// The saved-credential inventory and the plan, over a pre-flight already run.
pub(crate) fn decide(
    config: &Config,
    profile: Profile,
    (facts, checked_at): (Facts, OffsetDateTime),
    ask: Ask,
    ui: &mut Ui,
) -> Result<Prepared, CliError> {
    let vault = config.vault();
    let inventory = if ask.credentials {
        creds::inventory(&vault).unwrap_or_else(|e| {
            ui.warn(format!("could not list saved credentials: {e}"));
            Inventory::default()
        })
    } else {
        Inventory::default()
    };
    let plan = plan::plan(&profile, &facts, &inventory, ask.overrides).map_err(|e| {
        CliError::usage(anyhow!(
            "profile `{}` can't be written as .rdp: {e}",
            profile.name
        ))
    })?;
    Ok(Prepared {
        profile,
        facts,
        checked_at,
        plan,
        vault,
    })
}

impl Prepared {
    /// The error for a blocked plan (after printing the doctor's top cause), when it is blocked.
    pub(crate) fn check_go(&self, ui: &mut Ui, label: &str) -> Result<(), CliError> {
        if self.plan.go() {
            Ok(())
        } else {
            Err(blocked(ui, label, &self.profile, &self.facts, &self.plan))
        }
    }

    /// Records the certificate as the pin when the plan says so (trust on first use).
    pub(crate) fn record_pin(&self, config: &Config, ui: &mut Ui) -> Result<(), CliError> {
        if let (true, Some(c)) = (self.plan.record_pin, &self.facts.certificate) {
            let (host, port) = (self.profile.host.to_string(), self.profile.port.get());
            store_pin(config, &host, port, cert::pin_of(c, self.checked_at))?;
            ui.note(format!("pinned {host}:{port} to SHA-256 {}", c.sha256));
        }
        Ok(())
    }
}

/// The password for a connection: `--password-stdin`, else the keyring entry of `key` (unless the plan is about
/// to clear that entry as stale).
pub(crate) fn password_for(
    plan: &Plan,
    vault: &creds::Vault,
    key: Option<&rdpl_profiles::creds::CredKey>,
    command: Option<&rdpl_profiles::profile::PasswordCommand>,
    stdin_password: Option<SecretString>,
    ui: &mut Ui,
) -> Result<(Option<SecretString>, PasswordSource), CliError> {
    let key_is_stale = |k: &rdpl_profiles::creds::CredKey| {
        plan.clear
            .iter()
            .any(|s| matches!(&s.item, stale::StaleItem::Rdpl { key } if key == k))
    };
    Ok(match (stdin_password, command, key) {
        (Some(p), _, _) => (Some(p), PasswordSource::Stdin),
        // A vault-backed profile: the vault, never a keyring copy.
        (None, Some(c), _) => (Some(vault_password(c)?), PasswordSource::Command),
        (None, None, Some(k)) if !key_is_stale(k) => match vault.get(k) {
            Ok(Some(p)) => (Some(p), PasswordSource::Keyring),
            Ok(None) => (None, PasswordSource::None),
            Err(e) => {
                ui.warn(format!("could not read the saved password ({e})"));
                (None, PasswordSource::None)
            }
        },
        _ => (None, PasswordSource::None),
    })
}

/// The password a vault command prints, or `creds.command_failed` as an error (exit 1).
pub(crate) fn vault_password(
    command: &rdpl_profiles::profile::PasswordCommand,
) -> Result<SecretString, CliError> {
    use rdpl_core::finding::FindingId;
    creds::command::password_from(command, creds::command::TIMEOUT).map_err(|e| CliError {
        exit: Exit::Failed,
        error: anyhow!("{}: {e}", FindingId::CredsCommandFailed),
        help: FindingId::CredsCommandFailed
            .fix()
            .map(str::to_owned)
            .into_iter()
            .collect(),
    })
}

pub(crate) fn store_pin(config: &Config, host: &str, port: u16, pin: pins::Pin) -> Result<(), CliError> {
    config
        .store()
        .update_pins(|set| set.record(host, port, pin))
        .map_err(store_error)
}

/// The error for a blocked plan, after printing the doctor's most likely cause.
pub(crate) fn blocked(ui: &mut Ui, label: &str, profile: &Profile, facts: &Facts, plan: &Plan) -> CliError {
    // With the error on stderr, not on stdout: that is the .rdp text (`rdp`) or a JSON document (`--json`).
    if let Some(top) = doctor::diagnose(profile, facts).first() {
        std::mem::swap(&mut ui.out, &mut ui.err);
        output::print_causes(ui, label, std::slice::from_ref(top));
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

#[cfg(feature = "native")]
/// Everything a native session needs, decided.
pub(crate) struct NativeSession {
    /// The decided connection it is a session of.
    pub(crate) prepared: Prepared,
    pub(crate) route: Route,
    pub(crate) trust: Trust,
    pub(crate) login: Login,
    pub(crate) source: PasswordSource,
    pub(crate) key: Option<CredKey>,
    /// The client name the server is told ([`Config::client_name`]).
    pub(crate) client_name: String,
}

/// The native session of a prepared connection: the password, the route, the certificate to trust. Errors
/// when the plan blocks, the server speaks only Standard RDP Security, or NLA needs a password rdpl lacks.
#[cfg(feature = "native")]
pub(crate) fn native_session(
    config: &Config,
    prepared: Prepared,
    label: &str,
    stdin_password: Option<SecretString>,
    ui: &mut Ui,
) -> Result<NativeSession, CliError> {
    let Prepared {
        profile,
        facts,
        plan,
        vault,
        ..
    } = &prepared;
    for w in &plan.warnings {
        ui.warn(w);
    }
    let key = stale::profile_key(profile);
    let (password, source) = password_for(
        plan,
        vault,
        key.as_ref(),
        profile.password_command.as_ref(),
        stdin_password,
        ui,
    )?;
    prepared.check_go(ui, label)?;
    if plan.layer == plan::Layer::Rdp {
        return Err(CliError::usage(anyhow!(
            "{} offers only Standard RDP Security, which authenticates no server; rdpl's own session does not \
             speak it",
            label
        ))
        .help("connect with `--with xfreerdp` or `--with mstsc`, and turn on TLS on the server"));
    }
    let Some(user) = profile.user.clone() else {
        return Err(CliError::usage(anyhow!("profile `{}` has no user", profile.name))
            .help(format!("`rdpl profile set {} user=NAME`", profile.name)));
    };
    let password = match password {
        Some(p) => p,
        // Without NLA the session can come up without a password (the user logs on inside it).
        None if !plan.nla => SecretString::from(String::new()),
        None => {
            return Err(CliError::usage(anyhow!(
                "no password for {}: NLA needs one before the session starts",
                key.as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| user.clone())
            ))
            .help(format!(
                "save it with `rdpl creds set {}`, or pass --password-stdin",
                label
            )));
        }
    };
    let server_name = profile.host.to_string();
    let port = profile.port.get();
    let pin = config.store().load_pins().ok().and_then(|p| {
        p.pins
            .get(&pins::key(&server_name, port))
            .map(|p| p.sha256.clone())
    });
    let trust = Trust {
        sha256: plan.cert_sha256.clone().or(pin),
    };
    let chosen = facts.address.chosen;
    let route = match (&profile.gateway, chosen) {
        (Some(g), chosen)
            if g.usage == GatewayUsage::Always || (g.usage != GatewayUsage::Never && chosen.is_none()) =>
        {
            Route::Gateway {
                gateway: GatewayTarget {
                    endpoint: format!("{}:{}", g.host, g.port.get()),
                    sha256: facts
                        .gateway
                        .as_ref()
                        .and_then(|r| r.certificate.as_ref())
                        .map(|c| c.sha256.clone()),
                },
                endpoint: Endpoint {
                    addr: chosen.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port))),
                    server_name,
                },
            }
        }
        (_, Some(addr)) => Route::Direct(Endpoint { addr, server_name }),
        (_, None) => {
            return Err(CliError {
                exit: Exit::Failed,
                error: anyhow!("{} could not be reached", label),
                help: vec![format!("`rdpl doctor {}` looks for the cause", label)],
            });
        }
    };
    Ok(NativeSession {
        login: Login {
            user,
            domain: profile.domain.clone(),
            password,
        },
        prepared,
        route,
        trust,
        source,
        key,
        client_name: config.client_name.get(),
    })
}

#[cfg(feature = "native")]
impl NativeSession {
    /// Session settings from the plan.
    pub(crate) fn settings(&self, desktop: (u16, u16), timeout: Duration, autologon: bool) -> Settings {
        Settings {
            nla: self.prepared.plan.nla,
            desktop,
            autologon,
            timeout,
            display_control: false,
            client_name: self.client_name.clone(),
        }
    }

    /// After a login attempt: a saved password the server rejected is marked stale (cleared on the next
    /// connect, and `creds list` shows it).
    pub(crate) fn after(&self, config: &Config, outcome: &LoginOutcome, ui: &mut Ui) {
        if matches!(outcome.status, LoginStatus::Ok | LoginStatus::NotVerified) {
            self.pin_on_first_use(config, ui);
        }
        if outcome.status != LoginStatus::Failed {
            return;
        }
        let (PasswordSource::Keyring, Some(k)) = (self.source, &self.key) else {
            return;
        };
        let why = outcome
            .finding
            .as_ref()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| "rejected by the server".into());
        match self.prepared.vault.mark_failed(k, &why) {
            Ok(true) => ui.note(format!("marked the saved password of {k} as rejected")),
            Ok(false) => {}
            Err(e) => ui.warn(format!("could not mark the saved password as rejected: {e}")),
        }
    }
}

#[cfg(feature = "native")]
impl NativeSession {
    /// A session reached the server with a certificate seen for the first time: it becomes the pin (trust on
    /// first use, as `connect` does).
    pub(crate) fn pin_on_first_use(&self, config: &Config, ui: &mut Ui) {
        if let Err(e) = self.prepared.record_pin(config, ui) {
            ui.warn(format!("could not record the pin: {}", e.error));
        }
    }
}

/// The exit code of a login outcome.
#[cfg(feature = "native")]
pub(crate) fn exit_of(outcome: &LoginOutcome) -> Exit {
    match outcome.status {
        LoginStatus::Ok | LoginStatus::NotVerified => Exit::Ok,
        LoginStatus::Failed => Exit::Auth,
        LoginStatus::Error => Exit::Failed,
    }
}

// Under Wine (scripts/wine-test) and on Windows: the findings `rdpl check` adds for mstsc, before and after
// `rdpl integrate --trust-publisher`'s registry write, in the current user's real policy key (restored after).
#[cfg(all(test, windows))]
mod windows {
    use super::*;
    use clap::Parser as _;
    use rdpl_core::finding::FindingId;

    #[test]
    fn the_publisher_findings_follow_the_trust_policy() {
        use winreg::RegKey;
        use winreg::enums::HKEY_CURRENT_USER;
        let dir = tempfile::tempdir().expect("tmp");
        let cli = crate::cli::Cli::try_parse_from([
            "rdpl",
            "--config-dir",
            dir.path().to_str().expect("utf-8"),
            "explain",
            "0",
        ])
        .expect("args");
        let config = Config::resolve(
            &cli.global,
            &crate::config::Env::from_pairs([("HOSTNAME", "winpc")]),
        )
        .expect("config");
        let profile = Profile::new(
            "web01".parse().expect("name"),
            rdpl_profiles::name::Host::Name("web01.corp.test".into()),
        );
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let key_path = rdpl_core::mstsc::POLICY_KEY;
        let saved: Option<String> = hkcu
            .open_subkey(key_path)
            .and_then(|k| k.get_value(rdpl_core::mstsc::TRUSTED_THUMBPRINTS))
            .ok();
        let ids = |c: &Config| {
            mstsc_findings(c, &profile)
                .into_iter()
                .map(|f| f.id)
                .collect::<Vec<_>>()
        };
        // No publisher yet: untrusted.
        assert_eq!(ids(&config), [FindingId::MstscPublisherUntrusted]);
        let p = crate::publisher::ensure(&config).expect("publisher");
        assert_eq!(ids(&config), [FindingId::MstscPublisherUntrusted]);
        crate::credentials::windows::trust_publisher(&p.thumbprint).expect("trust");
        assert!(ids(&config).is_empty(), "trusted now");
        // Put the user's policy back as it was.
        let (k, _) = hkcu.create_subkey(key_path).expect("key");
        match saved {
            Some(v) => k
                .set_value(rdpl_core::mstsc::TRUSTED_THUMBPRINTS, &v)
                .expect("restore"),
            None => k
                .delete_value(rdpl_core::mstsc::TRUSTED_THUMBPRINTS)
                .expect("remove"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check task that panics (tokio catches it as a JoinError) becomes its own target's `check.aborted`
    /// error in its place; the others keep theirs.
    #[test]
    fn a_lost_check_task_is_an_error_of_its_target_in_its_place() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let reports = rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            set.spawn(async { (0, Facts::empty("web01")) });
            set.spawn(async {
                if std::hint::black_box(true) {
                    panic!("a probe bug");
                }
                (1, Facts::empty("never"))
            });
            set.spawn(async { (2, Facts::empty("db01")) });
            in_target_order(set, &["web01", "broken", "db01"]).await
        });
        let targets: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, ["web01", "broken", "db01"], "paired with their targets");
        assert!(reports[0].findings.is_empty() && reports[2].findings.is_empty());
        let f = &reports[1].findings[0];
        assert_eq!(f.id, FindingId::CheckAborted);
        assert!(f.message.contains("a probe bug"), "{}", f.message);
    }
}

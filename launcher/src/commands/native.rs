//! The commands on rdpl's own session: `check --login`, `screenshot`, and (through `connect --with native`)
//! the window. Each runs the pre-flight and the plan first, exactly as `connect` does, so the session gets
//! the address, the NLA decision and the certificate rdpl decided on.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::anyhow;
use rdpl_profiles::creds::CredKey;
use rdpl_profiles::pins;
use rdpl_profiles::profile::{Backend, GatewayUsage, Profile};
use secrecy::SecretString;

use super::check::check_profile;
use super::connect::{blocked, password_for};
use super::creds::read_password;
use super::print_json;
use crate::cli::CertFlags;
use crate::config::Config;
use crate::credentials::stale::{self, Inventory};
use crate::credentials::{self as creds, Vault};
use crate::doctor::PasswordSource;
use crate::exit::{CliError, CmdResult, Exit};
use crate::native::connect::Endpoint;
use crate::native::failure::LoginStatus;
use crate::native::gateway::GatewayTarget;
use crate::native::{self, Login, LoginOutcome, Route, Settings, Trust};
use crate::outln;
use crate::plan::{self, Overrides, Plan};
use crate::probe::report::{Report, Verdict};
use crate::ui::{Ui, style};

/// Everything a native session needs, decided.
pub(crate) struct Prepared {
    pub(crate) profile: Profile,
    pub(crate) report: Report,
    pub(crate) checked_at: ::time::OffsetDateTime,
    pub(crate) plan: Plan,
    pub(crate) route: Route,
    pub(crate) trust: Trust,
    pub(crate) login: Login,
    pub(crate) source: PasswordSource,
    pub(crate) key: Option<CredKey>,
    pub(crate) vault: Vault,
    /// The client name the server is told ([`Config::client_name`]).
    pub(crate) client_name: String,
}

/// How the session is to be prepared.
pub(crate) struct Ask<'a> {
    pub(crate) label: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) password_stdin: bool,
    pub(crate) cert: CertFlags,
}

/// Pre-flight, plan, password, route and trust for a native session.
pub(crate) fn prepare(
    config: &Config,
    profile: Profile,
    ask: &Ask<'_>,
    ui: &mut Ui,
) -> Result<Prepared, CliError> {
    let stdin_password = if ask.password_stdin {
        Some(read_password(true, "")?)
    } else {
        None
    };
    let (report, now) = check_profile(config, profile.clone(), ask.label, ask.timeout)?;
    prepare_with(config, profile, (report, now), ask, stdin_password, ui)
}

/// [`prepare`] with a pre-flight report in hand.
pub(crate) fn prepare_with(
    config: &Config,
    profile: Profile,
    (report, checked_at): (Report, ::time::OffsetDateTime),
    ask: &Ask<'_>,
    stdin_password: Option<SecretString>,
    ui: &mut Ui,
) -> Result<Prepared, CliError> {
    let vault = config.vault();
    let inventory = creds::inventory(&vault).unwrap_or_else(|e| {
        ui.warn(format!("could not list saved credentials: {e}"));
        Inventory::default()
    });
    let overrides = Overrides {
        with: Some(Backend::Native),
        ..Overrides::from(ask.cert)
    };
    let plan = plan::plan(&profile, &report, &inventory, overrides)
        .map_err(|e| CliError::usage(anyhow!("profile `{}` can't be used: {e}", profile.name)))?;
    for w in &plan.warnings {
        ui.warn(w);
    }
    let key = stale::profile_key(&profile);
    let (password, source) = password_for(&plan, &vault, key.as_ref(), stdin_password, ui);
    if !plan.go() {
        return Err(blocked(ui, ask.label, &profile, &report, &plan));
    }
    if plan.layer == plan::Layer::Rdp {
        return Err(CliError::usage(anyhow!(
            "{} offers only Standard RDP Security, which authenticates no server; rdpl's own session does not \
             speak it",
            ask.label
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
                ask.label
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
    let chosen = report
        .address
        .chosen
        .as_deref()
        .and_then(|a| a.parse::<SocketAddr>().ok());
    let route = match (&profile.gateway, chosen) {
        (Some(g), chosen)
            if g.usage == GatewayUsage::Always || (g.usage != GatewayUsage::Never && chosen.is_none()) =>
        {
            Route::Gateway {
                gateway: GatewayTarget {
                    endpoint: format!("{}:{}", g.host, g.port.get()),
                    sha256: report
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
                error: anyhow!("{} could not be reached", ask.label),
                help: vec![format!("`rdpl doctor {}` looks for the cause", ask.label)],
            });
        }
    };
    Ok(Prepared {
        login: Login {
            user,
            domain: profile.domain.clone(),
            password,
        },
        profile,
        report,
        checked_at,
        plan,
        route,
        trust,
        source,
        key,
        vault,
        client_name: config.client_name.clone(),
    })
}

impl Prepared {
    /// Session settings from the plan.
    pub(crate) fn settings(&self, desktop: (u16, u16), timeout: Duration, autologon: bool) -> Settings {
        Settings {
            nla: self.plan.nla,
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
        match self.vault.mark_failed(k, &why) {
            Ok(true) => ui.note(format!("marked the saved password of {k} as rejected")),
            Ok(false) => {}
            Err(e) => ui.warn(format!("could not mark the saved password as rejected: {e}")),
        }
    }
}

impl Prepared {
    /// A session reached the server with a certificate seen for the first time: it becomes the pin (trust on
    /// first use, as `connect` does).
    pub(crate) fn pin_on_first_use(&self, config: &Config, ui: &mut Ui) {
        let (true, Some(c)) = (self.plan.record_pin, &self.report.certificate) else {
            return;
        };
        let (host, port) = (self.profile.host.to_string(), self.profile.port.get());
        let pin = crate::probe::cert::pin_of(c, self.checked_at);
        match super::connect::store_pin(config, &host, port, pin) {
            Ok(()) => ui.note(format!("pinned {host}:{port} to SHA-256 {}", c.sha256)),
            Err(e) => ui.warn(format!("could not record the pin: {}", e.error)),
        }
    }
}

/// The exit code of a login outcome.
pub(crate) fn exit_of(outcome: &LoginOutcome) -> Exit {
    match outcome.status {
        LoginStatus::Ok | LoginStatus::NotVerified => Exit::Ok,
        LoginStatus::Failed => Exit::Auth,
        LoginStatus::Error => Exit::Failed,
    }
}

/// Puts the login outcome into the report: its section, its finding, the verdict again.
pub(crate) fn merge(report: &mut Report, outcome: LoginOutcome) {
    if let Some(f) = &outcome.finding {
        report.findings.push(f.clone());
    }
    report.verdict = Report::verdict_of(&report.findings);
    report.login = Some(outcome);
}

/// `rdpl check TARGET --login`.
pub(super) fn check_login(a: &crate::cli::CheckArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let [label] = a.targets.as_slice() else {
        return Err(CliError::usage(anyhow!("--login checks one target at a time")));
    };
    let profile = super::resolve_target(&config.store(), label)?;
    let ask = Ask {
        label,
        timeout: a.timeout,
        password_stdin: a.password_stdin,
        cert: a.cert,
    };
    let p = if a.json {
        // With --json, stdout is the report also when the pre-flight blocks the login (a silent server).
        let stdin_password = if a.password_stdin {
            Some(read_password(true, "")?)
        } else {
            None
        };
        let (report, now) = check_profile(config, profile.clone(), label, a.timeout)?;
        if report.verdict == Verdict::Blocked {
            print_json(ui, &report)?;
            return Ok(Exit::Failed);
        }
        prepare_with(config, profile, (report, now), &ask, stdin_password, ui)?
    } else {
        prepare(config, profile, &ask, ui)?
    };
    let settings = p.settings((1024, 768), a.timeout, false);
    let outcome =
        super::check::runtime()?.block_on(native::login_check(&p.route, &p.login, &settings, &p.trust));
    p.after(config, &outcome, ui);
    let exit = exit_of(&outcome);
    let mut report = p.report;
    merge(&mut report, outcome);
    if a.json {
        print_json(ui, &report)?;
    } else {
        super::check::print_report(ui, &report);
    }
    Ok(if exit == Exit::Ok && report.verdict == Verdict::Blocked {
        Exit::Failed
    } else {
        exit
    })
}

/// `rdpl screenshot TARGET -o FILE.png`.
pub(super) fn screenshot(a: crate::cli::ScreenshotArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let profile = super::resolve_target(&config.store(), &a.target)?;
    let ask = Ask {
        label: &a.target,
        timeout: a.timeout,
        password_stdin: a.password_stdin,
        cert: a.cert,
    };
    let p = prepare(config, profile, &ask, ui)?;
    let settings = p.settings(a.size, a.timeout, a.autologon);
    let rt = super::check::runtime()?;
    let result = rt.block_on(native::screenshot(
        &p.route, &p.login, &settings, &p.trust, a.settle, a.max_wait,
    ));
    let (outcome, frame) = match result {
        Ok((o, f)) => (o, Some(f)),
        Err(o) => (o, None),
    };
    p.after(config, &outcome, ui);
    if let Some(frame) = &frame {
        frame.save(&a.output).map_err(|e| {
            CliError::usage(anyhow!(e).context(format!("could not write {}", a.output.display())))
        })?;
    }
    if a.json {
        print_json(
            ui,
            &crate::json::ScreenshotJson {
                version: crate::json::JSON_VERSION,
                target: &a.target,
                output: frame.as_ref().map(|_| a.output.display().to_string()),
                width: frame.as_ref().map(|f| f.width),
                height: frame.as_ref().map(|f| f.height),
                login: &outcome,
            },
        )?;
    } else {
        print_login(ui, &a.target, &outcome);
        if let Some(frame) = &frame {
            outln!(
                ui,
                "wrote {} ({}x{}, {} colours{})",
                a.output.display(),
                frame.width,
                frame.height,
                frame.colours(10_000),
                if frame.colours(2) < 2 {
                    ": the screen is blank"
                } else {
                    ""
                }
            );
        }
    }
    Ok(exit_of(&outcome))
}

/// One line for the login outcome, and its finding.
pub(crate) fn print_login(ui: &mut Ui, label: &str, o: &LoginOutcome) {
    let (st, word) = match o.status {
        LoginStatus::Ok => (style::OK, "ok"),
        LoginStatus::NotVerified => (style::WARN, "not verified"),
        LoginStatus::Failed => (style::ERR, "failed"),
        LoginStatus::Error => (style::ERR, "error"),
    };
    let how = o
        .protocol
        .as_deref()
        .map(|p| format!(" ({})", p.to_uppercase()))
        .unwrap_or_default();
    outln!(
        ui,
        "{}{label}{:#} login: {st}{word}{st:#}{how}, {} ms",
        style::BOLD,
        style::BOLD,
        o.ms
    );
    if let Some(f) = &o.finding {
        outln!(ui, "  {}: {}", f.id, f.message);
        if let Some(fix) = &f.fix {
            outln!(ui, "    fix: {fix}");
        }
    }
}

/// `rdpl connect --with native TARGET`: the session in a window.
pub(super) fn window(
    config: &Config,
    profile: Profile,
    checked: (Report, ::time::OffsetDateTime),
    label: &str,
    o: &crate::cli::ConnectOpts,
    stdin_password: Option<SecretString>,
    ui: &mut Ui,
) -> CmdResult {
    let ask = Ask {
        label,
        timeout: o.timeout,
        password_stdin: false,
        cert: o.cert,
    };
    let p = prepare_with(config, profile, checked, &ask, stdin_password, ui)?;
    let fit = |v: Option<u32>, d: u16| v.and_then(|v| u16::try_from(v).ok()).unwrap_or(d);
    let desktop = (
        fit(p.profile.display.width, 1280),
        fit(p.profile.display.height, 800),
    );
    let mut settings = p.settings(desktop, o.timeout, true);
    settings.display_control = true;
    let rt = super::check::runtime()?;
    let title = format!("{label} - rdpl");
    let end = native::window::run(
        &rt,
        &p.route,
        &p.login,
        &settings,
        &p.trust,
        &title,
        &mut |line: &str| {
            ui.note(line);
        },
    );
    if !matches!(end, native::window::WindowEnd::Failed(_)) {
        p.pin_on_first_use(config, ui);
    }
    match end {
        native::window::WindowEnd::Closed => Ok(Exit::Ok),
        native::window::WindowEnd::Ended(e) => {
            ui.note(format!("the server ended the session: {}", e.reason));
            match e.failure() {
                Some(f) if e.errinfo.is_some() => {
                    let finding = f.finding();
                    ui.warn(format!("{}: {}", finding.id, finding.message));
                    Ok(Exit::Failed)
                }
                _ => Ok(Exit::Ok),
            }
        }
        native::window::WindowEnd::Failed(outcome) => {
            p.after(config, &outcome, ui);
            print_login(ui, label, &outcome);
            Ok(exit_of(&outcome))
        }
    }
}

/// `doctor --login`: the login check on top of a pre-flight report (skipped, with a note, when the pre-flight
/// already blocks or rdpl has no password), its outcome merged into the report. A rejected saved password
/// also becomes the finding `creds.rejected`.
#[allow(clippy::too_many_arguments)]
pub(super) fn login_into(
    config: &Config,
    profile: &Profile,
    report: &mut Report,
    now: ::time::OffsetDateTime,
    label: &str,
    timeout: Duration,
    password_stdin: bool,
    ui: &mut Ui,
) -> Result<(), CliError> {
    let stdin_password = if password_stdin {
        Some(read_password(true, "")?)
    } else {
        None
    };
    if report.verdict == Verdict::Blocked {
        ui.note("login check skipped: the pre-flight already blocks the connection");
        return Ok(());
    }
    let ask = Ask {
        label,
        timeout,
        password_stdin: false,
        cert: CertFlags::default(),
    };
    let mut quiet = Ui::sink();
    let p = match prepare_with(
        config,
        profile.clone(),
        (report.clone(), now),
        &ask,
        stdin_password,
        &mut quiet,
    ) {
        Ok(p) => p,
        Err(e) => {
            ui.note(format!("login check skipped: {}", e.error));
            return Ok(());
        }
    };
    let settings = p.settings((1024, 768), timeout, false);
    let outcome =
        super::check::runtime()?.block_on(native::login_check(&p.route, &p.login, &settings, &p.trust));
    p.after(config, &outcome, ui);
    if outcome.status == LoginStatus::Failed
        && let (PasswordSource::Keyring, Some(k)) = (p.source, &p.key)
    {
        report.findings.push(
            crate::probe::report::Finding::new(
                "creds.rejected",
                crate::probe::report::Severity::Error,
                format!("the password saved in the keyring for {k} was rejected by the server"),
            )
            .fix("`rdpl creds set TARGET` with the current password"),
        );
    }
    merge(report, outcome);
    Ok(())
}

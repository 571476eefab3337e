//! rdpl's own session on a prepared connection, for the commands that reach it through another: the window of
//! `connect --with native`, and the login check that `doctor --login` adds to its facts. (`check --login` and
//! `screenshot` are commands of their own, in `commands/native.rs`.)

#[cfg(feature = "native")]
mod imp {
    use std::time::Duration;

    use rdpl_core::doctor::PasswordSource;
    use rdpl_core::facts::Facts;
    use rdpl_core::finding::{Finding, FindingId, Verdict};
    use rdpl_core::login::LoginStatus;
    use rdpl_core::plan::Overrides;
    use rdpl_profiles::profile::{Backend, Profile};
    use secrecy::SecretString;
    use time::OffsetDateTime;

    use crate::cli::CertFlags;
    use crate::config::Config;
    use crate::exit::{CliError, CmdResult, Exit};
    use crate::native;
    use crate::output::print_login;
    use crate::pipeline::{Ask, Prepared, decide, exit_of, native_session, runtime, stdin_password};
    use crate::ui::Ui;

    /// The plan of a native session: the client is rdpl's own.
    pub(crate) fn native_ask(timeout: Duration, cert: CertFlags) -> Ask {
        Ask {
            timeout,
            overrides: Overrides {
                with: Some(Backend::Native),
                ..Overrides::from(cert)
            },
            credentials: true,
        }
    }

    /// `rdpl connect --with native TARGET`: the session in a window.
    pub(crate) fn window(
        config: &Config,
        prepared: Prepared,
        label: &str,
        timeout: Duration,
        stdin_password: Option<SecretString>,
        ui: &mut Ui,
    ) -> CmdResult {
        let p = native_session(config, prepared, label, stdin_password, ui)?;
        let fit = |v: Option<u32>, d: u16| v.and_then(|v| u16::try_from(v).ok()).unwrap_or(d);
        let desktop = (
            fit(p.prepared.profile.display.width, 1280),
            fit(p.prepared.profile.display.height, 800),
        );
        let mut settings = p.settings(desktop, timeout, true);
        settings.display_control = true;
        let rt = runtime()?;
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
    pub(crate) fn login_into(
        config: &Config,
        profile: &Profile,
        facts: &mut Facts,
        now: OffsetDateTime,
        label: &str,
        timeout: Duration,
        password_stdin: bool,
        ui: &mut Ui,
    ) -> Result<(), CliError> {
        let stdin_password = stdin_password(password_stdin)?;
        if facts.verdict() == Verdict::Blocked {
            ui.note("login check skipped: the pre-flight already blocks the connection");
            return Ok(());
        }
        let mut quiet = Ui::sink();
        let ask = native_ask(timeout, CertFlags::default());
        let p = match decide(config, profile.clone(), (facts.clone(), now), ask, &mut quiet)
            .and_then(|prepared| native_session(config, prepared, label, stdin_password, &mut quiet))
        {
            Ok(p) => p,
            Err(e) => {
                ui.note(format!("login check skipped: {}", e.error));
                return Ok(());
            }
        };
        let settings = p.settings((1024, 768), timeout, false);
        let outcome = runtime()?.block_on(native::login_check(&p.route, &p.login, &settings, &p.trust));
        p.after(config, &outcome, ui);
        if outcome.status == LoginStatus::Failed
            && let (PasswordSource::Keyring, Some(k)) = (p.source, &p.key)
        {
            facts.findings.push(Finding::new(
                FindingId::CredsRejected,
                format!("the password saved in the keyring for {k} was rejected by the server"),
            ));
        }
        facts.add_login(outcome);
        Ok(())
    }
}

#[cfg(feature = "native")]
pub(crate) use imp::{login_into, native_ask, window};

#[cfg(not(feature = "native"))]
mod imp {
    use std::time::Duration;

    use anyhow::anyhow;
    use rdpl_core::facts::Facts;
    use rdpl_profiles::profile::Profile;
    use secrecy::SecretString;
    use time::OffsetDateTime;

    use crate::config::Config;
    use crate::exit::{CliError, CmdResult};
    use crate::pipeline::Prepared;
    use crate::ui::Ui;

    /// The error of a build without rdpl's own session.
    pub(crate) fn unavailable(what: &str) -> CliError {
        CliError::usage(anyhow!("{what} needs rdpl's own session, which this build leaves out")).help(
            "rebuild with the default features (`cargo install --path launcher`), or use --with xfreerdp|mstsc|macos",
        )
    }

    pub(crate) fn window(
        _: &Config,
        _: Prepared,
        _: &str,
        _: Duration,
        _: Option<SecretString>,
        _: &mut Ui,
    ) -> CmdResult {
        Err(unavailable("connect --with native"))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn login_into(
        _: &Config,
        _: &Profile,
        _: &mut Facts,
        _: OffsetDateTime,
        _: &str,
        _: Duration,
        _: bool,
        _: &mut Ui,
    ) -> Result<(), CliError> {
        Err(unavailable("doctor --login"))
    }
}

#[cfg(not(feature = "native"))]
pub(crate) use imp::{login_into, unavailable, window};

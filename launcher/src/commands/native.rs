//! The commands on rdpl's own session: `check --login`, `screenshot`, and (through `connect --with native`)
//! the window. Each runs the pre-flight and the plan first, exactly as `connect` does, so the session gets
//! the address, the NLA decision and the certificate rdpl decided on.

use anyhow::anyhow;
use rdpl_core::finding::Verdict;
use rdpl_profiles::profile::Profile;

use super::common::print_json;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::report::{LoginReport, Report};
use crate::native;
use crate::output::{print_login, print_report};
use crate::pipeline::{self, Ask, NativeSession, check_profile, exit_of, native_session, stdin_password};
use crate::session::native_ask;
use crate::ui::Ui;
use crate::ui::outln;

/// Pre-flight, plan and session for a native command.
fn prepare(
    config: &Config,
    profile: Profile,
    label: &str,
    ask: Ask,
    password_stdin: bool,
    ui: &mut Ui,
) -> Result<NativeSession, CliError> {
    let stdin_password = stdin_password(password_stdin)?;
    let prepared = pipeline::prepare(config, profile, label, ask, ui)?;
    native_session(config, prepared, label, stdin_password, ui)
}

/// `rdpl check TARGET --login`.
pub(super) fn check_login(a: &crate::cli::CheckArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let [label] = a.targets.as_slice() else {
        return Err(CliError::usage(anyhow!("--login checks one target at a time")));
    };
    let profile = super::common::resolve_target(&config.store(), label)?;
    let ask = native_ask(a.timeout, a.cert);
    let p = if a.json {
        // With --json, stdout is the report also when the pre-flight blocks the login (a silent server).
        let stdin_password = stdin_password(a.password_stdin)?;
        let (facts, now) = check_profile(config, profile.clone(), label, a.timeout)?;
        if facts.verdict() == Verdict::Blocked {
            print_json(ui, &Report::from(&facts))?;
            return Ok(Exit::Failed);
        }
        let prepared = pipeline::decide(config, profile, (facts, now), ask, ui)?;
        native_session(config, prepared, label, stdin_password, ui)?
    } else {
        prepare(config, profile, label, ask, a.password_stdin, ui)?
    };
    let settings = p.settings((1024, 768), a.timeout, false);
    let outcome = pipeline::runtime()?.block_on(native::login_check(&p.route, &p.login, &settings, &p.trust));
    p.after(config, &outcome, ui);
    let exit = exit_of(&outcome);
    let mut facts = p.prepared.facts;
    facts.add_login(outcome);
    let report = Report::from(&facts);
    if a.json {
        print_json(ui, &report)?;
    } else {
        print_report(ui, &report);
    }
    Ok(if exit == Exit::Ok && report.verdict == Verdict::Blocked {
        Exit::Failed
    } else {
        exit
    })
}

/// `rdpl screenshot TARGET -o FILE.png`.
pub(super) fn screenshot(a: crate::cli::ScreenshotArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let profile = super::common::resolve_target(&config.store(), &a.target)?;
    let ask = native_ask(a.timeout, a.cert);
    let p = prepare(config, profile, &a.target, ask, a.password_stdin, ui)?;
    let settings = p.settings(a.size, a.timeout, a.autologon);
    let rt = pipeline::runtime()?;
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
                login: &LoginReport::from(&outcome),
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

//! `rdpl doctor TARGET [--json]`: the pre-flight, then the likely causes, most likely first, each with its
//! evidence, what rdpl changes by itself, and the server-side steps (shown, never applied).

use serde::Serialize;

use rdpl_core::doctor::{self, Cause};
use rdpl_core::finding::Verdict;

use super::common::print_json;
use crate::cli::DoctorArgs;
use crate::config::Config;
use crate::exit::{CmdResult, Exit};
use crate::json::report::Report;
use crate::output::print_causes;
use crate::pipeline::check_one;
use crate::ui::Ui;

#[derive(Debug, Serialize)]
struct DoctorJson<'a> {
    version: u32,
    target: &'a str,
    verdict: Verdict,
    causes: &'a [Cause],
    report: &'a Report,
}

pub(super) fn run(a: DoctorArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let (profile, mut facts, now) = check_one(config, &a.target, a.timeout)?;
    if a.login {
        crate::session::login_into(
            config,
            &profile,
            &mut facts,
            now,
            &a.target,
            a.timeout,
            a.password_stdin,
            ui,
        )?;
    }
    let causes = doctor::diagnose(&profile, &facts);
    let report = Report::from(&facts);
    let exit = if report.verdict == Verdict::Blocked {
        Exit::Failed
    } else {
        Exit::Ok
    };
    if a.json {
        let doc = DoctorJson {
            version: 1,
            target: &a.target,
            verdict: report.verdict,
            causes: &causes,
            report: &report,
        };
        print_json(ui, &doc)?;
        return Ok(exit);
    }
    print_causes(ui, &a.target, &causes);
    Ok(exit)
}

//! `rdpl doctor TARGET [--json]`: the pre-flight, then the likely causes, most likely first, each with its
//! evidence, what rdpl changes by itself, and the server-side steps (shown, never applied).

use serde::Serialize;

use super::check::check_one;
use super::print_json;
use crate::cli::DoctorArgs;
use crate::config::Config;
use crate::doctor::{self, Cause};
use crate::exit::{CmdResult, Exit};
use crate::outln;
use crate::probe::report::{Report, Severity, Verdict};
use crate::ui::{Ui, style};

#[derive(Debug, Serialize)]
struct DoctorJson<'a> {
    version: u32,
    target: &'a str,
    verdict: Verdict,
    causes: &'a [Cause],
    report: &'a Report,
}

pub(super) fn run(a: DoctorArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let (profile, mut report, now) = check_one(config, &a.target, a.timeout)?;
    if a.login {
        super::native::login_into(
            config,
            &profile,
            &mut report,
            now,
            &a.target,
            a.timeout,
            a.password_stdin,
            ui,
        )?;
    }
    let causes = doctor::diagnose(&profile, &report);
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

/// Prints the causes, most likely first.
pub(crate) fn print_causes(ui: &mut Ui, target: &str, causes: &[Cause]) {
    let (b, d) = (style::BOLD, style::DIM);
    if causes.is_empty() {
        let g = style::OK;
        outln!(ui, "{g}{target}: nothing found that would stop a connection{g:#}");
        return;
    }
    let n = causes.len();
    outln!(
        ui,
        "{b}{target}: {n} likely cause{}, most likely first{b:#}",
        if n == 1 { "" } else { "s" }
    );
    for (i, c) in causes.iter().enumerate() {
        let st = if c.severity == Severity::Error {
            style::ERR
        } else {
            style::WARN
        };
        outln!(ui);
        outln!(ui, "{st}{}. {}{st:#}", i + 1, c.title);
        for e in &c.evidence {
            outln!(ui, "   {d}evidence:{d:#} {e}");
        }
        if let Some(fix) = &c.client_fix {
            outln!(ui, "   rdpl: {fix}");
        }
        if !c.server_steps.is_empty() {
            outln!(ui, "   on the server (rdpl never does this for you):");
            for s in &c.server_steps {
                outln!(ui, "     - {s}");
            }
        }
    }
}

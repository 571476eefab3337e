//! `rdpl doctor TARGET [--json]`: the pre-flight, then the likely causes, most likely first, each with its
//! evidence, what rdpl changes by itself, and the server-side steps (shown, never applied).

use serde::Serialize;

use rdpl_core::doctor::{self, Cause};
use rdpl_core::finding::Verdict;

use super::common::print_json;
use crate::cli::{CodeClient, DoctorArgs};
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
    /// The code the user gave (`--code`), when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<CodeJson>,
    causes: &'a [Cause],
    report: &'a Report,
}

/// `code` in `doctor --json`.
#[derive(Debug, Serialize)]
struct CodeJson {
    #[serde(flatten)]
    code: doctor::code::Code,
    /// The code with its names.
    label: String,
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
    let code = a.code.map(|code| doctor::code::Code {
        client: match a.client {
            CodeClient::Mstsc => doctor::code::Client::Mstsc,
            CodeClient::Xfreerdp => doctor::code::Client::Xfreerdp,
        },
        code,
        extended: a.extended,
    });
    let causes = match &code {
        Some(c) => doctor::diagnose_with_code(&profile, &facts, c),
        None => doctor::diagnose(&profile, &facts),
    };
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
            code: code.map(|c| CodeJson {
                label: c.to_string(),
                code: c,
            }),
            causes: &causes,
            report: &report,
        };
        print_json(ui, &doc)?;
        return Ok(exit);
    }
    print_causes(ui, &a.target, &causes);
    Ok(exit)
}

//! `rdpl check TARGET... | --all`: the pre-flight, with human output (a line per step, a fix under each
//! problem, a summary table for several targets) or `--json`.

use std::io::IsTerminal;

use anyhow::anyhow;
use rdpl_core::finding::Verdict;

use super::common::{print_json, store_error};
use crate::cli::CheckArgs;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::report::Report;
use crate::output::{print_report, summary};
use crate::pipeline::{check_all, context, mstsc_findings, runtime, target, target_of};
use crate::probe::Target;
use crate::ui::Ui;

pub(super) fn run(a: CheckArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    let mut broken = Vec::new();
    let state = store.load_state();
    let targets: Vec<Target> = if a.all {
        let (profiles, errors) = store.load_all().map_err(store_error)?;
        broken = errors;
        if profiles.is_empty() && broken.is_empty() {
            return Err(CliError::usage(anyhow!("there are no profiles to check"))
                .help("add one with `rdpl profile add NAME --host HOST`"));
        }
        profiles
            .into_iter()
            .map(|p| {
                let label = p.name.to_string();
                target_of(p, &label, &state)
            })
            .collect()
    } else {
        a.targets
            .iter()
            .map(|l| target(&store, l, &state))
            .collect::<Result<Vec<_>, _>>()?
    };
    let ctx = context(config, &store, a.timeout)?;
    let rt = runtime()?;
    let progress = !a.json && targets.len() > 1 && std::io::stdout().is_terminal() && !ui.quiet;
    // What this computer's mstsc will do with rdpl's files (Windows; nothing elsewhere), per target.
    let local: Vec<_> = targets
        .iter()
        .map(|t| mstsc_findings(config, &t.profile))
        .collect();
    let reports: Vec<Report> = check_all(&rt, &store, targets, ctx, a.jobs, progress)
        .into_iter()
        .zip(local)
        .map(|(mut facts, local)| {
            facts.findings.extend(local);
            Report::from(&facts)
        })
        .collect();
    if a.json {
        if reports.len() == 1 && !a.all {
            print_json(ui, &reports[0])?;
        } else {
            print_json(ui, &reports)?;
        }
    } else {
        for r in &reports {
            print_report(ui, r);
        }
        if reports.len() > 1 {
            summary(ui, &reports);
        }
    }
    let broken_count = broken.len();
    for e in broken {
        ui.error(&store_error(e));
    }
    if reports.iter().any(|r| r.verdict == Verdict::Blocked) {
        return Ok(Exit::Failed);
    }
    Ok(if broken_count == 0 { Exit::Ok } else { Exit::Usage })
}

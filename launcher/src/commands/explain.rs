//! `rdpl explain CODE [EXTENDED] [--json]`: what an RDP error code means, from the tables in `explain/`.

use anyhow::anyhow;

use super::common::print_json;
use crate::cli::ExplainArgs;
use crate::exit::{CliError, CmdResult, Exit};
use crate::ui::outln;
use crate::ui::{Ui, style};
use rdpl_core::explain;

pub(super) fn run(a: ExplainArgs, ui: &mut Ui) -> CmdResult {
    let parse = |s: &str, what: &str| {
        explain::parse_code(s).map_err(|e| {
            CliError::usage(anyhow!("{what} `{}`: {e}", s.escape_debug()))
                .help("write it as the dialog or log shows it: 0x904, 904h, or decimal 2308")
        })
    };
    let code = parse(&a.code, "code")?;
    let extended = a
        .extended
        .as_deref()
        .map(|e| parse(e, "extended code"))
        .transpose()?;
    let x = explain::explain(code, extended);
    if a.json {
        print_json(
            ui,
            &crate::json::ExplainJson {
                version: crate::json::JSON_VERSION,
                explanation: &x,
            },
        )?;
        return Ok(Exit::Ok);
    }
    let (b, d) = (style::BOLD, style::DIM);
    for line in &x.summary {
        outln!(ui, "{line}");
    }
    for reading in std::iter::once(&x.code).chain(x.extended.iter()) {
        outln!(ui);
        outln!(
            ui,
            "{b}{} ({}) read as {}{b:#}",
            reading.hex,
            reading.value,
            reading.read_as
        );
        for m in &reading.matches {
            let e = m.entry;
            let via = m.via.as_deref().map(|v| format!(" [{v}]")).unwrap_or_default();
            outln!(ui, "  {b}{}{b:#} {} — {}{via}", m.family_title, m.hex, e.name);
            outln!(ui, "    {}", e.meaning);
            if let Some(lib) = &m.library {
                outln!(ui, "    {d}{}: {}{d:#}", lib.source, lib.text);
            }
            for c in e.causes {
                outln!(ui, "    - {c}");
            }
            if let Some(fix) = e.fix {
                outln!(ui, "    fix: {fix}");
            }
            if let Some(f) = e.finding {
                outln!(ui, "    rdpl finding: {f}");
            }
            outln!(ui, "    {d}source: {}{d:#}", e.source);
        }
        for r in &reading.ranges {
            outln!(ui, "  {} ({}): {}", r.range, r.source, r.what);
        }
    }
    // Corrections are part of the summary above; --json carries them with their sources.
    Ok(Exit::Ok)
}

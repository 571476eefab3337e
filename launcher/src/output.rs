//! What users read: the pre-flight report, the doctor's causes, the login line, the plan of a dry run and
//! the sanitizer's report, as text. Commands decide nothing here and this decides nothing: it prints.

use rdpl_core::doctor::Cause;
use rdpl_core::facts::{DnsStatus, Outcome};
use rdpl_core::finding::{Family, Severity, Verdict};
#[cfg(feature = "native")]
use rdpl_core::login::{LoginOutcome, LoginStatus};
use rdpl_core::plan::{Layer, Plan};
use rdpl_profiles::rdp::parse::Severity as DiagSeverity;
use rdpl_profiles::rdp::sanitize::{Action, Sanitized};

use crate::handoff::{Handoff, HandoffError};
use crate::json::report::Report;
#[cfg(feature = "native")]
use crate::json::report::ms;
use crate::ui::outln;
use crate::ui::{Ui, shown, style};

fn mark(sev: Option<Severity>) -> (anstyle::Style, &'static str) {
    match sev {
        Some(Severity::Error) => (style::ERR, "✗"),
        Some(Severity::Warning) => (style::WARN, "!"),
        _ => (style::OK, "✓"),
    }
}

/// Prints one report: a header, a line per step, the findings of each step with their fixes.
pub(crate) fn print_report(ui: &mut Ui, r: &Report) {
    let b = style::BOLD;
    let (vs, verdict) = match r.verdict {
        Verdict::Ok => (style::OK, "ok"),
        Verdict::Warn => (style::WARN, "warnings"),
        Verdict::Blocked => (style::ERR, "blocked"),
    };
    let chosen = r.address.chosen.clone().unwrap_or_else(|| "no address".into());
    outln!(
        ui,
        "{b}{}{b:#} -> {}: {vs}{verdict}{vs:#} ({} ms)",
        shown(&r.target),
        shown(&chosen),
        r.ms
    );
    let worst = |families: &[Family]| {
        r.findings
            .iter()
            .filter(|f| families.contains(&f.id.family()))
            .map(|f| f.severity)
            .max()
            .filter(|s| *s > Severity::Info)
    };
    let mut steps: Vec<(&str, Vec<Family>, String)> = Vec::new();
    let dns = &r.dns;
    if dns.status != DnsStatus::Skipped {
        let answer = if dns.addresses.is_empty() {
            format!("{:?}", dns.status).to_lowercase()
        } else {
            dns.addresses.join(", ")
        };
        steps.push((
            "dns",
            vec![Family::Dns],
            format!(
                "{} -> {answer}{}",
                dns.name,
                dns.ms.map(|m| format!(" ({m} ms)")).unwrap_or_default()
            ),
        ));
    }
    let tried: Vec<String> = r
        .address
        .candidates
        .iter()
        .filter(|c| c.result != Outcome::Skipped)
        .map(|c| {
            format!(
                "{} {}{}",
                c.address,
                serde_json::to_value(c.result)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                c.ms.map(|m| format!(" {m} ms")).unwrap_or_default()
            )
        })
        .collect();
    steps.push(("tcp", vec![Family::Tcp, Family::Address], tried.join("; ")));
    if let Some(s) = &r.security {
        let mut line = format!(
            "offers {}",
            if s.offered.is_empty() {
                "nothing usable".into()
            } else {
                s.offered.join(", ")
            }
        );
        if let Some(sel) = &s.selected {
            line.push_str(&format!("; selected {sel}"));
        }
        if s.nla_required == Some(true) {
            line.push_str("; NLA required");
        }
        if let Some(ms) = s.ms {
            line.push_str(&format!(" ({ms} ms)"));
        }
        steps.push(("security", vec![Family::X224, Family::Nego], line));
    }
    if let Some(t) = &r.tls {
        steps.push((
            "tls",
            vec![Family::Tls],
            format!("{} {} ({} ms)", t.version, t.cipher, t.ms),
        ));
    } else if r.findings.iter().any(|f| f.id.family() == Family::Tls) {
        steps.push(("tls", vec![Family::Tls], "failed".into()));
    }
    if let Some(c) = &r.certificate {
        steps.push((
            "certificate",
            vec![Family::Cert],
            format!(
                "{} (issuer {}), valid to {}, sha256 {}",
                c.subject, c.issuer, c.not_after, c.sha256
            ),
        ));
    }
    if let Some(g) = &r.gateway {
        let schemes = if g.auth_schemes.is_empty() {
            String::new()
        } else {
            format!(", auth {}", g.auth_schemes.join("/"))
        };
        steps.push((
            "gateway",
            vec![Family::Gateway],
            format!(
                "{} {:?} via {:?}{schemes} ({} ms)",
                g.host, g.status, g.transport, g.ms
            )
            .to_lowercase(),
        ));
    }
    if let Some(l) = &r.login {
        let how = l
            .protocol
            .as_deref()
            .map(|p| format!(" over {}", p.to_uppercase()))
            .unwrap_or_default();
        let detail = match (l.status, l.first_frame_ms) {
            (rdpl_core::login::LoginStatus::Ok, Some(f)) => {
                format!(
                    "ok{how}: first frame after {} ms (session {} ms + {f} ms)",
                    l.ms,
                    l.connect_ms.unwrap_or(0)
                )
            }
            (rdpl_core::login::LoginStatus::NotVerified, _) => {
                format!("not verified{how}: the session came up in {} ms", l.ms)
            }
            (s, _) => format!("{}{how} after {} ms", s.as_str(), l.ms),
        };
        steps.push(("login", vec![Family::Auth, Family::Login, Family::Server], detail));
    }
    for (name, families, detail) in &steps {
        let (st, m) = mark(worst(families));
        outln!(ui, "  {st}{m}{st:#} {name:<12}{}", shown(detail));
        for f in r.findings.iter().filter(|f| families.contains(&f.id.family())) {
            let (fs, fm) = match f.severity {
                Severity::Error => (style::ERR, "✗"),
                Severity::Warning => (style::WARN, "!"),
                Severity::Info => (style::DIM, "·"),
            };
            outln!(ui, "      {fs}{fm}{fs:#} {}: {}", f.id, shown(&f.message));
            if let Some(fix) = &f.fix
                && f.severity > Severity::Info
            {
                outln!(ui, "        fix: {}", shown(fix));
            }
        }
    }
    for f in r.findings.iter().filter(|f| {
        !steps
            .iter()
            .any(|(_, families, _)| families.contains(&f.id.family()))
    }) {
        let (fs, fm) = mark(Some(f.severity));
        outln!(ui, "  {fs}{fm}{fs:#} {}: {}", f.id, shown(&f.message));
        if let Some(fix) = &f.fix {
            outln!(ui, "        fix: {}", shown(fix));
        }
    }
}

/// The summary table of several reports.
pub(crate) fn summary(ui: &mut Ui, reports: &[Report]) {
    let b = style::BOLD;
    let w = reports
        .iter()
        .map(|r| shown(&r.target).to_string().chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    outln!(ui);
    outln!(
        ui,
        "{b}{:<w$}  {:<8}  {:<24}  {:>6}  {}{b:#}",
        "TARGET",
        "VERDICT",
        "ADDRESS",
        "MS",
        "TOP FINDING"
    );
    for r in reports {
        let v = match r.verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Blocked => "blocked",
        };
        let top = r
            .findings
            .iter()
            .find(|f| f.severity > Severity::Info)
            .map(|f| f.id.wire())
            .unwrap_or("-");
        outln!(
            ui,
            "{:<w$}  {v:<8}  {:<24}  {:>6}  {top}",
            shown(&r.target),
            shown(r.address.chosen.as_deref().unwrap_or("-")),
            r.ms
        );
    }
    let blocked = reports.iter().filter(|r| r.verdict == Verdict::Blocked).count();
    let _ = writeln!(ui.out, "{} checked, {blocked} blocked", reports.len());
}

/// Prints the causes, most likely first.
pub(crate) fn print_causes(ui: &mut Ui, target: &str, causes: &[Cause]) {
    let (b, d) = (style::BOLD, style::DIM);
    let target = shown(target);
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
        outln!(ui, "{st}{}. {}{st:#}", i + 1, shown(&c.title));
        for e in &c.evidence {
            outln!(ui, "   {d}evidence:{d:#} {}", shown(e));
        }
        if let Some(fix) = &c.client_fix {
            outln!(ui, "   rdpl: {}", shown(fix));
        }
        if !c.server_steps.is_empty() {
            outln!(ui, "   on the server (rdpl never does this for you):");
            for s in &c.server_steps {
                outln!(ui, "     - {}", shown(s));
            }
        }
    }
}

/// One line for the login outcome, and its finding.
#[cfg(feature = "native")]
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
        "{}{}{:#} login: {st}{word}{st:#}{how}, {} ms",
        style::BOLD,
        shown(label),
        style::BOLD,
        ms(o.took)
    );
    if let Some(f) = &o.finding {
        outln!(ui, "  {}: {}", f.id, shown(&f.message));
        if let Some(fix) = &f.fix {
            outln!(ui, "    fix: {}", shown(fix));
        }
    }
}

/// The plan of `connect --dry-run`.
pub(crate) fn print_plan(
    ui: &mut Ui,
    label: &str,
    plan: &Plan,
    password: &str,
    handoff: &Result<Handoff, HandoffError>,
) {
    let (b, d) = (style::BOLD, style::DIM);
    outln!(
        ui,
        "{b}plan for {}{b:#} {d}(dry run: nothing is changed or started){d:#}",
        shown(label)
    );
    outln!(
        ui,
        "  address      {}  {d}({}){d:#}",
        shown(&plan.address.to_string()),
        shown(&plan.address_reason)
    );
    let layer = match plan.layer {
        Layer::Nla => "NLA (CredSSP)",
        Layer::Tls => "TLS, NLA off",
        Layer::Rdp => "Standard RDP Security",
    };
    match &plan.nla_reason {
        Some(r) => outln!(ui, "  security     {layer}  {d}({}){d:#}", shown(r)),
        None => outln!(ui, "  security     {layer}"),
    }
    match &plan.udp_reason {
        Some(r) => outln!(ui, "  udp          off  {d}({}){d:#}", shown(r)),
        None => outln!(ui, "  udp          on"),
    }
    if let Some(g) = &plan.gateway {
        outln!(ui, "  gateway      {}", shown(&g.to_string()));
    }
    if let Some(c) = &plan.cert_sha256 {
        let note = if plan.record_pin {
            " (new: pinned on connect)"
        } else {
            ""
        };
        outln!(ui, "  certificate  SHA-256 {c}{note}");
    }
    outln!(ui, "  password     {password}");
    match handoff {
        Ok(h) => {
            match &h.client {
                Some(c) => {
                    // The program and its version come from PATH and the program's own output.
                    outln!(ui, "  client       {} ({})", shown(&c.label()), h.backend);
                    outln!(ui, "  why          {}", shown(&c.why));
                }
                None => outln!(ui, "  client       {}", h.backend),
            }
            let mut line = std::iter::once(h.program.as_str())
                .chain(h.args.iter().map(String::as_str))
                .map(shell_quote)
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(s) = &h.stdin {
                line.push_str(&format!("  {d}(stdin: {}){d:#}", shown(s)));
            }
            outln!(ui, "  command      {line}");
        }
        Err(e) => outln!(
            ui,
            "  client       {}{}{:#}",
            style::ERR,
            shown(&e.to_string()),
            style::ERR
        ),
    }
    if plan.clear.is_empty() {
        outln!(ui, "  would clear  nothing");
    } else {
        for (i, s) in plan.clear.iter().enumerate() {
            let head = if i == 0 { "would clear" } else { "" };
            outln!(
                ui,
                "  {head:<12} {}  {d}({}){d:#}",
                shown(&s.item.to_string()),
                shown(&s.reason)
            );
        }
    }
    for w in &plan.warnings {
        outln!(ui, "  {}warning{:#}      {}", style::WARN, style::WARN, shown(w));
    }
    for x in &plan.blocked {
        outln!(
            ui,
            "  {}blocked{:#}      {}",
            style::ERR,
            style::ERR,
            shown(&x.to_string())
        );
    }
    outln!(
        ui,
        "{b}the .rdp file{b:#} {d}(written UTF-16LE with BOM, CRLF){d:#}"
    );
    for line in plan.document.to_text().lines() {
        outln!(ui, "  {}", shown(line));
    }
}

/// Quotes an argument for display the way a POSIX shell would need it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/:.,_-+=@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", shown(&s.replace('\'', "'\\''")))
    }
}

/// Prints a sanitize report: diagnostics, then changes grouped by action.
pub(crate) fn print_sanitized(ui: &mut Ui, s: &Sanitized) {
    let (w, r, d) = (style::WARN, style::ERR, style::DIM);
    for diag in &s.diagnostics {
        let (st, label) = match diag.severity {
            DiagSeverity::Error => (r, "ignored"),
            DiagSeverity::Warning => (w, "warning"),
            DiagSeverity::Info => (d, "note"),
        };
        outln!(ui, "  {st}{label:<9}{st:#} {}", shown(&diag.to_string()));
    }
    for c in &s.changes {
        let (st, label) = match c.action {
            Action::Removed => (r, "removed"),
            Action::ForcedOff => (w, "off"),
            Action::Changed => (w, "changed"),
            Action::Kept => (d, "kept"),
        };
        let line = c.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        let values = match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!(" ({} -> {})", shown(o), shown(n)),
            (Some(o), None) if c.action == Action::Kept => format!(" ({})", shown(o)),
            _ => String::new(),
        };
        outln!(
            ui,
            "  {st}{label:<9}{st:#} {line}{}{values}: {}",
            shown(&c.name),
            shown(&c.message)
        );
    }
}

//! `rdpl check TARGET... | --all`: the pre-flight, with human output (a line per step, a fix under each
//! problem, a summary table for several targets) or `--json`.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use rdpl_profiles::pins;
use rdpl_profiles::store::Store;

use super::{print_json, resolve_target, store_error};
use crate::cli::CheckArgs;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::outln;
use crate::probe::report::{Report, Severity, Verdict};
use crate::probe::{self, Context, Limits, Target};
use crate::ui::{Ui, style};

/// A tokio runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(anyhow!(e).context("could not start the async runtime")))
}

/// The probe context: resolver, pins, limits, now.
pub(crate) fn context(config: &Config, store: &Store, total: Duration) -> Result<Context, CliError> {
    crate::probe::tls::warm_up();
    let mut limits = Limits {
        total,
        ..Limits::default()
    };
    limits.step = limits.step.min(total);
    let (resolver, resolver_error) = match probe::dns::resolver(config.dns_server, limits.timing.dns) {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    let pins = store.load_pins().map_err(store_error)?;
    Ok(Context {
        resolver,
        resolver_error,
        pins,
        limits,
        now: ::time::OffsetDateTime::now_utc(),
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
fn target_of(
    profile: rdpl_profiles::profile::Profile,
    label: &str,
    state: &rdpl_profiles::state::State,
) -> Target {
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
) -> Vec<Report> {
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
                let r = probe::run(&t, &ctx).await;
                if let Some(b) = &bar {
                    b.inc(1);
                }
                (i, r)
            });
        }
        let mut out: Vec<Option<Report>> = vec![None; targets.len()];
        while let Some(done) = set.join_next().await {
            if let Ok((i, r)) = done {
                out[i] = Some(r);
            }
        }
        out.into_iter().flatten().collect::<Vec<_>>()
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let worked: Vec<(String, String)> = targets
        .iter()
        .zip(&reports)
        .filter_map(|(t, r)| {
            let chosen = r.address.chosen.clone()?;
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
    reports
}

/// Pre-flights one target (a profile or `host[:port]`): its profile, the report, and the time the
/// certificate was judged at.
pub(crate) fn check_one(
    config: &Config,
    label: &str,
    total: Duration,
) -> Result<(rdpl_profiles::profile::Profile, Report, ::time::OffsetDateTime), CliError> {
    let store = config.store();
    let t = target(&store, label, &store.load_state())?;
    let profile = t.profile.clone();
    let (report, now) = check_target(config, &store, t, total)?;
    Ok((profile, report, now))
}

/// The pre-flight of a profile that need not be in the store (`rdpl open` of a file).
pub(crate) fn check_profile(
    config: &Config,
    profile: rdpl_profiles::profile::Profile,
    label: &str,
    total: Duration,
) -> Result<(Report, ::time::OffsetDateTime), CliError> {
    let store = config.store();
    let cache = store
        .load_state()
        .last_good
        .get(&pins::key(&profile.host.to_string(), profile.port.get()))
        .and_then(|s| s.parse::<SocketAddr>().ok());
    let t = Target {
        label: label.to_owned(),
        profile,
        cache,
    };
    check_target(config, &store, t, total)
}

fn check_target(
    config: &Config,
    store: &Store,
    t: Target,
    total: Duration,
) -> Result<(Report, ::time::OffsetDateTime), CliError> {
    let ctx = context(config, store, total)?;
    let now = ctx.now;
    let report = check_all(&runtime()?, store, vec![t], ctx, 1, false)
        .pop()
        .ok_or_else(|| CliError {
            exit: Exit::Failed,
            error: anyhow!("the pre-flight did not finish"),
            help: vec![],
        })?;
    Ok((report, now))
}

pub(super) fn run(a: CheckArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    if a.login {
        return super::native::check_login(&a, config, ui);
    }
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
    let reports = check_all(&rt, &store, targets, ctx, a.jobs, progress);
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
        "{b}{}{b:#} -> {chosen}: {vs}{verdict}{vs:#} ({} ms)",
        r.target,
        r.ms
    );
    let worst = |prefixes: &[&str]| {
        r.findings
            .iter()
            .filter(|f| prefixes.iter().any(|p| f.id.starts_with(p)))
            .map(|f| f.severity)
            .max()
            .filter(|s| *s > Severity::Info)
    };
    let mut steps: Vec<(&str, Vec<&str>, String)> = Vec::new();
    let dns = &r.dns;
    if dns.status != probe::report::DnsStatus::Skipped {
        let answer = if dns.addresses.is_empty() {
            format!("{:?}", dns.status).to_lowercase()
        } else {
            dns.addresses.join(", ")
        };
        steps.push((
            "dns",
            vec!["dns."],
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
        .filter(|c| c.result != probe::report::Outcome::Skipped)
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
    steps.push(("tcp", vec!["tcp.", "address."], tried.join("; ")));
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
        steps.push(("security", vec!["x224.", "nego."], line));
    }
    if let Some(t) = &r.tls {
        steps.push((
            "tls",
            vec!["tls."],
            format!("{} {} ({} ms)", t.version, t.cipher, t.ms),
        ));
    } else if r.findings.iter().any(|f| f.id.starts_with("tls.")) {
        steps.push(("tls", vec!["tls."], "failed".into()));
    }
    if let Some(c) = &r.certificate {
        steps.push((
            "certificate",
            vec!["cert."],
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
            vec!["gateway."],
            format!(
                "{} {:?} via {}{schemes} ({} ms)",
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
            (crate::native::failure::LoginStatus::Ok, Some(f)) => {
                format!(
                    "ok{how}: first frame after {} ms (session {} ms + {f} ms)",
                    l.ms,
                    l.connect_ms.unwrap_or(0)
                )
            }
            (crate::native::failure::LoginStatus::NotVerified, _) => {
                format!("not verified{how}: the session came up in {} ms", l.ms)
            }
            (s, _) => format!("{}{how} after {} ms", s.as_str(), l.ms),
        };
        steps.push(("login", vec!["auth.", "login.", "server."], detail));
    }
    for (name, prefixes, detail) in &steps {
        let (st, m) = mark(worst(prefixes));
        outln!(ui, "  {st}{m}{st:#} {name:<12}{detail}");
        for f in r
            .findings
            .iter()
            .filter(|f| prefixes.iter().any(|p| f.id.starts_with(p)))
        {
            let (fs, fm) = match f.severity {
                Severity::Error => (style::ERR, "✗"),
                Severity::Warning => (style::WARN, "!"),
                Severity::Info => (style::DIM, "·"),
            };
            outln!(ui, "      {fs}{fm}{fs:#} {}: {}", f.id, f.message);
            if let Some(fix) = &f.fix
                && f.severity > Severity::Info
            {
                outln!(ui, "        fix: {fix}");
            }
        }
    }
    for f in r.findings.iter().filter(|f| {
        !steps
            .iter()
            .any(|(_, p, _)| p.iter().any(|p| f.id.starts_with(p)))
    }) {
        let (fs, fm) = mark(Some(f.severity));
        outln!(ui, "  {fs}{fm}{fs:#} {}: {}", f.id, f.message);
        if let Some(fix) = &f.fix {
            outln!(ui, "        fix: {fix}");
        }
    }
}

fn summary(ui: &mut Ui, reports: &[Report]) {
    let b = style::BOLD;
    let w = reports
        .iter()
        .map(|r| r.target.chars().count())
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
            .map(|f| f.id.as_str())
            .unwrap_or("-");
        outln!(
            ui,
            "{:<w$}  {v:<8}  {:<24}  {:>6}  {top}",
            r.target,
            r.address.chosen.as_deref().unwrap_or("-"),
            r.ms
        );
    }
    let blocked = reports.iter().filter(|r| r.verdict == Verdict::Blocked).count();
    let _ = writeln!(ui.out, "{} checked, {blocked} blocked", reports.len());
}

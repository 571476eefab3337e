//! The measuring part of `bench/run`: runs the commands of a spec file N times, interleaved, takes medians,
//! checks the targets and prints Markdown tables.
//!
//! Why not only hyperfine: hyperfine runs all runs of one command, then all of the next. On a shared 2-core
//! machine a background build that starts half-way would then slow one peer and not the other, and the ratios
//! (the figures the targets are about) would mean nothing. Here every round runs each command of a group once,
//! in a rotating order, so drifting load hits all peers alike. The harness also keeps each run's stdout, which
//! the fallback figures need (rdpl's JSON says when the winning candidate connected); hyperfine discards it.
//! `bench/run` still runs hyperfine on the same commands as a cross-check (`bench-harness hyperfine`).
//!
//! Spec file, one item per line, fields separated by whitespace (no quoting; `#` starts a comment line):
//! ```text
//! group GROUP RTT_MS TITLE...              a scenario; RTT_MS is the round trip its network adds
//! cmd GROUP LABEL KIND EXIT RESET PROG ARGS...
//!     KIND  wall: wall-clock only; rdpl: also parse rdpl's `check --json` (it must show a connected
//!           candidate and a TLS handshake) and record when the winning candidate connected (at_ms + ms),
//!           where it came from, and rdpl's own step timings
//!     EXIT  the exit code every run must have (a run with another code stops the benchmark)
//!     RESET a file deleted before every run (rdpl's state file, so the fallback is not a cached address), or -
//! stdin GROUP LABEL FILE                   the command reads FILE on standard input (else /dev/null): a
//!                                          password for a login, never on a command line
//! ratio GROUP NUM DEN MAX                  target: median(NUM) / median(DEN) <= MAX
//! connect GROUP LABEL LIMIT_MS EXTRA_MS    target: connected + EXTRA_MS <= LIMIT_MS (median; every run is
//!                                          counted too). EXTRA_MS is the handshake round trip the proxy can't add
//! ```
//!
//! Around every run the harness also reads the kernel's `TcpExtListenDrops` counter (/proc/net/netstat): SYNs
//! dropped because a listen queue was full, anywhere on the machine. A run that made the server drop one of
//! its SYNs waited for the 1 s SYN retransmission.
//!
//! Usage:
//! `bench-harness run --spec FILE --runs 30 --warmup 3 --out DIR` (writes DIR/results.json, prints Markdown);
//! `bench-harness hyperfine FILE.json...` (a Markdown table of hyperfine exports: medians and ratios).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Wall,
    Rdpl,
}

#[derive(Debug, Clone, Serialize)]
struct Cmd {
    group: String,
    label: String,
    kind: Kind,
    exit: i32,
    reset: Option<PathBuf>,
    stdin: Option<PathBuf>,
    argv: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Group {
    name: String,
    rtt_ms: f64,
    title: String,
}

#[derive(Debug, Clone, Serialize)]
enum Target {
    Ratio {
        group: String,
        num: String,
        den: String,
        max: f64,
    },
    Connect {
        group: String,
        label: String,
        limit_ms: f64,
        extra_ms: f64,
    },
}

#[derive(Debug, Default, Serialize)]
struct Spec {
    groups: Vec<Group>,
    cmds: Vec<Cmd>,
    targets: Vec<Target>,
}

fn parse_spec(text: &str) -> anyhow::Result<Spec> {
    let mut spec = Spec::default();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() || f[0].starts_with('#') {
            continue;
        }
        let bad = || format!("spec line {}: {line}", n + 1);
        match f[0] {
            "group" if f.len() >= 3 => spec.groups.push(Group {
                name: f[1].into(),
                rtt_ms: f[2].parse().with_context(bad)?,
                title: f[3..].join(" "),
            }),
            "cmd" if f.len() >= 7 => spec.cmds.push(Cmd {
                group: f[1].into(),
                label: f[2].into(),
                kind: match f[3] {
                    "wall" => Kind::Wall,
                    "rdpl" => Kind::Rdpl,
                    k => bail!("{}: unknown kind {k}", bad()),
                },
                exit: f[4].parse().with_context(bad)?,
                reset: (f[5] != "-").then(|| PathBuf::from(f[5])),
                stdin: None,
                argv: f[6..].iter().map(|s| (*s).to_owned()).collect(),
            }),
            "stdin" if f.len() == 4 => {
                let c = spec
                    .cmds
                    .iter_mut()
                    .find(|c| c.group == f[1] && c.label == f[2])
                    .with_context(|| {
                        format!("{}: no such command (stdin must follow its cmd line)", bad())
                    })?;
                c.stdin = Some(PathBuf::from(f[3]));
            }
            "ratio" if f.len() == 5 => spec.targets.push(Target::Ratio {
                group: f[1].into(),
                num: f[2].into(),
                den: f[3].into(),
                max: f[4].parse().with_context(bad)?,
            }),
            "connect" if f.len() == 4 || f.len() == 5 => spec.targets.push(Target::Connect {
                group: f[1].into(),
                label: f[2].into(),
                limit_ms: f[3].parse().with_context(bad)?,
                extra_ms: f.get(4).map_or(Ok(0.0), |s| s.parse()).with_context(bad)?,
            }),
            _ => bail!("{}: not understood", bad()),
        }
    }
    for c in &spec.cmds {
        if !spec.groups.iter().any(|g| g.name == c.group) {
            bail!("command {} names an undeclared group {}", c.label, c.group);
        }
    }
    Ok(spec)
}

/// One run of one command.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    wall_ms: f64,
    /// SYNs dropped by full listen queues on this machine during the run.
    listen_drops: Option<u64>,
    /// rdpl: when the winning candidate connected, from the race start (at_ms + ms).
    connected_ms: Option<f64>,
    /// rdpl: when the winning candidate's attempt started.
    started_ms: Option<f64>,
    /// rdpl: `address.via`.
    via: Option<String>,
    /// rdpl: `dns.status`.
    dns_status: Option<String>,
    /// rdpl: its own `ms` for the whole check (inside the process).
    report_ms: Option<f64>,
    /// rdpl: `security.ms` (the X.224 exchange on the winning connection).
    x224_ms: Option<f64>,
    /// rdpl: `tls.ms`.
    tls_ms: Option<f64>,
}

/// `TcpExt: ... ListenDrops ...` from /proc/net/netstat (None where there is no such file).
fn listen_drops() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let i = names.split_whitespace().position(|n| n == "ListenDrops")?;
    values.split_whitespace().nth(i)?.parse().ok()
}

fn run_once(c: &Cmd) -> anyhow::Result<Sample> {
    if let Some(r) = &c.reset {
        match std::fs::remove_file(r) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("delete {}", r.display())),
        }
    }
    let drops_before = listen_drops();
    let start = Instant::now();
    let stdin = match &c.stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).with_context(|| format!("open {}", f.display()))?),
        None => Stdio::null(),
    };
    let out = Command::new(&c.argv[0])
        .args(&c.argv[1..])
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("run {}", c.argv.join(" ")))?;
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let listen_drops = drops_before.zip(listen_drops()).map(|(a, b)| b.saturating_sub(a));
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if code != c.exit {
        bail!(
            "{} / {}: exit code {code}, expected {}\n$ {}\n{stdout}{}",
            c.group,
            c.label,
            c.exit,
            c.argv.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut s = Sample {
        wall_ms,
        listen_drops,
        connected_ms: None,
        started_ms: None,
        via: None,
        dns_status: None,
        report_ms: None,
        x224_ms: None,
        tls_ms: None,
    };
    if c.kind == Kind::Rdpl {
        let v: Value = serde_json::from_str(&stdout)
            .with_context(|| format!("{} / {}: stdout is not JSON:\n{stdout}", c.group, c.label))?;
        let winner = v["address"]["candidates"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["result"] == "connected"))
            .with_context(|| format!("{} / {}: no candidate connected:\n{stdout}", c.group, c.label))?;
        if v["tls"].is_null() {
            bail!(
                "{} / {}: no TLS handshake in the report:\n{stdout}",
                c.group,
                c.label
            );
        }
        let at = winner["at_ms"].as_f64().context("at_ms")?;
        let ms = winner["ms"].as_f64().context("ms")?;
        s.started_ms = Some(at);
        s.connected_ms = Some(at + ms);
        s.via = v["address"]["via"].as_str().map(str::to_owned);
        s.dns_status = v["dns"]["status"].as_str().map(str::to_owned);
        s.report_ms = v["ms"].as_f64();
        s.x224_ms = v["security"]["ms"].as_f64();
        s.tls_ms = v["tls"]["ms"].as_f64();
    }
    Ok(s)
}

fn sorted(v: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = v.into_iter().collect();
    v.sort_by(f64::total_cmp);
    v
}

fn median(v: &[f64]) -> f64 {
    let v = sorted(v.iter().copied());
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile.
fn pct(v: &[f64], p: f64) -> f64 {
    let v = sorted(v.iter().copied());
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

fn fmt_ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

#[derive(Debug, Serialize)]
struct Results {
    runs: usize,
    warmup: usize,
    spec: Spec,
    /// group -> label -> samples
    samples: BTreeMap<String, BTreeMap<String, Vec<Sample>>>,
}

impl Results {
    fn walls(&self, group: &str, label: &str) -> Option<Vec<f64>> {
        self.samples
            .get(group)?
            .get(label)
            .map(|s| s.iter().map(|x| x.wall_ms).collect())
    }
}

fn run_benchmark(spec: Spec, runs: usize, warmup: usize, out_dir: &Path) -> anyhow::Result<String> {
    let mut err = std::io::stderr();
    let mut samples: BTreeMap<String, BTreeMap<String, Vec<Sample>>> = BTreeMap::new();
    for g in &spec.groups {
        let cmds: Vec<&Cmd> = spec.cmds.iter().filter(|c| c.group == g.name).collect();
        let _ = writeln!(
            err,
            "== {}: {} commands x ({warmup} warm-up + {runs}) runs, interleaved",
            g.name,
            cmds.len()
        );
        for _ in 0..warmup {
            for c in &cmds {
                run_once(c)?;
            }
        }
        let per = samples.entry(g.name.clone()).or_default();
        for round in 0..runs {
            for k in 0..cmds.len() {
                let c = cmds[(round + k) % cmds.len()];
                let s = run_once(c)?;
                per.entry(c.label.clone()).or_default().push(s);
            }
            let _ = write!(err, "\r   round {}/{runs}", round + 1);
        }
        let _ = writeln!(err);
    }
    let results = Results {
        runs,
        warmup,
        spec,
        samples,
    };
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    Ok(report(&results))
}

fn title_of<'a>(spec: &'a Spec, group: &'a str) -> &'a str {
    spec.groups
        .iter()
        .find(|g| g.name == group)
        .map_or(group, |g| g.title.as_str())
}

/// The median of the values `f` gives, formatted ("–" when there are none).
fn med_of(s: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> String {
    let v: Vec<f64> = s.iter().filter_map(f).collect();
    if v.is_empty() {
        "–".into()
    } else {
        fmt_ms(median(&v))
    }
}

/// Listen-queue drops per run, as a mean ("–" when unknown).
fn drops_of(s: &[Sample]) -> String {
    let v: Vec<u64> = s.iter().filter_map(|x| x.listen_drops).collect();
    if v.is_empty() {
        return "–".into();
    }
    format!("{:.1}", v.iter().sum::<u64>() as f64 / v.len() as f64)
}

fn report(r: &Results) -> String {
    let mut md = String::new();
    let spec = &r.spec;
    let samples = |c: &Cmd| r.samples.get(&c.group).and_then(|g| g.get(&c.label));

    // Wall-clock: every command of every group, with ratios to the group's minimal-probe and nmap.
    let _ = writeln!(
        md,
        "### Wall-clock, {} runs per command (after {} warm-up), interleaved\n",
        r.runs, r.warmup
    );
    let _ = writeln!(
        md,
        "| scenario | command | median ms | p10 – p90 ms | vs minimal-probe | vs nmap | SYNs dropped per run |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|");
    for g in &spec.groups {
        for c in spec.cmds.iter().filter(|c| c.group == g.name) {
            let (Some(w), Some(s)) = (r.walls(&g.name, &c.label), samples(c)) else {
                continue;
            };
            let m = median(&w);
            let ratio = |peer: &str| {
                if peer == c.label {
                    return "1".to_owned();
                }
                r.walls(&g.name, peer)
                    .map(|p| format!("{:.2}x", m / median(&p)))
                    .unwrap_or_else(|| "–".into())
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} – {} | {} | {} | {} |",
                g.title,
                c.label,
                fmt_ms(m),
                fmt_ms(pct(&w, 10.0)),
                fmt_ms(pct(&w, 90.0)),
                ratio("minimal"),
                ratio("nmap"),
                drops_of(s),
            );
        }
    }

    // Where rdpl's time goes, from its own JSON.
    let rdpl: Vec<&Cmd> = spec.cmds.iter().filter(|c| c.kind == Kind::Rdpl).collect();
    if !rdpl.is_empty() {
        let _ = writeln!(
            md,
            "\n### rdpl's own timings (medians, ms; `check` = the report's `ms`, outside = wall - check)\n"
        );
        let _ = writeln!(
            md,
            "| scenario | wall | check | outside check | connected at | X.224 | TLS |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
        for c in &rdpl {
            let Some(s) = samples(c) else { continue };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                title_of(spec, &c.group),
                med_of(s, |x| Some(x.wall_ms)),
                med_of(s, |x| x.report_ms),
                med_of(s, |x| x.report_ms.map(|m| x.wall_ms - m)),
                med_of(s, |x| x.connected_ms),
                med_of(s, |x| x.x224_ms),
                med_of(s, |x| x.tls_ms),
            );
        }
    }

    // Fallbacks: the groups with a connect target.
    let fallbacks: Vec<(&Cmd, f64, f64)> = spec
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::Connect {
                group,
                label,
                limit_ms,
                extra_ms,
            } => spec
                .cmds
                .iter()
                .find(|c| &c.group == group && &c.label == label)
                .map(|c| (c, *limit_ms, *extra_ms)),
            Target::Ratio { .. } => None,
        })
        .collect();
    if !fallbacks.is_empty() {
        let _ = writeln!(
            md,
            "\n### Fallback: when the winning candidate connected (rdpl's JSON: at_ms + ms, from the race start)\n"
        );
        let _ = writeln!(
            md,
            "| scenario | dns status | via | attempt started | connected median | connected max | target | whole check, wall |"
        );
        let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|---:|");
        for (c, limit, extra) in &fallbacks {
            let Some(s) = samples(c) else { continue };
            let distinct = |f: fn(&Sample) -> Option<String>| {
                let mut v: Vec<String> = s.iter().filter_map(f).collect();
                v.sort();
                v.dedup();
                v.join(", ")
            };
            let conn: Vec<f64> = s.iter().filter_map(|x| x.connected_ms).collect();
            let target = if *extra > 0.0 {
                format!("<= {} (+{extra:.0} handshake)", limit - extra)
            } else {
                format!("<= {limit:.0}")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {target} | {} |",
                title_of(spec, &c.group),
                distinct(|x| x.dns_status.clone()),
                distinct(|x| x.via.clone()),
                med_of(s, |x| x.started_ms),
                fmt_ms(median(&conn)),
                fmt_ms(pct(&conn, 100.0)),
                med_of(s, |x| Some(x.wall_ms)),
            );
        }
    }

    // Targets.
    let _ = writeln!(md, "\n### Targets\n");
    let _ = writeln!(md, "| target | measured | met |");
    let _ = writeln!(md, "|---|---|---|");
    for t in &spec.targets {
        match t {
            Target::Ratio { group, num, den, max } => {
                let (Some(a), Some(b)) = (r.walls(group, num), r.walls(group, den)) else {
                    continue;
                };
                let ratio = median(&a) / median(&b);
                let _ = writeln!(
                    md,
                    "| {}: {num} <= {max}x {den} | {ratio:.2}x ({} / {} ms) | {} |",
                    title_of(spec, group),
                    fmt_ms(median(&a)),
                    fmt_ms(median(&b)),
                    if ratio <= *max { "yes" } else { "**no**" }
                );
            }
            Target::Connect {
                group,
                label,
                limit_ms,
                extra_ms,
            } => {
                let Some(s) = r.samples.get(group).and_then(|g| g.get(label)) else {
                    continue;
                };
                let conn: Vec<f64> = s.iter().filter_map(|x| x.connected_ms).collect();
                let m = median(&conn) + extra_ms;
                let within = conn.iter().filter(|x| **x + extra_ms <= *limit_ms).count();
                let extra = if *extra_ms > 0.0 {
                    format!(" + {extra_ms:.0} (handshake RTT the proxy can't add)")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {}: fallback connected <= {limit_ms:.0} ms | {} ms{extra} = {} ms (median); {within}/{} runs within | {} |",
                    title_of(spec, group),
                    fmt_ms(median(&conn)),
                    fmt_ms(m),
                    conn.len(),
                    if m <= *limit_ms { "yes" } else { "**no**" }
                );
            }
        }
    }
    md
}

/// A table of hyperfine `--export-json` files: one row per command with its median and the ratios to the
/// commands named `minimal` and `nmap` in the same file.
fn hyperfine_table(files: &[String]) -> anyhow::Result<String> {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| file | command | runs | median ms | vs minimal-probe | vs nmap |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|");
    for f in files {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(f).with_context(|| format!("read {f}"))?)
                .with_context(|| format!("{f} is not JSON"))?;
        let rows: Vec<(String, f64, usize)> = v["results"]
            .as_array()
            .context("no results")?
            .iter()
            .map(|r| {
                let times: Vec<f64> = r["times"]
                    .as_array()
                    .map(|t| t.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                (
                    r["command"].as_str().unwrap_or("?").to_owned(),
                    median(&times) * 1000.0,
                    times.len(),
                )
            })
            .collect();
        let find = |name: &str| rows.iter().find(|r| r.0 == name).map(|r| r.1);
        let name = Path::new(f)
            .file_stem()
            .map_or_else(|| f.clone(), |s| s.to_string_lossy().into_owned());
        for (cmd, m, n) in &rows {
            let ratio = |peer: &str| match find(peer) {
                Some(_) if peer == cmd => "1".to_owned(),
                Some(p) => format!("{:.2}x", m / p),
                None => "–".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {name} | {cmd} | {n} | {} | {} | {} |",
                fmt_ms(*m),
                ratio("minimal"),
                ratio("nmap")
            );
        }
    }
    Ok(md)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let md = match args.first().map(String::as_str) {
        Some("run") => {
            let mut spec = None;
            let mut runs = 30usize;
            let mut warmup = 3usize;
            let mut out = PathBuf::from("bench-results");
            let mut it = args[1..].iter();
            while let Some(flag) = it.next() {
                let value = it.next().with_context(|| format!("{flag} needs a value"))?;
                match flag.as_str() {
                    "--spec" => spec = Some(PathBuf::from(value)),
                    "--runs" => runs = value.parse().context("--runs")?,
                    "--warmup" => warmup = value.parse().context("--warmup")?,
                    "--out" => out = PathBuf::from(value),
                    _ => bail!("unknown option {flag}"),
                }
            }
            let spec = spec.context("--spec FILE is required")?;
            let text = std::fs::read_to_string(&spec).with_context(|| format!("read {}", spec.display()))?;
            run_benchmark(parse_spec(&text)?, runs.max(1), warmup, &out)?
        }
        Some("hyperfine") => hyperfine_table(&args[1..])?,
        _ => bail!(
            "usage: bench-harness run --spec FILE [--runs N] [--warmup N] [--out DIR] | bench-harness hyperfine FILE.json..."
        ),
    };
    let mut out = std::io::stdout();
    out.write_all(md.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(pct(&v, 10.0), 1.0);
        assert_eq!(pct(&v, 90.0), 9.0);
        assert_eq!(pct(&v, 100.0), 10.0);
    }

    #[test]
    fn parses_a_spec() {
        let s = parse_spec(
            "# comment\ngroup lo 0 loopback, TLS\ncmd lo rdpl rdpl 0 /tmp/s /bin/rdpl check x --json\n\
             ratio lo rdpl minimal 1.3\nconnect lo rdpl 300 50\n",
        )
        .expect("parses");
        assert_eq!(s.groups[0].title, "loopback, TLS");
        assert_eq!(s.cmds[0].argv, ["/bin/rdpl", "check", "x", "--json"]);
        assert_eq!(s.cmds[0].reset.as_deref(), Some(Path::new("/tmp/s")));
        assert_eq!(s.targets.len(), 2);
        assert!(parse_spec("cmd nogroup a wall 0 - /bin/true").is_err());
    }
}

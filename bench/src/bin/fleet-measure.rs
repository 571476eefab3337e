//! Runs one command for `bench/fleet` (issue 7) and measures it: wall time, peak memory and the most sockets
//! it had open at once.
//!
//! The command runs under GNU time (`/usr/bin/time -f %M`), whose max RSS comes from `wait4` (for a command
//! that starts others, e.g. `xargs -P`, it is the largest single process). Beside it, every `--interval-ms`
//! (default 2) the harness walks the process tree below GNU time through `/proc/PID/task/TID/children` and
//! reads, for each process, `VmRSS` from `/proc/PID/status` and the `socket:[...]` links in `/proc/PID/fd`;
//! it keeps the maxima of the sums over the tree (memory of all processes alive at once, sockets open at once)
//! and of the process count. A socket that lives shorter than the interval can be missed (rdpl's sockets of
//! one target live for at least one X.224 exchange, and the bound it is compared with is jobs x 4).
//!
//! Usage: `fleet-measure --label L --stdout FILE [--interval-ms N] -- CMD ARGS...`. Prints one JSON object on
//! one line: `{"label":..,"exit":..,"wall_ms":..,"max_rss_kib":..,"tree_rss_kib":..,"max_sockets":..,
//! "max_fds":..,"max_procs":..,"samples":..}`. The command's stdout goes to FILE, its stderr to FILE.err.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Pids of `root`'s descendants (not `root` itself).
fn descendants(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    let mut seen = BTreeSet::new();
    while let Some(pid) = todo.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let Ok(children) = fs::read_to_string(t.path().join("children")) else {
                continue;
            };
            for c in children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()) {
                if seen.insert(c) {
                    out.push(c);
                    todo.push(c);
                }
            }
        }
    }
    out
}

/// (VmRSS KiB, open fds, of which sockets) of one process; None when it is gone.
fn usage(pid: u32) -> Option<(u64, u64, u64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let (mut fds, mut sockets) = (0, 0);
    for e in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        fds += 1;
        if fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:")) {
            sockets += 1;
        }
    }
    Some((rss, fds, sockets))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args
        .iter()
        .position(|a| a == "--")
        .context("usage: fleet-measure ... -- CMD ARGS...")?;
    let (opts, cmd) = (&args[..split], &args[split + 1..]);
    if cmd.is_empty() {
        bail!("no command after --");
    }
    let (mut label, mut stdout, mut interval) = (String::new(), None, Duration::from_millis(2));
    let mut it = opts.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--label" => label.clone_from(value),
            "--stdout" => stdout = Some(value.clone()),
            "--interval-ms" => interval = Duration::from_millis(value.parse().context("--interval-ms")?),
            _ => bail!("unknown option {flag}"),
        }
    }
    let stdout = stdout.context("--stdout FILE is required")?;
    let rss_file = format!("{stdout}.rss");
    let start = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o", &rss_file])
        .args(cmd)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout).with_context(|| format!("create {stdout}"))?)
        .stderr(fs::File::create(format!("{stdout}.err"))?)
        .spawn()
        .context("run /usr/bin/time")?;
    let root = child.id();
    let (mut tree_rss, mut max_sockets, mut max_fds, mut max_procs, mut samples) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        let pids = descendants(root);
        let (mut rss, mut fds, mut sockets) = (0, 0, 0);
        for p in &pids {
            if let Some((r, f, s)) = usage(*p) {
                rss += r;
                fds += f;
                sockets += s;
            }
        }
        tree_rss = tree_rss.max(rss);
        max_fds = max_fds.max(fds);
        max_sockets = max_sockets.max(sockets);
        max_procs = max_procs.max(pids.len() as u64);
        samples += 1;
        std::thread::sleep(interval);
    };
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let max_rss: u64 = fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last()?.trim().parse().ok())
        .unwrap_or(0);
    // GNU time reports the command's exit code as its own; a command killed by a signal shows as 128+N.
    let exit = status.code().unwrap_or(-1);
    let line = serde_json::json!({
        "label": label,
        "exit": exit,
        "wall_ms": (wall_ms * 10.0).round() / 10.0,
        "max_rss_kib": max_rss,
        "tree_rss_kib": tree_rss,
        "max_sockets": max_sockets,
        "max_fds": max_fds,
        "max_procs": max_procs,
        "samples": samples,
    });
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}

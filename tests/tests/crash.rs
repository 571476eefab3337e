//! Crash safety: rdpl is SIGKILLed at random points while it writes profiles and pins, 200 times. After every
//! kill each file in the config dir is byte for byte the old version or the new one (never empty, never
//! partial), stale temporary files are never taken for profiles, and the config lock is free again.
//!
//! The kill delay is random in 0..N ms (half of them uniform, half in the last 45 %, where the write is), N
//! being 1.25 × the median of unkilled runs of the same command, so kills land before, during and after the
//! write. "During" is proven by the temporary file a killed write leaves behind
//! (`.tmp-*`, see `rdpl_profiles::files::write_atomic`). The seed is printed; `RDPL_CRASH_SEED=N` replays it.

#![allow(
    clippy::print_stderr,
    reason = "the test prints its seed and its tally, where cargo test shows them"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::preflight::{der, tls_rdp_server};
use crate::support::{self, certs};
use crate::{Run, World};

const KILLS: usize = 200;

/// splitmix64: a small seeded generator, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..max` microseconds.
    fn below(&mut self, max: Duration) -> Duration {
        let us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(self.next() % us)
    }
}

/// Every regular file under the config dir (relative path → bytes), temp files included.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::connect::files_under(dir)
        .into_iter()
        .map(|(p, b)| (p.strip_prefix(dir).expect("under the dir").to_path_buf(), b))
        .collect()
}

fn is_temp(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".tmp"))
}

/// The config dir's files that are data (not the lock, not temp files).
fn data(s: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeMap<PathBuf, Vec<u8>> {
    s.iter()
        .filter(|(p, _)| !is_temp(p) && p.as_os_str() != ".lock")
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

fn temps(s: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeSet<PathBuf> {
    s.keys().filter(|p| is_temp(p)).cloned().collect()
}

/// Whether `<config>/.lock` can be locked right now (nobody holds it).
fn lock_is_free(config: &Path) -> bool {
    use std::os::fd::AsRawFd as _;
    let Ok(f) = std::fs::File::open(config.join(".lock")) else {
        return true;
    };
    // SAFETY: flock on a descriptor we own, which stays open for the call.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Runs to the end with a deadline, so a lock left held fails the test instead of hanging it.
#[track_caller]
fn run_within(mut c: Command, limit: Duration) -> Run {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().expect("spawn rdpl");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread drains the pipes (a large `--json` output would otherwise block the child).
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(out) => Run(out.expect("wait")),
        Err(_) => {
            // SAFETY: kill(2) on our own child, which is not reaped yet (its waiter is still blocked).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("rdpl hung for {limit:?} (a config lock left held?)");
        }
    }
}

/// What one command changes, and how to tell its new version of the changed file.
#[derive(Clone)]
enum Op {
    /// `profile add NAME ...`: the file appears with exactly `bytes`.
    Add { name: String },
    /// `profile set big fallback=LIST`: the file becomes `expected`.
    Set { list: usize },
    /// `pin accept TARGET`: pins.toml gains TARGET's pin.
    Accept,
    /// `pin forget TARGET`: pins.toml loses it.
    Forget,
}

struct Bench {
    w: World,
    /// Two long fallback lists (about 90 KB of TOML each), so a `profile set` write takes measurable time.
    lists: [String; 2],
    /// The profile file each list gives, from unkilled runs.
    set_bytes: [Vec<u8>; 2],
    /// The file `profile add` writes (every added profile is the same apart from its name).
    add_bytes: Vec<u8>,
    /// The pinned and toggled targets, and the certificate SHA-256 of the toggled one.
    fixed: String,
    toggled: String,
    toggled_sha: String,
}

impl Bench {
    fn args(&self, op: &Op) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match op {
            Op::Add { name } => s(&[
                "profile", "add", name, "--host", "add.test", "--user", "bob", "--nla", "on",
            ]),
            Op::Set { list } => s(&[
                "profile",
                "set",
                "big",
                &format!("fallback={}", self.lists[*list]),
            ]),
            Op::Accept => s(&["pin", "accept", &self.toggled, "--timeout", "5s"]),
            Op::Forget => s(&["pin", "forget", &self.toggled]),
        }
    }

    fn cmd(&self, op: &Op) -> Command {
        let args = self.args(op);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut c = self.w.cmd(&refs);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    /// The pins rdpl reads back (`pin list --json`): key → sha256.
    fn pins(&self) -> BTreeMap<String, String> {
        let v = run_within(self.w.cmd(&["pin", "list", "--json"]), Duration::from_secs(10))
            .expect(0)
            .json();
        v["pins"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, p)| (k.clone(), p["sha256"].as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `after` is the new version of `path` for `op`, given the `before` snapshot. Panics on a file
    /// that is neither old nor new.
    #[track_caller]
    fn judge(&self, op: &Op, path: &Path, before: Option<&Vec<u8>>, after: Option<&Vec<u8>>) -> bool {
        if before == after {
            return false;
        }
        let what = format!(
            "{} after a kill during `rdpl {}` ({} → {} bytes)",
            path.display(),
            self.args(op).join(" ").chars().take(80).collect::<String>(),
            before.map_or(0, Vec::len),
            after.map_or(0, Vec::len),
        );
        let after = after.unwrap_or_else(|| panic!("{what}: the file vanished"));
        assert!(!after.is_empty(), "{what}: the file is empty");
        match op {
            Op::Add { name } => {
                assert_eq!(path, Path::new("profiles").join(format!("{name}.toml")), "{what}");
                assert!(before.is_none(), "{what}: add changed an existing file");
                assert_eq!(after, &self.add_bytes, "{what}: not the file add writes");
            }
            Op::Set { list } => {
                assert_eq!(path, Path::new("profiles/big.toml"), "{what}");
                assert_eq!(after, &self.set_bytes[*list], "{what}: neither old nor new");
            }
            Op::Accept | Op::Forget => {
                assert_eq!(path, Path::new("pins.toml"), "{what}");
                // Timestamps make the new bytes unpredictable: rdpl must read it back with the change made.
                let text = String::from_utf8(after.clone()).unwrap_or_else(|_| panic!("{what}: not UTF-8"));
                assert!(text.ends_with('\n'), "{what}: truncated:\n{text}");
                let pins = self.pins();
                assert!(
                    pins.contains_key(&self.fixed),
                    "{what}: the other pin was lost: {pins:?}"
                );
                match op {
                    Op::Accept => assert_eq!(
                        pins.get(&self.toggled),
                        Some(&self.toggled_sha),
                        "{what}: {pins:?}"
                    ),
                    _ => assert!(!pins.contains_key(&self.toggled), "{what}: {pins:?}"),
                }
            }
        }
        true
    }
}

/// Median wall time of `n` unkilled runs of `ops` (each must succeed).
fn calibrate(b: &Bench, ops: &[Op]) -> Duration {
    let times: Vec<Duration> = ops
        .iter()
        .map(|op| {
            let start = Instant::now();
            let status = b.cmd(op).status().expect("run rdpl");
            let t = start.elapsed();
            assert!(status.success(), "calibration run {op:?} failed", op = b.args(op));
            t
        })
        .collect();
    calibrate_median(times)
}

fn calibrate_median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn sigkill_during_profile_and_pin_writes_leaves_old_or_new_never_partial() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let seed = std::env::var("RDPL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("crash test seed: {seed} (RDPL_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let test_start = Instant::now();

    // Two TLS servers: one pin stays put, the other is accepted and forgotten in turn.
    let (cert_a, cert_b) = (
        certs::self_signed(&["127.0.0.1"]),
        certs::self_signed(&["127.0.0.1"]),
    );
    let server_a = tls_rdp_server(vec![der(&cert_a)], cert_a.key_pem());
    let server_b = tls_rdp_server(vec![der(&cert_b)], cert_b.key_pem());
    let w = World::new();
    let config = w.config();
    let list = |tag: &str| {
        (0..5000)
            .map(|i| format!("{tag}{i:04}.corp.test"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut b = Bench {
        w,
        lists: [list("fa"), list("fb")],
        set_bytes: [Vec::new(), Vec::new()],
        add_bytes: Vec::new(),
        fixed: server_a.addr.to_string(),
        toggled: server_b.addr.to_string(),
        toggled_sha: String::new(),
    };

    // The new versions, from unkilled runs.
    b.w.run(&["profile", "add", "big", "--host", "big.test"])
        .expect(0);
    let big = config.join("profiles/big.toml");
    for i in [0, 1] {
        run_within(b.cmd(&Op::Set { list: i }), Duration::from_secs(20)).expect(0);
        b.set_bytes[i] = std::fs::read(&big).expect("big.toml");
    }
    assert_ne!(b.set_bytes[0], b.set_bytes[1]);
    assert!(
        b.set_bytes[0].len() > 80_000,
        "a large file: {}",
        b.set_bytes[0].len()
    );
    run_within(b.cmd(&Op::Add { name: "ref".into() }), Duration::from_secs(20)).expect(0);
    b.add_bytes = std::fs::read(config.join("profiles/ref.toml")).expect("ref.toml");
    b.w.run(&["pin", "accept", &b.fixed.clone()]).expect(0);
    b.w.run(&["pin", "accept", &b.toggled.clone()]).expect(0);
    b.toggled_sha = b.pins().get(&b.toggled).cloned().expect("pinned");
    // A stale temp file from an earlier crash, for sure (the kills below may add more): half a profile.
    let half = &b.set_bytes[0][..b.set_bytes[0].len() / 2];
    std::fs::write(config.join("profiles/.tmp-planted"), half).expect("plant");
    std::fs::write(config.join("profiles/.tmp-planted.toml"), half).expect("plant");

    // How long each kind of write takes unkilled (these runs are transitions too: the state stays known).
    let limit_set = calibrate(&b, &[0, 1, 0, 1, 0].map(|list| Op::Set { list })) * 5 / 4;
    let limit_add = calibrate(
        &b,
        &(0..5)
            .map(|i| Op::Add {
                name: format!("cal{i}"),
            })
            .collect::<Vec<_>>(),
    ) * 5
        / 4;
    let (mut forgets, mut accepts) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        forgets.push(calibrate(&b, &[Op::Forget]));
        accepts.push(calibrate(&b, &[Op::Accept]));
    }
    // Ends pinned; the median of each.
    let (limit_forget, limit_accept) = (
        calibrate_median(forgets) * 5 / 4,
        calibrate_median(accepts) * 5 / 4,
    );
    eprintln!(
        "kill delays: profile set 0..{limit_set:?}, profile add 0..{limit_add:?}, pin accept 0..{limit_accept:?}, pin forget 0..{limit_forget:?}"
    );

    // Tally: (kind, outcome) → count.
    let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut big_list = 0; // the last calibration set list 0
    let mut profiles_expected: BTreeSet<String> = ["big", "ref", "cal0", "cal1", "cal2", "cal3", "cal4"]
        .map(str::to_owned)
        .into();
    let mut pinned = true; // the last calibration accepted it
    for i in 0..KILLS {
        let (op, limit, kind) = match i % 3 {
            0 => (Op::Set { list: 1 - big_list }, limit_set, "profile set"),
            1 => (
                Op::Add {
                    name: format!("n{i:03}"),
                },
                limit_add,
                "profile add",
            ),
            _ if pinned => (Op::Forget, limit_forget, "pin forget"),
            _ => (Op::Accept, limit_accept, "pin accept"),
        };
        let before = snapshot(&config);
        // Half the kills anywhere in 0..N, half in the last stretch (from 0.55 N), where the write is:
        // start-up and parsing take most of a run, the write only its last milliseconds.
        let delay = if rng.next().is_multiple_of(2) {
            rng.below(limit)
        } else {
            limit * 11 / 20 + rng.below(limit * 9 / 20)
        };
        let mut child = b.cmd(&op).spawn().expect("spawn rdpl");
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let killed = status.signal() == Some(libc::SIGKILL);
        assert!(
            killed || status.success(),
            "run {i} ({kind}) failed by itself: {status:?}"
        );
        assert!(
            lock_is_free(&config),
            "run {i}: the config lock is still held after the kill"
        );

        let after = snapshot(&config);
        let (old, new) = (data(&before), data(&after));
        let paths: BTreeSet<&PathBuf> = old.keys().chain(new.keys()).collect();
        let mut changed = 0;
        for p in paths {
            if b.judge(&op, p, old.get(p), new.get(p)) {
                changed += 1;
            }
        }
        assert!(changed <= 1, "run {i}: {changed} files changed by one command");
        let new_temps = temps(&after).difference(&temps(&before)).count();
        let outcome = match (changed, new_temps, killed) {
            (0, 0, _) => "old (killed before the write)",
            (0, _, _) => "old + temp file (killed mid-write)",
            (_, 0, true) => "new (killed after the rename)",
            (_, 0, false) => "new (finished)",
            (_, _, _) => panic!("run {i}: a temp file left behind by a write that completed"),
        };
        *tally.entry((kind, outcome)).or_default() += 1;
        if changed == 1 {
            match op {
                Op::Set { list } => big_list = list,
                Op::Add { name } => {
                    profiles_expected.insert(name);
                }
                Op::Accept => pinned = true,
                Op::Forget => pinned = false,
            }
        }
    }

    eprintln!("{KILLS} kills in {:?}:", test_start.elapsed());
    for ((kind, outcome), n) in &tally {
        eprintln!("  {kind:<12} {outcome:<36} {n}");
    }
    let count = |f: &dyn Fn(&str) -> bool| {
        tally
            .iter()
            .filter(|((_, o), _)| f(o))
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    let (before_write, mid_write, after_write) = (
        count(&|o| o.starts_with("old (")),
        count(&|o| o.contains("mid-write")),
        count(&|o| o.starts_with("new")),
    );
    assert!(
        before_write > 0 && mid_write > 0 && after_write > 0,
        "kills landed before ({before_write}), during ({mid_write}) and after ({after_write}) the write \
         (seed {seed})"
    );

    // Stale temp files are not profiles; the lock is free for a real write; everything reads back.
    let left = temps(&snapshot(&config));
    let list = run_within(b.w.cmd(&["profile", "list", "--json"]), Duration::from_secs(10));
    let v = list.expect(0).json();
    let names: BTreeSet<String> = v["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(
        names,
        profiles_expected,
        "{} temp files left: {left:?}",
        left.len()
    );
    assert_eq!(v["errors"], Value::Array(vec![]), "{v}");
    let big_json = run_within(
        b.w.cmd(&["profile", "show", "big", "--json"]),
        Duration::from_secs(10),
    )
    .expect(0)
    .json();
    assert_eq!(
        big_json["profile"]["fallback"].as_array().map(Vec::len),
        Some(5000)
    );
    run_within(
        b.w.cmd(&["profile", "set", "big", "user=after"]),
        Duration::from_secs(10),
    )
    .expect(0);
    run_within(
        b.w.cmd(&["profile", "add", "last", "--host", "last.test"]),
        Duration::from_secs(10),
    )
    .expect(0);
    let pins = b.pins();
    assert_eq!(pins.contains_key(&b.toggled), pinned, "{pins:?}");
    assert!(pins.contains_key(&b.fixed));
}

//! Secrets: one recognizable password goes through the whole pipeline (import, `creds set` into a real Secret
//! Service, `check --login` and `doctor --login` against the NLA shadow server, `connect` with a fake
//! xfreerdp, `creds clear`, all at `-vvv`), and then it is looked for everywhere: every file rdpl wrote, all
//! output and logs, every child's argv and environment, and the memory of a live `rdpl connect` that holds
//! it (a core taken with gcore, then the run is aborted). Also: what rdpl writes is owner-only.
//!
//! `RDPL_KEEP_CORE=PATH` keeps each core as `PATH.<pid>`, to look at a finding with gdb.

#![allow(
    clippy::print_stderr,
    reason = "the core scan reports what it looked at, where cargo test shows it"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::connect::{Fakes, children, contains, files_under, run_with_stdin, with_env};
use crate::support::{self, SecretService, Shadow};
use crate::{Run, World};

/// A password that is recognizable and unique to this run.
fn password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("rdpl-Secret-{:08x}{:08x}", std::process::id(), nanos)
}

/// Byte offsets of `needle` in `hay`.
fn offsets(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(&first) = needle.first() else {
        return out;
    };
    let mut i = 0;
    while let Some(pos) = hay[i..].iter().position(|&b| b == first) {
        let at = i + pos;
        if hay[at..].starts_with(needle) {
            out.push(at);
        }
        i = at + 1;
    }
    out
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(p)
        .expect("metadata")
        .permissions()
        .mode()
}

/// Every file and directory under `dir` (not `dir` itself).
fn entries_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if p.is_dir() {
            out.extend(entries_under(&p));
        }
    }
    out
}

/// Waits until `path` exists (a fake client recorded its stdin).
fn wait_for(path: impl Fn() -> Option<PathBuf>, limit: Duration) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Some(p) = path() {
            return p;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_password_used_by_the_whole_pipeline_appears_nowhere_and_what_rdpl_writes_is_owner_only() {
    let mut needs = Shadow::NEEDS.to_vec();
    needs.extend(SecretService::NEEDS);
    // gcore ships with gdb (`apt-get install --no-install-recommends gdb`).
    needs.push("gcore");
    needs.extend(crate::connect::PassStore::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let secret = password();
    let user = format!("sec-{}", std::process::id());
    let shadow = Shadow::builder().user(&user, &secret).start();
    let ss = SecretService::start();
    let env = ss.env();
    let w = World::new();
    // FreeRDP 2 and 3 side by side: `--with xfreerdp` takes 3, a path takes exactly that program.
    let fakes = Fakes::install(&w, &["xfreerdp", "xfreerdp3"]);
    let cmd = |args: &[&str]| with_env(fakes.cmd(&w, args), &env);
    let records = w.path("fake-records");
    let mut runs: Vec<(String, Run)> = Vec::new();
    let start = Instant::now();

    // Import a plain .rdp file for the shadow server's user.
    let file = w.write(
        "nla.rdp",
        format!(
            "full address:s:{}\r\nusername:s:{user}\r\nprompt for credentials:i:0\r\n",
            shadow.addr()
        )
        .as_bytes(),
    );
    let r = Run(
        cmd(&["import", file.to_str().expect("utf-8"), "--name", "nla01", "-vvv"])
            .output()
            .expect("run"),
    );
    runs.push(("import".into(), r));
    runs.last().expect("run").1.expect(0);

    // Save it (stdin), log on with it (keyring, then stdin), connect with it, diagnose with it.
    let r = run_with_stdin(
        cmd(&["creds", "set", "nla01", "--password-stdin", "-vvv"]),
        &format!("{secret}\n"),
    );
    r.expect(0);
    assert!(r.stdout().contains("Secret Service"), "{}", r.stdout());
    runs.push(("creds set".into(), r));
    let r = Run(
        cmd(&["check", "nla01", "--login", "--json", "--timeout", "15s", "-vvv"])
            .output()
            .expect("run"),
    );
    assert_eq!(
        r.code(),
        0,
        "check --login failed; the shadow server's log:\n{}",
        shadow.log()
    );
    r.expect(0);
    assert_eq!(
        r.json()["login"]["status"],
        "ok",
        "the saved password logs on: {}\n{}",
        r.stdout(),
        shadow.log()
    );
    runs.push(("check --login".into(), r));
    let r = run_with_stdin(
        cmd(&[
            "check",
            "nla01",
            "--login",
            "--password-stdin",
            "--timeout",
            "15s",
            "-vvv",
        ]),
        &format!("{secret}\n"),
    );
    r.expect(0);
    assert!(r.stdout().contains("login       ok over NLA"), "{}", r.stdout());
    runs.push(("check --login --password-stdin".into(), r));
    let mut c = cmd(&[
        "connect",
        "nla01",
        "--with",
        "xfreerdp",
        "--timeout",
        "15s",
        "-vvv",
    ]);
    c.env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    let rec = fakes.record("xfreerdp3");
    assert_eq!(
        rec.stdin(),
        format!("{secret}\n").as_bytes(),
        "the saved password went to FreeRDP 3 on stdin"
    );
    runs.push(("connect (FreeRDP 3)".into(), r));
    let freerdp2 = fakes.bin().join("xfreerdp");
    let mut c = cmd(&[
        "connect",
        "nla01",
        "--with",
        freerdp2.to_str().expect("utf-8"),
        "--timeout",
        "15s",
        "-vvv",
    ]);
    c.env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    assert_eq!(
        fakes.record("xfreerdp").stdin(),
        format!("{secret}\n").as_bytes(),
        "the saved password went to FreeRDP 2 on stdin"
    );
    runs.push(("connect (FreeRDP 2)".into(), r));
    let r = Run(
        cmd(&["doctor", "nla01", "--login", "--json", "--timeout", "15s", "-vvv"])
            .output()
            .expect("run"),
    );
    r.expect(0);
    assert_eq!(r.json()["report"]["login"]["status"], "ok", "{}", r.stdout());
    runs.push(("doctor --login".into(), r));

    // The same password from a vault (password.command = pass): a real logon and a handoff, at trace level.
    let vault = crate::connect::PassStore::with("corp/sec", &secret);
    let vaulted = |args: &[&str]| with_env(cmd(args), &vault.env);
    let r = Run(vaulted(&[
        "profile",
        "add",
        "vault01",
        "--host",
        &shadow.addr().ip().to_string(),
        "--port",
        &shadow.addr().port().to_string(),
        "--user",
        &user,
    ])
    .output()
    .expect("run"));
    r.expect(0);
    Run(
        vaulted(&["profile", "set", "vault01", "password.command=pass show corp/sec"])
            .output()
            .expect("run"),
    )
    .expect(0);
    let r = Run(vaulted(&[
        "check",
        "vault01",
        "--login",
        "--json",
        "--timeout",
        "15s",
        "-vvv",
    ])
    .output()
    .expect("run"));
    assert_eq!(
        r.json()["login"]["status"],
        "ok",
        "the vault's password logs on: {}",
        r.stdout()
    );
    runs.push(("check --login (password.command)".into(), r));
    let mut c = vaulted(&[
        "connect",
        "vault01",
        "--with",
        "xfreerdp",
        "--timeout",
        "15s",
        "-vvv",
    ]);
    c.env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    // Both FreeRDP 3 runs (the keyring's, the vault's) got the same password on stdin, and only there.
    let stdins: Vec<Vec<u8>> = std::fs::read_dir(&records)
        .expect("records")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("xfreerdp3-"))
        })
        .map(|p| std::fs::read(p.join("stdin.bin")).expect("stdin"))
        .collect();
    assert_eq!(stdins.len(), 2, "two FreeRDP 3 runs");
    assert!(
        stdins.iter().all(|s| s == format!("{secret}\n").as_bytes()),
        "the vault's password on stdin"
    );
    runs.push(("connect (password.command)".into(), r));
    let rdp_out = w.path("written.rdp");
    let r = Run(cmd(&[
        "rdp",
        "nla01",
        "--offline",
        "-o",
        rdp_out.to_str().expect("utf-8"),
        "-vvv",
    ])
    .output()
    .expect("run"));
    r.expect(0);
    runs.push(("rdp --offline -o".into(), r));
    let sanitized = w.path("sanitized.rdp");
    let r = Run(cmd(&[
        "sanitize",
        file.to_str().expect("utf-8"),
        "-o",
        sanitized.to_str().expect("utf-8"),
        "-vvv",
    ])
    .output()
    .expect("run"));
    r.expect(0);
    runs.push(("sanitize -o".into(), r));

    // Live `rdpl connect`s that have the password (from the keyring; from standard input) and handed it to
    // their client, waiting for it: take a core of each, then abort it.
    let mut cores = Vec::new();
    for stdin in [false, true] {
        let mut args = vec![
            "connect",
            "nla01",
            "--with",
            "xfreerdp",
            "--timeout",
            "15s",
            "-vvv",
        ];
        if stdin {
            args.push("--password-stdin");
        }
        let mut c = cmd(&args);
        c.env("RDPL_FAKE_EXIT", "0").env("RDPL_FAKE_SLEEP_MS", "120000");
        let label = if stdin {
            "connect --password-stdin"
        } else {
            "connect"
        };
        let (core, aborted) = core_of_live_run(c, stdin.then(|| format!("{secret}\n")), &records, &secret);
        runs.push((format!("{label} (aborted)"), aborted));
        cores.push((label, core));
    }
    eprintln!("pipeline and core taken after {:?}", start.elapsed());
    // Forget it.
    let r = Run(cmd(&["creds", "clear", "nla01", "-vvv"]).output().expect("run"));
    r.expect(0);
    runs.push(("creds clear".into(), r));
    let kuser = support::keyring::rdpl_user(None, &user, &shadow.addr().ip().to_string());
    assert_eq!(ss.rdpl_secret(&kuser), None, "gone from gnome-keyring");

    // The logs really are at trace level (so a password in a log line would show).
    let check_log = &runs[2].1.stderr();
    assert!(
        check_log.contains("TRACE") || check_log.contains("DEBUG"),
        "{check_log}"
    );

    // Nowhere in the output or logs of any run.
    for (what, r) in &runs {
        assert!(
            !r.stdout().contains(&secret) && !r.stderr().contains(&secret),
            "the password in the output of `rdpl {what}`"
        );
    }
    // Nowhere in any file under the test's dir: config, state, run dir, HOME (caches), the written .rdp,
    // the fake clients' argv, environment and copies of .rdp files. Only what a client read on stdin holds it.
    let mut scanned = 0;
    for (p, bytes) in files_under(w.dir.path()) {
        if p.starts_with(&records) && p.file_name().is_some_and(|n| n == "stdin.bin") {
            continue;
        }
        assert!(!contains(&bytes, &secret), "the password in {}", p.display());
        scanned += 1;
    }
    assert!(scanned >= 8, "{scanned} files scanned");
    assert!(
        files_under(&records)
            .iter()
            .filter(|(p, _)| p.file_name().is_some_and(|n| n == "env.json"))
            .count()
            == 5,
        "five client runs recorded"
    );

    // Owner-only: everything rdpl created in its config dir (state/, pins, profiles, the lock), under HOME,
    // and the .rdp files it wrote.
    #[cfg(unix)]
    {
        let config = w.config();
        let mut all = entries_under(&config);
        all.push(config.clone());
        all.extend([rdp_out.clone(), sanitized.clone()]);
        // Anything rdpl put under HOME (caches) too.
        all.extend(entries_under(&w.path("home")));
        assert!(all.iter().any(|p| p.ends_with("state")), "{all:?}");
        for p in &all {
            let m = mode(p);
            assert_eq!(m & 0o077, 0, "{} is {:o}", p.display(), m & 0o777);
        }
    }

    // The memory of the live runs: the password in UTF-8 or UTF-16LE.
    for (label, core) in &cores {
        scan_core(label, core, &secret);
    }
}

/// Starts `c` (a `connect` whose fake client sleeps), writes `stdin` to it, waits until the client has the
/// password, checks the kernel's view of both processes, takes rdpl's core with gcore and aborts it (SIGABRT).
fn core_of_live_run(mut c: Command, stdin: Option<String>, records: &Path, secret: &str) -> (Vec<u8>, Run) {
    let core_dir = tempfile::tempdir().expect("tempdir");
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let seen: Vec<PathBuf> = std::fs::read_dir(records)
        .expect("records")
        .flatten()
        .map(|e| e.path())
        .collect();
    let mut live = c.spawn().expect("spawn rdpl");
    let pid = live.id();
    let mut pipe = live.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    let record = wait_for(
        || {
            std::fs::read_dir(records)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| !seen.contains(p) && p.join("stdin.bin").exists())
        },
        Duration::from_secs(30),
    );
    assert_eq!(
        std::fs::read(record.join("stdin.bin")).expect("stdin"),
        format!("{secret}\n").as_bytes(),
        "the live run handed the password over"
    );
    let clients = children(pid);
    assert_eq!(clients.len(), 1, "rdpl waits for its one client: {clients:?}");
    // What the kernel shows of both processes: command lines and environments.
    for p in [pid, clients[0]] {
        for what in ["cmdline", "environ"] {
            let bytes = std::fs::read(format!("/proc/{p}/{what}")).expect("/proc");
            assert!(!contains(&bytes, secret), "the password in /proc/{p}/{what}");
        }
    }
    let prefix = core_dir.path().join("core");
    let gcore = Command::new(support::tool("gcore"))
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .output()
        .expect("gcore");
    assert!(
        gcore.status.success(),
        "gcore: {}",
        String::from_utf8_lossy(&gcore.stderr)
    );
    // SAFETY: signals to our own child (not reaped yet) and its child, by pids read just now.
    unsafe {
        libc::kill(pid as i32, libc::SIGABRT);
        libc::kill(clients[0] as i32, libc::SIGKILL);
    }
    let aborted = Run(live.wait_with_output().expect("wait"));
    {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(aborted.0.status.signal(), Some(libc::SIGABRT));
    }
    let path = core_dir.path().join(format!("core.{pid}"));
    let core = std::fs::read(&path).expect("the core file");
    assert!(core.len() > 1_000_000, "a real core: {} bytes", core.len());
    if let Ok(keep) = std::env::var("RDPL_KEEP_CORE") {
        std::fs::copy(&path, format!("{keep}.{pid}")).expect("keep the core");
    }
    (core, aborted)
}

/// Fails when `core` holds the password in UTF-8 or UTF-16LE, showing the bytes around each copy.
#[track_caller]
fn scan_core(label: &str, core: &[u8], secret: &str) {
    let (hits8, hits16) = (offsets(core, secret.as_bytes()), offsets(core, &utf16(secret)));
    eprintln!(
        "core of rdpl {label} ({} MB): {} UTF-8 and {} UTF-16LE copies of the password at {:x?} {:x?}",
        core.len() >> 20,
        hits8.len(),
        hits16.len(),
        hits8,
        hits16
    );
    let context: Vec<String> = hits8
        .iter()
        .chain(&hits16)
        .map(|&at| {
            let from = at.saturating_sub(64);
            let to = (at + 96).min(core.len());
            core[from..to].escape_ascii().to_string()
        })
        .collect();
    assert!(
        hits8.is_empty() && hits16.is_empty(),
        "the password is in the memory of rdpl {label}:\n{}",
        context.join("\n")
    );
}

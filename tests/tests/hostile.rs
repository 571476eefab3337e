//! Hostile and broken input (issue #7), each case a test with a named outcome:
//! - servers that flood 64 MB, cut TLS at every handshake step (alert, reset, half a record), send a 1 MB
//!   chain, or never answer `check --login`;
//! - malicious .rdp files as mstsc writes them (UTF-16LE, BOM, CRLF): every redirection, RemoteApp with
//!   %USERPROFILE% arguments, an alternate shell, a rogue `full address`, a stale signature, NUL bytes,
//!   100 000 lines, a 4 GiB size;
//! - profile stores that are truncated, hold a newline in a field, are a symlink, or are read-only.
//!
//! Where memory matters, the rdpl process's peak resident set (`ru_maxrss` from `wait4`) is measured.
//! (preflight.rs has the other hostile servers: silence, a 400 answer, a lying TPKT length, a slowloris, a
//! close, a reset after the ClientHello; main.rs has the other bad files and the corrupt-profile case.)

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

use crate::connect::add_profile;
use crate::preflight::{
    Fake, der, finding, ids, neg_failure, neg_rsp, read_cr, socket_reset, tls_rdp_server,
};
use crate::support::{self, certs};
use crate::{Run, World};

// ---------------------------------------------------------------------------------------------------------
// Measuring a run: wall time and peak memory.

/// The bound on rdpl's peak resident memory for hostile input (a debug build uses ~30 MiB for a check, ~23 MiB
/// to sanitize a small file).
const MEMORY_LIMIT_MIB: u64 = 64;

/// One rdpl run, with its wall time and peak resident memory.
struct Measured {
    run: Run,
    elapsed: Duration,
    /// User and system CPU time: unlike wall time, hardly affected by a busy machine.
    cpu: Duration,
    peak_mib: u64,
}

impl Measured {
    /// Asserts the peak memory stayed under `limit_mib`.
    #[track_caller]
    fn memory_below(&self, limit_mib: u64, what: &str) -> &Measured {
        assert!(
            self.peak_mib < limit_mib,
            "{what}: rdpl peaked at {} MiB (limit {limit_mib} MiB)\n--- stderr\n{}",
            self.peak_mib,
            self.run.stderr()
        );
        self
    }

    /// Asserts the run took less than `limit`.
    #[track_caller]
    fn faster_than(&self, limit: Duration, what: &str) -> &Measured {
        assert!(
            self.elapsed < limit,
            "{what}: took {:?} (limit {limit:?})\n--- stderr\n{}",
            self.elapsed,
            self.run.stderr()
        );
        self
    }
}

/// The environment variable that turns [`measure_helper`] on: the directory of one measured run.
const MEASURE_ENV: &str = "RDPL_E2E_MEASURE_DIR";

/// Runs `cmd` (stdin from `stdin`, or /dev/null) and returns its output, wall time and peak RSS. Kills it and
/// panics after `limit`.
///
/// The peak comes from `wait4`'s rusage, but not of a child of this process: Linux carries the parent's peak
/// RSS over into a child at `exec` (`ru_maxrss` is the larger of the two), and this test binary is ~90 MiB.
/// So a fresh copy of this binary, small, runs [`measure_helper`], which spawns rdpl, reaps it with `wait4`
/// and writes what it measured to files.
fn measured(cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let join = |items: Vec<std::ffi::OsString>| {
        let mut v = Vec::new();
        for i in items {
            v.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(i.as_os_str()));
            v.push(0);
        }
        v
    };
    let mut argv = vec![cmd.get_program().to_owned()];
    argv.extend(cmd.get_args().map(ToOwned::to_owned));
    let env: Vec<std::ffi::OsString> = cmd
        .get_envs()
        .filter_map(|(k, v)| {
            v.map(|v| {
                let mut kv = k.to_owned();
                kv.push("=");
                kv.push(v);
                kv
            })
        })
        .collect();
    std::fs::write(dir.path().join("argv"), join(argv)).expect("write argv");
    std::fs::write(dir.path().join("env"), join(env)).expect("write env");
    // /proc/self/exe, not current_exe(): it still runs this binary when a rebuild has replaced the file.
    let mut helper = Command::new("/proc/self/exe");
    helper
        .args([
            "hostile::measure_helper",
            "--exact",
            "--test-threads=1",
            "--quiet",
        ])
        .env(MEASURE_ENV, dir.path());
    crate::support::process::harden(&mut helper);
    helper
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = helper.spawn().expect("spawn the measuring helper");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let bytes = bytes.to_vec();
        // A thread: rdpl may stop reading early (a size limit), and the test must not block on the pipe.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if t0.elapsed() > limit {
            let pgid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
            // SAFETY: our own, not yet reaped, group leader (harden puts it in its own group); rdpl, its child,
            // dies with it (parent-death signal).
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = child.wait();
            let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
            panic!("{cmd:?} still running after {limit:?}, killed\n--- stderr\n{stderr}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let mut helper_err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut helper_err);
    }
    let result = std::fs::read_to_string(dir.path().join("result"))
        .unwrap_or_else(|e| panic!("the measuring helper left no result ({e}, {status}):\n{helper_err}"));
    let nums: Vec<u64> = result
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    let [raw_status, max_rss_kib, ms, cpu_ms] = nums[..] else {
        panic!("result: {result}");
    };
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap_or_default();
    Measured {
        run: Run(Output {
            status: std::process::ExitStatus::from_raw(i32::try_from(raw_status).expect("status")),
            stdout: read("stdout"),
            stderr: read("stderr"),
        }),
        elapsed: Duration::from_millis(ms),
        cpu: Duration::from_millis(cpu_ms),
        peak_mib: max_rss_kib / 1024,
    }
}

/// Milliseconds of a `timeval`.
fn cpu_ms(t: libc::timeval) -> u64 {
    u64::try_from(t.tv_sec).unwrap_or(0) * 1000 + u64::try_from(t.tv_usec).unwrap_or(0) / 1000
}

/// Not a test: the other half of [`measured`], run in a fresh copy of this binary (it returns at once
/// otherwise). Spawns the command described in `$RDPL_E2E_MEASURE_DIR` (stdin inherited, stdout and stderr to
/// files), reaps it with `wait4` and writes `STATUS MAXRSS_KIB WALL_MS CPU_MS` to `result`.
#[test]
fn measure_helper() {
    let Some(dir) = std::env::var_os(MEASURE_ENV).map(PathBuf::from) else {
        return;
    };
    let split = |name: &str| -> Vec<std::ffi::OsString> {
        std::fs::read(dir.join(name))
            .expect("read")
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| std::ffi::OsStr::from_bytes(p).to_owned())
            .collect()
    };
    let argv = split("argv");
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear();
    for kv in split("env") {
        let b = kv.as_bytes();
        let eq = b.iter().position(|&c| c == b'=').expect("KEY=VALUE");
        cmd.env(
            std::ffi::OsStr::from_bytes(&b[..eq]),
            std::ffi::OsStr::from_bytes(&b[eq + 1..]),
        );
    }
    crate::support::process::harden(&mut cmd);
    cmd.stdin(Stdio::inherit())
        .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
        .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"));
    let t0 = Instant::now();
    let child = cmd.spawn().expect("spawn rdpl");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is this process's own unreaped child; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let ms = t0.elapsed().as_millis();
    // The child is reaped; `Child` never waits on drop.
    drop(child);
    std::fs::write(
        dir.join("result"),
        format!(
            "{} {} {ms} {}",
            u32::from_ne_bytes(status.to_ne_bytes()),
            usage.ru_maxrss,
            cpu_ms(usage.ru_utime) + cpu_ms(usage.ru_stime)
        ),
    )
    .expect("write result");
}

/// `rdpl check --json --timeout 4s ARGS...`, measured; the report parsed.
fn check_measured(w: &World, args: &[&str]) -> (Measured, Value) {
    let mut all = vec!["check", "--json", "--timeout", "4s"];
    all.extend_from_slice(args);
    let m = measured(w.cmd(&all), None, Duration::from_secs(30));
    let v: Value = serde_json::from_slice(&m.run.0.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", m.run.stdout(), m.run.stderr()));
    (m, v)
}

/// The findings of a report, compact, for failure messages.
fn findings(v: &Value) -> String {
    serde_json::to_string(&v["findings"]).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// Servers.

/// 64 MiB, the flood every flooding server sends.
const FLOOD: usize = 64 * 1024 * 1024;

/// Writes `prefix` and then pseudo-random bytes up to [`FLOOD`] bytes, until the peer goes away.
fn flood(s: &mut TcpStream, prefix: &[u8]) {
    if s.write_all(prefix).is_err() {
        return;
    }
    let mut x: u32 = 0x2545_f491;
    let chunk: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    let mut sent = prefix.len();
    while sent < FLOOD {
        if s.write_all(&chunk).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

/// A server that reads the Connection Request and answers with `answer(requested protocols)` then a flood.
fn flooding(answer: impl Fn(u32) -> Vec<u8> + Send + Sync + 'static) -> Fake {
    Fake::start(move |mut s| {
        if let Some(requested) = read_cr(&mut s) {
            flood(&mut s, &answer(requested));
        }
    })
}

/// A well-formed TLS handshake record that starts a ServerHello claiming 16 MiB (the flood follows it).
fn handshake_record_prefix() -> Vec<u8> {
    // Record header: handshake (22), TLS 1.2, 16 KiB; handshake header: ServerHello (2), length 0xFFFFFF.
    let mut v = vec![22, 3, 3, 0x40, 0x00, 2, 0xff, 0xff, 0xff];
    v.resize(5 + 0x4000, 0x41);
    v
}

#[test]
fn sixty_four_megabytes_of_garbage_end_within_the_budget_in_bounded_memory() {
    let w = World::new();
    // Not TPKT at all.
    let raw = flooding(|_| b"GET / HTTP/1.1\r\n".to_vec());
    // A TPKT header claiming 65535 bytes, then the flood to fill it (and far more).
    let tpkt = flooding(|_| vec![0x03, 0x00, 0xff, 0xff, 0x0e, 0xd0]);
    // A valid Confirm selecting TLS, then garbage instead of a ServerHello.
    let tls_garbage = flooding(|req| if req & 1 == 0 { neg_failure(1) } else { neg_rsp(1) });
    // A valid Confirm, then a TLS record that starts a 16 MiB ServerHello.
    let tls_records = flooding(|req| {
        if req & 1 == 0 {
            return neg_failure(1);
        }
        let mut v = neg_rsp(1);
        v.extend(handshake_record_prefix());
        v
    });
    for (fake, id, detail) in [
        (&raw, "x224.garbage", "not a TPKT header"),
        (&tpkt, "x224.garbage", "TPKT length 65535"),
        // Failed, not timed out: rdpl stops at the first bad record.
        (
            &tls_garbage,
            "tls.handshake_failed",
            "The TLS handshake with the server failed: ",
        ),
        (
            &tls_records,
            "tls.handshake_failed",
            "The TLS handshake with the server failed: ",
        ),
    ] {
        let (m, v) = check_measured(&w, &[&fake.addr.to_string()]);
        m.run.expect(1);
        let f = finding(&v, id);
        assert_eq!(f["severity"], "error", "{id}: {}", findings(&v));
        assert!(
            f["message"].as_str().is_some_and(|s| s.contains(detail)),
            "{id} should say {detail:?}: {}",
            findings(&v)
        );
        assert_eq!(v["verdict"], "blocked");
        m.faster_than(Duration::from_secs(8), id)
            .memory_below(MEMORY_LIMIT_MIB, id);
    }
}

/// What a [`tls_then`] server does once the TLS handshake is done.
#[derive(Debug, Clone, Copy)]
enum AfterTls {
    /// Reads nothing and answers nothing.
    Silent,
    /// 64 MiB of garbage inside TLS (application data records).
    GarbageInTls,
    /// 64 MiB of garbage on the socket, outside TLS.
    GarbageRaw,
}

/// A TLS RDP server that completes the X.224 exchange and the TLS handshake properly (so the pre-flight
/// passes) and then does `after`: the login, on its own connection, meets the hostile part.
fn tls_then(cert: &certs::TestCert, after: AfterTls) -> Fake {
    let config = crate::preflight::tls_config(vec![der(cert)], cert.key_pem());
    Fake::start(move |mut s| {
        let Some(requested) = read_cr(&mut s) else { return };
        if requested & 1 == 0 {
            let _ = s.write_all(&neg_failure(1));
            return;
        }
        if s.write_all(&neg_rsp(1)).is_err() {
            return;
        }
        let mut conn = rustls::ServerConnection::new(config.clone()).expect("conn");
        while conn.is_handshaking() {
            if conn.complete_io(&mut s).is_err() {
                return;
            }
        }
        match after {
            AfterTls::Silent => thread::sleep(Duration::from_secs(30)),
            AfterTls::GarbageRaw => flood(&mut s, &[0x17, 0x03, 0x03, 0xff, 0xff]),
            AfterTls::GarbageInTls => {
                let chunk = vec![0x5a_u8; 16 * 1024];
                let mut tls = rustls::Stream::new(&mut conn, &mut s);
                for _ in 0..FLOOD / chunk.len() {
                    if tls.write_all(&chunk).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// `check NAME --login --json --timeout 4s` with a wrong password on stdin, measured.
fn check_login(w: &World, name: &str) -> Measured {
    let cmd = w.cmd(&[
        "check",
        name,
        "--login",
        "--password-stdin",
        "--json",
        "--timeout",
        "4s",
    ]);
    measured(cmd, Some(b"not-the-password\n"), Duration::from_secs(40))
}

#[test]
fn check_login_against_silent_and_flooding_servers_ends_in_its_timeout() {
    let w = World::new();
    // Hostile from the first byte: the pre-flight blocks, the login never starts, --json still reports.
    let silent = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        thread::sleep(Duration::from_secs(30));
    });
    let garbage = flooding(|_| b"SSH-2.0-OpenSSH_9.6\r\n".to_vec());
    let tls_garbage = flooding(|req| if req & 1 == 0 { neg_failure(1) } else { neg_rsp(1) });
    for (name, fake, id) in [
        ("silent", &silent, "x224.silent"),
        ("garbage", &garbage, "x224.garbage"),
        ("tlsgarbage", &tls_garbage, "tls.handshake_failed"),
    ] {
        add_profile(&w, name, fake.addr, "alice");
        let m = check_login(&w, name);
        m.run.expect(1);
        let v = m.run.json();
        assert_eq!(finding(&v, id)["severity"], "error", "{name}: {}", findings(&v));
        assert_eq!(v["verdict"], "blocked", "{name}");
        assert!(v["login"].is_null(), "{name}: no login was tried: {}", v["login"]);
        assert!(
            !m.run.stderr().contains("offers no NLA"),
            "{name}: nothing was offered, so nothing is said about NLA: {}",
            m.run.stderr()
        );
        m.faster_than(Duration::from_secs(8), name)
            .memory_below(MEMORY_LIMIT_MIB, name);
    }

    // Hostile after TLS: the pre-flight passes, rdpl's own session meets the silence or the flood.
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let cert = certs::self_signed(&["127.0.0.1"]);
    for (name, after, expected) in [
        ("mute", AfterTls::Silent, "login.timeout"),
        ("tlsflood", AfterTls::GarbageInTls, "login.failed"),
        ("rawflood", AfterTls::GarbageRaw, "login.failed"),
    ] {
        let fake = tls_then(&cert, after);
        add_profile(&w, name, fake.addr, "alice");
        let m = check_login(&w, name);
        let v = m.run.json();
        assert_eq!(
            v["tls"]["version"],
            "TLSv1.3",
            "{name}: the pre-flight passed: {}",
            findings(&v)
        );
        let login = &v["login"];
        assert!(
            matches!(login["status"].as_str(), Some("error" | "failed")),
            "{name}: {login}\n{}",
            m.run.stderr()
        );
        let login_ids: Vec<String> = ids(&v).into_iter().filter(|i| i.starts_with("login.")).collect();
        assert_eq!(login_ids, [expected], "{name}: {login}");
        assert_eq!(
            finding(&v, expected)["severity"],
            "error",
            "{name}: {}",
            findings(&v)
        );
        assert_eq!(v["verdict"], "blocked", "{name}");
        assert_ne!(m.run.code(), 0, "{name}");
        // The pre-flight, then (at most) the login's own 4 s.
        m.faster_than(Duration::from_secs(12), name)
            .memory_below(MEMORY_LIMIT_MIB, name);
    }
}

/// What a [`cutting_proxy`] forwarded: each unit's record type and, for plaintext handshake messages, type.
type Seen = Arc<Mutex<Vec<(u8, Option<u8>)>>>;

/// How a [`cutting_proxy`] ends the server's TLS flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// A fatal `handshake_failure` alert record (plaintext), then FIN.
    Alert,
    /// RST (SO_LINGER 0).
    Reset,
    /// The header and half of the next record, then FIN.
    HalfRecord,
    /// Nothing more, the connection left open.
    Stall,
}

/// Reads one TLS record (header and body).
fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 5];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    let mut rec = h.to_vec();
    rec.resize(5 + len, 0);
    s.read_exact(&mut rec[5..]).ok()?;
    Some(rec)
}

/// A record as the units the proxy forwards one by one: a plaintext handshake record (before the server's
/// ChangeCipherSpec) is split into one record per handshake message, each with its message type; anything
/// else (ChangeCipherSpec, encrypted records) stays whole.
fn split_handshake(rec: &[u8], encrypted: bool) -> Vec<(Vec<u8>, Option<u8>)> {
    if encrypted || rec[0] != 22 {
        return vec![(rec.to_vec(), None)];
    }
    let mut out = Vec::new();
    let mut body = &rec[5..];
    while body.len() >= 4 {
        let len = 4 + usize::from(u16::from_be_bytes([body[2], body[3]])) + (usize::from(body[1]) << 16);
        let (msg, rest) = body.split_at(len.min(body.len()));
        let mut r = vec![22, rec[1], rec[2]];
        r.extend(u16::try_from(msg.len()).expect("fits a record").to_be_bytes());
        r.extend(msg);
        out.push((r, Some(msg[0])));
        body = rest;
    }
    out
}

/// Reads one TPKT packet.
fn read_tpkt(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let mut p = h.to_vec();
    p.resize(len.max(4), 0);
    s.read_exact(&mut p[4..]).ok()?;
    Some(p)
}

/// A proxy in front of `backend` (a real rustls TLS RDP server): it forwards the X.224 exchange and the
/// client's bytes as they are, forwards the server's first `keep` TLS records, and then replaces the next one
/// with `cut` (None: forwards everything). The content types of the records it forwarded go to `seen`.
fn cutting_proxy(backend: SocketAddr, keep: usize, cut: Option<Cut>, seen: Seen) -> Fake {
    Fake::start(move |mut client| {
        let Ok(mut back) = TcpStream::connect(backend) else {
            return;
        };
        let Some(cr) = read_tpkt(&mut client) else {
            return;
        };
        let Some(cc) = back.write_all(&cr).ok().and_then(|()| read_tpkt(&mut back)) else {
            return;
        };
        if client.write_all(&cc).is_err() {
            return;
        }
        let (mut c2, mut b2) = (
            client.try_clone().expect("clone"),
            back.try_clone().expect("clone"),
        );
        let pipe = thread::spawn(move || {
            let _ = std::io::copy(&mut c2, &mut b2);
            let _ = b2.shutdown(Shutdown::Write);
        });
        let mut forwarded = 0;
        let mut encrypted = false;
        let mut pending: std::collections::VecDeque<(Vec<u8>, Option<u8>)> =
            std::collections::VecDeque::new();
        // Only connections that carry TLS get records (the side probes end after the Confirm).
        while let Some((rec, hs_type)) = pending.pop_front().or_else(|| {
            let rec = read_record(&mut back)?;
            pending.extend(split_handshake(&rec, encrypted));
            encrypted |= rec[0] == 20;
            pending.pop_front()
        }) {
            if forwarded == keep
                && let Some(cut) = cut
            {
                match cut {
                    Cut::Alert => {
                        let _ = client.write_all(&[21, 3, 3, 0, 2, 2, 40]);
                        let _ = client.shutdown(Shutdown::Write);
                    }
                    Cut::HalfRecord => {
                        let _ = client.write_all(&rec[..5 + (rec.len() - 5) / 2]);
                        let _ = client.shutdown(Shutdown::Write);
                    }
                    Cut::Stall => thread::sleep(Duration::from_secs(20)),
                    Cut::Reset => {
                        let _ = socket_reset(&client);
                        // Unblock the pipe's read so that the last descriptor closes now, with the RST.
                        let _ = client.shutdown(Shutdown::Read);
                    }
                }
                break;
            }
            if client.write_all(&rec).is_err() {
                break;
            }
            if let Ok(mut s) = seen.lock() {
                s.push((rec[0], hs_type));
            }
            forwarded += 1;
        }
        let _ = back.shutdown(Shutdown::Both);
        let _ = pipe.join();
    })
}

/// A TLS server configuration limited to one protocol version.
fn tls_config_for(
    version: &'static rustls::SupportedProtocolVersion,
    chain: Vec<CertificateDer<'static>>,
    key_pem: &str,
) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key pem");
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[version])
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config"),
    )
}

/// The TLS RDP server of preflight.rs, with a given configuration.
fn tls_server_with(config: Arc<rustls::ServerConfig>) -> Fake {
    Fake::start(move |mut s| {
        let Some(requested) = read_cr(&mut s) else { return };
        if requested & 1 == 0 {
            let _ = s.write_all(&neg_failure(1));
            return;
        }
        let _ = s.write_all(&neg_rsp(1));
        let mut conn = rustls::ServerConnection::new(config.clone()).expect("conn");
        let mut tls = rustls::Stream::new(&mut conn, &mut s);
        let mut buf = [0u8; 256];
        let _ = tls.read(&mut buf);
    })
}

#[test]
fn tls_cut_at_every_handshake_step_is_a_named_failure_within_the_timeout() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    // What the server sends up to its Finished, in the units the proxy forwards: rustls sends the encrypted
    // TLS 1.3 flight (EncryptedExtensions to Finished) as one record; TLS 1.2's plaintext flight is split into
    // its messages (record type, handshake message type).
    type Steps = &'static [(u8, Option<u8>, &'static str)];
    let versions: [(&'static rustls::SupportedProtocolVersion, &str, Steps); 2] = [
        (
            &rustls::version::TLS13,
            "TLSv1.3",
            &[
                (22, Some(2), "ServerHello"),
                (20, None, "ChangeCipherSpec"),
                (23, None, "the encrypted flight (EncryptedExtensions to Finished)"),
            ],
        ),
        (
            &rustls::version::TLS12,
            "TLSv1.2",
            &[
                (22, Some(2), "ServerHello"),
                (22, Some(11), "Certificate"),
                (22, Some(12), "ServerKeyExchange"),
                (22, Some(14), "ServerHelloDone"),
                (20, None, "ChangeCipherSpec"),
                (22, None, "Finished"),
            ],
        ),
    ];
    for (version, label, steps) in versions {
        let backend = tls_server_with(tls_config_for(version, vec![der(&cert)], cert.key_pem()));
        // The control: through the proxy, uncut, the handshake completes, and the records are those above.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let proxy = cutting_proxy(backend.addr, usize::MAX, None, seen.clone());
        let (m, v) = check_measured(&w, &[&proxy.addr.to_string()]);
        assert_eq!(v["tls"]["version"], label, "{label}: {}", findings(&v));
        assert!(
            !ids(&v).iter().any(|i| i.starts_with("tls.")),
            "{label}: {}",
            findings(&v)
        );
        m.memory_below(MEMORY_LIMIT_MIB, label);
        let types: Vec<(u8, Option<u8>)> = seen.lock().expect("lock").clone();
        let expected: Vec<(u8, Option<u8>)> = steps.iter().map(|(t, h, _)| (*t, *h)).collect();
        assert_eq!(
            types.get(..steps.len()),
            Some(expected.as_slice()),
            "{label}: the server's records: {types:?}"
        );
        // Each cut after `keep` records: the finding, within the budget.
        for keep in 0..steps.len() {
            let after = match keep {
                0 => "after the X.224 Confirm".to_owned(),
                k => format!("after {}", steps[k - 1].2),
            };
            for cut in [Cut::Alert, Cut::Reset, Cut::HalfRecord] {
                let what = format!("{label}: {cut:?} {after}, instead of {}", steps[keep].2);
                let proxy = cutting_proxy(backend.addr, keep, Some(cut), Arc::new(Mutex::new(Vec::new())));
                let (m, v) = check_measured(&w, &[&proxy.addr.to_string()]);
                m.run.expect(1);
                let f = finding(&v, "tls.handshake_failed");
                assert_eq!(f["severity"], "error", "{what}: {}", findings(&v));
                let message = f["message"].as_str().unwrap_or_default();
                // The cause, as rustls saw it (after TLS 1.2's ChangeCipherSpec a plaintext alert can't be
                // decrypted, and is reported as such).
                let cause = match cut {
                    Cut::Alert => [
                        "received fatal alert: HandshakeFailure",
                        "cannot decrypt peer's message",
                    ],
                    Cut::Reset => ["Connection reset by peer"; 2],
                    _ => ["tls handshake eof"; 2],
                };
                assert!(
                    message.starts_with("The TLS handshake with the server failed: ")
                        && cause.iter().any(|c| message.contains(c)),
                    "{what}: {message}"
                );
                assert!(v["tls"].is_null(), "{what}: {}", v["tls"]);
                assert_eq!(v["verdict"], "blocked", "{what}");
                // The X.224 part went through: the server's protocols are still reported.
                assert_eq!(v["security"]["selected"], "ssl", "{what}");
                m.faster_than(Duration::from_secs(4), &what)
                    .memory_below(MEMORY_LIMIT_MIB, &what);
            }
        }
    }
    // Stalled after the ServerHello, the connection left open: a timeout, within the budget.
    let backend = tls_server_with(tls_config_for(
        &rustls::version::TLS13,
        vec![der(&cert)],
        cert.key_pem(),
    ));
    let proxy = cutting_proxy(
        backend.addr,
        1,
        Some(Cut::Stall),
        Arc::new(Mutex::new(Vec::new())),
    );
    let (m, v) = check_measured(&w, &[&proxy.addr.to_string()]);
    m.run.expect(1);
    let f = finding(&v, "tls.handshake_failed");
    assert_eq!(
        (f["severity"].as_str(), f["message"].as_str()),
        (
            Some("error"),
            Some("the server did not complete the TLS handshake in time.")
        ),
        "{}",
        findings(&v)
    );
    m.faster_than(Duration::from_secs(8), "stall")
        .memory_below(MEMORY_LIMIT_MIB, "stall");
}

#[test]
fn a_one_megabyte_certificate_chain_is_refused_in_bounded_memory() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let ca = certs::TestCa::new("Bloat CA");
    let leaf = certs::cert(&["127.0.0.1"]).signed_by(&ca);
    let mut chain = vec![der(&leaf)];
    while chain.iter().map(|c| c.len()).sum::<usize>() < 1024 * 1024 {
        chain.push(der(ca.cert()));
    }
    let fake = tls_rdp_server(chain, leaf.key_pem());
    let (m, v) = check_measured(&w, &[&fake.addr.to_string()]);
    m.run.expect(1);
    let f = finding(&v, "tls.handshake_failed");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"].as_str().is_some_and(|s| s.contains("failed: ")),
        "a failure, not a timeout: {}",
        findings(&v)
    );
    m.faster_than(Duration::from_secs(8), "1 MB chain")
        .memory_below(MEMORY_LIMIT_MIB, "1 MB chain");
}

// ---------------------------------------------------------------------------------------------------------
// Malicious .rdp files.

/// The bytes mstsc writes for `lines`: UTF-16LE with a BOM, CRLF after every line.
fn mstsc_bytes(lines: &[&str]) -> Vec<u8> {
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push_str("\r\n");
    }
    let mut v = vec![0xFF, 0xFE];
    v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    v
}

/// The text of a UTF-16LE file with BOM.
fn utf16_text(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE with BOM");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).expect("utf-16")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// What sanitizing a hostile file gave: the JSON report, the human report and the clean file's text.
struct Sanitized {
    json: Value,
    report: String,
    clean: String,
}

impl Sanitized {
    /// The changes for a property (by canonical name), in line order.
    fn changes(&self, name: &str) -> Vec<&Value> {
        self.json["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["name"] == name)
            .collect()
    }

    /// The one change of a property.
    #[track_caller]
    fn change(&self, name: &str) -> &Value {
        match self.changes(name).as_slice() {
            [c] => c,
            other => panic!("{name}: {other:?}\n{}", self.report),
        }
    }

    /// Whether the clean file has this exact line.
    fn has_line(&self, line: &str) -> bool {
        self.clean.split("\r\n").any(|l| l == line)
    }
}

/// Writes `bytes` as `name`, runs `sanitize --json`, `sanitize` and `sanitize -o`, checks what holds for every
/// hostile file (exit 0, bounded memory, the input untouched, the clean file UTF-16LE and CRLF, the JSON's
/// `rdp` the same text), and returns the reports.
fn sanitize_file(w: &World, name: &str, bytes: &[u8]) -> Sanitized {
    let input = w.write(name, bytes);
    let clean_path = w.path(&format!("{name}.clean.rdp"));
    let json = measured(
        w.cmd(&["sanitize", s(&input), "--json"]),
        None,
        Duration::from_secs(30),
    );
    json.run.expect(0);
    json.memory_below(MEMORY_LIMIT_MIB, name);
    let text = w.run(&["sanitize", s(&input), "-o", s(&clean_path)]);
    text.expect(0);
    assert_eq!(
        std::fs::read(&input).expect("input"),
        bytes,
        "{name}: the input is never modified"
    );
    let clean = utf16_text(&std::fs::read(&clean_path).expect("clean file"));
    assert!(
        clean.ends_with("\r\n") && !clean.replace("\r\n", "").contains(['\r', '\n']),
        "{name}: CRLF only"
    );
    let json = json.run.json();
    assert_eq!(
        json["rdp"].as_str().map(|t| t.replace("\r\n", "\n")),
        Some(clean.replace("\r\n", "\n")),
        "{name}: --json's rdp is the clean file"
    );
    assert_eq!(json["encoding"], "UTF-16LE with BOM", "{name}");
    assert_eq!(json["line_ending"], "crlf", "{name}");
    Sanitized {
        json,
        report: text.stdout(),
        clean,
    }
}

/// Asserts a change's action and reason (and that it carries the line it came from).
#[track_caller]
fn assert_change(c: &Value, action: &str, reason: &str, line: usize) {
    assert_eq!(
        (c["action"].as_str(), c["reason"].as_str(), c["line"].as_u64()),
        (Some(action), Some(reason), Some(line as u64)),
        "{c}"
    );
}

#[test]
fn every_redirection_turned_on_is_turned_off_and_reported() {
    let w = World::new();
    let on: [(&str, &str); 13] = [
        ("audiocapturemode", "i:1"),
        ("camerastoredirect", "s:*"),
        ("redirectprinters", "i:1"),
        ("redirectlocation", "i:1"),
        ("redirectcomports", "i:1"),
        ("redirectsmartcards", "i:1"),
        ("redirectwebauthn", "i:1"),
        ("redirectclipboard", "i:1"),
        ("redirectposdevices", "i:1"),
        ("redirectdrives", "i:1"),
        ("drivestoredirect", "s:*"),
        ("devicestoredirect", "s:*"),
        ("usbdevicestoredirect", "s:*"),
    ];
    let mut lines = vec!["full address:s:rdp.corp.example".to_owned()];
    // Names as a hand-edited file may spell them.
    lines.extend(on.iter().map(|(n, v)| format!("{}:{v}", n.to_uppercase())));
    lines.push("disableclipboardredirection:i:0".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = sanitize_file(&w, "redirect-all.rdp", &mstsc_bytes(&refs));
    for (i, (name, value)) in on.iter().enumerate() {
        let c = r.change(name);
        assert_change(c, "forced_off", "redirection", i + 2);
        let (ty, old) = value.split_at(2);
        let off = if ty == "i:" { "0" } else { "" };
        assert_eq!(
            (c["old"].as_str(), c["new"].as_str()),
            (Some(old), Some(off)),
            "{c}"
        );
        assert!(r.has_line(&format!("{name}:{ty}{off}")), "{name}:\n{}", r.clean);
        assert!(
            r.report
                .contains(&format!("off       line {}: {name} ({old} -> {off})", i + 2)),
            "{name}:\n{}",
            r.report
        );
    }
    assert!(
        r.report.contains("0 removed, 13 forced off, 0 changed"),
        "{}",
        r.report
    );
    // Nothing redirects in the clean file; `--allow` is the only way back, one property at a time.
    assert!(!r.clean.contains(":s:*") && !r.clean.contains("redirectclipboard:i:1"));
    let input = w.path("redirect-all.rdp");
    let allowed = w
        .run(&["sanitize", s(&input), "--allow", "drivestoredirect", "--json"])
        .expect(0)
        .json();
    let text = allowed["rdp"].as_str().expect("rdp");
    assert!(
        text.contains("drivestoredirect:s:*") && text.contains("redirectclipboard:i:0"),
        "{text}"
    );
}

#[test]
fn remoteapp_with_userprofile_arguments_is_removed_with_what_it_would_have_run() {
    let w = World::new();
    let lines = [
        "full address:s:apps.corp.example",
        "remoteapplicationmode:i:1",
        "remoteapplicationname:s:Quarterly Report",
        "remoteapplicationprogram:s:||cmd",
        r"remoteapplicationcmdline:s:/c copy %USERPROFILE%\Documents\* \\tsclient\c\loot",
        "remoteapplicationexpandcmdline:i:0",
        r"remoteapplicationfile:s:%USERPROFILE%\.ssh\id_ed25519",
        r"shell working directory:s:%USERPROFILE%",
        "remoteapplicationexpandworkingdir:i:0",
        r"remoteapplicationicon:s:\\attacker.example\share\doc.ico",
    ];
    let r = sanitize_file(&w, "remoteapp.rdp", &mstsc_bytes(&lines));
    for (i, line) in lines.iter().enumerate().skip(1) {
        let (name, rest) = line.split_once(':').expect("name");
        let c = r.change(name);
        assert_change(c, "removed", "high_risk", i + 1);
        // The report shows what the file would have run.
        assert_eq!(c["old"].as_str(), rest.get(2..), "{c}");
    }
    let cmdline = r.change("remoteapplicationcmdline");
    assert_eq!(
        cmdline["message"],
        "high-risk: Command-line parameters for the RemoteApp"
    );
    assert!(
        r.report.contains(r"line 5: remoteapplicationcmdline: high-risk"),
        "{}",
        r.report
    );
    assert!(
        !r.clean.to_lowercase().contains("remoteapplication")
            && !r.clean.contains("%USERPROFILE%")
            && !r.clean.contains("shell working directory"),
        "{}",
        r.clean
    );
    // What is left is a plain desktop connection to the same host.
    assert!(r.has_line("full address:s:apps.corp.example"), "{}", r.clean);
}

#[test]
fn an_alternate_shell_is_removed_however_it_is_written() {
    let w = World::new();
    let lines = [
        "full address:s:rdp.corp.example",
        // A harmless value first and the payload later (the last line wins, as in mstsc)...
        "alternate shell:s:",
        "Alternate Shell :S: powershell -w hidden -enc SQBFAFgA",
        r"shell working directory:s:C:\Windows\Temp",
        // ... and a wrongly typed duplicate after it.
        "alternate shell:i:1",
    ];
    let r = sanitize_file(&w, "shell.rdp", &mstsc_bytes(&lines));
    let changes = r.changes("alternate shell");
    let got: Vec<(u64, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["line"].as_u64().unwrap_or_default(),
                c["action"].as_str().unwrap_or_default(),
                c["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (2, "removed", "duplicate"),
            (3, "removed", "duplicate"),
            (5, "removed", "wrong_type")
        ],
        "{changes:?}"
    );
    assert_eq!(changes[1]["message"], "set again on line 5, which wins");
    assert_change(r.change("shell working directory"), "removed", "high_risk", 4);
    let dups: Vec<u64> = r.json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["kind"] == "duplicate")
        .filter_map(|d| d["line"].as_u64())
        .collect();
    assert_eq!(dups, [3, 5], "{}", r.json["diagnostics"]);
    assert!(
        !r.clean.to_lowercase().contains("shell") && !r.clean.contains("powershell"),
        "{}",
        r.clean
    );
    // `--allow` keeps the shell only when asked, and says so.
    let input = w.path("shell.rdp");
    let r = w.run(&["sanitize", s(&input), "--allow", "alternate shell"]);
    assert!(
        r.expect(0)
            .stdout()
            .contains("line 5: alternate shell: written as `i` but the property has type `s`"),
        "{}",
        r.stdout()
    );
}

#[test]
fn a_rogue_alternate_full_address_is_removed_and_the_real_target_reported() {
    let w = World::new();
    let lines = [
        "full address:s:intranet.corp.example",
        "alternate full address:s:rdp.attacker.example:3389",
        "server port:i:3389",
        "username:s:alice@corp.example",
    ];
    let r = sanitize_file(&w, "alternate.rdp", &mstsc_bytes(&lines));
    let alt = r.change("alternate full address");
    assert_change(alt, "removed", "high_risk", 2);
    assert_eq!(alt["old"], "rdp.attacker.example:3389");
    let full = r.change("full address");
    assert_change(full, "kept", "connection_target", 1);
    assert_eq!(full["old"], "intranet.corp.example");
    assert!(!r.clean.contains("attacker"), "{}", r.clean);
    assert!(
        r.report
            .contains("kept      line 1: full address (intranet.corp.example): connects to this"),
        "{}",
        r.report
    );
    // Imported, the profile goes to the real host only, with no alternate address.
    let input = w.path("alternate.rdp");
    let j = w
        .run(&["import", s(&input), "--name", "intranet", "--json"])
        .expect(0)
        .json();
    assert_eq!(
        (j["profile"]["host"].as_str(), &j["profile"]["alternate"]),
        (Some("intranet.corp.example"), &Value::Null),
        "{j}"
    );

    // A second `full address` further down wins (as in mstsc and FreeRDP): the report names it and the line
    // it overrides, so the rogue target is the one shown.
    let lines = [
        "full address:s:intranet.corp.example",
        "session bpp:i:32",
        "full address:s:rdp.attacker.example",
    ];
    let r = sanitize_file(&w, "two-targets.rdp", &mstsc_bytes(&lines));
    let fulls = r.changes("full address");
    assert_eq!(fulls.len(), 2, "{fulls:?}");
    assert_change(fulls[0], "removed", "duplicate", 1);
    assert_eq!(fulls[0]["message"], "set again on line 3, which wins");
    assert_change(fulls[1], "kept", "connection_target", 3);
    assert_eq!(fulls[1]["old"], "rdp.attacker.example");
    assert!(
        r.report
            .contains("line 3: full address (rdp.attacker.example): connects to this"),
        "{}",
        r.report
    );
}

#[test]
fn a_stale_signature_is_dropped_with_a_note() {
    let w = World::new();
    // rdpsign's blob layout (01 00 01 00 01 00 00 00, a length, DER) around bytes that sign nothing current.
    let mut blob = vec![1, 0, 1, 0, 1, 0, 0, 0, 16, 0, 0, 0];
    blob.extend([
        0x30, 0x0e, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x01, 0x00,
    ]);
    let signature = format!(
        "signature:s:{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &blob)
    );
    let lines = [
        // Edited after signing: the signature covers another address.
        "full address:s:rdp.attacker.example",
        "redirectclipboard:i:1",
        "signscope:s:Full Address,RedirectClipboard",
        &signature,
    ];
    let r = sanitize_file(&w, "stale-signed.rdp", &mstsc_bytes(&lines));
    for (name, line) in [("signscope", 3), ("signature", 4)] {
        let c = r.change(name);
        assert_change(c, "removed", "signature", line);
        assert!(
            c["message"]
                .as_str()
                .is_some_and(|m| m.contains("the clean file is unsigned")),
            "{c}"
        );
    }
    assert_change(r.change("redirectclipboard"), "forced_off", "redirection", 2);
    assert!(
        !r.clean.contains("signature:") && !r.clean.contains("signscope:"),
        "{}",
        r.clean
    );
    assert!(
        r.report.contains(
            "removed   line 4: signature: rdpl rewrites the file and does not re-verify signatures"
        ),
        "{}",
        r.report
    );
    // `--allow` can't keep a signature.
    let input = w.path("stale-signed.rdp");
    let r = w.run(&["sanitize", s(&input), "--allow", "signature"]);
    r.expect(2);
    assert!(r.stderr().contains("invalidates a signature"), "{}", r.stderr());
}

#[test]
fn nul_bytes_reject_the_file_or_the_line_they_are_on() {
    let w = World::new();
    // A NUL at the top: the file is refused as binary, with the line.
    let early = w.write(
        "nul-early.rdp",
        &mstsc_bytes(&["full address:s:ok.example", "alternate shell:s:cmd\0.exe"]),
    );
    for cmd in ["sanitize", "import"] {
        let m = measured(w.cmd(&[cmd, s(&early)]), None, Duration::from_secs(10));
        m.run.expect(2);
        let e = m.run.stderr();
        assert!(
            e.contains("nul-early.rdp") && e.contains("not a text file") && e.contains("line 2"),
            "{cmd}: {e}"
        );
        m.memory_below(MEMORY_LIMIT_MIB, cmd);
    }
    // Further down (past the binary sniffing): the line is ignored, with a diagnostic naming it.
    let mut lines: Vec<String> = (0..60)
        .map(|i| format!("winposstr:s:0,1,{i},0,800,600"))
        .collect();
    lines[0] = "full address:s:ok.example".into();
    lines.push("full address:s:rdp.attacker.example\0".into());
    lines.push("session bpp:i:24".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = sanitize_file(&w, "nul-late.rdp", &mstsc_bytes(&refs));
    let diags = r.json["diagnostics"].as_array().expect("diagnostics");
    let nul = diags
        .iter()
        .find(|d| d["kind"] == "control_character")
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert_eq!(
        (nul["line"].as_u64(), nul["severity"].as_str()),
        (Some(61), Some("error")),
        "{nul}"
    );
    assert!(
        r.report
            .contains("ignored   line 61: the line contains control characters; ignored"),
        "{}",
        r.report
    );
    assert!(r.has_line("full address:s:ok.example"), "{}", r.clean);
    assert!(r.has_line("session bpp:i:24"), "parsing goes on: {}", r.clean);
    assert!(!r.clean.contains("attacker") && !r.clean.contains('\0'));
}

#[test]
fn a_hundred_thousand_lines_are_refused_or_handled_in_bounded_time_and_memory() {
    let w = World::new();
    // As mstsc would write them (UTF-16LE, CRLF): far over rdpl's 1 MiB limit, refused by size.
    let many: Vec<String> = (0..100_000)
        .map(|i| format!("winposstr:s:0,1,{i},0,800,600"))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let bytes = mstsc_bytes(&refs);
    let big = w.write("many-utf16.rdp", &bytes);
    let m = measured(w.cmd(&["sanitize", s(&big)]), None, Duration::from_secs(10));
    m.run.expect(2);
    assert!(
        m.run.stderr().contains(&format!("{} bytes", bytes.len()))
            && m.run.stderr().contains("many-utf16.rdp"),
        "{}",
        m.run.stderr()
    );
    m.faster_than(Duration::from_secs(3), "100 000 UTF-16 lines")
        .memory_below(MEMORY_LIMIT_MIB, "100 000 UTF-16 lines");

    // The most lines that fit under the limit, in plain ASCII: a known property, then mostly distinct unknown
    // properties (the worst case for the sanitizer), with malformed lines and duplicates among them. Every one
    // is reported, in linear time.
    let mut text = String::from("full address:s:h.example\r\n");
    let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let mut unknown = 0;
    for i in 1..100_000usize {
        if i % 20 == 0 {
            text.push_str("redirectclipboard:i:1\r\n");
        } else if i % 20 == 10 {
            text.push_str("x\r\n");
        } else {
            let n = unknown;
            unknown += 1;
            let name: String = [n / 46_656 % 26, n / 1296 % 36, n / 36 % 36, n % 36]
                .iter()
                .map(|&d| alphabet[d])
                .collect();
            text.push_str(&name);
            text.push_str(":s:\r\n");
        }
    }
    assert_eq!(unknown, 90_000);
    assert!(text.len() < 1024 * 1024, "{} bytes", text.len());
    let file = w.write("many-ascii.rdp", text.as_bytes());
    let m = measured(w.cmd(&["sanitize", s(&file)]), None, Duration::from_secs(180));
    m.run.expect(0);
    // Sanitizing was quadratic in the number of distinct properties (~45 s of CPU here in a debug build,
    // against ~5 s now): each entry was searched for in the list of winners. CPU time, not wall time, so that
    // a busy machine does not make this flaky.
    assert!(
        m.cpu < Duration::from_secs(20),
        "100 000 ASCII lines: {:?} of CPU (wall {:?})",
        m.cpu,
        m.elapsed
    );
    // Everything is kept in memory and reported: bounded by the 1 MiB input limit (~65 MiB for this, the
    // worst kind of file; ~90 MiB with --json), not by what the file claims.
    m.memory_below(2 * MEMORY_LIMIT_MIB, "100 000 ASCII lines");
    let out = m.run.stdout();
    assert!(
        out.starts_with(&format!(
            "{}: ASCII, 100000 lines, {} properties; {} removed, 1 forced off, 0 changed\n",
            file.display(),
            unknown + 2,
            unknown + 4_998
        )),
        "{}",
        out.lines().next().unwrap_or_default()
    );
    assert!(
        out.contains("  ignored   line 11: malformed line starting `x`")
            && out.contains("  removed   line 100000: ")
            && out.ends_with("(use -o FILE to write the clean file, or -o - to print it)\n"),
        "the report goes to the last line"
    );
    let m = measured(
        w.cmd(&["sanitize", s(&file), "--json"]),
        None,
        Duration::from_secs(180),
    );
    m.run.expect(0);
    assert!(m.cpu < Duration::from_secs(40), "--json: {:?} of CPU", m.cpu);
    m.memory_below(2 * MEMORY_LIMIT_MIB, "100 000 ASCII lines, --json");
    let j = m.run.json();
    let changes = j["changes"].as_array().expect("changes");
    let count = |action: &str, reason: &str| {
        changes
            .iter()
            .filter(|c| c["action"] == action && c["reason"] == reason)
            .count()
    };
    assert_eq!(count("removed", "unknown"), unknown);
    assert_eq!(
        count("removed", "duplicate"),
        4_998,
        "all but the last redirectclipboard"
    );
    assert_eq!(count("forced_off", "redirection"), 1);
    assert_eq!(count("kept", "connection_target"), 1);
    assert_eq!(changes.len(), unknown + 5_000);
    let diags = j["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(
        diags.iter().filter(|d| d["kind"] == "malformed_line").count(),
        5_000
    );
    assert_eq!(diags.iter().filter(|d| d["kind"] == "duplicate").count(), 4_998);
    assert_eq!(diags[0]["line"], 11, "{}", diags[0]);
}

#[test]
fn a_four_gigabyte_utf16_file_is_refused_by_its_size_without_being_read() {
    let w = World::new();
    let path = w.path("huge.rdp");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(&mstsc_bytes(&["full address:s:h.example"]))
        .expect("write");
    // Sparse: no disk used.
    f.set_len(4 << 30).expect("4 GiB sparse file");
    drop(f);
    for args in [
        vec!["sanitize", s(&path)],
        vec!["import", s(&path)],
        vec!["open", s(&path), "--dry-run"],
    ] {
        let cmd = args[0];
        let m = measured(w.cmd(&args), None, Duration::from_secs(10));
        m.run.expect(2);
        let e = m.run.stderr();
        assert!(
            e.contains("huge.rdp") && e.contains("4294967296 bytes") && e.contains("at most 1048576 bytes"),
            "{cmd}: {e}"
        );
        m.faster_than(Duration::from_secs(2), cmd)
            .memory_below(MEMORY_LIMIT_MIB, cmd);
    }
    // The same bytes on standard input: read up to the limit only, and the message says so, not a made-up size.
    let m = measured(
        w.cmd(&["sanitize", "-"]),
        Some(&vec![b'a'; 2 * 1024 * 1024]),
        Duration::from_secs(10),
    );
    m.run.expect(2);
    assert!(
        m.run.stderr().contains("more than 1048576 bytes"),
        "{}",
        m.run.stderr()
    );
    m.memory_below(MEMORY_LIMIT_MIB, "stdin");
    // A device that never ends: refused as a device, before a byte is read (issue #20).
    let m = measured(w.cmd(&["sanitize", "/dev/zero"]), None, Duration::from_secs(10));
    m.run.expect(2);
    assert!(
        m.run.stderr().contains("/dev/zero") && m.run.stderr().contains("it is a device, not a regular file"),
        "{}",
        m.run.stderr()
    );
    m.faster_than(Duration::from_secs(3), "/dev/zero")
        .memory_below(MEMORY_LIMIT_MIB, "/dev/zero");
}

// ---------------------------------------------------------------------------------------------------------
// Profiles.

/// Every file under the config dir with its bytes, for "nothing changed" checks.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = crate::connect::files_under(dir)
        .into_iter()
        .filter(|(p, _)| p.file_name().is_none_or(|n| n != ".lock"))
        .collect();
    v.sort();
    v
}

/// The `LINE` of a `PATH:LINE:COLUMN: message` error about `path`.
#[track_caller]
fn error_line(stderr: &str, path: &Path) -> usize {
    let prefix = format!("error: {}:", path.display());
    let rest = stderr
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}LINE:COLUMN:` in\n{stderr}"));
    rest.split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number in {rest}"))
}

#[test]
fn a_truncated_profile_file_is_named_with_its_line_and_never_rewritten() {
    let w = World::new();
    w.run(&[
        "profile",
        "add",
        "full",
        "--host",
        "web01.corp.test",
        "--user",
        "zoë",
        "--domain",
        "CORP",
        "--gateway",
        "gw.corp.test",
        "--fallback",
        "10.0.0.5",
    ])
    .expect(0);
    w.run(&[
        "profile",
        "set",
        "full",
        "redirect.drives=C:,D:",
        "display.width=1280",
        "rdp.session bpp=24",
    ])
    .expect(0);
    w.run(&["profile", "add", "good", "--host", "good.test"])
        .expect(0);
    let profiles = w.config().join("profiles");
    let whole = std::fs::read(profiles.join("full.toml")).expect("read");
    let text = String::from_utf8(whole.clone()).expect("utf-8");
    let in_string = text.find("web01.corp").expect("host") + 5;
    let in_char = text.find('ë').expect("ë") + 1;
    let cases = [
        ("half", whole.len() / 2),
        ("in-a-string", in_string),
        ("in-a-character", in_char),
    ];
    for (name, at) in cases {
        let path = profiles.join(format!("{name}.toml"));
        let cut = &whole[..at];
        std::fs::write(&path, cut).expect("write");
        let before = snapshot(&w.config());
        let lines = cut.iter().filter(|&&b| b == b'\n').count() + 1;
        for args in [
            vec!["profile", "show", name],
            vec!["connect", name, "--dry-run"],
            vec!["rdp", name, "--offline"],
            vec!["check", name],
            vec!["profile", "set", name, "user=mallory"],
            vec!["profile", "add", name, "--host", "other.test"],
            vec!["profile", "list"],
        ] {
            let r = w.run(&args);
            r.expect(2);
            if args[1] == "add" {
                // The name is taken by the broken file: refused as a clash, and the file left alone.
                assert!(r.stderr().contains("already exists"), "{}", r.stderr());
                continue;
            }
            let line = error_line(&r.stderr(), &path);
            assert!(
                (1..=lines).contains(&line),
                "{name} {args:?}: line {line} of {lines}"
            );
            if args[1] == "list" {
                assert!(
                    r.stdout().contains("good") && r.stdout().contains("full"),
                    "the other profiles are listed: {}",
                    r.stdout()
                );
            } else {
                assert!(r.stderr().contains("never overwrites"), "{}", r.stderr());
            }
        }
        assert_eq!(snapshot(&w.config()), before, "{name}: nothing was written");
        std::fs::remove_file(&path).expect("rm");
    }
    // A string cut open reports the line it starts on.
    let path = profiles.join("in-a-string.toml");
    std::fs::write(&path, &whole[..in_string]).expect("write");
    let r = w.run(&["profile", "show", "in-a-string"]);
    let host_line = text[..in_string].matches('\n').count() + 1;
    assert_eq!(error_line(&r.stderr(), &path), host_line, "{}", r.stderr());
    // A cut in the middle of a UTF-8 character is named as such.
    let path = profiles.join("in-a-character.toml");
    std::fs::write(&path, &whole[..in_char]).expect("write");
    let r = w.run(&["profile", "show", "in-a-character"]);
    assert!(r.stderr().contains("not valid UTF-8"), "{}", r.stderr());
}

#[test]
fn a_newline_in_a_field_is_refused_and_cannot_inject_an_rdp_line() {
    let w = World::new();
    w.add_web01("alice", &[]);
    let file = w.config().join("profiles/web01.toml");
    let before = std::fs::read(&file).expect("read");
    let inject = "\r\nalternate shell:s:cmd.exe";
    for key in [
        "user",
        "domain",
        "host",
        "alternate",
        "fallback",
        "gateway",
        "redirect.drives",
        "rdp.winposstr",
        "rdp.remotedesktopname",
    ] {
        for value in [format!("a{inject}"), "a\nb".to_owned(), "a\rb".to_owned()] {
            let r = w.run(&["profile", "set", "web01", &format!("{key}={value}")]);
            r.expect(2);
            assert!(
                r.stderr().contains(&format!("error: invalid value: {key}: ")),
                "{key}: {}",
                r.stderr()
            );
            assert_eq!(std::fs::read(&file).expect("read"), before, "{key}: unchanged");
        }
    }
    let r = w.run(&[
        "profile",
        "add",
        "web02",
        "--host",
        "h.test",
        "--domain",
        "CORP\nalternate shell:s:x",
    ]);
    r.expect(2);
    assert!(!w.config().join("profiles/web02.toml").exists());

    // Values that are awkward for TOML but legal are stored and read back exactly, and stay on their line.
    let awkward = r#"o'brien "x" \ ] # ''' """ ={}"#;
    w.run(&[
        "profile",
        "set",
        "web01",
        &format!("user={awkward}"),
        &format!("domain={awkward}"),
    ])
    .expect(0);
    let p = w.run(&["profile", "show", "web01", "--json"]).expect(0).json();
    assert_eq!(
        (p["profile"]["user"].as_str(), p["profile"]["domain"].as_str()),
        (Some(awkward), Some(awkward))
    );
    let rdp = w.run(&["rdp", "web01", "--offline"]).expect(0).stdout();
    assert!(rdp.contains(&format!("\r\nusername:s:{awkward}\r\n")), "{rdp}");
    assert_eq!(rdp.matches("username:").count(), 1);

    // A newline written into the file by hand (a TOML escape) is refused on load, naming the file and line.
    let evil = w.config().join("profiles/evil.toml");
    let text = "version = 1\nhost = \"h.test\"\nuser = \"alice\\r\\nalternate shell:s:cmd.exe\"\n";
    std::fs::write(&evil, text).expect("write");
    for args in [vec!["rdp", "evil", "--offline"], vec!["profile", "show", "evil"]] {
        let r = w.run(&args);
        r.expect(2);
        assert!(
            r.stderr().contains(&format!("{}:3:8:", evil.display()))
                && r.stderr().contains("control character"),
            "{args:?}: {}",
            r.stderr()
        );
        assert!(!r.stdout().contains("alternate shell"), "{}", r.stdout());
    }
    assert_eq!(std::fs::read_to_string(&evil).expect("read"), text);
}

#[test]
fn a_symlinked_config_dir_is_written_through_and_stays_a_symlink() {
    let w = World::new();
    let real = w.path("dotfiles/rdpl");
    std::fs::create_dir_all(&real).expect("mkdir");
    std::os::unix::fs::symlink(&real, w.config()).expect("symlink");
    w.run(&["profile", "add", "web01", "--host", "web01.corp.test"])
        .expect(0);
    w.run(&["profile", "add", "web02", "--host", "web02.corp.test"])
        .expect(0);
    w.run(&["profile", "set", "web01", "user=alice"]).expect(0);
    w.run(&["profile", "rename", "web02", "db01"]).expect(0);
    let list = w.run(&["profile", "list", "--json"]).expect(0).json();
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["db01", "web01"]);
    let meta = std::fs::symlink_metadata(w.config()).expect("meta");
    assert!(meta.file_type().is_symlink(), "the config dir is still a symlink");
    assert_eq!(std::fs::read_link(w.config()).expect("link"), real);
    let mut files: Vec<String> = std::fs::read_dir(real.join("profiles"))
        .expect("real profiles dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["db01.toml", "web01.toml"],
        "written in the real dir, no temp files left"
    );
    let text = std::fs::read_to_string(real.join("profiles/web01.toml")).expect("read");
    assert!(text.contains("user = \"alice\""), "{text}");
    // The profiles dir itself a symlink (dotfiles that keep only profiles) works the same way.
    let other = w.path("elsewhere");
    std::fs::create_dir_all(&other).expect("mkdir");
    let cfg2 = w.path("config2");
    std::fs::create_dir_all(&cfg2).expect("mkdir");
    std::os::unix::fs::symlink(&other, cfg2.join("profiles")).expect("symlink");
    w.run(&[
        "--config-dir",
        s(&cfg2),
        "profile",
        "add",
        "x",
        "--host",
        "x.test",
    ])
    .expect(0);
    assert!(other.join("x.toml").is_file());
    assert!(
        std::fs::symlink_metadata(cfg2.join("profiles"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    // A dangling symlink as the config dir: a clear error naming it, nothing created elsewhere.
    let dangling = w.path("dangling");
    std::os::unix::fs::symlink(w.path("nowhere"), &dangling).expect("symlink");
    let r = w.run(&[
        "--config-dir",
        s(&dangling),
        "profile",
        "add",
        "y",
        "--host",
        "y.test",
    ]);
    r.expect(2);
    assert!(r.stderr().contains(s(&dangling)), "{}", r.stderr());
}

/// Runs `args` with `dir` read-only for rdpl, also as root: a read-only bind mount of `dir` over itself in a
/// private mount namespace (`unshare -m`); for other users, mode 0500 on `dir` and everything below it.
fn run_read_only(w: &World, dir: &Path, args: &[&str]) -> Run {
    if is_root() {
        let mut c = w.cmd(args);
        let rdpl = PathBuf::from(c.get_program());
        let mut all: Vec<std::ffi::OsString> = vec![
            "-m".into(),
            "--propagation".into(),
            "private".into(),
            "--".into(),
            "sh".into(),
            "-c".into(),
            r#"mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@""#.into(),
            "sh".into(),
            dir.into(),
            rdpl.into(),
        ];
        all.extend(c.get_args().map(ToOwned::to_owned));
        let envs: Vec<_> = c
            .get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect();
        c = Command::new(support::tool("unshare"));
        c.args(all).env_clear().envs(envs).stdin(Stdio::null());
        Run(c.output().expect("unshare runs"))
    } else {
        use std::os::unix::fs::PermissionsExt;
        let set = |mode| {
            for d in [dir.to_owned(), dir.join("profiles")] {
                if d.is_dir() {
                    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).expect("chmod");
                }
            }
        };
        set(0o500);
        let r = w.run(args);
        set(0o700);
        r
    }
}

#[test]
fn a_read_only_config_dir_fails_clearly_and_loses_nothing() {
    if !support::require_all(&["unshare", "mount"]) {
        return;
    }
    let w = World::new();
    w.run(&["profile", "add", "keep", "--host", "keep.test", "--user", "alice"])
        .expect(0);
    let config = w.config();
    let before = snapshot(&config);
    // Reading works.
    let list = run_read_only(&w, &config, &["profile", "list", "--json"]);
    assert_eq!(list.expect(0).json()["profiles"][0]["name"], "keep");
    run_read_only(&w, &config, &["rdp", "keep", "--offline"]).expect(0);
    // Every write fails with the path it could not write.
    for args in [
        vec!["profile", "add", "new", "--host", "new.test"],
        vec!["profile", "set", "keep", "user=bob"],
        vec!["profile", "rename", "keep", "kept"],
        vec!["profile", "rm", "keep"],
    ] {
        let r = run_read_only(&w, &config, &args);
        r.expect(2);
        let e = r.stderr();
        assert!(
            e.starts_with("error: could not ") && e.contains(s(&config)) && !e.contains("panicked"),
            "{args:?}: {e}"
        );
        if is_root() {
            assert!(e.contains("Read-only file system"), "{args:?}: {e}");
        }
    }
    assert_eq!(snapshot(&config), before, "nothing lost, nothing changed");
    // Only the profiles dir read-only: the lock works, the write fails naming the profiles dir.
    let profiles = config.join("profiles");
    let r = run_read_only(&w, &profiles, &["profile", "add", "new", "--host", "new.test"]);
    r.expect(2);
    assert!(r.stderr().contains(s(&profiles)), "{}", r.stderr());
    assert_eq!(snapshot(&config), before);
    w.run(&["profile", "add", "new", "--host", "new.test"]).expect(0);
}

/// Whether this process runs as root.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

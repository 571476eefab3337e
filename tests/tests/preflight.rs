//! `rdpl check` end to end: against fake servers for what no real server does (every RDP_NEG_FAILURE code,
//! silence, garbage, a lying length, a slowloris, a TLS reset, a 1 MB chain, TLS 1.0 only, RD Gateways), and
//! against real ones from the harness (xrdp in three modes, expired and wrong-name certificates, the FreeRDP
//! shadow server with NLA, dnsmasq, network namespaces).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

use crate::support::certs::{self, TestCert};
use crate::{Run, World};

/// A fake server: accepts on 127.0.0.1 and hands every connection to `behave` on its own thread.
pub(crate) struct Fake {
    pub(crate) addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Fake {
    pub(crate) fn start(behave: impl Fn(TcpStream) + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, behave) = (stop.clone(), Arc::new(behave));
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let b = behave.clone();
                        thread::spawn(move || b(s));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Fake { addr, stop }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one X.224 Connection Request (TPKT-framed); returns the requested protocols.
pub(crate) fn read_cr(s: &mut TcpStream) -> Option<u32> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let mut body = vec![0u8; len.checked_sub(4)?];
    s.read_exact(&mut body).ok()?;
    // RDP_NEG_REQ is the last 8 bytes when present: type 1, flags, length 8, protocols.
    (body.len() >= 8 && body[body.len() - 8] == 1)
        .then(|| u32::from_le_bytes(body[body.len() - 4..].try_into().unwrap_or([0; 4])))
        .or(Some(0))
}

fn cc(kind: u8, value: u32) -> Vec<u8> {
    let mut v = vec![
        0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, kind, 0x00, 0x08, 0x00,
    ];
    v.extend_from_slice(&value.to_le_bytes());
    v
}

/// RDP_NEG_RSP selecting `protocol`.
pub(crate) fn neg_rsp(protocol: u32) -> Vec<u8> {
    cc(0x02, protocol)
}

/// RDP_NEG_FAILURE with `code`.
pub(crate) fn neg_failure(code: u32) -> Vec<u8> {
    cc(0x03, code)
}

pub(crate) fn tls_config(chain: Vec<CertificateDer<'static>>, key_pem: &str) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key pem");
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config"),
    )
}

pub(crate) fn der(c: &TestCert) -> CertificateDer<'static> {
    CertificateDer::from(c.der().to_vec())
}

/// A TLS-only RDP server (answers PROTOCOL_SSL when asked for it, SSL_REQUIRED_BY_SERVER otherwise) with `cert`.
pub(crate) fn tls_rdp_server(chain: Vec<CertificateDer<'static>>, key_pem: &str) -> Fake {
    switchable_tls_rdp_server(Arc::new(std::sync::RwLock::new(tls_config(chain, key_pem))))
}

/// The same, serving whatever configuration `config` holds at the time of each connection.
pub(crate) fn switchable_tls_rdp_server(config: Arc<std::sync::RwLock<Arc<rustls::ServerConfig>>>) -> Fake {
    Fake::start(move |mut s| {
        let config = config.read().map(|c| c.clone()).expect("config lock");
        let Some(requested) = read_cr(&mut s) else { return };
        if requested & 1 == 0 {
            let _ = s.write_all(&neg_failure(1));
            return;
        }
        let _ = s.write_all(&neg_rsp(1));
        let mut conn = rustls::ServerConnection::new(config).expect("conn");
        let mut tls = rustls::Stream::new(&mut conn, &mut s);
        let mut buf = [0u8; 256];
        let _ = tls.read(&mut buf);
    })
}

/// `rdpl check --json --timeout BUDGET ARGS...`: the run and its parsed report.
pub(crate) fn check_json(w: &World, budget: &str, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["check", "--json", "--timeout", budget];
    all.extend_from_slice(args);
    let r = w.run(&all);
    let v: Value =
        serde_json::from_slice(&r.0.stdout).unwrap_or_else(|e| panic!("{e}\n{}\n{}", r.stdout(), r.stderr()));
    (r, v)
}

/// `rdpl check TARGET EXTRA... --json` with a 4 s budget.
fn check(w: &World, target: &str, extra: &[&str]) -> (Run, Value) {
    let mut args = vec![target];
    args.extend_from_slice(extra);
    check_json(w, "4s", &args)
}

/// The ids of a report's findings.
pub(crate) fn ids(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The finding with this id (panics, listing the findings, when there is none).
pub(crate) fn finding<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| {
            panic!(
                "no {id} in {}",
                serde_json::to_string_pretty(&v["findings"]).unwrap_or_default()
            )
        })
}

#[test]
fn every_negotiation_failure_code_gets_its_finding() {
    let w = World::new();
    let cases = [
        (1, "nego.ssl_required"),
        (2, "nego.ssl_not_allowed"),
        (3, "nego.ssl_cert_not_on_server"),
        (4, "nego.inconsistent_flags"),
        (5, "nego.hybrid_required"),
        (6, "nego.ssl_with_user_auth_required"),
    ];
    for (code, id) in cases {
        let fake = Fake::start(move |mut s| {
            if read_cr(&mut s).is_some() {
                let _ = s.write_all(&neg_failure(code));
            }
        });
        let (r, v) = check(&w, &fake.addr.to_string(), &[]);
        r.expect(1);
        assert_eq!(finding(&v, id)["severity"], "error", "code {code}");
        assert_eq!(v["verdict"], "blocked");
        assert!(
            v["security"]["failure"]
                .as_str()
                .is_some_and(|f| f.contains("REQUIRED") || f.contains("FLAGS") || f.contains("SERVER"))
        );
    }
}

#[test]
fn hostile_servers_end_within_the_timeout_with_named_findings() {
    let w = World::new();
    let silent = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        thread::sleep(Duration::from_secs(20));
    });
    let garbage = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let lying = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        // A TPKT header that claims 65535 bytes, then a trickle.
        let _ = s.write_all(&[0x03, 0x00, 0xff, 0xff, 0x0e, 0xd0]);
        thread::sleep(Duration::from_secs(20));
    });
    let slowloris = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        for b in neg_rsp(1) {
            if s.write_all(&[b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    let closer = Fake::start(|mut s| {
        let _ = read_cr(&mut s);
        let _ = s.shutdown(Shutdown::Both);
    });
    let tls_reset = Fake::start(|mut s| {
        if read_cr(&mut s).is_some() {
            let _ = s.write_all(&neg_rsp(1));
            let mut hello = [0u8; 64];
            let _ = s.read(&mut hello);
            // Reset instead of a ServerHello.
            let _ = socket_reset(&s);
        }
    });
    for (fake, id) in [
        (&silent, "x224.silent"),
        (&garbage, "x224.garbage"),
        (&lying, "x224.garbage"),
        (&slowloris, "x224.silent"),
        (&closer, "x224.closed"),
        (&tls_reset, "tls.handshake_failed"),
    ] {
        let t0 = Instant::now();
        let (r, v) = check(&w, &fake.addr.to_string(), &[]);
        r.expect(1);
        assert_eq!(
            finding(&v, id)["severity"],
            "error",
            "{id}: {}",
            serde_json::to_string(&v["findings"]).unwrap_or_default()
        );
        // The budget is 4 s; the process must be done well before the servers give up (20 s).
        assert!(
            t0.elapsed() < Duration::from_secs(8),
            "{id} took {:?}",
            t0.elapsed()
        );
    }
}

pub(crate) fn socket_reset(s: &TcpStream) -> std::io::Result<()> {
    // SO_LINGER with a zero timeout makes close() send RST.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(s);
    // SAFETY: fd is a valid socket for the lifetime of `s`; the option value is a properly sized linger struct.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::from_ref(&linger).cast(),
            u32::try_from(std::mem::size_of::<libc::linger>()).unwrap_or(8),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn a_tls_1_0_only_server_is_reported_as_legacy() {
    if !crate::support::require_all(&["openssl"]) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let port = crate::support::free_port();
    let mut server = std::process::Command::new(crate::support::tool("openssl"))
        .args([
            "s_server",
            "-quiet",
            "-tls1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
            "-accept",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(cert.cert_path())
        .arg("-key")
        .arg(cert.key_path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    // X.224 in front, then the TLS bytes piped to the real TLS 1.0 server. As a real server does, it selects
    // TLS only when TLS was asked for (else it refuses with SSL_REQUIRED_BY_SERVER).
    let front = Fake::start(move |mut s| {
        let Some(requested) = read_cr(&mut s) else {
            return;
        };
        if requested & 1 == 0 {
            let _ = s.write_all(&neg_failure(1));
            return;
        }
        if s.write_all(&neg_rsp(1)).is_err() {
            return;
        }
        let Ok(mut back) = TcpStream::connect(("127.0.0.1", port)) else {
            return;
        };
        let (mut s2, mut back2) = (s.try_clone().expect("clone"), back.try_clone().expect("clone"));
        thread::spawn(move || {
            let _ = std::io::copy(&mut back2, &mut s2);
        });
        let _ = std::io::copy(&mut s, &mut back);
        // s_server serves one connection at a time: let it go as soon as our client leaves.
        let _ = back.shutdown(Shutdown::Both);
    });
    let (r, v) = check(&w, &front.addr.to_string(), &[]);
    r.expect(1);
    assert_eq!(finding(&v, "tls.legacy_version")["severity"], "error");
    assert!(
        finding(&v, "tls.legacy_version")["fix"]
            .as_str()
            .is_some_and(|f| f.contains("tls.legacy=allow")),
        "the fix names the profile switch: {v:#}"
    );

    // A profile that allows legacy TLS: a warning, and FreeRDP is told to accept TLS 1.0 (its own parser
    // accepts the options); rdpl's own session still refuses.
    w.run(&[
        "profile",
        "add",
        "old2008",
        "--host",
        "127.0.0.1",
        "--port",
        &front.addr.port().to_string(),
    ])
    .expect(0);
    w.run(&["profile", "set", "old2008", "tls.legacy=allow"])
        .expect(0);
    let (r, v) = check(&w, "old2008", &[]);
    r.expect(0);
    assert_eq!(v["verdict"], "warn", "{v:#}");
    assert_eq!(finding(&v, "tls.legacy_only")["severity"], "warning");
    assert!(!ids(&v).contains(&"tls.legacy_version".to_owned()), "{v:#}");
    let fakes = crate::connect::Fakes::install(&w, &["xfreerdp3"]);
    let dry = crate::Run(
        fakes
            .cmd(
                &w,
                &[
                    "connect",
                    "old2008",
                    "--dry-run",
                    "--json",
                    "--with",
                    "xfreerdp",
                    "--timeout",
                    "4s",
                ],
            )
            .output()
            .expect("run"),
    );
    dry.expect(0);
    let args = crate::connect::handoff_args(&dry.json());
    assert!(
        args.contains(&"/tls:seclevel:0".to_owned()) && args.contains(&"/tls:enforce:1.0".to_owned()),
        "{args:?}"
    );
    if crate::support::require("xfreerdp3") {
        crate::connect::parser_accepts(&crate::support::tool("xfreerdp3"), &args, "");
    }
    let native = w.run(&[
        "connect",
        "old2008",
        "--dry-run",
        "--with",
        "native",
        "--timeout",
        "4s",
    ]);
    native.expect(1);
    assert!(
        native.stdout().contains("rdpl's own session can't"),
        "{}",
        native.stdout()
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn certificate_problems_are_named() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let not_yet = certs::not_yet_valid(&["127.0.0.1"]);
    let f = tls_rdp_server(vec![der(&not_yet)], not_yet.key_pem());
    let (r, v) = check(&w, &f.addr.to_string(), &[]);
    r.expect(1);
    assert_eq!(finding(&v, "cert.not_yet_valid")["severity"], "error");
    assert_eq!(v["certificate"]["not_yet_valid"], true);

    let soon = certs::cert(&["127.0.0.1"])
        .valid_between(
            time::OffsetDateTime::now_utc() - time::Duration::days(300),
            time::OffsetDateTime::now_utc() + time::Duration::days(3),
        )
        .self_signed();
    let f = tls_rdp_server(vec![der(&soon)], soon.key_pem());
    let (_, v) = check(&w, &f.addr.to_string(), &[]);
    assert_eq!(finding(&v, "cert.expiring_soon")["severity"], "warning");

    let ec = certs::cert(&["127.0.0.1"]).ecdsa().self_signed();
    let f = tls_rdp_server(vec![der(&ec)], ec.key_pem());
    let (_, v) = check(&w, &f.addr.to_string(), &[]);
    assert_eq!(v["certificate"]["key"], "EC 256");
    assert!(!ids(&v).contains(&"cert.weak_key".to_owned()));
    assert_eq!(v["certificate"]["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn a_certificate_from_a_trusted_ca_is_trusted_and_pins_catch_a_change() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let (ca, leaf) = certs::ca_signed(&["localhost", "127.0.0.1"]);
    let config = Arc::new(std::sync::RwLock::new(tls_config(
        vec![der(&leaf)],
        leaf.key_pem(),
    )));
    let server = switchable_tls_rdp_server(config.clone());
    let target = server.addr.to_string();
    // Without the CA in the trust store: untrusted.
    let (_, v) = check(&w, &target, &[]);
    assert_eq!(v["certificate"]["trusted"], false);
    assert_eq!(finding(&v, "cert.untrusted")["severity"], "warning");
    // With the CA as the system trust store (rustls-platform-verifier reads SSL_CERT_FILE on Linux).
    let r = Run(w
        .cmd(&["check", &target, "--json"])
        .env("SSL_CERT_FILE", ca.cert_path())
        .output()
        .expect("runs"));
    let v: Value = r.json();
    assert_eq!(
        v["certificate"]["trusted"],
        true,
        "{}",
        serde_json::to_string(&v["findings"]).unwrap_or_default()
    );
    assert!(
        !ids(&v)
            .iter()
            .any(|i| i == "cert.untrusted" || i == "cert.self_signed")
    );
    assert_eq!(v["certificate"]["name_matches"], true);
    assert_eq!(v["certificate"]["pin"], "new");
    assert!(ids(&v).contains(&"cert.pin_new".to_owned()));

    // Pin it; then the server's certificate changes between two runs.
    w.run(&["pin", "accept", &target]).expect(0);
    let (_, v) = check(&w, &target, &[]);
    assert_eq!(v["certificate"]["pin"], "match");
    let pinned = v["certificate"]["sha256"].as_str().expect("sha").to_owned();
    let other = certs::cert(&["127.0.0.1"]).fresh_key().self_signed();
    *config.write().expect("lock") = tls_config(vec![der(&other)], other.key_pem());
    let (r, v) = check(&w, &target, &[]);
    r.expect(1);
    assert_eq!(v["certificate"]["pin"], "changed");
    let now = v["certificate"]["sha256"].as_str().expect("sha").to_owned();
    assert_ne!(now, pinned);
    let msg = finding(&v, "cert.pin_changed")["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        msg.contains(&pinned) && msg.contains(&now) && msg.contains("Test CA"),
        "{msg}"
    );
    let list = w.run(&["pin", "list", "--json"]).expect(0).json();
    assert_eq!(list["pins"][&target]["sha256"], pinned.as_str());
    // Accepting the new certificate replaces the pin; forgetting it makes it new again.
    let r = w.run(&["pin", "accept", &target]);
    assert!(
        r.expect(0).stdout().contains("replaced the pin"),
        "{}",
        r.stdout()
    );
    let (_, v) = check(&w, &target, &[]);
    assert_eq!(v["certificate"]["pin"], "match");
    w.run(&["pin", "forget", &target]).expect(0);
    let (_, v) = check(&w, &target, &[]);
    assert_eq!(v["certificate"]["pin"], "new");
}

/// An HTTPS server answering every request with `response`.
pub(crate) fn https(cert: &TestCert, response: &'static str) -> Fake {
    let config = tls_config(vec![der(cert)], cert.key_pem());
    Fake::start(move |mut s| {
        let mut conn = rustls::ServerConnection::new(config.clone()).expect("conn");
        let mut tls = rustls::Stream::new(&mut conn, &mut s);
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tls.write_all(response.as_bytes());
        let _ = tls.flush();
    })
}

#[test]
fn rd_gateways_are_classified() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let rdp_cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&rdp_cert)], rdp_cert.key_pem());
    let gw_cert = certs::self_signed(&["127.0.0.1"]);
    let rdg = https(
        &gw_cert,
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n",
    );
    let plain = https(&gw_cert, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let closed_port = crate::support::free_port();
    let add = |name: &str, gw: String| {
        w.run(&[
            "profile",
            "add",
            name,
            "--host",
            &rdp.addr.to_string(),
            "--gateway",
            &gw,
        ])
        .expect(0);
    };
    add("via-rdg", rdg.addr.to_string());
    add("via-web", plain.addr.to_string());
    add("via-nothing", format!("127.0.0.1:{closed_port}"));

    let (_, v) = check(&w, "via-rdg", &[]);
    let g = &v["gateway"];
    assert_eq!(g["status"], "ok", "{g}");
    assert_eq!(g["auth_schemes"], serde_json::json!(["Negotiate", "NTLM"]));
    assert_eq!(g["transport"], "websocket");
    assert_eq!(g["certificate"]["self_signed"], true);
    assert!(ids(&v).contains(&"gateway.cert.self_signed".to_owned()));

    let (r, v) = check(&w, "via-web", &[]);
    r.expect(1);
    assert_eq!(v["gateway"]["status"], "not_rdg");
    assert_eq!(finding(&v, "gateway.not_rdg")["severity"], "error");

    let (r, v) = check(&w, "via-nothing", &[]);
    r.expect(1);
    assert_eq!(v["gateway"]["status"], "unreachable");
    assert!(ids(&v).contains(&"gateway.unreachable".to_owned()));
}

#[test]
fn several_targets_give_an_array_and_a_summary() {
    let w = World::new();
    let ok_cert = certs::self_signed(&["127.0.0.1"]);
    let good = tls_rdp_server(vec![der(&ok_cert)], ok_cert.key_pem());
    let closed = format!("127.0.0.1:{}", crate::support::free_port());
    let r = w.run(&[
        "check",
        &good.addr.to_string(),
        &closed,
        "--json",
        "--timeout",
        "3s",
    ]);
    r.expect(1);
    let v = r.json();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(v[1]["verdict"], "blocked");
    assert!(ids(&v[1]).contains(&"tcp.refused".to_owned()));
    let r = w.run(&["check", &good.addr.to_string(), &closed, "--timeout", "3s"]);
    let out = r.stdout();
    assert!(out.contains("2 checked, 1 blocked"), "{out}");
    assert!(
        out.contains("✗ tcp") && out.contains("fix: Make sure Remote Desktop is enabled"),
        "{out}"
    );
}

#[test]
fn check_all_reports_a_broken_profile_file_and_checks_the_rest() {
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let good = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    w.run(&["profile", "add", "good", "--host", &good.addr.to_string()])
        .expect(0);
    let broken = w.config().join("profiles/broken.toml");
    std::fs::write(&broken, "version = 1\nhost = \"x\"\nport = \"bad\"\n").expect("write");
    let r = w.run(&["check", "--all", "--json", "--timeout", "3s"]);
    r.expect(2);
    assert_eq!(
        r.json().as_array().map(Vec::len),
        Some(1),
        "the good profile is still checked"
    );
    assert!(
        r.stderr().contains(&format!("{}:3:8", broken.display())) && r.stderr().contains("help:"),
        "{}",
        r.stderr()
    );
}

/// A gateway the profile says never to use (`gatewayusagemethod` 0 or 4 in an imported file) is not probed, so a
/// dead one is no error; with usage `detect` the same dead gateway is reported.
#[test]
fn a_gateway_that_is_never_used_is_not_probed() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    let closed = crate::support::free_port();
    let file = w.write(
        "never.rdp",
        format!(
            "full address:s:{}\r\nusername:s:alice\r\ngatewayhostname:s:127.0.0.1:{closed}\r\ngatewayusagemethod:i:4\r\n",
            rdp.addr
        )
        .as_bytes(),
    );
    w.run(&["import", file.to_str().expect("utf-8"), "--name", "never"])
        .expect(0);
    let shown = w.run(&["profile", "show", "never"]);
    assert!(
        shown.stdout().contains("(never)"),
        "4 is `do not use`: {}",
        shown.stdout()
    );
    let (r, v) = check(&w, "never", &[]);
    r.expect(0);
    assert!(v["gateway"].is_null(), "{v:#}");
    assert!(!ids(&v).iter().any(|id| id.starts_with("gateway.")), "{v:#}");
    w.run(&["profile", "set", "never", "gateway.usage=detect"])
        .expect(0);
    let (_, v) = check(&w, "never", &[]);
    assert!(
        ids(&v).iter().any(|id| id.starts_with("gateway.")),
        "a used gateway is probed: {v:#}"
    );
}

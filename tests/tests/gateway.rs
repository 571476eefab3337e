//! The loopback RD Gateway (`test-gateway`, tests/src/test_gateway.rs) against the real client rdpl uses,
//! ironrdp-mstsgu: bytes through the tunnel to an echo server and to the FreeRDP shadow server, the gateway
//! certificate pinned in a validation callback, and each way a gateway says no (HTTP 401, a target outside
//! its policy, a refusing tunnel) as the error the client reports.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ironrdp_mstsgu::{GwClient, GwConnectTarget, GwErrorKind, GwSessionAuthentication, GwTunnelPolicy};
use ironrdp_tls::{CertificateValidation, CertificateValidationCallback};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::cargo_bin;
use crate::support::certs::{self, TestCert};
use crate::support::process::{START_TIMEOUT, harden, run_with_timeout};
use crate::support::rdp::{self, Negotiation};
use crate::support::{self, Shadow};

const USER: &str = "gwuser";
/// A password no log could contain by accident.
const PASSWORD: &str = "Gw-4d1e7b-Recognizable!";
/// The client name the tests give ironrdp-mstsgu (it goes into TUNNEL_AUTH).
const CLIENT_NAME: &str = "rdpl-e2e";
/// No step of a test may hang the suite.
const STEP: Duration = Duration::from_secs(20);

/// The test-gateway binary, built once.
fn test_gateway() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| cargo_bin("rdpl-tests", "test-gateway"))
}

/// ironrdp-connector's sspi enables rustls' aws-lc-rs provider next to ring, so rustls cannot pick one by
/// itself: ironrdp-tls builds its client config from the process default.
fn crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running test-gateway; killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts it with `cert`, the test user and `args`, and waits for its `listening` line.
    #[track_caller]
    fn start(cert: &TestCert, args: &[&str]) -> Gateway {
        Gateway::start_as(cert, USER, PASSWORD, args)
    }

    /// Starts it with `cert`, accepting `user`/`password` (HTTP Basic), and `args`.
    #[track_caller]
    fn start_as(cert: &TestCert, user: &str, password: &str, args: &[&str]) -> Gateway {
        let dir = tempfile::Builder::new()
            .prefix("rdpl-gateway-")
            .tempdir()
            .expect("tempdir");
        let log = dir.path().join("gateway.log");
        let mut cmd = Command::new(test_gateway());
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--cert")
            .arg(cert.cert_path())
            .arg("--key")
            .arg(cert.key_path())
            .args(["--user", user])
            .env("TEST_GATEWAY_PASSWORD", password)
            .args(args);
        harden(&mut cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the log"));
        let mut child = cmd.spawn().expect("spawn test-gateway");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let addr = line
            .strip_prefix("listening ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .and_then(|addr| addr.parse::<SocketAddr>().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "test-gateway printed {line:?} instead of `listening ADDR`\n--- log\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
        Gateway {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    /// What it logged so far (stderr).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its log once it contains `needle` (it may log an event after the client has seen its effect).
    async fn wait_for_log(&self, needle: &str) -> String {
        for _ in 0..200 {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{needle:?} never showed up in the gateway log:\n{}", self.log());
    }

    /// The client's view of it, asking for `server`.
    fn target(&self, password: &str, server: &str) -> GwConnectTarget {
        GwConnectTarget {
            gw_endpoint: self.addr.to_string(),
            gw_user: USER.to_owned(),
            gw_pass: password.to_owned(),
            smart_card: None,
            server: server.to_owned(),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the certificate callback was asked: (endpoint, validation error).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A callback that accepts exactly `cert` (by its DER) and records every call.
fn pinned(cert: &TestCert, seen: &Seen) -> CertificateValidationCallback {
    let der = cert.der().to_vec();
    let seen = Arc::clone(seen);
    Arc::new(move |leaf: &[u8], endpoint: &str, error: &str| {
        seen.lock()
            .expect("lock")
            .push((endpoint.to_owned(), error.to_owned()));
        leaf == der.as_slice()
    })
}

/// How a connection attempt failed: the error as shown, and its kind.
#[derive(Debug)]
struct Failure {
    display: String,
    kind: Refused,
}

#[derive(Debug, PartialEq, Eq)]
enum Refused {
    HttpStatus(u16),
    GatewayCode(u32),
    Other(String),
}

/// Opens a tunnel through `gw` to `server:port`, the gateway certificate pinned to `gw_cert`.
async fn connect(
    gw: &Gateway,
    password: &str,
    server: &str,
    port: u16,
    gw_cert: &TestCert,
    seen: &Seen,
) -> Result<GwClient, Failure> {
    let target = gw.target(password, server);
    let attempt = GwClient::connect_with_port_and_certificate_validation(
        &target,
        CLIENT_NAME,
        port,
        CertificateValidation::Strict,
        Some(pinned(gw_cert, seen)),
    );
    match tokio::time::timeout(STEP, attempt).await {
        Err(_) => panic!("GwClient::connect hangs\n--- gateway log\n{}", gw.log()),
        Ok(Ok((client, _local))) => Ok(client),
        Ok(Err(e)) => Err(Failure {
            display: e.to_string(),
            kind: match e.kind() {
                GwErrorKind::HttpStatus(status) => Refused::HttpStatus(*status),
                GwErrorKind::GatewayCode(code) => Refused::GatewayCode(*code),
                other => Refused::Other(format!("{other:?}: {}", e.report())),
            },
        }),
    }
}

/// A TCP echo server on 127.0.0.1 (runs until the test's runtime ends).
async fn echo_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the echo server");
    let addr = listener.local_addr().expect("echo addr");
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).expect("below 251"))
        .collect()
}

#[tokio::test]
async fn tunnels_bytes_to_an_allowed_target_and_back() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    let gw = Gateway::start(&cert, &["--allow", &echo.to_string()]);
    let seen = Seen::default();
    let mut client = connect(&gw, PASSWORD, "127.0.0.1", echo.port(), &cert, &seen)
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n--- gateway log\n{}", gw.log()));

    // webpki refuses the self-signed leaf, so the callback decided, once, for the endpoint as configured.
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, gw.addr.to_string());
        assert!(seen[0].1.starts_with("invalid peer certificate: "), "{seen:?}");
    }
    assert_eq!(
        client.tunnel_policy(),
        &GwTunnelPolicy {
            redirection_flags: Some(0x8000_0000),
            idle_timeout_minutes: Some(0),
            soh_response: None,
        }
    );
    assert_eq!(client.session_authentication(), GwSessionAuthentication::Http);

    // Several round trips, up to the largest single write the client can frame (see below).
    for len in [1, 100, 4096, 8182] {
        let payload = pattern(len);
        let mut back = vec![0; len];
        tokio::time::timeout(STEP, async {
            client.write_all(&payload).await.expect("write");
            client.flush().await.expect("flush");
            client.read_exact(&mut back).await.expect("read");
        })
        .await
        .unwrap_or_else(|_| panic!("{len} bytes never came back\n--- gateway log\n{}", gw.log()));
        assert_eq!(back, payload, "{len} bytes");
    }
    // 64 KiB in 1000-byte writes, read at the same time. Reading concurrently is required: the client's
    // worker blocks handing inbound data to a 4-deep queue before it takes more outbound data from another
    // 4-deep queue, so many writes to an echoing target without reads in between can deadlock (they did here
    // in 3 runs of 5).
    let payload = pattern(64 * 1024);
    let mut back = vec![0; payload.len()];
    let (mut reader, mut writer) = tokio::io::split(client);
    tokio::time::timeout(STEP, async {
        let write = async {
            for piece in payload.chunks(1000) {
                writer.write_all(piece).await.expect("write");
            }
        };
        let read = async { reader.read_exact(&mut back).await.expect("read") };
        tokio::join!(write, read);
    })
    .await
    .unwrap_or_else(|_| panic!("64 KiB never came back\n--- gateway log\n{}", gw.log()));
    assert_eq!(back, payload);

    let log = gw.log();
    for needle in [
        "no credentials: 401 with a Basic challenge",
        "authenticated (Basic): 101 Switching Protocols to WebSocket",
        &format!("client_name={CLIENT_NAME}"),
        &format!("resources=[\"127.0.0.1\"] port={} protocol=3", echo.port()),
        "channel open",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from\n{log}");
    }
    assert!(
        !log.contains(PASSWORD),
        "the password leaked into the log:\n{log}"
    );
}

/// A canary for a limit of ironrdp-mstsgu 0.1.0, not of the gateway: its worker frames each write into one
/// DATA packet in a fixed 8192-byte buffer, so a single write over 8182 bytes is accepted and then kills the
/// tunnel ("PktEncode", NotEnoughBytes). Callers must split writes (a TLS record on top can be 16 KiB). When
/// this test fails, the client got fixed and the workaround can go.
#[tokio::test]
async fn a_single_write_over_8182_bytes_breaks_the_mstsgu_tunnel() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    let gw = Gateway::start(&cert, &["--allow", &echo.to_string()]);
    let mut client = connect(&gw, PASSWORD, "127.0.0.1", echo.port(), &cert, &Seen::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n--- gateway log\n{}", gw.log()));
    let payload = pattern(8183);
    let mut back = vec![0; payload.len()];
    let outcome = tokio::time::timeout(STEP, async {
        client
            .write_all(&payload)
            .await
            .expect("the write itself is accepted");
        client.read_exact(&mut back).await
    })
    .await
    .expect("the client reports the failure");
    let e = outcome.expect_err("8183 bytes in one write do not make it through");
    assert!(
        format!("{e:?}").contains("PktEncode") && format!("{e:?}").contains("NotEnoughBytes"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_target_that_ends_its_side_closes_the_channel() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    // A target that says hello and hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let target = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        if let Ok((mut conn, _)) = listener.accept().await {
            let _ = conn.write_all(b"hello from the target").await;
        }
    });
    let gw = Gateway::start(&cert, &["--allow", &format!("localhost:{}", target.port())]);
    let mut client = connect(&gw, PASSWORD, "localhost", target.port(), &cert, &Seen::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n--- gateway log\n{}", gw.log()));
    let mut got = Vec::new();
    let end = tokio::time::timeout(STEP, async {
        let mut buf = [0u8; 64];
        loop {
            match client.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("the tunnel ends");
    assert_eq!(got, b"hello from the target");
    // ironrdp-mstsgu answers CLOSE_CHANNEL, ends its worker, and then reports end of stream as an error.
    let e = end.expect_err("the client reports the end as an error");
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    assert_eq!(e.to_string(), "gateway tunnel closed");
    let log = gw
        .wait_for_log("the client confirmed the gateway's CLOSE_CHANNEL")
        .await;
    assert!(
        log.contains("the target closed the connection: CLOSE_CHANNEL"),
        "{log}"
    );
}

#[tokio::test]
async fn a_certificate_other_than_the_pinned_one_is_refused() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let other = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    let gw = Gateway::start(&cert, &["--allow", &echo.to_string()]);
    let seen = Seen::default();
    let failure = connect(&gw, PASSWORD, "127.0.0.1", echo.port(), &other, &seen)
        .await
        .err()
        .expect("a certificate that is not the pinned one is refused");
    assert_eq!(failure.display, "[tls connect] custom", "{failure:?}");
    assert!(matches!(failure.kind, Refused::Other(_)), "{failure:?}");
    assert_eq!(seen.lock().expect("lock").len(), 1, "the callback was asked once");
}

#[tokio::test]
async fn a_wrong_password_is_http_401() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    let gw = Gateway::start(&cert, &["--allow", &echo.to_string()]);
    let failure = connect(
        &gw,
        "not-the-password",
        "127.0.0.1",
        echo.port(),
        &cert,
        &Seen::default(),
    )
    .await
    .err()
    .expect("a wrong password is refused");
    assert_eq!(failure.kind, Refused::HttpStatus(401), "{failure:?}");
    assert_eq!(
        failure.display,
        "[rdg basic authentication] unexpected http status 401"
    );
    // First without credentials (the challenge), then with the wrong ones, on one kept-alive connection.
    let log = gw.log();
    assert!(
        log.contains("no credentials: 401 with a Basic challenge")
            && log.contains("wrong or unsupported credentials: 401"),
        "{log}"
    );
    assert!(!log.contains("101 Switching Protocols"), "{log}");
}

#[tokio::test]
async fn a_target_outside_the_policy_is_a_gateway_error() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    let closed = support::free_port();
    let gw = Gateway::start(
        &cert,
        &[
            "--allow",
            &echo.to_string(),
            "--allow",
            &format!("127.0.0.1:{closed}"),
        ],
    );
    // Another port, and the same port under another name: both outside the policy.
    for (server, port) in [("127.0.0.1", echo.port() ^ 1), ("localhost", echo.port())] {
        let failure = connect(&gw, PASSWORD, server, port, &cert, &Seen::default())
            .await
            .err()
            .expect("a target outside --allow is refused");
        assert_eq!(failure.kind, Refused::GatewayCode(0x8007_59DA), "{failure:?}");
        assert_eq!(
            failure.display,
            "[ChannelCreate] gateway error 0x800759da (E_PROXY_RAP_ACCESSDENIED)"
        );
    }
    // Allowed, but nobody listens there.
    let failure = connect(&gw, PASSWORD, "127.0.0.1", closed, &cert, &Seen::default())
        .await
        .err()
        .expect("an allowed target that refuses is an error");
    assert_eq!(failure.kind, Refused::GatewayCode(0x8007_59DD), "{failure:?}");
    assert_eq!(
        failure.display,
        "[ChannelCreate] gateway error 0x800759dd (E_PROXY_TS_CONNECTFAILED)"
    );
}

#[tokio::test]
async fn a_refusing_gateway_reports_its_code() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let echo = echo_server().await;
    for (at, code, display) in [
        (
            "tunnel",
            0x8007_59DB_u32,
            "[Tunnel] gateway error 0x800759db (E_PROXY_NAP_ACCESSDENIED)",
        ),
        (
            "tunnel-auth",
            0x8007_59DA,
            "[TunnelAuth] gateway error 0x800759da (E_PROXY_RAP_ACCESSDENIED)",
        ),
        (
            "handshake",
            0x8007_59F9,
            "[Handshake] gateway error 0x800759f9 (E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD)",
        ),
        ("tunnel", 0x1234_5678, "[Tunnel] gateway error 0x12345678"),
    ] {
        let gw = Gateway::start(
            &cert,
            &[
                "--allow",
                &echo.to_string(),
                "--reject-code",
                &format!("0x{code:08X}"),
                "--reject-at",
                at,
            ],
        );
        let failure = connect(&gw, PASSWORD, "127.0.0.1", echo.port(), &cert, &Seen::default())
            .await
            .err()
            .expect("a refusing gateway is an error");
        assert_eq!(failure.kind, Refused::GatewayCode(code), "{at}: {failure:?}");
        assert_eq!(failure.display, display);
    }
}

#[test]
fn it_refuses_to_reach_beyond_loopback() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    for (flag, value, why) in [
        ("--allow", "192.0.2.1:3389", "only reaches loopback targets"),
        ("--allow", "rdp.corp.test:3389", "only reaches loopback targets"),
        ("--listen", "0.0.0.0:0", "listens on loopback only"),
        ("--reject-code", "0", "0 means success"),
    ] {
        let mut cmd = Command::new(test_gateway());
        cmd.arg("--cert")
            .arg(cert.cert_path())
            .arg("--key")
            .arg(cert.key_path())
            .args(["--user", USER, "--password", PASSWORD]);
        if flag != "--listen" {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args([flag, value]);
        let out = run_with_timeout(cmd, STEP);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(why), "{flag} {value}: {stderr}");
        assert!(out.stdout.is_empty(), "{flag} {value}: nothing on stdout");
    }
}

#[tokio::test]
async fn tunnels_an_rdp_connection_to_the_shadow_server() {
    if !support::require_all(Shadow::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    crypto_provider();
    let gw_cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let rdp_cert = certs::self_signed(&["127.0.0.1"]);
    let shadow = Shadow::builder().cert(&rdp_cert).start();
    let gw = Gateway::start(&gw_cert, &["--allow", &shadow.addr().to_string()]);
    let mut client = connect(
        &gw,
        PASSWORD,
        "127.0.0.1",
        shadow.addr().port(),
        &gw_cert,
        &Seen::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}\n--- gateway log\n{}", gw.log()));

    // X.224 negotiation through the tunnel: the shadow server (NLA) selects CredSSP.
    let confirm = tokio::time::timeout(STEP, async {
        client
            .write_all(&rdp::connection_request(rdp::PROTOCOL_SSL | rdp::PROTOCOL_HYBRID))
            .await
            .expect("send the Connection Request");
        let mut tpkt = vec![0u8; 4];
        client.read_exact(&mut tpkt).await.expect("TPKT header");
        let len = usize::from(u16::from_be_bytes([tpkt[2], tpkt[3]]));
        tpkt.resize(len, 0);
        client
            .read_exact(&mut tpkt[4..])
            .await
            .expect("Connection Confirm");
        tpkt
    })
    .await
    .unwrap_or_else(|_| panic!("no Connection Confirm\n--- gateway log\n{}", gw.log()));
    assert!(
        matches!(
            rdp::parse_confirm(&confirm),
            Negotiation::Selected {
                protocol: rdp::PROTOCOL_HYBRID,
                ..
            }
        ),
        "{:?}",
        rdp::parse_confirm(&confirm)
    );

    // TLS with the RDP server inside the tunnel: the certificate that arrives is the shadow server's.
    let seen = Seen::default();
    let (_tls, _server_cert) = tokio::time::timeout(
        STEP,
        ironrdp_tls::upgrade_with_certificate_validation_callback(
            client,
            "127.0.0.1",
            pinned(&rdp_cert, &seen),
        ),
    )
    .await
    .expect("the TLS handshake through the tunnel finishes")
    .unwrap_or_else(|e| panic!("TLS through the tunnel: {e}\n--- shadow log\n{}", shadow.log()));
    // The callback accepts only the shadow server's certificate (by its DER), so this one arrived.
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(gw.log().contains("channel open"), "{}", gw.log());
}

/// rdpl's own session through the gateway: `check --login` tunnels to the NLA shadow server, and a target the
/// gateway's policy refuses becomes `gateway.denied` with the E_PROXY code.
#[test]
fn rdpl_check_login_tunnels_through_the_gateway_to_the_shadow_server() {
    let mut needs = Shadow::NEEDS.to_vec();
    needs.extend(certs::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let shadow = Shadow::builder().start();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let allowed = format!("127.0.0.1:{}", shadow.addr().port());
    let gw = Gateway::start_as(&cert, Shadow::USER, Shadow::PASSWORD, &["--allow", &allowed]);
    let w = crate::World::new();
    crate::connect::add_profile(&w, "behind", shadow.addr(), Shadow::USER);
    w.run(&["profile", "set", "behind", &format!("gateway={}", gw.addr)])
        .expect(0);
    w.run(&["profile", "set", "behind", "gateway.usage=always"])
        .expect(0);

    let r = crate::connect::run_with_stdin(
        w.cmd(&[
            "check",
            "behind",
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "20s",
        ]),
        &format!("{}\n", Shadow::PASSWORD),
    );
    let login = r.json()["login"].clone();
    assert_eq!(
        login["status"],
        "ok",
        "{login}\n{}\n--- gateway\n{}",
        r.stderr(),
        gw.log()
    );
    assert_eq!(login["via_gateway"], true, "{login}");
    assert_eq!(login["protocol"], "nla", "{login}");
    r.expect(0);
    let log = gw.log();
    assert!(
        log.contains(&shadow.addr().port().to_string()),
        "the gateway opened the channel:\n{log}"
    );
    assert!(!log.contains(Shadow::PASSWORD), "the gateway log has no password");

    // The same server by another name (`localhost`): outside the gateway's policy, which names 127.0.0.1.
    w.run(&[
        "profile",
        "add",
        "elsewhere",
        "--host",
        "localhost",
        "--port",
        &shadow.addr().port().to_string(),
        "--user",
        Shadow::USER,
    ])
    .expect(0);
    w.run(&["profile", "set", "elsewhere", &format!("gateway={}", gw.addr)])
        .expect(0);
    w.run(&["profile", "set", "elsewhere", "gateway.usage=always"])
        .expect(0);
    let denied = crate::connect::run_with_stdin(
        w.cmd(&[
            "check",
            "elsewhere",
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "20s",
        ]),
        &format!("{}\n", Shadow::PASSWORD),
    );
    let v = denied.json();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(ids.contains(&"gateway.denied"), "{ids:?}\n{}", denied.stdout());
    assert!(
        denied.stdout().contains("0x800759DA"),
        "the E_PROXY code is named: {}",
        denied.stdout()
    );
    assert_eq!(v["login"]["stage"], "gateway");
    denied.expect(1);
}

/// A gateway with an account of its own (gateway.user/domain): its password is saved under its own keyring
/// entry and handed to FreeRDP on standard input after the connection's, in FreeRDP 3's and FreeRDP 2's own
/// syntax; no password is on any command line or in any environment.
#[test]
fn a_gateway_account_of_its_own_gets_its_password_on_stdin_after_the_connections() {
    use crate::connect::{Fakes, SECRET, run_with_stdin};
    use crate::support::{KernelKeyring, SecurityLayer, Xrdp};
    let mut needs = Xrdp::NEEDS.to_vec();
    needs.extend(certs::NEEDS);
    needs.extend(KernelKeyring::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let cert = certs::self_signed(&["localhost", "127.0.0.1"]);
    let gw = Gateway::start(&cert, &["--allow", &xrdp.addr().to_string()]);
    let w = crate::World::new();
    let user = crate::connect::unique_user("gwtarget");
    crate::connect::add_profile(&w, "behind", xrdp.addr(), &user);
    for set in [
        format!("gateway={}", gw.addr),
        "gateway.usage=always".into(),
        format!("gateway.user={USER}"),
        "gateway.domain=GW".into(),
    ] {
        w.run(&["profile", "set", "behind", &set]).expect(0);
    }
    let host = xrdp.addr().ip().to_string();
    let target_desc = KernelKeyring::rdpl_description(&support::keyring::rdpl_user(None, &user, &host));
    let gw_desc = KernelKeyring::rdpl_description(&support::keyring::rdpl_user(
        Some("GW"),
        USER,
        &gw.addr.ip().to_string(),
    ));
    let (_p1, _p2) = (
        KernelKeyring::purge_on_drop(&target_desc),
        KernelKeyring::purge_on_drop(&gw_desc),
    );
    let fakes = Fakes::install(&w, &["xfreerdp", "xfreerdp3"]);
    let keyutils = |args: &[&str]| {
        let mut c = fakes.cmd(&w, args);
        c.env("RDPL_KEYRING", "keyutils");
        c
    };
    run_with_stdin(
        keyutils(&["creds", "set", "behind", "--password-stdin"]),
        &format!("{SECRET}\n"),
    )
    .expect(0);
    let saved = run_with_stdin(
        keyutils(&["creds", "set", "behind", "--gateway", "--password-stdin"]),
        &format!("{PASSWORD}\n"),
    );
    saved.expect(0);
    assert!(
        saved
            .stdout()
            .contains(&format!("the RD Gateway account GW\\{USER} on {}", gw.addr.ip())),
        "{}",
        saved.stdout()
    );
    assert!(KernelKeyring::find(&gw_desc).is_some(), "the gateway's own entry");

    // The gateway's entry belongs to the profile and is not stale.
    let dry = crate::Run(
        keyutils(&[
            "connect",
            "behind",
            "--dry-run",
            "--json",
            "--with",
            "xfreerdp",
            "--timeout",
            "10s",
        ])
        .output()
        .expect("run"),
    );
    let v = dry.json();
    assert_eq!(v["plan"]["clear"], serde_json::json!([]), "{v:#}");
    assert_eq!(
        v["handoff"]["stdin"],
        "the password, then the RD Gateway's password, one line each (/from-stdin:force)"
    );

    // The gateway's password from a vault instead (gateway.password.command): the same two lines.
    if support::require_all(crate::connect::PassStore::NEEDS) {
        let vault = crate::connect::PassStore::with("corp/gateway", PASSWORD);
        w.run(&[
            "profile",
            "set",
            "behind",
            "gateway.password.command=pass show corp/gateway",
        ])
        .expect(0);
        let mut c = crate::connect::with_env(
            keyutils(&["connect", "behind", "--with", "xfreerdp", "--timeout", "10s"]),
            &vault.env,
        );
        c.env("RDPL_FAKE_EXIT", "0");
        let r = crate::Run(c.output().expect("run"));
        assert_eq!(r.code(), 0, "{}\n{}", r.stdout(), r.stderr());
        assert_eq!(
            fakes.record("xfreerdp3").stdin(),
            format!("{SECRET}\n{PASSWORD}\n").as_bytes()
        );
        assert!(!r.stdout().contains(PASSWORD) && !r.stderr().contains(PASSWORD));
        fakes.reset();
        w.run(&["profile", "set", "behind", "gateway.password.command="])
            .expect(0);
    }

    // FreeRDP 3 (the family's choice) and FreeRDP 2 (named by its path): two lines on stdin, in FreeRDP's order.
    let freerdp2 = fakes.bin().join("xfreerdp");
    for (with, recorded, expected) in [
        (
            "xfreerdp",
            "xfreerdp3",
            vec![format!(
                "/gateway:g:{}:{},u:{USER},d:GW,usage-method:direct,type:auto",
                gw.addr.ip(),
                gw.addr.port()
            )],
        ),
        (
            freerdp2.to_str().expect("utf-8"),
            "xfreerdp",
            vec![
                format!("/g:{}:{}", gw.addr.ip(), gw.addr.port()),
                format!("/gu:{USER}"),
                "/gd:GW".to_owned(),
            ],
        ),
    ] {
        let mut c = keyutils(&["connect", "behind", "--with", with, "--timeout", "10s"]);
        c.env("RDPL_FAKE_EXIT", "0");
        let r = crate::Run(c.output().expect("run"));
        assert_eq!(
            r.code(),
            0,
            "{}\n{}\n--- gateway\n{}",
            r.stdout(),
            r.stderr(),
            gw.log()
        );
        let rec = fakes.record(recorded);
        assert_eq!(
            rec.stdin(),
            format!("{SECRET}\n{PASSWORD}\n").as_bytes(),
            "{recorded}: the connection's password, then the gateway's"
        );
        let argv = rec.argv();
        for e in &expected {
            assert!(argv.contains(e), "{recorded}: {e} in {argv:?}");
        }
        assert!(argv.contains(&"/from-stdin:force".to_owned()), "{argv:?}");
        for secret in [SECRET, PASSWORD] {
            assert!(argv.iter().all(|a| !a.contains(secret)), "{argv:?}");
            assert!(
                !rec.env_text().contains(secret),
                "a password in {recorded}'s environment"
            );
            assert!(!r.stdout().contains(secret) && !r.stderr().contains(secret));
        }
        fakes.reset();
    }
}

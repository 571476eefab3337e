//! Self-tests of the real-server harness in `support/`: each server answers exactly as recorded in
//! `shared/test-servers/RECIPES.md`, certificates say what they were asked to, namespaces refuse, time out
//! and fail as promised. If one of these fails, the end-to-end tests built on the harness can't be trusted.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::dns::{self, RecordType};
use crate::support::rdp::{self, Negotiation};
use crate::support::{
    self, Dnsmasq, Netns, SecurityLayer, Shadow, ShadowSecurity, Xrdp, Xvfb, certs, process,
};

/// xrdp's Connection Confirm header (TPKT, LI 0x0e, CC, dst-ref 0, src-ref 0x1234, class 0).
const XRDP_CC: [u8; 11] = [0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00];
/// The shadow server's (src-ref 0).
const SHADOW_CC: [u8; 11] = [0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00];
const RSP_RDP: [u8; 8] = [0x02, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00];
const RSP_SSL: [u8; 8] = [0x02, 0x01, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00];
const RSP_HYBRID_SHADOW: [u8; 8] = [0x02, 0x03, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00];
const FAIL_SSL_REQUIRED: [u8; 8] = [0x03, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00];
const FAIL_SSL_CERT_NOT_ON_SERVER: [u8; 8] = [0x03, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00];
const FAIL_HYBRID_REQUIRED: [u8; 8] = [0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00];

fn confirm(header: [u8; 11], neg: [u8; 8]) -> Vec<u8> {
    [&header[..], &neg[..]].concat()
}

/// Negotiates and returns the CC bytes, with the server's log in the panic message on failure.
#[track_caller]
fn cc(addr: SocketAddr, requested: u32, log: impl Fn() -> String) -> Vec<u8> {
    match rdp::negotiate(addr, requested) {
        Ok((_, cc)) => cc,
        Err(e) => panic!("X.224 to {addr} ({requested:#x}): {e}\n--- server log\n{}", log()),
    }
}

/// The certificate served after negotiating `requested` (which must select SSL or HYBRID).
#[track_caller]
fn served_cert(addr: SocketAddr, requested: u32) -> Vec<u8> {
    let (mut s, cc) = rdp::negotiate(addr, requested).expect("negotiate");
    assert!(
        matches!(rdp::parse_confirm(&cc), Negotiation::Selected { protocol, .. } if protocol != rdp::PROTOCOL_RDP),
        "TLS not selected: {cc:02x?}"
    );
    rdp::server_certificate(&mut s).expect("TLS Certificate message")
}

/// Runs openssl; returns (success, stdout + stderr).
fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new(support::tool("openssl"))
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `YYYY-MM-DD HH:MM:SSZ`, as `openssl x509 -dateopt iso_8601` prints dates (so strings compare as times).
fn iso(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// (notBefore, notAfter) of a PEM certificate file, in [`iso`] form.
fn dates(cert: &Path) -> (String, String) {
    let (ok, text) = openssl(&[
        "x509",
        "-noout",
        "-dates",
        "-dateopt",
        "iso_8601",
        "-in",
        path(cert),
    ]);
    assert!(ok, "{text}");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_owned()
    };
    (field("notBefore="), field("notAfter="))
}

#[test]
fn connection_request_is_byte_for_byte_x224probe() {
    // `x224probe.py 127.0.0.1 PORT 0x1` prints exactly this as "sent".
    let expected = "03 00 00 2b 26 e0 00 00 00 00 00 43 6f 6f 6b 69 65 3a 20 6d 73 74 73 68 61 73 68 3d 70 72 6f 62 65 0d 0a 01 00 08 00 01 00 00 00";
    let got: Vec<String> = rdp::connection_request(rdp::PROTOCOL_SSL)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got.join(" "), expected);
    assert_eq!(
        rdp::parse_confirm(&confirm(XRDP_CC, FAIL_SSL_REQUIRED)),
        Negotiation::Failure(rdp::SSL_REQUIRED_BY_SERVER)
    );
    assert_eq!(
        rdp::parse_confirm(&[0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]),
        Negotiation::Legacy
    );
}

#[test]
fn require_skips_locally_and_fails_in_ci() {
    assert!(support::require_in("sh", true), "sh is always there");
    assert!(!support::require_in("rdpl-no-such-tool", false), "skips");
    let err = std::panic::catch_unwind(|| support::require_in("rdpl-no-such-tool", true))
        .expect_err("CI fails instead of skipping");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("rdpl-no-such-tool") && msg.contains("CI is set"),
        "{msg}"
    );
    assert!(support::tool_path("sh").is_some_and(|p| p.is_absolute()));
}

#[test]
fn free_ports_can_be_bound() {
    let p = support::free_port();
    TcpListener::bind(("127.0.0.1", p)).expect("free TCP port binds");
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let p = support::free_port_on(other);
    TcpListener::bind((other, p)).expect("free TCP port on 127.0.0.2 binds");
    let p = support::free_tcp_udp_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    TcpListener::bind(("127.0.0.1", p)).expect("TCP");
    UdpSocket::bind(("127.0.0.1", p)).expect("UDP");
}

#[test]
fn certificates_have_the_requested_names_and_validity() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let now = iso(time::OffsetDateTime::now_utc());

    // Self-signed, valid now, DNS and IP SANs; trusted as itself.
    let good = certs::self_signed(&["rdp.corp.test", "127.0.0.1"]);
    let (nb, na) = dates(&good.cert_path());
    assert!(nb < now && now < na, "{nb} .. {na} around {now}");
    let (ok, text) = openssl(&[
        "x509",
        "-noout",
        "-subject",
        "-ext",
        "subjectAltName",
        "-in",
        path(&good.cert_path()),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("CN = rdp.corp.test"), "{text}");
    assert!(text.contains("DNS:rdp.corp.test, IP Address:127.0.0.1"), "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&good.cert_path()),
        "-verify_hostname",
        "rdp.corp.test",
        "-verify_ip",
        "127.0.0.1",
        path(&good.cert_path()),
    ]);
    assert!(ok, "self-signed verifies against itself: {text}");
    let (ok, text) = openssl(&["pkey", "-noout", "-text", "-in", path(&good.key_path())]);
    assert!(ok && text.contains("2048 bit"), "RSA-2048 key: {text}");

    // The DER bytes are the PEM's.
    let der_file = good.dir().join("cert.der");
    std::fs::write(&der_file, good.der()).expect("write DER");
    let fp = |args: &[&str]| {
        let (ok, text) = openssl(args);
        assert!(ok, "{text}");
        text
    };
    assert_eq!(
        fp(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-inform",
            "DER",
            "-in",
            path(&der_file)
        ]),
        fp(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            path(&good.cert_path())
        ])
    );

    // CA-signed: verifies with the CA, not alone.
    let (ca, leaf) = certs::ca_signed(&["rdp.corp.test"]);
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&ca.cert_path()),
        "-verify_hostname",
        "rdp.corp.test",
        path(&leaf.cert_path()),
    ]);
    assert!(ok, "CA-signed verifies with its CA: {text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&leaf.cert_path()),
        path(&leaf.cert_path()),
    ]);
    assert!(
        !ok && text.contains("unable to get local issuer certificate"),
        "{text}"
    );
    let (_, text) = openssl(&["x509", "-noout", "-issuer", "-in", path(&leaf.cert_path())]);
    assert!(text.contains("CN = rdpl Test CA"), "{text}");

    // Expired, not yet valid, wrong name: each fails verification for exactly its reason.
    let expired = certs::expired(&["rdp.corp.test"]);
    let (nb, na) = dates(&expired.cert_path());
    assert!(nb < na && na < now, "expired: {nb} .. {na}, now {now}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&expired.cert_path()),
        path(&expired.cert_path()),
    ]);
    assert!(!ok && text.contains("certificate has expired"), "{text}");

    let future = certs::not_yet_valid(&["rdp.corp.test"]);
    let (nb, _) = dates(&future.cert_path());
    assert!(now < nb, "not yet valid: {nb}, now {now}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&future.cert_path()),
        path(&future.cert_path()),
    ]);
    assert!(!ok && text.contains("certificate is not yet valid"), "{text}");

    let wrong = certs::wrong_name();
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(&wrong.cert_path()),
        "-verify_hostname",
        "rdp.corp.test",
        path(&wrong.cert_path()),
    ]);
    assert!(!ok && text.contains("hostname mismatch"), "{text}");

    // Shared key by default, a key of its own on request; ECDSA on request.
    let pubkey = |c: &certs::TestCert| fp(&["x509", "-noout", "-pubkey", "-in", path(&c.cert_path())]);
    assert_eq!(pubkey(&good), pubkey(&expired));
    let own = certs::cert(&["own.test"]).fresh_key().self_signed();
    assert_ne!(pubkey(&good), pubkey(&own));
    let ec = certs::cert(&["ec.test"]).ecdsa().self_signed();
    assert!(fp(&["x509", "-noout", "-text", "-in", path(&ec.cert_path())]).contains("id-ecPublicKey"));
    assert_ne!(
        good.der(),
        expired.der(),
        "distinct certificates, distinct serials"
    );
}

#[test]
fn xrdp_negotiate_selects_tls_and_serves_the_given_cert() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let cert = certs::self_signed(&["rdp.corp.test", "127.0.0.1"]);
    let xrdp = Xrdp::builder().cert(&cert).start();
    let log = || xrdp.log();
    assert_eq!(cc(xrdp.addr(), 0xB, log), confirm(XRDP_CC, RSP_SSL));
    assert_eq!(cc(xrdp.addr(), rdp::PROTOCOL_SSL, log), confirm(XRDP_CC, RSP_SSL));
    assert_eq!(cc(xrdp.addr(), rdp::PROTOCOL_RDP, log), confirm(XRDP_CC, RSP_RDP));
    assert_eq!(
        served_cert(xrdp.addr(), 0xB),
        cert.der(),
        "xrdp serves the configured certificate"
    );
    assert!(xrdp.addr().ip().is_loopback());
}

#[test]
fn xrdp_security_layers_answer_as_recorded() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let cert = certs::self_signed(&["rdp.corp.test"]);
    let cases = [
        (SecurityLayer::Tls, true, rdp::PROTOCOL_RDP, FAIL_SSL_REQUIRED),
        (SecurityLayer::Tls, true, 0xB, RSP_SSL),
        (SecurityLayer::Rdp, true, 0xB, RSP_RDP),
        (SecurityLayer::Tls, false, 0xB, FAIL_SSL_CERT_NOT_ON_SERVER),
        (SecurityLayer::Negotiate, false, 0xB, RSP_RDP),
    ];
    for (layer, has_cert, requested, neg) in cases {
        let b = Xrdp::builder().security(layer);
        let xrdp = if has_cert { b.cert(&cert) } else { b.missing_cert() }.start();
        assert_eq!(
            cc(xrdp.addr(), requested, || xrdp.log()),
            confirm(XRDP_CC, neg),
            "{layer:?}, cert {has_cert}, requested {requested:#x}"
        );
    }
}

#[test]
fn xrdp_serves_an_expired_cert_or_its_own_on_any_loopback_address() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let expired = certs::expired(&["rdp.corp.test"]);
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let xrdp = Xrdp::builder()
        .security(SecurityLayer::Tls)
        .cert(&expired)
        .ip(other)
        .start();
    assert_eq!(xrdp.addr().ip(), other);
    assert_eq!(
        served_cert(xrdp.addr(), rdp::PROTOCOL_SSL),
        expired.der(),
        "served without complaint"
    );
    assert!(xrdp.generated_cert().is_none());

    let default = Xrdp::builder().start();
    let generated = default.generated_cert().expect("a generated certificate");
    assert_eq!(served_cert(default.addr(), 0xB), generated.der());
    assert!(
        std::fs::read_to_string(default.config_path())
            .expect("config")
            .contains(&format!("port=tcp://127.0.0.1:{}", default.addr().port()))
    );
    let pid = default.pid();
    drop(default);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "xrdp killed and reaped on drop"
    );
}

#[test]
fn shadow_requires_nla_and_checks_passwords() {
    if !support::require_all(Shadow::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let cert = certs::self_signed(&["shadow.corp.test"]);
    let shadow = Shadow::builder()
        .user(Shadow::USER, Shadow::PASSWORD)
        .domain_user("CORP", "alice", "Al1ce-pw")
        .cert(&cert)
        .start();
    let log = || shadow.log();
    assert_eq!(
        cc(shadow.addr(), rdp::PROTOCOL_SSL, log),
        confirm(SHADOW_CC, FAIL_HYBRID_REQUIRED)
    );
    assert_eq!(
        cc(shadow.addr(), rdp::PROTOCOL_RDP, log),
        confirm(SHADOW_CC, FAIL_HYBRID_REQUIRED)
    );
    assert_eq!(cc(shadow.addr(), 0xB, log), confirm(SHADOW_CC, RSP_HYBRID_SHADOW));
    assert_eq!(served_cert(shadow.addr(), rdp::PROTOCOL_HYBRID), cert.der());
    let sam = std::fs::read_to_string(shadow.sam_path()).expect("SAM");
    assert!(
        sam.contains("testuser:::50a0bac757f5dc5faec745d20c01be08:::"),
        "{sam}"
    );
    assert!(sam.contains("alice:CORP::"), "{sam}");

    // A real CredSSP exchange: only the right password passes.
    if !support::require("xfreerdp") {
        return;
    }
    let display = Xvfb::shared().display();
    let home = tempfile::tempdir().expect("tempdir");
    let auth = |user: &str, password: &str, domain: Option<&str>| {
        let mut cmd = Command::new(support::tool("xfreerdp"));
        cmd.arg(format!("/v:{}", shadow.addr()))
            .args(["/cert:ignore", "+auth-only"])
            .arg(format!("/u:{user}"))
            .arg(format!("/p:{password}"))
            .env("DISPLAY", &display)
            .env("HOME", home.path());
        if let Some(d) = domain {
            cmd.arg(format!("/d:{d}"));
        }
        process::run_with_timeout(cmd, Duration::from_secs(30))
    };
    let (right, wrong, domain) = std::thread::scope(|s| {
        let right = s.spawn(|| auth(Shadow::USER, Shadow::PASSWORD, None));
        let wrong = s.spawn(|| auth(Shadow::USER, "wrong", None));
        let domain = s.spawn(|| auth("alice", "Al1ce-pw", Some("CORP")));
        (
            right.join().expect("thread"),
            wrong.join().expect("thread"),
            domain.join().expect("thread"),
        )
    });
    let show = |o: &std::process::Output| {
        format!(
            "{:?}\n{}{}\n--- server log\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            shadow.log()
        )
    };
    assert_eq!(right.status.code(), Some(0), "{}", show(&right));
    assert_eq!(domain.status.code(), Some(0), "{}", show(&domain));
    assert_ne!(wrong.status.code(), Some(0), "{}", show(&wrong));
}

#[test]
fn shadow_tls_mode_selects_ssl_with_its_own_cert() {
    if !support::require_all(Shadow::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let shadow = Shadow::builder().security(ShadowSecurity::Tls).start();
    assert_eq!(
        rdp::parse_confirm(&cc(shadow.addr(), 0xB, || shadow.log())),
        Negotiation::Selected {
            protocol: rdp::PROTOCOL_SSL,
            flags: 0x03
        }
    );
    let served = served_cert(shadow.addr(), rdp::PROTOCOL_SSL);
    let der_file = shadow.home().join("served.der");
    std::fs::write(&der_file, &served).expect("write");
    let (ok, text) = openssl(&[
        "x509",
        "-noout",
        "-fingerprint",
        "-sha256",
        "-inform",
        "DER",
        "-in",
        path(&der_file),
    ]);
    let (ok2, text2) = openssl(&[
        "x509",
        "-noout",
        "-fingerprint",
        "-sha256",
        "-in",
        path(&shadow.cert_path()),
    ]);
    assert!(ok && ok2, "{text}{text2}");
    assert_eq!(text, text2, "the generated certificate is in cert_path()");
}

#[test]
fn dnsmasq_answers_records_nxdomain_and_refused() {
    if !support::require_all(Dnsmasq::NEEDS) {
        return;
    }
    let v4 = |d| IpAddr::V4(Ipv4Addr::new(127, 0, 0, d));
    let dnsmasq = Dnsmasq::builder()
        .a("rdp.corp.test", Ipv4Addr::new(127, 0, 0, 2))
        .host("dual.corp.test", &[v4(3), IpAddr::V6(Ipv6Addr::LOCALHOST)])
        .domain("wild.test", v4(4))
        .nxdomain_zone("test")
        .start();
    let q = |name: &str, kind| {
        dns::query(dnsmasq.addr(), name, kind).unwrap_or_else(|e| panic!("{name}: {e}\n{}", dnsmasq.log()))
    };
    let ok = |addrs: Vec<IpAddr>| dns::Reply {
        rcode: dns::NOERROR,
        addrs,
    };
    assert_eq!(q("rdp.corp.test", RecordType::A), ok(vec![v4(2)]));
    assert_eq!(q("dual.corp.test", RecordType::A), ok(vec![v4(3)]));
    assert_eq!(
        q("dual.corp.test", RecordType::Aaaa),
        ok(vec![IpAddr::V6(Ipv6Addr::LOCALHOST)])
    );
    assert_eq!(q("a.b.wild.test", RecordType::A), ok(vec![v4(4)]));
    assert_eq!(q("missing.test", RecordType::A).rcode, dns::NXDOMAIN);
    assert_eq!(
        q("rdp.corp.test", RecordType::Aaaa).rcode,
        dns::NOERROR,
        "name exists, no AAAA"
    );
    assert_eq!(q("example.com", RecordType::A).rcode, dns::REFUSED, "no upstream");
    assert!(
        dnsmasq.log().contains("query[A] rdp.corp.test"),
        "{}",
        dnsmasq.log()
    );
    TcpStream::connect(dnsmasq.addr()).expect("TCP too");
}

#[test]
fn netns_refuses_drops_and_is_unreachable() {
    if !support::require_all(support::netns::NEEDS) || !support::require_root() {
        return;
    }
    let ns = Netns::new();
    let other = Netns::new();
    assert_ne!(
        ns.subnet(),
        other.subnet(),
        "parallel namespaces get their own subnets"
    );
    let name = ns.name().to_owned();

    let connect = |ip: Ipv4Addr, timeout: Duration| {
        let start = Instant::now();
        let r = TcpStream::connect_timeout(&SocketAddr::from((ip, 3389)), timeout);
        (r.map(|_| ()), start.elapsed())
    };
    // The ~3 s ARP failure runs beside the other two.
    let unreachable = std::thread::scope(|s| {
        let u = s.spawn(|| connect(ns.unreachable_ip(), Duration::from_secs(10)));

        let (r, took) = connect(ns.refused_ip(), Duration::from_secs(2));
        assert_eq!(r.expect_err("refused").kind(), ErrorKind::ConnectionRefused);
        assert!(
            took < Duration::from_millis(500),
            "refused at once, took {took:?}"
        );

        let (r, took) = connect(ns.filtered_ip(), Duration::from_secs(1));
        assert_eq!(r.expect_err("filtered").kind(), ErrorKind::TimedOut);
        assert!(took >= Duration::from_millis(900), "timed out, took {took:?}");

        u.join().expect("thread")
    });
    let (r, took) = unreachable;
    let e = r.expect_err("unreachable");
    assert_eq!(e.raw_os_error(), Some(libc::EHOSTUNREACH), "{e}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "EHOSTUNREACH after ~3 s, took {took:?}"
    );

    drop(ns);
    let list = support::netns::ip(&["netns", "list"]);
    assert!(
        !list
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name.as_str())),
        "{list}"
    );
}

#[test]
fn servers_run_inside_a_namespace_on_standard_ports() {
    if !support::require_all(support::netns::NEEDS)
        || !support::require_root()
        || !support::require_all(Xrdp::NEEDS)
        || !support::require_all(Dnsmasq::NEEDS)
        || !support::require_all(Shadow::NEEDS)
    {
        return;
    }
    let ns = Netns::new();
    let xrdp = Xrdp::builder().in_netns(&ns).start();
    assert_eq!(xrdp.addr(), SocketAddr::from((ns.ip(), 3389)));
    assert_eq!(cc(xrdp.addr(), 0xB, || xrdp.log()), confirm(XRDP_CC, RSP_SSL));

    let second = ns.add_ip(5);
    let shadow = Shadow::builder().in_netns(&ns).ip(IpAddr::V4(second)).start();
    assert_eq!(shadow.addr(), SocketAddr::from((second, 3389)));
    assert_eq!(
        cc(shadow.addr(), rdp::PROTOCOL_SSL, || shadow.log()),
        confirm(SHADOW_CC, FAIL_HYBRID_REQUIRED)
    );

    let dnsmasq = Dnsmasq::builder()
        .domain("corp.test", IpAddr::V4(ns.ip()))
        .in_netns(&ns)
        .start();
    assert_eq!(dnsmasq.addr(), SocketAddr::from((ns.ip(), 53)));
    let reply = dns::query(dnsmasq.addr(), "rdp.corp.test", RecordType::A).expect("DNS in the namespace");
    assert_eq!(reply.addrs, vec![IpAddr::V4(ns.ip())]);

    // Nothing of this is visible on the host's loopback.
    let refused =
        TcpStream::connect_timeout(&SocketAddr::from((ns.refused_ip(), 3389)), Duration::from_secs(2));
    assert_eq!(refused.expect_err("refused").kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn xvfb_is_one_display_for_the_run() {
    if !support::require_all(Xvfb::NEEDS) {
        return;
    }
    let a = Xvfb::shared();
    let b = Xvfb::shared();
    assert!(std::ptr::eq(a, b));
    assert_eq!(a.display(), format!(":{}", a.number()));
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(a.socket()).expect("the X socket exists");
    assert!(meta.file_type().is_socket());
}

use crate::support::{KernelKeyring, SecretService, SessionBus, keyring};

/// Ids of live processes whose command line or environment mentions `needle` (a temp dir), for "nothing
/// left behind" checks.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            ["cmdline", "environ"].iter().any(|f| {
                std::fs::read(format!("/proc/{pid}/{f}"))
                    .is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
            })
        })
        .collect()
}

#[test]
fn secret_service_stores_and_looks_up_with_only_its_env_and_leaves_nothing() {
    if !support::require_all(SecretService::NEEDS) {
        return;
    }
    let ss = SecretService::start();
    let env = ss.env();
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["DBUS_SESSION_BUS_ADDRESS"]);
    assert!(ss.started_in() < process::START_TIMEOUT);
    assert!(ss.bus().has_owner("org.freedesktop.secrets"));

    let user = keyring::rdpl_user(Some("CORP"), "alice", "WEB01.corp.test");
    assert_eq!(user, "CORP\\alice@web01.corp.test");
    assert_eq!(ss.rdpl_secret(&user), None);
    assert_eq!(ss.search_all(), "");

    // A client with nothing but env() stores an item (as secret-tool, a libsecret client, would).
    let mut store = Command::new(support::tool("secret-tool"));
    store
        .env_clear()
        .envs(env)
        .args([
            "store",
            "--label=by hand",
            "service",
            keyring::SERVICE,
            "username",
            &user,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = store.spawn().expect("spawn secret-tool store");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"hunter2").expect("write secret");
    let out = child.wait_with_output().expect("secret-tool store");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    assert_eq!(
        ss.lookup(&[("service", "rdpl"), ("username", &user)]).as_deref(),
        Some("hunter2")
    );
    assert_eq!(ss.rdpl_secret(&user).as_deref(), Some("hunter2"));
    assert_eq!(ss.rdpl_users(), [user.as_str()]);
    let listing = ss.search_all();
    for line in [
        "label = by hand",
        "secret = hunter2",
        "attribute.service = rdpl",
        "attribute.username = CORP\\alice@web01.corp.test",
    ] {
        assert!(listing.lines().any(|l| l == line), "no {line:?} in\n{listing}");
    }

    // The helpers write what rdpl's store would; clear removes.
    ss.store_rdpl("bob@web02.corp.test", "s3cret with spaces");
    assert_eq!(
        ss.rdpl_secret("bob@web02.corp.test").as_deref(),
        Some("s3cret with spaces")
    );
    assert!(
        ss.search_all()
            .contains("label = keyring:bob@web02.corp.test@rdpl\n")
    );
    assert_eq!(ss.rdpl_users().len(), 2);
    ss.clear(&[("service", "rdpl"), ("username", &user)]);
    assert_eq!(ss.rdpl_secret(&user), None);
    assert_eq!(ss.rdpl_users(), ["bob@web02.corp.test"]);

    // Another Secret Service is a world of its own.
    let other = SecretService::start();
    assert_eq!(other.rdpl_users(), Vec::<String>::new());
    drop(other);

    let (bus_pid, keyring_pid) = ss.pids();
    let dir = ss.bus().dir().to_owned();
    let needle = dir.to_str().expect("utf-8 temp path").to_owned();
    assert!(
        !processes_mentioning(&needle).is_empty(),
        "the daemons mention {needle}"
    );
    drop(ss);
    for pid in [bus_pid, keyring_pid] {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} survived the drop"
        );
    }
    assert_eq!(processes_mentioning(&needle), Vec::<u32>::new(), "left behind");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn bare_session_bus_activates_no_secret_service() {
    if !support::require_all(SessionBus::NEEDS) {
        return;
    }
    let bus = SessionBus::start();
    assert!(!bus.has_owner("org.freedesktop.secrets"));
    let out = bus.dbus_send(&[
        "--dest=org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        "org.freedesktop.DBus.Peer.Ping",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ServiceUnknown"), "{err}");
    // Still nobody: the call did not start one.
    assert!(!bus.has_owner("org.freedesktop.secrets"));
}

/// A kernel key description unique to this run and `tag` (the keyrings are shared by the whole uid).
fn unique_description(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    KernelKeyring::rdpl_description(&keyring::rdpl_user(
        Some("HARNESS"),
        tag,
        &format!("p{}-{nanos}.test", std::process::id()),
    ))
}

#[test]
fn kernel_keyring_finds_reads_and_purges_keys_left_by_exited_writers() {
    if !support::require_all(KernelKeyring::NEEDS) {
        return;
    }
    assert_eq!(KernelKeyring::description("svc", "u"), "keyring:u@svc");

    // As the store writes: in the writer's session keyring plus the persistent keyring; the writer (and
    // its session keyring) is gone before we look.
    let desc = unique_description("persistent");
    let _purge = KernelKeyring::purge_on_drop(&desc);
    assert_eq!(KernelKeyring::find(&desc), None);
    let out = Command::new(support::tool("keyctl"))
        .args(["session", "-", "sh", "-c"])
        .arg(r#"id=$(keyctl add user "$1" hunter2 @s) && keyctl link "$id" "$(keyctl get_persistent @s)" && echo "$id""#)
        .args(["sh", &desc])
        .output()
        .expect("keyctl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(KernelKeyring::find(&desc).as_deref(), Some(id.as_str()));
    assert_eq!(KernelKeyring::read(&desc).as_deref(), Some("hunter2"));
    KernelKeyring::purge(&desc);
    assert_eq!(KernelKeyring::find(&desc), None);
    assert_eq!(KernelKeyring::read(&desc), None);
    KernelKeyring::purge(&desc); // nothing left: fine

    // In the user session keyring, where a writer without a session keyring leaves it.
    let desc = unique_description("user-session");
    let _purge = KernelKeyring::purge_on_drop(&desc);
    let out = Command::new(support::tool("keyctl"))
        .args(["add", "user", &desc, "pw2", "@us"])
        .output()
        .expect("keyctl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(KernelKeyring::find(&desc).is_some());
    assert_eq!(KernelKeyring::read(&desc).as_deref(), Some("pw2"));
    KernelKeyring::purge(&desc);
    assert_eq!(KernelKeyring::find(&desc), None);

    // The helper adds as the store does, and the guard purges.
    let desc = unique_description("helper");
    {
        let _purge = KernelKeyring::purge_on_drop(&desc);
        let id = KernelKeyring::add(&desc, "s3cret with spaces");
        assert_eq!(KernelKeyring::find(&desc), Some(id));
        assert_eq!(KernelKeyring::read(&desc).as_deref(), Some("s3cret with spaces"));
    }
    assert_eq!(KernelKeyring::find(&desc), None);
}

#[test]
fn kernel_keyring_new_session_gives_a_child_its_own_session_keyring() {
    if !support::require_all(KernelKeyring::NEEDS) {
        return;
    }
    let session_of = |new: bool| {
        let mut cmd = Command::new(support::tool("keyctl"));
        cmd.args(["rdescribe", "@s"]);
        if new {
            KernelKeyring::new_session(&mut cmd);
        }
        let out = cmd.output().expect("keyctl rdescribe @s");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // type;uid;gid;perm;description
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        text.rsplit(';').next().expect("description").to_owned()
    };
    assert_eq!(
        session_of(true),
        "_ses",
        "an anonymous session keyring of its own"
    );
    // Without it a child shares the test process's: a real one (CI, logins) or the user session keyring.
    let inherited = session_of(false);
    assert!(
        inherited == "_ses" || inherited.starts_with("_uid_ses."),
        "{inherited}"
    );
}

//! `rdpl check` against real servers from the harness: xrdp in its three security modes and with expired and
//! wrong-name certificates, the FreeRDP shadow server (a real NLA/CredSSP server), dnsmasq answering NXDOMAIN
//! or a dead address while a fallback works, and network namespaces for refused, unreachable and filtered hosts.

use std::process::Stdio;

use serde_json::Value;

use crate::preflight::{check_json, finding, ids};
use crate::support::netns::ip as ip_cmd;
use crate::support::{self, Dnsmasq, Netns, SecurityLayer, Shadow, Xrdp, certs};
use crate::{Run, World, rdpl_bin};

fn check(w: &World, args: &[&str]) -> (Run, Value) {
    check_json(w, "6s", args)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn xrdp_in_its_three_security_modes() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let negotiate = Xrdp::builder().security(SecurityLayer::Negotiate).start();
    let (r, v) = check(&w, &[&negotiate.addr().to_string()]);
    r.expect(0);
    let s = &v["security"];
    assert_eq!(s["selected"], "ssl", "{s}");
    assert!(
        strings(&s["offered"]).contains(&"ssl".to_owned())
            && strings(&s["offered"]).contains(&"rdp".to_owned()),
        "{s}"
    );
    assert_eq!(s["nla_required"], false);
    assert_eq!(finding(&v, "nego.nla_unavailable")["severity"], "warning");
    assert!(
        v["tls"]["version"]
            .as_str()
            .is_some_and(|t| t.starts_with("TLSv1.")),
        "{}",
        v["tls"]
    );
    assert_eq!(v["certificate"]["self_signed"], true);
    assert_eq!(v["verdict"], "warn");

    let tls_only = Xrdp::builder().security(SecurityLayer::Tls).start();
    let (r, v) = check(&w, &[&tls_only.addr().to_string()]);
    r.expect(0);
    assert_eq!(
        strings(&v["security"]["offered"]),
        vec!["ssl".to_owned()],
        "{}",
        v["security"]
    );

    let rdp_only = Xrdp::builder().security(SecurityLayer::Rdp).start();
    let (r, v) = check(&w, &[&rdp_only.addr().to_string()]);
    r.expect(0);
    assert_eq!(v["security"]["selected"], "rdp");
    assert_eq!(v["tls"], Value::Null);
    assert_eq!(finding(&v, "nego.ssl_not_allowed")["severity"], "warning");
}

#[test]
fn xrdp_with_an_expired_or_wrong_name_certificate() {
    if !support::require_all(Xrdp::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let expired = certs::expired(&["rdp.corp.test", "127.0.0.1"]);
    let xrdp = Xrdp::builder()
        .security(SecurityLayer::Tls)
        .cert(&expired)
        .start();
    let (r, v) = check(&w, &[&xrdp.addr().to_string()]);
    r.expect(1);
    let f = finding(&v, "cert.expired");
    assert_eq!(f["severity"], "error");
    assert!(
        f["fix"]
            .as_str()
            .is_some_and(|x| x.contains("TermService") && x.contains("Remote Desktop")),
        "{f}"
    );
    assert_eq!(v["certificate"]["expired"], true);
    assert_eq!(
        v["certificate"]["sha256"].as_str(),
        Some(hex_lower(&sha256(expired.der())).as_str())
    );
    assert_eq!(v["verdict"], "blocked");

    let wrong = certs::wrong_name();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).cert(&wrong).start();
    let (r, v) = check(&w, &[&xrdp.addr().to_string()]);
    r.expect(0);
    assert_eq!(v["certificate"]["name_matches"], false);
    assert_eq!(finding(&v, "cert.name_mismatch")["severity"], "warning");
}

/// SHA-256 via openssl (the test crate carries no hash crate).
pub(crate) fn sha256(der: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new(support::tool("openssl"))
        .args(["dgst", "-sha256", "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child.stdin.take().expect("stdin").write_all(der).expect("write");
    child.wait_with_output().expect("openssl").stdout
}

pub(crate) fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_shadow_server_requires_nla() {
    if !support::require_all(Shadow::NEEDS) {
        return;
    }
    let w = World::new();
    let shadow = Shadow::builder().start();
    let addr = shadow.addr().to_string();
    let (r, v) = check(&w, &[&addr]);
    r.expect(0);
    let s = &v["security"];
    assert_eq!(s["selected"], "hybrid", "{s}");
    assert_eq!(s["nla_required"], true);
    assert!(!strings(&s["offered"]).contains(&"ssl".to_owned()));
    // Seen from the SSL-only request: HYBRID_REQUIRED_BY_SERVER.
    assert_eq!(finding(&v, "nego.hybrid_required")["severity"], "info");
    assert!(v["certificate"]["sha256"].as_str().is_some());

    // A profile that turns NLA off can't connect: the check says so and blocks.
    w.run(&["profile", "add", "shadow", "--host", &addr, "--nla", "off"])
        .expect(0);
    let (r, v) = check(&w, &["shadow"]);
    r.expect(1);
    let f = finding(&v, "nego.hybrid_required");
    assert_eq!(f["severity"], "error");
    assert!(f["fix"].as_str().is_some_and(|x| x.contains("nla=auto")), "{f}");
}

#[test]
fn an_unresolvable_name_falls_back_to_the_address_that_works() {
    if !support::require_all(Xrdp::NEEDS) || !support::require_all(Dnsmasq::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let dns = Dnsmasq::builder().nxdomain_zone("test").start();
    let dns_server = dns.addr().to_string();
    w.run(&[
        "profile",
        "add",
        "web",
        "--host",
        "gone.corp.test",
        "--fallback",
        &xrdp.addr().to_string(),
    ])
    .expect(0);
    let (r, v) = check(&w, &["--dns-server", &dns_server, "web"]);
    r.expect(0);
    assert_eq!(v["dns"]["status"], "nxdomain");
    assert_eq!(
        finding(&v, "dns.nxdomain")["severity"],
        "warning",
        "a working fallback makes it a warning"
    );
    assert_eq!(finding(&v, "address.fallback_used")["severity"], "warning");
    assert_eq!(v["address"]["chosen"], xrdp.addr().to_string());
    assert_eq!(v["address"]["via"], "fallback");
    assert!(v["tls"]["version"].is_string());
    // The same through the environment variable.
    let r = Run(w
        .cmd(&["check", "web", "--json"])
        .env("RDPL_DNS_SERVER", &dns_server)
        .output()
        .expect("runs"));
    assert_eq!(r.json()["dns"]["status"], "nxdomain");
}

#[test]
fn a_name_on_a_dead_address_reaches_the_fallback_long_before_the_attempt_timeout() {
    if !support::require_root()
        || !support::require_all(support::netns::NEEDS)
        || !support::require_all(Xrdp::NEEDS)
        || !support::require_all(Dnsmasq::NEEDS)
    {
        return;
    }
    let w = World::new();
    let ns = Netns::new();
    let dead = ns.filtered_ip();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let dns = Dnsmasq::builder().a("rdp.corp.test", dead).start();
    w.run(&[
        "profile",
        "add",
        "web",
        "--host",
        "rdp.corp.test",
        "--fallback",
        &xrdp.addr().to_string(),
    ])
    .expect(0);
    let (r, v) = check(&w, &["--dns-server", &dns.addr().to_string(), "web"]);
    r.expect(0);
    assert_eq!(v["dns"]["addresses"], serde_json::json!([dead.to_string()]));
    let cands = v["address"]["candidates"].as_array().expect("candidates");
    let fallback = cands
        .iter()
        .find(|c| c["source"] == "fallback")
        .expect("fallback tried");
    assert_eq!(fallback["result"], "connected");
    let connected_at = fallback["at_ms"].as_u64().expect("at_ms") + fallback["ms"].as_u64().expect("ms");
    // RFC 8305 stagger: ~250 ms after the dead attempt, plus a loopback round trip; the attempt timeout is 3 s.
    assert!(
        connected_at < 1000,
        "the fallback connected only after {connected_at} ms: {cands:?}"
    );
    let dead_cand = cands
        .iter()
        .find(|c| c["source"] == "dns")
        .expect("dns candidate");
    assert_eq!(
        dead_cand["result"], "cancelled",
        "the silent address was still pending and got cancelled"
    );
    assert_eq!(finding(&v, "dns.mismatch")["severity"], "warning");
    assert!(ids(&v).contains(&"address.fallback_used".to_owned()));
}

#[test]
fn refused_unreachable_and_filtered_hosts() {
    if !support::require_root() || !support::require_all(support::netns::NEEDS) {
        return;
    }
    let w = World::new();
    let ns = Netns::new();
    let (r, v) = check(&w, &[&format!("{}:3389", ns.refused_ip())]);
    r.expect(1);
    assert_eq!(finding(&v, "tcp.refused")["severity"], "error");
    assert_eq!(v["address"]["candidates"][0]["result"], "refused");

    let r = w.run(&[
        "check",
        "--json",
        "--timeout",
        "2s",
        &format!("{}:3389", ns.filtered_ip()),
    ]);
    r.expect(1);
    let v = r.json();
    let f = finding(&v, "tcp.timeout");
    assert!(
        f["message"].as_str().is_some_and(|m| m.contains("filtered")),
        "{f}"
    );
    assert!(
        v["ms"].as_u64().is_some_and(|ms| ms < 3000),
        "bounded by --timeout: {}",
        v["ms"]
    );

    // Unreachable: from inside the namespace, a route of type `unreachable` answers EHOSTUNREACH at once.
    let unreachable_net = format!("10.251.{}.0/24", ns.subnet());
    ip_cmd(&["-n", ns.name(), "route", "add", "unreachable", &unreachable_net]);
    let target = format!("10.251.{}.7:3389", ns.subnet());
    let out = ns
        .command(rdpl_bin())
        .args(["check", "--json", "--timeout", "4s", &target])
        .env_clear()
        .env("RDPL_CONFIG_DIR", w.config())
        .env("HOME", w.path("home"))
        .stdin(Stdio::null())
        .output()
        .expect("rdpl in the namespace");
    let r = Run(out);
    r.expect(1);
    let v = r.json();
    assert_eq!(finding(&v, "tcp.unreachable")["severity"], "error");
    assert_eq!(v["address"]["candidates"][0]["result"], "unreachable");
}

#[test]
fn check_all_and_the_human_report() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Negotiate).start();
    let closed = format!("127.0.0.1:{}", support::free_port());
    w.run(&["profile", "add", "good", "--host", &xrdp.addr().to_string()])
        .expect(0);
    w.run(&["profile", "add", "bad", "--host", &closed]).expect(0);
    let r = w.run(&["check", "--all", "--json", "--timeout", "4s"]);
    r.expect(1);
    let v = r.json();
    let verdicts: Vec<_> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|r| (r["target"].clone(), r["verdict"].clone()))
        .collect();
    assert_eq!(
        verdicts,
        vec![("bad".into(), "blocked".into()), ("good".into(), "warn".into())]
    );
    let r = w.run(&["check", "good"]);
    r.expect(0);
    let out = r.stdout();
    for needle in ["good ->", "✓ tcp", "! security", "✓ tls", "! certificate", "fix:"] {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
}

#[test]
fn rdp_writes_what_the_pre_flight_decided() {
    if !support::require_all(Xrdp::NEEDS) || !support::require_all(Shadow::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Negotiate).start();
    let shadow = Shadow::builder().start();
    let text = |r: &Run| r.stdout().replace("\r\n", "\n");
    // xrdp offers no NLA: nla=auto turns it off, and says so.
    let r = w.run(&["rdp", &xrdp.addr().to_string()]);
    r.expect(0);
    assert!(text(&r).contains("enablecredsspsupport:i:0\n"), "{}", text(&r));
    assert!(text(&r).contains(&format!("full address:s:{}\n", xrdp.addr())));
    assert!(r.stderr().contains("NLA is turned off"), "{}", r.stderr());
    // The shadow server requires NLA: it stays on.
    let r = w.run(&["rdp", &shadow.addr().to_string()]);
    r.expect(0);
    assert!(text(&r).contains("enablecredsspsupport:i:1\n"), "{}", text(&r));
    // A name that does not resolve: the fallback IP goes into the file.
    if support::require_all(Dnsmasq::NEEDS) {
        let dns = Dnsmasq::builder().nxdomain_zone("test").start();
        w.run(&[
            "profile",
            "add",
            "web",
            "--host",
            "gone.corp.test",
            "--fallback",
            &xrdp.addr().to_string(),
        ])
        .expect(0);
        let r = w.run(&["--dns-server", &dns.addr().to_string(), "rdp", "web"]);
        r.expect(0);
        assert!(
            text(&r).contains(&format!("full address:s:{}\n", xrdp.addr())),
            "{}",
            text(&r)
        );
        assert!(r.stderr().contains("fallback"), "{}", r.stderr());
    }
    // A changed pin blocks, unless overridden for this run.
    let target = xrdp.addr().to_string();
    let (_, v) = check(&w, &[&target]);
    let real = v["certificate"]["sha256"].as_str().expect("sha").to_owned();
    let pins = w.config().join("pins.toml");
    std::fs::write(
        &pins,
        format!(
            "version = 1\n[pins.\"{target}\"]\nsha256 = \"{}\"\nsubject = \"CN=old\"\nissuer = \"CN=old\"\n\
             not_before = \"2020-01-01T00:00:00Z\"\nnot_after = \"2021-01-01T00:00:00Z\"\n\
             first_seen = \"2020-01-01T00:00:00Z\"\nlast_seen = \"2020-01-01T00:00:00Z\"\n",
            "0".repeat(64)
        ),
    )
    .expect("write pins");
    let r = w.run(&["rdp", &target]);
    r.expect(1);
    assert!(
        r.stderr().contains("certificate changed") && r.stderr().contains(&real),
        "{}",
        r.stderr()
    );
    w.run(&["rdp", &target, "--accept-changed-cert"]).expect(0);
}

/// `rdpl doctor`: in each scenario the top-ranked cause is the right one.
#[test]
fn doctor_ranks_the_right_cause_first() {
    if !support::require_all(Xrdp::NEEDS)
        || !support::require_all(Shadow::NEEDS)
        || !support::require_all(Dnsmasq::NEEDS)
        || !support::require_all(certs::NEEDS)
    {
        return;
    }
    let w = World::new();
    let top = |args: &[&str]| -> (Run, Value) {
        let mut all = vec!["doctor", "--json", "--timeout", "6s"];
        all.extend_from_slice(args);
        let r = w.run(&all);
        let v: Value = serde_json::from_slice(&r.0.stdout)
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", r.stdout(), r.stderr()));
        (r, v)
    };
    let first = |v: &Value| v["causes"][0]["id"].as_str().unwrap_or("none").to_owned();

    // Expired certificate.
    let expired = certs::expired(&["127.0.0.1"]);
    let x = Xrdp::builder()
        .security(SecurityLayer::Tls)
        .cert(&expired)
        .start();
    let (r, v) = top(&[&x.addr().to_string()]);
    r.expect(1);
    assert_eq!(first(&v), "cert_expired", "{}", v["causes"]);
    assert!(v["causes"][0]["server_steps"].to_string().contains("TermService"));

    // Wrong name.
    let wrong = certs::wrong_name();
    let x2 = Xrdp::builder().security(SecurityLayer::Tls).cert(&wrong).start();
    let (_, v) = top(&[&x2.addr().to_string()]);
    assert_eq!(first(&v), "cert_wrong_name", "{}", v["causes"]);

    // An NLA-only server and a profile with NLA off.
    let shadow = Shadow::builder().start();
    w.run(&[
        "profile",
        "add",
        "nla-off",
        "--host",
        &shadow.addr().to_string(),
        "--nla",
        "off",
    ])
    .expect(0);
    let (r, v) = top(&["nla-off"]);
    r.expect(1);
    assert_eq!(first(&v), "nla_required_but_off", "{}", v["causes"]);
    assert!(
        v["causes"][0]["client_fix"]
            .as_str()
            .is_some_and(|f| f.contains("nla=auto"))
    );

    // A dead name while the IP works.
    let dns = Dnsmasq::builder().nxdomain_zone("test").start();
    let ok = Xrdp::builder().security(SecurityLayer::Tls).start();
    w.run(&[
        "profile",
        "add",
        "dead-name",
        "--host",
        "gone.corp.test",
        "--fallback",
        &ok.addr().to_string(),
    ])
    .expect(0);
    let (r, v) = top(&["--dns-server", &dns.addr().to_string(), "dead-name"]);
    r.expect(0);
    assert_eq!(first(&v), "name_unresolvable", "{}", v["causes"]);
    assert!(
        v["causes"][0]["client_fix"]
            .as_str()
            .is_some_and(|f| f.contains(&ok.addr().to_string()))
    );

    // A closed port.
    let closed = format!("127.0.0.1:{}", support::free_port());
    let (r, v) = top(&[&closed]);
    r.expect(1);
    assert_eq!(first(&v), "port_closed", "{}", v["causes"]);

    // A gateway that is an HTTPS server but no RD Gateway.
    let gw_cert = certs::self_signed(&["127.0.0.1"]);
    let web = crate::preflight::https(&gw_cert, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let rdp_cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = crate::preflight::tls_rdp_server(vec![crate::preflight::der(&rdp_cert)], rdp_cert.key_pem());
    w.run(&[
        "profile",
        "add",
        "via-web",
        "--host",
        &rdp.addr.to_string(),
        "--gateway",
        &web.addr.to_string(),
    ])
    .expect(0);
    let (r, v) = top(&["via-web"]);
    r.expect(1);
    assert_eq!(first(&v), "gateway_not_rdg", "{}", v["causes"]);

    // The human form names the cause and marks server steps as such.
    let r = w.run(&["doctor", &closed]);
    r.expect(1);
    let out = r.stdout();
    assert!(
        out.contains("1. Nothing listens on port")
            && out.contains("on the server (rdpl never does this for you):"),
        "{out}"
    );
}

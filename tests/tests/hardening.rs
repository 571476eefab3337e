//! Hardening, round 2 (issue #20): what an adversarial run of the release binary found, one test per defect,
//! each against a hostile server started here or a file made here.

use std::net::IpAddr;

use serde_json::Value;

use crate::preflight::{der, https, tls_rdp_server};
use crate::support::certs;
use crate::{Run, World};

// ---------------------------------------------------------------------------------------------------------
// 1. Terminal injection: server and file strings reach the terminal with their control characters escaped.

/// What a hostile subject, name or scheme carries: clear screen, a colour, a window title (OSC), BEL, a C1
/// CSI, a bidi override and a forged line of rdpl's own output after a carriage return and a newline.
const INJECTED: &str =
    "x\u{1b}[2J\u{1b}[32m\u{1b}]0;owned\u{7}\u{9b}1A\u{202e}\r\n  ✓ certificate trusted and pinned";

/// The characters of `text` that a terminal would act on (with colour off, rdpl writes none of its own).
fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[track_caller]
fn assert_escaped(what: &str, r: &Run) {
    for (stream, text) in [("stdout", r.stdout()), ("stderr", r.stderr())] {
        let bad = unsafe_chars(&text);
        assert!(bad.is_empty(), "{what}: {stream} carries {bad:?}:\n{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("✓ certificate trusted")),
            "{what}: {stream} shows a forged line:\n{text}"
        );
    }
}

#[test]
fn server_and_file_strings_reach_the_terminal_escaped() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::cert(&["127.0.0.1"]).common_name(INJECTED).self_signed();
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    let target = rdp.addr.to_string();

    // The subject really is in the report (JSON escapes it itself).
    let v: Value = w.run(&["check", "--json", "--timeout", "4s", &target]).json();
    assert!(
        v["certificate"]["subject"]
            .as_str()
            .is_some_and(|s| s.contains('\u{1b}')),
        "{v}"
    );
    let check = w.run(&["check", "--timeout", "4s", &target]);
    assert!(check.stdout().contains("\\u{1b}[2J"), "{}", check.stdout());
    assert_escaped("check", &check);
    assert_escaped("doctor", &w.run(&["doctor", &target]));
    let accept = w.run(&["pin", "accept", &target, "--timeout", "4s"]);
    accept.expect(0);
    assert_escaped("pin accept", &accept);
    assert_escaped("pin list", w.run(&["pin", "list"]).expect(0));

    // A gateway whose WWW-Authenticate schemes carry C1 controls and a bidi override (httparse refuses C0).
    let gw_cert = certs::self_signed(&["127.0.0.1"]);
    let gw = https(
        &gw_cert,
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Nego\u{9b}2J\u{202e}tiate\r\nContent-Length: 0\r\n\r\n",
    );
    w.run(&[
        "profile",
        "add",
        "via-gw",
        "--host",
        &target,
        "--gateway",
        &gw.addr.to_string(),
    ])
    .expect(0);
    assert_escaped(
        "check via a gateway",
        &w.run(&["check", "--timeout", "4s", "via-gw"]),
    );

    // .remmina names and groups, and an .rdp file's values.
    let file = w.write(
        "evil.remmina",
        format!("[remmina]\nname={INJECTED}\ngroup=g\u{1b}[8m\u{7}\nprotocol=RDP\nserver=evil.corp.test\n")
            .as_bytes(),
    );
    let file = file.to_str().expect("utf-8 path");
    assert_escaped("import --dry-run", &w.run(&["import", "--dry-run", file]));
    assert_escaped("import", &w.run(&["import", file]));
    assert_escaped("profile list", &w.run(&["profile", "list"]));
    let rdp_file = w.write(
        "evil.rdp",
        format!("full address:s:evil.corp.test\r\nusername:s:{INJECTED}\r\nalternate shell:s:{INJECTED}\r\n")
            .as_bytes(),
    );
    assert_escaped(
        "sanitize",
        &w.run(&["sanitize", rdp_file.to_str().expect("utf-8 path")]),
    );
}

// ---------------------------------------------------------------------------------------------------------
// 2. Absurd durations are refused at parse time; a check never loses a target.

#[test]
fn absurd_durations_are_a_usage_error_in_every_command() {
    let w = World::new();
    w.add_web01("alice", &[]);
    let closed = crate::support::free_port();
    let refused = format!("127.0.0.1:{closed}");
    let absurd = "18446744073709551615s";
    for args in [
        vec!["check", "--all", "--json", "--timeout", absurd],
        vec!["check", &refused, "web01", "--timeout", absurd],
        vec!["doctor", &refused, "--timeout", absurd],
        vec!["rdp", "web01", "--timeout", absurd],
        vec!["pin", "accept", &refused, "--timeout", absurd],
        vec!["connect", "web01", "--dry-run", "--timeout", absurd],
        vec!["screenshot", "web01", "-o", "x.png", "--timeout", absurd],
        vec!["screenshot", "web01", "-o", "x.png", "--max-wait", "25h"],
    ] {
        let r = w.run(&args);
        r.expect(2);
        let e = r.stderr();
        assert!(e.contains("longer than the longest duration"), "{args:?}: {e}");
        assert!(!e.contains("panicked") && r.stdout().is_empty(), "{args:?}: {e}");
    }
    // The longest accepted budget still checks: a refused port is an error of its target, in its place.
    let (r, v) = crate::preflight::check_json(&w, "24h", &[&refused, "web01"]);
    r.expect(1);
    let reports = v.as_array().unwrap_or_else(|| panic!("an array: {v}"));
    assert_eq!(reports.len(), 2, "{v}");
    assert_eq!(reports[0]["target"], refused);
    assert_eq!(reports[1]["target"], "web01");
    assert_eq!(reports[0]["verdict"], "blocked", "{v}");
}

// ---------------------------------------------------------------------------------------------------------
// 3. A protocol the client never asked for is `nego.unexpected_selection`, blocks, and stays in the schema.

/// How a server answers a single-protocol request (its requested protocols in).
type Answering = fn(u32) -> Vec<u8>;

/// A server that answers the modern request (SSL | HYBRID | HYBRID_EX) with `modern`, and each
/// single-protocol request with `single(requested)`.
fn negotiating(modern: Vec<u8>, single: Answering) -> crate::preflight::Fake {
    use std::io::Write;
    crate::preflight::Fake::start(move |mut s| {
        let Some(requested) = crate::preflight::read_cr(&mut s) else {
            return;
        };
        let answer = if requested == 0xB {
            modern.clone()
        } else {
            single(requested)
        };
        let _ = s.write_all(&answer);
        // Hold the connection a moment, as a server waiting for the ClientHello would.
        std::thread::sleep(std::time::Duration::from_millis(300));
    })
}

#[test]
fn a_selection_that_was_not_requested_blocks_and_stays_in_the_schema() {
    use crate::preflight::{finding, ids, neg_failure, neg_rsp};
    let w = World::new();
    let lawful = |requested: u32| neg_rsp(requested);
    let cases: [(&str, Vec<u8>, Answering, &str); 5] = [
        ("RDSTLS to a TLS request", neg_rsp(4), lawful, "PROTOCOL_RDSTLS"),
        (
            "RDSAAD to a TLS request",
            neg_rsp(0x10),
            lawful,
            "PROTOCOL_RDSAAD",
        ),
        (
            "two bits",
            neg_rsp(1 | 2),
            lawful,
            "PROTOCOL_SSL | PROTOCOL_HYBRID",
        ),
        (
            "an unknown bit",
            neg_rsp(0x100),
            lawful,
            "unknown bits 0x00000100",
        ),
        (
            "HYBRID to an SSL-only request",
            neg_rsp(2),
            |requested| {
                if requested == 0 {
                    neg_failure(5)
                } else {
                    neg_rsp(2)
                }
            },
            "the server selected PROTOCOL_HYBRID",
        ),
    ];
    let known = ["rdp", "ssl", "hybrid", "hybrid_ex", "rdstls"];
    for (what, modern, single, named) in cases {
        let server = negotiating(modern, single);
        let target = server.addr.to_string();
        let (r, v) = crate::preflight::check_json(&w, "4s", &[&target]);
        r.expect(1);
        let f = finding(&v, "nego.unexpected_selection");
        assert_eq!(f["severity"], "error", "{what}: {v}");
        let msg = f["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("Asked for PROTOCOL_") && msg.contains(named),
            "{what}: {msg}"
        );
        assert_eq!(v["verdict"], "blocked", "{what}");
        // Within the schema: `selected` is a known name or null, `offered` known names only.
        let sec = &v["security"];
        let main_broke = !what.starts_with("HYBRID");
        assert!(
            if main_broke {
                sec["selected"].is_null()
            } else {
                sec["selected"] == "hybrid"
            },
            "{what}: {sec}"
        );
        for o in sec["offered"].as_array().into_iter().flatten() {
            assert!(o.as_str().is_some_and(|o| known.contains(&o)), "{what}: {sec}");
        }
        // No contradiction built on it: no legacy-only or NLA verdict, no TLS step.
        for id in [
            "x224.legacy_only",
            "nego.hybrid_required",
            "nego.nla_unavailable",
            "nego.ssl_not_allowed",
        ] {
            assert!(!ids(&v).contains(&id.to_owned()), "{what}: {id} in {:?}", ids(&v));
        }
        if main_broke {
            assert!(v["tls"].is_null() && v["certificate"].is_null(), "{what}: {v}");
        }
        // The plan never goes ahead on it.
        let dry = w.run(&[
            "connect",
            &target,
            "--dry-run",
            "--with",
            "xfreerdp",
            "--timeout",
            "4s",
        ]);
        assert_eq!(
            dry.code(),
            1,
            "{what}: the plan went ahead\n{}\n{}",
            dry.stdout(),
            dry.stderr()
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// 9. Smaller defects: the pins schema version, config dirs that are not directories, unreadable profile
//    files, huge arguments quoted back, escape codes in `explain`, Windows devices and look-alike names.

#[test]
fn pins_toml_is_written_at_schema_version_one() {
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    w.run(&["pin", "accept", &rdp.addr.to_string(), "--timeout", "4s"])
        .expect(0);
    let text = std::fs::read_to_string(w.config().join("pins.toml")).expect("pins.toml");
    assert!(text.starts_with("version = 1\n"), "{text}");
}

#[test]
fn a_config_dir_that_is_not_a_directory_says_what_it_is() {
    let w = World::new();
    let file = w.write("file", b"x");
    let dangling = w.path("dangling");
    std::os::unix::fs::symlink(w.path("nowhere"), &dangling).expect("link");
    let (a, b) = (w.path("loop-a"), w.path("loop-b"));
    std::os::unix::fs::symlink(&b, &a).expect("link");
    std::os::unix::fs::symlink(&a, &b).expect("link");
    for (dir, says) in [
        (&file, "a file is there, not a directory"),
        (&dangling, "a dangling link or a symlink loop"),
        (&a, "a dangling link or a symlink loop"),
    ] {
        let d = dir.to_str().expect("utf-8");
        for args in [
            vec!["profile", "add", "x", "--host", "x.test"],
            vec!["profile", "list"],
        ] {
            let r = w.run(&[&["--config-dir", d][..], &args].concat());
            r.expect(2);
            let e = r.stderr();
            assert!(
                e.contains(says)
                    && e.contains(d)
                    && !e.contains("File exists")
                    && !e.contains("could not list"),
                "{d} {args:?}: {e}"
            );
        }
    }
}

#[test]
fn a_directory_where_a_profile_file_should_be_is_named_with_the_reason() {
    let w = World::new();
    w.add_web01("alice", &[]);
    std::fs::create_dir(w.config().join("profiles/x.toml")).expect("mkdir");
    let r = w.run(&["profile", "list"]);
    r.expect(2);
    assert!(r.stdout().contains("web01"), "{}", r.stdout());
    let e = r.stderr();
    assert!(
        e.contains("x.toml") && e.contains("a directory, not a regular file"),
        "{e}"
    );
    let v = w.run(&["profile", "list", "--json"]).json();
    let msg = v["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    assert!(msg.contains("a directory"), "{v}");
}

#[test]
fn a_huge_argument_is_not_echoed_back_whole() {
    let w = World::new();
    let huge = "A".repeat(131_000);
    for args in [
        vec!["check", huge.as_str()],
        vec!["profile", "show", huge.as_str()],
        vec!["explain", huge.as_str()],
        vec!["profile", "add", "x", "--host", huge.as_str()],
        vec!["check", "x", "--timeout", huge.as_str()],
    ] {
        let r = w.run(&args);
        r.expect(2);
        let e = r.stderr();
        assert!(
            e.len() < 4_000,
            "{} bytes on stderr for {:?}",
            e.len(),
            &args[..args.len() - 1]
        );
        assert!(e.contains("characters left out"), "{e}");
    }
}

#[test]
fn explain_shows_an_escape_code_in_its_argument() {
    let w = World::new();
    let r = w.run(&["explain", "\u{1b}[2J0x904"]);
    r.expect(2);
    assert!(
        r.stderr().contains("`\\u{1b}[2J0x904` is not an error code"),
        "{}",
        r.stderr()
    );
    assert_escaped("explain", &r);
}

#[test]
fn windows_devices_are_refused_and_look_alike_names_warned_about() {
    let w = World::new();
    for name in ["COM¹", "CONIN$", "lpt9 .x", "conout$", "LPT³"] {
        let r = w.run(&["profile", "add", name, "--host", "x.test"]);
        r.expect(2);
        assert!(r.stderr().contains("is reserved"), "{name}: {}", r.stderr());
    }
    let r = w.run(&["profile", "add", "web\u{202e}01", "--host", "x.test"]);
    r.expect(2);
    assert!(r.stderr().contains("U+202E"), "{}", r.stderr());
    assert_eq!(
        std::fs::read_dir(w.config().join("profiles"))
            .map(Iterator::count)
            .unwrap_or(0),
        0
    );

    w.add_web01("alice", &[]);
    for alike in ["web0l", "w\u{0435}b01"] {
        let r = w.run(&["profile", "add", alike, "--host", "evil.test"]);
        r.expect(0);
        assert!(
            r.stderr().contains("looks like the existing profile `web01`"),
            "{alike}: {}",
            r.stderr()
        );
        w.run(&["profile", "rm", alike]).expect(0);
    }
    let r = w.run(&["profile", "add", "web02", "--host", "web02.test"]);
    r.expect(0);
    assert!(!r.stderr().contains("looks like"), "{}", r.stderr());
    let file = w.write(
        "alike.remmina",
        "[remmina]\nname=WEB0l\nprotocol=RDP\nserver=evil.test\n".as_bytes(),
    );
    let r = w.run(&["import", file.to_str().expect("utf-8")]);
    r.expect(0);
    assert!(
        r.stderr().contains("looks like the existing profile `web01`"),
        "{}",
        r.stderr()
    );
}

// ---------------------------------------------------------------------------------------------------------
// 7. Names: underscores resolve, international names are one name (IDNA), look-alike .rdp addresses are
//    shown as punycode with a warning, 0.0.0.0 is never this machine, `*.test` matches nothing.

#[test]
fn names_are_resolved_normalised_and_judged_as_dns_and_certificates_see_them() {
    use crate::support::Dnsmasq;
    if !crate::support::require_all(certs::NEEDS) || !crate::support::require_all(Dnsmasq::NEEDS) {
        return;
    }
    use crate::preflight::{check_json, ids};
    let w = World::new();
    let local = std::net::Ipv4Addr::LOCALHOST;
    // host-record: exactly these addresses, so an AAAA query gets an empty answer at once.
    let (local, zero) = (IpAddr::V4(local), IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let dns = Dnsmasq::builder()
        .host("a_b.corp.test", &[local])
        .host("xn--bcher-kva.corp.test", &[local])
        .host("zero.corp.test", &[zero])
        .host("corp.test", &[local])
        .start();
    let dns_server = dns.addr().to_string();
    let cert = certs::cert(&[
        "a_b.corp.test",
        "xn--bcher-kva.corp.test",
        "*.test",
        "zero.corp.test",
    ])
    .self_signed();
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    let port = rdp.addr.port();
    let check = |host: &str| {
        check_json(
            &w,
            "4s",
            &["--dns-server", &dns_server, &format!("{host}:{port}")],
        )
    };

    // An underscore: a real query, and the server answers.
    let (_, v) = check("a_b.corp.test");
    assert_eq!(v["dns"]["status"], "ok", "{v}");
    assert_eq!(v["address"]["chosen"], format!("127.0.0.1:{port}"), "{v}");

    // An international name is its punycode for DNS, the certificate and the pin: one key, no mismatch.
    let (_, v) = check("bücher.corp.test");
    assert_eq!(v["dns"]["name"], "xn--bcher-kva.corp.test", "{v}");
    assert!(
        !ids(&v).contains(&"cert.name_mismatch".to_owned()),
        "{:?}",
        ids(&v)
    );
    w.run(&[
        "pin",
        "accept",
        &format!("bücher.corp.test:{port}"),
        "--dns-server",
        &dns_server,
        "--timeout",
        "4s",
    ])
    .expect(0);
    let (_, v) = check("xn--bcher-kva.corp.test");
    assert_eq!(v["certificate"]["pin"], "match", "{v}");
    let pins = std::fs::read_to_string(w.config().join("pins.toml")).expect("pins");
    assert_eq!(pins.matches("[pins.").count(), 1, "{pins}");

    // 0.0.0.0 is a finding, never a connection to this machine (where the test server listens).
    let (r, v) = check("zero.corp.test");
    r.expect(1);
    assert_eq!(
        crate::preflight::finding(&v, "dns.unusable_address")["severity"],
        "error",
        "{v}"
    );
    assert!(v["address"]["chosen"].is_null(), "{v}");

    // A bare-TLD wildcard matches nothing.
    let (_, v) = check("corp.test");
    assert!(
        ids(&v).contains(&"cert.name_mismatch".to_owned()),
        "{:?}",
        ids(&v)
    );

    // A look-alike address in an .rdp file is shown as punycode, with a warning.
    let file = w.write("rogue.rdp", "full address:s:rdp.p\u{0430}ypal.com\r\n".as_bytes());
    let r = w.run(&["import", "--dry-run", file.to_str().expect("utf-8")]);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        out.contains("rdp.xn--pypal-4ve.com") && out.contains("look-alike"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// 6. Every file rdpl reads is a regular file read with a cap; a held config lock says that rdpl waits.

/// Runs rdpl with `args`, killing it (and failing) if it has not ended within 20 s.
fn run_bounded(w: &World, args: &[&str]) -> Run {
    let mut child = w
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rdpl starts");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{args:?} hung: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Run(child.wait_with_output().expect("output"))
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf-8")).expect("c string");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo {}", path.display());
}

#[test]
fn fifos_devices_and_huge_files_are_refused_by_name_without_blocking() {
    let w = World::new();
    w.add_web01("alice", &[]);
    let profiles = w.config().join("profiles");
    // A profile that is a FIFO.
    mkfifo(&profiles.join("pipe.toml"));
    for args in [
        vec!["profile", "list"],
        vec!["check", "--all", "--json", "--timeout", "2s"],
        vec!["check", "pipe"],
    ] {
        let r = run_bounded(&w, &args);
        assert_ne!(r.code(), 0, "{args:?}");
        assert!(
            r.stderr().contains("pipe.toml") && r.stderr().contains("FIFO"),
            "{args:?}: {}",
            r.stderr()
        );
    }
    std::fs::remove_file(profiles.join("pipe.toml")).expect("rm");
    // pins.toml as a FIFO, then as /dev/zero.
    let pins = w.config().join("pins.toml");
    mkfifo(&pins);
    let r = run_bounded(&w, &["pin", "list"]);
    r.expect(2);
    assert!(
        r.stderr().contains("pins.toml") && r.stderr().contains("FIFO"),
        "{}",
        r.stderr()
    );
    std::fs::remove_file(&pins).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &pins).expect("link");
    let r = run_bounded(&w, &["pin", "list"]);
    r.expect(2);
    assert!(
        r.stderr().contains("pins.toml") && r.stderr().contains("a device"),
        "{}",
        r.stderr()
    );
    std::fs::remove_file(&pins).expect("rm");
    // A FIFO .rdp (an archive can carry one) for import, sanitize and open.
    let rdp = w.path("evil.rdp");
    mkfifo(&rdp);
    let rdp = rdp.to_str().expect("utf-8");
    for args in [vec!["import", rdp], vec!["sanitize", rdp], vec!["open", rdp]] {
        let r = run_bounded(&w, &args);
        r.expect(2);
        assert!(
            r.stderr().contains("evil.rdp") && r.stderr().contains("FIFO"),
            "{args:?}: {}",
            r.stderr()
        );
    }
    // A profile that is a huge file is refused by its size, unread.
    let huge = profiles.join("huge.toml");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    let r = run_bounded(&w, &["profile", "list"]);
    assert!(
        r.stderr().contains("huge.toml") && r.stderr().contains("rdpl reads at most"),
        "{}",
        r.stderr()
    );
}

#[test]
fn a_held_config_lock_says_that_rdpl_waits_and_for_what() {
    let w = World::new();
    w.add_web01("alice", &[]);
    let lock = std::fs::File::options()
        .write(true)
        .open(w.config().join(".lock"))
        .expect("lock file");
    lock.lock().expect("hold the lock");
    let mut child = w
        .cmd(&["profile", "add", "web02", "--host", "web02.test"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rdpl starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "rdpl did not wait for the lock"
    );
    lock.unlock().expect("release");
    let status = child.wait().expect("wait");
    let text = reader.join().expect("reader");
    assert!(status.success(), "{text}");
    assert!(
        text.contains("waiting for another rdpl") && text.contains(".lock"),
        "{text}"
    );
    w.run(&["profile", "show", "web02"]).expect(0);
}

// ---------------------------------------------------------------------------------------------------------
// 8. Gateway answers: a real 401 with many headers is a gateway, a 200 to anything is not, and a silent or
//    non-HTTP answer is named for what it is.

/// An HTTPS server that reads one request head, writes `answer`, then holds the connection for `hold`.
fn https_holding(
    cert: &certs::TestCert,
    answer: Vec<u8>,
    hold: std::time::Duration,
) -> crate::preflight::Fake {
    use std::io::{Read, Write};
    let config = crate::preflight::tls_config(vec![der(cert)], cert.key_pem());
    crate::preflight::Fake::start(move |mut s| {
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
        let _ = tls.write_all(&answer);
        let _ = tls.flush();
        std::thread::sleep(hold);
    })
}

#[test]
fn gateway_answers_are_read_with_an_adequate_budget_and_named_for_what_they_are() {
    use crate::preflight::{check_json, finding};
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let rdp_cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&rdp_cert)], rdp_cert.key_pem());
    let gw_cert = certs::self_signed(&["127.0.0.1"]);
    let none = std::time::Duration::ZERO;
    let mut big = String::from("HTTP/1.1 401 Unauthorized\r\n");
    for i in 0..100 {
        big.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    for s in ["Negotiate", "NTLM", "Basic realm=\"rdg\""]
        .iter()
        .cycle()
        .take(60)
    {
        big.push_str(&format!("WWW-Authenticate: {s}\r\n"));
    }
    big.push_str("Content-Length: 0\r\n\r\n");
    let many = https_holding(&gw_cert, big.into_bytes(), none);
    let web = https_holding(
        &gw_cert,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        none,
    );
    let slow = https_holding(
        &gw_cert,
        b"HTTP/1.1 401 Unauth".to_vec(),
        std::time::Duration::from_secs(15),
    );
    let ssh = https_holding(&gw_cert, b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec(), none);
    let add = |name: &str, gw: &crate::preflight::Fake| {
        w.run(&[
            "profile",
            "add",
            name,
            "--host",
            &rdp.addr.to_string(),
            "--gateway",
            &gw.addr.to_string(),
        ])
        .expect(0);
    };
    add("many", &many);
    add("web", &web);
    add("slow", &slow);
    add("ssh", &ssh);

    let (_, v) = check_json(&w, "6s", &["many"]);
    assert_eq!(v["gateway"]["status"], "ok", "{}", v["gateway"]);
    assert_eq!(
        v["gateway"]["auth_schemes"],
        serde_json::json!(["Negotiate", "NTLM", "Basic"])
    );

    let (r, v) = check_json(&w, "6s", &["web"]);
    r.expect(1);
    assert_eq!(v["gateway"]["status"], "not_rdg", "{}", v["gateway"]);

    let (r, v) = check_json(&w, "6s", &["slow"]);
    r.expect(1);
    let msg = finding(&v, "gateway.rejected")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        msg.contains("in time") && !msg.contains("closed the connection"),
        "{msg}"
    );

    let (r, v) = check_json(&w, "6s", &["ssh"]);
    r.expect(1);
    let msg = finding(&v, "gateway.rejected")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        msg.contains("not an HTTP response") && !msg.contains("closed the connection"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// 4. Weak keys and weak signatures are judged, even when the handshake can't be checked.

/// `openssl s_server` on 127.0.0.1 with `cert`/`key` (security level 0, so it serves an RSA-1024 key),
/// stopped on drop.
struct OpensslServer {
    child: std::process::Child,
    addr: std::net::SocketAddr,
}

impl OpensslServer {
    fn start(cert: &std::path::Path, key: &std::path::Path) -> OpensslServer {
        let port = crate::support::free_port();
        let child = std::process::Command::new("openssl")
            .args(["s_server", "-quiet", "-cipher", "DEFAULT:@SECLEVEL=0", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "s_server never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        OpensslServer { child, addr }
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RDP front: answers the X.224 request with PROTOCOL_SSL, then pipes the connection to `backend`.
fn rdp_front(backend: std::net::SocketAddr) -> crate::preflight::Fake {
    use std::io::Write;
    crate::preflight::Fake::start(move |mut s| {
        let Some(requested) = crate::preflight::read_cr(&mut s) else {
            return;
        };
        if requested & 1 == 0 {
            let _ = s.write_all(&crate::preflight::neg_failure(1));
            return;
        }
        let _ = s.write_all(&crate::preflight::neg_rsp(1));
        let Ok(b) = std::net::TcpStream::connect(backend) else {
            return;
        };
        let (mut s2, mut b2) = (s.try_clone().expect("clone"), b.try_clone().expect("clone"));
        let up = std::thread::spawn(move || {
            let _ = std::io::copy(&mut s2, &mut b2);
            let _ = b2.shutdown(std::net::Shutdown::Write);
        });
        let (mut s, mut b) = (s, b);
        let _ = std::io::copy(&mut b, &mut s);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = up.join();
    })
}

/// `openssl req -x509` with `extra` arguments: a self-signed certificate for 127.0.0.1 in `dir`.
fn openssl_cert(
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(extra)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl req");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

#[test]
fn weak_keys_and_weak_signatures_are_findings_even_when_the_handshake_cannot_be_checked() {
    use crate::preflight::{check_json, finding, ids};
    if !crate::support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let dir = w.path("certs");
    std::fs::create_dir(&dir).expect("mkdir");

    // RSA-1024: ring can't verify its handshake signature; the certificate is still judged.
    let (cert, key) = openssl_cert(&dir, "rsa1024", &["-newkey", "rsa:1024"]);
    let server = OpensslServer::start(&cert, &key);
    let front = rdp_front(server.addr);
    let target = front.addr.to_string();
    let (r, v) = check_json(&w, "6s", &[&target]);
    r.expect(1);
    assert_eq!(v["certificate"]["key"], "RSA 1024", "{v}");
    assert_eq!(finding(&v, "cert.weak_key")["severity"], "warning", "{v}");
    let msg = finding(&v, "tls.handshake_failed")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(msg.contains("RSA 1024") && msg.contains("2048 to 8192"), "{msg}");
    let r = w.run(&["pin", "accept", &target, "--timeout", "6s"]);
    r.expect(0);

    // An MD5-signed self-signed certificate is self-signed with a weak signature, not "untrusted".
    let (cert, key) = openssl_cert(&dir, "md5", &["-newkey", "rsa:2048", "-md5"]);
    let chain = vec![rustls::pki_types::CertificateDer::from(
        rustls::pki_types::pem::PemObject::from_pem_file(&cert)
            .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
            .expect("pem"),
    )];
    let md5 = tls_rdp_server(chain, &std::fs::read_to_string(&key).expect("key"));
    let (_, v) = check_json(&w, "6s", &[&md5.addr.to_string()]);
    assert_eq!(finding(&v, "cert.weak_signature")["severity"], "warning", "{v}");
    assert!(ids(&v).contains(&"cert.self_signed".to_owned()), "{:?}", ids(&v));
    assert!(!ids(&v).contains(&"cert.untrusted".to_owned()), "{:?}", ids(&v));
}

// ---------------------------------------------------------------------------------------------------------
// 5. Import: one pass, all or nothing.

/// An mRemoteNG confCons.xml with `n` RDP connections `srv00000`...
pub(crate) fn mremoteng(n: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<mrng:Connections xmlns:mrng=\"http://mremoteng.org\" Name=\"Connections\" ConfVersion=\"2.8\">\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "  <Node Name=\"srv{i:05}\" Type=\"Connection\" Hostname=\"srv{i:05}.corp.test\" Protocol=\"RDP\" Port=\"3389\" Username=\"alice\" Domain=\"CORP\" />\n"
        ));
    }
    s.push_str("</mrng:Connections>\n");
    s
}

#[test]
fn an_import_killed_at_any_moment_leaves_nothing_or_everything() {
    const N: usize = 3000;
    let w = World::new();
    let file = w.write("confCons.xml", mremoteng(N).as_bytes());
    let file = file.to_str().expect("utf-8");
    let mut outcomes = Vec::new();
    for delay_ms in [0u64, 5, 20, 40, 80, 150, 300, 600] {
        let config = w.path(&format!("config-{delay_ms}"));
        let config_s = config.to_str().expect("utf-8");
        let mut child = w
            .cmd(&["--config-dir", config_s, "import", file])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rdpl starts");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // The next rdpl that takes the lock finishes or undoes what the killed one left.
        w.run(&[
            "--config-dir",
            config_s,
            "profile",
            "add",
            "probe",
            "--host",
            "probe.test",
        ])
        .expect(0);
        let v = w
            .run(&["--config-dir", config_s, "profile", "list", "--json"])
            .json();
        let imported = v["profiles"].as_array().map_or(0, Vec::len) - 1;
        assert!(
            imported == 0 || imported == N,
            "killed after {delay_ms} ms: {imported} of {N} profiles"
        );
        let left: Vec<_> = std::fs::read_dir(config.join("profiles"))
            .expect("profiles dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "killed after {delay_ms} ms: left {left:?}");
        outcomes.push(imported);
    }
    // The run that was not killed in time imported everything (the kills cover both outcomes over the delays).
    let done = w.run(&[
        "--config-dir",
        w.path("config-full").to_str().expect("utf-8"),
        "import",
        file,
    ]);
    done.expect(0);
    assert!(outcomes.contains(&0), "{outcomes:?}");
}

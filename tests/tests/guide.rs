//! docs/user-guide.md's example output, generated: every block between `<!-- begin: NAME -->` and
//! `<!-- end: NAME -->` is the real output of the commands shown, run here against loopback peers (a TLS-only
//! RDP server with a fixed certificate, a closed port, a fake xfreerdp on PATH). Ports, timings and the
//! temporary config directory are normalised so the text is the same on every run.
//!
//! Like `catalogue_doc_is_current` (profiles/tests/main.rs): `RDPL_UPDATE_DOCS=1 cargo test -p rdpl-tests
//! --test e2e guide::` rewrites the blocks; without it the test fails when the guide is stale.

use std::path::PathBuf;
use std::process::Command;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;

use crate::connect::Fakes;
use crate::preflight::tls_rdp_server;
use crate::support;
use crate::{Run, World};

/// A fixed self-signed certificate (CN=web01.corp.example, IP:127.0.0.1, valid for a century), so the
/// fingerprints and dates in the guide never change. Test material only: it protects nothing.
const GUIDE_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIDWTCCAkGgAwIBAgIUc9Z87gsfJPZ/UpO20cmiUqZMWg4wDQYJKoZIhvcNAQEL\nBQAwHTEbMBkGA1UEAwwSd2ViMDEuY29ycC5leGFtcGxlMCAXDTI2MTEyMjA2Mjg0\nMVoYDzIxMjYxMDI5MDYyODQxWjAdMRswGQYDVQQDDBJ3ZWIwMS5jb3JwLmV4YW1w\nbGUwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC2mgGZX/lc6bX1c3Ku\nOMCKamug46EEz5E4fWlIWwsC2nHu032p5PgLiW+J7rjlJnbDF6IV/DWzwObL/o45\na5B1fiNb9PduKfJ5xJw/GK+JZnvbAyAgUi1kO7Z6UsSu8Ky/VyCmuga3hIyDxBmX\nz31sSdM9gss5MUmtfXgl+nwAC/wxyWZGH/mvYLxkkFfAIPbSJbRfLJprmkXRN/3L\n7yUtuEfewDrCwz+jah6LmbVLmtvXuUDeN+BChS6HWW6NVhcc6qmR8FdwN9kvR/rk\nMbv6gi+xn8Yb7ZYtR7jYafx68RW+U7TUhhATeYXUxBo6qIwQ7EyWtoLU+Xcj3fyE\nLai5AgMBAAGjgY4wgYswHQYDVR0OBBYEFPvny8XSPiuf/A4ouQAJg04FDg4KMB8G\nA1UdIwQYMBaAFPvny8XSPiuf/A4ouQAJg04FDg4KMA8GA1UdEwEB/wQFMAMBAf8w\nIwYDVR0RBBwwGoISd2ViMDEuY29ycC5leGFtcGxlhwR/AAABMBMGA1UdJQQMMAoG\nCCsGAQUFBwMBMA0GCSqGSIb3DQEBCwUAA4IBAQBvmHpQk/1l6Y/+tT2L5nPNi0id\nXIjl/lf7I19mWe5l0eI27FJsi3gP/OcA/bm04a1K8LR7w5DU0HrPspiaLxh7B1zG\n3Ie+oy9OOj+yQZQX//ohCEcDRR3KaPp7LqU48NAddNI5wdNMcEHf2GQ1Ig5ryWKW\nsscPzgOo/CdE111pcbx9byiBusKmILvQ000BUZubq5CoDgFGKiehLksHaFQ2Ep9G\n79ii3Fi0QUDKQ31oG36qoG/fxTx168PNzm/5oOGCcz4MAQ3nsZcS/N7HQij1e30C\nEeqMUuQqQygJhQ8xGJks11TyFHfYT2yPoNnVGpXkQx3Xa+jcWOsnktHlyAif\n-----END CERTIFICATE-----\n";
const GUIDE_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC2mgGZX/lc6bX1\nc3KuOMCKamug46EEz5E4fWlIWwsC2nHu032p5PgLiW+J7rjlJnbDF6IV/DWzwObL\n/o45a5B1fiNb9PduKfJ5xJw/GK+JZnvbAyAgUi1kO7Z6UsSu8Ky/VyCmuga3hIyD\nxBmXz31sSdM9gss5MUmtfXgl+nwAC/wxyWZGH/mvYLxkkFfAIPbSJbRfLJprmkXR\nN/3L7yUtuEfewDrCwz+jah6LmbVLmtvXuUDeN+BChS6HWW6NVhcc6qmR8FdwN9kv\nR/rkMbv6gi+xn8Yb7ZYtR7jYafx68RW+U7TUhhATeYXUxBo6qIwQ7EyWtoLU+Xcj\n3fyELai5AgMBAAECggEAEFSxOGugNGpVgvR2iPTb6XUvl4XMKI88zGnQ8O7tiu2I\n+4RQLJHlCjkaL+KZCCt6uyOBtEgocGFb8tobE7EWTB/CH08HEwPu4uuN0snNJzNy\nd8mthZ5730dE4GdHHmM5e+pZqfegsqiI3Z777/sXW0g1+34XWU/aaEj8ph7jGKjS\nvoGaCwYZHsT8zzqWQ+PQo8Il5Vhi+jQhxcdocw5GwfAmHIJGAnLmmQNzvIBy2l62\n8pVbi3fG07sfmJrIOyrkSXjRLn1nhINDOZuS/yHGhScXsxz2Y5KII/PgKTv3S1E0\n9AVbcn3zAm+0z5vgCgJw+masckVUCsMOWNxI/q0mAQKBgQD2S2gDGOzvynrVo5CD\nIPJZmqiPvTeHO4QQFEP/R4H6iE4ohyt62U28xXpU5LQctGYWjM5054u0FvOo0kxk\nI0qUoFps4BO5zjdFGZuBCu9UxohzUcw7gOX4T2ZYuILGzO1icweJoAp4RWPgaiHR\nUNsTailVPndIN2ZWxXcWVs7/uQKBgQC9zBJq9Nmre1k/gaPQoFucWdbCzBI3Daot\nOZwCKnbkjrqEpK+1UlHbqldmVUowl+yBMArtHy33fuqpvdA9Lf68e/ggVc806SDg\nvi/qmhoYBTQruBQ0Za6ghVBzhe/xm7EpVNPMFXGwcZQtej1+kHDjXxISQ02NW2lB\n8BzO1W5xAQKBgBRkNd5bx/Iqf3UEr8hLiAUnKuGLtvc5VDvIkcCm+Pn3IxFz74Oi\nTi9c4j35GXhu7yzax5UiPozQgafukWiRC3G2vQXan4d4rVbJQfizIRGRxmZV1WTv\nzRp76GtcC2fOO7E0+ODKIVPH2vcPknE0Eo9O8NEf9NxDyfNRMgTldwnxAoGBAI9i\np5tkBTnWwxMGNqL7MpqJCIU7tJsg2Kq39hNwz0dWSLTC0feTDEJ+iu7FinnxnHvw\ntqBzSL/Mgy3fN32wzNzKbybGjPa1FOCU7hA3gXUaIVLSC3mWQ/oDHUdZLW+DJrFJ\n44QvwycAd2hwDBscthwgC7/+Vo1vPLLS2oCrn3cBAoGAT0gJlSPa1vfBm4i86bZn\naQTpKPdNKw2buPDqODix+LF6r6zj02HZxYGJRCSRnozYso/oiU4xHLtwcc+OT39S\nKStxxLnugLetlM3G4oz50bKVJHiXjzYLKdnq6XtD5kD4lXgHvr45XID1Gr/3JHtZ\nSjbfUUImAoLLkKit6mUqbo0=\n-----END PRIVATE KEY-----\n";

/// What the guide shows for the loopback server's port and for the closed one.
const SHOWN_PORT: &str = "13389";
const SHOWN_CLOSED: &str = "13390";

struct Guide {
    w: World,
    fakes: Fakes,
    /// (real, shown) replacements, applied to commands and output.
    replace: Vec<(String, String)>,
}

impl Guide {
    fn normalise(&self, s: &str) -> String {
        // .rdp text is CRLF on the wire; the guide is LF.
        let mut s = s.replace("\r\n", "\n");
        for (real, shown) in &self.replace {
            s = s.replace(real, shown);
        }
        millis(&s)
    }

    /// `$ rdpl ARGS` and what it printed (stdout, then stderr), normalised.
    fn run(&self, args: &[&str]) -> String {
        let r = self.raw(args);
        self.transcript(args, &format!("{}{}", r.stdout(), r.stderr()))
    }

    fn raw(&self, args: &[&str]) -> Run {
        let mut c: Command = self.fakes.cmd(&self.w, args);
        c.current_dir(self.w.path(""));
        Run(c.output().expect("rdpl runs"))
    }

    fn transcript(&self, args: &[&str], out: &str) -> String {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.is_empty() || a.contains([' ', '"', '\'', '|', '*', '\\']) {
                    format!("\"{a}\"")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        self.normalise(&format!("$ rdpl {}\n{out}", shown.join(" ")))
    }
}

/// `123 ms` -> `N ms`: timings differ on every run.
fn millis(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if s[i..].starts_with(" ms") && !s[i + 3..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
                out.push('N');
            } else {
                out.push_str(&s[start..i]);
            }
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The blocks, by marker name.
fn generate() -> Vec<(&'static str, String)> {
    let chain = vec![CertificateDer::from_pem_slice(GUIDE_CERT.as_bytes()).expect("guide cert")];
    let server = tls_rdp_server(chain, GUIDE_KEY);
    let closed = support::free_port();
    let w = World::new();
    // FreeRDP 3 as Debian 13 installs it (a stand-in that answers /version like FreeRDP 3.10.3).
    let fakes = Fakes::install(&w, &["xfreerdp3"]);
    let g = Guide {
        replace: vec![
            (fakes.bin().display().to_string(), "/usr/bin".into()),
            (w.config().display().to_string(), "~/.config/rdpl".into()),
            (w.path("").display().to_string(), ".".into()),
            (format!(":{}", server.addr.port()), format!(":{SHOWN_PORT}")),
            (
                format!("port {}", server.addr.port()),
                format!("port {SHOWN_PORT}"),
            ),
            (format!(":{closed}"), format!(":{SHOWN_CLOSED}")),
            (format!("port {closed}"), format!("port {SHOWN_CLOSED}")),
        ],
        w,
        fakes,
    };
    let port = server.addr.port().to_string();
    let closed = closed.to_string();
    let mut blocks = Vec::new();

    let profiles = [
        g.run(&[
            "profile",
            "add",
            "web01",
            "--host",
            "web01.corp.example",
            "--fallback",
            "10.0.0.5",
            "--user",
            "alice",
            "--domain",
            "CORP",
        ]),
        g.run(&[
            "profile",
            "set",
            "web01",
            "redirect.drives=C:",
            "display.full_screen=on",
            "rdp.session bpp=24",
        ]),
        g.run(&["profile", "show", "web01"]),
        g.run(&["profile", "show", "web1"]),
    ];
    blocks.push(("profiles", profiles.concat()));

    let lab = g.run(&[
        "profile",
        "add",
        "lab",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        "alice",
        "--domain",
        "CORP",
    ]);
    blocks.push(("profile-list", [lab, g.run(&["profile", "list"])].concat()));

    blocks.push((
        "check",
        [
            g.run(&["check", "lab"]),
            g.run(&["pin", "accept", "lab"]),
            g.run(&["check", "lab"]),
        ]
        .concat(),
    ));

    // `--json`, cut down the way the jq filter shown does it.
    let filter = "{target, verdict, chosen: .address.chosen, offered: .security.offered, tls: .tls.version, \
                  pin: .certificate.pin, findings: [.findings[] | \"\\(.severity) \\(.id)\"]}";
    let r = g.raw(&["check", "lab", "--json"]);
    r.expect(0);
    let v = r.json();
    let findings: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["severity"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    let cut = json!({
        "target": v["target"], "verdict": v["verdict"], "chosen": v["address"]["chosen"],
        "offered": v["security"]["offered"], "tls": v["tls"]["version"], "pin": v["certificate"]["pin"],
        "findings": findings,
    });
    let cut = serde_json::to_string_pretty(&cut).expect("json") + "\n";
    blocks.push((
        "check-json",
        g.normalise(&format!("$ rdpl check lab --json | jq '{filter}'\n{cut}")),
    ));

    let doctor = [
        g.run(&[
            "profile",
            "add",
            "old01",
            "--host",
            "127.0.0.1",
            "--port",
            &closed,
        ]),
        g.run(&["doctor", "old01"]),
    ];
    blocks.push(("doctor", doctor.concat()));

    // The summary: the lines before the first blank one.
    let r = g.raw(&["explain", "0x904", "0x7"]);
    r.expect(0);
    let first: String = r
        .stdout()
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    blocks.push(("explain", g.transcript(&["explain", "0x904", "0x7"], &first)));

    blocks.push(("rdp-offline", g.run(&["rdp", "web01", "--offline"])));

    blocks.push((
        "connect-dry-run",
        [
            g.run(&["profile", "set", "lab", "link=vpn"]),
            g.run(&["connect", "lab", "--dry-run", "--with", "xfreerdp"]),
        ]
        .concat(),
    ));

    let rogue = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../launcher/src/commands/rogue-sample.rdp"),
    )
    .expect("rogue sample");
    g.w.write("invoice-Q4.rdp", &rogue);
    blocks.push(("sanitize", g.run(&["sanitize", "invoice-Q4.rdp"])));
    let cons = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../profiles/tests/data/import/confCons.xml"),
    )
    .expect("confCons.xml sample");
    g.w.write("confCons.xml", &cons);
    blocks.push(("import-managers", g.run(&["import", "confCons.xml", "--dry-run"])));
    drop(server);
    blocks
}

/// Replaces each marked block of `doc`; panics on a marker without its block or a block without a marker.
fn render(doc: &str, blocks: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut rest = doc;
    let mut seen = Vec::new();
    while let Some(at) = rest.find("<!-- begin: ") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let name_end = from.find(" -->").expect("a begin marker ends with -->");
        let name = &from["<!-- begin: ".len()..name_end];
        let end_marker = format!("<!-- end: {name} -->");
        let end = from
            .find(&end_marker)
            .unwrap_or_else(|| panic!("docs/user-guide.md: `<!-- begin: {name} -->` has no `{end_marker}`"));
        let (_, text) = blocks
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("docs/user-guide.md: no generator for block `{name}`"));
        out.push_str(&format!("<!-- begin: {name} -->\n```\n{text}```\n{end_marker}"));
        seen.push(name.to_owned());
        rest = &from[end + end_marker.len()..];
    }
    out.push_str(rest);
    for (n, _) in blocks {
        assert!(
            seen.iter().any(|s| s == n),
            "docs/user-guide.md lacks the block `<!-- begin: {n} -->`"
        );
    }
    out
}

#[test]
fn user_guide_examples_are_real_output() {
    let blocks = generate();
    // What the blocks must show, whatever the wording: the commands really ran.
    let get = |n: &str| &blocks.iter().find(|(b, _)| *b == n).expect("block").1;
    assert!(
        get("profiles").contains("help: did you mean `web01`?"),
        "{}",
        get("profiles")
    );
    assert!(
        get("check").contains("pinned 127.0.0.1:13389 to "),
        "{}",
        get("check")
    );
    assert!(get("check").contains("cert.self_signed"), "{}", get("check"));
    assert!(
        get("doctor").contains("Nothing listens on port 13390"),
        "{}",
        get("doctor")
    );
    assert!(
        get("explain").contains("exDiscReasonServerDeniedConnection"),
        "{}",
        get("explain")
    );
    assert!(
        get("connect-dry-run").contains("/usr/bin/xfreerdp3 /v:127.0.0.1:13389"),
        "{}",
        get("connect-dry-run")
    );
    assert!(get("sanitize").contains("removed"), "{}", get("sanitize"));
    for (n, text) in &blocks {
        assert!(
            !text.contains("/tmp/") && !text.contains("/.tmp"),
            "{n}: a temp path is left:\n{text}"
        );
    }

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/user-guide.md");
    let on_disk = std::fs::read_to_string(&path).expect("docs/user-guide.md");
    let fresh = render(&on_disk, &blocks);
    if std::env::var_os("RDPL_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).expect("write docs/user-guide.md");
        return;
    }
    if on_disk != fresh {
        let first = on_disk
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(on_disk.lines().count().min(fresh.lines().count()));
        panic!(
            "docs/user-guide.md is stale (first difference at line {}): run RDPL_UPDATE_DOCS=1 cargo test -p \
             rdpl-tests --test e2e guide::\n--- on disk\n{}\n--- generated\n{}",
            first + 1,
            on_disk.lines().nth(first).unwrap_or(""),
            fresh.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn millis_are_normalised_and_nothing_else() {
    assert_eq!(
        millis("ok (56 ms), 0 ms; 3 msgs; 2 ms."),
        "ok (N ms), N ms; 3 msgs; N ms."
    );
    assert_eq!(millis("x1 ms √ 12ms"), "x1 ms √ 12ms");
}

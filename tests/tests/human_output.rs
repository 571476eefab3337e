//! Snapshots of the human (non-JSON) output of `rdpl check`, `rdpl doctor` and `rdpl connect --dry-run`:
//! what users read, in the situations they meet most. A change in the decision code (`plan()`, the doctor's
//! causes, the findings) that changes a word users see shows up here as a snapshot diff.
//!
//! Situations: a self-signed certificate seen for the first time (pin new), the same once pinned (pin match),
//! then a changed certificate (blocked); a refused primary address and an unresolvable name, each with a
//! fallback that answers; nothing listening (blocked); a server that requires NLA, with `nla=auto` and with a
//! profile that turns NLA off (blocked). The TLS servers are the in-process fakes of `preflight.rs`, so those
//! cases need only `openssl` (for the test keys); the dead name needs dnsmasq and the NLA server is the real
//! FreeRDP shadow server.
//!
//! Each snapshot holds the command line, the exit code, stdout and (when there is any) stderr. Only what
//! varies between runs is redacted, each value by a filter that names it: durations (`[N] ms`), certificate
//! dates (`[DATE]`), the fingerprints of this run's certificates (`[SHA256-A]`, …), the ports of this run's
//! servers (`[TLS-PORT]`, …) and the temp dir (`[TMP]`). The fingerprints and ports are matched by their
//! exact values, so a snapshot still shows which certificate and which server a line talks about. No snapshot
//! shows a temp path today; the `[TMP]` filter keeps one stable should a message start naming the config dir.

use std::sync::{Arc, RwLock};

use crate::connect::{SECRET, run_with_stdin};
use crate::preflight::{der, switchable_tls_rdp_server, tls_config};
use crate::preflight_real::{hex_lower, sha256};
use crate::support::{self, Dnsmasq, Shadow, certs};
use crate::{Run, World};

/// The pre-flight budget of every command here (the servers answer in milliseconds).
const TIMEOUT: &str = "6s";

/// Runs rdpl in one [`World`] and snapshots what it printed, with this run's varying values named.
struct Shots<'a> {
    w: &'a World,
    settings: insta::Settings,
    /// FreeRDP 2 and 3 stand-ins (they answer `/version`), so the dry runs show the same client everywhere.
    fakes: crate::connect::Fakes,
}

impl<'a> Shots<'a> {
    fn new(w: &'a World) -> Shots<'a> {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&escape(&w.dir.path().display().to_string()), "[TMP]");
        // Every duration rdpl prints is "N ms" (step times, candidate times, the report's total).
        settings.add_filter(r"\b\d+ ms\b", "[N] ms");
        // Certificate validity and pin dates, RFC 3339 in UTC.
        settings.add_filter(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[DATE]");
        let fakes = crate::connect::Fakes::install(w, &["xfreerdp", "xfreerdp3"]);
        Shots { w, settings, fakes }
    }

    /// Shows `port` (a whole number, anywhere) as `[NAME]`.
    fn port(&mut self, port: u16, name: &str) {
        self.settings
            .add_filter(&format!(r"\b{port}\b"), format!("[{name}]"));
    }

    /// Shows the SHA-256 fingerprint of `cert`, plain and colon-separated (xfreerdp's `/cert:`), as
    /// `[SHA256-NAME]`.
    fn cert(&mut self, cert: &certs::TestCert, name: &str) {
        let hex = hex_lower(&sha256(cert.der()));
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        self.settings
            .add_filter(&colons, format!("[SHA256-{name}, colon-separated]"));
        self.settings.add_filter(&hex, format!("[SHA256-{name}]"));
    }

    /// Forgets the addresses that worked (`state/last-good.toml`, a cache), so the next command races the
    /// candidates as on a first run instead of trying the remembered fallback first.
    fn forget_last_good(&self) {
        match std::fs::remove_file(self.w.config().join("state/last-good.toml")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("forget the last good address: {e}"),
            _ => {}
        }
    }

    /// Runs `rdpl ARGS`, which must exit with `code`, and snapshots its output as `name`.
    #[track_caller]
    fn snap(&self, name: &str, args: &[&str], code: i32) {
        let r = self.w.run(args);
        self.assert(name, args, &r, code);
    }

    /// `rdpl connect PROFILE --dry-run --with xfreerdp --password-stdin`, the password piped in, FreeRDP 2 and 3
    /// stand-ins on PATH: the command line is then the same on every machine (no keyring lookup or installed
    /// FreeRDP decides what it shows).
    #[track_caller]
    fn snap_dry_run(&self, name: &str, profile: &str, code: i32) {
        self.snap_dry_run_with(name, &[], profile, code);
    }

    /// [`snap_dry_run`](Self::snap_dry_run) with global options (`--dns-server ADDR`) before `connect`.
    #[track_caller]
    fn snap_dry_run_with(&self, name: &str, global: &[&str], profile: &str, code: i32) {
        let mut args = global.to_vec();
        args.extend_from_slice(&[
            "connect",
            profile,
            "--dry-run",
            "--with",
            "xfreerdp",
            "--password-stdin",
            "--timeout",
            TIMEOUT,
        ]);
        let r = run_with_stdin(self.fakes.cmd(self.w, &args), &format!("{SECRET}\n"));
        assert!(
            !r.stdout().contains(SECRET) && !r.stderr().contains(SECRET),
            "the password was printed"
        );
        self.assert(name, &args, &r, code);
    }

    #[track_caller]
    fn assert(&self, name: &str, args: &[&str], r: &Run, code: i32) {
        r.expect(code);
        let mut shown = format!(
            "$ rdpl {}\nexit code {}\n--- stdout\n{}",
            args.join(" "),
            r.code(),
            r.stdout()
        );
        let stderr = r.stderr();
        if !stderr.is_empty() {
            shown.push_str(&format!("--- stderr\n{stderr}"));
        }
        self.settings.bind(|| insta::assert_snapshot!(name, shown));
    }
}

/// Escapes `s` for use as a literal in a regex (insta's filters are regexes).
/// `profile add NAME --host 127.0.0.1 --port PORT --user alice` plus `extra`.
fn add_local(w: &World, name: &str, port: u16, extra: &[&str]) {
    let port = port.to_string();
    let mut args = vec![
        "profile",
        "add",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        "alice",
    ];
    args.extend_from_slice(extra);
    w.run(&args).expect(0);
}

fn escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// A TLS server seen for the first time, then pinned, then with another certificate; a refused primary
/// address with that server as fallback; and a port nothing listens on.
#[test]
fn human_output_of_pins_fallback_and_a_closed_port() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let mut shots = Shots::new(&w);
    let first = certs::self_signed(&["127.0.0.1"]);
    let config = Arc::new(RwLock::new(tls_config(vec![der(&first)], first.key_pem())));
    let server = switchable_tls_rdp_server(config.clone());
    // Two ports nobody listens on: the last address that worked is remembered per host and port, so the
    // profile with a fallback must not share its port with the one where nothing answers.
    let closed = support::free_port();
    let refused = std::iter::repeat_with(support::free_port)
        .find(|p| *p != closed)
        .expect("another free port");
    shots.port(server.addr.port(), "TLS-PORT");
    shots.port(closed, "CLOSED-PORT");
    shots.port(refused, "REFUSED-PORT");
    shots.cert(&first, "A");
    add_local(&w, "web01", server.addr.port(), &[]);
    add_local(&w, "down", closed, &[]);
    add_local(&w, "moved", refused, &["--fallback", &server.addr.to_string()]);

    // (a) A self-signed certificate, first seen: a warning, and the pin is recorded on connect.
    shots.snap("check_pin_new", &["check", "web01", "--timeout", TIMEOUT], 0);
    shots.snap("doctor_pin_new", &["doctor", "web01", "--timeout", TIMEOUT], 0);
    shots.snap_dry_run("dry_run_pin_new", "web01", 0);

    // (b) Pinned: the same certificate matches.
    w.run(&["pin", "accept", "web01"]).expect(0);
    shots.snap("check_pin_match", &["check", "web01", "--timeout", TIMEOUT], 0);
    shots.snap("doctor_pin_match", &["doctor", "web01", "--timeout", TIMEOUT], 0);
    shots.snap_dry_run("dry_run_pin_match", "web01", 0);

    // (b) The server now presents another certificate: blocked.
    let second = certs::self_signed(&["127.0.0.1"]);
    shots.cert(&second, "B");
    *config.write().expect("config lock") = tls_config(vec![der(&second)], second.key_pem());
    shots.snap("check_pin_changed", &["check", "web01", "--timeout", TIMEOUT], 1);
    shots.snap(
        "doctor_pin_changed",
        &["doctor", "web01", "--timeout", TIMEOUT],
        1,
    );
    shots.snap_dry_run("dry_run_pin_changed", "web01", 1);

    // (c) The profile's address refuses, its fallback answers: each command as on a first run, then a second
    // dry run, which tries the remembered fallback right after the refused address.
    shots.forget_last_good();
    shots.snap(
        "check_refused_fallback",
        &["check", "moved", "--timeout", TIMEOUT],
        0,
    );
    shots.forget_last_good();
    shots.snap(
        "doctor_refused_fallback",
        &["doctor", "moved", "--timeout", TIMEOUT],
        0,
    );
    shots.forget_last_good();
    shots.snap_dry_run("dry_run_refused_fallback", "moved", 0);
    shots.snap_dry_run("dry_run_refused_fallback_remembered", "moved", 0);

    // (d) Nothing listens: blocked.
    shots.snap("check_closed_port", &["check", "down", "--timeout", TIMEOUT], 1);
    shots.snap("doctor_closed_port", &["doctor", "down", "--timeout", TIMEOUT], 1);
    shots.snap_dry_run("dry_run_closed_port", "down", 1);
}

/// (c) A name that does not resolve (dnsmasq answers NXDOMAIN) while the fallback IP answers.
#[test]
fn human_output_of_a_dead_name_with_a_fallback() {
    if !support::require_all(certs::NEEDS) || !support::require_all(Dnsmasq::NEEDS) {
        return;
    }
    let w = World::new();
    let mut shots = Shots::new(&w);
    let cert = certs::self_signed(&["web01.corp.test", "127.0.0.1"]);
    let server = switchable_tls_rdp_server(Arc::new(RwLock::new(tls_config(
        vec![der(&cert)],
        cert.key_pem(),
    ))));
    let dns = Dnsmasq::builder().nxdomain_zone("test").start();
    shots.port(server.addr.port(), "TLS-PORT");
    shots.port(dns.addr().port(), "DNS-PORT");
    shots.cert(&cert, "A");
    w.add_web01("alice", &["--fallback", &server.addr.to_string()]);
    let dns = dns.addr().to_string();
    let with_dns = |cmd: &'static str| ["--dns-server", dns.as_str(), cmd, "web01", "--timeout", TIMEOUT];
    // Each command as on a first run (the address that worked is remembered, and tried first next time).
    shots.snap("check_dead_name_fallback", &with_dns("check"), 0);
    shots.forget_last_good();
    shots.snap("doctor_dead_name_fallback", &with_dns("doctor"), 0);
    shots.forget_last_good();
    shots.snap_dry_run_with("dry_run_dead_name_fallback", &["--dns-server", &dns], "web01", 0);
}

/// (e) The FreeRDP shadow server requires NLA: fine with `nla=auto`, blocked with a profile that turns it off.
#[test]
fn human_output_of_an_nla_server() {
    if !support::require_all(certs::NEEDS) || !support::require_all(Shadow::NEEDS) {
        return;
    }
    let w = World::new();
    let mut shots = Shots::new(&w);
    // Our certificate, not the one the server would generate (its name is the machine's hostname).
    let cert = certs::self_signed(&["127.0.0.1"]);
    let shadow = Shadow::builder().cert(&cert).start();
    shots.port(shadow.addr().port(), "SHADOW-PORT");
    shots.cert(&cert, "A");
    for (name, nla) in [("nla", "auto"), ("nla-off", "off")] {
        add_local(&w, name, shadow.addr().port(), &["--nla", nla]);
    }
    shots.snap("check_nla_auto", &["check", "nla", "--timeout", TIMEOUT], 0);
    shots.snap("doctor_nla_auto", &["doctor", "nla", "--timeout", TIMEOUT], 0);
    shots.snap_dry_run("dry_run_nla_auto", "nla", 0);
    shots.snap("check_nla_off", &["check", "nla-off", "--timeout", TIMEOUT], 1);
    shots.snap("doctor_nla_off", &["doctor", "nla-off", "--timeout", TIMEOUT], 1);
    shots.snap_dry_run("dry_run_nla_off", "nla-off", 1);
}

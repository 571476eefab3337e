//! `rdpl connect`, `rdpl open` and `rdpl creds` end to end: fake clients on PATH that record what they got
//! (argv, environment, stdin, the .rdp file), the real Secret Service (gnome-keyring on a private D-Bus) and
//! the kernel keyring, and the real xfreerdp against xrdp (TLS) and the FreeRDP shadow server (NLA).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, KernelKeyring, SecretService, SecurityLayer, Shadow, Xrdp, Xvfb};
use crate::{Run, World, cargo_bin};

/// `rdpl connect web01 --dry-run --json` with xfreerdp as the client.
const DRY_RUN_JSON: &[&str] = &[
    "connect",
    "web01",
    "--dry-run",
    "--json",
    "--with",
    "xfreerdp",
    "--timeout",
    "6s",
];

/// A password no test output could contain by accident.
pub(crate) const SECRET: &str = "Pw-7f3a9c-Recognizable!";

/// The fake client binary (tests/src/fake_client.rs), built once.
fn fake_client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| cargo_bin("rdpl-tests", "fake-client"))
}

/// A `bin/` dir with the fake client installed under `names`, and its record dir.
pub(crate) struct Fakes {
    bin: PathBuf,
    records: PathBuf,
}

impl Fakes {
    pub(crate) fn install(w: &World, names: &[&str]) -> Fakes {
        let bin = w.path("fake-bin");
        let records = w.path("fake-records");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::create_dir_all(&records).expect("mkdir");
        for n in names {
            std::fs::copy(fake_client(), bin.join(n)).expect("copy fake client");
        }
        Fakes { bin, records }
    }

    /// The directory the fakes are in.
    pub(crate) fn bin(&self) -> &Path {
        &self.bin
    }

    /// Forgets the recordings, for the next run.
    pub(crate) fn reset(&self) {
        std::fs::remove_dir_all(&self.records).expect("reset records");
        std::fs::create_dir_all(&self.records).expect("mkdir");
    }

    /// `rdpl ARGS` with the fakes first on PATH and no real FreeRDP client after them.
    pub(crate) fn cmd(&self, w: &World, args: &[&str]) -> Command {
        let mut c = w.cmd(args);
        let path = support::path_without(support::FREERDP_CLIENTS, Some(&self.bin));
        c.env("PATH", path).env("RDPL_FAKE_DIR", &self.records);
        c
    }

    /// The one recording of a fake called `name`.
    pub(crate) fn record(&self, name: &str) -> Record {
        let dirs: Vec<PathBuf> = std::fs::read_dir(&self.records)
            .expect("records")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{name}-")))
            })
            .collect();
        assert_eq!(dirs.len(), 1, "one run of {name}: {dirs:?}");
        Record(dirs[0].clone())
    }
}

/// What a fake client recorded.
pub(crate) struct Record(PathBuf);

impl Record {
    pub(crate) fn argv(&self) -> Vec<String> {
        let v: Value =
            serde_json::from_slice(&std::fs::read(self.0.join("argv.json")).expect("argv")).expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("str").to_owned())
            .collect()
    }
    pub(crate) fn env_text(&self) -> String {
        std::fs::read_to_string(self.0.join("env.json")).expect("env")
    }
    pub(crate) fn stdin(&self) -> Vec<u8> {
        std::fs::read(self.0.join("stdin.bin")).expect("stdin")
    }
    pub(crate) fn rdp_copies(&self) -> Vec<Vec<u8>> {
        std::fs::read_dir(self.0.join("files"))
            .expect("files")
            .filter_map(|e| e.ok())
            .map(|e| std::fs::read(e.path()).expect("read copy"))
            .collect()
    }
}

/// Runs with `stdin` written to the child's standard input.
pub(crate) fn run_with_stdin(mut c: Command, stdin: &str) -> Run {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn rdpl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    Run(child.wait_with_output().expect("wait"))
}

/// Every file under `dir`, recursively, with its bytes.
pub(crate) fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}

pub(crate) fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    hay.windows(n.len()).any(|w| w == n) || hay.windows(utf16.len()).any(|w| w == utf16.as_slice())
}

/// The secret appears in nothing rdpl printed or wrote (config dir), and nowhere in the fake's argv/env.
#[track_caller]
pub(crate) fn assert_secret_nowhere(w: &World, runs: &[&Run]) {
    for r in runs {
        assert!(
            !r.stdout().contains(SECRET) && !r.stderr().contains(SECRET),
            "secret printed"
        );
    }
    for (p, bytes) in files_under(&w.config()) {
        assert!(!contains(&bytes, SECRET), "secret in {}", p.display());
    }
}

pub(crate) fn add_profile(w: &World, name: &str, addr: std::net::SocketAddr, user: &str) {
    w.run(&[
        "profile",
        "add",
        name,
        "--host",
        &addr.ip().to_string(),
        "--port",
        &addr.port().to_string(),
        "--user",
        user,
    ])
    .expect(0);
}

/// A user name unique to this test run, so parallel tests never share keyring entries.
pub(crate) fn unique_user(tag: &str) -> String {
    format!("{tag}-{}", std::process::id())
}

#[test]
fn dry_run_shows_the_plan_the_command_and_the_file_and_changes_nothing() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    w.run(&["profile", "set", "web01", "link=vpn"]).expect(0);
    // FreeRDP 2 and 3 (fakes that answer /version) side by side: `--with xfreerdp` takes FreeRDP 3.
    let fakes = Fakes::install(&w, &["xfreerdp", "xfreerdp3"]);
    let r = Run(fakes.cmd(&w, DRY_RUN_JSON).output().expect("run"));
    r.expect(0);
    let v = r.json();
    assert_eq!(v["go"], true, "{v}");
    let plan = &v["plan"];
    assert_eq!(plan["layer"], "tls", "xrdp offers no NLA: {plan}");
    assert_eq!(plan["nla"], false);
    assert_eq!(plan["udp_off"], true, "link=vpn turns UDP off: {plan}");
    assert_eq!(plan["backend"], "xfreerdp");
    assert_eq!(v["client"]["program"], "xfreerdp3", "{v}");
    assert_eq!(v["client"]["version"], "3.10.3");
    assert!(
        v["client"]["why"]
            .as_str()
            .is_some_and(|w| w.contains("FreeRDP 3 is preferred (also installed: xfreerdp)")),
        "{}",
        v["client"]
    );
    let sha = plan["cert_sha256"].as_str().expect("certificate seen");
    let args: Vec<&str> = v["handoff"]["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&format!("/v:{}", xrdp.addr()).as_str()), "{args:?}");
    assert!(
        args.contains(&"/u:alice") && args.contains(&"/sec:tls"),
        "{args:?}"
    );
    let pin = args
        .iter()
        .find(|a| a.starts_with("/cert:deny,fingerprint:sha256:"))
        .expect("pinned fingerprint");
    assert_eq!(
        pin.rsplit("sha256:").next().map(|h| h.replace(':', "")),
        Some(sha.to_owned())
    );
    let rdp = v["rdp"].as_str().expect("rdp");
    for line in [
        "enablecredsspsupport:i:0",
        "disableudptransport:i:1",
        "authentication level:i:2",
    ] {
        assert!(rdp.contains(line), "{line} in\n{rdp}");
    }
    assert!(!w.config().join("pins.toml").exists(), "a dry run pins nothing");
    assert!(!w.config().join("run").exists(), "a dry run writes no .rdp");

    // The text form names the same things.
    let r = Run(fakes
        .cmd(
            &w,
            &[
                "connect",
                "web01",
                "--dry-run",
                "--with",
                "xfreerdp",
                "--timeout",
                "6s",
            ],
        )
        .output()
        .expect("run"));
    r.expect(0);
    let out = r.stdout();
    for s in [
        "plan for web01",
        "TLS, NLA off",
        "udp          off",
        "xfreerdp3 /v:",
        "client       xfreerdp3 3.10.3 (xfreerdp)",
        "FreeRDP 3 is preferred",
        "would clear  nothing",
        "full address:s:",
    ] {
        assert!(out.contains(s), "{s} in\n{out}");
    }
}

#[test]
fn connect_hands_the_password_to_xfreerdp_on_stdin_only_and_maps_the_exit_code() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    let fakes = Fakes::install(&w, &["xfreerdp"]);
    let mut c = fakes.cmd(
        &w,
        &[
            "connect",
            "web01",
            "--with",
            "xfreerdp",
            "--password-stdin",
            "--timeout",
            "6s",
            "-vvv",
        ],
    );
    c.env("RDPL_FAKE_EXIT", "7");
    let r = run_with_stdin(c, &format!("{SECRET}\n"));
    // rdpl's own contract: a failed connection that is not an authentication failure is 1, whatever the client's
    // status; the client's status is in the message.
    r.expect(1);
    assert!(
        r.stderr().contains("xfreerdp exited with 7 (XF_EXIT_CONN_DENIED"),
        "{}",
        r.stderr()
    );
    let rec = fakes.record("xfreerdp");
    assert_eq!(
        rec.stdin(),
        format!("{SECRET}\n").as_bytes(),
        "the password on stdin, once"
    );
    let argv = rec.argv();
    assert!(argv.iter().all(|a| !a.contains(SECRET)), "{argv:?}");
    assert!(argv.contains(&"/from-stdin:force".to_owned()), "{argv:?}");
    assert!(
        !rec.env_text().contains(SECRET),
        "the password in the environment"
    );
    assert_secret_nowhere(&w, &[&r]);
    // The client's exit code 7 is explained (XF_EXIT_CONN_DENIED) by the doctor's top cause.
    assert!(
        r.stdout().contains("xfreerdp exited with 7") && r.stdout().contains("XF_EXIT_CONN_DENIED"),
        "{}",
        r.stdout()
    );
    // First use pinned the certificate.
    assert!(
        std::fs::read_to_string(w.config().join("pins.toml"))
            .expect("pins")
            .contains(&xrdp.addr().ip().to_string())
    );
}

#[test]
fn mstsc_and_macos_backends_get_a_private_sanitized_file_that_is_gone_afterwards() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    let fakes = Fakes::install(&w, &["open", "mstsc.exe"]);
    // The fake records under its file stem: `mstsc.exe` as `mstsc`.
    for (with, fake) in [("macos", "open"), ("mstsc", "mstsc")] {
        let mut c = fakes.cmd(
            &w,
            &[
                "connect",
                "web01",
                "--with",
                with,
                "--password-stdin",
                "--timeout",
                "6s",
                "--admin",
            ],
        );
        c.env("RDPL_FAKE_EXIT", "0");
        let r = run_with_stdin(c, &format!("{SECRET}\n"));
        if with == "mstsc" && !cfg!(windows) && r.code() != 0 {
            // The mstsc backend runs mstsc.exe from PATH off Windows too (a fake here).
            panic!("mstsc backend: {}\n{}", r.stdout(), r.stderr());
        }
        r.expect(0);
        let rec = fakes.record(fake);
        let argv = rec.argv();
        let rdp_arg = argv
            .iter()
            .find(|a| a.ends_with(".rdp"))
            .expect("an .rdp argument");
        assert!(
            Path::new(rdp_arg).starts_with(w.config().join("run")),
            "{rdp_arg}"
        );
        assert!(
            !Path::new(rdp_arg).exists(),
            "the temporary .rdp is deleted after the client exits"
        );
        let copies = rec.rdp_copies();
        assert_eq!(copies.len(), 1);
        let bytes = &copies[0];
        assert_eq!(&bytes[..2], &[0xff, 0xfe], "UTF-16LE with BOM");
        let text = String::from_utf16_lossy(
            &bytes[2..]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        );
        assert!(
            text.contains("full address:s:") && text.contains("\r\n"),
            "{text}"
        );
        assert!(!contains(bytes, SECRET), "password in the .rdp");
        assert!(argv.iter().all(|a| !a.contains(SECRET)) && !rec.env_text().contains(SECRET));
        if with == "mstsc" {
            assert!(argv.contains(&"/admin".to_owned()), "{argv:?}");
        }
        assert_secret_nowhere(&w, &[&r]);
        fakes.reset();
    }
}

#[test]
fn a_missing_client_is_named_with_what_to_install() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    let mut c = w.cmd(&["connect", "web01", "--with", "xfreerdp", "--timeout", "6s"]);
    c.env("PATH", w.path("empty-bin"));
    let r = Run(c.output().expect("run"));
    r.expect(1);
    assert!(
        r.stderr().contains("xfreerdp was not found") && r.stderr().contains("apt install freerdp3-x11"),
        "{}",
        r.stderr()
    );
}

#[test]
fn open_sanitizes_a_hostile_file_and_connects_with_the_clean_settings() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let hostile = format!(
        "full address:s:{}\r\nusername:s:mallory\r\ndrivestoredirect:s:*\r\nremoteapplicationprogram:s:||evil\r\n\
         alternate shell:s:cmd.exe /c calc\r\nredirectclipboard:i:1\r\n",
        xrdp.addr()
    );
    let file = w.write("invoice.rdp", hostile.as_bytes());
    let fakes = Fakes::install(&w, &["xfreerdp"]);
    let r = Run(fakes
        .cmd(
            &w,
            &[
                "open",
                file.to_str().expect("utf-8"),
                "--with",
                "xfreerdp",
                "--timeout",
                "6s",
            ],
        )
        .output()
        .expect("run"));
    r.expect(0);
    let out = r.stdout();
    assert!(
        out.contains("drivestoredirect") && out.contains("alternate shell"),
        "the report lists what was dropped:\n{out}"
    );
    let argv = fakes.record("xfreerdp").argv();
    assert!(argv.contains(&format!("/v:{}", xrdp.addr())), "{argv:?}");
    assert!(
        argv.iter()
            .all(|a| !a.contains("home-drive") && !a.contains("/drive") && !a.contains("calc")),
        "{argv:?}"
    );
    assert!(
        !w.config().join("profiles").exists()
            || std::fs::read_dir(w.config().join("profiles"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0,
        "open saves no profile"
    );
}

/// `rdpl` with the Secret Service's environment.
pub(crate) fn with_env(mut c: Command, env: &[(String, String)]) -> Command {
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

#[test]
fn creds_set_list_clear_against_a_real_secret_service() {
    if !support::require_all(SecretService::NEEDS) || !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let ss = SecretService::start();
    let env = ss.env();
    let w = World::new();
    let user = unique_user("ss-alice");
    w.add_web01(&user, &["--domain", "CORP"]);
    let set = run_with_stdin(
        with_env(w.cmd(&["creds", "set", "web01", "--password-stdin"]), &env),
        &format!("{SECRET}\n"),
    );
    set.expect(0);
    assert!(set.stdout().contains("Secret Service"), "{}", set.stdout());
    let kuser = support::keyring::rdpl_user(Some("CORP"), &user, "web01.corp.test");
    assert_eq!(
        ss.rdpl_secret(&kuser).as_deref(),
        Some(SECRET),
        "the secret is in gnome-keyring"
    );

    let list = Run(with_env(w.cmd(&["creds", "list", "--json"]), &env)
        .output()
        .expect("run"));
    list.expect(0);
    let v = list.json();
    let e = &v["credentials"][0];
    assert_eq!(e["user"], user.as_str());
    assert_eq!(e["domain"], "CORP");
    assert_eq!(e["store"], "Secret Service");
    assert_eq!(e["present"], true);
    let text = Run(with_env(w.cmd(&["creds", "list"]), &env).output().expect("run"));
    text.expect(0);
    assert_secret_nowhere(&w, &[&set, &list, &text]);

    let clear = Run(with_env(w.cmd(&["creds", "clear", "web01"]), &env)
        .output()
        .expect("run"));
    clear.expect(0);
    assert!(clear.stdout().contains("cleared"), "{}", clear.stdout());
    assert_eq!(ss.rdpl_secret(&kuser), None, "gone from gnome-keyring");
    let v = Run(with_env(w.cmd(&["creds", "list", "--json"]), &env)
        .output()
        .expect("run"))
    .json();
    assert_eq!(v["credentials"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn without_a_secret_service_the_kernel_keyring_is_used() {
    if !support::require_all(KernelKeyring::NEEDS) || !support::require_all(&["dbus-daemon", "dbus-send"]) {
        return;
    }
    // A bus with nobody on it, as on a headless machine: rdpl decides on its first real lookup.
    let bus = support::SessionBus::start();
    let w = World::new();
    let user = unique_user("kk-bob");
    let host = format!("kk-{}.corp.test", std::process::id());
    let desc = KernelKeyring::rdpl_description(&support::keyring::rdpl_user(None, &user, &host));
    let _purge = KernelKeyring::purge_on_drop(&desc);
    w.run(&["profile", "add", "db01", "--host", &host, "--user", &user])
        .expect(0);
    let set = run_with_stdin(
        with_env(w.cmd(&["creds", "set", "db01", "--password-stdin"]), &bus.env()),
        &format!("{SECRET}\n"),
    );
    set.expect(0);
    assert!(set.stdout().contains("kernel keyring"), "{}", set.stdout());
    assert!(
        KernelKeyring::find(&desc).is_some(),
        "the key {desc} is in the persistent keyring"
    );
    let v = Run(with_env(w.cmd(&["creds", "list", "--json"]), &bus.env())
        .output()
        .expect("run"))
    .json();
    assert_eq!(v["credentials"][0]["store"], "kernel keyring", "{v}");
    assert_eq!(
        v["credentials"][0]["present"], true,
        "a later process finds it: {v}"
    );
    // RDPL_KEYRING=keyutils gets there without any bus.
    let v = Run(w
        .cmd(&["creds", "list", "--json"])
        .env("RDPL_KEYRING", "keyutils")
        .output()
        .expect("run"))
    .json();
    assert_eq!(v["credentials"][0]["present"], true, "{v}");
    let clear = Run(w
        .cmd(&["creds", "clear", "db01"])
        .env("RDPL_KEYRING", "keyutils")
        .output()
        .expect("run"));
    clear.expect(0);
    assert!(KernelKeyring::find(&desc).is_none(), "deleted");
    assert_secret_nowhere(&w, &[&set, &clear]);
}

#[test]
fn stale_credentials_are_listed_by_dry_run_and_cleared_by_connect() {
    if !support::require_all(KernelKeyring::NEEDS) || !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let (old, new) = (unique_user("stale-old"), unique_user("stale-new"));
    add_profile(&w, "web01", xrdp.addr(), &old);
    let host = xrdp.addr().ip().to_string();
    let old_desc = KernelKeyring::rdpl_description(&support::keyring::rdpl_user(None, &old, &host));
    let new_desc = KernelKeyring::rdpl_description(&support::keyring::rdpl_user(None, &new, &host));
    let (_p1, _p2) = (
        KernelKeyring::purge_on_drop(&old_desc),
        KernelKeyring::purge_on_drop(&new_desc),
    );
    let keyutils = |args: &[&str]| {
        let mut c = w.cmd(args);
        c.env("RDPL_KEYRING", "keyutils");
        c
    };
    run_with_stdin(
        keyutils(&["creds", "set", "web01", "--password-stdin"]),
        &format!("{SECRET}\n"),
    )
    .expect(0);
    // The profile now logs on as someone else: the old entry is stale.
    w.run(&["profile", "set", "web01", &format!("user={new}")])
        .expect(0);
    let dry = Run(keyutils(DRY_RUN_JSON).output().expect("run"));
    dry.expect(0);
    let v = dry.json();
    let clear = &v["plan"]["clear"];
    assert_eq!(clear[0]["kind"], "rdpl", "{clear}");
    assert_eq!(clear[0]["key"]["user"], old.as_str(), "{clear}");
    assert!(
        clear[0]["reason"].as_str().is_some_and(|r| r.contains(&new)),
        "{clear}"
    );
    assert!(
        KernelKeyring::find(&old_desc).is_some(),
        "a dry run clears nothing"
    );

    // --keep-creds leaves it; a real connect clears it before the handoff.
    let fakes = Fakes::install(&w, &["xfreerdp"]);
    let mut c = fakes.cmd(
        &w,
        &[
            "connect",
            "web01",
            "--with",
            "xfreerdp",
            "--keep-creds",
            "--timeout",
            "6s",
        ],
    );
    c.env("RDPL_KEYRING", "keyutils").env("RDPL_FAKE_EXIT", "0");
    Run(c.output().expect("run")).expect(0);
    assert!(KernelKeyring::find(&old_desc).is_some(), "--keep-creds keeps it");
    fakes.reset();
    let mut c = fakes.cmd(&w, &["connect", "web01", "--with", "xfreerdp", "--timeout", "6s"]);
    c.env("RDPL_KEYRING", "keyutils").env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    assert!(
        r.stdout().contains("cleared rdpl keyring entry"),
        "{}",
        r.stdout()
    );
    assert!(
        KernelKeyring::find(&old_desc).is_none(),
        "cleared before the handoff"
    );
    assert!(
        fakes.record("xfreerdp").stdin().is_empty(),
        "no password for the new user: the client asks"
    );

    // A saved password the client reports as rejected is marked, then cleared by the next connect.
    run_with_stdin(
        keyutils(&["creds", "set", "web01", "--password-stdin"]),
        &format!("{SECRET}\n"),
    )
    .expect(0);
    fakes.reset();
    let mut c = fakes.cmd(&w, &["connect", "web01", "--with", "xfreerdp", "--timeout", "6s"]);
    c.env("RDPL_KEYRING", "keyutils").env("RDPL_FAKE_EXIT", "134");
    let r = Run(c.output().expect("run"));
    r.expect(3); // XF_EXIT_LOGON_FAILURE: rdpl's "authentication failed"
    assert_eq!(
        fakes.record("xfreerdp").stdin(),
        format!("{SECRET}\n").as_bytes(),
        "the saved password went on stdin"
    );
    assert!(
        r.stdout().contains("saved password") && r.stdout().contains("rejected"),
        "{}",
        r.stdout()
    );
    let v = Run(keyutils(&["creds", "list", "--json"]).output().expect("run")).json();
    assert!(
        v["credentials"][0]["failed"].is_string(),
        "marked as rejected: {v}"
    );
    let dry = Run(keyutils(DRY_RUN_JSON).output().expect("run"));
    assert_eq!(
        dry.json()["password"],
        "none (the client asks)",
        "a rejected password is not sent again"
    );
    assert_secret_nowhere(&w, &[&r, &dry]);
}

/// Children of `pid` (from /proc), to find the client rdpl started.
pub(crate) fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Starts `rdpl connect` (real xfreerdp), waits `secs` while it stays connected, then ends the client and
/// returns rdpl's result and whether the client was still running at the end.
fn run_real_session(mut c: Command, stdin: &str, secs: u64) -> (Run, bool) {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn rdpl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let start = Instant::now();
    let mut alive = false;
    while start.elapsed() < Duration::from_secs(secs + 10) {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if start.elapsed() >= Duration::from_secs(secs) {
            let clients = children(child.id());
            alive = !clients.is_empty();
            for pid in clients {
                // SAFETY: sending SIGTERM to our own grandchild, by a pid read just now.
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (Run(child.wait_with_output().expect("wait")), alive)
}

#[test]
fn real_xfreerdp_session_against_xrdp_and_the_nla_shadow_server() {
    let mut needs = Xrdp::NEEDS.to_vec();
    needs.extend(Shadow::NEEDS);
    needs.push("xfreerdp");
    if !support::require_all(&needs) {
        return;
    }
    let display = Xvfb::shared().display();
    let w = World::new();
    // FreeRDP 2 exactly (a path names one program; `--with xfreerdp` would prefer an installed FreeRDP 3).
    let freerdp2 = support::tool("xfreerdp");
    let with = freerdp2.to_str().expect("utf-8");

    // xrdp (TLS): xfreerdp connects and sits at xrdp's login screen until it is closed.
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    let (r, alive) = real_connect(&w, "web01", with, None, &display, "", 4);
    assert!(
        alive,
        "xfreerdp kept the session to xrdp open for 4 s:\n{}\n{}",
        r.stdout(),
        r.stderr()
    );
    assert!(
        r.stderr().contains("connecting to") && r.stderr().contains("TLS, no NLA"),
        "{}",
        r.stderr()
    );

    // The shadow server (NLA), right password: the session starts and stays up.
    let shadow = Shadow::builder().start();
    add_profile(&w, "nla01", shadow.addr(), Shadow::USER);
    let (r, alive) = real_connect(
        &w,
        "nla01",
        with,
        None,
        &display,
        &format!("{}\n", Shadow::PASSWORD),
        4,
    );
    assert!(
        alive,
        "the NLA session stayed up:\n{}\n{}\n--- shadow\n{}",
        r.stdout(),
        r.stderr(),
        shadow.log()
    );
    assert!(r.stderr().contains("(NLA"), "{}", r.stderr());

    // Wrong password: CredSSP fails, xfreerdp exits, rdpl names the cause and exits 3.
    let (r, alive) = real_connect(&w, "nla01", with, None, &display, "wrong-password\n", 20);
    assert!(!alive, "xfreerdp gave up by itself");
    assert_eq!(r.code(), 3, "authentication failed: {}", r.stderr());
    assert!(
        r.stdout().contains("password"),
        "the top cause names the password:\n{}",
        r.stdout()
    );

    // FreeRDP 2's own parser accepts what rdpl builds for it, a gateway with its own account included.
    add_gateway_profile(&w, "gw2");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let gw = dry_run_json(
        &w,
        &path,
        &display,
        &[
            "connect",
            "gw2",
            "--dry-run",
            "--json",
            "--with",
            with,
            "--timeout",
            "3s",
        ],
    );
    assert_eq!(gw["client"]["major"], 2, "{gw:#}");
    let args = handoff_args(&gw);
    for a in [
        "/g:gw.corp.test:8443",
        "/gu:gwadmin",
        "/gd:GW",
        "/gateway-usage-method:detect",
    ] {
        assert!(args.contains(&a.to_owned()), "{a} in {args:?}");
    }
    plan_parses(&gw, &display);
}

/// The `connect --dry-run --json` document for `args`, run with `path` as PATH.
fn dry_run_json(w: &World, path: &std::ffi::OsStr, display: &str, args: &[&str]) -> Value {
    let mut c = w.cmd(args);
    c.env("PATH", path).env("DISPLAY", display);
    let r = Run(c.output().expect("run"));
    serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout(), r.stderr()))
}

/// The arguments of a dry run's command.
pub(crate) fn handoff_args(plan: &Value) -> Vec<String> {
    plan["handoff"]["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("str").to_owned())
        .collect()
}

/// Runs the real FreeRDP `program` with `args` plus `/version`: FreeRDP's own parser checks every argument and
/// exits 0 (printing its version) only when all are valid.
pub(crate) fn parser_accepts(program: &Path, args: &[String], display: &str) {
    let out = Command::new(program)
        .args(args)
        .arg("/version")
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .output()
        .expect("run the client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("This is FreeRDP version"),
        "{} rejected {args:?}: {:?}\n{stdout}",
        program.display(),
        out.status
    );
}

/// [`parser_accepts`] for the client and command of a dry run.
fn plan_parses(plan: &Value, display: &str) {
    let program = plan["handoff"]["program"].as_str().expect("program");
    parser_accepts(Path::new(program), &handoff_args(plan), display);
}

/// A profile `name` behind an RD Gateway with an account of its own (gateway.user/domain, usage detect).
fn add_gateway_profile(w: &World, name: &str) {
    w.run(&[
        "profile",
        "add",
        name,
        "--host",
        "web.corp.test",
        "--user",
        "alice",
        "--gateway",
        "gw.corp.test:8443",
    ])
    .expect(0);
    w.run(&[
        "profile",
        "set",
        name,
        "gateway.user=gwadmin",
        "gateway.domain=GW",
        "gateway.usage=detect",
    ])
    .expect(0);
}

/// `rdpl connect PROFILE --with CLIENT --password-stdin` (the client real), `stdin` piped in, on `display` and,
/// if given, with `path` as PATH; see [`run_real_session`].
fn real_connect(
    w: &World,
    profile: &str,
    with: &str,
    path: Option<&std::ffi::OsStr>,
    display: &str,
    stdin: &str,
    secs: u64,
) -> (Run, bool) {
    let mut args = vec!["connect", profile, "--with", with, "--timeout", "6s"];
    if !stdin.is_empty() {
        args.push("--password-stdin");
    }
    let mut c = w.cmd(&args);
    c.env("DISPLAY", display);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    run_real_session(c, stdin, secs)
}

#[test]
fn with_only_freerdp_3_installed_it_is_found_spoken_to_in_its_syntax_and_logs_on() {
    let mut needs = Shadow::NEEDS3.to_vec();
    needs.extend(Xrdp::NEEDS);
    needs.push("xfreerdp3");
    if !support::require_all(&needs) {
        return;
    }
    let display = Xvfb::shared().display();
    let w = World::new();
    // A PATH where FreeRDP 3 is the only FreeRDP (as on Debian 13 or NixOS).
    let path = support::path_without(&["xfreerdp", "sdl-freerdp", "wlfreerdp"], None);
    let shadow = Shadow::builder().freerdp3().start();
    add_profile(&w, "nla3", shadow.addr(), Shadow::USER);

    // The dry run names the program, its version (read from the program) and why.
    let plan = dry_run_json(
        &w,
        &path,
        &display,
        &[
            "connect",
            "nla3",
            "--dry-run",
            "--json",
            "--with",
            "xfreerdp",
            "--timeout",
            "6s",
        ],
    );
    let client = &plan["client"];
    assert_eq!(client["program"], "xfreerdp3", "{plan:#}");
    assert!(
        client["version"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{client}"
    );
    assert_eq!(client["version_source"], "version_option");
    assert!(
        client["why"]
            .as_str()
            .is_some_and(|w| w.contains("only FreeRDP client")),
        "{client}"
    );
    plan_parses(&plan, &display);

    // A gateway with an account of its own: FreeRDP 3's /gateway: syntax, which its parser accepts; no /g:.
    add_gateway_profile(&w, "gw3");
    let gw = dry_run_json(
        &w,
        &path,
        &display,
        &[
            "connect",
            "gw3",
            "--dry-run",
            "--json",
            "--with",
            "xfreerdp",
            "--timeout",
            "3s",
        ],
    );
    let args = handoff_args(&gw);
    assert!(
        args.contains(
            &"/gateway:g:gw.corp.test:8443,u:gwadmin,d:GW,usage-method:detect,type:auto".to_owned()
        ),
        "{args:?}"
    );
    assert!(
        !args.iter().any(|a| a.starts_with("/g:") || a.starts_with("/gu:")),
        "{args:?}"
    );
    assert!(
        !args.iter().any(|a| a.contains("ignore") || a.contains("tofu")),
        "{args:?}"
    );
    plan_parses(&gw, &display);

    // xrdp (TLS): FreeRDP 3 connects and sits at xrdp's login screen until it is closed. (FreeRDP 3 asks for a
    // password it lacks even without NLA; xrdp's login screen then gets this one.)
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "tls3", xrdp.addr(), "alice");
    let (r, alive) = real_connect(
        &w,
        "tls3",
        "xfreerdp",
        Some(&path),
        &display,
        "not-alices-password\n",
        4,
    );
    assert!(
        alive,
        "xfreerdp3 kept the session to xrdp open for 4 s:\n{}\n{}",
        r.stdout(),
        r.stderr()
    );

    // A real FreeRDP 3 session over NLA logs on and stays up.
    let (r, alive) = real_connect(
        &w,
        "nla3",
        "xfreerdp",
        Some(&path),
        &display,
        &format!("{}\n", Shadow::PASSWORD),
        4,
    );
    assert!(
        alive,
        "the FreeRDP 3 session stayed up:\n{}\n{}\n--- shadow\n{}",
        r.stdout(),
        r.stderr(),
        shadow.log()
    );
    assert!(
        r.stderr().contains("with xfreerdp") && r.stderr().contains("(NLA"),
        "{}",
        r.stderr()
    );

    // A wrong password: FreeRDP 3 ends with its authentication failure, rdpl names it and exits 3.
    let mut c = w.cmd(&[
        "connect",
        "nla3",
        "--with",
        "xfreerdp",
        "--password-stdin",
        "--json",
        "--timeout",
        "6s",
    ]);
    c.env("PATH", &path).env("DISPLAY", &display);
    let (r, alive) = run_real_session(c, "wrong-password\n", 20);
    assert!(!alive, "xfreerdp3 gave up by itself");
    assert_eq!(
        r.code(),
        3,
        "authentication failed:\n{}\n{}",
        r.stdout(),
        r.stderr()
    );
    assert!(r.stderr().contains("xfreerdp3 exited with"), "{}", r.stderr());
    let v: Value = serde_json::from_str(&r.stdout()).expect("connect --json");
    assert_eq!(v["status"], "auth_failed", "{v:#}");
    assert_eq!(v["exit"], 3);
    assert_ne!(v["client_exit"], 0);
    assert_eq!(v["client"]["program"], "xfreerdp3");
    assert!(
        v["causes"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("password")),
        "the top cause names the password: {v:#}"
    );
}

/// A throw-away `pass` store (its own gpg home, a key without a passphrase) holding `entry`; its gpg-agent is
/// stopped on drop.
pub(crate) struct PassStore {
    pub(crate) env: Vec<(String, String)>,
    _gnupg: tempfile::TempDir,
    _store: tempfile::TempDir,
}

impl PassStore {
    pub(crate) const NEEDS: &[&str] = &["pass", "gpg", "gpgconf"];

    pub(crate) fn with(entry: &str, secret: &str) -> PassStore {
        use std::os::unix::fs::PermissionsExt as _;
        let gnupg = tempfile::tempdir().expect("gnupg home");
        std::fs::set_permissions(gnupg.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let store = tempfile::tempdir().expect("store");
        let env = vec![
            ("GNUPGHOME".to_owned(), gnupg.path().display().to_string()),
            (
                "PASSWORD_STORE_DIR".to_owned(),
                store.path().display().to_string(),
            ),
        ];
        let run = |program: &str, args: &[&str], stdin: Option<&str>| {
            let mut c = Command::new(support::tool(program));
            c.args(args).envs(env.iter().map(|(k, v)| (k, v)));
            let out = match stdin {
                Some(text) => {
                    c.stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped());
                    let mut child = c.spawn().expect("spawn");
                    child
                        .stdin
                        .take()
                        .expect("stdin")
                        .write_all(text.as_bytes())
                        .expect("write");
                    child.wait_with_output().expect("wait")
                }
                None => c.output().expect("run"),
            };
            assert!(
                out.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        run(
            "gpg",
            &[
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "rdpl test <t@example.invalid>",
                "default",
                "default",
                "never",
            ],
            None,
        );
        let keys = run("gpg", &["--list-keys", "--with-colons"], None);
        let fpr = keys
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_owned()))
            .expect("a fingerprint");
        run("pass", &["init", &fpr], None);
        run("pass", &["insert", "-e", entry], Some(&format!("{secret}\n")));
        PassStore {
            env,
            _gnupg: gnupg,
            _store: store,
        }
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}

/// `password.command` with a real vault: `pass` (gpg) hands the password to a real NLA logon (`check --login`)
/// and to FreeRDP on stdin (the gateway's `gateway.password.command`: tests/tests/gateway.rs); a failing command is
/// `creds.command_failed` with its stderr, never its output; the password is in no argv, environment or output.
#[test]
fn passwords_come_from_the_vault_command_and_nowhere_else() {
    let mut needs = Shadow::NEEDS.to_vec();
    needs.extend(PassStore::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let vault = PassStore::with("corp/testuser", Shadow::PASSWORD);
    let shadow = Shadow::builder().start();
    let w = World::new();
    add_profile(&w, "vaulted", shadow.addr(), Shadow::USER);
    w.run(&[
        "profile",
        "set",
        "vaulted",
        "password.command=pass show corp/testuser",
    ])
    .expect(0);
    let with_vault = |args: &[&str]| with_env(w.cmd(args), &vault.env);

    // A real logon over NLA with the vault's password (the keyring is never asked).
    let r = Run(
        with_vault(&["check", "vaulted", "--login", "--json", "--timeout", "15s"])
            .output()
            .expect("run"),
    );
    assert_eq!(
        r.json()["login"]["status"],
        "ok",
        "{}\n{}\n--- shadow\n{}",
        r.stdout(),
        r.stderr(),
        shadow.log()
    );

    // FreeRDP gets it on stdin.
    let fakes = Fakes::install(&w, &["xfreerdp3"]);
    let dry = Run(with_env(
        fakes.cmd(
            &w,
            &[
                "connect",
                "vaulted",
                "--dry-run",
                "--json",
                "--with",
                "xfreerdp",
                "--timeout",
                "6s",
            ],
        ),
        &vault.env,
    )
    .output()
    .expect("run"));
    assert_eq!(
        dry.json()["password"],
        "password.command",
        "a dry run runs no vault command"
    );
    let mut c = with_env(
        fakes.cmd(
            &w,
            &["connect", "vaulted", "--with", "xfreerdp", "--timeout", "6s"],
        ),
        &vault.env,
    );
    c.env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    let rec = fakes.record("xfreerdp3");
    assert_eq!(rec.stdin(), format!("{}\n", Shadow::PASSWORD).as_bytes());
    assert!(
        rec.argv().iter().all(|a| !a.contains(Shadow::PASSWORD)),
        "{:?}",
        rec.argv()
    );
    assert!(!rec.env_text().contains(Shadow::PASSWORD));
    for (run, what) in [(&r, "connect"), (&dry, "dry run")] {
        assert!(
            !run.stdout().contains(Shadow::PASSWORD) && !run.stderr().contains(Shadow::PASSWORD),
            "{what}"
        );
    }

    // secret-tool against a real Secret Service (gnome-keyring on a private bus) works the same way.
    if support::require_all(SecretService::NEEDS) {
        let ss = SecretService::start();
        let env = ss.env();
        let mut store = with_env(Command::new(support::tool("secret-tool")), &env);
        store
            .args([
                "store",
                "--label",
                "rdpl vault test",
                "service",
                "rdpl-vault-test",
                "user",
                "testuser",
            ])
            .stdin(Stdio::piped());
        let mut child = store.spawn().expect("secret-tool store");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(Shadow::PASSWORD.as_bytes())
            .expect("write");
        assert!(child.wait().expect("wait").success());
        w.run(&[
            "profile",
            "set",
            "vaulted",
            "password.command=secret-tool lookup service rdpl-vault-test user testuser",
        ])
        .expect(0);
        fakes.reset();
        let mut c = with_env(
            fakes.cmd(
                &w,
                &["connect", "vaulted", "--with", "xfreerdp", "--timeout", "6s"],
            ),
            &env,
        );
        c.env("RDPL_FAKE_EXIT", "0");
        Run(c.output().expect("run")).expect(0);
        assert_eq!(
            fakes.record("xfreerdp3").stdin(),
            format!("{}\n", Shadow::PASSWORD).as_bytes()
        );
    }

    // A command that fails: creds.command_failed with its stderr, exit 1, nothing handed over.
    fakes.reset();
    w.run(&[
        "profile",
        "set",
        "vaulted",
        "password.command=pass show corp/nobody",
    ])
    .expect(0);
    let mut c = with_env(
        fakes.cmd(
            &w,
            &["connect", "vaulted", "--with", "xfreerdp", "--timeout", "6s"],
        ),
        &vault.env,
    );
    c.env("RDPL_FAKE_EXIT", "0");
    let r = Run(c.output().expect("run"));
    r.expect(1);
    assert!(
        r.stderr().contains("creds.command_failed")
            && r.stderr().contains("`pass show corp/nobody` exited with 1"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("not in the password store"),
        "pass's own stderr is shown: {}",
        r.stderr()
    );
    assert!(
        std::fs::read_dir(w.path("fake-records"))
            .expect("records")
            .next()
            .is_none(),
        "no client was started"
    );
    // Nothing of the vault's password in any file rdpl wrote.
    for (p, bytes) in files_under(&w.config()) {
        assert!(!contains(&bytes, Shadow::PASSWORD), "{}", p.display());
    }
}

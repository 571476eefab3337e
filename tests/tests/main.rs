//! End-to-end tests: drive the real `rdpl` binary with a private config dir, real files and real processes.
//!
//! One test binary (`autotests = false`); each test gets its own [`World`] (temp config dir, clean env).

mod connect;
mod crash;
mod exporter;
mod gateway;
mod guide;
mod hardening;
mod harness;
mod hostile;
mod human_output;
mod import_managers;
mod integrate;
mod json_schema;
mod login;
mod preflight;
mod preflight_real;
mod secrets;
mod signing;
mod support;
mod window;
mod xrdp_login;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `rdpl` binary, built once per test run through cargo (so it is never stale).
fn rdpl_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| cargo_bin("rdpl", "rdpl"))
}

/// Builds a binary of the workspace through cargo and returns its path.
fn cargo_bin(package: &str, bin: &str) -> PathBuf {
    // Cargo sets per-package variables for this test process; ring's build script tracks
    // CARGO_MANIFEST_DIR, so passing them on would rebuild ring (and all that uses it) on every run.
    let inherited = std::env::vars().map(|(k, _)| k).filter(|k| {
        [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
            "CARGO_TARGET_TMPDIR",
        ]
        .iter()
        .any(|p| k.starts_with(p))
    });
    inherited
        .fold(escargot::CargoBuild::new(), |b, k| b.env_remove(k))
        .package(package)
        .bin(bin)
        .run()
        .unwrap_or_else(|e| panic!("cargo builds {bin}: {e}"))
        .path()
        .to_path_buf()
}

fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(dir.is_dir(), "../shared is missing at {}", dir.display());
    dir
}

/// A sandbox for one test: a temp dir with the config dir inside, and a clean environment.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn config(&self) -> PathBuf {
        self.path("config")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(rdpl_bin());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("RDPL_CONFIG_DIR", self.config())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd(args).output().expect("rdpl runs"))
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, bytes).expect("write");
        p
    }

    /// `profile add web01 --host web01.corp.test --user USER` plus `extra`, which must succeed.
    fn add_web01(&self, user: &str, extra: &[&str]) {
        let mut args = vec![
            "profile",
            "add",
            "web01",
            "--host",
            "web01.corp.test",
            "--user",
            user,
        ];
        args.extend_from_slice(extra);
        self.run(&args).expect(0);
    }
}

/// The result of one run, with helpers that print everything on failure.
struct Run(Output);

impl Run {
    fn code(&self) -> i32 {
        self.0.status.code().expect("exited normally")
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    #[track_caller]
    fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout()))
    }
}

/// Replaces temp paths in output so snapshots are stable.
fn filtered(w: &World, s: &str) -> String {
    s.replace(&w.dir.path().display().to_string(), "[TMP]")
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let w = World::new();
    let r = w.run(&["--help"]);
    r.expect(0);
    insta::assert_snapshot!("help", r.stdout());
    let r = w.run(&["profile", "set", "--help"]);
    r.expect(0);
    insta::assert_snapshot!("profile_set_help", r.stdout());
    w.run(&["no-such-command"]).expect(2);
}

#[test]
fn completions_and_man_page_cover_every_command() {
    let w = World::new();
    let bash = w.run(&["completions", "bash"]);
    bash.expect(0);
    // Every top-level command and a flag of each newer one is completed.
    for word in [
        "screenshot",
        "connect",
        "doctor",
        "--login",
        "--password-stdin",
        "--settle",
        "completions",
        "exporter",
        "--allow-adhoc",
        "--max-concurrent",
    ] {
        assert!(bash.stdout().contains(word), "bash completion lacks {word}");
    }
    // The script is valid bash, and sourcing it registers the completion function.
    let script = w.path("rdpl.bash");
    std::fs::write(&script, bash.stdout()).expect("write");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p rdpl", script.display()))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("_rdpl"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let r = w.run(&["completions", shell]);
        r.expect(0);
        assert!(r.stdout().contains("screenshot"), "{shell}");
    }
    w.run(&["completions", "tcsh"]).expect(2);

    let man = w.run(&["man"]);
    man.expect(0);
    let page = man.stdout();
    assert!(page.starts_with(".ie") || page.contains(".TH rdpl 1"), "{page}");
    assert!(page.contains(".TH rdpl 1"));
    for word in ["screenshot", "doctor", "Exit codes"] {
        assert!(page.contains(word), "the man page lacks {word}");
    }
}

#[test]
fn profile_lifecycle() {
    let w = World::new();
    w.run(&["profile", "list"]).expect(0);
    w.run(&[
        "profile",
        "add",
        "web01",
        "--host",
        "web01.corp.test",
        "--fallback",
        "10.0.0.5",
        "--fallback",
        "web01-b.corp.test:3390",
        "--user",
        "alice",
        "--domain",
        "CORP",
        "--gateway",
        "gw.corp.test",
        "--nla",
        "on",
        "--udp",
        "off",
        "--with",
        "xfreerdp",
    ])
    .expect(0);
    w.run(&["profile", "add", "db", "--host", "10.1.2.3:3391"])
        .expect(0);

    let show = w.run(&["profile", "show", "web01", "--json"]);
    let j = show.expect(0).json();
    assert_eq!(j["version"], 1);
    let p = &j["profile"];
    assert_eq!(p["host"], "web01.corp.test");
    assert_eq!(p["port"], 3389);
    assert_eq!(
        p["fallback"],
        serde_json::json!(["10.0.0.5", "web01-b.corp.test:3390"])
    );
    assert_eq!(p["gateway"]["host"], "gw.corp.test");
    assert_eq!(p["gateway"]["port"], 443);
    assert_eq!(
        p["security"],
        serde_json::json!({"nla": "on", "udp": "off", "link": "normal"})
    );
    assert_eq!(p["redirect"]["clipboard"], true, "clipboard on by default");
    assert_eq!(
        p["redirect"]["drives"],
        serde_json::json!([]),
        "everything else off by default"
    );
    assert_eq!(p["backend"], "xfreerdp");
    assert!(
        !show.stdout().contains("password"),
        "a profile has no password field"
    );

    let list = w.run(&["profile", "list", "--json"]).expect(0).json();
    let names: Vec<_> = list["profiles"]
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, vec!["db", "web01"]);
    assert_eq!(list["profiles"][0]["port"], 3391);

    w.run(&[
        "profile",
        "set",
        "web01",
        "user=bob",
        "redirect.drives=C:",
        "display.width=1280",
        "rdp.session bpp=24",
    ])
    .expect(0);
    let p = w.run(&["profile", "show", "web01", "--json"]).json()["profile"].clone();
    assert_eq!(
        (p["user"].clone(), p["redirect"]["drives"][0].clone()),
        ("bob".into(), "C:".into())
    );
    assert_eq!(p["rdp"]["session bpp"], 24);

    w.run(&["profile", "rename", "web01", "web02"]).expect(0);
    w.run(&["profile", "show", "web01"]).expect(2);
    w.run(&["profile", "rename", "db", "WEB02"]).expect(2);
    w.run(&["profile", "rm", "web02"]).expect(0);
    let text = w.run(&["profile", "list"]).expect(0).stdout();
    insta::assert_snapshot!("profile_list", text);
}

#[test]
fn unknown_names_get_did_you_mean() {
    let w = World::new();
    w.run(&["profile", "add", "web01", "--host", "h1.test"]).expect(0);
    w.run(&["profile", "add", "web02", "--host", "h2.test"]).expect(0);
    let r = w.run(&["profile", "show", "web1"]);
    r.expect(2);
    insta::assert_snapshot!("did_you_mean", r.stderr());
    let r = w.run(&["rdp", "wbe01", "--offline"]);
    r.expect(2);
    assert!(r.stderr().contains("did you mean `web01`?"), "{}", r.stderr());
    let r = w.run(&["profile", "set", "web01", "usr=x"]);
    r.expect(2);
    assert!(r.stderr().contains("did you mean `user`?"), "{}", r.stderr());
}

#[test]
fn profile_names_and_fields_are_validated() {
    let w = World::new();
    for (name, why) in [
        ("a/b", "path separator"),
        ("..\\evil", "path separator"),
        ("-rf", "leading"),
        ("con", "reserved"),
        ("tab\there", "control character"),
    ] {
        let r = w.run(&["profile", "add", "--host", "h.test", "--", name]);
        r.expect(2);
        assert!(r.stderr().contains(why), "{name}: {}", r.stderr());
    }
    for (flag, value) in [
        ("--host", "bad host"),
        ("--port", "0"),
        ("--user", "a\nb"),
        ("--nla", "maybe"),
    ] {
        w.run(&["profile", "add", "ok", "--host", "h.test", flag, value])
            .expect(2);
    }
    assert!(!w.config().join("profiles").join("ok.toml").exists());
    assert!(!w.config().parent().expect("parent").join("evil.toml").exists());
}

#[test]
fn corrupt_profile_file_is_reported_and_never_overwritten() {
    let w = World::new();
    w.run(&["profile", "add", "good", "--host", "good.test"])
        .expect(0);
    let bad = w.config().join("profiles").join("bad.toml");
    let text = "version = 1\nhost = \"bad.test\"\nport = \"not a number\"\n";
    std::fs::write(&bad, text).expect("write");

    let r = w.run(&["profile", "show", "bad"]);
    r.expect(2);
    assert!(
        r.stderr().contains(&format!("{}:3:8:", bad.display())),
        "{}",
        r.stderr()
    );
    w.run(&["profile", "set", "bad", "user=x"]).expect(2);
    let r = w.run(&["profile", "add", "bad", "--host", "x.test"]);
    r.expect(2);
    assert_eq!(
        std::fs::read_to_string(&bad).expect("read"),
        text,
        "never overwritten"
    );

    let list = w.run(&["profile", "list"]);
    list.expect(2);
    assert!(list.stdout().contains("good"), "the good profile is still listed");
    assert!(list.stderr().contains("bad.toml:3:8"), "{}", list.stderr());
    let json = w.run(&["profile", "list", "--json"]).json();
    assert_eq!(json["profiles"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(1));
    // The user can still delete it.
    w.run(&["profile", "rm", "bad"]).expect(0);
    w.run(&["profile", "list"]).expect(0);
}

#[test]
fn twenty_concurrent_adds_and_edits_lose_nothing() {
    let w = World::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            w.cmd(&[
                "profile",
                "add",
                &format!("host{i:02}"),
                "--host",
                &format!("h{i}.test"),
                "--user",
                &format!("u{i}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let list = w.run(&["profile", "list", "--json"]).expect(0).json();
    let profiles = list["profiles"].as_array().expect("array");
    assert_eq!(profiles.len(), 20);
    for (i, p) in profiles.iter().enumerate() {
        assert_eq!(
            (p["host"].clone(), p["user"].clone()),
            (format!("h{i}.test").into(), format!("u{i}").into())
        );
    }
    // Concurrent edits of different settings of one profile: every one must land.
    w.run(&["profile", "add", "shared", "--host", "s.test"]).expect(0);
    let settings = [
        "redirect.printers=on",
        "redirect.smart_cards=on",
        "redirect.ports=on",
        "redirect.usb=on",
        "redirect.cameras=on",
        "redirect.webauthn=on",
        "redirect.pos_devices=on",
        "redirect.location=on",
        "redirect.microphone=on",
        "display.full_screen=on",
        "display.multimon=on",
        "user=carol",
        "domain=LAB",
        "nla=off",
        "udp=on",
        "alternate=alt.test",
        "display.width=1024",
        "display.height=768",
        "redirect.drives=D:",
        "backend=native",
    ];
    let children: Vec<_> = settings
        .iter()
        .map(|s| {
            w.cmd(&["profile", "set", "shared", s])
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let p = w.run(&["profile", "show", "shared", "--json"]).json()["profile"].clone();
    let r = &p["redirect"];
    for k in [
        "printers",
        "smart_cards",
        "ports",
        "usb",
        "cameras",
        "webauthn",
        "pos_devices",
        "location",
        "microphone",
    ] {
        assert_eq!(r[k], true, "{k} lost");
    }
    assert_eq!(
        p["display"],
        serde_json::json!({"width": 1024, "height": 768, "full_screen": true, "multimon": true})
    );
    assert_eq!(
        (p["user"].clone(), p["domain"].clone(), p["alternate"].clone()),
        ("carol".into(), "LAB".into(), "alt.test".into())
    );
    assert_eq!(
        p["security"],
        serde_json::json!({"nla": "off", "udp": "on", "link": "normal"})
    );
    assert_eq!(
        (r["drives"][0].clone(), p["backend"].clone()),
        ("D:".into(), "native".into())
    );
}

#[test]
fn every_corpus_file_imports_or_fails_clearly() {
    let w = World::new();
    let corpus = shared_dir().join("rdp-corpus");
    let mut imported = 0;
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rdp"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 15);
    for f in &files {
        let r = w.run(&["import", f.to_str().expect("utf-8 path"), "--json"]);
        match r.code() {
            0 => {
                imported += 1;
                let j = r.json();
                assert_eq!(j["created"], true);
                assert!(Path::new(j["path"].as_str().expect("path")).exists());
            }
            2 => {
                let e = r.stderr();
                assert!(
                    e.contains("no `full address`") || e.contains("no .rdp properties found"),
                    "{}: {e}",
                    f.display()
                );
            }
            c => panic!("{}: exit {c}\n{}", f.display(), r.stderr()),
        }
        assert!(
            !r.stderr().contains("xxxxxxxx") && !r.stdout().contains("xxxxxxxx"),
            "a /p: value leaked"
        );
    }
    assert_eq!(imported, 7);
    // Importing the same file again is a clash, reported, never an overwrite.
    let f = corpus.join("jesval__testfiles__test.rdp");
    let r = w.run(&["import", f.to_str().expect("utf-8")]);
    r.expect(2);
    assert!(
        r.stderr().contains("already exists") && r.stderr().contains("--name"),
        "{}",
        r.stderr()
    );
    w.run(&[
        "import",
        f.to_str().expect("utf-8"),
        "--name",
        "jesval-2",
        "--dry-run",
    ])
    .expect(0);
    w.run(&["profile", "show", "jesval-2"]).expect(2);
}

#[test]
fn sanitize_neutralises_a_rogue_file() {
    let w = World::new();
    let rogue = w.write(
        "invoice.rdp",
        include_bytes!("../../launcher/src/commands/rogue-sample.rdp"),
    );
    let out = w.path("clean.rdp");
    let r = w.run(&[
        "sanitize",
        rogue.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    r.expect(0);
    insta::assert_snapshot!("sanitize_rogue", filtered(&w, &r.stdout()));
    let bytes = std::fs::read(&out).expect("written");
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE BOM");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("utf-16");
    assert!(
        text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
        "CRLF only"
    );
    for gone in [
        "password 51",
        "gatewayaccesstoken",
        "signature",
        "alternate shell",
        "remoteapplication",
    ] {
        assert!(!text.contains(gone), "{gone} survived:\n{text}");
    }
    assert!(text.contains("drivestoredirect:s:\r\n") && text.contains("redirectclipboard:i:0\r\n"));

    let j = w
        .run(&["sanitize", rogue.to_str().expect("utf-8"), "--json"])
        .expect(0)
        .json();
    assert_eq!(j["version"], 1);
    let pw = j["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "password 51")
        .expect("reported");
    assert_eq!(
        (pw["action"].clone(), pw["old"].clone()),
        ("removed".into(), "<redacted>".into())
    );

    let r = w.run(&[
        "sanitize",
        rogue.to_str().expect("utf-8"),
        "--allow",
        "drivestoredirect",
        "-o",
        "-",
    ]);
    r.expect(0);
    assert!(r.stdout().contains("drivestoredirect:s:*"), "{}", r.stdout());
    assert!(
        r.stderr().contains("removed"),
        "the report goes to stderr with -o -"
    );
    let r = w.run(&[
        "sanitize",
        rogue.to_str().expect("utf-8"),
        "--allow",
        "password 51",
    ]);
    r.expect(2);
    assert!(r.stderr().contains("always removed"), "{}", r.stderr());
}

#[test]
fn bad_input_files_fail_clearly_with_exit_2() {
    let w = World::new();
    let png = w.write(
        "pic.rdp",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0",
    );
    let empty = w.write("empty.rdp", b"");
    let flags = shared_dir().join("rdp-corpus/svanharmelen__dotfiles__default.rdp");
    let big = w.path("big.rdp");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(50 * 1024 * 1024).expect("50 MB sparse file");
    let dir = w.path("");
    let cases: [(&Path, &str); 5] = [
        (&png, "not a text file"),
        (&empty, "the file is empty"),
        (&flags, "no .rdp properties found"),
        (&big, "52428800 bytes"),
        (&dir, "is a directory"),
    ];
    for (path, why) in cases {
        for cmd in ["sanitize", "import"] {
            let r = w.run(&[cmd, path.to_str().expect("utf-8")]);
            r.expect(2);
            assert!(
                r.stderr().contains(why),
                "{cmd} {}: {}",
                path.display(),
                r.stderr()
            );
            assert!(r.stderr().contains("error:"), "{}", r.stderr());
        }
    }
    let r = w.run(&["sanitize", flags.to_str().expect("utf-8")]);
    assert!(
        r.stderr().contains("FreeRDP command-line option"),
        "{}",
        r.stderr()
    );
    w.run(&["sanitize", w.path("missing.rdp").to_str().expect("utf-8")])
        .expect(2);
}

#[test]
fn rdp_offline_writes_what_mstsc_reads() {
    let w = World::new();
    w.add_web01("alice", &["--domain", "CORP", "--udp", "off"]);
    w.run(&[
        "profile",
        "set",
        "web01",
        "redirect.drives=C:,D:",
        "display.full_screen=on",
    ])
    .expect(0);
    let out = w.path("web01.rdp");
    w.run(&["rdp", "web01", "--offline", "-o", out.to_str().expect("utf-8")])
        .expect(0);
    let bytes = std::fs::read(&out).expect("written");
    assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("utf-16");
    insta::assert_snapshot!("rdp_offline_web01", text.replace("\r\n", "\n"));
    assert_eq!(text.matches("\r\n").count(), text.lines().count());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the written .rdp is owner-only");
    }
    // The same text on stdout; an ad-hoc host works without a profile; online mode says what is missing.
    let r = w.run(&["rdp", "web01", "--offline"]);
    assert_eq!(r.expect(0).stdout(), text);
    let r = w.run(&["rdp", "10.9.8.7:3390", "--offline"]);
    assert!(r.expect(0).stdout().contains("full address:s:10.9.8.7:3390\r\n"));
    // Without --offline the pre-flight runs first: web01.corp.test does not resolve here, so it blocks.
    let r = w.run(&["rdp", "web01", "--timeout", "3s"]);
    r.expect(1);
    assert!(
        r.stderr().contains("blocks this connection") && r.stderr().contains("rdpl check web01"),
        "{}",
        r.stderr()
    );
    // The top cause goes with the error to stderr: stdout is for the .rdp text (or --json) only.
    assert!(r.stdout().is_empty(), "{}", r.stdout());
    assert!(
        r.stderr()
            .contains("1. The name web01.corp.test does not resolve"),
        "the top cause:\n{}",
        r.stderr()
    );
    // A hostile value in a hand-edited profile can't inject a line.
    let path = w.config().join("profiles/evil.toml");
    std::fs::write(
        &path,
        "version = 1\nhost = \"h.test\"\n[rdp]\n\"winposstr\" = \"0,1\\r\\nalternate shell:s:cmd\"\n",
    )
    .expect("write");
    let r = w.run(&["rdp", "evil", "--offline"]);
    r.expect(2);
    assert!(r.stderr().contains("carriage return"), "{}", r.stderr());
}

#[test]
fn demo_runs_the_whole_path() {
    let w = World::new();
    let r = w.run(&["demo"]);
    r.expect(0);
    let out = r.stdout();
    for needle in [
        "✓ tls         TLSv1.3",
        "cert.pin_new",
        "pinned localhost:",
        "full address:s:localhost:",
        "removed",
        "password 51",
        "imported",
    ] {
        assert!(out.contains(needle), "{needle} missing from demo output:\n{out}");
    }
    assert!(
        !w.config().exists(),
        "the demo never touches the user's config dir"
    );
}

#[test]
fn config_dir_flag_beats_the_environment() {
    let w = World::new();
    let other = w.path("other");
    w.run(&[
        "--config-dir",
        other.to_str().expect("utf-8"),
        "profile",
        "add",
        "x",
        "--host",
        "x.test",
    ])
    .expect(0);
    assert!(other.join("profiles/x.toml").exists());
    assert!(!w.config().join("profiles/x.toml").exists());
}

#[test]
fn explain_decodes_what_mstsc_shows() {
    let w = World::new();
    let r = w.run(&["explain", "0x904", "0x7"]);
    r.expect(0);
    let out = r.stdout();
    for needle in [
        "Socket closed",
        "exDiscReasonServerDeniedConnection",
        "ERROR_ARENA_TRASHED",
        "ironrdp-pdu",
        "source:",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    let j = w.run(&["explain", "2308", "7", "--json"]).expect(0).json();
    assert_eq!(j["code"]["value"], 2308);
    assert_eq!(
        j["extended"]["matches"][0]["name"],
        "exDiscReasonServerDeniedConnection"
    );
    assert!(j["corrections"].as_array().is_some_and(|c| !c.is_empty()));
    // An undocumented number: its range, never an invented meaning.
    let r = w.run(&["explain", "0x7FF0"]);
    assert!(r.expect(0).stdout().contains("not documented"), "{}", r.stdout());
    let r = w.run(&["explain", "0x80090302"]);
    assert!(
        r.expect(0).stdout().contains("SEC_E_UNSUPPORTED_FUNCTION"),
        "{}",
        r.stdout()
    );
    let r = w.run(&["explain", "zz"]);
    r.expect(2);
    assert!(r.stderr().contains("not an error code"), "{}", r.stderr());
}

//! `rdpl integrate` and `rdpl shortcut` on Linux, against the real freedesktop.org tools.
//!
//! Every run gets a private `HOME`, `XDG_DATA_HOME` and `XDG_CONFIG_HOME` (apart from `HOME`, so the test
//! proves they are honoured), and the tools that check the result (`xdg-mime`, `desktop-file-validate`,
//! `gio`) run with the same environment. `gio launch`/`gio open` run the desktop entries for real, the way a
//! file manager does on double-click, with a fake `xterm` as the only terminal on `PATH`: it records the
//! command line GLib built from the `Exec` key.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{Run, World, rdpl_bin, support};

/// Skips (locally) or fails (CI) when `tool` is missing, naming its Debian package.
#[track_caller]
#[allow(
    clippy::print_stderr,
    reason = "a skipped test says why, where cargo test shows it"
)]
fn need(tools: &[(&str, &str)]) -> bool {
    for (tool, package) in tools {
        if support::tool_path(tool).is_none() {
            let msg =
                format!("`{tool}` is not installed: `apt-get install --no-install-recommends {package}`");
            assert!(
                !support::in_ci(),
                "{msg} (CI is set, so a missing requirement fails the test instead of skipping it)"
            );
            eprintln!("skipped at {}: {msg}", std::panic::Location::caller());
            return false;
        }
    }
    true
}

const XDG_TOOLS: &[(&str, &str)] = &[
    ("xdg-mime", "xdg-utils"),
    ("update-mime-database", "shared-mime-info"),
    ("update-desktop-database", "desktop-file-utils"),
    ("desktop-file-validate", "desktop-file-utils"),
];

/// A private desktop user: a [`World`] plus XDG directories.
struct Desk {
    w: World,
}

impl Desk {
    fn new() -> Desk {
        let w = World::new();
        fs::create_dir_all(w.path("home")).expect("home");
        Desk { w }
    }

    fn data(&self) -> PathBuf {
        self.w.path("xdg-data")
    }

    fn config_home(&self) -> PathBuf {
        self.w.path("xdg-config")
    }

    fn handler(&self) -> PathBuf {
        self.data().join("applications/rdpl.desktop")
    }

    fn mime_package(&self) -> PathBuf {
        self.data().join("mime/packages/rdpl-rdp.xml")
    }

    fn mimeapps(&self) -> PathBuf {
        self.config_home().join("mimeapps.list")
    }

    fn with_env<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        c.env("XDG_DATA_HOME", self.data())
            .env("XDG_CONFIG_HOME", self.config_home())
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.w.cmd(args);
        self.with_env(&mut c);
        c
    }

    fn rdpl(&self, args: &[&str]) -> Run {
        Run(self.cmd(args).output().expect("rdpl runs"))
    }

    /// A program with the same private environment (and `extra` variables).
    fn tool(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut c = Command::new(support::tool(program));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.w.path("home"))
            .envs(extra.iter().copied())
            .stdin(Stdio::null());
        self.with_env(&mut c);
        c.output().expect("tool runs")
    }

    fn tool_stdout(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> String {
        let out = self.tool(program, args, extra);
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn validate(&self, file: &Path) {
        let out = self.tool("desktop-file-validate", &[file.to_str().expect("utf-8")], &[]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains("error"),
            "desktop-file-validate {}:\n{text}",
            file.display()
        );
    }

    /// Runs `gio ARGS` with a fake `xterm` as the only program on `PATH` and returns the command line GLib
    /// handed to it (after `-e`).
    fn gio_via_terminal(&self, args: &[&str]) -> Vec<String> {
        let bin = self.w.path("fakebin");
        fs::create_dir_all(&bin).expect("fakebin");
        let record = self.w.path("terminal-argv");
        let _ = fs::remove_file(&record);
        let script = format!(
            "#!/bin/sh\nPATH=/usr/bin:/bin\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            record.display()
        );
        let xterm = bin.join("xterm");
        fs::write(&xterm, script).expect("fake xterm");
        fs::set_permissions(&xterm, fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut c = Command::new(support::tool("gio"));
        c.args(args)
            .env_clear()
            .env("PATH", &bin)
            .env("HOME", self.w.path("home"))
            .stdin(Stdio::null());
        self.with_env(&mut c);
        let out = c.output().expect("gio runs");
        assert!(
            out.status.success(),
            "gio {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let start = Instant::now();
        while !record.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "gio {args:?} never started the terminal"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let bytes = fs::read(&record).expect("argv");
        let argv: Vec<String> = bytes
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(argv.first().map(String::as_str), Some("-e"), "{argv:?}");
        argv[1..].to_vec()
    }
}

/// The `Exec` key of a desktop entry, parsed per the Desktop Entry Specification (an implementation
/// independent of rdpl's): string unescaping, then double-quote rules, then `%%`.
fn exec_argv(entry: &str) -> Vec<String> {
    let value = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("an Exec key");
    let mut s = String::new();
    let mut it = value.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next().expect("escape") {
                's' => s.push(' '),
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                '\\' => s.push('\\'),
                other => panic!("invalid string escape \\{other} in {value}"),
            }
        } else {
            s.push(c);
        }
    }
    let mut args = Vec::new();
    let mut cur: Option<String> = None;
    let mut quoted = false;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (quoted, c) {
            (false, ' ') => args.extend(cur.take()),
            (false, '"') => {
                quoted = true;
                cur.get_or_insert_with(String::new);
            }
            (true, '"') => quoted = false,
            (true, '\\') => {
                let e = it.next().expect("escaped char");
                assert!("\"`$\\".contains(e), "bad escape \\{e} in {value}");
                cur.get_or_insert_with(String::new).push(e);
            }
            (_, '%') => match it.next() {
                Some('%') => cur.get_or_insert_with(String::new).push('%'),
                Some(code) if !quoted => cur.get_or_insert_with(String::new).extend(['%', code]),
                other => panic!("bad % sequence {other:?} in {value}"),
            },
            (_, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unterminated quote in {value}");
    args.extend(cur);
    args
}

fn exe() -> String {
    fs::canonicalize(rdpl_bin())
        .expect("rdpl path")
        .to_str()
        .expect("utf-8")
        .to_owned()
}

/// An .rdp file as mstsc writes it (UTF-16LE with BOM, CRLF).
fn write_rdp(path: &Path) {
    let text = "full address:s:h.test\r\nscreen mode id:i:1\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    fs::write(path, bytes).expect("write .rdp");
}

#[test]
fn integrate_dry_run_writes_nothing() {
    let d = Desk::new();
    let r = d.rdpl(&["integrate", "--dry-run"]);
    r.expect(0);
    let out = r.stdout();
    assert!(
        out.contains(&format!("would write {}", d.handler().display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("would write {}", d.mime_package().display())),
        "{out}"
    );
    assert!(
        out.contains("would run xdg-mime default rdpl.desktop application/x-rdp"),
        "{out}"
    );
    assert!(out.contains("MimeType=application/x-rdp;"), "{out}");
    for dir in [d.data(), d.config_home(), d.w.path("home/.local")] {
        assert!(!dir.exists(), "{} was created", dir.display());
    }
    // Uninstalling what is not there is fine, and also writes nothing.
    let r = d.rdpl(&["integrate", "--uninstall", "--dry-run"]);
    r.expect(0);
    assert!(r.stderr().contains("nothing to remove"), "{}", r.stderr());
}

#[test]
fn integrate_makes_rdpl_the_rdp_handler_and_uninstall_undoes_it() {
    if !need(XDG_TOOLS) {
        return;
    }
    let d = Desk::new();
    // The user's own associations must survive both directions.
    fs::create_dir_all(d.config_home()).expect("config");
    fs::write(d.mimeapps(), "[Default Applications]\ntext/plain=gedit.desktop\n").expect("mimeapps");

    let r = d.rdpl(&["integrate"]);
    r.expect(0);
    assert!(r.stdout().contains("rdpl now opens .rdp files"), "{}", r.stdout());

    let entry = fs::read_to_string(d.handler()).expect("rdpl.desktop");
    d.validate(&d.handler());
    assert_eq!(exec_argv(&entry), [exe(), "open".into(), "%f".into()]);
    for key in [
        "Type=Application",
        "Terminal=true",
        "NoDisplay=false",
        "MimeType=application/x-rdp;",
        "Categories=Network;RemoteAccess;",
        "Name=rdpl (Remote Desktop launcher)",
    ] {
        assert!(entry.lines().any(|l| l == key), "{key} missing:\n{entry}");
    }
    let xml = fs::read_to_string(d.mime_package()).expect("mime package");
    assert!(xml.contains(r#"<glob pattern="*.rdp"/>"#), "{xml}");
    assert!(!d.w.path("home/.local").exists(), "XDG_DATA_HOME was ignored");

    // What xdg-utils answers, headless and under the usual desktops (xdg-utils 1.1 reads mimeapps.list
    // for all of them; KDE without its trader tool falls back to the same).
    for desktop in ["", "GNOME", "KDE", "XFCE", "X-Cinnamon"] {
        assert_eq!(
            d.tool_stdout(
                "xdg-mime",
                &["query", "default", "application/x-rdp"],
                &[("XDG_CURRENT_DESKTOP", desktop)]
            ),
            "rdpl.desktop",
            "XDG_CURRENT_DESKTOP={desktop}"
        );
    }
    let mimeapps = fs::read_to_string(d.mimeapps()).expect("mimeapps");
    assert!(mimeapps.contains("text/plain=gedit.desktop"), "{mimeapps}");

    let rdp = d.w.path("some connection.rdp");
    write_rdp(&rdp);
    let rdp_arg = rdp.to_str().expect("utf-8");
    if need(&[("mimetype", "libfile-mimeinfo-perl")]) {
        // Without `mimetype`, xdg-mime asks file(1), which knows no MIME globs.
        assert_eq!(
            d.tool_stdout("xdg-mime", &["query", "filetype", rdp_arg], &[]),
            "application/x-rdp"
        );
    }
    if need(&[("gio", "libglib2.0-bin")]) {
        let info = d.tool_stdout("gio", &["info", "-a", "standard::content-type", rdp_arg], &[]);
        assert!(
            info.contains("standard::content-type: application/x-rdp"),
            "{info}"
        );
        let mime = d.tool_stdout("gio", &["mime", "application/x-rdp"], &[]);
        assert!(mime.contains(": rdpl.desktop"), "{mime}");
        // A double-click: GIO finds the default for the file's type and runs it in a terminal.
        assert_eq!(
            d.gio_via_terminal(&["open", rdp_arg]),
            [exe(), "open".into(), rdp_arg.to_owned()]
        );
    }

    // Again: idempotent.
    d.rdpl(&["integrate"]).expect(0);
    let mimeapps = fs::read_to_string(d.mimeapps()).expect("mimeapps");
    assert_eq!(mimeapps.matches("rdpl.desktop").count(), 1, "{mimeapps}");

    let r = d.rdpl(&["integrate", "--uninstall", "--dry-run"]);
    r.expect(0);
    assert!(
        r.stdout()
            .contains(&format!("would remove {}", d.handler().display())),
        "{}",
        r.stdout()
    );
    assert!(d.handler().exists(), "dry run removed the handler");

    let r = d.rdpl(&["integrate", "--uninstall"]);
    r.expect(0);
    assert!(!d.handler().exists(), "rdpl.desktop left behind");
    assert!(!d.mime_package().exists(), "rdpl-rdp.xml left behind");
    let mimeapps = fs::read_to_string(d.mimeapps()).expect("the user's mimeapps.list stays");
    assert!(!mimeapps.contains("rdpl"), "{mimeapps}");
    assert!(mimeapps.contains("text/plain=gedit.desktop"), "{mimeapps}");
    assert_ne!(
        d.tool_stdout("xdg-mime", &["query", "default", "application/x-rdp"], &[]),
        "rdpl.desktop"
    );
    // Nothing but empty directories is left: the caches described only rdpl's entry and type.
    let left: Vec<PathBuf> = walk(&d.data());
    assert!(left.is_empty(), "left behind: {left:?}");

    let r = d.rdpl(&["integrate", "--uninstall"]);
    r.expect(0);
    assert!(r.stderr().contains("nothing to remove"), "{}", r.stderr());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}

#[test]
fn uninstall_keeps_a_default_the_user_chose_since() {
    if !need(XDG_TOOLS) {
        return;
    }
    let d = Desk::new();
    d.rdpl(&["integrate"]).expect(0);
    // Another handler, then the user picks it.
    let other = d.data().join("applications/remmina.desktop");
    fs::write(
        &other,
        "[Desktop Entry]\nType=Application\nName=Remmina\nExec=/bin/true %f\nMimeType=application/x-rdp;\n",
    )
    .expect("other entry");
    d.tool_stdout(
        "xdg-mime",
        &["default", "remmina.desktop", "application/x-rdp"],
        &[],
    );
    d.rdpl(&["integrate", "--uninstall"]).expect(0);
    let mimeapps = fs::read_to_string(d.mimeapps()).expect("mimeapps");
    assert!(
        mimeapps.contains("application/x-rdp=remmina.desktop"),
        "{mimeapps}"
    );
    assert_eq!(
        d.tool_stdout("xdg-mime", &["query", "default", "application/x-rdp"], &[]),
        "remmina.desktop"
    );
    assert!(other.exists(), "another app's entry was removed");
    // Other entries remain, so the desktop cache was refreshed rather than deleted.
    let cache = fs::read_to_string(d.data().join("applications/mimeinfo.cache")).expect("cache");
    assert!(
        cache.contains("remmina.desktop") && !cache.contains("rdpl.desktop"),
        "{cache}"
    );
}

#[test]
fn integrate_refuses_to_replace_a_foreign_rdpl_desktop() {
    let d = Desk::new();
    fs::create_dir_all(d.handler().parent().expect("dir")).expect("dir");
    let mine = "[Desktop Entry]\nType=Application\nName=My rdpl\nExec=/opt/rdpl/bin/rdpl open %f\n";
    fs::write(d.handler(), mine).expect("write");
    let r = d.rdpl(&["integrate"]);
    r.expect(2);
    assert!(r.stderr().contains("not written by rdpl"), "{}", r.stderr());
    let r = d.rdpl(&["integrate", "--uninstall"]);
    r.expect(0);
    assert!(r.stderr().contains("left in place"), "{}", r.stderr());
    assert_eq!(fs::read_to_string(d.handler()).expect("kept"), mine);
}

#[test]
fn missing_tools_are_named_with_their_packages() {
    let d = Desk::new();
    let empty = d.w.path("empty-bin");
    fs::create_dir_all(&empty).expect("dir");
    let r = Run(d.cmd(&["integrate"]).env("PATH", &empty).output().expect("runs"));
    r.expect(2);
    let err = r.stderr();
    for want in [
        "`update-mime-database` is not installed (Debian/Ubuntu package `shared-mime-info`)",
        "`update-desktop-database` is not installed (Debian/Ubuntu package `desktop-file-utils`)",
        "the default application for .rdp files was not set: `xdg-mime` is not installed",
        "sudo apt install xdg-utils",
        "written anyway:",
    ] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    assert!(d.handler().exists() && d.mime_package().exists());
}

#[test]
fn shortcut_quotes_awkward_profile_names() {
    let d = Desk::new();
    let names = ["web 01", "Bob's $erver (50%)", "back`tick`;&~#"];
    for (i, name) in names.iter().enumerate() {
        d.rdpl(&["profile", "add", name, "--host", &format!("h{i}.test")])
            .expect(0);
    }
    let out_dir = d.w.path("launchers");
    fs::create_dir_all(&out_dir).expect("dir");
    let out_arg = out_dir.to_str().expect("utf-8");
    for name in names {
        let r = d.rdpl(&["shortcut", name, "-o", out_arg]);
        r.expect(0);
        let path = PathBuf::from(r.stdout().trim());
        assert_eq!(path.parent(), Some(out_dir.as_path()), "{}", r.stdout());
        let file_name = path.file_name().expect("name").to_string_lossy().into_owned();
        assert!(
            file_name.starts_with("rdpl-")
                && file_name.ends_with(".desktop")
                && file_name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{file_name}"
        );
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{}", path.display());
        let entry = fs::read_to_string(&path).expect("entry");
        assert_eq!(
            exec_argv(&entry),
            [exe(), "connect".into(), name.to_owned()],
            "{entry}"
        );
        assert!(
            entry.lines().any(|l| l == format!("Name={name} (RDP)")),
            "{entry}"
        );
        if need(&[("desktop-file-validate", "desktop-file-utils")]) {
            d.validate(&path);
        }
        if need(&[("gio", "libglib2.0-bin")]) {
            // GLib's own parse of the Exec line, by launching it.
            assert_eq!(
                d.gio_via_terminal(&["launch", path.to_str().expect("utf-8")]),
                [exe(), "connect".into(), name.to_owned()]
            );
        }
    }
    // --remove deletes it; a second time there is nothing to remove.
    d.rdpl(&["shortcut", "web 01", "-o", out_arg, "--remove"])
        .expect(0);
    assert!(!out_dir.join("rdpl-web-01.desktop").exists());
    let r = d.rdpl(&["shortcut", "web 01", "-o", out_arg, "--remove"]);
    r.expect(2);
    assert!(r.stderr().contains("no launcher for `web 01`"), "{}", r.stderr());
}

#[test]
fn shortcut_goes_to_the_desktop_else_the_applications_menu() {
    let d = Desk::new();
    d.rdpl(&["profile", "add", "web01", "--host", "h.test"]).expect(0);
    // No desktop directory: the applications menu.
    let r = d.rdpl(&["shortcut", "WEB01"]);
    r.expect(0);
    let menu = d.data().join("applications/rdpl-web01.desktop");
    assert_eq!(r.stdout().trim(), menu.display().to_string());
    assert!(menu.exists());
    // A localized desktop from user-dirs.dirs.
    let desk = d.w.path("home/Schreibtisch");
    fs::create_dir_all(&desk).expect("desktop");
    fs::create_dir_all(d.config_home()).expect("config");
    fs::write(
        d.config_home().join("user-dirs.dirs"),
        "XDG_DESKTOP_DIR=\"$HOME/Schreibtisch\"\n",
    )
    .expect("user-dirs");
    let r = d.rdpl(&["shortcut", "web01"]);
    r.expect(0);
    let on_desk = desk.join("rdpl-web01.desktop");
    assert_eq!(r.stdout().trim(), on_desk.display().to_string());
    // --remove looks in both places.
    let r = d.rdpl(&["shortcut", "web01", "--remove"]);
    r.expect(0);
    assert!(!on_desk.exists() && !menu.exists(), "{}", r.stdout());
    // A launcher outlives its profile and can still be removed by name.
    d.rdpl(&["shortcut", "web01"]).expect(0);
    d.rdpl(&["profile", "rm", "web01"]).expect(0);
    d.rdpl(&["shortcut", "web01", "--remove"]).expect(0);
    assert!(!on_desk.exists());
}

#[test]
fn shortcut_for_an_unknown_profile_says_did_you_mean() {
    let d = Desk::new();
    d.rdpl(&["profile", "add", "web01", "--host", "h.test"]).expect(0);
    let r = d.rdpl(&["shortcut", "web1"]);
    r.expect(2);
    assert!(
        r.stderr().contains("no profile named `web1`") && r.stderr().contains("did you mean `web01`?"),
        "{}",
        r.stderr()
    );
    let r = d.rdpl(&["shortcut", "web1", "--remove"]);
    r.expect(2);
    assert!(r.stderr().contains("did you mean `web01`?"), "{}", r.stderr());
    let r = d.rdpl(&["shortcut", "web01", "-o", "/nonexistent/dir"]);
    r.expect(2);
    assert!(r.stderr().contains("is not a directory"), "{}", r.stderr());
    assert!(!d.data().exists(), "nothing written");
}

#[test]
fn shortcut_never_overwrites_or_removes_a_foreign_file() {
    let d = Desk::new();
    d.rdpl(&["profile", "add", "web01", "--host", "h.test"]).expect(0);
    let dir = d.w.path("out");
    fs::create_dir_all(&dir).expect("dir");
    let foreign = dir.join("rdpl-web01.desktop");
    fs::write(&foreign, "[Desktop Entry]\nName=mine\n").expect("write");
    let dir_arg = dir.to_str().expect("utf-8");
    let r = d.rdpl(&["shortcut", "web01", "-o", dir_arg]);
    r.expect(2);
    assert!(r.stderr().contains("is not rdpl's launcher"), "{}", r.stderr());
    let r = d.rdpl(&["shortcut", "web01", "-o", dir_arg, "--remove"]);
    r.expect(2);
    assert!(r.stderr().contains("left in place"), "{}", r.stderr());
    assert_eq!(
        fs::read_to_string(&foreign).expect("kept"),
        "[Desktop Entry]\nName=mine\n"
    );
}

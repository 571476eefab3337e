//! A full xrdp login: [`Sesman`] runs `xrdp-sesman --nodaemon` with its own config and log for a local
//! [`TestUser`] of its own, so an [`Xrdp`](super::Xrdp) that gets that user's credentials (autologon, or the
//! login dialog) starts a real Xorg (xorgxrdp) session: PAM checks the password, then sesman starts
//! `Xorg :N`, `xrdp-chansrv` and the user's `~/startwm.sh`, all as that user. Recipe:
//! `shared/test-servers/RECIPES.md`, section 1, "Full login".
//!
//! **One sesman per machine.** xrdp 0.9 reaches sesman on the `ip=` of its session section (`127.0.0.1`,
//! which both sides map to `[::1]`) and on the `ListenPort` of `/etc/xrdp/sesman.ini`: that path is compiled
//! in (`xrdp_mm_get_sesman_port`), so no xrdp config can point it at another port. [`Sesman::start`]
//! therefore takes an exclusive lock (`/tmp/rdpl-xrdp-sesman.lock`, flock: released by the kernel even when a
//! run is killed) and refuses to start when anything else listens on that port (a system sesman).
//!
//! **Nothing left behind.** `Drop` ends the user's processes (SIGTERM, then SIGKILL: the shell in the xterm
//! ignores SIGTERM), lets sesman's session process clean up (X lock, xrdp sockets), stops sesman, removes
//! what the uid still owns in `/tmp`, `/tmp/.X11-unix` and `/run/xrdp/sockdir`, and deletes the user with
//! `userdel -r` (home, group, mail spool). sesman runs as the init of its own PID namespace (`unshare --pid
//! --fork --kill-child`): a session outlives sesman otherwise, but here a killed test run takes the whole
//! session down with it. What such a run cannot clean (its user `rdpl-<pid>-<hex>`, the files that uid owns,
//! its temp dir `rdpl-sesman-<pid>-*`) is swept by the next [`Sesman::start`], as the pid is gone.
//!
//! The session sesman starts is quick and recognisable: `~/startwm.sh` paints the root window
//! [`Sesman::DESKTOP`] (sea green) with `xsetroot` and runs a small white `xterm` at +40+40, in about a
//! second. xrdp's own screens (login dialog, "Connection Log") are grey, blue or teal, and black: never that
//! green.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::process::{START_TIMEOUT, ServerProcess};
use super::tool;

/// The machine-wide lock that makes [`Sesman`] exclusive (see the module docs).
const LOCK_PATH: &str = "/tmp/rdpl-xrdp-sesman.lock";
/// How long [`Sesman::start`] waits for another test's sesman to end.
const LOCK_WAIT: Duration = Duration::from_secs(300);
/// The sesman config xrdp reads the port from.
const SYSTEM_SESMAN_INI: &str = "/etc/xrdp/sesman.ini";
/// What sesman and xrdp use when `ListenPort` is not set.
const DEFAULT_PORT: u16 = 3350;
/// The prefix of the test users' names: `rdpl-<pid>-<6 hex>`.
const USER_PREFIX: &str = "rdpl-";
/// The prefix of sesman's temp dirs: `rdpl-sesman-<pid>-<random>`.
const DIR_PREFIX: &str = "rdpl-sesman-";

/// The user's `~/startwm.sh` (sesman's `UserWindowManager`): the desktop colour, then an xterm that is the
/// session's "window manager" (the session lasts as long as it runs).
const STARTWM: &str = "#!/bin/sh
# rdpl end-to-end test session: a desktop the test recognises in a screenshot.
xsetroot -solid '#2e8b57'
exec xterm -geometry 40x10+40+40 -title rdpl-e2e
";

/// A running `xrdp-sesman` with its own config and log, serving one fresh [`TestUser`]; see the module docs.
#[derive(Debug)]
pub(crate) struct Sesman {
    // Dropped in this order after `Drop::drop` ends the session: sesman (SIGKILL to its group if still
    // alive), the user (userdel -r), the temp dir, and last the lock.
    process: ServerProcess,
    user: TestUser,
    dir: tempfile::TempDir,
    port: u16,
    _lock: File,
}

impl Sesman {
    /// Programs needed (plus root and the xorgxrdp driver: [`Sesman::available`] checks all).
    pub(crate) const NEEDS: &[&str] = &[
        "xrdp-sesman",
        "xterm",
        "xsetroot",
        "useradd",
        "userdel",
        "chpasswd",
        "unshare",
    ];
    /// The xorgxrdp video driver Xorg loads for xrdp (`/etc/X11/xrdp/xorg.conf`).
    pub(crate) const XORGXRDP: &str = "/usr/lib/xorg/modules/drivers/xrdpdev_drv.so";
    /// The root window colour of the test user's session, `#2e8b57`.
    pub(crate) const DESKTOP: [u8; 3] = [0x2e, 0x8b, 0x57];

    /// The gate: root (useradd, PAM), [`Self::NEEDS`] and xorgxrdp. Skips locally, fails under `CI`.
    #[track_caller]
    pub(crate) fn available() -> bool {
        super::require_root()
            && super::require_all(Self::NEEDS)
            && super::require_file(Self::XORGXRDP, "xorgxrdp")
    }

    /// Takes the machine-wide sesman lock (waiting for another test's sesman), creates a fresh user with a
    /// random password and a `~/startwm.sh`, and starts sesman; returns once it listens.
    #[track_caller]
    pub(crate) fn start() -> Sesman {
        static SWEEP: Once = Once::new();
        let lock = take_lock();
        SWEEP.call_once(sweep_stale);
        let port = system_port();
        assert!(
            !listening(port),
            "something already listens on port {port}, where xrdp looks for sesman (the ListenPort of \
             {SYSTEM_SESMAN_INI}): a system xrdp-sesman? Stop it, the test runs its own"
        );
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("tempdir");
        let user = TestUser::create();
        user.install("startwm.sh", STARTWM, 0o755);
        let config = dir.path().join("sesman.ini");
        std::fs::write(&config, sesman_ini(port, &dir.path().join("sesman.log"))).expect("write sesman.ini");
        // sesman as the init of a PID namespace of its own: when it dies, the kernel kills everything in the
        // namespace (the session, Xorg, chansrv, the xterm), and `--kill-child` makes it die with unshare,
        // which dies with the test (process::harden). So even a killed test run leaves no session running.
        let mut cmd = Command::new(tool("unshare"));
        cmd.args(["--pid", "--fork", "--kill-child"])
            .arg(tool("xrdp-sesman"))
            .arg("--nodaemon")
            .arg("--config")
            .arg(&config);
        let mut process = ServerProcess::spawn("xrdp-sesman", cmd, &dir.path().join("sesman.out"));
        let start = Instant::now();
        while !listening(port) {
            if let Some(status) = process.exited() {
                panic!(
                    "xrdp-sesman exited with {status} before listening on {port}\n{}",
                    read_log(dir.path())
                );
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "xrdp-sesman not listening on {port} after {START_TIMEOUT:?}\n{}",
                read_log(dir.path())
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Sesman {
            process,
            user,
            dir,
            port,
            _lock: lock,
        }
    }

    /// The local user whose session this sesman starts.
    pub(crate) fn user(&self) -> &TestUser {
        &self.user
    }

    /// The port it listens on (on `[::1]`, where xrdp's `ip=127.0.0.1` leads).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The sesman process id (as this process sees it; in its namespace sesman is pid 1).
    pub(crate) fn pid(&self) -> Option<u32> {
        children_of(self.process.pid()).first().copied()
    }

    /// sesman's log file (`pam_authenticate failed`, `Session started successfully for user ...`) and what it
    /// printed.
    pub(crate) fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Polls [`Self::log`] until it contains `needle` or `timeout` passes; whether it does.
    pub(crate) fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if start.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sesman {
    fn drop(&mut self) {
        // sesman does not end sessions when it stops: end the user's processes first (the window manager's
        // exit makes sesman's session process stop Xorg and chansrv and remove the X lock and xrdp sockets).
        self.user.end_processes();
        if let Some(sesman) = self.pid() {
            wait_until(Duration::from_secs(5), || children_of(sesman).is_empty());
            if self.process.exited().is_none()
                && let Ok(pid) = libc::pid_t::try_from(sesman)
            {
                // SAFETY: kill(2) has no memory-safety preconditions; sesman is the child of our unshare
                // child, which is not reaped yet (exited() just said so) and waits for it: the pid is still
                // sesman's (or a zombie of it).
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
                // sesman exits, and unshare with it.
                wait_until(Duration::from_secs(3), || self.process.exited().is_some());
            }
        }
        // The fields drop next: unshare's group (sesman included) gets SIGKILL if it still runs, then the
        // user is deleted.
    }
}

fn read_log(dir: &Path) -> String {
    let file = std::fs::read_to_string(dir.join("sesman.log")).unwrap_or_default();
    let out = std::fs::read_to_string(dir.join("sesman.out")).unwrap_or_default();
    format!("--- sesman.log\n{file}--- sesman stdout/stderr\n{out}")
}

/// Waits for the machine-wide lock: only one sesman may listen on the fixed port.
fn take_lock() -> File {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_PATH)
        .unwrap_or_else(|e| panic!("open {LOCK_PATH}: {e}"));
    let start = Instant::now();
    while file.try_lock().is_err() {
        assert!(
            start.elapsed() < LOCK_WAIT,
            "another test has held {LOCK_PATH} (one xrdp-sesman per machine) for {LOCK_WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    file
}

/// The `ListenPort` of `/etc/xrdp/sesman.ini`: where xrdp connects, so where our sesman must listen.
fn system_port() -> u16 {
    let text = std::fs::read_to_string(SYSTEM_SESMAN_INI).unwrap_or_default();
    let mut globals = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            globals = line.eq_ignore_ascii_case("[Globals]");
        } else if globals
            && let Some((k, v)) = line.split_once('=')
            && k.trim().eq_ignore_ascii_case("ListenPort")
        {
            return v
                .trim()
                .parse()
                .ok()
                .filter(|p| (1..65000).contains(p))
                .unwrap_or(DEFAULT_PORT);
        }
    }
    DEFAULT_PORT
}

/// Whether a TCP socket listens on `port` (any address, v4 or v6), read from `/proc/net` (no connection:
/// sesman would log every probe as a failed client).
fn listening(port: u16) -> bool {
    let suffix = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && cols[1].ends_with(&suffix) && cols[3] == "0A"
            })
    })
}

/// A sesman.ini of our own: Debian's defaults (xrdp 0.9.21) with our log, no syslog, no FUSE mount in the
/// user's home (it would keep `userdel -r` from removing it) and root logins refused.
fn sesman_ini(port: u16, log: &Path) -> String {
    format!(
        "[Globals]
ListenAddress=127.0.0.1
ListenPort={port}
EnableUserWindowManager=true
UserWindowManager=startwm.sh
DefaultWindowManager=startwm.sh
ReconnectScript=reconnectwm.sh

[Security]
AllowRootLogin=false
MaxLoginRetry=4
TerminalServerUsers=tsusers
TerminalServerAdmins=tsadmins
AlwaysGroupCheck=false
RestrictOutboundClipboard=none
RestrictInboundClipboard=none

[Sessions]
X11DisplayOffset=10
MaxSessions=50
KillDisconnected=false
DisconnectedTimeLimit=0
IdleTimeLimit=0
Policy=Default

[Logging]
LogFile={log}
LogLevel=INFO
EnableSyslog=false

[Xorg]
param=/usr/lib/xorg/Xorg
param=-config
param=xrdp/xorg.conf
param=-noreset
param=-nolisten
param=tcp
param=-logfile
param=.xorgxrdp.%s.log

[Chansrv]
FuseMountName=thinclient_drives
FileUmask=077
EnableFuseMount=false

[ChansrvLogging]
LogLevel=INFO
EnableSyslog=false
",
        log = log.display(),
    )
}

// ---------------------------------------------------------------------------------------------------------
// The test user

/// A local user made for one test: `rdpl-<pid>-<6 hex>`, a random password, a home from /etc/skel. `Drop`
/// ends its processes, removes what it owns in the X and xrdp socket dirs, and runs `userdel -r`.
pub(crate) struct TestUser {
    name: String,
    password: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
}

impl std::fmt::Debug for TestUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestUser")
            .field("name", &self.name)
            .field("uid", &self.uid)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl TestUser {
    /// `useradd --create-home` and `chpasswd` (the password goes on its stdin, never on a command line).
    #[track_caller]
    fn create() -> TestUser {
        let name = format!("{USER_PREFIX}{}-{}", std::process::id(), hex(&random_bytes(3)));
        let out = Command::new(tool("useradd"))
            .args([
                "--create-home",
                "--shell",
                "/bin/sh",
                "--comment",
                "rdpl e2e test user",
            ])
            .arg(&name)
            .output()
            .expect("run useradd");
        assert!(
            out.status.success(),
            "useradd {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (uid, gid, home) = passwd_entry(&name).unwrap_or_else(|| panic!("{name} not in /etc/passwd"));
        // From here on, Drop removes the user whatever fails next.
        let user = TestUser {
            name,
            password: random_password(),
            uid,
            gid,
            home,
        };
        let mut chpasswd = Command::new(tool("chpasswd"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn chpasswd");
        chpasswd
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{}:{}\n", user.name, user.password).as_bytes())
            .expect("write to chpasswd");
        let out = chpasswd.wait_with_output().expect("wait for chpasswd");
        assert!(
            out.status.success(),
            "chpasswd for {}: {}",
            user.name,
            String::from_utf8_lossy(&out.stderr)
        );
        user
    }

    /// The login name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The password (random, 20 letters and digits). Never print it.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// The numeric user id.
    pub(crate) fn uid(&self) -> u32 {
        self.uid
    }

    /// The home directory.
    pub(crate) fn home(&self) -> &Path {
        &self.home
    }

    /// Writes `rel` in the home, owned by the user, with `mode`.
    pub(crate) fn install(&self, rel: &str, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.home.join(rel);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        std::os::unix::fs::chown(&path, Some(self.uid), Some(self.gid)).expect("chown");
    }

    /// The processes running as the user (real or effective uid): `(pid, command name)`.
    pub(crate) fn processes(&self) -> Vec<(u32, String)> {
        processes_of(self.uid)
    }

    /// Ends every process of the user: SIGTERM, up to 3 s to go, then SIGKILL, up to 3 s more.
    pub(crate) fn end_processes(&self) {
        end_processes_of(self.uid);
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let left = remove_user(&self.name, self.uid);
        if let Err(e) = left
            && !std::thread::panicking()
        {
            panic!("{e}");
        }
    }
}

/// Ends the uid's processes, removes its X/xrdp leftovers and runs `userdel -r` (retried: it refuses while a
/// process of the user still exits).
fn remove_user(name: &str, uid: u32) -> Result<(), String> {
    end_processes_of(uid);
    for dir in ["/tmp", "/tmp/.X11-unix", "/run/xrdp/sockdir"] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.flatten() {
            // Only plain files and sockets (X lock files, X and xrdp sockets); lstat, so no link is followed.
            if e.path()
                .symlink_metadata()
                .is_ok_and(|m| m.uid() == uid && !m.is_dir())
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let mut last = String::new();
    for _ in 0..10 {
        match Command::new(tool("userdel")).args(["--remove", name]).output() {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
            Err(e) => last = e.to_string(),
        }
        if passwd_entry(name).is_none() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("userdel --remove {name} failed: {last}"))
}

/// Deletes `rdpl-<pid>-<hex>` users and `rdpl-sesman-<pid>-*` temp dirs whose test process is gone (left by a
/// run that was killed).
fn sweep_stale() {
    let gone = |pid: &str| {
        pid.parse::<u32>()
            .is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    };
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some((pid, _)) = name.strip_prefix(DIR_PREFIX).and_then(|r| r.split_once('-'))
                && gone(pid)
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for line in text.lines() {
        let mut f = line.split(':');
        let (Some(name), Some(uid)) = (f.next(), f.nth(1).and_then(|u| u.parse::<u32>().ok())) else {
            continue;
        };
        let stale = name
            .strip_prefix(USER_PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(pid, tag)| {
                tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_hexdigit()) && gone(pid)
            });
        if stale {
            let _ = remove_user(name, uid);
        }
    }
}

/// `(uid, gid, home)` of `name` in /etc/passwd.
fn passwd_entry(name: &str) -> Option<(u32, u32, PathBuf)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[0] == name)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?, PathBuf::from(f[5]))))?
    })
}

/// SIGTERM to every process of `uid`, up to 3 s for them to go, then SIGKILL, up to 3 s more.
fn end_processes_of(uid: u32) {
    for signal in [libc::SIGTERM, libc::SIGKILL] {
        let procs = processes_of(uid);
        if procs.is_empty() {
            return;
        }
        for (pid, _) in procs {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill(2) has no memory-safety preconditions. The pid was just read from /proc as
                // running with the test user's uid, which nothing else uses.
                unsafe {
                    libc::kill(pid, signal);
                }
            }
        }
        wait_until(Duration::from_secs(3), || processes_of(uid).is_empty());
    }
}

/// `(pid, comm)` of every live process whose real or effective uid is `uid` (zombies have ended: their
/// parent, or init for orphans, reaps them).
pub(crate) fn processes_of(uid: u32) -> Vec<(u32, String)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let field = |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).map(str::trim);
            let ids: Vec<u32> = field("Uid:")?
                .split_whitespace()
                .take(2)
                .filter_map(|v| v.parse().ok())
                .collect();
            // A zombie has exited already: nothing to end, and its parent reaps it.
            let zombie = field("State:").is_some_and(|s| s.starts_with('Z'));
            (ids.contains(&uid) && !zombie).then(|| (pid, field("Name:").unwrap_or_default().to_owned()))
        })
        .collect()
}

/// The live processes whose parent is `parent`. (Zombies are left out: as the init of its namespace, sesman
/// inherits the orphaned shell of the xterm and never reaps it; the namespace's end does.)
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the
                    // last ')'.
                    let mut rest = s[s.rfind(')')? + 1..].split_whitespace();
                    let zombie = rest.next()? == "Z";
                    Some((zombie, rest.next()?.parse::<u32>().ok()?))
                })
                .is_some_and(|(zombie, ppid)| ppid == parent && !zombie)
        })
        .collect()
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    b
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 20 letters and digits (no character a shell, chpasswd's `name:password` line or PAM treats specially).
fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    random_bytes(20)
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

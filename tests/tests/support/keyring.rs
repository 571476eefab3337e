//! Keyrings for credential tests: a private D-Bus session bus ([`SessionBus`]), an unlocked GNOME Keyring
//! Secret Service on one ([`SecretService`]), and helpers that look into the Linux kernel keyring the way
//! `linux-keyutils-keyring-store` writes it ([`KernelKeyring`]).
//!
//! The test process never joins the bus or changes its own keyrings: the `rdpl` child gets
//! [`SecretService::env`] (just `DBUS_SESSION_BUS_ADDRESS`), and every look at the kernel keyring runs
//! `keyctl` in a child. Recipes: `shared/test-servers/RECIPES.md`, section 5.
//!
//! What rdpl's stores write (keyring-core `Entry::new("rdpl", "DOMAIN\user@host")`):
//! * Secret Service (`zbus-secret-service-keyring-store` 1.0.1): an item in the `default` collection (the
//!   `login` collection here) with exactly the attributes `service` = `rdpl` and `username` =
//!   `DOMAIN\user@host` (`target` only with a `target` modifier, which rdpl does not pass), label
//!   `keyring:DOMAIN\user@host@rdpl`, content type `application/octet-stream`.
//! * Kernel keyring (`linux-keyutils-keyring-store` 1.0.0): a key of type `user` with the description
//!   `keyring:DOMAIN\user@host@rdpl` ([`KernelKeyring::description`]), added to the writer's session keyring
//!   and linked into the uid's persistent keyring (`keyctl get_persistent`, 3 days idle expiry), which
//!   outlives the writer. See [`KernelKeyring`] for why a child needs its own session keyring
//!   ([`KernelKeyring::new_session`]).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::process::{self, START_TIMEOUT, ServerProcess};
use super::tool;

/// The keyring service name of rdpl's entries (`launcher::credentials::SERVICE`).
pub(crate) const SERVICE: &str = "rdpl";

/// How long one `secret-tool`, `dbus-send` or `keyctl` run may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The user field of rdpl's keyring entries: `DOMAIN\user@host` or `user@host` (host in lower case), as
/// `rdpl_profiles::creds::CredKey::keyring_user` builds it.
pub(crate) fn rdpl_user(domain: Option<&str>, user: &str, host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match domain.filter(|d| !d.is_empty()) {
        Some(d) => format!("{d}\\{user}@{host}"),
        None => format!("{user}@{host}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------------------
// D-Bus session bus

/// A private D-Bus session bus: `dbus-daemon --nofork` with its own config, listening on
/// `<tmp>/run/bus`, killed on drop.
///
/// The config has no service directories, so nothing is ever D-Bus-activated on it: a name nobody owns
/// (say `org.freedesktop.secrets` before the keyring daemon claims it, or on a bare bus) fails at once with
/// `ServiceUnknown` instead of starting the system's `gnome-keyring-daemon` (locked, with a prompter) behind
/// the test's back. A bare bus is what a desktop without a Secret Service looks like.
#[derive(Debug)]
pub(crate) struct SessionBus {
    process: ServerProcess,
    address: String,
    dir: tempfile::TempDir,
}

impl SessionBus {
    /// Programs needed (Debian: `dbus-daemon`, and `dbus-bin` for `dbus-send`).
    pub(crate) const NEEDS: &[&str] = &["dbus-daemon", "dbus-send"];

    /// Starts the bus and waits until its socket accepts connections (about 15 ms here).
    #[track_caller]
    pub(crate) fn start() -> SessionBus {
        let dir = tempfile::Builder::new()
            .prefix("rdpl-keyring-")
            .tempdir()
            .expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("mkdir run");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod 700 run");
        let socket = run.join("bus");
        let socket_str = socket.to_str().expect("utf-8 temp path");
        assert!(
            !socket_str.contains(['&', '<', '>', '"', '\'', ',', ';', '=']),
            "temp path unusable in a D-Bus address or XML: {socket_str}"
        );
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(socket_str)).expect("write bus.conf");
        let mut cmd = Command::new(tool("dbus-daemon"));
        cmd.env_clear()
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile"]);
        let mut process = ServerProcess::spawn("dbus-daemon", cmd, &dir.path().join("dbus.log"));
        let start = Instant::now();
        loop {
            if let Some(status) = process.exited() {
                panic!("dbus-daemon exited with {status}\n--- log\n{}", process.log());
            }
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                break;
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "dbus-daemon: no socket {socket_str} after {START_TIMEOUT:?}\n--- log\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        SessionBus {
            process,
            address: format!("unix:path={socket_str}"),
            dir,
        }
    }

    /// `unix:path=<tmp>/run/bus`, for `DBUS_SESSION_BUS_ADDRESS`.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// What a client of this bus needs: only `DBUS_SESSION_BUS_ADDRESS` (authentication is EXTERNAL, by
    /// uid over the socket, so no `HOME` for cookies).
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS".to_owned(), self.address.clone())]
    }

    /// The dbus-daemon process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The temp dir (`bus.conf`, `dbus.log`, `run/bus`).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The daemon's output (a harmless "Failed to set fd limit" warning when not root-with-limits).
    pub(crate) fn log(&self) -> String {
        self.process.log()
    }

    /// Whether some connection owns `name` on this bus (`org.freedesktop.DBus.NameHasOwner`).
    pub(crate) fn has_owner(&self, name: &str) -> bool {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ]);
        assert!(out.status.success(), "NameHasOwner: {}", describe(&out));
        text(&out.stdout).contains("boolean true")
    }

    /// Runs `dbus-send --session --print-reply=literal ARGS` against this bus (output not checked).
    pub(crate) fn dbus_send(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(tool("dbus-send"));
        cmd.env_clear()
            .envs(self.env())
            .args(["--session", "--print-reply=literal"])
            .args(args);
        process::run_with_timeout(cmd, CLIENT_TIMEOUT)
    }
}

/// A session bus config listening on `socket` only, allowing everything, activating nothing.
fn bus_config(socket: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#
    )
}

// ---------------------------------------------------------------------------------------------------------
// Secret Service

/// An unlocked GNOME Keyring Secret Service on a private [`SessionBus`]; both are killed on drop.
///
/// `gnome-keyring-daemon --unlock --components=secrets --foreground` runs with `HOME`, `XDG_DATA_HOME`,
/// `XDG_CONFIG_HOME` and `XDG_RUNTIME_DIR` (0700) in the temp dir and an empty password as a line on its
/// standard input: it creates the `login` collection (the `default` alias) unlocked, so no prompt ever
/// appears. (With EOF and no line on stdin it tries to prompt and the `login` collection never appears.)
/// `start` returns when `/org/freedesktop/secrets/aliases/default` answers `Locked = false` (about 70 ms
/// after the bus here).
///
/// A child (rdpl, secret-tool) only needs [`env`](Self::env): `DBUS_SESSION_BUS_ADDRESS`. The daemon's
/// files live in the temp dir, never in the real `HOME`.
#[derive(Debug)]
pub(crate) struct SecretService {
    // Field order is drop order: the keyring daemon goes before its bus, and the bus before the temp dir.
    keyring: ServerProcess,
    bus: SessionBus,
    started_in: Duration,
}

impl SecretService {
    /// Programs needed (Debian: `gnome-keyring`, `libsecret-tools`, `dbus-daemon`, `dbus-bin`).
    pub(crate) const NEEDS: &[&str] = &["dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool"];

    /// Starts a bus and the keyring daemon on it; returns once the default collection is there and unlocked.
    #[track_caller]
    pub(crate) fn start() -> SecretService {
        let started = Instant::now();
        let bus = SessionBus::start();
        let dir = bus.dir().to_owned();
        let home = dir.join("home");
        let data = home.join(".local/share");
        let config = home.join(".config");
        for d in [&data, &config] {
            std::fs::create_dir_all(d).expect("mkdir keyring home");
        }
        // The password (empty) as one line: gnome-keyring-daemon needs the newline, not just EOF.
        let unlock = dir.join("unlock");
        std::fs::write(&unlock, "\n").expect("write unlock");
        // ServerProcess gives its child /dev/null as stdin, so a shell redirects it and then becomes the daemon.
        let mut cmd = Command::new(tool("sh"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .envs(bus.env())
            .args([
                "-c",
                r#"exec "$0" --unlock --components=secrets --foreground < "$1""#,
            ])
            .arg(tool("gnome-keyring-daemon"))
            .arg(&unlock);
        let mut keyring = ServerProcess::spawn("gnome-keyring-daemon", cmd, &dir.join("keyring.log"));
        let mut last = String::new();
        loop {
            if let Some(status) = keyring.exited() {
                panic!(
                    "gnome-keyring-daemon exited with {status}\n--- log\n{}\n--- last check\n{last}",
                    keyring.log()
                );
            }
            let out = bus.dbus_send(&[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets/aliases/default",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.Secret.Collection",
                "string:Locked",
            ]);
            if out.status.success() && text(&out.stdout).contains("boolean false") {
                break;
            }
            last = describe(&out);
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the Secret Service is not up and unlocked after {START_TIMEOUT:?}\n--- last check\n{last}\n\
                 --- keyring log\n{}",
                keyring.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        SecretService {
            keyring,
            bus,
            started_in: started.elapsed(),
        }
    }

    /// The environment a child needs to use this Secret Service: `DBUS_SESSION_BUS_ADDRESS` only.
    ///
    /// (Without that variable zbus tries `$XDG_RUNTIME_DIR/bus`, else `/run/user/<uid>/bus`: a test that
    /// wants "no Secret Service" should point it at a [`SessionBus`] or a path that does not exist rather
    /// than trust the machine to have none.)
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        self.bus.env()
    }

    /// The bus the service is on.
    pub(crate) fn bus(&self) -> &SessionBus {
        &self.bus
    }

    /// How long [`start`](Self::start) took (bus and keyring, until the default collection answered).
    pub(crate) fn started_in(&self) -> Duration {
        self.started_in
    }

    /// (dbus-daemon, gnome-keyring-daemon) process ids.
    pub(crate) fn pids(&self) -> (u32, u32) {
        (self.bus.pid(), self.keyring.pid())
    }

    /// The keyring daemon's output.
    pub(crate) fn log(&self) -> String {
        self.keyring.log()
    }

    /// The secret of the one item matching `attrs` (`secret-tool lookup`), `None` when there is none.
    #[track_caller]
    pub(crate) fn lookup(&self, attrs: &[(&str, &str)]) -> Option<String> {
        let out = self.secret_tool("lookup", &[], attrs, None);
        if out.status.success() {
            return Some(text(&out.stdout));
        }
        // Not found is exit status 1 without a message; anything else is the service failing.
        assert!(
            out.status.code() == Some(1) && out.stderr.is_empty(),
            "secret-tool lookup {attrs:?}: {}",
            describe(&out)
        );
        None
    }

    /// rdpl's secret for `user` (see [`rdpl_user`]): `lookup(service=rdpl, username=user)`.
    pub(crate) fn rdpl_secret(&self, user: &str) -> Option<String> {
        self.lookup(&[("service", SERVICE), ("username", user)])
    }

    /// Every item of rdpl's (`service` = `rdpl`), as `secret-tool search --all --unlock service rdpl`
    /// prints them (empty when there is none). Per item:
    /// ```text
    /// [/1]
    /// label = keyring:CORP\alice@web01.corp.test@rdpl
    /// secret = hunter2
    /// created = ...
    /// modified = ...
    /// schema = org.freedesktop.Secret.Generic
    /// attribute.service = rdpl
    /// attribute.username = CORP\alice@web01.corp.test
    /// ```
    #[track_caller]
    pub(crate) fn search_all(&self) -> String {
        self.search(&[("service", SERVICE)])
    }

    /// [`search_all`](Self::search_all) for any attributes (at least one).
    #[track_caller]
    pub(crate) fn search(&self, attrs: &[(&str, &str)]) -> String {
        assert!(!attrs.is_empty(), "secret-tool search needs an attribute");
        // secret-tool prints the attributes on stderr and the rest on stdout: one pipe keeps them in order.
        let out = self.secret_tool("search", &["--all", "--unlock"], attrs, None);
        assert!(
            out.status.success(),
            "secret-tool search {attrs:?}: {}",
            describe(&out)
        );
        text(&out.stdout)
    }

    /// The `username` attribute of every rdpl item, in [`search_all`](Self::search_all) order.
    pub(crate) fn rdpl_users(&self) -> Vec<String> {
        self.search_all()
            .lines()
            .filter_map(|l| l.strip_prefix("attribute.username = "))
            .map(str::to_owned)
            .collect()
    }

    /// Stores `secret` under `attrs` (`secret-tool store`), replacing an item with the same attributes.
    #[track_caller]
    pub(crate) fn store(&self, label: &str, attrs: &[(&str, &str)], secret: &str) {
        let label = format!("--label={label}");
        let out = self.secret_tool("store", &[&label], attrs, Some(secret));
        assert!(
            out.status.success(),
            "secret-tool store {attrs:?}: {}",
            describe(&out)
        );
    }

    /// Stores an item exactly as rdpl's store would create it for `user` (attributes and label).
    #[track_caller]
    pub(crate) fn store_rdpl(&self, user: &str, secret: &str) {
        let label = format!("keyring:{user}@{SERVICE}");
        self.store(&label, &[("service", SERVICE), ("username", user)], secret);
    }

    /// Deletes every item matching `attrs` (`secret-tool clear`; nothing to delete is fine).
    #[track_caller]
    pub(crate) fn clear(&self, attrs: &[(&str, &str)]) {
        let out = self.secret_tool("clear", &[], attrs, None);
        assert!(
            out.status.success(),
            "secret-tool clear {attrs:?}: {}",
            describe(&out)
        );
    }

    /// Runs `secret-tool VERB FLAGS ATTRS` with only [`env`](Self::env) and `input` (if any) on its standard
    /// input, through `sh` (for the input, and so that [`process::run_with_timeout`] applies). `search` gets
    /// its stderr merged into stdout; for the others a failure's output is moved to stderr.
    fn secret_tool(&self, verb: &str, flags: &[&str], attrs: &[(&str, &str)], input: Option<&str>) -> Output {
        let merge = verb == "search";
        let script = match (input, merge) {
            (Some(_), _) => r#"printf %s "$RDPL_HARNESS_SECRET" | "$0" "$@""#,
            (None, true) => r#""$0" "$@" 2>&1"#,
            (None, false) => r#"exec "$0" "$@""#,
        };
        let mut cmd = Command::new(tool("sh"));
        cmd.env_clear()
            .envs(self.env())
            .args(["-c", script])
            .arg(tool("secret-tool"))
            .arg(verb)
            .args(flags)
            .args(attrs.iter().flat_map(|(k, v)| [k, v]));
        if let Some(secret) = input {
            cmd.env("RDPL_HARNESS_SECRET", secret);
        }
        let mut out = process::run_with_timeout(cmd, CLIENT_TIMEOUT);
        if merge && !out.status.success() {
            out.stderr = std::mem::take(&mut out.stdout);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------------------
// Kernel keyring

/// Looks into the kernel keyring the way `linux-keyutils-keyring-store` 1.0.0 uses it, through `keyctl`
/// children (the test process's own keyrings are never touched).
///
/// How the store writes: it takes the session keyring *without* creating one (`@s`, create = false), then
/// `KEYCTL_GET_PERSISTENT` linking the uid's persistent keyring into the session keyring (which *creates*
/// one), then `add_key("user", "keyring:<user>@<service>", secret, <session from the first step>)` and
/// links the key into the persistent keyring. Reads search the session keyring (recursively, so through
/// the persistent keyring), relink there and in the persistent keyring, and read; delete invalidates.
///
/// **A process without a session keyring cannot use the store**: its `@s` is then the shared user session
/// keyring (`_uid_ses.<uid>`), the persistent-keyring call installs a fresh anonymous session keyring, so
/// the new key sits in `_uid_ses` but is not *possessed*, and linking it into the persistent keyring fails:
/// `set_password` returns `NoStorageAccess(AccessDenied)` and leaves the key behind in `_uid_ses`;
/// `get_password` returns `NoEntry` even for a key that exists. This container's processes have no session
/// keyring (no pam_keyinit, systemd or runc to give them one), so rdpl children must be spawned with
/// [`new_session`](Self::new_session), as a login session would have one. With it the key is in the child's
/// session keyring (gone when the child exits) and in the persistent keyring (stays): a later rdpl run
/// with its own new session finds it there.
///
/// The persistent keyring and `_uid_ses` are shared by every process of the uid (other tests, other
/// people's runs on the same machine): use descriptions unique to the test (e.g. a host name with the
/// process id) and [`purge`](Self::purge) them, even on failure (see [`Purge`]).
#[derive(Debug)]
pub(crate) struct KernelKeyring;

/// Where [`KernelKeyring`]'s lookups search, by way of a `keyctl session -` (a throwaway session keyring)
/// into which the keyrings to search are linked: that makes their keys *possessed*, which `search`,
/// `pipe` and `invalidate` need (rdpl's keys give non-possessors only `view`).
/// First the session keyring the test process would hand to a child (inherited, or `_uid_ses`), then the
/// persistent keyring and the user session keyring.
const KEYCTL_SCRIPT: &str = r#"
mode=$1 desc=$2
act() {
    id=$(keyctl search @s user "$desc" 2>/dev/null) || return 1
    case $mode in
        find) echo "$id" ;;
        read) keyctl pipe "$id" ;;
        purge) keyctl invalidate "$id" ;;
    esac
}
if [ "$3" = outer ]; then
    act && exit 0
    exit 1
fi
keyctl get_persistent @s >/dev/null 2>&1
keyctl link @us @s >/dev/null 2>&1
act
"#;

impl KernelKeyring {
    /// Programs needed (Debian: `keyutils`).
    pub(crate) const NEEDS: &[&str] = &["keyctl", "sh"];

    /// The key description the store uses by default: `keyring:<user>@<service>`.
    pub(crate) fn description(service: &str, user: &str) -> String {
        format!("keyring:{user}@{service}")
    }

    /// The description of rdpl's key for `user` (see [`rdpl_user`]): `keyring:DOMAIN\user@host@rdpl`.
    pub(crate) fn rdpl_description(user: &str) -> String {
        Self::description(SERVICE, user)
    }

    /// The id (decimal) of a `user` key described `desc`, in the session keyring a child of the test would
    /// inherit, the persistent keyring or the user session keyring; `None` when there is none.
    #[track_caller]
    pub(crate) fn find(desc: &str) -> Option<String> {
        Self::run("find", desc).map(|out| text(&out).trim().to_owned())
    }

    /// The payload of the key described `desc` (as [`find`](Self::find) finds it).
    #[track_caller]
    pub(crate) fn read(desc: &str) -> Option<String> {
        Self::run("read", desc).map(|out| text(&out))
    }

    /// Invalidates every key described `desc` that [`find`](Self::find) finds (invalidated keys are gone
    /// from searches at once and garbage-collected later), as the store's delete does.
    #[track_caller]
    pub(crate) fn purge(desc: &str) {
        for _ in 0..20 {
            if Self::run("purge", desc).is_none() {
                return;
            }
        }
        panic!("key {desc:?} still found after 20 invalidations");
    }

    /// Adds a key as the store does (in a throwaway session keyring, linked into the persistent keyring)
    /// and returns its id; the session keyring is gone on return, so only the persistent keyring holds it.
    #[track_caller]
    pub(crate) fn add(desc: &str, secret: &str) -> String {
        let mut cmd = Command::new(tool("keyctl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RDPL_HARNESS_SECRET", secret)
            .args(["session", "-", "sh", "-c"])
            .arg(
                r#"id=$(printf %s "$RDPL_HARNESS_SECRET" | keyctl padd user "$1" @s) \
                   && keyctl link "$id" "$(keyctl get_persistent @s)" && echo "$id""#,
            )
            .args(["sh", desc]);
        let out = process::run_with_timeout(cmd, CLIENT_TIMEOUT);
        assert!(out.status.success(), "add key {desc:?}: {}", describe(&out));
        text(&out.stdout).trim().to_owned()
    }

    /// Makes `cmd` start in a new anonymous session keyring (`KEYCTL_JOIN_SESSION_KEYRING` with no name), as
    /// `keyctl session -` or a login would: what rdpl needs to use the kernel keyring (see above).
    pub(crate) fn new_session(cmd: &mut Command) -> &mut Command {
        // SAFETY: the closure runs between fork and exec and only makes one keyctl(2) system call, which is
        // async-signal-safe, allocates nothing and touches no lock.
        unsafe {
            cmd.pre_exec(|| {
                let id = libc::syscall(
                    libc::SYS_keyctl,
                    libc::c_ulong::from(libc::KEYCTL_JOIN_SESSION_KEYRING),
                    std::ptr::null::<libc::c_char>(),
                );
                if id < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    /// A guard that [`purge`](Self::purge)s `desc` on drop (also when the test panics).
    pub(crate) fn purge_on_drop(desc: &str) -> Purge {
        Purge(desc.to_owned())
    }

    /// Runs [`KEYCTL_SCRIPT`] in the inherited session keyring, then in a throwaway one; the output of the
    /// first that found the key.
    fn run(mode: &str, desc: &str) -> Option<Vec<u8>> {
        let keyctl = |wrap: bool| {
            let mut cmd = Command::new(tool(if wrap { "keyctl" } else { "sh" }));
            if wrap {
                cmd.args(["session", "-", "sh"]);
            }
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .args(["-c", KEYCTL_SCRIPT, "sh", mode, desc])
                .arg(if wrap { "inner" } else { "outer" });
            process::run_with_timeout(cmd, CLIENT_TIMEOUT)
        };
        [false, true].into_iter().find_map(|wrap| {
            let out = keyctl(wrap);
            out.status.success().then_some(out.stdout)
        })
    }
}

/// Purges a kernel key on drop; see [`KernelKeyring::purge_on_drop`].
#[derive(Debug)]
pub(crate) struct Purge(String);

impl Drop for Purge {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Never panic while panicking: best effort.
            let _ = std::panic::catch_unwind(|| KernelKeyring::purge(&self.0));
        } else {
            KernelKeyring::purge(&self.0);
        }
    }
}

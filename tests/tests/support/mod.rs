//! Real test servers for end-to-end tests: xrdp, the FreeRDP shadow server (real NLA), dnsmasq, a shared Xvfb,
//! network namespaces with veth pairs, and rcgen certificates for them to serve.
//!
//! Every server is a guard: it starts in its own temp dir, is ready (listening) when the constructor returns,
//! and is killed and reaped on `Drop`, so tests can run in parallel and panics clean up after themselves.
//! Nothing here contacts any address but loopback and the namespaces a test creates itself.
//!
//! * [`require`] / [`require_all`] / [`require_root`]: the one gate for missing programs. Without them a test
//!   skips (returns early) on a developer machine and **fails** when `CI` is set.
//! * [`certs`]: self-signed, CA-signed, expired, not-yet-valid and wrong-name certificates, as PEM files and DER.
//! * [`servers`]: [`Xrdp`], [`Shadow`], [`Dnsmasq`], the run-wide [`Xvfb`] display and [`PrivateXvfb`]s.
//! * [`sesman`]: [`Sesman`], xrdp-sesman with a fresh local [`TestUser`], for full xrdp logins into an Xorg
//!   session (one at a time per machine: xrdp finds sesman on a fixed port).
//! * [`netns`]: [`Netns`], a namespace with a veth pair in a private `10.200.X.0/24`, with addresses that
//!   refuse, never answer ARP (unreachable) or swallow SYNs (filtered), and a place to run servers on port 3389.
//! * [`rdp`] and [`dns`]: tiny hand-made clients (X.224 negotiation, TLS certificate fetch, DNS query) that the
//!   self-tests use to prove each server really answers.
//! * [`free_port`]: a port nobody listens on right now.
//!
//! Typical use:
//! ```ignore
//! if !support::require_all(Xrdp::NEEDS) { return; }
//! let cert = certs::self_signed(&["rdp.corp.test", "127.0.0.1"]);
//! let xrdp = Xrdp::builder().security(SecurityLayer::Tls).cert(&cert).start();
//! // ... run rdpl against xrdp.addr() ...
//! ```

// The harness is a library for the end-to-end tests: not every helper is used by a test yet.
#![allow(dead_code)]

pub(crate) mod certs;
pub(crate) mod dns;
pub(crate) mod keyring;
pub(crate) mod netns;
pub(crate) mod process;
pub(crate) mod rdp;
pub(crate) mod servers;
pub(crate) mod sesman;

use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::path::PathBuf;

pub(crate) use keyring::{KernelKeyring, SecretService, SessionBus};
pub(crate) use netns::Netns;
pub(crate) use servers::{Dnsmasq, PrivateXvfb, SecurityLayer, Shadow, ShadowSecurity, Xrdp, Xvfb};
pub(crate) use sesman::Sesman;

/// The Debian package that provides each program the harness runs (`scripts/test` installs them all).
const PACKAGES: &[(&str, &str)] = &[
    ("xrdp", "xrdp"),
    ("freerdp-shadow-cli", "freerdp2-shadow-x11"),
    ("winpr-hash", "winpr-utils"),
    ("xfreerdp", "freerdp2-x11"),
    ("xfreerdp3", "freerdp3-x11 (Debian 12: from bookworm-backports)"),
    (
        "freerdp-shadow-cli3",
        "freerdp3-shadow-x11 (Debian 12: from bookworm-backports)",
    ),
    ("Xvfb", "xvfb"),
    ("dnsmasq", "dnsmasq-base"),
    ("ip", "iproute2"),
    ("openssl", "openssl"),
    ("dbus-daemon", "dbus-daemon"),
    ("dbus-send", "dbus-bin"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("secret-tool", "libsecret-tools"),
    ("keyctl", "keyutils"),
    ("xdg-mime", "xdg-utils"),
    ("desktop-file-validate", "desktop-file-utils"),
    ("update-mime-database", "shared-mime-info"),
    ("xdotool", "xdotool"),
    ("xwd", "x11-apps"),
    ("xev", "x11-utils"),
    ("xsetroot", "x11-xserver-utils"),
    ("xrdp-sesman", "xrdp"),
    ("xterm", "xterm"),
    ("useradd", "passwd"),
    ("userdel", "passwd"),
    ("chpasswd", "passwd"),
    ("unshare", "util-linux"),
    ("gcore", "gdb"),
    ("pass", "pass"),
    ("gpg", "gnupg"),
    ("gpgconf", "gnupg"),
    ("prometheus", "prometheus"),
    ("promtool", "prometheus"),
];

/// Directories searched after `$PATH`: xrdp, dnsmasq and ip live in sbin, which a non-login `PATH` may lack.
const SBIN_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The absolute path of `tool`, searched in `$PATH` and then the sbin directories; `None` when missing.
pub(crate) fn tool_path(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Every FreeRDP client program name rdpl looks for.
pub(crate) const FREERDP_CLIENTS: &[&str] = &[
    "xfreerdp3",
    "sdl-freerdp3",
    "wlfreerdp3",
    "xfreerdp",
    "sdl-freerdp",
    "wlfreerdp",
];

/// A `PATH` like this process's, in which none of `hidden` can be found: each directory that has one of them
/// is replaced by a directory of symlinks to everything else in it (made once per name set and kept for the
/// run). `first`, if any, comes before everything.
pub(crate) fn path_without(hidden: &[&str], first: Option<&std::path::Path>) -> std::ffi::OsString {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// (PATH directory, hidden names) -> its symlink farm.
    type Farms = HashMap<(PathBuf, Vec<String>), PathBuf>;
    static FARMS: OnceLock<Mutex<Farms>> = OnceLock::new();
    let farms = FARMS.get_or_init(|| Mutex::new(HashMap::new()));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = first.map(PathBuf::from).into_iter().collect();
    for dir in std::env::split_paths(&path) {
        if !hidden.iter().any(|h| dir.join(h).exists()) {
            dirs.push(dir);
            continue;
        }
        let key = (
            dir.clone(),
            hidden.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>(),
        );
        let mut farms = farms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let farm = farms.entry(key).or_insert_with(|| {
            let farm = tempfile::Builder::new()
                .prefix("rdpl-path-")
                .tempdir()
                .expect("temp dir")
                .keep();
            for e in std::fs::read_dir(&dir).expect("read PATH dir").flatten() {
                let name = e.file_name();
                if hidden.iter().any(|h| name == std::ffi::OsStr::new(h)) {
                    continue;
                }
                let _ = std::os::unix::fs::symlink(e.path(), farm.join(&name));
            }
            farm
        });
        dirs.push(farm.clone());
    }
    std::env::join_paths(dirs).expect("PATH")
}

/// Like [`tool_path`], for a tool the caller already [`require`]d: panics when it is missing.
#[track_caller]
pub(crate) fn tool(tool: &str) -> PathBuf {
    tool_path(tool).unwrap_or_else(|| panic!("{}", missing_message(tool)))
}

/// Whether this run is CI: `CI` is set to anything but empty, `0` or `false`.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// The gate every test that needs an outside program goes through.
///
/// Returns `true` when `tool` is installed. When it is missing: in CI (see [`in_ci`]) this **panics** with
/// the package to install, because a CI run that silently skips proves nothing; elsewhere it prints a note
/// to stderr and returns `false`, and the test returns early:
/// ```ignore
/// if !support::require("xrdp") { return; }
/// ```
#[track_caller]
pub(crate) fn require(tool: &str) -> bool {
    require_in(tool, in_ci())
}

/// [`require`] for several tools at once (each server type lists its own in a `NEEDS` constant).
#[track_caller]
pub(crate) fn require_all(tools: &[&str]) -> bool {
    tools.iter().all(|t| require(t))
}

/// [`require`] with the CI decision passed in (so the gate itself can be tested without touching the env).
#[track_caller]
pub(crate) fn require_in(tool: &str, ci: bool) -> bool {
    if tool_path(tool).is_some() {
        return true;
    }
    gate(&missing_message(tool), ci)
}

/// [`require`] for a file rather than a program (a driver or module), with the package that provides it.
#[track_caller]
pub(crate) fn require_file(path: &str, package: &str) -> bool {
    std::path::Path::new(path).exists()
        || gate(
            &format!(
                "`{path}` is missing: `apt-get install --no-install-recommends {package}` \
                 (scripts/test installs it)"
            ),
            in_ci(),
        )
}

/// Network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN): same skip/fail rule as [`require`].
#[track_caller]
pub(crate) fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    root || gate(
        "this test needs root (network namespaces); run it as root, as CI does",
        in_ci(),
    )
}

#[track_caller]
#[allow(
    clippy::print_stderr,
    reason = "a skipped test says why, where cargo test shows it"
)]
fn gate(message: &str, ci: bool) -> bool {
    if ci {
        panic!("{message} (CI is set, so a missing requirement fails the test instead of skipping it)");
    }
    eprintln!("skipped at {}: {message}", std::panic::Location::caller());
    false
}

fn missing_message(tool: &str) -> String {
    match PACKAGES.iter().find(|(t, _)| *t == tool) {
        Some((_, pkg)) => format!(
            "`{tool}` is not installed: `apt-get install --no-install-recommends {pkg}` (scripts/test installs it)"
        ),
        None => format!("`{tool}` is not installed (not found in PATH or sbin)"),
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
///
/// It binds port 0, reads the port the kernel chose and closes the socket. This is racy by nature: another
/// process can take the port before the server binds it. The kernel hands out ephemeral ports in a rotating
/// way, so this is rare; the servers here retry with a new port when their start fails.
pub(crate) fn free_port() -> u16 {
    free_port_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// [`free_port`] on another local address (any `127.x.y.z` works on Linux without configuration).
pub(crate) fn free_port_on(ip: IpAddr) -> u16 {
    let listener = TcpListener::bind((ip, 0)).expect("bind port 0 on a local address");
    listener.local_addr().expect("local addr").port()
}

/// A port free for both TCP and UDP on `ip` right now (for DNS servers); same race as [`free_port`].
pub(crate) fn free_tcp_udp_port(ip: IpAddr) -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind((ip, 0)).expect("bind UDP port 0");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both TCP and UDP on {ip} after 50 tries");
}

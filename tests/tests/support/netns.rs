//! Network namespaces as test hosts: [`Netns::new`] makes a namespace joined to the host by a veth pair in a
//! private `10.200.X.0/24` that no other live namespace of ours uses, so parallel tests (and parallel test
//! runs) never clash.
//!
//! Addresses (host side `.1`; everything else is in or behind the namespace):
//! | method | address | a TCP connect from the host gives |
//! |---|---|---|
//! | [`Netns::ip`] | `.2` | whatever runs there (servers started `in_netns` listen here, on 3389) |
//! | [`Netns::refused_ip`] | `.4` | ECONNREFUSED at once: the namespace owns it, nothing ever listens on it |
//! | [`Netns::filtered_ip`] | `.3` | nothing until the caller's timeout: a static neighbour entry sends the SYNs to a MAC nobody has, like a firewall that drops |
//! | [`Netns::unreachable_ip`] | `.99` | EHOSTUNREACH after ~3 s: nobody answers ARP |
//!
//! Needs root and `ip` (iproute2). `Drop` deletes the namespace, which removes the veth pair too.
//! Names are `rdpl<pid>n<k>`: a namespace left behind by a killed run is deleted by the next run
//! (its pid is gone), and its subnet is skipped until then.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// Programs a namespace test needs (plus [`super::require_root`]).
pub(crate) const NEEDS: &[&str] = &["ip"];

/// The MAC the filtered address points to: locally administered, on no interface.
const BLACKHOLE_MAC: &str = "02:00:00:00:00:99";

/// One network namespace with a veth link to the host; deleted on drop.
#[derive(Debug)]
pub(crate) struct Netns {
    name: String,
    host_if: String,
    subnet: u8,
    /// Held (flock) for the namespace's lifetime: it reserves `10.200.<subnet>.0/24` against other processes.
    _lock: File,
}

impl Netns {
    /// Creates the namespace, the veth pair and the addresses, and brings the links up.
    pub(crate) fn new() -> Netns {
        static SWEEP: Once = Once::new();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        SWEEP.call_once(sweep_stale);

        let pid = std::process::id();
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("rdpl{pid}n{k}");
        let host_if = format!("rv{pid}n{k}");
        assert!(host_if.len() <= 15, "interface name too long: {host_if}");
        let (subnet, lock) = reserve_subnet(pid.wrapping_mul(7).wrapping_add(k));
        let ns = Netns {
            name,
            host_if,
            subnet,
            _lock: lock,
        };
        let net = |host: u8| format!("10.200.{subnet}.{host}/24");
        ip(&["netns", "add", &ns.name]);
        // From here on, Drop cleans up whatever part was made.
        ip(&[
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &ns.name,
        ]);
        ip(&["addr", "add", &net(1), "dev", &ns.host_if]);
        ip(&["link", "set", &ns.host_if, "up"]);
        ip(&["-n", &ns.name, "addr", "add", &net(2), "dev", "eth0"]);
        ip(&["-n", &ns.name, "addr", "add", &net(4), "dev", "eth0"]);
        ip(&["-n", &ns.name, "link", "set", "eth0", "up"]);
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns.wait_up();
        let filtered = ns.filtered_ip().to_string();
        ip(&[
            "neigh",
            "add",
            &filtered,
            "lladdr",
            BLACKHOLE_MAC,
            "dev",
            &ns.host_if,
            "nud",
            "permanent",
        ]);
        ns
    }

    /// Waits until both ends of the veth are operationally up. Until then the kernel drops what is sent
    /// (the link's queue is only activated by linkwatch, up to a second later), and a first SYN would be lost
    /// and resent after 1 s: a "refused at once" address would then take a second to refuse.
    fn wait_up(&self) {
        let start = std::time::Instant::now();
        loop {
            let host = std::fs::read_to_string(format!("/sys/class/net/{}/operstate", self.host_if))
                .unwrap_or_default();
            let peer = ip(&["-n", &self.name, "-o", "link", "show", "dev", "eth0"]);
            if host.trim() == "up" && peer.contains("state UP") {
                return;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "veth {} not up after 5 s: host {host:?}, peer {peer}",
                self.host_if
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The namespace name, for `ip netns exec` / `ip -n`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// X in this namespace's `10.200.X.0/24`.
    pub(crate) fn subnet(&self) -> u8 {
        self.subnet
    }

    /// `10.200.X.<host>`.
    pub(crate) fn addr(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 200, self.subnet, host)
    }

    /// The host's side of the veth (`.1`): what a server in the namespace sees as the client address.
    pub(crate) fn host_ip(&self) -> Ipv4Addr {
        self.addr(1)
    }

    /// The namespace's address (`.2`), where servers started in it listen.
    pub(crate) fn ip(&self) -> Ipv4Addr {
        self.addr(2)
    }

    /// An address of the namespace (`.4`) that no server ever binds: connects are refused at once.
    pub(crate) fn refused_ip(&self) -> Ipv4Addr {
        self.addr(4)
    }

    /// An address (`.3`) whose packets vanish (static neighbour entry to a MAC nobody has): connects time out.
    pub(crate) fn filtered_ip(&self) -> Ipv4Addr {
        self.addr(3)
    }

    /// An address (`.99`) nobody answers ARP for: connects fail with EHOSTUNREACH after about 3 s.
    pub(crate) fn unreachable_ip(&self) -> Ipv4Addr {
        self.addr(99)
    }

    /// Adds `10.200.X.<host>` inside the namespace (a second "machine" there) and returns it.
    pub(crate) fn add_ip(&self, host: u8) -> Ipv4Addr {
        assert!(
            !matches!(host, 0 | 1 | 3 | 99 | 255),
            "10.200.X.{host} is reserved by the harness"
        );
        let a = self.addr(host);
        ip(&["-n", &self.name, "addr", "add", &format!("{a}/24"), "dev", "eth0"]);
        a
    }

    /// `ip netns exec <name> <program>`: a command that runs inside the namespace (ip execs it in place, so
    /// the child's pid is the program's). Environment and files are shared with the host; the Xvfb socket in
    /// /tmp/.X11-unix works from inside.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(super::tool("ip"));
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes eth0 and so its veth peer on the host, and the neighbour entry.
        let _ = Command::new(super::tool("ip"))
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs `ip ARGS`, panicking with its stderr on failure.
#[track_caller]
pub(crate) fn ip(args: &[&str]) -> String {
    let out = Command::new(super::tool("ip"))
        .args(args)
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Picks X in 1..=254, starting at `seed`, whose lock file we can flock and that no interface uses.
fn reserve_subnet(seed: u32) -> (u8, File) {
    let dir = std::env::temp_dir().join("rdpl-netns-locks");
    std::fs::create_dir_all(&dir).expect("create the netns lock dir");
    for i in 0..254u32 {
        let x = u8::try_from((seed.wrapping_add(i)) % 254 + 1).expect("1..=254");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("10.200.{x}")))
            .expect("open a netns lock file");
        if file.try_lock().is_err() {
            continue;
        }
        let used = ip(&["-o", "addr", "show", "to", &format!("10.200.{x}.0/24")]);
        if used.trim().is_empty() {
            return (x, file);
        }
    }
    panic!("all of 10.200.1-254.0/24 are in use or reserved");
}

/// Deletes `rdpl<pid>n<k>` namespaces whose process is gone (left by a run that was killed).
fn sweep_stale() {
    let Ok(out) = Command::new(super::tool("ip")).args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix("rdpl")
            .and_then(|rest| rest.split_once('n'))
            .and_then(|(pid, k)| k.parse::<u32>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new(super::tool("ip"))
                .args(["netns", "del", name])
                .output();
        }
    }
}

//! The real servers: [`Xrdp`] (TLS / standard RDP security, never NLA), [`Shadow`] (FreeRDP's shadow server:
//! real NLA/CredSSP against a SAM file), [`Dnsmasq`] (DNS with fixed answers) and [`Xvfb`] (one X display
//! for the whole run, which the shadow server and xfreerdp need).
//!
//! Each server has a builder; `start()` returns once the server accepts TCP connections (or panics with its
//! log), and dropping the server kills it. By default servers listen on 127.0.0.1 on a free port and the
//! retry on a port clash is automatic; `.in_netns(&ns)` starts one inside a [`Netns`] on `ns.ip():3389` (53
//! for DNS) instead. The recipes behind each are in `shared/test-servers/RECIPES.md`. A test that needs a
//! display of its own (to paint it, or to open a window apart from what a shadow server shares) starts a
//! [`PrivateXvfb`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;

use super::certs::{self, TestCert};
use super::netns::Netns;
use super::process::{self, START_TIMEOUT, ServerProcess};
use super::{free_port_on, free_tcp_udp_port, tool};

/// How many times a server on an automatically chosen port is tried on a new port before giving up.
const START_TRIES: usize = 3;

fn server_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("tempdir")
}

/// Where a server listens: loopback (a free port unless one was chosen) or a namespace.
#[derive(Debug, Clone)]
struct Bind {
    ip: IpAddr,
    port: Option<u16>,
    netns: Option<String>,
}

impl Default for Bind {
    fn default() -> Self {
        Bind {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: None,
            netns: None,
        }
    }
}

impl Bind {
    fn in_netns(&mut self, ns: &Netns, default_port: u16) {
        self.ip = IpAddr::V4(ns.ip());
        self.port = Some(self.port.unwrap_or(default_port));
        self.netns = Some(ns.name().to_owned());
    }

    /// The command for `program`, wrapped in `ip netns exec` when needed.
    fn command(&self, program: &Path) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new(tool("ip"));
                c.args(["netns", "exec", ns]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// Starts a server: `spawn(port, attempt)` spawns it for `port`; retried on a fresh port when the port was
    /// chosen here and the start failed (the free-port race).
    fn start(
        &self,
        name: &str,
        pick_port: impl Fn(IpAddr) -> u16,
        mut spawn: impl FnMut(u16, usize) -> ServerProcess,
    ) -> (ServerProcess, SocketAddr) {
        let mut errors = Vec::new();
        for attempt in 0..START_TRIES {
            let port = self.port.unwrap_or_else(|| pick_port(self.ip));
            let addr = SocketAddr::new(self.ip, port);
            let mut p = spawn(port, attempt);
            match p.wait_listening(addr, START_TIMEOUT) {
                Ok(_) => return (p, addr),
                Err(e) if self.port.is_none() => errors.push(e),
                Err(e) => panic!("{name} did not start: {e}"),
            }
        }
        panic!(
            "{name} did not start in {START_TRIES} tries:\n{}",
            errors.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Xvfb

/// The X display shared by the whole test run (started on first use, never stopped: it gets SIGTERM from its
/// parent-death signal when the test process ends, and then removes its socket and lock file).
///
/// The display number is chosen here and claimed through X's own lock file (`/tmp/.X<N>-lock`): an Xvfb
/// that finds the display taken exits at once and the next number is tried; a lock left by a killed server is
/// taken over. (`-displayfd` is not used: with it Xvfb takes no lock file, and two of them starting at the
/// same time can unlink each other's socket.)
#[derive(Debug)]
pub(crate) struct Xvfb {
    number: u32,
}

impl Xvfb {
    /// Programs needed.
    pub(crate) const NEEDS: &[&str] = &["Xvfb"];
    /// The shared display's screen: 1024x768, depth 24 (what the shadow server needs).
    const SCREEN: (u32, u32) = (1024, 768);

    /// The run-wide display (1024x768, depth 24 as the shadow server needs), starting it if needed.
    pub(crate) fn shared() -> &'static Xvfb {
        static XVFB: OnceLock<Xvfb> = OnceLock::new();
        XVFB.get_or_init(Xvfb::start)
    }

    fn start() -> Xvfb {
        let (tx, rx) = mpsc::channel();
        // The owner thread lives as long as the process, so the parent-death signal only fires at exit.
        std::thread::Builder::new()
            .name("xvfb-owner".into())
            .spawn(move || {
                // Spread parallel runs over 100..600 so they rarely even try the same number.
                let first = 100 + std::process::id() % 500;
                let mut errors = Vec::new();
                for number in first..first + 40 {
                    match try_display(number, Xvfb::SCREEN) {
                        Ok(mut child) => {
                            if tx.send(Ok(number)).is_ok() {
                                let _ = child.wait();
                            }
                            return;
                        }
                        Err(e) => errors.push(e),
                    }
                }
                let _ = tx.send(Err(errors.join("\n")));
            })
            .expect("spawn the Xvfb owner thread");
        let number = rx
            .recv_timeout(START_TIMEOUT * 2)
            .unwrap_or_else(|e| Err(format!("Xvfb did not start: {e}")))
            .unwrap_or_else(|e| panic!("no Xvfb display could be started:\n{e}"));
        Xvfb { number }
    }

    /// The display number N.
    pub(crate) fn number(&self) -> u32 {
        self.number
    }

    /// `:N`, for `DISPLAY`.
    pub(crate) fn display(&self) -> String {
        format!(":{}", self.number)
    }

    /// The server's socket, `/tmp/.X11-unix/XN` (reachable from inside namespaces too).
    pub(crate) fn socket(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/.X11-unix/X{}", self.number))
    }
}

/// An X display of one test's own, killed (SIGTERM, so it removes its socket and lock) on drop: for a test
/// that paints the screen, moves the pointer or types, which on the [shared](Xvfb::shared) display other tests
/// running at the same time would see (and disturb). Give it to a shadow server with
/// [`ShadowBuilder::display`].
#[derive(Debug)]
pub(crate) struct PrivateXvfb {
    number: u32,
    child: std::process::Child,
}

impl PrivateXvfb {
    /// Starts `Xvfb` with a `width`x`height`x24 screen on a free display number (claimed through X's lock
    /// file, as [`Xvfb::shared`] does; numbers spread over 600..1100 so they rarely meet the shared ones).
    #[track_caller]
    pub(crate) fn start(width: u32, height: u32) -> PrivateXvfb {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let mut errors = Vec::new();
        for _ in 0..40 {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let number = 600 + (std::process::id() + n * 7) % 500;
            match try_display(number, (width, height)) {
                Ok(child) => return PrivateXvfb { number, child },
                Err(e) => errors.push(e),
            }
        }
        panic!("no private Xvfb display could be started:\n{}", errors.join("\n"));
    }

    /// The display number N.
    pub(crate) fn number(&self) -> u32 {
        self.number
    }

    /// `:N`, for `DISPLAY`.
    pub(crate) fn display(&self) -> String {
        format!(":{}", self.number)
    }
}

impl Drop for PrivateXvfb {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) has no memory-safety preconditions; the child is ours and not reaped yet, so the
            // pid cannot have been reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let start = std::time::Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(3) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.wait();
    }
}

/// Starts `Xvfb :number` with a `(width, height)` screen of depth 24 and waits until its socket accepts
/// connections; `Err` when the display is taken (the server exits: "Server is already active for display
/// N") or it does not come up.
fn try_display(number: u32, (width, height): (u32, u32)) -> Result<std::process::Child, String> {
    let mut cmd = Command::new(tool("Xvfb"));
    cmd.arg(format!(":{number}"))
        .args(["-screen", "0", &format!("{width}x{height}x24")])
        // -noreset: by default X resets when its last client leaves, and a client connecting during that
        // reset fails ("failed to open display"); with several shadow servers coming and going that happens.
        .args(["-nolisten", "tcp", "-noreset"]);
    process::harden_with(&mut cmd, libc::SIGTERM)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("spawn Xvfb: {e}"))?;
    let socket = format!("/tmp/.X11-unix/X{number}");
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Err(format!(":{number}: Xvfb exited with {status}: {}", err.trim()));
        }
        if std::os::unix::net::UnixStream::connect(&socket).is_ok()
            && child.try_wait().is_ok_and(|s| s.is_none())
        {
            // Drain stderr from now on (xkbcomp warnings...), so a full pipe never blocks the server.
            if let Some(mut e) = child.stderr.take() {
                std::thread::spawn(move || std::io::copy(&mut e, &mut std::io::sink()));
            }
            return Ok(child);
        }
        if start.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(":{number}: no socket {socket} after {START_TIMEOUT:?}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------------------
// xrdp

/// xrdp's `security_layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecurityLayer {
    /// Picks TLS when the client offers it (even with HYBRID), else standard RDP security.
    Negotiate,
    /// TLS only: a PROTOCOL_RDP-only client gets NEG_FAILURE SSL_REQUIRED_BY_SERVER.
    Tls,
    /// Standard RDP security only (PROTOCOL_RDP whatever the client asks).
    Rdp,
}

impl SecurityLayer {
    fn ini(self) -> &'static str {
        match self {
            SecurityLayer::Negotiate => "negotiate",
            SecurityLayer::Tls => "tls",
            SecurityLayer::Rdp => "rdp",
        }
    }
}

#[derive(Debug, Clone)]
enum CertChoice {
    Generated,
    Files { cert: PathBuf, key: PathBuf },
    Missing,
}

/// Builds an [`Xrdp`]; see [`Xrdp::builder`].
#[derive(Debug, Clone)]
pub(crate) struct XrdpBuilder {
    security: SecurityLayer,
    cert: CertChoice,
    bind: Bind,
}

impl XrdpBuilder {
    /// The `security_layer` (default negotiate).
    pub(crate) fn security(mut self, layer: SecurityLayer) -> Self {
        self.security = layer;
        self
    }

    /// Serve this certificate (default: a new self-signed one for `localhost` and the listening IP).
    pub(crate) fn cert(self, cert: &TestCert) -> Self {
        self.cert_files(&cert.cert_path(), &cert.key_path())
    }

    /// Serve the certificate and key in these PEM files.
    pub(crate) fn cert_files(mut self, cert: &Path, key: &Path) -> Self {
        self.cert = CertChoice::Files {
            cert: cert.to_owned(),
            key: key.to_owned(),
        };
        self
    }

    /// Point `certificate=`/`key_file=` at files that do not exist: negotiate then falls back to standard RDP
    /// security, tls answers NEG_FAILURE SSL_CERT_NOT_ON_SERVER.
    pub(crate) fn missing_cert(mut self) -> Self {
        self.cert = CertChoice::Missing;
        self
    }

    /// Listen on this local address (default 127.0.0.1; any 127.x.y.z works).
    pub(crate) fn ip(mut self, ip: IpAddr) -> Self {
        self.bind.ip = ip;
        self
    }

    /// Listen on this port (default: a free one; 3389 in a namespace).
    pub(crate) fn port(mut self, port: u16) -> Self {
        self.bind.port = Some(port);
        self
    }

    /// Run inside `ns`, listening on `ns.ip()`, port 3389 unless [`port`](Self::port) says otherwise.
    pub(crate) fn in_netns(mut self, ns: &Netns) -> Self {
        self.bind.in_netns(ns, 3389);
        self
    }

    /// Writes the config, starts `xrdp --nodaemon` and waits until it listens.
    #[track_caller]
    pub(crate) fn start(self) -> Xrdp {
        let dir = server_dir("rdpl-xrdp-");
        let generated = match &self.cert {
            CertChoice::Generated => Some(certs::self_signed(&["localhost", &self.bind.ip.to_string()])),
            _ => None,
        };
        let (cert, key) = match (&self.cert, &generated) {
            (_, Some(g)) => (g.cert_path(), g.key_path()),
            (CertChoice::Files { cert, key }, None) => (cert.clone(), key.clone()),
            _ => (
                dir.path().join("missing-cert.pem"),
                dir.path().join("missing-key.pem"),
            ),
        };
        let config = dir.path().join("xrdp.ini");
        let xrdp = tool("xrdp");
        let (process, addr) = self.bind.start("xrdp", free_port_on, |port, attempt| {
            let ini = xrdp_ini(
                &format!("tcp://{}:{port}", self.bind.ip),
                self.security,
                &cert,
                &key,
                &dir.path().join("xrdp.log"),
            );
            std::fs::write(&config, ini).expect("write xrdp.ini");
            let mut cmd = self.bind.command(&xrdp);
            cmd.arg("--nodaemon").arg("--config").arg(&config);
            ServerProcess::spawn("xrdp", cmd, &dir.path().join(format!("xrdp.out.{attempt}")))
        });
        Xrdp {
            process,
            addr,
            dir,
            config,
            generated,
        }
    }
}

/// A running `xrdp --nodaemon` with its own config; killed on drop.
///
/// xrdp 0.9 never selects HYBRID (NLA): use [`Shadow`] for NLA. Observed answers are in RECIPES.md section 1.
#[derive(Debug)]
pub(crate) struct Xrdp {
    process: ServerProcess,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    config: PathBuf,
    generated: Option<TestCert>,
}

impl Xrdp {
    /// Programs needed (openssl makes the default certificate's RSA key).
    pub(crate) const NEEDS: &[&str] = &["xrdp", "openssl"];

    /// Negotiate mode, a generated self-signed certificate, 127.0.0.1 on a free port.
    pub(crate) fn builder() -> XrdpBuilder {
        XrdpBuilder {
            security: SecurityLayer::Negotiate,
            cert: CertChoice::Generated,
            bind: Bind::default(),
        }
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The generated certificate, when none was given.
    pub(crate) fn generated_cert(&self) -> Option<&TestCert> {
        self.generated.as_ref()
    }

    /// The xrdp.ini it runs with.
    pub(crate) fn config_path(&self) -> &Path {
        &self.config
    }

    /// xrdp's log file plus what it printed.
    pub(crate) fn log(&self) -> String {
        let file = std::fs::read_to_string(self.dir.path().join("xrdp.log")).unwrap_or_default();
        format!("{file}{}", self.process.log())
    }

    /// The xrdp process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }
}

fn xrdp_ini(port: &str, security: SecurityLayer, cert: &Path, key: &Path, log: &Path) -> String {
    // The [Globals] defaults of Debian's /etc/xrdp/xrdp.ini (0.9.21), with our port, security, certificate
    // and log; one session type (Xorg) so the login screen has something to offer.
    format!(
        "[Globals]
ini_version=1
fork=true
port={port}
use_vsock=false
tcp_nodelay=true
tcp_keepalive=true
security_layer={security}
crypt_level=high
certificate={cert}
key_file={key}
ssl_protocols=TLSv1.2, TLSv1.3
autorun=
allow_channels=true
allow_multimon=true
bitmap_cache=true
bitmap_compression=true
bulk_compression=true
max_bpp=32
new_cursors=true
use_fastpath=both

[Logging]
LogFile={log}
LogLevel=INFO
EnableSyslog=false

[Channels]
rdpdr=true
rdpsnd=true
drdynvc=true
cliprdr=true
rail=true
xrdpvr=true
tcutils=true

[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=-1
code=20
",
        security = security.ini(),
        cert = cert.display(),
        key = key.display(),
        log = log.display(),
    )
}

// ---------------------------------------------------------------------------------------------------------
// FreeRDP shadow server

/// The shadow server's `/sec:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShadowSecurity {
    /// NLA only: selects PROTOCOL_HYBRID; SSL-only or RDP-only clients get HYBRID_REQUIRED_BY_SERVER.
    Nla,
    /// TLS only: selects PROTOCOL_SSL.
    Tls,
}

#[derive(Debug, Clone)]
struct SamUser {
    domain: Option<String>,
    user: String,
    password: String,
}

/// Builds a [`Shadow`]; see [`Shadow::builder`].
#[derive(Debug, Clone)]
pub(crate) struct ShadowBuilder {
    security: ShadowSecurity,
    users: Vec<SamUser>,
    cert: Option<(PathBuf, PathBuf)>,
    bind: Bind,
    display: Option<String>,
    freerdp3: bool,
}

impl ShadowBuilder {
    /// Run FreeRDP 3's shadow server (`freerdp-shadow-cli3`) instead of FreeRDP 2's.
    pub(crate) fn freerdp3(mut self) -> Self {
        self.freerdp3 = true;
        self
    }

    /// Share this display instead of the run-wide [`Xvfb`] (a test that paints the screen or reads the pointer
    /// and keyboard needs one nobody else uses).
    pub(crate) fn display(mut self, xvfb: &PrivateXvfb) -> Self {
        self.display = Some(xvfb.display());
        self
    }

    /// NLA (default) or TLS.
    pub(crate) fn security(mut self, security: ShadowSecurity) -> Self {
        self.security = security;
        self
    }

    /// Adds a SAM entry for `user` (any domain). Without any, the SAM holds [`Shadow::USER`] /
    /// [`Shadow::PASSWORD`].
    pub(crate) fn user(mut self, user: &str, password: &str) -> Self {
        self.users.push(SamUser {
            domain: None,
            user: user.to_owned(),
            password: password.to_owned(),
        });
        self
    }

    /// Adds a SAM entry for `DOMAIN\user`.
    pub(crate) fn domain_user(mut self, domain: &str, user: &str, password: &str) -> Self {
        self.users.push(SamUser {
            domain: Some(domain.to_owned()),
            user: user.to_owned(),
            password: password.to_owned(),
        });
        self
    }

    /// Serve this certificate (it must have an RSA key). Default: the server generates its own
    /// (CN = the machine's hostname), see [`Shadow::cert_path`].
    pub(crate) fn cert(mut self, cert: &TestCert) -> Self {
        self.cert = Some((cert.cert_path(), cert.key_path()));
        self
    }

    /// Listen on this local address (default 127.0.0.1).
    pub(crate) fn ip(mut self, ip: IpAddr) -> Self {
        self.bind.ip = ip;
        self
    }

    /// Listen on this port (default: a free one; 3389 in a namespace).
    pub(crate) fn port(mut self, port: u16) -> Self {
        self.bind.port = Some(port);
        self
    }

    /// Run inside `ns`, listening on `ns.ip()`, port 3389 unless [`port`](Self::port) says otherwise.
    pub(crate) fn in_netns(mut self, ns: &Netns) -> Self {
        self.bind.in_netns(ns, 3389);
        self
    }

    /// Writes the SAM file (winpr-hash), sets up HOME, starts `freerdp-shadow-cli` on the shared
    /// [`Xvfb`] display and waits until it listens (about 0.7 s).
    #[track_caller]
    pub(crate) fn start(mut self) -> Shadow {
        let dir = server_dir("rdpl-shadow-");
        if self.users.is_empty() {
            self = self.user(Shadow::USER, Shadow::PASSWORD);
        }
        let sam = dir.path().join("sam.txt");
        let mut text = String::new();
        for u in &self.users {
            let mut cmd = Command::new(tool("winpr-hash"));
            cmd.args(["-u", &u.user, "-p", &u.password, "-f", "sam"]);
            if let Some(d) = &u.domain {
                cmd.args(["-d", d]);
            }
            let out = cmd.output().expect("run winpr-hash");
            assert!(
                out.status.success(),
                "winpr-hash: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            text.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        std::fs::write(&sam, text).expect("write the SAM file");

        let home = dir.path().join("home");
        let shadow_dir = home.join(".config/freerdp/shadow");
        std::fs::create_dir_all(&shadow_dir).expect("create HOME/.config/freerdp/shadow");
        if let Some((cert, key)) = &self.cert {
            std::fs::copy(cert, shadow_dir.join("shadow.crt")).expect("copy shadow.crt");
            std::fs::copy(key, shadow_dir.join("shadow.key")).expect("copy shadow.key");
        }
        let display = self.display.clone().unwrap_or_else(|| Xvfb::shared().display());
        let program = tool(if self.freerdp3 {
            "freerdp-shadow-cli3"
        } else {
            "freerdp-shadow-cli"
        });
        let sec = match self.security {
            ShadowSecurity::Nla => "/sec:nla",
            ShadowSecurity::Tls => "/sec:tls",
        };
        let (process, addr) = self
            .bind
            .start("freerdp-shadow-cli", free_port_on, |port, attempt| {
                let mut cmd = self.bind.command(&program);
                cmd.arg(format!("/bind-address:{}", self.bind.ip))
                    .arg(format!("/port:{port}"))
                    .arg(sec)
                    .arg(format!("/sam-file:{}", sam.display()))
                    .env("HOME", &home)
                    .env("DISPLAY", &display)
                    .current_dir(dir.path());
                ServerProcess::spawn(
                    "freerdp-shadow-cli",
                    cmd,
                    &dir.path().join(format!("shadow.log.{attempt}")),
                )
            });
        Shadow {
            process,
            addr,
            dir,
            home,
            sam,
        }
    }
}

/// A running `freerdp-shadow-cli`: a real CredSSP/NLA server that checks passwords against its SAM file
/// (right password: the client's auth passes; wrong one or unknown user: the server drops the connection).
#[derive(Debug)]
pub(crate) struct Shadow {
    process: ServerProcess,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    home: PathBuf,
    sam: PathBuf,
}

impl Shadow {
    /// Programs needed (openssl only if the test makes certificates).
    pub(crate) const NEEDS: &[&str] = &["freerdp-shadow-cli", "winpr-hash", "Xvfb"];
    /// Programs needed for [`ShadowBuilder::freerdp3`].
    pub(crate) const NEEDS3: &[&str] = &["freerdp-shadow-cli3", "winpr-hash", "Xvfb"];
    /// The SAM user when the builder names none.
    pub(crate) const USER: &str = "testuser";
    /// [`Shadow::USER`]'s password.
    pub(crate) const PASSWORD: &str = "Secr3t!";

    /// NLA, the default user, its own generated certificate, 127.0.0.1 on a free port.
    pub(crate) fn builder() -> ShadowBuilder {
        ShadowBuilder {
            security: ShadowSecurity::Nla,
            users: Vec::new(),
            cert: None,
            bind: Bind::default(),
            display: None,
            freerdp3: false,
        }
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The certificate it serves (the given one, or the one it generated at start-up), PEM.
    pub(crate) fn cert_path(&self) -> PathBuf {
        self.home.join(".config/freerdp/shadow/shadow.crt")
    }

    /// The SAM file.
    pub(crate) fn sam_path(&self) -> &Path {
        &self.sam
    }

    /// Its HOME.
    pub(crate) fn home(&self) -> &Path {
        &self.home
    }

    /// What it logged so far (auth failures show up here, e.g. "Could not find user in SAM database").
    pub(crate) fn log(&self) -> String {
        self.process.log()
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }
}

// ---------------------------------------------------------------------------------------------------------
// dnsmasq

/// Builds a [`Dnsmasq`]; see [`Dnsmasq::builder`].
#[derive(Debug, Clone, Default)]
pub(crate) struct DnsmasqBuilder {
    args: Vec<String>,
    bind: Bind,
}

impl DnsmasqBuilder {
    /// `name` has exactly these addresses (A and AAAA): `--host-record=name,ip,...`.
    pub(crate) fn host(mut self, name: &str, addrs: &[IpAddr]) -> Self {
        let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        self.args.push(format!("--host-record={name},{}", list.join(",")));
        self
    }

    /// An A record (`--host-record`).
    pub(crate) fn a(self, name: &str, ip: Ipv4Addr) -> Self {
        self.host(name, &[IpAddr::V4(ip)])
    }

    /// An AAAA record (`--host-record`).
    pub(crate) fn aaaa(self, name: &str, ip: Ipv6Addr) -> Self {
        self.host(name, &[IpAddr::V6(ip)])
    }

    /// `domain` and every name under it resolve to `ip` (`--address=/domain/ip`). Note: the other address
    /// family then falls through to the zone rules (NXDOMAIN inside an [`nxdomain_zone`](Self::nxdomain_zone)).
    pub(crate) fn domain(mut self, domain: &str, ip: IpAddr) -> Self {
        self.args.push(format!("--address=/{domain}/{ip}"));
        self
    }

    /// Names in `zone` that have no record are NXDOMAIN (`--local=/zone/`), instead of REFUSED (no upstream).
    pub(crate) fn nxdomain_zone(mut self, zone: &str) -> Self {
        self.args.push(format!("--local=/{zone}/"));
        self
    }

    /// Any other dnsmasq option.
    pub(crate) fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Listen on this local address (default 127.0.0.1).
    pub(crate) fn ip(mut self, ip: IpAddr) -> Self {
        self.bind.ip = ip;
        self
    }

    /// Listen on this port, UDP and TCP (default: a free one; 53 in a namespace).
    pub(crate) fn port(mut self, port: u16) -> Self {
        self.bind.port = Some(port);
        self
    }

    /// Run inside `ns`, on `ns.ip()`, port 53 unless [`port`](Self::port) says otherwise.
    pub(crate) fn in_netns(mut self, ns: &Netns) -> Self {
        self.bind.in_netns(ns, 53);
        self
    }

    /// Starts `dnsmasq --no-daemon` with only the given records (no resolv.conf, no /etc/hosts, no upstream)
    /// and waits until it listens.
    #[track_caller]
    pub(crate) fn start(self) -> Dnsmasq {
        let dir = server_dir("rdpl-dnsmasq-");
        let program = tool("dnsmasq");
        let (process, addr) = self.bind.start("dnsmasq", free_tcp_udp_port, |port, attempt| {
            let mut cmd = self.bind.command(&program);
            cmd.args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--log-queries",
                "--log-facility=-",
            ])
            .arg(format!("--listen-address={}", self.bind.ip))
            .arg(format!("--port={port}"))
            .args(&self.args);
            ServerProcess::spawn("dnsmasq", cmd, &dir.path().join(format!("dnsmasq.log.{attempt}")))
        });
        Dnsmasq {
            process,
            addr,
            _dir: dir,
        }
    }
}

/// A running dnsmasq answering only what its builder said; killed on drop.
#[derive(Debug)]
pub(crate) struct Dnsmasq {
    process: ServerProcess,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Programs needed.
    pub(crate) const NEEDS: &[&str] = &["dnsmasq"];

    /// No records yet, 127.0.0.1 on a free port.
    pub(crate) fn builder() -> DnsmasqBuilder {
        DnsmasqBuilder::default()
    }

    /// The DNS server address (UDP and TCP).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its log (every query, with `--log-queries`).
    pub(crate) fn log(&self) -> String {
        self.process.log()
    }
}

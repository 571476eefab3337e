//! The profile model: everything rdpl knows about connecting to one host. No password field, ever:
//! credentials live in the OS keyring, never here.
//!
//! The on-disk TOML form (with its schema `version`) lives in [`crate::store`]; this is the domain type.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::name::{Host, Port, ProfileName, TargetAddr};
use crate::rdp::Value;
use crate::rdp::catalogue::{self, Risk};

/// `auto`, `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tri {
    /// rdpl decides from what pre-flight finds.
    #[default]
    Auto,
    /// Forced on.
    On,
    /// Forced off.
    Off,
}

impl FromStr for Tri {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Tri::Auto),
            "on" | "true" | "yes" | "1" => Ok(Tri::On),
            "off" | "false" | "no" | "0" => Ok(Tri::Off),
            _ => Err(format!("expected auto, on or off, not `{s}`")),
        }
    }
}

impl fmt::Display for Tri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tri::Auto => "auto",
            Tri::On => "on",
            Tri::Off => "off",
        })
    }
}

/// Security preferences. CredSSP follows NLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Security {
    /// Network Level Authentication (CredSSP).
    pub nla: Tri,
    /// The UDP transport.
    pub udp: Tri,
    /// What the network path is like; `udp=auto` turns UDP off on a `vpn` or `flaky` link.
    pub link: Link,
    /// Whether TLS 1.0/1.1 may be used with a server that speaks nothing newer.
    pub tls_legacy: TlsLegacy,
}

/// The kind of network path to a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    /// Nothing special.
    #[default]
    Normal,
    /// Through a VPN (UDP is often dropped or fragmented there).
    Vpn,
    /// Lossy or unreliable.
    Flaky,
}

impl FromStr for Link {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Link::Normal),
            "vpn" => Ok(Link::Vpn),
            "flaky" => Ok(Link::Flaky),
            _ => Err(format!("expected normal, vpn or flaky, not `{s}`")),
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Link::Normal => "normal",
            Link::Vpn => "vpn",
            Link::Flaky => "flaky",
        })
    }
}

/// When to use the RD Gateway (`gatewayusagemethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayUsage {
    /// Always go through the gateway (1).
    #[default]
    Always,
    /// Use it only when the host can't be reached directly, bypassing it for local addresses (2).
    Detect,
    /// Use the client's default RD Gateway settings (3).
    Default,
    /// Don't use a gateway (0, and 4 "do not use"): the settings are kept but neither used nor probed.
    Never,
}

impl GatewayUsage {
    /// The `gatewayusagemethod` value.
    /// The `gatewayusagemethod` value. Microsoft documents 0 "do not use an RD Gateway server", 1 "always use",
    /// 2 "use if a direct connection cannot be made", 3 "use the default RD Gateway server settings" and 4
    /// "do not use an RD Gateway server" (Microsoft Learn, "Supported RDP properties").
    pub fn rdp_value(self) -> i64 {
        match self {
            GatewayUsage::Never => 0,
            GatewayUsage::Always => 1,
            GatewayUsage::Detect => 2,
            GatewayUsage::Default => 3,
        }
    }

    /// From a `gatewayusagemethod` value (see [`rdp_value`](Self::rdp_value)).
    pub fn from_rdp(v: i64) -> Option<GatewayUsage> {
        match v {
            0 | 4 => Some(GatewayUsage::Never),
            1 => Some(GatewayUsage::Always),
            2 => Some(GatewayUsage::Detect),
            3 => Some(GatewayUsage::Default),
            _ => None,
        }
    }
}

impl FromStr for GatewayUsage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Ok(GatewayUsage::Always),
            "detect" => Ok(GatewayUsage::Detect),
            "default" => Ok(GatewayUsage::Default),
            "never" => Ok(GatewayUsage::Never),
            _ => Err(format!("expected always, detect, default or never, not `{s}`")),
        }
    }
}

impl fmt::Display for GatewayUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GatewayUsage::Always => "always",
            GatewayUsage::Detect => "detect",
            GatewayUsage::Default => "default",
            GatewayUsage::Never => "never",
        })
    }
}

/// An RD Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Its host name or address.
    pub host: Host,
    /// Its HTTPS port (443 by default).
    pub port: Port,
    /// When to use it.
    pub usage: GatewayUsage,
    /// The gateway's own account, when it is not the connection's (`gateway.user`).
    pub user: Option<String>,
    /// The gateway account's domain (`gateway.domain`).
    pub domain: Option<String>,
    /// The command that prints the gateway account's password (`gateway.password.command`).
    pub password_command: Option<PasswordCommand>,
}

impl Gateway {
    /// A gateway used always, signed in to with the connection's account.
    pub fn new(host: Host, port: Port) -> Gateway {
        Gateway {
            host,
            port,
            usage: GatewayUsage::default(),
            user: None,
            domain: None,
            password_command: None,
        }
    }

    /// The gateway's own account as `DOMAIN\user` (or `user`), when it has one.
    pub fn account(&self) -> Option<String> {
        let user = self.user.as_deref()?;
        Some(match &self.domain {
            Some(d) => format!("{d}\\{user}"),
            None => user.to_owned(),
        })
    }
}

/// A command that prints a password on its first line of standard output (`password.command`, e.g. `pass show
/// corp/alice`): split like a shell would, run without a shell. It holds no secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordCommand {
    line: String,
    argv: Vec<String>,
}

impl PasswordCommand {
    /// The command line as written.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The program and its arguments.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }
}

impl FromStr for PasswordCommand {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let line = s.trim();
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err("the command contains a control character".into());
        }
        let argv =
            shlex::split(line).ok_or_else(|| format!("`{line}` has an unterminated quote or escape"))?;
        if argv.is_empty() {
            return Err("the command is empty".into());
        }
        Ok(PasswordCommand {
            line: line.to_owned(),
            argv,
        })
    }
}

impl fmt::Display for PasswordCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

/// Whether a client may speak TLS 1.0/1.1 to a server that offers nothing newer (`tls.legacy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsLegacy {
    /// Never: such a server blocks the connection (FreeRDP 3.27+ and rdpl's own session refuse it anyway).
    #[default]
    Deny,
    /// Tell the client to accept TLS 1.0/1.1 for this profile (FreeRDP: `/tls:seclevel:0`, `/tls:enforce:1.0`).
    Allow,
}

impl FromStr for TlsLegacy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "deny" | "off" | "no" => Ok(TlsLegacy::Deny),
            "allow" | "on" | "yes" => Ok(TlsLegacy::Allow),
            _ => Err(format!("expected deny or allow, not `{s}`")),
        }
    }
}

impl fmt::Display for TlsLegacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsLegacy::Deny => "deny",
            TlsLegacy::Allow => "allow",
        })
    }
}

/// Where remote audio plays (`audiomode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioPlayback {
    /// On this computer (0).
    Local,
    /// On the remote computer (1).
    Remote,
    /// Nowhere (2).
    #[default]
    Off,
}

impl AudioPlayback {
    /// The `audiomode` value.
    pub fn rdp_value(self) -> i64 {
        match self {
            AudioPlayback::Local => 0,
            AudioPlayback::Remote => 1,
            AudioPlayback::Off => 2,
        }
    }
}

impl fmt::Display for AudioPlayback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AudioPlayback::Local => "local",
            AudioPlayback::Remote => "remote",
            AudioPlayback::Off => "off",
        })
    }
}

impl FromStr for AudioPlayback {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "local" | "on" => Ok(AudioPlayback::Local),
            "remote" => Ok(AudioPlayback::Remote),
            "off" | "none" => Ok(AudioPlayback::Off),
            _ => Err(format!("expected local, remote or off, not `{s}`")),
        }
    }
}

/// What the remote session may reach on this computer. Default: clipboard on, everything else off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// Clipboard (`redirectclipboard`).
    pub clipboard: bool,
    /// Drives (`drivestoredirect`): empty = none, `*` = all, else drive letters or names.
    pub drives: Vec<String>,
    /// Printers (`redirectprinters`).
    pub printers: bool,
    /// Smart cards (`redirectsmartcards`).
    pub smart_cards: bool,
    /// Serial/COM ports (`redirectcomports`).
    pub ports: bool,
    /// Plug and Play and USB devices (`devicestoredirect`, `usbdevicestoredirect`).
    pub usb: bool,
    /// Cameras (`camerastoredirect`).
    pub cameras: bool,
    /// WebAuthn / Windows Hello (`redirectwebauthn`).
    pub webauthn: bool,
    /// Point-of-service devices (`redirectposdevices`).
    pub pos_devices: bool,
    /// Location (`redirectlocation`).
    pub location: bool,
    /// Microphone (`audiocapturemode`).
    pub microphone: bool,
    /// Where sound plays (`audiomode`).
    pub audio: AudioPlayback,
}

impl Default for Redirect {
    fn default() -> Self {
        Redirect {
            clipboard: true,
            drives: Vec::new(),
            printers: false,
            smart_cards: false,
            ports: false,
            usb: false,
            cameras: false,
            webauthn: false,
            pos_devices: false,
            location: false,
            microphone: false,
            audio: AudioPlayback::Off,
        }
    }
}

/// Display settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Display {
    /// Desktop width in pixels, when fixed.
    pub width: Option<u32>,
    /// Desktop height in pixels, when fixed.
    pub height: Option<u32>,
    /// Start full screen.
    pub full_screen: bool,
    /// Use all monitors.
    pub multimon: bool,
}

/// Which client takes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// mstsc on Windows, xfreerdp on Linux, Windows App on macOS.
    #[default]
    Auto,
    /// mstsc.exe.
    Mstsc,
    /// FreeRDP's xfreerdp.
    Xfreerdp,
    /// Microsoft's Windows App on macOS.
    Macos,
    /// rdpl's own IronRDP session.
    Native,
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "mstsc" => Ok(Backend::Mstsc),
            "xfreerdp" => Ok(Backend::Xfreerdp),
            "macos" => Ok(Backend::Macos),
            "native" => Ok(Backend::Native),
            _ => Err(format!(
                "expected auto, mstsc, xfreerdp, macos or native, not `{s}`"
            )),
        }
    }
}

/// The FreeRDP programs rdpl knows by name, besides `xfreerdp` (which may be FreeRDP 2 or 3).
pub const FREERDP_PROGRAMS: &[&str] = &[
    "xfreerdp3",
    "sdl-freerdp3",
    "wlfreerdp3",
    "sdl-freerdp",
    "wlfreerdp",
];

/// The client a profile's `backend` or `connect --with` names: a backend, and for FreeRDP optionally one exact
/// program. `xfreerdp` means the FreeRDP family (whichever FreeRDP client is installed, 3 first); a program
/// name (`xfreerdp3`, `sdl-freerdp3`, ...) or an absolute path names one program exactly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientChoice {
    /// The backend.
    pub backend: Backend,
    /// The exact FreeRDP program (a name looked up on PATH, or an absolute path), if one was named.
    pub program: Option<String>,
}

impl From<Backend> for ClientChoice {
    fn from(backend: Backend) -> Self {
        ClientChoice {
            backend,
            program: None,
        }
    }
}

impl FromStr for ClientChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(backend) = s.parse::<Backend>() {
            return Ok(backend.into());
        }
        if s.eq_ignore_ascii_case("freerdp") {
            return Ok(Backend::Xfreerdp.into());
        }
        let exact = |program: String| ClientChoice {
            backend: Backend::Xfreerdp,
            program: Some(program),
        };
        if let Some(name) = FREERDP_PROGRAMS.iter().find(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(exact((*name).to_owned()));
        }
        if s.contains(['/', '\\']) {
            if s.chars().any(char::is_control) {
                return Err("the program path contains a control character".into());
            }
            if !std::path::Path::new(s).is_absolute() {
                return Err(format!("`{s}` is not an absolute path to a FreeRDP client"));
            }
            return Ok(exact(s.to_owned()));
        }
        Err(format!(
            "expected auto, mstsc, xfreerdp (any FreeRDP), {}, an absolute path to a FreeRDP client, macos or \
             native, not `{s}`",
            FREERDP_PROGRAMS.join(", ")
        ))
    }
}

impl fmt::Display for ClientChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.program {
            Some(p) => f.write_str(p),
            None => self.backend.fmt(f),
        }
    }
}

impl serde::Serialize for ClientChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ClientChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Mstsc => "mstsc",
            Backend::Xfreerdp => "xfreerdp",
            Backend::Macos => "macos",
            Backend::Native => "native",
        })
    }
}

/// A user or domain name: non-empty, at most 256 characters, no control characters.
pub fn check_account_field(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if s.chars().count() > 256 {
        return Err(format!("{what} is longer than 256 characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{what} contains a control character (a line break?)"));
    }
    if s.trim() != s {
        return Err(format!("{what} starts or ends with whitespace"));
    }
    Ok(())
}

/// Checks an extra .rdp property a profile carries: it must be a known, low-risk property with a valid value.
pub fn check_extra(name: &str, value: &Value) -> Result<&'static str, String> {
    let spec = catalogue::lookup(name).ok_or_else(|| format!("`{name}` is not a known .rdp property"))?;
    if spec.risk != Risk::Low {
        return Err(format!(
            "`{}` is a {:?}-risk property; profiles carry it through their own settings, not as an extra",
            spec.name, spec.risk
        ));
    }
    let mut probe = crate::rdp::render::RdpDocument::new();
    probe.set(spec.name, value.clone()).map_err(|e| e.to_string())?;
    Ok(spec.name)
}

/// A connection profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name.
    pub name: ProfileName,
    /// The host to connect to.
    pub host: Host,
    /// The RDP port.
    pub port: Port,
    /// Addresses to try when `host` fails, in order (IPs or names, optionally with a port).
    pub fallbacks: Vec<TargetAddr>,
    /// The alternate address (`alternate full address`).
    pub alternate: Option<TargetAddr>,
    /// User name.
    pub user: Option<String>,
    /// Domain.
    pub domain: Option<String>,
    /// The command that prints the password (`password.command`): a vault instead of the keyring.
    pub password_command: Option<PasswordCommand>,
    /// RD Gateway.
    pub gateway: Option<Gateway>,
    /// Security preferences.
    pub security: Security,
    /// Redirection policy.
    pub redirect: Redirect,
    /// Display settings.
    pub display: Display,
    /// Preferred client.
    pub backend: Backend,
    /// The exact FreeRDP program `backend` names (`xfreerdp3`, a path), when it names one.
    pub freerdp_program: Option<String>,
    /// Further low-risk .rdp properties to write as they are (display and performance tuning).
    pub extra: BTreeMap<String, Value>,
    /// The certificate that signs the .rdp files rdpl writes for this profile (mstsc, `rdpl rdp`).
    pub sign: Option<SignSettings>,
}

/// Where a profile's signing certificate is: absolute paths, read when a file is signed. A PFX password is
/// never stored here (it comes from `RDPL_PFX_PASSWORD` or standard input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignSettings {
    /// PEM (certificate, and the key unless `key` is set) or PFX/PKCS#12.
    pub cert: std::path::PathBuf,
    /// The PEM private key, when `cert` holds none.
    pub key: Option<std::path::PathBuf>,
}

/// Checks a signing certificate or key path: absolute (a relative one would depend on where rdpl runs) and
/// free of control characters.
pub fn sign_path(s: &str) -> Result<std::path::PathBuf, String> {
    if s.chars().any(char::is_control) {
        return Err("the path contains a control character".into());
    }
    let p = std::path::PathBuf::from(s);
    if !p.is_absolute() {
        return Err(format!("`{s}` is not an absolute path"));
    }
    Ok(p)
}

impl Profile {
    /// A profile with defaults for everything but the name and host.
    pub fn new(name: ProfileName, host: Host) -> Profile {
        Profile {
            name,
            host,
            port: Port::RDP,
            fallbacks: Vec::new(),
            alternate: None,
            user: None,
            domain: None,
            password_command: None,
            gateway: None,
            security: Security::default(),
            redirect: Redirect::default(),
            display: Display::default(),
            backend: Backend::default(),
            freerdp_program: None,
            extra: BTreeMap::new(),
            sign: None,
        }
    }

    /// The client `backend` names, with its exact program.
    pub fn client(&self) -> ClientChoice {
        ClientChoice {
            backend: self.backend,
            program: self.freerdp_program.clone(),
        }
    }

    /// The target as `host:port`.
    pub fn target(&self) -> TargetAddr {
        TargetAddr {
            host: self.host.clone(),
            port: Some(self.port),
        }
    }
}

/// The keys `rdpl profile set` understands (besides `rdp.<property>`).
pub const SETTING_KEYS: &[&str] = &[
    "host",
    "port",
    "fallback",
    "alternate",
    "user",
    "domain",
    "password.command",
    "backend",
    "gateway",
    "gateway.usage",
    "gateway.user",
    "gateway.domain",
    "gateway.password.command",
    "nla",
    "udp",
    "link",
    "tls.legacy",
    "redirect.clipboard",
    "redirect.drives",
    "redirect.printers",
    "redirect.smart_cards",
    "redirect.ports",
    "redirect.usb",
    "redirect.cameras",
    "redirect.webauthn",
    "redirect.pos_devices",
    "redirect.location",
    "redirect.microphone",
    "redirect.audio",
    "display.width",
    "display.height",
    "display.full_screen",
    "display.multimon",
    "sign.cert",
    "sign.key",
];

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(format!("expected on or off, not `{s}`")),
    }
}

fn parse_list<T: FromStr>(s: &str) -> Result<Vec<T>, String>
where
    T::Err: fmt::Display,
{
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<T>().map_err(|e| e.to_string()))
        .collect()
}

fn optional<T>(s: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if s.is_empty() { Ok(None) } else { f(s).map(Some) }
}

fn account(what: &str, s: &str) -> Result<String, String> {
    check_account_field(what, s).map(|()| s.to_owned())
}

fn dimension(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|_| format!("expected a number of pixels, not `{s}`"))?;
    if (200..=8192).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 200..=8192"))
    }
}

impl Profile {
    /// Applies one `KEY=VALUE` setting. An empty value clears optional settings.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        let err = |e: String| format!("{key}: {e}");
        match key {
            "host" => {
                let t: TargetAddr = value
                    .parse()
                    .map_err(|e: crate::name::NameError| err(e.to_string()))?;
                self.host = t.host;
                if let Some(p) = t.port {
                    self.port = p;
                }
            }
            "port" => {
                self.port = value
                    .parse()
                    .map_err(|e: crate::name::NameError| err(e.to_string()))?
            }
            "fallback" => self.fallbacks = parse_list(value).map_err(err)?,
            "alternate" => {
                self.alternate = optional(value, |v| {
                    v.parse().map_err(|e: crate::name::NameError| e.to_string())
                })
                .map_err(err)?
            }
            "user" => self.user = optional(value, |v| account("user", v)).map_err(err)?,
            "domain" => self.domain = optional(value, |v| account("domain", v)).map_err(err)?,
            "password.command" => self.password_command = optional(value, str::parse).map_err(err)?,
            "backend" => {
                let c: ClientChoice = value.parse().map_err(err)?;
                self.backend = c.backend;
                self.freerdp_program = c.program;
            }
            "gateway" => {
                let usage = self.gateway.as_ref().map(|g| g.usage).unwrap_or_default();
                self.gateway = optional(value, |v| {
                    let t: TargetAddr = v.parse().map_err(|e: crate::name::NameError| e.to_string())?;
                    let (user, domain, password_command) = self
                        .gateway
                        .as_ref()
                        .map(|g| (g.user.clone(), g.domain.clone(), g.password_command.clone()))
                        .unwrap_or_default();
                    Ok(Gateway {
                        port: t.port_or(Port::HTTPS),
                        host: t.host,
                        usage,
                        user,
                        domain,
                        password_command,
                    })
                })
                .map_err(err)?;
            }
            "gateway.password.command" => match &mut self.gateway {
                Some(g) => g.password_command = optional(value, str::parse).map_err(err)?,
                None if value.is_empty() => {}
                None => return Err(err("the profile has no gateway; set `gateway=HOST` first".into())),
            },
            "gateway.user" | "gateway.domain" => match &mut self.gateway {
                Some(g) => {
                    let what = if key == "gateway.user" { "user" } else { "domain" };
                    let v = optional(value, |v| account(what, v)).map_err(err)?;
                    if key == "gateway.user" {
                        g.user = v;
                    } else {
                        g.domain = v;
                    }
                }
                None if value.is_empty() => {}
                None => return Err(err("the profile has no gateway; set `gateway=HOST` first".into())),
            },
            "gateway.usage" => match &mut self.gateway {
                Some(g) => g.usage = value.parse().map_err(err)?,
                None => return Err(err("the profile has no gateway; set `gateway=HOST` first".into())),
            },
            "nla" => self.security.nla = value.parse().map_err(err)?,
            "udp" => self.security.udp = value.parse().map_err(err)?,
            "link" => self.security.link = value.parse().map_err(err)?,
            "tls.legacy" => self.security.tls_legacy = value.parse().map_err(err)?,
            "redirect.drives" => {
                let drives: Vec<String> = value
                    .split([',', ';'])
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect();
                for d in &drives {
                    check_account_field("a drive", d).map_err(err)?;
                }
                self.redirect.drives = drives;
            }
            "redirect.audio" => self.redirect.audio = value.parse().map_err(err)?,
            "display.width" => self.display.width = optional(value, dimension).map_err(err)?,
            "display.height" => self.display.height = optional(value, dimension).map_err(err)?,
            // Clearing the certificate clears its key too.
            "sign.cert" => {
                let key = self.sign.take().and_then(|s| s.key);
                self.sign = optional(value, sign_path)
                    .map_err(err)?
                    .map(|cert| SignSettings { cert, key });
            }
            "sign.key" => match &mut self.sign {
                Some(s) => s.key = optional(value, sign_path).map_err(err)?,
                None if value.is_empty() => {}
                None => {
                    return Err(err(
                        "the profile has no signing certificate; set `sign.cert=PATH` first".into(),
                    ));
                }
            },
            k if k.starts_with("rdp.") => {
                let name = &k[4..];
                if value.is_empty() {
                    let canonical = catalogue::lookup(name).map_or(name, |s| s.name);
                    self.extra.remove(canonical);
                } else {
                    let spec =
                        catalogue::lookup(name).ok_or_else(|| err("not a known .rdp property".into()))?;
                    let v = match spec.ty {
                        crate::rdp::catalogue::ValueType::Int => Value::Int(
                            value
                                .parse()
                                .map_err(|_| err(format!("expected a whole number, not `{value}`")))?,
                        ),
                        _ => Value::Str(value.to_owned()),
                    };
                    let canonical = check_extra(name, &v).map_err(err)?;
                    self.extra.insert(canonical.to_owned(), v);
                }
            }
            k => {
                let b = parse_bool(value).map_err(err);
                let r = &mut self.redirect;
                let d = &mut self.display;
                let slot = match k {
                    "redirect.clipboard" => &mut r.clipboard,
                    "redirect.printers" => &mut r.printers,
                    "redirect.smart_cards" => &mut r.smart_cards,
                    "redirect.ports" => &mut r.ports,
                    "redirect.usb" => &mut r.usb,
                    "redirect.cameras" => &mut r.cameras,
                    "redirect.webauthn" => &mut r.webauthn,
                    "redirect.pos_devices" => &mut r.pos_devices,
                    "redirect.location" => &mut r.location,
                    "redirect.microphone" => &mut r.microphone,
                    "display.full_screen" => &mut d.full_screen,
                    "display.multimon" => &mut d.multimon,
                    _ => return Err(format!("unknown setting `{key}`")),
                };
                *slot = b?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's values: 0 and 4 do not use a gateway, 3 uses the default settings (and is written back as 3).
    #[test]
    fn gateway_usage_values_follow_microsofts_documentation() {
        let read: Vec<_> = (0..=5).map(GatewayUsage::from_rdp).collect();
        assert_eq!(
            read,
            [
                Some(GatewayUsage::Never),
                Some(GatewayUsage::Always),
                Some(GatewayUsage::Detect),
                Some(GatewayUsage::Default),
                Some(GatewayUsage::Never),
                None
            ]
        );
        for u in [
            GatewayUsage::Never,
            GatewayUsage::Always,
            GatewayUsage::Detect,
            GatewayUsage::Default,
        ] {
            assert_eq!(GatewayUsage::from_rdp(u.rdp_value()), Some(u), "{u} round-trips");
        }
        assert_eq!(GatewayUsage::Default.rdp_value(), 3);
    }

    fn profile() -> Profile {
        Profile::new("p".parse().expect("name"), Host::Name("h.test".into()))
    }

    #[test]
    fn every_key_can_be_set() {
        let mut p = profile();
        let values = [
            ("host", "web01.corp:3390"),
            ("port", "3391"),
            ("fallback", "10.0.0.5, [::1]:3389"),
            ("alternate", "alt.corp"),
            ("user", "alice"),
            ("domain", "CORP"),
            ("backend", "xfreerdp"),
            ("gateway", "gw.corp:8443"),
            ("gateway.usage", "detect"),
            ("gateway.user", "gwuser"),
            ("gateway.domain", "GW"),
            ("tls.legacy", "allow"),
            ("password.command", "pass show 'corp/alice smith'"),
            ("gateway.password.command", "secret-tool lookup service gw"),
            ("nla", "on"),
            ("udp", "off"),
            ("link", "vpn"),
            ("redirect.drives", "C:,D:"),
            ("redirect.audio", "local"),
            ("display.width", "1920"),
            ("display.height", "1080"),
            (
                "sign.cert",
                if cfg!(windows) {
                    r"C:\certs\rdp.pfx"
                } else {
                    "/etc/rdpl/rdp.pfx"
                },
            ),
            (
                "sign.key",
                if cfg!(windows) {
                    r"C:\certs\rdp.key"
                } else {
                    "/etc/rdpl/rdp.key"
                },
            ),
        ];
        for key in SETTING_KEYS {
            let value = values.iter().find(|(k, _)| k == key).map_or("on", |(_, v)| v);
            p.set(key, value).unwrap_or_else(|e| panic!("{key}={value}: {e}"));
        }
        assert_eq!(p.port.get(), 3391);
        assert_eq!(p.security.link, Link::Vpn);
        assert!(p.set("link", "satellite").is_err());
        assert_eq!(p.fallbacks.len(), 2);
        assert_eq!(
            p.gateway.as_ref().map(|g| (g.port.get(), g.usage)),
            Some((8443, GatewayUsage::Detect))
        );
        assert!(p.redirect.printers && p.redirect.webauthn && p.display.multimon);
        assert_eq!(p.redirect.drives, vec!["C:".to_owned(), "D:".to_owned()]);
        p.set("rdp.session bpp", "24").expect("extra");
        assert_eq!(p.extra.get("session bpp"), Some(&Value::Int(24)));
        p.set("rdp.session bpp", "").expect("clear extra");
        assert!(p.extra.is_empty());
        p.set("user", "").expect("clear user");
        assert_eq!(p.user, None);
        assert!(p.sign.as_ref().is_some_and(|s| s.key.is_some()));
        assert!(p.set("sign.cert", "relative.pem").is_err());
        p.set("sign.cert", "").expect("clear");
        assert_eq!(p.sign, None);
        assert!(p.set("sign.key", "/k.pem").is_err());
    }

    #[test]
    fn bad_settings_are_refused_with_the_key() {
        let mut p = profile();
        for (k, v) in [
            ("port", "0"),
            ("user", "a\nb"),
            ("nla", "maybe"),
            ("gateway.usage", "always"),
            ("display.width", "5"),
            ("rdp.alternate shell", "cmd"),
            ("rdp.nonsense", "1"),
            ("redirect.clipboard", "perhaps"),
            ("hots", "x"),
        ] {
            let e = p.set(k, v).expect_err(k);
            assert!(e.contains(k), "{e}");
        }
        assert_eq!(p, profile(), "a refused setting changes nothing");
    }
}

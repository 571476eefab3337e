//! Parsed newtypes for the things users type: profile names, host names, ports and `host[:port]` targets.
//!
//! Each has a `FromStr` with a typed error, so bad input is rejected where it enters (CLI, TOML, .rdp import)
//! and every later stage can trust it.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Why a name, host or address was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the name contains {what}, which is not allowed")]
    BadChar { what: String },
    #[error("`{0}` is reserved (it is not a usable file name on Windows)")]
    Reserved(String),
    #[error("invalid host `{host}`: {why}")]
    BadHost { host: String, why: &'static str },
    #[error("invalid port `{0}`: expected a number from 1 to 65535")]
    BadPort(String),
}

/// Describes a character for an error message without echoing control characters.
fn describe(c: char) -> String {
    match c {
        '/' | '\\' => format!("a path separator (`{c}`)"),
        c if c.is_control() => format!("a control character (U+{:04X})", u32::from(c)),
        c => format!("`{c}`"),
    }
}

/// A validated profile name: 1 to 64 characters, usable as a file name on every OS.
///
/// Rejected: path separators, control characters, characters Windows forbids in file names
/// (`<>:"|?*`), leading dots or dashes, trailing dots or spaces, and Windows device names.
/// Comparison between profile names is case-insensitive (see [`ProfileName::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    /// Longest accepted name, in characters.
    pub const MAX_LEN: usize = 64;

    /// The name as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form used to compare names.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The form under which two names look alike (UTS #39 confusable skeleton, then case-folded): `web01`,
    /// `WEB0l` and `wеb01` (Cyrillic `е`) share one.
    pub fn look(&self) -> String {
        unicode_security::skeleton(&self.0)
            .collect::<String>()
            .to_lowercase()
    }

    /// The first of `existing` that looks like this name without being it (case aside): worth a warning, as
    /// a look-alike name makes it easy to connect to the wrong profile.
    pub fn look_alike<'a>(
        &self,
        existing: impl IntoIterator<Item = &'a ProfileName>,
    ) -> Option<&'a ProfileName> {
        let (key, look) = (self.key(), self.look());
        existing.into_iter().find(|e| e.key() != key && e.look() == look)
    }

    /// A name for an ad-hoc target: the host, made valid, or `adhoc` when nothing of it is usable.
    pub fn for_host(host: &Host) -> ProfileName {
        ProfileName::sanitized_from(&host.to_string()).unwrap_or_else(|| ProfileName("adhoc".to_owned()))
    }

    /// Turns arbitrary text (a file stem, a host name) into a valid name, if anything usable is left.
    pub fn sanitized_from(text: &str) -> Option<ProfileName> {
        let mut s: String = text
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.@+".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        s = s
            .trim_start_matches(['.', '-'])
            .trim_end_matches(['.', ' '])
            .to_owned();
        let s: String = s.chars().take(Self::MAX_LEN).collect();
        s.parse().ok()
    }
}

/// Format characters that change how a name looks or reads without being seen: zero-width characters,
/// bidi marks, embeddings, overrides and isolates, the byte order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether Windows treats a file named `name` (plus `.toml`) as a device: `CON`, `PRN`, `AUX`, `NUL`,
/// `CONIN$`, `CONOUT$`, `COM0`-`COM9` and `LPT0`-`LPT9` with the superscript digits ¹²³ too, in any case,
/// whatever follows the first dot, and with the spaces Windows drops before it (`lpt9 .x`).
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end_matches(' ')
        .to_uppercase();
    if ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&stem.as_str()) {
        return true;
    }
    let mut chars = stem.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

impl FromStr for ProfileName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(NameError::TooLong { max: Self::MAX_LEN });
        }
        if let Some(c) = s.chars().find(|&c| c.is_control() || "/\\<>:\"|?*".contains(c)) {
            return Err(NameError::BadChar { what: describe(c) });
        }
        if s.starts_with('.') || s.starts_with('-') {
            return Err(NameError::BadChar {
                what: "a leading `.` or `-`".into(),
            });
        }
        if s.ends_with('.') || s.ends_with(' ') || s.starts_with(' ') {
            return Err(NameError::BadChar {
                what: "a leading or trailing space or dot".into(),
            });
        }
        if let Some(c) = s.chars().find(|&c| invisible(c)) {
            return Err(NameError::BadChar {
                what: format!(
                    "an invisible or direction-changing character (U+{:04X})",
                    u32::from(c)
                ),
            });
        }
        if is_windows_device(s) {
            return Err(NameError::Reserved(s.to_owned()));
        }
        Ok(ProfileName(s.to_owned()))
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProfileName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A host: an IP address literal or a DNS/NetBIOS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A name to resolve: ASCII, as written when it was ASCII, else its IDNA (punycode) form; DNS is
    /// case-insensitive.
    Name(String),
}

impl Host {
    /// The IP address, when the host is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

impl FromStr for Host {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why| NameError::BadHost {
            host: s.escape_debug().to_string(),
            why,
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        let inner = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
        if let Ok(ip) = inner.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        // An international name is normalised once, here, to its ASCII form (IDNA, UTS #46: `bücher.corp.test`
        // is `xn--bcher-kva.corp.test`), so DNS, certificate names, pins and state all see one spelling.
        let ascii;
        let s = if s.is_ascii() {
            s
        } else {
            ascii =
                idna::domain_to_ascii(s).map_err(|_| bad("it is not a valid international domain name"))?;
            ascii.as_str()
        };
        if s.len() > 253 {
            return Err(bad("a host name has at most 253 characters"));
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        for label in name.split('.') {
            if label.is_empty() {
                return Err(bad("it has an empty label (`..`)"));
            }
            if label.len() > 63 {
                return Err(bad("a label has at most 63 characters"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(bad("a label starts or ends with `-`"));
            }
            if !label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
                return Err(bad(
                    "only letters, digits, `-`, `_` and `.` are allowed in a host name",
                ));
            }
        }
        Ok(Host::Name(s.to_owned()))
    }
}

impl Host {
    /// Whether a host name as it was written (`written`, before IDNA) mixes scripts within a label, the
    /// way look-alikes do (`pаypal.com` with a Cyrillic `а`). ASCII names and names in one script per
    /// label are not mixed. The parsed [`Host`] is already ASCII (punycode), so this judges the text.
    pub fn mixed_script(written: &str) -> bool {
        use unicode_security::MixedScript;
        !written.is_ascii() && written.split('.').any(|label| !label.is_single_script())
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl TryFrom<String> for Host {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Host> for String {
    fn from(h: Host) -> String {
        h.to_string()
    }
}

/// A TCP port (never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(u16);

impl Port {
    /// The RDP default, 3389.
    pub const RDP: Port = Port(3389);
    /// The HTTPS default used by RD Gateways, 443.
    pub const HTTPS: Port = Port(443);

    /// Makes a port; `None` for 0.
    pub fn new(n: u16) -> Option<Port> {
        (n != 0).then_some(Port(n))
    }

    /// The number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl FromStr for Port {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<u16>()
            .ok()
            .and_then(Port::new)
            .ok_or_else(|| NameError::BadPort(s.to_owned()))
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetAddr {
    /// The host.
    pub host: Host,
    /// The port, when one was given.
    pub port: Option<Port>,
}

impl TargetAddr {
    /// The port, or `default` when none was given.
    pub fn port_or(&self, default: Port) -> Port {
        self.port.unwrap_or(default)
    }
}

impl FromStr for TargetAddr {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or(NameError::BadHost {
                host: s.to_owned(),
                why: "missing `]`",
            })?;
            let host: Host = host.parse()?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or(NameError::BadHost {
                            host: s.to_owned(),
                            why: "expected `:port` after `]`",
                        })?
                        .parse()?,
                ),
            };
            return Ok(TargetAddr { host, port });
        }
        // A bare IPv6 literal has several colons and no port.
        if s.matches(':').count() > 1 {
            let ip: IpAddr = s.parse().map_err(|_| NameError::BadHost {
                host: s.to_owned(),
                why: "an IPv6 address with a port is written [addr]:port",
            })?;
            return Ok(TargetAddr {
                host: Host::Ip(ip),
                port: None,
            });
        }
        match s.split_once(':') {
            Some((h, p)) => Ok(TargetAddr {
                host: h.parse()?,
                port: Some(p.parse()?),
            }),
            None => Ok(TargetAddr {
                host: s.parse()?,
                port: None,
            }),
        }
    }
}

impl fmt::Display for TargetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (Host::Ip(IpAddr::V6(ip)), Some(p)) => write!(f, "[{ip}]:{p}"),
            (h, Some(p)) => write!(f, "{h}:{p}"),
            (h, None) => write!(f, "{h}"),
        }
    }
}

impl TryFrom<String> for TargetAddr {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TargetAddr> for String {
    fn from(t: TargetAddr) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("web01")]
    #[case("Web 01 (prod)")]
    #[case("db.corp-1")]
    #[case("ünïcode")]
    fn good_profile_names(#[case] s: &str) {
        assert_eq!(s.parse::<ProfileName>().map(|n| n.to_string()), Ok(s.to_owned()));
    }

    #[rstest]
    #[case("", NameError::Empty)]
    #[case("a/b", NameError::BadChar { what: "a path separator (`/`)".into() })]
    #[case("a\\b", NameError::BadChar { what: "a path separator (`\\`)".into() })]
    #[case("a\nb", NameError::BadChar { what: "a control character (U+000A)".into() })]
    #[case("..", NameError::BadChar { what: "a leading `.` or `-`".into() })]
    #[case("-rf", NameError::BadChar { what: "a leading `.` or `-`".into() })]
    #[case("x:y", NameError::BadChar { what: "`:`".into() })]
    #[case("trailing.", NameError::BadChar { what: "a leading or trailing space or dot".into() })]
    #[case("con", NameError::Reserved("con".into()))]
    #[case("COM1.x", NameError::Reserved("COM1.x".into()))]
    // Windows devices the first check missed (issue #20): superscript digits, the console, a space before the dot.
    #[case("COM¹", NameError::Reserved("COM¹".into()))]
    #[case("lpt³.toml", NameError::Reserved("lpt³.toml".into()))]
    #[case("CONIN$", NameError::Reserved("CONIN$".into()))]
    #[case("conout$.x", NameError::Reserved("conout$.x".into()))]
    #[case("lpt9 .x", NameError::Reserved("lpt9 .x".into()))]
    #[case("COM0", NameError::Reserved("COM0".into()))]
    #[case("web\u{202e}10", NameError::BadChar { what: "an invisible or direction-changing character (U+202E)".into() })]
    #[case("web\u{200b}01", NameError::BadChar { what: "an invisible or direction-changing character (U+200B)".into() })]
    fn bad_profile_names(#[case] s: &str, #[case] err: NameError) {
        assert_eq!(s.parse::<ProfileName>(), Err(err));
    }

    #[test]
    fn look_alike_names_are_found_and_distinct_ones_are_not() {
        let existing: Vec<ProfileName> = ["web01", "db-prod", "Paypal"]
            .iter()
            .map(|n| n.parse().expect("name"))
            .collect();
        let alike = |n: &str| {
            n.parse::<ProfileName>()
                .expect("name")
                .look_alike(&existing)
                .map(ToString::to_string)
        };
        assert_eq!(alike("web0l"), Some("web01".into()));
        assert_eq!(alike("WEBO1"), Some("web01".into()));
        assert_eq!(alike("w\u{0435}b01"), Some("web01".into()), "Cyrillic e");
        assert_eq!(alike("db-prоd"), Some("db-prod".into()), "Cyrillic o");
        assert_eq!(alike("PayPaI"), Some("Paypal".into()));
        assert_eq!(
            alike("WEB01"),
            None,
            "the same name in another case is the same profile"
        );
        assert_eq!(alike("web02"), None);
        assert_eq!(alike("db-test"), None);
    }

    #[test]
    fn names_that_only_look_like_devices_are_fine() {
        for ok in [
            "COM10",
            "console",
            "com",
            "lpt",
            "COMA",
            "nul-server",
            "auxiliary",
            "CON-1",
            "COM¹0",
        ] {
            assert!(ok.parse::<ProfileName>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn too_long_profile_name() {
        assert_eq!(
            "x".repeat(65).parse::<ProfileName>(),
            Err(NameError::TooLong { max: 64 })
        );
    }

    #[rstest]
    #[case("web01", "web01", None)]
    #[case("web01.corp:3390", "web01.corp", Some(3390))]
    #[case("10.0.0.5", "10.0.0.5", None)]
    #[case("[::1]:3389", "::1", Some(3389))]
    #[case("fe80::1", "fe80::1", None)]
    #[case(" host.example ", "host.example", None)]
    // Underscores are legal in DNS and common in Windows networks.
    #[case("a_b.corp.test", "a_b.corp.test", None)]
    // International names become their ASCII form once, here (IDNA, UTS #46).
    #[case("bücher.corp.test:3390", "xn--bcher-kva.corp.test", Some(3390))]
    #[case("BÜCHER.corp.test", "xn--bcher-kva.corp.test", None)]
    #[case("xn--bcher-kva.corp.test", "xn--bcher-kva.corp.test", None)]
    fn good_targets(#[case] s: &str, #[case] host: &str, #[case] port: Option<u16>) {
        let t: TargetAddr = s.parse().expect("parses");
        assert_eq!(t.host.to_string(), host);
        assert_eq!(t.port.map(Port::get), port);
    }

    #[rstest]
    #[case("")]
    #[case("host:0")]
    #[case("host:99999")]
    #[case("ho st")]
    #[case("a..b")]
    #[case("[::1")]
    #[case("fe80::1:3389:zz")]
    #[case("-bad.example")]
    fn bad_targets(#[case] s: &str) {
        assert!(s.parse::<TargetAddr>().is_err(), "{s:?} should be rejected");
    }

    #[test]
    fn mixed_scripts_in_a_label_are_look_alikes() {
        assert!(Host::mixed_script("p\u{0430}ypal.com"), "Cyrillic а among Latin");
        assert!(Host::mixed_script("rdp.\u{0441}orp.test"), "Cyrillic с");
        assert!(!Host::mixed_script("bücher.corp.test"), "Latin only");
        assert!(!Host::mixed_script("пример.испытание"), "Cyrillic only");
        assert!(!Host::mixed_script("web01.corp.test"));
        assert_eq!(
            "p\u{0430}ypal.com".parse::<Host>().map(|h| h.to_string()),
            Ok("xn--pypal-4ve.com".to_owned())
        );
    }

    #[test]
    fn target_display_round_trips() {
        for s in ["web01", "web01:3390", "[::1]:3389", "10.0.0.1:1"] {
            assert_eq!(s.parse::<TargetAddr>().map(|t| t.to_string()), Ok(s.to_owned()));
        }
    }

    #[test]
    fn sanitized_names() {
        assert_eq!(
            ProfileName::sanitized_from("My Server/prod").map(|n| n.to_string()),
            Some("My-Server-prod".into())
        );
        assert_eq!(ProfileName::sanitized_from("...").map(|n| n.to_string()), None);
    }
}

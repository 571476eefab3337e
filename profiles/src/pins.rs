//! Certificate pins: trust on first use, like SSH's known_hosts. One pin per `host:port` (the name the user
//! connects to, so a fallback IP serving the same certificate still matches).
//!
//! This module is pure: the types, and [`PinSet::check`] which compares what a server presented with what
//! was pinned. Reading and writing `pins.toml` is in [`crate::store`].

use std::collections::BTreeMap;

/// What is remembered about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    /// SHA-256 of the DER certificate, lowercase hex.
    pub sha256: String,
    /// Subject, as text.
    pub subject: String,
    /// Issuer, as text.
    pub issuer: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// When rdpl first pinned it (RFC 3339).
    pub first_seen: String,
    /// When rdpl last saw it (RFC 3339).
    pub last_seen: String,
}

/// The result of comparing a presented certificate with the pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinStatus {
    /// No pin for this host and port yet.
    New,
    /// The pinned certificate.
    Match,
    /// A different certificate than the pinned one.
    Changed {
        /// The pin on record.
        old: Pin,
    },
}

impl PinStatus {
    /// `new`, `match` or `changed`, as in the JSON contract.
    pub fn as_str(&self) -> &'static str {
        match self {
            PinStatus::New => "new",
            PinStatus::Match => "match",
            PinStatus::Changed { .. } => "changed",
        }
    }
}

/// All pins, keyed by `host:port` (host lowercased).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinSet {
    /// Schema version of pins.toml.
    #[serde(default = "one")]
    pub version: u32,
    /// The pins.
    #[serde(default)]
    pub pins: BTreeMap<String, Pin>,
}

fn one() -> u32 {
    1
}

impl Default for PinSet {
    /// No pins, at the current schema version (a derived default wrote `version = 0`).
    fn default() -> PinSet {
        PinSet {
            version: one(),
            pins: BTreeMap::new(),
        }
    }
}

/// The key of a host and port.
pub fn key(host: &str, port: u16) -> String {
    format!("{}:{port}", host.trim_end_matches('.').to_lowercase())
}

impl PinSet {
    /// Compares a presented certificate fingerprint with the pin for `host:port`.
    pub fn check(&self, host: &str, port: u16, sha256: &str) -> PinStatus {
        match self.pins.get(&key(host, port)) {
            None => PinStatus::New,
            Some(p) if p.sha256.eq_ignore_ascii_case(sha256) => PinStatus::Match,
            Some(p) => PinStatus::Changed { old: p.clone() },
        }
    }

    /// Records (or replaces) the pin for `host:port`, keeping `first_seen` when the certificate is the same.
    pub fn record(&mut self, host: &str, port: u16, mut pin: Pin) {
        let k = key(host, port);
        if let Some(old) = self
            .pins
            .get(&k)
            .filter(|o| o.sha256.eq_ignore_ascii_case(&pin.sha256))
        {
            pin.first_seen = old.first_seen.clone();
        }
        self.pins.insert(k, pin);
    }

    /// Forgets the pin for `host:port`; returns it if there was one.
    pub fn forget(&mut self, host: &str, port: u16) -> Option<Pin> {
        self.pins.remove(&key(host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(sha: &str, first: &str) -> Pin {
        Pin {
            sha256: sha.into(),
            subject: "CN=a".into(),
            issuer: "CN=a".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            first_seen: first.into(),
            last_seen: first.into(),
        }
    }

    #[test]
    fn new_match_changed() {
        let mut set = PinSet::default();
        assert_eq!(set.check("Web01.corp.", 3389, "aa"), PinStatus::New);
        set.record("web01.corp", 3389, pin("aa", "t1"));
        assert_eq!(set.check("WEB01.corp", 3389, "AA"), PinStatus::Match);
        assert_eq!(set.check("web01.corp", 3390, "aa"), PinStatus::New);
        assert!(
            matches!(set.check("web01.corp", 3389, "bb"), PinStatus::Changed { old } if old.sha256 == "aa")
        );
        set.record("web01.corp", 3389, pin("aa", "t2"));
        assert_eq!(
            set.pins["web01.corp:3389"].first_seen, "t1",
            "first_seen survives a re-record"
        );
        assert!(set.forget("web01.corp", 3389).is_some());
        assert!(set.pins.is_empty());
    }
}

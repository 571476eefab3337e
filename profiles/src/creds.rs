//! The credential index: what rdpl has saved in the OS keyring, without the secrets. The keyring holds the
//! passwords; this file remembers which entries rdpl made, for which profile, in which store, and which ones
//! a server rejected, so `rdpl creds list` can show them and `connect` can find stale ones. Losing it loses no
//! password (the keyring entries stay), only rdpl's bookkeeping.
//!
//! Pure types; reading and writing `state/credentials.toml` is in [`crate::store`].

use std::fmt;

/// One saved credential: an account on a host, as the user spells the host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct CredKey {
    /// The host as written in the profile (lowercased), or an IP address.
    pub host: String,
    /// The user name.
    pub user: String,
    /// The domain, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl CredKey {
    /// A key; the host is lowercased (DNS names are case-insensitive).
    pub fn new(host: &str, user: &str, domain: Option<&str>) -> CredKey {
        CredKey {
            host: host.to_ascii_lowercase(),
            user: user.to_owned(),
            domain: domain.filter(|d| !d.is_empty()).map(str::to_owned),
        }
    }

    /// `DOMAIN\user` or `user`.
    pub fn account(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}\\{}", self.user),
            None => self.user.clone(),
        }
    }

    /// The keyring entry's user field: `DOMAIN\user@host`.
    pub fn keyring_user(&self) -> String {
        format!("{}@{}", self.account(), self.host)
    }
}

impl fmt::Display for CredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.account(), self.host)
    }
}

/// Which credential store holds an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    /// The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus.
    SecretService,
    /// The Linux kernel keyring (keyutils), used when no Secret Service answers.
    Keyutils,
    /// Windows Credential Manager.
    WindowsCredentialManager,
    /// The macOS Keychain.
    MacosKeychain,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreKind::SecretService => "Secret Service",
            StoreKind::Keyutils => "kernel keyring",
            StoreKind::WindowsCredentialManager => "Windows Credential Manager",
            StoreKind::MacosKeychain => "macOS Keychain",
        })
    }
}

/// What rdpl remembers about one saved credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CredRecord {
    /// Whose credential.
    #[serde(flatten)]
    pub key: CredKey,
    /// The profile it was saved for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Where the secret is.
    pub store: StoreKind,
    /// When it was saved (RFC 3339).
    pub saved: String,
    /// When a server last rejected it (RFC 3339); such an entry is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
}

/// The index file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CredIndex {
    /// Schema version.
    #[serde(default = "one")]
    pub version: u32,
    /// The entries, sorted by key.
    #[serde(default, rename = "credential")]
    pub entries: Vec<CredRecord>,
}

fn one() -> u32 {
    1
}

impl Default for CredIndex {
    fn default() -> Self {
        CredIndex {
            version: 1,
            entries: Vec::new(),
        }
    }
}

impl CredIndex {
    /// The record of a key.
    pub fn get(&self, key: &CredKey) -> Option<&CredRecord> {
        self.entries.iter().find(|r| &r.key == key)
    }

    /// Adds or replaces a record (a new save clears a failure mark).
    pub fn upsert(&mut self, record: CredRecord) {
        self.entries.retain(|r| r.key != record.key);
        self.entries.push(record);
        self.entries.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Removes a record; whether there was one.
    pub fn remove(&mut self, key: &CredKey) -> bool {
        let before = self.entries.len();
        self.entries.retain(|r| &r.key != key);
        before != self.entries.len()
    }

    /// Marks a record as rejected by the server; whether there was one.
    pub fn mark_failed(&mut self, key: &CredKey, when: &str, reason: &str) -> bool {
        match self.entries.iter_mut().find(|r| &r.key == key) {
            Some(r) => {
                r.failed = Some(when.to_owned());
                r.failed_reason = Some(reason.to_owned());
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str, user: &str) -> CredRecord {
        CredRecord {
            key: CredKey::new(host, user, Some("CORP")),
            profile: Some("web01".into()),
            store: StoreKind::SecretService,
            saved: "2026-11-22T00:00:00Z".into(),
            failed: None,
            failed_reason: None,
        }
    }

    #[test]
    fn keys_lowercase_the_host_and_spell_the_account() {
        let k = CredKey::new("Web01.Corp.TEST", "alice", Some("CORP"));
        assert_eq!(k.host, "web01.corp.test");
        assert_eq!(k.account(), "CORP\\alice");
        assert_eq!(k.keyring_user(), "CORP\\alice@web01.corp.test");
        assert_eq!(CredKey::new("h", "bob", Some("")).account(), "bob");
    }

    #[test]
    fn upsert_replaces_and_clears_the_failure_mark() {
        let mut idx = CredIndex::default();
        idx.upsert(record("b", "alice"));
        idx.upsert(record("a", "alice"));
        let key = CredKey::new("b", "alice", Some("CORP"));
        assert!(idx.mark_failed(&key, "2026-11-22T01:00:00Z", "logon failure"));
        assert!(idx.get(&key).and_then(|r| r.failed.as_ref()).is_some());
        idx.upsert(record("b", "alice"));
        assert_eq!(idx.entries.len(), 2);
        assert_eq!(idx.entries[0].key.host, "a", "sorted by key");
        assert!(idx.get(&key).and_then(|r| r.failed.as_ref()).is_none());
        assert!(idx.remove(&key));
        assert!(!idx.remove(&key));
        assert!(!idx.mark_failed(&key, "x", "y"));
    }

    #[test]
    fn round_trips_through_toml() {
        let mut idx = CredIndex::default();
        let mut r = record("web01.corp.test", "alice");
        r.failed = Some("2026-11-22T01:00:00Z".into());
        r.failed_reason = Some("the server rejected the password".into());
        idx.upsert(r);
        let text = toml::to_string(&idx).expect("serialize");
        assert!(text.contains("[[credential]]"), "{text}");
        let back: CredIndex = toml::from_str(&text).expect("parse");
        assert_eq!(back, idx);
    }
}

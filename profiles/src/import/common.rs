//! What the importers share: the formats, the batch of profiles a file gives (with what was skipped and why),
//! the draft profile an importer fills in, XML without DTDs, and the wording of notes.

use std::fmt;

use crate::convert::ImportNote;
use crate::name::{Host, ProfileName, TargetAddr};
use crate::profile::Profile;
use crate::rdp::sanitize::Policy;

/// The kind of file [`detect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An .rdp file (handled by [`crate::convert`], not here).
    Rdp,
    /// A Remmina connection file (GLib key file, group `[remmina]`).
    Remmina,
    /// mRemoteNG's `confCons.xml` (root element `Connections`).
    #[serde(rename = "mremoteng")]
    MRemoteNg,
    /// Remote Desktop Connection Manager's `.rdg` (root element `RDCMan`).
    #[serde(rename = "rdcman")]
    RdcMan,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Rdp => ".rdp",
            Format::Remmina => "Remmina",
            Format::MRemoteNg => "mRemoteNG",
            Format::RdcMan => "RDCMan",
        })
    }
}

/// Why a connection manager's file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManagerError {
    #[error("the file is not UTF-8 or UTF-16 text")]
    NotText,
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("{format} file without {what}")]
    Missing { format: Format, what: &'static str },
    #[error(
        "the whole mRemoteNG file is encrypted (FullFileEncryption); export it from mRemoteNG without full-file \
         encryption first"
    )]
    FullyEncrypted,
}

/// One connection that became a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it sits in the source file (`Group/Sub/Name`), for messages.
    pub source: String,
    /// The new profile (its name from the entry's name; see [`name_for`]).
    pub profile: Profile,
    /// Settings not adopted, or adopted differently.
    pub notes: Vec<ImportNote>,
}

/// An entry that did not become a profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Where it sits in the source file.
    pub source: String,
    /// Why.
    pub reason: String,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// What the file was.
    pub format: Format,
    /// The profiles, in file order, with unique names (case-insensitively).
    pub entries: Vec<Entry>,
    /// Entries that were not imported: other protocols, no host, a name another entry took.
    pub skipped: Vec<Skipped>,
    /// Notes about the file as a whole (encrypted passwords, ...).
    pub notes: Vec<ImportNote>,
}

pub(crate) fn xml_options<'i>() -> roxmltree::ParsingOptions<'i> {
    // confCons.xml and .rdg files have no DTD; refusing one keeps entity expansion out entirely.
    roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    }
}

pub(crate) fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, ManagerError> {
    roxmltree::Document::parse_with_options(text, xml_options()).map_err(|e| ManagerError::Xml(e.to_string()))
}

/// The profile name for an entry: its display name made a valid file name, else its host.
pub fn name_for(display: &str, host: &Host) -> ProfileName {
    ProfileName::sanitized_from(display.trim()).unwrap_or_else(|| ProfileName::for_host(host))
}

/// A profile being built from one entry: every setting goes through [`Profile::set`] (the same checks as
/// `rdpl profile set`); what it refuses becomes a note.
pub(crate) struct Draft<'a> {
    profile: Profile,
    notes: Vec<ImportNote>,
    policy: &'a Policy,
}

impl<'a> Draft<'a> {
    /// Starts from `host[:port]` (`port` wins when given); the name is set by [`Draft::finish`].
    pub(crate) fn new(address: &str, port: Option<&str>, policy: &'a Policy) -> Result<Draft<'a>, String> {
        let address = address.trim();
        if address.is_empty() {
            return Err("no host name or address".into());
        }
        let t: TargetAddr = address
            .parse()
            .map_err(|e| format!("the address `{address}`: {e}"))?;
        let mut profile = Profile::new(ProfileName::for_host(&t.host), t.host.clone());
        if let Some(p) = t.port {
            profile.port = p;
        }
        let mut d = Draft {
            profile,
            notes: Vec::new(),
            policy,
        };
        if let Some(port) = port.map(str::trim).filter(|p| !p.is_empty()) {
            d.set("port", "port", port);
        }
        Ok(d)
    }

    pub(crate) fn note(&mut self, source: &str, message: impl Into<String>) {
        self.notes.push(ImportNote {
            name: source.to_owned(),
            message: message.into(),
        });
    }

    /// `key=value` as `rdpl profile set` would; a refusal becomes a note on `source`.
    pub(crate) fn set(&mut self, source: &str, key: &str, value: &str) {
        if let Err(e) = self.profile.set(key, value) {
            self.note(source, format!("not adopted: {e}"));
        }
    }

    /// A user name that may be written `DOMAIN\user`; the domain part goes to `domain` unless one is set.
    pub(crate) fn user(&mut self, source: &str, value: &str) {
        let value = value.trim();
        match value.split_once('\\') {
            Some((dom, user)) if !dom.is_empty() && !user.is_empty() => {
                self.set(source, "user", user);
                if self.profile.domain.is_none() {
                    self.set(source, "domain", dom);
                }
            }
            _ => self.set(source, "user", value),
        }
    }

    /// A redirection the file turns on or off. On is adopted only when the policy allows `rdp_property`.
    pub(crate) fn redirect(&mut self, source: &str, key: &str, rdp_property: &str, on_value: Option<&str>) {
        match on_value {
            None => self.set(source, key, if key == "redirect.drives" { "" } else { "off" }),
            Some(v) if self.policy.allow.contains(rdp_property) => self.set(source, key, v),
            Some(_) => {
                self.set(source, key, if key == "redirect.drives" { "" } else { "off" });
                self.note(
                    source,
                    format!(
                        "turned off, as rdpl does for redirections in imported files; pass --allow {rdp_property} \
                         to keep it (or `rdpl profile set NAME {key}=...` later)"
                    ),
                );
            }
        }
    }

    /// The gateway `host[:port]` and when to use it.
    pub(crate) fn gateway(&mut self, source: &str, host: &str, usage: &str) {
        self.set(source, "gateway", host);
        if self.profile.gateway.is_some() {
            self.set(source, "gateway.usage", usage);
        }
    }

    pub(crate) fn profile(&self) -> &Profile {
        &self.profile
    }

    pub(crate) fn finish(mut self, display_name: &str, source: String) -> Entry {
        self.profile.name = name_for(display_name, &self.profile.host);
        Entry {
            source,
            profile: self.profile,
            notes: self.notes,
        }
    }
}

/// `True`/`true`/`1` and friends, as the managers write booleans.
/// The most names a connection's `source` shows: the nearest containers, after `…/` when there are more (a
/// deeply nested file would otherwise make the output, and the time to build it, grow with the square of
/// its depth).
pub(crate) const MAX_SOURCE_PARTS: usize = 8;

/// A connection's place in its file, `group/sub/name`, from its names nearest first (the connection's own
/// first); only the [`MAX_SOURCE_PARTS`] nearest are read.
pub(crate) fn source_path<'a>(nearest_first: impl Iterator<Item = &'a str>) -> String {
    let mut parts: Vec<&str> = nearest_first.take(MAX_SOURCE_PARTS + 1).collect();
    let deeper = parts.len() > MAX_SOURCE_PARTS;
    parts.truncate(MAX_SOURCE_PARTS);
    parts.reverse();
    let joined = parts.join("/");
    if deeper { format!("…/{joined}") } else { joined }
}

pub(crate) fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// The note every importer gives when an entry carries a saved password.
pub(crate) fn password_note(what: &str) -> String {
    format!(
        "not imported: {what}; rdpl never reads or stores passwords from other programs' files. Save one in \
         the OS keyring with `rdpl creds set`, or let `rdpl connect` ask"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_names_its_nearest_containers_only() {
        assert_eq!(
            source_path(["web01", "Web", "Corp"].into_iter()),
            "Corp/Web/web01"
        );
        let deep: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
        let s = source_path(deep.iter().map(String::as_str));
        assert_eq!(s, "…/c7/c6/c5/c4/c3/c2/c1/c0");
        let exactly: Vec<&str> = deep.iter().take(MAX_SOURCE_PARTS).map(String::as_str).collect();
        assert!(!source_path(exactly.into_iter()).starts_with('…'));
    }
}

//! The sanitizer: from any parsed file, a clean [`RdpDocument`] plus a report of every property removed,
//! changed or forced off, and why.
//!
//! Rules, by catalogue risk class (see [`Risk`]):
//! - unknown properties, lines with the wrong type and values outside the allowed set: removed;
//! - `Credential` (`password 51`, access tokens) and `Signature` (`signscope`, `signature`): always removed;
//! - `High` (alternate shell, RemoteApp, redirection server names, alternate addresses, KDC proxy): removed
//!   unless the policy allows that property;
//! - `Redirection` (drives, clipboard, printers, COM, USB, smart cards, WebAuthn, camera, audio capture, ...):
//!   set explicitly off unless allowed — also when absent, because mstsc turns some of them on by default;
//! - `Security`: values that weaken the connection (`authentication level:i:0` = connect without warning,
//!   `negotiate security layer:i:0` = no TLS, `enablecredsspsupport:i:0` = no NLA) are changed to the safe value;
//! - `Connection` and `Low`: kept.

use std::collections::{BTreeSet, HashMap};

use super::catalogue::{self, Risk, ValueType};
use super::parse::{Diagnostic, RdpFile, Value, is_secret_name};
use super::render::RdpDocument;

/// What the sanitizer may let through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Catalogue names (lowercase) of `High` or `Redirection` properties to keep as the file sets them.
    pub allow: BTreeSet<String>,
}

impl Policy {
    /// A policy that allows nothing: every redirection off, every high-risk property removed.
    pub fn strict() -> Policy {
        Policy::default()
    }

    /// Allows a property by name. Errors when the name is unknown, or can never be allowed (credentials and
    /// signatures), or needs no permission.
    pub fn allow(&mut self, name: &str) -> Result<(), String> {
        let spec = catalogue::lookup(name).ok_or_else(|| format!("`{name}` is not a known .rdp property"))?;
        match spec.risk {
            Risk::Credential => Err(format!(
                "`{}` carries a credential and is always removed",
                spec.name
            )),
            Risk::Signature => Err(format!(
                "`{}` is always removed: any edit invalidates a signature",
                spec.name
            )),
            Risk::High | Risk::Redirection => {
                self.allow.insert(spec.name.to_owned());
                Ok(())
            }
            _ => Err(format!("`{}` is kept anyway; it needs no --allow", spec.name)),
        }
    }

    fn allows(&self, name: &str) -> bool {
        self.allow.contains(name)
    }
}

/// What happened to a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Taken out of the file.
    Removed,
    /// Set to its "off" value.
    ForcedOff,
    /// Set to a safer value.
    Changed,
    /// Kept, and worth knowing about.
    Kept,
}

/// Why it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Not in the catalogue.
    Unknown,
    /// Written with the wrong type letter.
    WrongType,
    /// Outside the allowed values.
    InvalidValue,
    /// An earlier line set the same property; a later line wins.
    Duplicate,
    /// Carries a credential.
    Credential,
    /// A signature, invalid after any edit.
    Signature,
    /// Runs or steers programs or connections.
    HighRisk,
    /// Device or data redirection.
    Redirection,
    /// Weakens the connection's security.
    WeakensSecurity,
    /// Allowed by the policy or `--allow`.
    Allowed,
    /// Says where the file connects: check it.
    ConnectionTarget,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The line in the input, when the property was in it.
    pub line: Option<usize>,
    /// The property name (canonical when known, else as written).
    pub name: String,
    /// What happened.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The old value as text (`<redacted>` for credentials), when there was one.
    pub old: Option<String>,
    /// The new value as text, for changes.
    pub new: Option<String>,
    /// Plain-language explanation.
    pub message: String,
}

/// The result of sanitizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The clean properties.
    pub document: RdpDocument,
    /// Every change, in input line order (additions last).
    pub changes: Vec<Change>,
    /// The parser's diagnostics for lines that could not be read at all.
    pub diagnostics: Vec<Diagnostic>,
}

impl Sanitized {
    /// Whether a property was neutralised (removed, forced off or changed).
    pub fn neutralised(&self, name: &str) -> bool {
        self.changes
            .iter()
            .any(|c| c.name == name && c.action != Action::Kept)
    }
}

fn shown(key: &str, v: &Value) -> String {
    if is_secret_name(key) {
        return "<redacted>".into();
    }
    let s = v.to_wire();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// The value that turns a redirection property off: 0 for integers, empty for strings.
pub fn off_value(ty: ValueType) -> Value {
    match ty {
        ValueType::Int => Value::Int(0),
        ValueType::Str => Value::Str(String::new()),
        ValueType::Bin => Value::Bin(Vec::new()),
    }
}

fn is_neutral(v: &Value) -> bool {
    match v {
        Value::Int(i) => *i == 0,
        Value::Str(s) => s.is_empty(),
        Value::Bin(b) => b.is_empty(),
    }
}

/// A safer value for a `Security` property, when the file's value weakens the connection.
fn safer(name: &str, v: &Value) -> Option<(Value, &'static str)> {
    match (name, v) {
        ("authentication level", Value::Int(0)) => Some((
            Value::Int(2),
            "0 connects even when the server's identity can't be verified, without a warning; changed to 2 (warn)",
        )),
        ("negotiate security layer", Value::Int(0)) => Some((
            Value::Int(1),
            "0 turns off security-layer negotiation, so the client may fall back to legacy RDP security; changed to 1 (negotiate)",
        )),
        ("enablecredsspsupport", Value::Int(0)) => Some((
            Value::Int(1),
            "0 turns Network Level Authentication off, so the password is typed into the server's own logon screen (whoever answers); changed to 1 (NLA when the server offers it)",
        )),
        _ => None,
    }
}

/// Sanitizes a parsed file under a policy.
pub fn sanitize(file: &RdpFile, policy: &Policy) -> Sanitized {
    let mut document = RdpDocument::new();
    let mut changes = Vec::new();
    let effective: Vec<_> = file.effective();
    // The line that wins for each name: looked up per entry, so a file of 100 000 lines stays linear.
    let winners: HashMap<&str, usize> = effective.iter().map(|e| (e.key.as_str(), e.line)).collect();
    for entry in &file.entries {
        let winner = winners.get(entry.key.as_str()).copied().unwrap_or_default();
        if winner != entry.line {
            changes.push(Change {
                line: Some(entry.line),
                name: catalogue::lookup(&entry.key).map_or_else(|| entry.name.clone(), |s| s.name.to_owned()),
                action: Action::Removed,
                reason: Reason::Duplicate,
                old: Some(shown(&entry.key, &entry.value)),
                new: None,
                message: format!("set again on line {winner}, which wins"),
            });
        }
    }
    for entry in effective {
        let mut change = |action, reason, new: Option<&Value>, message: String| {
            changes.push(Change {
                line: Some(entry.line),
                name: catalogue::lookup(&entry.key).map_or_else(|| entry.name.clone(), |s| s.name.to_owned()),
                action,
                reason,
                old: Some(shown(&entry.key, &entry.value)),
                new: new.map(|v| shown(&entry.key, v)),
                message,
            });
        };
        let Some(spec) = catalogue::lookup(&entry.key) else {
            let message = if is_secret_name(&entry.key) {
                "unknown property that looks like a credential".to_owned()
            } else {
                "not a known .rdp property".to_owned()
            };
            let reason = if is_secret_name(&entry.key) {
                Reason::Credential
            } else {
                Reason::Unknown
            };
            change(Action::Removed, reason, None, message);
            continue;
        };
        if entry.value.ty() != spec.ty {
            change(
                Action::Removed,
                Reason::WrongType,
                None,
                format!(
                    "written as `{}` but the property has type `{}`",
                    entry.value.ty().letter(),
                    spec.ty.letter()
                ),
            );
            continue;
        }
        if let Value::Int(i) = entry.value
            && !spec.allowed.permits(i)
        {
            change(
                Action::Removed,
                Reason::InvalidValue,
                None,
                format!("{i} is not an allowed value"),
            );
            continue;
        }
        let keep = |document: &mut RdpDocument, value: Value| {
            // The parser and the checks above guarantee validity; a failure here is a catalogue bug.
            document.set(spec.name, value).is_ok()
        };
        match spec.risk {
            Risk::Credential => change(
                Action::Removed,
                Reason::Credential,
                None,
                "carries a credential; rdpl never keeps one".into(),
            ),
            Risk::Signature => change(
                Action::Removed,
                Reason::Signature,
                None,
                "rdpl rewrites the file and does not re-verify signatures; the clean file is unsigned".into(),
            ),
            Risk::High if policy.allows(spec.name) => {
                keep(&mut document, entry.value.clone());
                change(
                    Action::Kept,
                    Reason::Allowed,
                    None,
                    format!("allowed: {}", spec.summary),
                );
            }
            Risk::High => {
                let message = if is_neutral(&entry.value) {
                    "high-risk property (it was empty or off)".to_owned()
                } else {
                    format!("high-risk: {}", spec.summary)
                };
                change(Action::Removed, Reason::HighRisk, None, message);
            }
            Risk::Redirection if policy.allows(spec.name) => {
                keep(&mut document, entry.value.clone());
                if !is_neutral(&entry.value) {
                    change(
                        Action::Kept,
                        Reason::Allowed,
                        None,
                        format!("allowed: {}", spec.summary),
                    );
                }
            }
            Risk::Redirection => {
                let off = off_value(spec.ty);
                keep(&mut document, off.clone());
                if entry.value != off {
                    change(
                        Action::ForcedOff,
                        Reason::Redirection,
                        Some(&off),
                        format!("redirection: {}", spec.summary),
                    );
                }
            }
            Risk::Security => match safer(spec.name, &entry.value) {
                Some((value, why)) => {
                    keep(&mut document, value.clone());
                    change(
                        Action::Changed,
                        Reason::WeakensSecurity,
                        Some(&value),
                        why.to_owned(),
                    );
                }
                None => {
                    keep(&mut document, entry.value.clone());
                }
            },
            Risk::Connection => {
                let noteworthy =
                    matches!(spec.name, "full address" | "gatewayhostname") && !is_neutral(&entry.value);
                keep(&mut document, entry.value.clone());
                if noteworthy {
                    change(
                        Action::Kept,
                        Reason::ConnectionTarget,
                        None,
                        format!("connects to this: {}", spec.summary),
                    );
                }
            }
            Risk::Low => {
                keep(&mut document, entry.value.clone());
            }
        }
    }
    // Redirections the file did not mention: write them off explicitly, since mstsc turns some on by default.
    for spec in catalogue::all().iter().filter(|s| s.risk == Risk::Redirection) {
        if document.get(spec.name).is_none() && !policy.allows(spec.name) {
            let _ = document.set(spec.name, off_value(spec.ty));
        }
    }
    changes.sort_by_key(|c| c.line.unwrap_or(usize::MAX));
    Sanitized {
        document,
        changes,
        diagnostics: file.diagnostics.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::decode::Encoding;

    fn run(text: &str, allow: &[&str]) -> Sanitized {
        let mut policy = Policy::strict();
        for a in allow {
            policy.allow(a).expect("allowable");
        }
        sanitize(&RdpFile::parse_text(text, Encoding::Ascii), &policy)
    }

    #[test]
    fn credentials_and_signatures_always_go() {
        let s = run(
            "full address:s:h\npassword 51:b:0102\nsignscope:s:Full Address\nsignature:s:AAAA\n",
            &[],
        );
        assert!(s.document.get("password 51").is_none());
        assert!(s.document.get("signature").is_none());
        assert!(s.neutralised("password 51") && s.neutralised("signscope") && s.neutralised("signature"));
        let pw = s
            .changes
            .iter()
            .find(|c| c.name == "password 51")
            .expect("reported");
        assert_eq!(pw.old.as_deref(), Some("<redacted>"));
        assert!(Policy::strict().allow("password 51").is_err());
        assert!(Policy::strict().allow("signature").is_err());
    }

    #[test]
    fn redirections_forced_off_even_when_absent_unless_allowed() {
        let s = run(
            "full address:s:h\nredirectclipboard:i:1\ndrivestoredirect:s:*\n",
            &["drivestoredirect"],
        );
        assert_eq!(s.document.get("redirectclipboard"), Some(&Value::Int(0)));
        assert_eq!(s.document.get("drivestoredirect"), Some(&Value::Str("*".into())));
        assert_eq!(s.document.get("redirectprinters"), Some(&Value::Int(0)));
        assert_eq!(s.document.get("redirectsmartcards"), Some(&Value::Int(0)));
        assert!(s.neutralised("redirectclipboard"));
        assert!(!s.neutralised("drivestoredirect"));
    }

    #[test]
    fn high_risk_removed_and_security_weakening_changed() {
        let s = run(
            "full address:s:h\nalternate shell:s:cmd.exe /c evil\nremoteapplicationmode:i:1\nauthentication level:i:0\nnegotiate security layer:i:0\nenablecredsspsupport:i:0\nsession bpp:i:32\nmystery:s:1\n",
            &[],
        );
        assert!(s.document.get("alternate shell").is_none());
        assert!(s.document.get("remoteapplicationmode").is_none());
        assert_eq!(s.document.get("authentication level"), Some(&Value::Int(2)));
        assert_eq!(s.document.get("negotiate security layer"), Some(&Value::Int(1)));
        // NLA off is a weakening too: forced on, and reported.
        assert_eq!(s.document.get("enablecredsspsupport"), Some(&Value::Int(1)));
        assert!(
            s.changes
                .iter()
                .any(|c| c.name == "enablecredsspsupport" && c.action == Action::Changed)
        );
        assert_eq!(s.document.get("session bpp"), Some(&Value::Int(32)));
        let unknown = s.changes.iter().find(|c| c.name == "mystery").expect("reported");
        assert_eq!(
            (unknown.action, unknown.reason),
            (Action::Removed, Reason::Unknown)
        );
    }

    #[test]
    fn duplicates_report_the_loser() {
        let s = run("full address:s:a\nfull address:s:b\n", &[]);
        assert_eq!(s.document.get("full address"), Some(&Value::Str("b".into())));
        let dup = s
            .changes
            .iter()
            .find(|c| c.reason == Reason::Duplicate)
            .expect("reported");
        assert_eq!(dup.line, Some(1));
    }

    #[test]
    fn allow_rejects_unknown_and_needless_names() {
        assert!(Policy::strict().allow("bogus").is_err());
        assert!(Policy::strict().allow("session bpp").is_err());
        assert!(Policy::strict().allow("Alternate Shell").is_ok());
    }
}

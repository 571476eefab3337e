//! The types of a property catalogue entry ([`PropertySpec`]: wire type, allowed values, risk class,
//! source). Both the table (`properties.rs`) and the lookups (`catalogue.rs`, which re-exports these types)
//! build on this module; it depends on neither.

/// The wire type of a property: the letter between the two colons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// `i`: a 32-bit integer in decimal.
    Int,
    /// `s`: a string (to the end of the line).
    Str,
    /// `b`: binary data, hex-encoded.
    Bin,
}

impl ValueType {
    /// The letter used in the file.
    pub fn letter(self) -> char {
        match self {
            ValueType::Int => 'i',
            ValueType::Str => 's',
            ValueType::Bin => 'b',
        }
    }

    /// Parses a type letter (case-insensitive, as mstsc accepts).
    pub fn from_letter(s: &str) -> Option<Self> {
        match s {
            "i" | "I" => Some(ValueType::Int),
            "s" | "S" => Some(ValueType::Str),
            "b" | "B" => Some(ValueType::Bin),
            _ => None,
        }
    }
}

/// Which values a property accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Any value of the property's type.
    Any,
    /// An integer in `min..=max`.
    Range(i64, i64),
    /// One of these integers.
    OneOf(&'static [i64]),
}

impl Allowed {
    /// Whether an integer value is allowed (always true for non-integer constraints).
    pub fn permits(self, v: i64) -> bool {
        match self {
            Allowed::Any => true,
            Allowed::Range(lo, hi) => (lo..=hi).contains(&v),
            Allowed::OneOf(set) => set.contains(&v),
        }
    }
}

/// How dangerous a property is when it comes from a file rdpl did not write itself.
///
/// The sanitizer's treatment of each class is documented in `sanitize.rs` and docs/rdp-properties.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Display, performance, reconnection, keyboard: harmless, kept when the value is valid.
    Low,
    /// Where to connect and as whom (`full address`, `username`, gateway settings): kept, shown in the report.
    Connection,
    /// Security settings that a hostile file could weaken (`authentication level`, CredSSP, ...): kept,
    /// but weakening values are changed and reported.
    Security,
    /// Device and data redirection (drives, clipboard, printers, COM, USB, smart cards, WebAuthn, camera,
    /// audio capture, location, ...): forced off unless the profile's policy or `--allow` permits it.
    Redirection,
    /// Runs or steers programs on the server or the client (`alternate shell`, RemoteApp, redirection server
    /// names, alternate addresses, KDC proxy, access tokens): removed unless `--allow` permits it.
    High,
    /// Carries a credential (`password 51`, ...): always removed, cannot be allowed.
    Credential,
    /// `signscope` / `signature`: always removed, because any edit invalidates the signature.
    Signature,
}

/// Where a property's meaning is documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Microsoft Learn, "Supported Remote Desktop RDP file settings" (learn.microsoft.com/
    /// azure/virtual-desktop/rdp-properties and windows-server/remote/remote-desktop-services/clients/rdp-files).
    MsLearn,
    /// Not on Microsoft Learn; the string says where it is known from (for example FreeRDP's
    /// client/common/file.c, or mstsc output).
    Other(&'static str),
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct PropertySpec {
    /// The canonical spelling (lowercase, as mstsc writes it).
    pub name: &'static str,
    /// The wire type.
    pub ty: ValueType,
    /// The allowed values.
    pub allowed: Allowed,
    /// The risk class.
    pub risk: Risk,
    /// One line in plain language.
    pub summary: &'static str,
    /// The source that documents it.
    pub source: Source,
}

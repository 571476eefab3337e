//! The .rdp file format: bytes -> text ([`decode`]) -> typed properties with diagnostics ([`parse`]),
//! the property [`catalogue`], the [`sanitize`]r, the [`render`]er (text -> UTF-16LE with BOM and CRLF) and
//! rdpsign-compatible signatures ([`sign`]).

pub mod catalogue;
pub mod decode;
pub mod parse;
mod properties;
pub mod render;
pub mod sanitize;
pub mod sign;
mod spec;

pub use parse::{Diagnostic, DiagnosticKind, Entry, RdpFile, Severity, Value};

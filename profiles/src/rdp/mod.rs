//! The .rdp file format: bytes -> text ([`decode`]) -> typed properties with diagnostics ([`parse`]),
//! the property [`catalogue`], the [`sanitize`]r and the [`render`]er (text -> UTF-16LE with BOM and CRLF).

pub mod catalogue;
pub mod decode;
pub mod parse;
mod properties;
pub mod render;
pub mod sanitize;

pub use parse::{Diagnostic, DiagnosticKind, Entry, RdpFile, Severity, Value};

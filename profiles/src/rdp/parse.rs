//! Text -> typed properties, with a diagnostic for every problem (parsing never stops at the first).
//!
//! Lines end in CRLF, LF or CR. Each property line is `name:type:value`: the name is case-insensitive,
//! the type is `i`, `s` or `b`, and the value keeps any further colons. Typing of `i` and `s` lines is
//! delegated to `ironrdp-rdpfile`; this module adds what that crate lacks: encodings and line ends (via
//! [`super::decode`]), `b:` lines, case-insensitive names, duplicates (last wins, as mstsc and FreeRDP do),
//! line numbers for every property, and diagnostics that never echo a value that may be a secret.

use std::collections::HashMap;
use std::fmt;

use super::catalogue::{self, Risk, ValueType};
use super::decode::{self, DecodeError, Encoding};

/// A typed property value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `i:`
    Int(i64),
    /// `s:`
    Str(String),
    /// `b:` (hex on the wire)
    Bin(Vec<u8>),
}

impl Value {
    /// The wire type of this value.
    pub fn ty(&self) -> ValueType {
        match self {
            Value::Int(_) => ValueType::Int,
            Value::Str(_) => ValueType::Str,
            Value::Bin(_) => ValueType::Bin,
        }
    }

    /// The value as written after `type:` in a file.
    pub fn to_wire(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            Value::Bin(b) => hex::encode_upper(b),
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One property line that parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The name as written (trimmed).
    pub name: String,
    /// The lookup key: the name in lowercase.
    pub key: String,
    /// The typed value.
    pub value: Value,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: nothing was lost.
    Info,
    /// Something was tolerated or overridden.
    Warning,
    /// A line was ignored.
    Error,
}

/// What kind of problem a diagnostic describes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DiagnosticKind {
    /// The text could not be decoded cleanly.
    Encoding,
    /// Not `name:type:value`.
    MalformedLine,
    /// A FreeRDP/mstsc command-line option (`/v:host`) instead of a property.
    CommandLineOption,
    /// The line contains control characters.
    ControlCharacter,
    /// A type letter other than `i`, `s`, `b`.
    UnknownType,
    /// An `i:` value that is not a 32-bit integer.
    BadInteger,
    /// A `b:` value that is not hex.
    BadBinary,
    /// A known property written with the wrong type letter.
    TypeMismatch,
    /// The same property again; this line wins.
    Duplicate { first_line: usize },
    /// Whitespace around a value was removed.
    Whitespace,
}

/// A problem found in a file, with its line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// 1-based line number.
    pub line: usize,
    /// How serious it is.
    pub severity: Severity,
    /// What kind of problem.
    #[serde(flatten)]
    pub kind: DiagnosticKind,
    /// Plain-language description (never contains a credential value).
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// How the lines of a file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// CR LF (Windows, what mstsc writes).
    Crlf,
    /// LF.
    Lf,
    /// CR alone (classic Mac).
    Cr,
    /// More than one kind.
    Mixed,
    /// A single line without an end.
    None,
}

/// A parsed .rdp file: every property line in order (duplicates included) plus diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdpFile {
    /// The encoding the file was read in.
    pub encoding: Encoding,
    /// How its lines ended.
    pub line_ending: LineEnding,
    /// Number of lines.
    pub lines: usize,
    /// Every property line that parsed, in file order.
    pub entries: Vec<Entry>,
    /// Every problem, in line order.
    pub diagnostics: Vec<Diagnostic>,
}

/// The longest name or value excerpt quoted in a diagnostic.
const QUOTE_MAX: usize = 40;

/// Quotes a piece of a line for a message: escaped, and cut at [`QUOTE_MAX`] characters.
fn quote(s: &str) -> String {
    let mut q: String = s
        .chars()
        .take(QUOTE_MAX)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if s.chars().count() > QUOTE_MAX {
        q.push('…');
    }
    format!("`{q}`")
}

/// Whether a name looks like it holds a secret, so its value must never be quoted.
pub(crate) fn is_secret_name(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password")
        || key.contains("token")
        || key.contains("secret")
        || catalogue::lookup(&key).is_some_and(|s| s.risk == Risk::Credential)
}

impl RdpFile {
    /// Decodes and parses the bytes of a file.
    pub fn from_bytes(bytes: &[u8]) -> Result<RdpFile, DecodeError> {
        let decoded = decode::decode(bytes)?;
        let mut file = RdpFile::parse_text(&decoded.text, decoded.encoding);
        let notes = decoded.notes.into_iter().map(|n| Diagnostic {
            line: n.line,
            severity: Severity::Warning,
            kind: DiagnosticKind::Encoding,
            message: n.message,
        });
        file.diagnostics.extend(notes);
        file.diagnostics.sort_by_key(|d| d.line);
        Ok(file)
    }

    /// Parses already-decoded text.
    pub fn parse_text(text: &str, encoding: Encoding) -> RdpFile {
        let (lines, line_ending) = split_lines(text);
        let mut entries: Vec<Entry> = Vec::new();
        let mut diagnostics = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let line_count = lines.len();
        for (idx, raw) in lines.into_iter().enumerate() {
            let line = idx + 1;
            match parse_line(raw, line, &mut diagnostics) {
                Some(entry) => {
                    if let Some(first_line) = seen.insert(entry.key.clone(), line) {
                        diagnostics.push(Diagnostic {
                            line,
                            severity: Severity::Warning,
                            kind: DiagnosticKind::Duplicate { first_line },
                            message: format!(
                                "{} is set again (first on line {first_line}); this line wins",
                                quote(&entry.name)
                            ),
                        });
                    }
                    entries.push(entry);
                }
                None => continue,
            }
        }
        RdpFile {
            encoding,
            line_ending,
            lines: line_count,
            entries,
            diagnostics,
        }
    }

    /// The effective value of a property (the last line that sets it), by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        let key = name.trim().to_ascii_lowercase();
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// The effective entries: for each name, the last line that sets it, in the order of those lines.
    pub fn effective(&self) -> Vec<&Entry> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            last.insert(&e.key, i);
        }
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, e)| last.get(e.key.as_str()) == Some(i))
            .map(|(_, e)| e)
            .collect()
    }

    /// Whether any diagnostic is an error (a line was ignored).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Splits on CRLF, LF or CR; an empty last piece (a final newline) is not a line.
fn split_lines(text: &str) -> (Vec<&str>, LineEnding) {
    let (mut crlf, mut lf, mut cr) = (0usize, 0usize, 0usize);
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                crlf += 1;
                lines.push(&text[start..i]);
                i += 2;
                start = i;
            }
            b'\r' | b'\n' => {
                if bytes[i] == b'\r' {
                    cr += 1;
                } else {
                    lf += 1;
                }
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    let ending = match (crlf > 0, lf > 0, cr > 0) {
        (false, false, false) => LineEnding::None,
        (true, false, false) => LineEnding::Crlf,
        (false, true, false) => LineEnding::Lf,
        (false, false, true) => LineEnding::Cr,
        _ => LineEnding::Mixed,
    };
    (lines, ending)
}

fn parse_line(raw: &str, line: usize, diags: &mut Vec<Diagnostic>) -> Option<Entry> {
    let mut push = |severity, kind, message: String| {
        diags.push(Diagnostic {
            line,
            severity,
            kind,
            message,
        })
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\t') {
        push(
            Severity::Error,
            DiagnosticKind::ControlCharacter,
            "the line contains control characters; ignored".into(),
        );
        return None;
    }
    if let Some(opt) = trimmed.strip_prefix('/').or_else(|| trimmed.strip_prefix('+')) {
        let opt_name = opt.split([':', ' ']).next().unwrap_or_default();
        push(
            Severity::Error,
            DiagnosticKind::CommandLineOption,
            format!(
                "{} is a FreeRDP command-line option, not an .rdp property (`name:type:value`); ignored",
                quote(&format!("{}{opt_name}", &trimmed[..1]))
            ),
        );
        return None;
    }
    let mut parts = trimmed.splitn(3, ':');
    let (name, ty, value) = match (parts.next(), parts.next(), parts.next()) {
        (Some(n), Some(t), Some(v)) if !n.trim().is_empty() && t.trim().len() == 1 => (n.trim(), t.trim(), v),
        _ => {
            let head = trimmed.split([':', '=']).next().unwrap_or_default();
            let hint = if head.contains("%20") || head.contains("%3A") {
                " (it looks URL-encoded)"
            } else if trimmed.contains('=') && !trimmed.contains(":s:") && !trimmed.contains(":i:") {
                " (it looks like `key=value`)"
            } else {
                ""
            };
            push(
                Severity::Error,
                DiagnosticKind::MalformedLine,
                format!(
                    "malformed line starting {}: expected `name:type:value`{hint}; ignored",
                    quote(head)
                ),
            );
            return None;
        }
    };
    let key = name.to_ascii_lowercase();
    let secret = is_secret_name(&key);
    let Some(vtype) = ValueType::from_letter(ty) else {
        push(
            Severity::Error,
            DiagnosticKind::UnknownType,
            format!(
                "unknown type `{}` for {} (expected i, s or b); ignored",
                ty.escape_debug(),
                quote(name)
            ),
        );
        return None;
    };
    let value_trimmed = value.trim();
    if value_trimmed.len() != value.len() {
        push(
            Severity::Info,
            DiagnosticKind::Whitespace,
            format!("whitespace around the value of {} removed", quote(name)),
        );
    }
    let value = match vtype {
        ValueType::Bin => match hex::decode(value_trimmed) {
            Ok(bytes) => Value::Bin(bytes),
            Err(_) => {
                push(
                    Severity::Error,
                    DiagnosticKind::BadBinary,
                    format!(
                        "the value of {} is not hex (expected pairs of 0-9/A-F); ignored",
                        quote(name)
                    ),
                );
                return None;
            }
        },
        ValueType::Int | ValueType::Str => match typed_by_ironrdp(vtype, value_trimmed) {
            Some(v) => v,
            None => {
                let shown = if secret {
                    String::new()
                } else {
                    format!(" {}", quote(value_trimmed))
                };
                push(
                    Severity::Error,
                    DiagnosticKind::BadInteger,
                    format!(
                        "the value{shown} of {} is not a 32-bit whole number; ignored",
                        quote(name)
                    ),
                );
                return None;
            }
        },
    };
    if let Some(spec) = catalogue::lookup(&key).filter(|s| s.ty != vtype) {
        push(
            Severity::Warning,
            DiagnosticKind::TypeMismatch,
            format!(
                "{} should have type `{}`, not `{}`",
                quote(name),
                spec.ty.letter(),
                vtype.letter()
            ),
        );
    }
    Some(Entry {
        line,
        name: name.to_owned(),
        key,
        value,
    })
}

/// Types an `i` or `s` value with ironrdp-rdpfile (the maintained .rdp parser), then applies the 32-bit
/// range mstsc uses for integers (ironrdp-rdpfile accepts any i64).
fn typed_by_ironrdp(vtype: ValueType, value: &str) -> Option<Value> {
    // The name is replaced by a placeholder: ironrdp-rdpfile's names are case-sensitive and ours are not.
    let parsed = ironrdp_rdpfile::parse(&format!("k:{}:{value}", vtype.letter()));
    if !parsed.errors.is_empty() {
        return None;
    }
    match vtype {
        ValueType::Int => parsed
            .properties
            .get::<i64>("k")
            .filter(|v| (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(v))
            .map(Value::Int),
        ValueType::Str => parsed
            .properties
            .get::<&str>("k")
            .map(|s| Value::Str(s.to_owned())),
        ValueType::Bin => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RdpFile {
        RdpFile::parse_text(s, Encoding::Ascii)
    }

    #[test]
    fn parses_the_three_types_and_keeps_colons() {
        let f = parse("full address:s:host:3390\r\nsession bpp:i:32\r\npassword 51:b:01ab\r\n");
        assert_eq!(f.diagnostics, vec![]);
        assert_eq!(f.line_ending, LineEnding::Crlf);
        assert_eq!(
            f.get("FULL ADDRESS").map(|e| &e.value),
            Some(&Value::Str("host:3390".into()))
        );
        assert_eq!(f.get("session bpp").map(|e| &e.value), Some(&Value::Int(32)));
        assert_eq!(
            f.get("password 51").map(|e| &e.value),
            Some(&Value::Bin(vec![1, 0xab]))
        );
    }

    #[test]
    fn line_endings() {
        assert_eq!(parse("a:s:1\nb:s:2").line_ending, LineEnding::Lf);
        assert_eq!(parse("a:s:1\rb:s:2\r").line_ending, LineEnding::Cr);
        assert_eq!(parse("a:s:1\r\nb:s:2\n").line_ending, LineEnding::Mixed);
        assert_eq!(parse("a:s:1").line_ending, LineEnding::None);
        assert_eq!(parse("a:s:1\rb:s:2\r").entries.len(), 2);
    }

    #[test]
    fn every_problem_gets_a_diagnostic_and_parsing_goes_on() {
        let f = parse(concat!(
            "full address:s:one\n",
            "no colons here\n",
            "x:q:1\n",
            "session bpp:i:many\n",
            "password 51:b:xyz\n",
            "full address:s:two\n",
            "/v:host\n",
            "desktopwidth:s:800\n",
            "full%20address=s:127.0.0.1:60682\n",
            "desktopheight:i: 600 \n",
            "huge:i:99999999999\n",
        ));
        let kinds: Vec<_> = f.diagnostics.iter().map(|d| (d.line, d.kind.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (2, DiagnosticKind::MalformedLine),
                (3, DiagnosticKind::UnknownType),
                (4, DiagnosticKind::BadInteger),
                (5, DiagnosticKind::BadBinary),
                (6, DiagnosticKind::Duplicate { first_line: 1 }),
                (7, DiagnosticKind::CommandLineOption),
                (8, DiagnosticKind::TypeMismatch),
                (9, DiagnosticKind::MalformedLine),
                (10, DiagnosticKind::Whitespace),
                (11, DiagnosticKind::BadInteger),
            ]
        );
        assert_eq!(
            f.get("full address").map(|e| e.value.clone()),
            Some(Value::Str("two".into()))
        );
        assert_eq!(
            f.get("desktopheight").map(|e| e.value.clone()),
            Some(Value::Int(600))
        );
        assert!(
            f.diagnostics[7].message.contains("URL-encoded"),
            "{}",
            f.diagnostics[7].message
        );
        assert_eq!(f.effective().len(), 3);
    }

    #[test]
    fn diagnostics_never_quote_secrets() {
        let f = parse("/p:hunter2\npassword:i:hunter2\nclear password:s\n");
        for d in &f.diagnostics {
            assert!(!d.message.contains("hunter2"), "{d}");
        }
        assert_eq!(f.diagnostics.len(), 3);
    }

    #[test]
    fn control_characters_reject_the_line() {
        let f = parse("a:s:x\u{1b}[31m\nb:s:ok\n");
        assert_eq!(f.diagnostics[0].kind, DiagnosticKind::ControlCharacter);
        assert_eq!(f.entries.len(), 1);
    }
}

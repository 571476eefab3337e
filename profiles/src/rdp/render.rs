//! A validated set of properties ([`RdpDocument`]) and its rendering: text in catalogue order with CRLF line
//! ends, and the bytes mstsc reads most reliably (UTF-16LE with a BOM).
//!
//! A document can only hold catalogue properties, with the catalogue's type and allowed values, and never a
//! credential; string values can't contain CR, LF, NUL or other control characters, so no field can inject a
//! line. `signscope` and `signature` come only from [`super::sign::sign`], and any later change to the
//! document drops them (the signature would no longer match). Rendering the same document always gives the
//! same bytes.

use std::collections::BTreeMap;

use super::catalogue::{self, Risk};
use super::parse::Value;

/// Why a property can't go into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("`{0}` is not a known .rdp property")]
    Unknown(String),
    #[error("`{name}` has type `{expected}`, not `{got}`")]
    WrongType {
        name: &'static str,
        expected: char,
        got: char,
    },
    #[error("{value} is not an allowed value for `{name}`")]
    NotAllowed { name: &'static str, value: i64 },
    #[error("the value for `{name}` contains {what}, which would break the file")]
    Injection { name: &'static str, what: &'static str },
    #[error("the value for `{name}` starts or ends with whitespace, which .rdp readers strip")]
    Whitespace { name: &'static str },
    #[error("`{0}` carries a credential; rdpl never writes one")]
    Credential(&'static str),
    #[error("`{0}` is a signature property; only `rdpl rdp --sign` (or a profile's sign.cert) writes one")]
    Signature(&'static str),
}

/// A validated, ordered set of .rdp properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdpDocument {
    /// Keyed by catalogue position, so iteration is render order.
    props: BTreeMap<usize, (&'static str, Value)>,
}

impl RdpDocument {
    /// An empty document.
    pub fn new() -> RdpDocument {
        RdpDocument::default()
    }

    /// Sets a property (replacing an earlier value), after checking it against the catalogue.
    pub fn set(&mut self, name: &str, value: Value) -> Result<(), RenderError> {
        let spec =
            catalogue::lookup(name).ok_or_else(|| RenderError::Unknown(name.escape_debug().to_string()))?;
        match spec.risk {
            Risk::Credential => return Err(RenderError::Credential(spec.name)),
            Risk::Signature => return Err(RenderError::Signature(spec.name)),
            _ => {}
        }
        if value.ty() != spec.ty {
            return Err(RenderError::WrongType {
                name: spec.name,
                expected: spec.ty.letter(),
                got: value.ty().letter(),
            });
        }
        match &value {
            Value::Int(i) if !spec.allowed.permits(*i) => {
                return Err(RenderError::NotAllowed {
                    name: spec.name,
                    value: *i,
                });
            }
            Value::Str(s) => {
                if let Some(c) = s.chars().find(|c| c.is_control()) {
                    let what = match c {
                        '\r' => "a carriage return",
                        '\n' => "a line feed",
                        '\0' => "a NUL character",
                        _ => "a control character",
                    };
                    return Err(RenderError::Injection {
                        name: spec.name,
                        what,
                    });
                }
                if s.trim() != s {
                    return Err(RenderError::Whitespace { name: spec.name });
                }
            }
            _ => {}
        }
        let pos = catalogue::order(spec.name);
        self.remove_signature();
        self.props.insert(pos, (spec.name, value));
        Ok(())
    }

    /// Removes a property (and a signature, which would no longer match); returns its value if it was set.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let pos = catalogue::order(name);
        let removed = self.props.remove(&pos).map(|(_, v)| v);
        if removed.is_some() {
            self.remove_signature();
        }
        removed
    }

    /// Removes `signscope` and `signature`; whether there was a signature.
    pub fn remove_signature(&mut self) -> bool {
        let scope = self.props.remove(&catalogue::order("signscope")).is_some();
        let sig = self.props.remove(&catalogue::order("signature")).is_some();
        scope || sig
    }

    /// Sets `signscope` and `signature`, as computed by [`super::sign::sign`] (values of base64 and
    /// comma-separated names: nothing that could break a line).
    pub(crate) fn set_signature(&mut self, scope: String, signature: String) {
        for (name, value) in [("signscope", scope), ("signature", signature)] {
            let spec = catalogue::lookup(name).map_or(name, |s| s.name);
            self.props
                .insert(catalogue::order(name), (spec, Value::Str(value)));
        }
    }

    /// The value of a property, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.props.get(&catalogue::order(name)).map(|(_, v)| v)
    }

    /// The properties in render order, with their canonical names.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.props.values().map(|(n, v)| (*n, v))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    /// The file as text: one `name:type:value` per line, CRLF after every line, catalogue order.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.iter() {
            out.push_str(&line(name, value));
            out.push_str("\r\n");
        }
        out
    }

    /// The file as mstsc writes it: UTF-16LE with a byte order mark.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text = self.to_text();
        let mut bytes = Vec::with_capacity(2 + text.len() * 2);
        bytes.extend_from_slice(&[0xFF, 0xFE]);
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }
}

/// One property line without its line end: `name:type:value`.
pub(crate) fn line(name: &str, value: &Value) -> String {
    format!("{name}:{}:{}", value.ty().letter(), value.to_wire())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_injection_credentials_and_unknowns() {
        let mut d = RdpDocument::new();
        assert!(matches!(
            d.set("username", Value::Str("bob\r\nalternate shell:s:cmd".into())),
            Err(RenderError::Injection {
                what: "a carriage return",
                ..
            })
        ));
        assert!(matches!(
            d.set("username", Value::Str("a\0b".into())),
            Err(RenderError::Injection { .. })
        ));
        assert!(matches!(
            d.set("password 51", Value::Bin(vec![1])),
            Err(RenderError::Credential(_))
        ));
        assert!(matches!(
            d.set("signature", Value::Str("x".into())),
            Err(RenderError::Signature(_))
        ));
        assert!(matches!(
            d.set("nonsense", Value::Int(1)),
            Err(RenderError::Unknown(_))
        ));
        assert!(matches!(
            d.set("session bpp", Value::Str("32".into())),
            Err(RenderError::WrongType { .. })
        ));
        assert!(matches!(
            d.set("screen mode id", Value::Int(7)),
            Err(RenderError::NotAllowed { .. })
        ));
        assert!(matches!(
            d.set("username", Value::Str(" bob".into())),
            Err(RenderError::Whitespace { .. })
        ));
        assert!(d.is_empty());
    }

    #[test]
    fn renders_utf16le_bom_crlf_in_catalogue_order() {
        let mut d = RdpDocument::new();
        d.set("username", Value::Str("bob".into())).expect("valid");
        d.set("full address", Value::Str("host".into())).expect("valid");
        let text = d.to_text();
        let first = if catalogue::order("full address") < catalogue::order("username") {
            "full address:s:host\r\nusername:s:bob\r\n"
        } else {
            "username:s:bob\r\nfull address:s:host\r\n"
        };
        assert_eq!(text, first);
        let bytes = d.to_bytes();
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, text.as_bytes()[0], 0]);
        assert_eq!(bytes.len(), 2 + 2 * text.len());
    }
}

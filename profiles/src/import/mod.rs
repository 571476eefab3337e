//! Other connection managers' files -> profiles: Remmina `.remmina`, mRemoteNG `confCons.xml` and RDCMan `.rdg`.
//!
//! Pure: the caller passes the bytes, this returns the profiles it could build, the entries it skipped (with
//! why) and a note for every setting it did not adopt as the file says. Passwords are never carried: each
//! importer says so in a note when the file holds one. Redirections follow the rule of .rdp imports
//! ([`crate::convert::from_rdp`]): one the file turns *on* is adopted only when the [`Policy`] allows the
//! matching .rdp property (`rdpl import --allow`), else it stays off with a note naming the flag.
//!
//! [`detect`] looks at the content, not the file name. An .rdp file is not handled here (see
//! [`crate::convert`]).

mod common;
mod mremoteng;
mod rdcman;
mod remmina;

use std::collections::BTreeMap;

use self::common::xml_options;
pub use self::common::{Batch, Entry, Format, ManagerError, Skipped, name_for};
use crate::rdp::sanitize::Policy;

/// Decodes text: UTF-8 (with or without BOM) or UTF-16 with a BOM. The BOM is dropped.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let utf16 = |le: bool, b: &[u8]| {
        if !b.len().is_multiple_of(2) {
            return None;
        }
        let units = b.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units).collect::<Result<String, _>>().ok()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// What kind of file this is, by its content. `None` when it is none of the managers' formats (the caller
/// then treats it as .rdp, whose reader explains what is wrong with it).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let text = decode_text(bytes)?;
    let t = text.trim_start();
    if t.starts_with('<') {
        // The root element's name (files are at most 1 MiB, so parsing all of it is cheap).
        let doc = roxmltree::Document::parse_with_options(t, xml_options()).ok()?;
        let format = match doc.root_element().tag_name().name() {
            "Connections" => Some(Format::MRemoteNg),
            "RDCMan" => Some(Format::RdcMan),
            _ => None,
        };
        return format;
    }
    let remmina = t
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == "[remmina]");
    remmina.then_some(Format::Remmina)
}

/// Reads a connection manager's file of the given format (from [`detect`]).
pub fn read(format: Format, bytes: &[u8], policy: &Policy) -> Result<Batch, ManagerError> {
    let text = decode_text(bytes).ok_or(ManagerError::NotText)?;
    let mut batch = match format {
        Format::Remmina => remmina::read(&text, policy)?,
        Format::MRemoteNg => mremoteng::read(&text, policy)?,
        Format::RdcMan => rdcman::read(&text, policy)?,
        Format::Rdp => {
            return Err(ManagerError::Missing {
                format,
                what: "a connection manager's content",
            });
        }
    };
    dedupe(&mut batch);
    Ok(batch)
}

/// A later entry whose name an earlier one took (case-insensitively) is skipped, never renamed silently.
fn dedupe(batch: &mut Batch) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut kept = Vec::new();
    for e in std::mem::take(&mut batch.entries) {
        match seen.get(&e.profile.name.key()) {
            Some(first) => batch.skipped.push(Skipped {
                reason: format!(
                    "the name `{}` is already taken by `{first}` in the same file; rename one of them there to \
                     import both",
                    e.profile.name
                ),
                source: e.source,
            }),
            None => {
                seen.insert(e.profile.name.key(), e.source.clone());
                kept.push(e);
            }
        }
    }
    batch.entries = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(detect(b"# hi\n[remmina]\nserver=h\n"), Some(Format::Remmina));
        assert_eq!(
            detect(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<RDCMan><file/></RDCMan>"),
            Some(Format::RdcMan)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><mrng:Connections xmlns:mrng=\"http://mremoteng.org\"/>"),
            Some(Format::MRemoteNg)
        );
        assert_eq!(detect(b"full address:s:h\n"), None);
        assert_eq!(detect(b"<html></html>"), None);
        assert_eq!(detect(b"\x89PNG\r\n"), None);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<RDCMan/>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(detect(&utf16), Some(Format::RdcMan));
    }

    #[test]
    fn a_dtd_is_refused() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\">]><RDCMan>&a;</RDCMan>";
        assert_eq!(detect(bomb.as_bytes()), None);
        assert!(matches!(
            read(Format::RdcMan, bomb.as_bytes(), &Policy::strict()),
            Err(ManagerError::Xml(_))
        ));
    }
}

//! Bytes -> text. Detects the encoding (UTF-16LE/BE with BOM as mstsc writes, UTF-8 with or without BOM,
//! ASCII, and BOM-less UTF-16 as a tolerated oddity), and refuses what is not an .rdp file at all
//! (empty, oversized, binary). Problems that do not stop decoding are returned as notes with a line number.

use std::fmt;

/// The largest file rdpl reads as .rdp. Real files are 1 to 5 KiB; anything near this is not one.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-16 little-endian with a byte order mark (what mstsc writes).
    Utf16LeBom,
    /// UTF-16 big-endian with a byte order mark.
    Utf16BeBom,
    /// UTF-16 little-endian without a byte order mark (tolerated).
    Utf16Le,
    /// UTF-16 big-endian without a byte order mark (tolerated).
    Utf16Be,
    /// UTF-8 with a byte order mark.
    Utf8Bom,
    /// UTF-8 without a byte order mark, with non-ASCII text.
    Utf8,
    /// Plain 7-bit ASCII.
    Ascii,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf16LeBom => "UTF-16LE with BOM",
            Encoding::Utf16BeBom => "UTF-16BE with BOM",
            Encoding::Utf16Le => "UTF-16LE without BOM",
            Encoding::Utf16Be => "UTF-16BE without BOM",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf8 => "UTF-8",
            Encoding::Ascii => "ASCII",
        })
    }
}

/// Why bytes could not be read as an .rdp file at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; .rdp files are a few KiB and rdpl reads at most {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    /// `offset` is in the decoded text (not the file: UTF-16 has two bytes per character), so the message
    /// names the line.
    #[error("this is not a text file (binary data on line {line}); an .rdp file is text")]
    Binary { offset: usize, line: usize },
}

/// A problem found while decoding that did not stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeNote {
    /// The 1-based line it concerns.
    pub line: usize,
    /// What happened, in plain language.
    pub message: String,
}

/// The decoded text of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The detected encoding.
    pub encoding: Encoding,
    /// The text, without a BOM.
    pub text: String,
    /// Problems that did not stop decoding.
    pub notes: Vec<DecodeNote>,
}

/// Decodes the bytes of an .rdp file.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let (encoding, body) = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (Encoding::Utf16LeBom, rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (Encoding::Utf16BeBom, rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (Encoding::Utf8Bom, rest)
    } else if looks_like_utf16(bytes, true) {
        (Encoding::Utf16Le, bytes)
    } else if looks_like_utf16(bytes, false) {
        (Encoding::Utf16Be, bytes)
    } else if bytes.is_ascii() {
        (Encoding::Ascii, bytes)
    } else {
        (Encoding::Utf8, bytes)
    };
    let mut notes = Vec::new();
    let text = match encoding {
        Encoding::Utf16LeBom | Encoding::Utf16Le => utf16(body, u16::from_le_bytes, &mut notes),
        Encoding::Utf16BeBom | Encoding::Utf16Be => utf16(body, u16::from_be_bytes, &mut notes),
        Encoding::Utf8Bom | Encoding::Utf8 | Encoding::Ascii => utf8(body, &mut notes),
    };
    if matches!(encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
        notes.push(DecodeNote {
            line: 1,
            message: format!("read as {encoding}: the byte order mark is missing"),
        });
    }
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(offset) = binary_offset(&text) {
        return Err(DecodeError::Binary {
            offset,
            line: line_of(&text, offset),
        });
    }
    Ok(Decoded {
        encoding,
        text,
        notes,
    })
}

/// BOM-less UTF-16 shows as ASCII with a zero byte in every other position.
fn looks_like_utf16(bytes: &[u8], little_endian: bool) -> bool {
    let sample = &bytes[..bytes.len().min(64) & !1];
    if sample.len() < 4 {
        return false;
    }
    let (zero, text) = if little_endian { (1, 0) } else { (0, 1) };
    sample
        .chunks_exact(2)
        .all(|pair| pair[zero] == 0 && pair[text] != 0)
}

fn utf16(body: &[u8], from: fn([u8; 2]) -> u16, notes: &mut Vec<DecodeNote>) -> String {
    let units = body.chunks_exact(2).map(|p| from([p[0], p[1]]));
    let mut text = String::with_capacity(body.len() / 2);
    let mut bad_lines = Vec::new();
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                bad_lines.push(line_of(&text, text.len()));
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    for line in dedup(bad_lines) {
        notes.push(DecodeNote {
            line,
            message: "unpaired UTF-16 surrogate replaced with U+FFFD".into(),
        });
    }
    if body.len() % 2 == 1 {
        notes.push(DecodeNote {
            line: line_of(&text, text.len()),
            message: "the file ends in the middle of a UTF-16 character; the last byte was ignored".into(),
        });
    }
    text
}

fn utf8(body: &[u8], notes: &mut Vec<DecodeNote>) -> String {
    match std::str::from_utf8(body) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let text = String::from_utf8_lossy(body).into_owned();
            let lines = text
                .match_indices(char::REPLACEMENT_CHARACTER)
                .map(|(i, _)| line_of(&text, i))
                .collect::<Vec<_>>();
            for line in dedup(lines) {
                notes.push(DecodeNote {
                    line,
                    message: "bytes that are not valid UTF-8 were replaced with U+FFFD".into(),
                });
            }
            text
        }
    }
}

fn dedup(mut v: Vec<usize>) -> Vec<usize> {
    v.dedup();
    v
}

/// The 1-based line of a byte offset, counting CRLF, LF and CR as line ends.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let mut line = 1;
    let mut prev_cr = false;
    for &b in before {
        match b {
            b'\n' if prev_cr => {}
            b'\n' | b'\r' => line += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    line
}

/// Binary data: a NUL in the first KiB, or more than 1 in 16 characters being control characters other than
/// tab, CR and LF. Isolated control characters in a text file are reported per line by the parser instead.
fn binary_offset(text: &str) -> Option<usize> {
    if let Some(i) = text.find('\0').filter(|&i| i < 1024) {
        return Some(i);
    }
    let controls = text
        .chars()
        .filter(|&c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
        .count();
    let total = text.chars().count();
    if controls * 16 > total {
        return text
            .char_indices()
            .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
            .map(|(i, _)| i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_bom(s: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn every_encoding() {
        let text = "full address:s:hôst\r\n";
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let le_nobom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be_nobom: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut u8bom = vec![0xEF, 0xBB, 0xBF];
        u8bom.extend(text.as_bytes());
        let cases: Vec<(Vec<u8>, Encoding)> = vec![
            (utf16le_bom(text), Encoding::Utf16LeBom),
            (be, Encoding::Utf16BeBom),
            (le_nobom, Encoding::Utf16Le),
            (be_nobom, Encoding::Utf16Be),
            (u8bom, Encoding::Utf8Bom),
            (text.as_bytes().to_vec(), Encoding::Utf8),
        ];
        for (bytes, enc) in cases {
            let d = decode(&bytes).expect("decodes");
            assert_eq!((d.encoding, d.text.as_str()), (enc, text), "{enc}");
        }
        assert_eq!(decode(b"a:s:b").map(|d| d.encoding), Ok(Encoding::Ascii));
    }

    #[test]
    fn refuses_empty_large_and_binary() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(&[0xFF, 0xFE]), Err(DecodeError::Empty));
        assert_eq!(decode(b" \r\n\n"), Err(DecodeError::Empty));
        assert!(matches!(
            decode(&vec![b'a'; MAX_FILE_BYTES + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
        assert!(matches!(decode(png), Err(DecodeError::Binary { .. })));
    }

    #[test]
    fn notes_bad_bytes_with_their_line() {
        let d = decode(b"a:s:1\nb:s:\xff\xfe\xfd\n").expect("decodes");
        assert_eq!(d.notes.len(), 1);
        assert_eq!(d.notes[0].line, 2);
        let mut odd = utf16le_bom("a:s:1\r\nb:s:2");
        odd.push(0x41);
        let d = decode(&odd).expect("decodes");
        assert_eq!(d.text, "a:s:1\r\nb:s:2");
        assert_eq!(d.notes[0].line, 2);
        // A lone low surrogate.
        let mut bad = utf16le_bom("x:s:");
        bad.extend([0x00, 0xDC]);
        let d = decode(&bad).expect("decodes");
        assert!(d.notes[0].message.contains("surrogate"));
    }

    #[test]
    fn line_of_counts_every_line_end() {
        let t = "a\r\nb\nc\rd";
        assert_eq!(line_of(t, t.find('d').expect("d")), 4);
        assert_eq!(line_of(t, 0), 1);
    }
}

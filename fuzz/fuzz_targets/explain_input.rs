//! Fuzzes `rdpl explain CODE [EXTENDED] [--json]` on what people paste: the input is split into words as a
//! shell would, `--json` is the flag, the first two other words are the code and the extended code. Covers
//! [`explain::parse_code`] (hex, `h`/`&H` forms, `_` separators, decimal, negative HRESULTs), the table
//! lookups of [`explain::explain`], and the explanation's JSON (what `rdpl explain --json` prints around
//! it). Pure: it needs rdpl-core only (the command's text rendering is a loop of `outln!` over these fields).
//!
//! Besides "never panics" it checks: a code that parses is the same number when written back in hex or
//! decimal; the explanation is for exactly the numbers given, every hex it shows parses back to its number,
//! every match is a real table entry, `documented` means some table matched; its JSON is valid and carries the
//! same numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpl_core::explain::{self, Reading};

fn check_reading(r: &Reading, value: u32) {
    assert_eq!(r.value, value);
    assert_eq!(explain::parse_code(&r.hex), Ok(value), "hex {} of {value}", r.hex);
    assert_eq!(
        r.documented,
        !r.matches.is_empty(),
        "{value:#X}: documented = {}",
        r.documented
    );
    for m in &r.matches {
        assert_eq!(explain::parse_code(&m.hex), Ok(m.entry.code), "{}", m.hex);
        let e = explain::entry(m.entry.family, m.entry.code).expect("a match is a table entry");
        assert_eq!(e.name, m.entry.name);
    }
}

fn roundtrip(s: &str) -> Result<u32, String> {
    let parsed = explain::parse_code(s);
    match &parsed {
        Ok(c) => {
            assert_eq!(explain::parse_code(&format!("{c:#X}")), Ok(*c), "{s}");
            assert_eq!(explain::parse_code(&format!("{c:#x}")), Ok(*c), "{s}");
            assert_eq!(explain::parse_code(&c.to_string()), Ok(*c), "{s}");
        }
        Err(e) => assert!(!e.is_empty()),
    }
    parsed
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut words = text.split_whitespace().filter(|w| *w != "--json");
    let Some(code_word) = words.next() else { return };
    let ext_word = words.next();

    let code = roundtrip(code_word);
    let extended = ext_word.map(roundtrip);

    let ext_value = match &extended {
        None => Some(None),
        Some(Ok(e)) => Some(Some(*e)),
        Some(Err(_)) => None,
    };
    if let (Ok(c), Some(e)) = (&code, ext_value) {
        let c = *c;
        let x = explain::explain(c, e);
        check_reading(&x.code, c);
        match (&x.extended, e) {
            (Some(r), Some(e)) => check_reading(r, e),
            (None, None) => {}
            (got, want) => panic!(
                "extended {want:?} explained as {:?}",
                got.as_ref().map(|r| r.value)
            ),
        }
        assert!(!x.summary.is_empty(), "no summary for {c:#X}");
    }

    // What `--json` prints: the explanation, serialized.
    if let (Ok(c), Some(e)) = (code, ext_value) {
        let v = serde_json::to_value(explain::explain(c, e)).expect("an explanation serializes");
        assert_eq!(v["code"]["value"], serde_json::json!(c));
        assert_eq!(v["code"]["hex"], serde_json::json!(format!("{c:#X}")));
        if let Some(e) = e {
            assert_eq!(v["extended"]["value"], serde_json::json!(e));
        }
        let text = serde_json::to_string(&v).expect("JSON text");
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, v);
    }
});

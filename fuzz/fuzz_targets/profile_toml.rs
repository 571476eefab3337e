//! Fuzzes profile loading: the TOML text of a profile file through [`store::parse_profile`] (TOML syntax,
//! the schema with `deny_unknown_fields`, and every field's own validation), as `rdpl` reads
//! `profiles/NAME.toml`.
//!
//! Besides "never panics" it checks: a profile that loads, written back with [`store::to_toml`] (what
//! `rdpl profile add/set` writes), loads again to an equal profile, and writing that one gives the same text
//! (a fixed point after one round); an error points at a line and column inside the text.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rdpl_profiles::name::ProfileName;
use rdpl_profiles::store::{self, StoreError};

static NAME: LazyLock<ProfileName> = LazyLock::new(|| "fuzz".parse().expect("a valid profile name"));

fuzz_target!(|data: &[u8]| {
    // The store reads files as UTF-8 text; other bytes never reach the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/profiles/fuzz.toml");
    match store::parse_profile(NAME.clone(), path, text) {
        Ok(profile) => {
            let written = store::to_toml(&profile);
            let again = store::parse_profile(NAME.clone(), path, &written)
                .unwrap_or_else(|e| panic!("rdpl's own output does not load: {e}\n{written}"));
            assert_eq!(
                again, profile,
                "the profile changed in a round trip through\n{written}"
            );
            assert_eq!(store::to_toml(&again), written, "writing is not stable");
        }
        Err(StoreError::Corrupt {
            line,
            column,
            message,
            ..
        }) => {
            let lines = text.split('\n').count();
            assert!((1..=lines).contains(&line), "line {line} of {lines}: {message}");
            let width = text.split('\n').nth(line - 1).map_or(0, |l| l.chars().count());
            assert!(
                (1..=width + 1).contains(&column),
                "column {column} of {width} on line {line}: {message}"
            );
        }
        Err(other) => panic!("parsing text gave a non-parse error: {other}"),
    }
});

//! Fuzzes `rdpl explain CODE [EXTENDED] [--json]` on what people paste: the input is split into words as a
//! shell would, `--json` is the flag, the first two other words are the code and the extended code. Covers
//! [`explain::parse_code`] (hex, `h`/`&H` forms, `_` separators, decimal, negative HRESULTs), the table
//! lookups of [`explain::explain`], and the command's text and JSON rendering (through the command
//! dispatcher, into memory).
//!
//! Besides "never panics" it checks: a code that parses is the same number when written back in hex or
//! decimal; the explanation is for exactly the numbers given, every hex it shows parses back to its number,
//! every match is a real table entry, `documented` means some table matched; the command succeeds exactly when
//! both words parse (else it is a usage error), its text names the code in hex, and its JSON is valid and
//! carries the same numbers.
#![no_main]

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::LazyLock;

use clap::Parser as _;
use libfuzzer_sys::fuzz_target;
use rdpl::cli::{Cli, Command, ExplainArgs};
use rdpl::config::{Config, Env};
use rdpl::exit::Exit;
use rdpl_core::explain::{self, Reading};
use rdpl::ui::Ui;

/// The configuration of a plain run; `explain` reads none of it, but the dispatcher takes one.
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let cli = Cli::try_parse_from([
        "rdpl",
        "--config-dir",
        "/nonexistent",
        "--color",
        "never",
        "explain",
        "0",
    ])
    .expect("fixed arguments parse");
    Config::resolve(&cli.global, &Env::default()).expect("a config")
});

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    let json = text.split_whitespace().any(|w| w == "--json");
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

    // The command itself, as `rdpl explain` runs it.
    let (out, err) = (Buf::default(), Buf::default());
    let mut ui = Ui {
        out: Box::new(out.clone()),
        err: Box::new(err.clone()),
        quiet: false,
    };
    let args = ExplainArgs {
        code: code_word.to_owned(),
        extended: ext_word.map(str::to_owned),
        json,
    };
    let result = rdpl::commands::dispatch(Command::Explain(args), &CONFIG, &mut ui);
    let all_parse = code.is_ok() && extended.as_ref().is_none_or(Result::is_ok);
    match result {
        Ok(exit) => {
            assert!(all_parse, "explain accepted `{code_word}` / {ext_word:?}");
            assert_eq!(exit, Exit::Ok);
        }
        Err(e) => {
            assert!(
                !all_parse,
                "explain failed on `{code_word}` / {ext_word:?}: {:#}",
                e.error
            );
            assert_eq!(e.exit, Exit::Usage);
            return;
        }
    }
    let out = String::from_utf8(out.0.take()).expect("explain writes UTF-8");
    let c = code.expect("checked above");
    if json {
        let v: serde_json::Value = serde_json::from_str(&out).expect("explain --json prints JSON");
        assert_eq!(v["code"]["value"], serde_json::json!(c), "{out}");
        if let Some(Ok(e)) = extended {
            assert_eq!(v["extended"]["value"], serde_json::json!(e), "{out}");
        }
    } else {
        assert!(
            out.contains(&format!("{c:#X} ({c})")),
            "the text does not name {c:#X}:\n{out}"
        );
    }
});

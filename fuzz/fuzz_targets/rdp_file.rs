//! Fuzzes the whole .rdp path on untrusted bytes: decode -> parse -> sanitize -> render -> import.
//!
//! Besides "never panics", it checks the invariants the rest of rdpl relies on: the sanitizer's output always
//! renders to a file that reads back with no diagnostics and the same properties, and no high-risk,
//! credential or signature property survives a strict sanitize.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpl_profiles::convert;
use rdpl_profiles::rdp::RdpFile;
use rdpl_profiles::rdp::catalogue::{self, Risk};
use rdpl_profiles::rdp::sanitize::{Policy, sanitize};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = RdpFile::from_bytes(data) else { return };
    let clean = sanitize(&file, &Policy::strict());
    for (name, _) in clean.document.iter() {
        let risk = catalogue::lookup(name).map(|s| s.risk);
        assert!(!matches!(risk, Some(Risk::High | Risk::Credential | Risk::Signature) | None), "{name} survived");
    }
    let bytes = clean.document.to_bytes();
    if let Ok(again) = RdpFile::from_bytes(&bytes) {
        assert!(again.diagnostics.is_empty(), "rdpl's own output has diagnostics: {:?}", again.diagnostics);
        assert_eq!(again.effective().len(), clean.document.len());
    }
    if let Ok(name) = "fuzz".parse() {
        let _ = convert::from_rdp(name, &clean);
    }
});

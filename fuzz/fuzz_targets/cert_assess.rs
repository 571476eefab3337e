//! Fuzzes the certificate assessment on arbitrary DER: [`cert::inspect`] (x509-parser, names, validity, key)
//! and [`cert::assess`] under every trust and pin verdict, for a host name and an IP address, as the host and
//! as the RD Gateway.
//!
//! Besides "never panics" it checks: the fingerprints are those of the input bytes; every finding id carries
//! the prefix it was asked for and appears once; an expired certificate always gets `cert.expired`, a changed
//! pin always `cert.pin_changed`, both as errors; a pinned (`match`) certificate gets no error except for its
//! dates; `trusted` and `pin` in the report are the verdicts passed in. Once per process it also checks the
//! committed rcgen seeds: the valid one inspects and assesses with no error, the expired and wrong-name ones
//! get exactly those findings.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{LazyLock, Once};

use libfuzzer_sys::fuzz_target;
use rdpl_core::finding::{Finding, Severity};
use rdpl_core::preflight::cert::{self, Leaf, Scope, Trust};
use rdpl_profiles::name::Host;
use rdpl_profiles::pins::{Pin, PinStatus};
use time::OffsetDateTime;

/// A fixed "now", so runs are deterministic: 2026-06-01T00:00:00Z.
static NOW: LazyLock<OffsetDateTime> =
    LazyLock::new(|| OffsetDateTime::from_unix_timestamp(1_780_272_000).expect("a valid time"));

static HOSTS: LazyLock<[Host; 2]> = LazyLock::new(|| {
    [
        Host::Name("rdp.corp.test".to_owned()),
        Host::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
    ]
});

fn old_pin() -> Pin {
    Pin {
        sha256: "00".repeat(32),
        subject: "CN=old".into(),
        issuer: "CN=old".into(),
        not_before: "2020-01-01T00:00:00Z".into(),
        not_after: "2030-01-01T00:00:00Z".into(),
        first_seen: "2024-01-01T00:00:00Z".into(),
        last_seen: "2024-01-01T00:00:00Z".into(),
    }
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.id.wire()).collect()
}

/// The committed seeds, judged against what rcgen made them to be.
fn check_seeds() {
    let host = &HOSTS[0];
    let judge = |der: &[u8]| {
        let leaf = cert::inspect(der, 1, host, *NOW).expect("an rcgen certificate inspects");
        cert::assess(leaf, &Trust::Trusted, Some(&PinStatus::New), host, *NOW, Scope::Host).1
    };
    let valid = judge(include_bytes!("../corpus/cert_assess/valid-self-signed.der"));
    assert!(
        valid.iter().all(|f| f.severity != Severity::Error),
        "valid seed: {:?}",
        ids(&valid)
    );
    assert!(ids(&valid).contains(&"cert.self_signed") && !ids(&valid).contains(&"cert.name_mismatch"));
    let issued = judge(include_bytes!("../corpus/cert_assess/ca-issued.der"));
    assert_eq!(ids(&issued), ["cert.pin_new"], "CA-issued seed");
    let expired = judge(include_bytes!("../corpus/cert_assess/expired.der"));
    assert!(
        ids(&expired).contains(&"cert.expired"),
        "expired seed: {:?}",
        ids(&expired)
    );
    let wrong = judge(include_bytes!("../corpus/cert_assess/wrong-name.der"));
    assert!(
        ids(&wrong).contains(&"cert.name_mismatch"),
        "wrong-name seed: {:?}",
        ids(&wrong)
    );
}

static SEEDS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SEEDS.call_once(check_seeds);
    let sha256 = cert::sha256_hex(data);
    let changed = PinStatus::Changed { old: old_pin() };
    let pins = [None, Some(PinStatus::New), Some(PinStatus::Match), Some(changed)];
    let trusts = [Trust::Trusted, Trust::Untrusted("unknown issuer".into())];
    for host in HOSTS.iter() {
        let leaf: Leaf = match cert::inspect(data, 1, host, *NOW) {
            Ok(leaf) => leaf,
            Err(e) => {
                assert!(!e.is_empty());
                return;
            }
        };
        assert_eq!(leaf.report.sha256, sha256);
        assert_eq!(leaf.report.sha1, cert::sha1_hex(data));
        assert_eq!(leaf.report.sha1.len(), 40);
        // Pins are kept for hosts only: the gateway's certificate is never judged against one.
        for (scope, prefix, pins) in [(Scope::Host, "cert", &pins[..]), (Scope::Gateway, "gateway.cert", &pins[..1])] {
            for trust in &trusts {
                for pin in pins {
                    let (report, findings) =
                        cert::assess(leaf.clone(), trust, pin.as_ref(), host, *NOW, scope);
                    let got = ids(&findings);
                    for (i, id) in got.iter().enumerate() {
                        let rest = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('.'));
                        assert!(
                            rest.is_some_and(|r| !r.contains('.')),
                            "finding {id} under prefix {prefix}"
                        );
                        assert!(!got[..i].contains(id), "{id} twice: {got:?}");
                    }
                    let has = |s: &str| {
                        findings
                            .iter()
                            .any(|f| f.id.wire() == format!("{prefix}.{s}") && f.severity == Severity::Error)
                    };
                    if report.expired {
                        assert!(has("expired"), "expired without cert.expired: {got:?}");
                    }
                    if matches!(pin, Some(PinStatus::Changed { .. })) {
                        assert!(has("pin_changed"), "changed pin without pin_changed: {got:?}");
                    }
                    if matches!(pin, Some(PinStatus::Match)) {
                        for f in findings.iter().filter(|f| f.severity == Severity::Error) {
                            let what = &f.id.wire()[prefix.len() + 1..];
                            assert!(
                                matches!(what, "expired" | "not_yet_valid"),
                                "pinned cert got {}",
                                f.id
                            );
                        }
                    }
                    assert_eq!(report.trusted, matches!(trust, Trust::Trusted));
                    assert_eq!(report.pin.as_str(), pin.as_ref().map_or("none", PinStatus::as_str));
                    assert_eq!(report.sha256, sha256);
                    // The pin record a user would accept from this report round-trips its identity.
                    let record = cert::pin_of(&report, *NOW);
                    assert_eq!(record.sha256, report.sha256);
                }
            }
        }
    }
});

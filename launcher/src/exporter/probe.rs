//! What `/probe` answers: one pre-flight's [`Facts`] as metric families (names are a contract, in
//! DESIGN.md's round-2 list and docs/monitoring.md). Pure: facts in, exposition text out.

use std::collections::BTreeSet;
use std::time::Duration;

use rdpl_core::facts::{Facts, PinState};
use rdpl_core::finding::Verdict;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::exposition::{Exposition, Family, Kind, Sample};

const fn gauge(name: &'static str, help: &'static str) -> Family {
    Family {
        name,
        help,
        kind: Kind::Gauge,
    }
}

const SUCCESS: Family = gauge(
    "rdpl_probe_success",
    "1 when the pre-flight verdict is ok or warn, 0 when it is blocked.",
);
const DURATION: Family = gauge(
    "rdpl_probe_duration_seconds",
    "How long the whole pre-flight took.",
);
const STEP: Family = gauge(
    "rdpl_step_duration_seconds",
    "How long each pre-flight step took (dns, tcp, x224, tls, gateway); absent for a step that did not run.",
);
const CERT_EXPIRY: Family = gauge(
    "rdpl_cert_expiry_timestamp_seconds",
    "The server certificate's notAfter, in seconds since the Unix epoch.",
);
const GATEWAY_CERT_EXPIRY: Family = gauge(
    "rdpl_gateway_cert_expiry_timestamp_seconds",
    "The RD Gateway certificate's notAfter, in seconds since the Unix epoch.",
);
const PIN_MATCH: Family = gauge(
    "rdpl_cert_pin_match",
    "1 when the server certificate is the pinned one, 0 when it changed; absent when nothing is pinned.",
);
const NLA_REQUIRED: Family = gauge(
    "rdpl_nla_required",
    "1 when the server accepts only NLA (CredSSP).",
);
const NLA_OFFERED: Family = gauge("rdpl_nla_offered", "1 when the server offers NLA (CredSSP).");
const TLS_VERSION: Family = gauge("rdpl_tls_version_info", "The TLS version the server negotiated.");
const FALLBACK: Family = gauge(
    "rdpl_address_fallback_used",
    "1 when the connection went to a fallback, alternate or cached address instead of the host's own.",
);
const FINDING: Family = gauge(
    "rdpl_finding",
    "1 for each finding of the pre-flight (ids and severities from `rdpl check`'s catalogue).",
);

/// The exposition of one pre-flight.
pub(crate) fn exposition(facts: &Facts) -> String {
    let mut e = Exposition::default();
    e.single(SUCCESS, success(facts.verdict()));
    e.single(DURATION, secs(facts.took));
    e.family(STEP, &steps(facts));
    if let Some(c) = &facts.certificate {
        e.family(CERT_EXPIRY, &expiry(&c.not_after));
        let pin = match c.pin {
            PinState::Match => Some(1.0),
            PinState::Changed => Some(0.0),
            PinState::None | PinState::New => None,
        };
        e.family(PIN_MATCH, &pin.map(Sample::new).into_iter().collect::<Vec<_>>());
    }
    if let Some(c) = facts.gateway.as_ref().and_then(|g| g.certificate.as_ref()) {
        e.family(GATEWAY_CERT_EXPIRY, &expiry(&c.not_after));
    }
    if let Some(s) = &facts.security {
        if let Some(required) = s.nla_required {
            e.single(NLA_REQUIRED, flag(required));
        }
        if let Some(offered) = s.offers_nla() {
            e.single(NLA_OFFERED, flag(offered));
        }
    }
    if let Some(t) = &facts.tls {
        e.family(
            TLS_VERSION,
            &[Sample::new(1.0).label("version", t.version.clone())],
        );
    }
    if facts.address.chosen.is_some() {
        e.single(FALLBACK, flag(facts.address.substitute().is_some()));
    }
    // A finding id can occur more than once (one per candidate address); a series may not.
    let findings: BTreeSet<(&str, &str)> = facts
        .findings
        .iter()
        .map(|f| (f.id.wire(), f.severity.as_str()))
        .collect();
    let findings: Vec<Sample> = findings
        .into_iter()
        .map(|(id, sev)| Sample::new(1.0).label("id", id).label("severity", sev))
        .collect();
    e.family(FINDING, &findings);
    e.finish()
}

fn success(v: Verdict) -> f64 {
    flag(v != Verdict::Blocked)
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn expiry(not_after: &str) -> Vec<Sample> {
    OffsetDateTime::parse(not_after, &Rfc3339)
        .map(|t| vec![Sample::new(t.unix_timestamp() as f64)])
        .unwrap_or_default()
}

fn steps(f: &Facts) -> Vec<Sample> {
    let tcp = f.address.chosen.and_then(|chosen| {
        f.address
            .candidates
            .iter()
            .find(|c| c.address == rdpl_core::facts::CandidateAddr::Ip(chosen))
            .and_then(|c| c.took)
    });
    [
        ("dns", f.dns.took),
        ("tcp", tcp),
        ("x224", f.security.as_ref().and_then(|s| s.took)),
        ("tls", f.tls.as_ref().map(|t| t.took)),
        ("gateway", f.gateway.as_ref().map(|g| g.took)),
    ]
    .into_iter()
    .filter_map(|(step, took)| took.map(|d| Sample::new(secs(d)).label("step", step)))
    .collect()
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use rdpl_core::facts::{
        AddressFacts, Candidate, CandidateAddr, CertFacts, Outcome, Protocols, SecurityFacts, Source,
        TlsFacts,
    };
    use rdpl_core::finding::{Finding, FindingId};

    use super::*;

    fn live() -> Facts {
        let addr: SocketAddr = "10.0.0.5:3389".parse().expect("addr");
        let mut f = Facts::empty("web01");
        f.took = Duration::from_millis(41);
        f.address = AddressFacts {
            chosen: Some(addr),
            via: Some(Source::Dns),
            candidates: vec![Candidate {
                address: CandidateAddr::Ip(addr),
                source: Source::Dns,
                result: Outcome::Connected,
                took: Some(Duration::from_millis(2)),
                started: Some(Duration::ZERO),
                error: None,
            }],
        };
        f.dns.took = Some(Duration::from_millis(5));
        f.security = Some(SecurityFacts {
            offered: Protocols::SSL | Protocols::HYBRID,
            selected: Some(Protocols::HYBRID),
            nla_required: Some(false),
            failure: None,
            took: Some(Duration::from_millis(3)),
        });
        f.tls = Some(TlsFacts {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            took: Duration::from_millis(9),
        });
        f.certificate = Some(CertFacts {
            not_after: "2027-01-02T03:04:05Z".into(),
            pin: PinState::Match,
            ..CertFacts::default()
        });
        f
    }

    #[test]
    fn a_live_host_is_a_success_with_every_step_and_the_certificate() {
        let text = exposition(&live());
        for line in [
            "rdpl_probe_success 1\n",
            "rdpl_probe_duration_seconds 0.041\n",
            "rdpl_step_duration_seconds{step=\"dns\"} 0.005\n",
            "rdpl_step_duration_seconds{step=\"tcp\"} 0.002\n",
            "rdpl_step_duration_seconds{step=\"x224\"} 0.003\n",
            "rdpl_step_duration_seconds{step=\"tls\"} 0.009\n",
            "rdpl_cert_expiry_timestamp_seconds 1798859045\n",
            "rdpl_cert_pin_match 1\n",
            "rdpl_nla_required 0\n",
            "rdpl_nla_offered 1\n",
            "rdpl_tls_version_info{version=\"TLSv1.3\"} 1\n",
            "rdpl_address_fallback_used 0\n",
            "# TYPE rdpl_probe_success gauge\n",
        ] {
            assert!(text.contains(line), "{line:?} missing in\n{text}");
        }
        assert!(!text.contains("step=\"gateway\""), "{text}");
        assert!(!text.contains("rdpl_finding"), "no findings, no family: {text}");
    }

    #[test]
    fn a_changed_pin_is_0_and_no_pin_is_absent() {
        let mut f = live();
        if let Some(c) = f.certificate.as_mut() {
            c.pin = PinState::Changed;
        }
        assert!(exposition(&f).contains("rdpl_cert_pin_match 0\n"));
        for none in [PinState::None, PinState::New] {
            if let Some(c) = f.certificate.as_mut() {
                c.pin = none;
            }
            assert!(!exposition(&f).contains("rdpl_cert_pin_match"));
        }
    }

    #[test]
    fn a_blocked_check_is_0_with_each_finding_once() {
        let mut f = Facts::empty("dead");
        f.findings = vec![
            Finding::new(FindingId::TcpRefused, "refused 1"),
            Finding::new(FindingId::TcpRefused, "refused 2"),
            Finding::new(FindingId::CertPinNew, "new"),
        ];
        let text = exposition(&f);
        assert!(text.contains("rdpl_probe_success 0\n"), "{text}");
        assert_eq!(
            text.matches("rdpl_finding{id=\"tcp.refused\",severity=\"error\"} 1\n")
                .count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("rdpl_finding{id=\"cert.pin_new\",severity=\"info\"} 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("rdpl_address_fallback_used"),
            "nothing connected: {text}"
        );
        assert!(!text.contains("rdpl_nla_"), "no negotiation: {text}");
    }

    #[test]
    fn a_fallback_address_is_flagged() {
        let mut f = live();
        f.address.via = Some(Source::Fallback);
        assert!(exposition(&f).contains("rdpl_address_fallback_used 1\n"));
    }

    #[test]
    fn warnings_still_succeed() {
        let mut f = live();
        f.findings = vec![Finding::new(FindingId::CertSelfSigned, "self-signed")];
        assert!(exposition(&f).contains("rdpl_probe_success 1\n"));
    }
}

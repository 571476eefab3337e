//! The address step's findings, pure: from what DNS answered and what happened to each candidate to
//! `dns.*`, `tcp.*`, `address.fallback_used` and `dns.mismatch`. The race itself is the launcher's
//! `probe::address`.

use rdpl_profiles::name::Host;
use rdpl_profiles::profile::Profile;

use crate::facts::{AddressFacts, DnsFacts, DnsStatus, Outcome, Source};
use crate::finding::{Finding, FindingId, Severity};

fn describe(o: Outcome) -> &'static str {
    match o {
        Outcome::Refused => "refused the connection (nothing listens on that port)",
        Outcome::Timeout => "did not answer (host down, or the port is filtered by a firewall)",
        Outcome::Unreachable => "is unreachable (no route to it)",
        Outcome::Nxdomain => "does not resolve",
        Outcome::Error => "failed",
        Outcome::Connected => "connected",
        Outcome::Skipped => "was not needed",
        Outcome::Cancelled => "was still pending when another address connected",
    }
}

/// The findings of the address step: DNS, the candidates that failed, a fallback used, a name pointing
/// elsewhere. `no_resolver` says why there was no resolver at all, when there was none.
pub fn findings(p: &Profile, dns: &DnsFacts, a: &AddressFacts, no_resolver: Option<&str>) -> Vec<Finding> {
    let mut f = Vec::new();
    let connected = a.chosen.is_some();
    let soft = if connected {
        Severity::Warning
    } else {
        Severity::Error
    };
    if matches!(p.host, Host::Name(_)) {
        match dns.status {
            DnsStatus::Ok | DnsStatus::Skipped => {}
            DnsStatus::Nxdomain => f.push(
                Finding::new(
                    FindingId::DnsNxdomain,
                    format!("{} does not exist in DNS (NXDOMAIN).", dns.name),
                )
                .severity(soft),
            ),
            DnsStatus::Timeout => f.push(
                Finding::new(
                    FindingId::DnsTimeout,
                    format!("The DNS server did not answer for {} in time.", dns.name),
                )
                .severity(soft),
            ),
            DnsStatus::Servfail => f.push(
                Finding::new(
                    FindingId::DnsServfail,
                    format!("The DNS server failed to resolve {} (SERVFAIL).", dns.name),
                )
                .severity(soft),
            ),
            DnsStatus::Error => f.push(
                Finding::new(
                    FindingId::DnsError,
                    match no_resolver {
                        Some(why) => format!("No DNS resolver is available: {why}."),
                        None => match &dns.error {
                            Some(why) => format!("{} could not be resolved: {why}.", dns.name),
                            None => format!("{} could not be resolved.", dns.name),
                        },
                    },
                )
                .severity(soft),
            ),
        }
    }
    if !dns.unusable.is_empty() {
        let list: Vec<String> = dns.unusable.iter().map(ToString::to_string).collect();
        f.push(
            Finding::new(
                FindingId::DnsUnusableAddress,
                format!(
                    "{} resolves to {}, which is no server's address (0.0.0.0 and :: mean this computer, broadcast and multicast reach many): not tried.",
                    dns.name,
                    list.join(", ")
                ),
            )
            .severity(soft),
        );
    }
    let failed: Vec<_> = a
        .candidates
        .iter()
        .filter(|c| {
            !matches!(
                c.result,
                Outcome::Connected | Outcome::Skipped | Outcome::Cancelled
            )
        })
        .collect();
    for outcome in [
        Outcome::Refused,
        Outcome::Timeout,
        Outcome::Unreachable,
        Outcome::Error,
    ] {
        let addrs: Vec<String> = failed
            .iter()
            .filter(|c| c.result == outcome)
            .map(|c| c.address.to_string())
            .collect();
        if addrs.is_empty() {
            continue;
        }
        let id = match outcome {
            Outcome::Refused => FindingId::TcpRefused,
            Outcome::Timeout => FindingId::TcpTimeout,
            Outcome::Unreachable => FindingId::TcpUnreachable,
            _ => FindingId::TcpError,
        };
        let sev = if connected {
            Severity::Info
        } else {
            Severity::Error
        };
        f.push(Finding::new(id, format!("{} {}.", addrs.join(", "), describe(outcome))).severity(sev));
    }
    if let (Some(chosen), Some(via)) = (&a.chosen, a.via)
        && !matches!(via, Source::Dns | Source::Literal)
    {
        let why = if dns.status != DnsStatus::Ok && matches!(p.host, Host::Name(_)) {
            format!("{} did not resolve", dns.name)
        } else {
            format!("{}:{} did not answer", p.host, p.port)
        };
        f.push(Finding::new(
            FindingId::AddressFallbackUsed,
            format!("{why}; connected to {chosen} ({}) instead.", via.as_str()),
        ));
        if dns.status == DnsStatus::Ok && !dns.addresses.contains(&chosen.ip()) {
            let resolved: Vec<String> = dns.addresses.iter().map(ToString::to_string).collect();
            f.push(Finding::new(
                FindingId::DnsMismatch,
                format!(
                    "{} resolves to {}, but the server answers at {chosen}.",
                    dns.name,
                    resolved.join(", ")
                ),
            ));
        }
    }
    if !connected && a.candidates.is_empty() && dns.status == DnsStatus::Ok {
        f.push(Finding::new(FindingId::TcpError, "No address to connect to.").no_fix());
    }
    f
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use rdpl_profiles::name::Host;
    use rstest::rstest;

    use super::*;
    use crate::facts::{Candidate, CandidateAddr};

    fn profile(host: &str) -> Profile {
        let host = match host.parse() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(host.into()),
        };
        Profile::new("web01".parse().expect("name"), host)
    }

    fn dns(status: DnsStatus, addresses: &[&str]) -> DnsFacts {
        DnsFacts {
            name: "web01.corp.test".into(),
            status,
            addresses: addresses.iter().map(|a| a.parse().expect("ip")).collect(),
            unusable: Vec::new(),
            error: None,
            took: Some(Duration::from_millis(2)),
        }
    }

    fn candidate(addr: &str, source: Source, result: Outcome) -> Candidate {
        Candidate {
            address: CandidateAddr::Ip(addr.parse().expect("addr")),
            source,
            result,
            took: Some(Duration::from_millis(1)),
            started: Some(Duration::ZERO),
            error: None,
        }
    }

    fn reached(chosen: Option<(&str, Source)>, candidates: Vec<Candidate>) -> AddressFacts {
        AddressFacts {
            chosen: chosen.map(|(a, _)| a.parse::<SocketAddr>().expect("addr")),
            via: chosen.map(|(_, s)| s),
            candidates,
        }
    }

    fn ids(f: &[Finding]) -> Vec<(FindingId, Severity)> {
        f.iter().map(|f| (f.id, f.severity)).collect()
    }

    #[rstest]
    #[case::nxdomain(DnsStatus::Nxdomain, FindingId::DnsNxdomain)]
    #[case::timeout(DnsStatus::Timeout, FindingId::DnsTimeout)]
    #[case::servfail(DnsStatus::Servfail, FindingId::DnsServfail)]
    #[case::error(DnsStatus::Error, FindingId::DnsError)]
    fn a_dead_name_is_an_error_unless_a_fallback_answered(#[case] status: DnsStatus, #[case] id: FindingId) {
        let p = profile("web01.corp.test");
        let nothing = reached(None, vec![]);
        let f = findings(&p, &dns(status, &[]), &nothing, None);
        assert_eq!(ids(&f), vec![(id, Severity::Error)]);
        let fallback = reached(
            Some(("10.0.0.5:3389", Source::Fallback)),
            vec![candidate("10.0.0.5:3389", Source::Fallback, Outcome::Connected)],
        );
        let f = findings(&p, &dns(status, &[]), &fallback, None);
        assert_eq!(
            ids(&f),
            vec![
                (id, Severity::Warning),
                (FindingId::AddressFallbackUsed, Severity::Warning)
            ]
        );
        assert!(
            f[1].message
                .starts_with("web01.corp.test did not resolve; connected to 10.0.0.5:3389 (fallback)"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn no_resolver_says_why() {
        let f = findings(
            &profile("web01.corp.test"),
            &dns(DnsStatus::Error, &[]),
            &reached(None, vec![]),
            Some("no nameservers in /etc/resolv.conf"),
        );
        assert_eq!(
            f[0].message,
            "No DNS resolver is available: no nameservers in /etc/resolv.conf."
        );
        assert_eq!(f[0].fix, None);
    }

    #[test]
    fn an_ip_literal_has_no_dns_findings() {
        let f = findings(
            &profile("10.0.0.9"),
            &dns(DnsStatus::Skipped, &[]),
            &reached(
                Some(("10.0.0.9:3389", Source::Literal)),
                vec![candidate("10.0.0.9:3389", Source::Literal, Outcome::Connected)],
            ),
            None,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn failed_candidates_are_grouped_by_outcome_and_only_info_when_another_connected() {
        let cands = vec![
            candidate("10.0.0.1:3389", Source::Dns, Outcome::Refused),
            candidate("10.0.0.2:3389", Source::Dns, Outcome::Refused),
            candidate("10.0.0.3:3389", Source::Dns, Outcome::Timeout),
            candidate("10.0.0.4:3389", Source::Dns, Outcome::Unreachable),
            candidate("10.0.0.6:3389", Source::Dns, Outcome::Cancelled),
            candidate("10.0.0.7:3389", Source::Dns, Outcome::Skipped),
        ];
        let p = profile("web01.corp.test");
        let addrs = [
            "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.6", "10.0.0.7",
        ];
        let f = findings(
            &p,
            &dns(DnsStatus::Ok, &addrs),
            &reached(None, cands.clone()),
            None,
        );
        assert_eq!(
            ids(&f),
            vec![
                (FindingId::TcpRefused, Severity::Error),
                (FindingId::TcpTimeout, Severity::Error),
                (FindingId::TcpUnreachable, Severity::Error),
            ]
        );
        assert_eq!(
            f[0].message,
            "10.0.0.1:3389, 10.0.0.2:3389 refused the connection (nothing listens on that port)."
        );
        assert!(f[1].fix.as_deref().is_some_and(|x| x.contains("firewalls")));
        let mut won = cands;
        won.push(candidate("10.0.0.8:3389", Source::Dns, Outcome::Connected));
        let f = findings(
            &p,
            &dns(DnsStatus::Ok, &addrs),
            &reached(Some(("10.0.0.8:3389", Source::Dns)), won),
            None,
        );
        assert!(f.iter().all(|f| f.severity == Severity::Info), "{f:?}");
    }

    #[test]
    fn a_name_that_resolves_elsewhere_is_a_mismatch() {
        let p = profile("web01.corp.test");
        let cache = reached(
            Some(("10.0.0.5:3389", Source::Cache)),
            vec![
                candidate("10.0.0.9:3389", Source::Dns, Outcome::Timeout),
                candidate("10.0.0.5:3389", Source::Cache, Outcome::Connected),
            ],
        );
        let f = findings(&p, &dns(DnsStatus::Ok, &["10.0.0.9"]), &cache, None);
        assert_eq!(
            ids(&f),
            vec![
                (FindingId::TcpTimeout, Severity::Info),
                (FindingId::AddressFallbackUsed, Severity::Warning),
                (FindingId::DnsMismatch, Severity::Warning),
            ]
        );
        assert_eq!(
            f[2].message,
            "web01.corp.test resolves to 10.0.0.9, but the server answers at 10.0.0.5:3389."
        );
        assert!(
            f[1].message
                .starts_with("web01.corp.test:3389 did not answer; connected to 10.0.0.5:3389 (cache)")
        );
        // A prefix of the chosen address is not the same address (10.0.0.5 vs 10.0.0.50).
        let f = findings(&p, &dns(DnsStatus::Ok, &["10.0.0.50"]), &cache, None);
        assert!(f.iter().any(|f| f.id == FindingId::DnsMismatch));
    }

    #[test]
    fn no_candidate_at_all_is_an_error() {
        let f = findings(
            &profile("web01.corp.test"),
            &dns(DnsStatus::Ok, &[]),
            &reached(None, vec![]),
            None,
        );
        assert_eq!(ids(&f), vec![(FindingId::TcpError, Severity::Error)]);
        assert_eq!(f[0].fix, None);
    }
}

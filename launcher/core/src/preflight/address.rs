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
                        None => format!("{} could not be resolved.", dns.name),
                    },
                )
                .severity(soft),
            ),
        }
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

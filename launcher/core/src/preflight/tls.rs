//! The TLS step's verdicts: why a handshake failed, and what that means as a finding for the host or the
//! RD Gateway. The handshake itself (rustls, with a capturing verifier) is the launcher's `probe::tls`.

use rdpl_profiles::profile::TlsLegacy;

use crate::finding::{Finding, FindingId};
use crate::preflight::cert::Scope;

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server speaks only TLS 1.0/1.1 (rustls supports 1.2 and 1.3).
    LegacyVersion(String),
    /// Any other failure (alert, reset, bad message).
    Failed(String),
    /// No handshake within the deadline.
    Timeout,
}

/// The finding for a failed handshake with the host or the gateway. `legacy` is the profile's `tls.legacy`: a
/// host that speaks only TLS 1.0/1.1 is an error unless the profile allows it (the gateway's TLS is the
/// client's own and is never relaxed).
pub fn failure_finding(scope: Scope, fail: &Failure, legacy: TlsLegacy) -> Finding {
    if let (Scope::Host, Failure::LegacyVersion(e), TlsLegacy::Allow) = (scope, fail, legacy) {
        return Finding::new(
            FindingId::TlsLegacyOnly,
            format!(
                "The server speaks only TLS 1.0 or 1.1 ({e}); the profile allows it (tls.legacy=allow), so the \
                 client is told to accept it. The certificate could not be checked by rdpl."
            ),
        );
    }
    let (who, legacy_id, failed) = match scope {
        Scope::Host => (
            "the server",
            FindingId::TlsLegacyVersion,
            FindingId::TlsHandshakeFailed,
        ),
        Scope::Gateway => (
            "the RD Gateway",
            FindingId::GatewayTlsLegacyVersion,
            FindingId::GatewayTlsHandshakeFailed,
        ),
    };
    match fail {
        Failure::LegacyVersion(e) => Finding::new(
            legacy_id,
            format!("{who} speaks only TLS 1.0 or 1.1, which rdpl and current clients refuse ({e})."),
        ),
        Failure::Failed(e) => Finding::new(failed, format!("The TLS handshake with {who} failed: {e}.")),
        Failure::Timeout => Finding::new(
            failed,
            format!("{who} did not complete the TLS handshake in time."),
        )
        .no_fix(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_become_findings_of_their_scope() {
        let legacy = Failure::LegacyVersion("protocol version".into());
        assert_eq!(
            failure_finding(Scope::Host, &legacy, TlsLegacy::Deny).id,
            FindingId::TlsLegacyVersion
        );
        assert_eq!(
            failure_finding(Scope::Host, &legacy, TlsLegacy::Allow).id,
            FindingId::TlsLegacyOnly
        );
        // The gateway's TLS is never relaxed.
        assert_eq!(
            failure_finding(Scope::Gateway, &legacy, TlsLegacy::Allow).id,
            FindingId::GatewayTlsLegacyVersion
        );
        let f = failure_finding(Scope::Gateway, &Failure::Failed("reset".into()), TlsLegacy::Allow);
        assert_eq!(f.id, FindingId::GatewayTlsHandshakeFailed);
        assert!(
            f.message.contains("the RD Gateway failed: reset"),
            "{}",
            f.message
        );
        let t = failure_finding(Scope::Host, &Failure::Timeout, TlsLegacy::Allow);
        assert_eq!((t.id, t.fix), (FindingId::TlsHandshakeFailed, None));
    }
}

//! The pure half of every pre-flight step: parsers and classifiers of what a server sent, and the findings
//! each step's facts imply. The launcher's `probe` drives the sockets and calls these.
//!
//! [`x224`] (Connection Request bytes, Confirm classification), [`security`] (offered protocols, NLA, the
//! `nego.*` findings), [`address`] (the `dns.*`/`tcp.*` findings of the race), [`tls`] (handshake failures),
//! [`cert`] (the certificate assessment), [`gateway`] (RD Gateway answers), [`race`] (the address race as a
//! state machine: which candidate to try when).

pub mod address;
pub mod cert;
pub mod gateway;
pub mod race;
pub mod security;
pub mod tls;
pub mod x224;

use crate::facts::GatewayStatus;
use crate::finding::{Finding, FindingId};

/// The finding for an RD Gateway whose answers say it is not usable (`label` is `host:port`, `why` what
/// the answers were when none was HTTP: [`gateway::why`]).
pub fn gateway_finding(
    status: GatewayStatus,
    label: &str,
    http_status: &[u16],
    why: &str,
) -> Option<Finding> {
    match status {
        GatewayStatus::NotRdg => Some(Finding::new(
            FindingId::GatewayNotRdg,
            format!(
                "{label} answers HTTPS (HTTP {http_status:?}) but not as an RD Gateway does (401 with WWW-Authenticate, or 101 to a WebSocket upgrade)."
            ),
        )),
        GatewayStatus::Rejected => Some(Finding::new(
            FindingId::GatewayRejected,
            format!("{label} gave no HTTP answer to the RD Gateway request: {why}."),
        )),
        _ => None,
    }
}

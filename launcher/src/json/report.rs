//! The `check --json` report: the wire form of [`Facts`], built from them in one place ([`Report::from`]).
//! Its fields are the contract of docs/json.md and docs/json-schemas/check.json; the decisions are made over
//! the typed facts, never over this.

use std::time::Duration;

use rdpl_core::facts::{
    AddressFacts, CertFacts, DnsFacts, DnsStatus, Facts, GatewayFacts, GatewayStatus, Outcome, Protocols,
    SecurityFacts, Source, TlsFacts, Transport,
};
use rdpl_core::finding::{Finding, Verdict};
use rdpl_core::login::{LoginOutcome, LoginStatus, Stage};
use rdpl_core::preflight::x224;
use serde::Serialize;

/// One candidate address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// `ip:port`, or `name:port` for a fallback name that did not resolve.
    pub address: String,
    /// Where it came from.
    pub source: Source,
    /// What happened.
    pub result: Outcome,
    /// Milliseconds from the start of the attempt to its outcome (`null` when skipped).
    pub ms: Option<u64>,
    /// When the attempt started, in milliseconds from the start of the race (`null` when never started).
    pub at_ms: Option<u64>,
    /// The OS error, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The address part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressReport {
    /// The address that connected, if any.
    pub chosen: Option<String>,
    /// Where the chosen address came from.
    pub via: Option<Source>,
    /// Every candidate, in the order tried.
    pub candidates: Vec<Candidate>,
}

/// The DNS part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsReport {
    /// The name looked up.
    pub name: String,
    /// The outcome.
    pub status: DnsStatus,
    /// The addresses it resolved to.
    pub addresses: Vec<String>,
    /// How long it took.
    pub ms: Option<u64>,
}

/// The X.224 negotiation part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SecurityReport {
    /// Protocols the server accepted: `rdp`, `ssl`, `hybrid`, `hybrid_ex`, `rdstls`.
    pub offered: Vec<String>,
    /// What the server selected for a modern client's request (HYBRID_EX | HYBRID | SSL).
    pub selected: Option<String>,
    /// Whether the server accepts only NLA (CredSSP).
    pub nla_required: Option<bool>,
    /// The RDP_NEG_FAILURE code name the server sent to the modern request, if any.
    pub failure: Option<String>,
    /// Milliseconds for the modern request's round trip.
    pub ms: Option<u64>,
}

/// The TLS part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsReport {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// Milliseconds for the handshake.
    pub ms: u64,
}

/// The certificate part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CertReport {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    /// SHA-1 thumbprint, as Windows shows it and mstsc remembers it (`CertHash`).
    pub sha1: String,
    pub expired: bool,
    pub not_yet_valid: bool,
    pub self_signed: bool,
    pub name_matches: bool,
    pub trusted: bool,
    /// `none` (no pin checked), `new`, `match`, `changed`.
    pub pin: String,
    /// `RSA 2048`, `EC P-256`, ...
    pub key: String,
    /// Whether the certificate allows TLS server authentication (`null` when it has no EKU extension).
    pub server_auth: Option<bool>,
    /// The number of certificates the server sent.
    pub chain_len: usize,
}

/// The RD Gateway part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayReport {
    /// `host:port`.
    pub host: String,
    /// The outcome.
    pub status: GatewayStatus,
    /// Its certificate.
    pub certificate: Option<CertReport>,
    /// `websocket`, `http`, `rpc` or `unknown`.
    pub transport: Transport,
    /// Authentication schemes it offered (from `WWW-Authenticate`).
    pub auth_schemes: Vec<String>,
    /// HTTP status codes of the two requests (RDG_OUT_DATA, WebSocket upgrade).
    pub http_status: Vec<u16>,
    /// Milliseconds for the whole gateway probe.
    pub ms: u64,
}

/// The whole pre-flight report of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// JSON schema version.
    pub version: u32,
    /// The target as given (profile name or host).
    pub target: String,
    /// The verdict, from the findings.
    pub verdict: Verdict,
    pub address: AddressReport,
    pub dns: DnsReport,
    pub security: Option<SecurityReport>,
    pub tls: Option<TlsReport>,
    pub certificate: Option<CertReport>,
    pub gateway: Option<GatewayReport>,
    /// The login check (`check --login`, `doctor --login`).
    pub login: Option<LoginReport>,
    pub findings: Vec<Finding>,
    /// Total milliseconds.
    pub ms: u64,
}

/// The login check's outcome (`check --login`, `doctor --login`, `screenshot --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginReport {
    /// ok, not_verified, failed, error.
    pub status: LoginStatus,
    /// Milliseconds from the first byte to the first decoded frame (or to the failure).
    pub ms: u64,
    /// Milliseconds until the session was active.
    pub connect_ms: Option<u64>,
    /// Milliseconds from the active session to the first decoded frame.
    pub first_frame_ms: Option<u64>,
    /// `nla` or `tls`: how the credentials were (or were not) checked.
    pub protocol: Option<String>,
    /// The TLS version.
    pub tls_version: Option<String>,
    /// The desktop size the server gave, `WIDTHxHEIGHT`.
    pub desktop: Option<String>,
    /// Whether the connection went through the RD Gateway.
    pub via_gateway: bool,
    /// Where it failed.
    pub stage: Option<Stage>,
    /// IronRDP's words for the failure.
    pub detail: Option<String>,
}

/// Whole milliseconds, as the report gives every duration.
pub fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&LoginOutcome> for LoginReport {
    fn from(o: &LoginOutcome) -> LoginReport {
        LoginReport {
            status: o.status,
            ms: ms(o.took),
            connect_ms: o.connect.map(ms),
            first_frame_ms: o.first_frame.map(ms),
            protocol: o.protocol.clone(),
            tls_version: o.tls_version.clone(),
            desktop: o.desktop.clone(),
            via_gateway: o.via_gateway,
            stage: o.stage,
            detail: o.detail.clone(),
        }
    }
}

impl From<&AddressFacts> for AddressReport {
    fn from(a: &AddressFacts) -> AddressReport {
        AddressReport {
            chosen: a.chosen.map(|c| c.to_string()),
            via: a.via,
            candidates: a
                .candidates
                .iter()
                .map(|c| Candidate {
                    address: c.address.to_string(),
                    source: c.source,
                    result: c.result,
                    ms: c.took.map(ms),
                    at_ms: c.started.map(ms),
                    error: c.error.clone(),
                })
                .collect(),
        }
    }
}

impl From<&DnsFacts> for DnsReport {
    fn from(d: &DnsFacts) -> DnsReport {
        DnsReport {
            name: d.name.clone(),
            status: d.status,
            addresses: d.addresses.iter().map(ToString::to_string).collect(),
            ms: d.took.map(ms),
        }
    }
}

/// The protocols in the order the report has always listed them: what the server selected for the modern
/// request first, then NLA, TLS alone, Standard RDP Security and RDSTLS as the single-protocol requests found.
fn offered_names(s: &SecurityFacts) -> Vec<String> {
    let mut names: Vec<&str> = s.selected.map(Protocols::names).unwrap_or_default();
    for p in [
        Protocols::HYBRID_EX,
        Protocols::HYBRID,
        Protocols::SSL,
        Protocols::RDP,
        Protocols::RDSTLS,
        Protocols::RDSAAD,
    ] {
        for n in (s.offered & p).names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names.into_iter().map(str::to_owned).collect()
}

impl From<&SecurityFacts> for SecurityReport {
    fn from(s: &SecurityFacts) -> SecurityReport {
        SecurityReport {
            offered: offered_names(s),
            selected: s.selected.map(|p| p.names().join("+")),
            nla_required: s.nla_required,
            failure: s.failure.map(|c| x224::failure_name(c).to_owned()),
            ms: s.took.map(ms),
        }
    }
}

impl From<&TlsFacts> for TlsReport {
    fn from(t: &TlsFacts) -> TlsReport {
        TlsReport {
            version: t.version.clone(),
            cipher: t.cipher.clone(),
            ms: ms(t.took),
        }
    }
}

impl From<&CertFacts> for CertReport {
    fn from(c: &CertFacts) -> CertReport {
        CertReport {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            sans: c.sans.clone(),
            not_before: c.not_before.clone(),
            not_after: c.not_after.clone(),
            sha256: c.sha256.clone(),
            sha1: c.sha1.clone(),
            expired: c.expired,
            not_yet_valid: c.not_yet_valid,
            self_signed: c.self_signed,
            name_matches: c.name_matches,
            trusted: c.trusted,
            pin: c.pin.as_str().to_owned(),
            key: c.key.clone(),
            server_auth: c.server_auth,
            chain_len: c.chain_len,
        }
    }
}

impl From<&GatewayFacts> for GatewayReport {
    fn from(g: &GatewayFacts) -> GatewayReport {
        GatewayReport {
            host: g.host.clone(),
            status: g.status,
            certificate: g.certificate.as_ref().map(CertReport::from),
            transport: g.transport,
            auth_schemes: g.auth_schemes.clone(),
            http_status: g.http_status.clone(),
            ms: ms(g.took),
        }
    }
}

impl From<&Facts> for Report {
    fn from(f: &Facts) -> Report {
        Report {
            version: 1,
            target: f.target.clone(),
            verdict: f.verdict(),
            address: AddressReport::from(&f.address),
            dns: DnsReport::from(&f.dns),
            security: f.security.as_ref().map(SecurityReport::from),
            tls: f.tls.as_ref().map(TlsReport::from),
            certificate: f.certificate.as_ref().map(CertReport::from),
            gateway: f.gateway.as_ref().map(GatewayReport::from),
            login: f.login.as_ref().map(LoginReport::from),
            findings: f.findings.clone(),
            ms: ms(f.took),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpl_core::facts::SecurityFacts;

    #[test]
    fn offered_protocols_keep_their_order() {
        let s = SecurityFacts {
            offered: Protocols::HYBRID_EX | Protocols::HYBRID | Protocols::SSL | Protocols::RDP,
            selected: Some(Protocols::HYBRID_EX),
            ..SecurityFacts::default()
        };
        assert_eq!(offered_names(&s), vec!["hybrid_ex", "hybrid", "ssl", "rdp"]);
        let legacy = SecurityFacts {
            offered: Protocols::RDP,
            selected: Some(Protocols::RDP),
            ..SecurityFacts::default()
        };
        assert_eq!(SecurityReport::from(&legacy).selected.as_deref(), Some("rdp"));
    }
}

//! The pre-flight report: facts plus findings with stable ids, serialized as the `check --json` contract
//! (docs/json.md, ../shared/DESIGN.md). It is the one thing probes produce and `plan()`/`doctor` consume.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// The connection can work, but something is off.
    Warning,
    /// The connection will fail or must not be made as it is.
    Error,
}

/// One finding: a stable id, a plain-language message about this connection, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `cert.expired` (the vocabulary is in DESIGN.md and docs/json.md).
    pub id: String,
    /// How serious it is.
    pub severity: Severity,
    /// What it means for this connection.
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Finding {
    /// A finding without a fix line.
    pub fn new(id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            id: id.into(),
            severity,
            message: message.into(),
            fix: None,
        }
    }

    /// Adds the fix line.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No warning or error.
    Ok,
    /// Warnings only.
    Warn,
    /// At least one error: the connection is blocked.
    Blocked,
}

/// Where a candidate address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An answer for the profile's host name.
    Dns,
    /// One of the profile's fallback addresses.
    Fallback,
    /// The profile's alternate address.
    Alternate,
    /// The last address that worked.
    Cache,
    /// The host is an IP literal.
    Literal,
}

/// What happened to a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// TCP connected.
    Connected,
    /// Connection refused (RST).
    Refused,
    /// No answer within the attempt timeout.
    Timeout,
    /// No route, host or network unreachable.
    Unreachable,
    /// A name that did not resolve (fallback names).
    Nxdomain,
    /// Another error.
    Error,
    /// Tried, but another candidate won while this one was still pending.
    Cancelled,
    /// Not tried: another candidate won first.
    Skipped,
}

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

/// DNS status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsStatus {
    /// Answers came back.
    Ok,
    /// The name does not exist.
    Nxdomain,
    /// The server failed.
    Servfail,
    /// No answer in time.
    Timeout,
    /// Another error (no answer records, refused, no resolver configured, ...).
    Error,
    /// The host is an IP literal.
    Skipped,
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

/// RD Gateway status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayStatus {
    /// A live RD Gateway (it asked for authentication, or accepted the transport).
    Ok,
    /// Its name does not resolve.
    Dns,
    /// TCP failed.
    Unreachable,
    /// TLS failed.
    Tls,
    /// HTTPS works but it is not an HTTP RD Gateway.
    NotRdg,
    /// It reset or closed the connection on the RD Gateway request.
    Rejected,
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
    pub transport: String,
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
    pub login: Option<crate::native::LoginOutcome>,
    pub findings: Vec<Finding>,
    /// Total milliseconds.
    pub ms: u64,
}

#[cfg(test)]
impl Report {
    /// For tests: `target` (also the DNS name asked), reached at `chosen` through `via` when they are given;
    /// nothing else probed or found. Tests set the parts they need on top.
    pub(crate) fn reached(target: &str, chosen: Option<&str>, via: Option<Source>) -> Report {
        Report {
            version: 1,
            target: target.into(),
            verdict: Verdict::Ok,
            address: AddressReport {
                chosen: chosen.map(str::to_owned),
                via,
                candidates: vec![],
            },
            dns: DnsReport {
                name: target.into(),
                status: DnsStatus::Ok,
                addresses: vec![],
                ms: None,
            },
            security: None,
            tls: None,
            certificate: None,
            gateway: None,
            login: None,
            findings: vec![],
            ms: 1,
        }
    }
}

impl Report {
    /// The verdict the findings imply.
    pub fn verdict_of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Blocked,
            Some(Severity::Warning) => Verdict::Warn,
            _ => Verdict::Ok,
        }
    }

    /// Whether a finding with this id is present.
    pub fn has(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }
}

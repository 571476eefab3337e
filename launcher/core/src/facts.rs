//! Typed facts: what the pre-flight and the native session learned about one target. `plan()` and `doctor`
//! decide over these; the `check --json` report (`rdpl::json::Report`) is an edge type built from them in one
//! place.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::finding::{Finding, FindingId, Verdict};
use crate::login::LoginOutcome;

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

impl Source {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dns => "dns",
            Source::Fallback => "fallback",
            Source::Alternate => "alternate",
            Source::Cache => "cache",
            Source::Literal => "literal",
        }
    }
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

/// A candidate's address: an IP and port, or a fallback name that did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateAddr {
    /// An address that was (or could have been) connected to.
    Ip(SocketAddr),
    /// A fallback name that did not resolve, with the port.
    Name(String, u16),
}

impl fmt::Display for CandidateAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CandidateAddr::Ip(a) => write!(f, "{a}"),
            CandidateAddr::Name(n, port) => write!(f, "{n}:{port}"),
        }
    }
}

/// One candidate address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where it is.
    pub address: CandidateAddr,
    /// Where it came from.
    pub source: Source,
    /// What happened.
    pub result: Outcome,
    /// From the start of the attempt to its outcome (`None` when skipped).
    pub took: Option<Duration>,
    /// When the attempt started, from the start of the race (`None` when never started).
    pub started: Option<Duration>,
    /// The OS error, when there was one.
    pub error: Option<String>,
}

/// Which address answered, and every candidate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressFacts {
    /// The address that connected, if any.
    pub chosen: Option<SocketAddr>,
    /// Where the chosen address came from.
    pub via: Option<Source>,
    /// Every candidate, in the order tried.
    pub candidates: Vec<Candidate>,
}

impl AddressFacts {
    /// The address that connected, when it is not the host's own (DNS answer or IP literal).
    pub fn substitute(&self) -> Option<SocketAddr> {
        self.chosen
            .filter(|_| !matches!(self.via, Some(Source::Dns | Source::Literal) | None))
    }
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

/// What DNS said about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFacts {
    /// The name looked up.
    pub name: String,
    /// The outcome.
    pub status: DnsStatus,
    /// The addresses it resolved to.
    pub addresses: Vec<IpAddr>,
    /// Those of them nothing can connect to (0.0.0.0, ::, broadcast, multicast): never tried.
    pub unusable: Vec<IpAddr>,
    /// Why the lookup failed, when it did.
    pub error: Option<String>,
    /// How long it took.
    pub took: Option<Duration>,
}

/// A set of RDP security protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protocols(u8);

impl Protocols {
    /// Standard RDP Security (PROTOCOL_RDP: no TLS).
    pub const RDP: Protocols = Protocols(1);
    /// TLS alone (PROTOCOL_SSL).
    pub const SSL: Protocols = Protocols(1 << 1);
    /// CredSSP (PROTOCOL_HYBRID): NLA.
    pub const HYBRID: Protocols = Protocols(1 << 2);
    /// RDSTLS.
    pub const RDSTLS: Protocols = Protocols(1 << 3);
    /// CredSSP with Early User Authorization (PROTOCOL_HYBRID_EX): NLA.
    pub const HYBRID_EX: Protocols = Protocols(1 << 4);
    /// Microsoft Entra ID authentication (PROTOCOL_RDSAAD).
    pub const RDSAAD: Protocols = Protocols(1 << 5);

    /// Each protocol with its wire name, in the order names are written.
    pub const NAMED: [(Protocols, &'static str); 6] = [
        (Protocols::RDP, "rdp"),
        (Protocols::SSL, "ssl"),
        (Protocols::HYBRID, "hybrid"),
        (Protocols::RDSTLS, "rdstls"),
        (Protocols::HYBRID_EX, "hybrid_ex"),
        (Protocols::RDSAAD, "rdsaad"),
    ];

    /// No protocol.
    pub const fn empty() -> Protocols {
        Protocols(0)
    }

    /// Whether none is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every protocol of `other` is in the set.
    pub const fn contains(self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any protocol of `other` is in the set.
    pub const fn intersects(self, other: Protocols) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether NLA (HYBRID or HYBRID_EX) is in the set.
    pub const fn nla(self) -> bool {
        self.intersects(Protocols(Protocols::HYBRID.0 | Protocols::HYBRID_EX.0))
    }

    /// The wire names of the protocols in the set.
    pub fn names(self) -> Vec<&'static str> {
        Protocols::NAMED
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Protocols {
    type Output = Protocols;
    fn bitor(self, rhs: Protocols) -> Protocols {
        Protocols(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for Protocols {
    type Output = Protocols;
    fn bitand(self, rhs: Protocols) -> Protocols {
        Protocols(self.0 & rhs.0)
    }
}

impl std::ops::BitOrAssign for Protocols {
    fn bitor_assign(&mut self, rhs: Protocols) {
        self.0 |= rhs.0;
    }
}

/// What the X.224 negotiation showed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityFacts {
    /// Protocols the server accepted.
    pub offered: Protocols,
    /// What the server selected for a modern client's request (HYBRID_EX | HYBRID | SSL), or RDP for a legacy
    /// answer.
    pub selected: Option<Protocols>,
    /// Whether the server accepts only NLA (CredSSP); `None` when the negotiation never completed.
    pub nla_required: Option<bool>,
    /// The RDP_NEG_FAILURE code the server sent to the modern request, if any.
    pub failure: Option<u32>,
    /// The modern request's round trip.
    pub took: Option<Duration>,
}

impl SecurityFacts {
    /// Whether the server offers NLA; `None` when nothing was offered (the negotiation never completed, which
    /// is unknown, not "no NLA").
    pub fn offers_nla(&self) -> Option<bool> {
        (!self.offered.is_empty()).then(|| self.offered.nla())
    }

    /// Whether Standard RDP Security is all the server offers.
    pub fn only_rdp(&self) -> bool {
        self.offered == Protocols::RDP
    }
}

/// The TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// How long the handshake took.
    pub took: Duration,
}

/// The pin check of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinState {
    /// No pin checked (the gateway's certificate, or none could be).
    #[default]
    None,
    /// Seen for the first time.
    New,
    /// The pinned certificate.
    Match,
    /// Another certificate than the pinned one.
    Changed,
}

impl PinState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PinState::None => "none",
            PinState::New => "new",
            PinState::Match => "match",
            PinState::Changed => "changed",
        }
    }
}

/// A certificate, assessed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertFacts {
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
    /// The pin check.
    pub pin: PinState,
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

/// The RD Gateway transport that answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The WebSocket upgrade was accepted (or asked for authentication).
    #[serde(rename = "websocket")]
    WebSocket,
    /// `RDG_OUT_DATA` (the HTTP transport).
    Http,
    /// Probably an RPC-over-HTTP-only gateway.
    Rpc,
    /// Nothing told.
    Unknown,
}

/// What the RD Gateway probe showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayFacts {
    /// `host:port`.
    pub host: String,
    /// The outcome.
    pub status: GatewayStatus,
    /// Its certificate.
    pub certificate: Option<CertFacts>,
    /// Which transport answered.
    pub transport: Transport,
    /// Authentication schemes it offered (from `WWW-Authenticate`).
    pub auth_schemes: Vec<String>,
    /// HTTP status codes of the two requests (RDG_OUT_DATA, WebSocket upgrade).
    pub http_status: Vec<u16>,
    /// The whole gateway probe.
    pub took: Duration,
}

/// Everything learned about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The target as given (profile name or host).
    pub target: String,
    /// Which address answered.
    pub address: AddressFacts,
    /// The host's DNS lookup.
    pub dns: DnsFacts,
    /// The X.224 negotiation (when an address answered).
    pub security: Option<SecurityFacts>,
    /// The TLS handshake.
    pub tls: Option<TlsFacts>,
    /// The server's certificate.
    pub certificate: Option<CertFacts>,
    /// The RD Gateway.
    pub gateway: Option<GatewayFacts>,
    /// The login check (`check --login`, `doctor --login`).
    pub login: Option<LoginOutcome>,
    /// Every finding, most serious first.
    pub findings: Vec<Finding>,
    /// How long the whole pre-flight took.
    pub took: Duration,
}

impl Facts {
    /// Facts of a target that nothing was learned about yet: `target` is also the DNS name asked.
    pub fn empty(target: &str) -> Facts {
        Facts {
            target: target.into(),
            address: AddressFacts::default(),
            dns: DnsFacts {
                name: target.into(),
                status: DnsStatus::Skipped,
                addresses: vec![],
                unusable: vec![],
                error: None,
                took: None,
            },
            security: None,
            tls: None,
            certificate: None,
            gateway: None,
            login: None,
            findings: vec![],
            took: Duration::ZERO,
        }
    }

    /// The verdict the findings imply.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(&self.findings)
    }

    /// Whether a finding with this id is present.
    pub fn has(&self, id: FindingId) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }

    /// Adds the login check's outcome: its section and its finding.
    pub fn add_login(&mut self, outcome: LoginOutcome) {
        if let Some(f) = &outcome.finding {
            self.findings.push(f.clone());
        }
        self.login = Some(outcome);
    }
}

//! The login check's facts: how a native connection ended ([`LoginOutcome`]), why it failed, at which stage,
//! and what that means as rdpl's findings.
//!
//! [`Failure`] is built from IronRDP's errors where they happen (the stage is known there, in
//! `rdpl::native`); [`Failure::finding`] is pure and turns it into a finding id, a plain message and a fix.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::finding::{Family, Finding, FindingId};

/// Where in the connection sequence something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reaching the server or the gateway.
    Tcp,
    /// The RD Gateway tunnel.
    Gateway,
    /// X.224 connection request/confirm: the security protocol.
    X224,
    /// The TLS handshake.
    Tls,
    /// CredSSP: NLA, where the server checks the credentials.
    Credssp,
    /// MCS connect, channel joins, security exchange (Client Info).
    Mcs,
    /// Licensing.
    Licensing,
    /// Capabilities exchange and connection finalization.
    Finalization,
    /// The active session.
    Session,
}

impl Stage {
    /// The stage a connector state belongs to (by `ClientConnectorState::name`).
    pub fn of_state(name: &str) -> Stage {
        match name {
            "ConnectionInitiationSendRequest" | "ConnectionInitiationWaitConfirm" => Stage::X224,
            "EnhancedSecurityUpgrade" => Stage::Tls,
            "Credssp" => Stage::Credssp,
            "LicensingExchange" => Stage::Licensing,
            "CapabilitiesExchange"
            | "ConnectionFinalization"
            | "MultitransportBootstrapping"
            | "Connected" => Stage::Finalization,
            _ => Stage::Mcs,
        }
    }

    /// How the stage reads in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Tcp => "while connecting",
            Stage::Gateway => "in the RD Gateway tunnel",
            Stage::X224 => "during the security-protocol negotiation (X.224)",
            Stage::Tls => "during the TLS handshake",
            Stage::Credssp => "during CredSSP (NLA), where the server checks the credentials",
            Stage::Mcs => "during the MCS connection and Client Info exchange",
            Stage::Licensing => "during licensing",
            Stage::Finalization => "during the capabilities exchange and connection finalization",
            Stage::Session => "in the session",
        }
    }
}

/// What went wrong, in the terms rdpl decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// An I/O error (the kind tells a reset from an EOF or a refused connection).
    Io(std::io::ErrorKind),
    /// The stage did not finish in time.
    Timeout,
    /// The server's certificate is not the one rdpl decided to trust.
    CertRejected {
        /// SHA-256 of the certificate the server presented.
        sha256: String,
    },
    /// The server refused the requested security protocol (RDP_NEG_FAILURE code).
    Negotiation(u32),
    /// CredSSP failed; the NTSTATUS the server (or SSPI) reported, if any.
    Credssp(Option<u32>),
    /// The server denied access after the credentials were accepted (CredSSP early user authorization).
    AccessDenied,
    /// The server sent the session to another host.
    Redirected,
    /// The server ended the session; the ERRINFO code when it sent one.
    Disconnected(Option<u32>),
    /// The gateway refused: HTTP status or E_PROXY_* code.
    Gateway(GatewayRefusal),
    /// Malformed or unexpected data.
    Protocol,
}

/// How an RD Gateway refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayRefusal {
    /// An HTTP status other than the expected one.
    Http(u16),
    /// An HRESULT from the gateway protocol (E_PROXY_*).
    Code(u32),
    /// Anything else (connection, TLS, protocol).
    Other,
}

/// A failed native connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where.
    pub stage: Stage,
    /// What.
    pub kind: FailureKind,
    /// IronRDP's (or the OS's) own words, for `-v` and the report.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.detail, self.stage.describe())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// A failure with its kind and detail.
    pub fn new(stage: Stage, kind: FailureKind, detail: impl Into<String>) -> Failure {
        Failure {
            stage,
            kind,
            detail: detail.into(),
        }
    }

    /// An I/O error.
    pub fn io(stage: Stage, what: &str, e: &std::io::Error) -> Failure {
        let kind = if e.kind() == std::io::ErrorKind::TimedOut {
            FailureKind::Timeout
        } else {
            FailureKind::Io(e.kind())
        };
        Failure::new(stage, kind, format!("{what}: {e}"))
    }

    /// The login status this failure means.
    pub fn status(&self) -> LoginStatus {
        match self.finding().id.family() {
            Family::Auth => LoginStatus::Failed,
            _ => LoginStatus::Error,
        }
    }

    /// The finding for this failure. `nla` says whether the server was doing NLA (CredSSP).
    pub fn finding(&self) -> Finding {
        let detail = format!("{} {}", self.detail, self.stage.describe());
        match (&self.kind, self.stage) {
            (FailureKind::Credssp(Some(code)), _) => nt_status(*code).unwrap_or_else(|| {
                Finding::new(
                    FindingId::AuthFailed,
                    format!("the server rejected the credentials (NTSTATUS 0x{code:08X})"),
                )
            }),
            (FailureKind::Credssp(None), _) => {
                Finding::new(FindingId::AuthFailed, format!("CredSSP failed: {detail}"))
            }
            // A server that does not like the credentials may just drop the connection in CredSSP (FreeRDP
            // does, for a wrong password and for an unknown user alike); Windows sends the NTSTATUS instead.
            (FailureKind::Io(k), Stage::Credssp) if is_hangup(*k) => Finding::new(
                FindingId::AuthFailed,
                "the server closed the connection while checking the credentials (CredSSP): the password is \
                 wrong or the user is unknown",
            ),
            (FailureKind::AccessDenied, _) => Finding::new(
                FindingId::AuthAccessDenied,
                "the server accepted the password but denies this user remote access (CredSSP early user \
                 authorization)",
            ),
            (FailureKind::CertRejected { .. }, _) => Finding::new(
                FindingId::LoginCertRejected,
                format!("{}; no credentials were sent", self.detail),
            ),
            (FailureKind::Negotiation(code), _) => Finding::new(
                FindingId::LoginNegotiation,
                format!(
                    "the server refused the security protocol: {}",
                    crate::explain::neg_failure_description(*code)
                        .unwrap_or_else(|| format!("RDP_NEG_FAILURE code {code}"))
                ),
            ),
            (FailureKind::Redirected, _) => Finding::new(FindingId::LoginRedirected, self.detail.clone()),
            (FailureKind::Disconnected(Some(code)), _) => errinfo_finding(*code),
            (FailureKind::Disconnected(None), _) => Finding::new(
                FindingId::LoginDisconnected,
                format!(
                    "the server ended the connection {} without saying why",
                    self.stage.describe()
                ),
            )
            .no_fix(),
            (FailureKind::Gateway(r), _) => gateway_finding(*r, &self.detail),
            (FailureKind::Timeout, _) => Finding::new(
                FindingId::LoginTimeout,
                format!(
                    "the connection stalled {}: {}",
                    self.stage.describe(),
                    self.detail
                ),
            ),
            (FailureKind::Io(_), Stage::Tcp) => Finding::new(
                FindingId::LoginUnreachable,
                format!("could not reach the server: {}", self.detail),
            ),
            (FailureKind::Io(k), stage) if is_hangup(*k) && stage != Stage::Session => {
                let f = Finding::new(
                    FindingId::LoginDisconnected,
                    format!("the server closed the connection {}", stage.describe()),
                );
                if stage == Stage::Licensing {
                    f.fix("server-side: check the RD Licensing configuration (Event Viewer, TerminalServices-Licensing)")
                } else {
                    f
                }
            }
            _ => Finding::new(FindingId::LoginFailed, format!("the connection failed: {detail}")),
        }
    }
}

/// The login check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginStatus {
    /// The server authenticated the credentials (NLA) and the session drew its first frame.
    Ok,
    /// The session came up, but without NLA nothing proved the credentials (the user logs on inside it).
    NotVerified,
    /// The server rejected the credentials.
    Failed,
    /// Something other than the credentials failed.
    Error,
}

impl LoginStatus {
    /// The JSON/text name.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginStatus::Ok => "ok",
            LoginStatus::NotVerified => "not_verified",
            LoginStatus::Failed => "failed",
            LoginStatus::Error => "error",
        }
    }
}

/// How a login check (or a session's start) ended: `check --login`, `doctor --login`, `screenshot`, the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    /// ok, not_verified, failed, error.
    pub status: LoginStatus,
    /// From the first byte to the first decoded frame (or to the failure).
    pub took: Duration,
    /// Until the session was active.
    pub connect: Option<Duration>,
    /// From the active session to the first decoded frame.
    pub first_frame: Option<Duration>,
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
    /// The finding (a failure, or `auth.not_verified`).
    pub finding: Option<Finding>,
}

impl LoginOutcome {
    /// The outcome of a failure after `took`.
    pub fn failed(f: &Failure, took: Duration, via_gateway: bool) -> LoginOutcome {
        LoginOutcome {
            status: f.status(),
            took,
            connect: None,
            first_frame: None,
            protocol: None,
            tls_version: None,
            desktop: None,
            via_gateway,
            stage: Some(f.stage),
            detail: Some(f.detail.clone()),
            finding: Some(f.finding()),
        }
    }
}

fn is_hangup(k: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        k,
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

/// NTSTATUS codes a server reports in CredSSP, with their meaning ([MS-ERREF] 2.3.1).
fn nt_status(code: u32) -> Option<Finding> {
    use FindingId as F;
    let (id, msg) = match code {
        0xC000_006D | 0xC000_006A => (
            F::AuthFailed,
            "the server rejected the user name or password (STATUS_LOGON_FAILURE)",
        ),
        0xC000_0064 => (
            F::AuthFailed,
            "the server does not know this user (STATUS_NO_SUCH_USER)",
        ),
        0xC000_0071 => (
            F::AuthPasswordExpired,
            "the password has expired (STATUS_PASSWORD_EXPIRED)",
        ),
        0xC000_0224 => (
            F::AuthPasswordMustChange,
            "the password must be changed at the next logon (STATUS_PASSWORD_MUST_CHANGE); NLA cannot do that",
        ),
        0xC000_0234 => (
            F::AuthAccountLocked,
            "the account is locked out (STATUS_ACCOUNT_LOCKED_OUT)",
        ),
        0xC000_0072 => (
            F::AuthAccountDisabled,
            "the account is disabled (STATUS_ACCOUNT_DISABLED)",
        ),
        0xC000_0193 => (
            F::AuthAccountExpired,
            "the account has expired (STATUS_ACCOUNT_EXPIRED)",
        ),
        0xC000_006E => (
            F::AuthAccountRestriction,
            "an account restriction prevents this logon (STATUS_ACCOUNT_RESTRICTION), e.g. an empty password",
        ),
        0xC000_006F => (
            F::AuthLogonHours,
            "the account may not log on at this time (STATUS_INVALID_LOGON_HOURS)",
        ),
        0xC000_015B => {
            return Some(
                Finding::new(
                    F::AuthAccessDenied,
                    "the user is not granted this logon type (STATUS_LOGON_TYPE_NOT_GRANTED)",
                )
                .fix("server-side: grant \"Allow log on through Remote Desktop Services\""),
            );
        }
        _ => return None,
    };
    Some(Finding::new(id, msg))
}

/// ERRINFO codes ([MS-RDPBCGR] 2.2.5.1.1) as rdpl's findings, with the explanation from `rdpl explain`.
pub fn errinfo_finding(code: u32) -> Finding {
    let id = match code {
        0x0000_0007 => FindingId::ServerDenied,
        0x0000_0009 | 0x0000_000A => FindingId::AuthAccessDenied,
        0x0000_0003 | 0x0000_0004 => FindingId::LoginTimeout,
        0x0000_0100..=0x0000_010B => FindingId::ServerLicensing,
        _ => FindingId::LoginDisconnected,
    };
    let what = crate::explain::entry(crate::explain::Family::ErrInfo, code)
        .map(|e| format!("{}: {}", e.name, e.meaning))
        .or_else(|| crate::explain::errinfo_description(code))
        .unwrap_or_else(|| "a code rdpl does not know".to_owned());
    Finding::new(
        id,
        format!("the server ended the session: ERRINFO 0x{code:08X}: {what}"),
    )
    .fix(format!("`rdpl explain 0x{code:X}` for the details"))
}

/// The ERRINFO code behind a disconnect text from IronRDP's session (it gives ErrorInfo's description only).
pub fn errinfo_of(description: &str) -> Option<u32> {
    crate::explain::all()
        .iter()
        .filter(|e| e.family == crate::explain::Family::ErrInfo)
        .map(|e| e.code)
        .find(|&c| crate::explain::errinfo_description(c).as_deref() == Some(description))
}

fn gateway_finding(r: GatewayRefusal, detail: &str) -> Finding {
    match r {
        GatewayRefusal::Http(401) => Finding::new(
            FindingId::GatewayAuthFailed,
            "the RD Gateway rejected the gateway credentials (HTTP 401)",
        ),
        GatewayRefusal::Http(403) => Finding::new(
            FindingId::GatewayDenied,
            "the RD Gateway forbids this connection (HTTP 403)",
        ),
        GatewayRefusal::Http(s) => Finding::new(
            FindingId::GatewayHttp,
            format!("the RD Gateway answered HTTP {s}: {detail}"),
        ),
        GatewayRefusal::Code(code) => {
            let what = crate::explain::entry(crate::explain::Family::GatewayHresult, code)
                .map(|e| format!("{}: {}", e.name, e.meaning))
                .unwrap_or_else(|| "a code rdpl does not know".to_owned());
            let id = match code {
                0x8007_59D9..=0x8007_59DB => FindingId::GatewayDenied,
                _ => FindingId::GatewayRefused,
            };
            Finding::new(id, format!("the RD Gateway refused: 0x{code:08X} {what}"))
                .fix(format!("`rdpl explain 0x{code:08X}`"))
        }
        GatewayRefusal::Other => Finding::new(
            FindingId::GatewayFailed,
            format!("the RD Gateway tunnel failed: {detail}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn f(stage: Stage, kind: FailureKind) -> Failure {
        Failure::new(stage, kind, "detail")
    }

    #[rstest]
    #[case::eof_in_credssp(
        Stage::Credssp,
        FailureKind::Io(std::io::ErrorKind::UnexpectedEof),
        "auth.failed",
        LoginStatus::Failed
    )]
    #[case::reset_in_credssp(
        Stage::Credssp,
        FailureKind::Io(std::io::ErrorKind::ConnectionReset),
        "auth.failed",
        LoginStatus::Failed
    )]
    #[case::logon_failure(
        Stage::Credssp,
        FailureKind::Credssp(Some(0xC000_006D)),
        "auth.failed",
        LoginStatus::Failed
    )]
    #[case::expired(
        Stage::Credssp,
        FailureKind::Credssp(Some(0xC000_0071)),
        "auth.password_expired",
        LoginStatus::Failed
    )]
    #[case::locked(
        Stage::Credssp,
        FailureKind::Credssp(Some(0xC000_0234)),
        "auth.account_locked",
        LoginStatus::Failed
    )]
    #[case::early_auth(
        Stage::Credssp,
        FailureKind::AccessDenied,
        "auth.access_denied",
        LoginStatus::Failed
    )]
    #[case::eof_in_licensing(
        Stage::Licensing,
        FailureKind::Io(std::io::ErrorKind::UnexpectedEof),
        "login.disconnected",
        LoginStatus::Error
    )]
    #[case::eof_in_x224(
        Stage::X224,
        FailureKind::Io(std::io::ErrorKind::UnexpectedEof),
        "login.disconnected",
        LoginStatus::Error
    )]
    #[case::refused(
        Stage::Tcp,
        FailureKind::Io(std::io::ErrorKind::ConnectionRefused),
        "login.unreachable",
        LoginStatus::Error
    )]
    #[case::cert(Stage::Tls, FailureKind::CertRejected { sha256: "ab".into() }, "login.cert_rejected", LoginStatus::Error)]
    #[case::nego(
        Stage::X224,
        FailureKind::Negotiation(5),
        "login.negotiation",
        LoginStatus::Error
    )]
    #[case::denied(
        Stage::Session,
        FailureKind::Disconnected(Some(7)),
        "server.denied",
        LoginStatus::Error
    )]
    #[case::license(
        Stage::Licensing,
        FailureKind::Disconnected(Some(0x100)),
        "server.licensing",
        LoginStatus::Error
    )]
    #[case::timeout(Stage::Licensing, FailureKind::Timeout, "login.timeout", LoginStatus::Error)]
    #[case::gw_401(
        Stage::Gateway,
        FailureKind::Gateway(GatewayRefusal::Http(401)),
        "gateway.auth_failed",
        LoginStatus::Error
    )]
    #[case::gw_rap(
        Stage::Gateway,
        FailureKind::Gateway(GatewayRefusal::Code(0x8007_59DA)),
        "gateway.denied",
        LoginStatus::Error
    )]
    fn failures_become_findings(
        #[case] stage: Stage,
        #[case] kind: FailureKind,
        #[case] id: &str,
        #[case] status: LoginStatus,
    ) {
        let failure = f(stage, kind);
        assert_eq!(failure.finding().id.wire(), id);
        assert_eq!(failure.status(), status);
    }

    #[test]
    fn errinfo_text_maps_back_to_its_code() {
        let text = crate::explain::errinfo_description(7).expect("ironrdp knows ERRINFO 7");
        assert_eq!(errinfo_of(&text), Some(7));
        assert_eq!(errinfo_of("no such text"), None);
        let f = errinfo_finding(7);
        assert!(f.message.contains("0x00000007"), "{}", f.message);
    }

    #[test]
    fn an_unknown_ntstatus_is_still_a_rejection_and_names_the_code() {
        let f = f(Stage::Credssp, FailureKind::Credssp(Some(0xC0DE_0001))).finding();
        assert_eq!(f.id, FindingId::AuthFailed);
        assert!(f.message.contains("0xC0DE0001"), "{}", f.message);
    }
}

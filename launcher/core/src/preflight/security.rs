//! The security step's facts and findings, pure: from the X.224 answers to which protocols the server
//! offers, whether it requires NLA, and what that means for this profile (`x224.*`, `nego.*`). The
//! exchanges themselves are the launcher's `probe::x224`.

use rdpl_profiles::profile::{Profile, Tri};

use crate::facts::{Protocols, SecurityFacts};
use crate::finding::{Finding, FindingId, Severity};
use crate::preflight::x224::{self, Answer};

/// The security step's facts and findings from the answers to the modern request (SSL | HYBRID | HYBRID_EX) and
/// to the SSL-only, RDP-only and RDSTLS-only requests, judged against the profile's NLA setting.
pub fn judge(
    p: &Profile,
    main: &Answer,
    ssl: &Answer,
    rdp: &Answer,
    rdstls: &Answer,
) -> (SecurityFacts, Vec<Finding>) {
    let mut f = Vec::new();
    let mut s = SecurityFacts::default();
    match main {
        Answer::Selected(proto) => {
            let selected = Protocols::from(*proto);
            s.selected = Some(selected);
            s.offered |= selected;
            if selected.contains(Protocols::HYBRID_EX) {
                s.offered |= Protocols::HYBRID;
            }
        }
        Answer::Failure(code) => {
            s.failure = Some(*code);
            f.push(negotiation_failure(*code));
        }
        Answer::Legacy => {
            s.offered |= Protocols::RDP;
            s.selected = Some(Protocols::RDP);
            f.push(Finding::new(
                FindingId::X224LegacyOnly,
                "The server answered without negotiation data: it only knows legacy Standard RDP Security (no TLS, no NLA), which can't authenticate the server.",
            ));
        }
        Answer::Garbage(why) => f.push(Finding::new(
            FindingId::X224Garbage,
            format!("The server's answer to the RDP connection request is not RDP: {why}."),
        )),
        Answer::Closed => f.push(Finding::new(
            FindingId::X224Closed,
            "The server accepted TCP and closed the connection without answering the RDP request.",
        )),
        Answer::Silent { bytes } => f.push(Finding::new(
            FindingId::X224Silent,
            if *bytes == 0 {
                "The server accepted TCP but never answered the RDP connection request.".to_owned()
            } else {
                format!("The server started an answer ({bytes} bytes) but did not finish it in time.")
            },
        )),
    }
    // A server selects the strongest protocol it supports among those requested, so the modern request's
    // answer already says whether HYBRID/HYBRID_EX is offered; these say whether TLS alone, standard RDP
    // security and RDSTLS are accepted too.
    let single = [
        (ssl, Protocols::SSL),
        (rdp, Protocols::RDP),
        (rdstls, Protocols::RDSTLS),
    ];
    let mut hybrid_required = false;
    for (answer, want) in single {
        match answer {
            Answer::Selected(proto) if Protocols::from(*proto) == want => s.offered |= want,
            Answer::Failure(5) => hybrid_required = true,
            _ => {}
        }
    }
    let offers_nla = s.offered.nla();
    let decided = matches!(main, Answer::Selected(_) | Answer::Legacy);
    s.nla_required = decided
        .then_some(hybrid_required || (offers_nla && !s.offered.intersects(Protocols::SSL | Protocols::RDP)));
    if decided {
        if s.nla_required == Some(true) {
            f.push(if p.security.nla == Tri::Off {
                Finding::new(
                    FindingId::NegoHybridRequired,
                    "The server requires NLA (CredSSP), but this profile turns NLA off (nla=off): the connection will be refused.",
                )
                .fix("`rdpl profile set NAME nla=auto`")
            } else {
                Finding::new(
                    FindingId::NegoHybridRequired,
                    "The server requires NLA (CredSSP); a request for TLS alone is refused with HYBRID_REQUIRED_BY_SERVER.",
                )
                .severity(Severity::Info)
                .no_fix()
            });
        } else if !offers_nla {
            let tls = s.offered.contains(Protocols::SSL);
            let (sev, msg) = match (p.security.nla, tls) {
                (Tri::On, _) => (
                    Severity::Error,
                    "The server does not offer NLA (CredSSP), but this profile requires it (nla=on).",
                ),
                (_, true) => (
                    Severity::Warning,
                    "The server does not offer NLA (CredSSP): the password is checked only after the session starts, inside TLS. rdpl turns NLA off for this connection (nla=auto).",
                ),
                (_, false) => (
                    Severity::Warning,
                    "The server offers neither NLA nor TLS, only legacy Standard RDP Security.",
                ),
            };
            f.push(Finding::new(FindingId::NegoNlaUnavailable, msg).severity(sev));
            if !tls && !matches!(main, Answer::Legacy) {
                f.push(
                    Finding::new(FindingId::NegoSslNotAllowed, "The server allows only Standard RDP Security (security layer \"RDP\"): the connection is not protected by TLS and the server can't be authenticated.")
                        .severity(Severity::Warning),
                );
            }
        }
    }
    (s, f)
}

/// The finding for an RDP_NEG_FAILURE code (MS-RDPBCGR 2.2.1.2.2) to the modern request.
pub fn negotiation_failure(code: u32) -> Finding {
    let msg = match code {
        1 => "The server requires TLS (SSL_REQUIRED_BY_SERVER).",
        2 => "The server allows only Standard RDP Security (SSL_NOT_ALLOWED_BY_SERVER).",
        3 => "The server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER).",
        4 => "The server says the requested protocols are inconsistent (INCONSISTENT_FLAGS).",
        5 => "The server requires NLA (HYBRID_REQUIRED_BY_SERVER).",
        6 => {
            "The server requires TLS with client certificate authentication (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER)."
        }
        7 => "The server requires Microsoft Entra ID authentication (ENTRA_AUTH_REQUIRED_BY_SERVER).",
        _ => "The server refused the negotiation with an unknown failure code.",
    };
    Finding::new(x224::failure_id(code), format!("{msg} (code {code})"))
}

//! The security step's facts and findings, pure: from the X.224 answers to which protocols the server
//! offers, whether it requires NLA, and what that means for this profile (`x224.*`, `nego.*`). The
//! exchanges themselves are the launcher's `probe::x224`.

use ironrdp_pdu::nego::SecurityProtocol;
use rdpl_profiles::profile::{Profile, Tri};

use crate::facts::{Protocols, SecurityFacts};
use crate::finding::{Finding, FindingId, Severity};
use crate::preflight::x224::{self, Answer};

/// What the modern request asks for (the launcher's probe sends exactly this).
pub const MODERN: SecurityProtocol = SecurityProtocol::SSL
    .union(SecurityProtocol::HYBRID)
    .union(SecurityProtocol::HYBRID_EX);

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
    let unexpected = |asked: SecurityProtocol, answer: &Answer| match answer {
        Answer::Selected(got) if !x224::selection_fits(asked, *got) => Some(Finding::new(
            FindingId::NegoUnexpectedSelection,
            format!(
                "Asked for {}, the server selected {}: a server that answers with a protocol it was not offered breaks MS-RDPBCGR, and nothing it says about security can be trusted.",
                x224::protocol_names(asked),
                x224::protocol_names(*got)
            ),
        )),
        _ => None,
    };
    let main_fits = match unexpected(MODERN, main) {
        Some(finding) => {
            f.push(finding);
            false
        }
        None => true,
    };
    match main {
        _ if !main_fits => {}
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
        let asked = if want == Protocols::SSL {
            SecurityProtocol::SSL
        } else if want == Protocols::RDSTLS {
            SecurityProtocol::RDSTLS
        } else {
            SecurityProtocol::empty()
        };
        if let Some(finding) = unexpected(asked, answer) {
            f.push(finding);
            continue;
        }
        match answer {
            Answer::Selected(proto) if Protocols::from(*proto) == want => s.offered |= want,
            Answer::Failure(5) => hybrid_required = true,
            _ => {}
        }
    }
    let offers_nla = s.offered.nla();
    // After an unlawful selection nothing about NLA is concluded: the finding above blocks.
    let decided = matches!(main, Answer::Selected(_) | Answer::Legacy)
        && !f.iter().any(|x| x.id == FindingId::NegoUnexpectedSelection);
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

#[cfg(test)]
// The table test takes one argument per column of its table.
#[allow(clippy::too_many_arguments)]
mod tests {
    use ironrdp_pdu::nego::SecurityProtocol as S;
    use rdpl_profiles::name::Host;
    use rstest::rstest;

    use super::*;

    fn profile(nla: Tri) -> Profile {
        let mut p = Profile::new(
            "web01".parse().expect("name"),
            Host::Name("web01.corp.test".into()),
        );
        p.security.nla = nla;
        p
    }

    fn selected(p: S) -> Answer {
        Answer::Selected(p)
    }

    fn ids(f: &[Finding]) -> Vec<(FindingId, Severity)> {
        f.iter().map(|f| (f.id, f.severity)).collect()
    }

    const NO: Answer = Answer::Closed;

    #[rstest]
    // A Windows server with NLA that also takes TLS and Standard RDP Security: nothing to say.
    #[case::nla_and_more(Tri::Auto, selected(S::HYBRID_EX), selected(S::SSL), selected(S::empty()), NO,
        &["hybrid_ex", "hybrid", "ssl", "rdp"], Some(false), &[])]
    // NLA only: the SSL-only request is refused with HYBRID_REQUIRED.
    #[case::nla_only(Tri::Auto, selected(S::HYBRID), Answer::Failure(5), Answer::Failure(5), NO,
        &["hybrid"], Some(true), &[(FindingId::NegoHybridRequired, Severity::Info)])]
    #[case::nla_only_but_off(Tri::Off, selected(S::HYBRID), Answer::Failure(5), Answer::Failure(5), NO,
        &["hybrid"], Some(true), &[(FindingId::NegoHybridRequired, Severity::Error)])]
    // xrdp: TLS and RDP, no NLA.
    #[case::no_nla(Tri::Auto, selected(S::SSL), selected(S::SSL), selected(S::empty()), NO,
        &["ssl", "rdp"], Some(false), &[(FindingId::NegoNlaUnavailable, Severity::Warning)])]
    #[case::no_nla_but_on(Tri::On, selected(S::SSL), selected(S::SSL), selected(S::empty()), NO,
        &["ssl", "rdp"], Some(false), &[(FindingId::NegoNlaUnavailable, Severity::Error)])]
    // Standard RDP Security only, negotiated: no NLA and no TLS.
    #[case::rdp_only(Tri::Auto, selected(S::empty()), Answer::Failure(2), selected(S::empty()), NO,
        &["rdp"], Some(false),
        &[(FindingId::NegoNlaUnavailable, Severity::Warning), (FindingId::NegoSslNotAllowed, Severity::Warning)])]
    // A legacy server without negotiation data.
    #[case::legacy(Tri::Auto, Answer::Legacy, Answer::Legacy, Answer::Legacy, Answer::Legacy,
        &["rdp"], Some(false),
        &[(FindingId::X224LegacyOnly, Severity::Warning), (FindingId::NegoNlaUnavailable, Severity::Warning)])]
    // RDSTLS is recorded when its own request is accepted.
    #[case::rdstls(Tri::Auto, selected(S::HYBRID_EX), NO, NO, selected(S::RDSTLS),
        &["hybrid_ex", "hybrid", "rdstls"], Some(true), &[(FindingId::NegoHybridRequired, Severity::Info)])]
    // Broken servers: nothing offered, so nothing is said about NLA.
    #[case::silent(Tri::Auto, Answer::Silent { bytes: 0 }, NO, NO, NO, &[], None,
        &[(FindingId::X224Silent, Severity::Error)])]
    #[case::garbage(Tri::Auto, Answer::Garbage("HTTP".into()), NO, NO, NO, &[], None,
        &[(FindingId::X224Garbage, Severity::Error)])]
    #[case::closed(Tri::Auto, Answer::Closed, NO, NO, NO, &[], None,
        &[(FindingId::X224Closed, Severity::Error)])]
    #[case::refused_ssl_required(Tri::Auto, Answer::Failure(1), NO, NO, NO, &[], None,
        &[(FindingId::NegoSslRequired, Severity::Error)])]
    // Servers that select what was not asked for (MS-RDPBCGR violations): one error each, nothing concluded.
    #[case::rdstls_to_a_tls_request(Tri::Auto, selected(S::RDSTLS), NO, NO, NO, &[], None,
        &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    #[case::rdsaad_to_a_tls_request(Tri::Auto, selected(S::RDSAAD), NO, NO, NO, &[], None,
        &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    #[case::two_bits(Tri::Auto, selected(S::SSL | S::HYBRID), NO, NO, NO, &[], None,
        &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    #[case::unknown_bit(Tri::Auto, selected(S::from_bits_retain(0x100)), NO, NO, NO, &[], None,
        &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    #[case::hybrid_to_ssl_only(Tri::Auto, selected(S::HYBRID), selected(S::HYBRID), Answer::Failure(5), NO,
        &["hybrid"], None, &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    #[case::ssl_to_rdstls_only(Tri::Auto, selected(S::SSL), selected(S::SSL), selected(S::empty()),
        selected(S::SSL), &["ssl", "rdp"], None, &[(FindingId::NegoUnexpectedSelection, Severity::Error)])]
    fn judges_the_answers(
        #[case] nla: Tri,
        #[case] main: Answer,
        #[case] ssl: Answer,
        #[case] rdp: Answer,
        #[case] rdstls: Answer,
        #[case] offered: &[&str],
        #[case] nla_required: Option<bool>,
        #[case] want: &[(FindingId, Severity)],
    ) {
        let (s, f) = judge(&profile(nla), &main, &ssl, &rdp, &rdstls);
        let mut got = s.offered.names();
        got.sort_unstable();
        let mut offered = offered.to_vec();
        offered.sort_unstable();
        assert_eq!(got, offered);
        assert_eq!(s.nla_required, nla_required);
        assert_eq!(ids(&f), want);
    }

    #[test]
    fn a_negotiation_failure_is_named_with_its_code() {
        let (s, f) = judge(&profile(Tri::Auto), &Answer::Failure(3), &NO, &NO, &NO);
        assert_eq!(s.failure, Some(3));
        assert_eq!(f[0].id, FindingId::NegoSslCertNotOnServer);
        assert_eq!(
            f[0].message,
            "The server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER). (code 3)"
        );
        assert!(f[0].fix.as_deref().is_some_and(|x| x.contains("MachineKeys")));
        assert_eq!(negotiation_failure(42).id, FindingId::NegoUnknownFailure);
        for code in 1..=7 {
            assert_eq!(negotiation_failure(code).id, x224::failure_id(code), "{code}");
        }
    }

    #[test]
    fn nla_off_tells_how_to_turn_it_back_on() {
        let (_, f) = judge(
            &profile(Tri::Off),
            &selected(S::HYBRID),
            &Answer::Failure(5),
            &Answer::Failure(5),
            &NO,
        );
        assert_eq!(f[0].fix.as_deref(), Some("`rdpl profile set NAME nla=auto`"));
        let (_, f) = judge(
            &profile(Tri::Auto),
            &selected(S::HYBRID),
            &Answer::Failure(5),
            &Answer::Failure(5),
            &NO,
        );
        assert_eq!(f[0].fix, None, "nothing to fix when NLA is allowed");
    }
}

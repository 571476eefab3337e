//! The code the user saw, as evidence next to the live pre-flight (`rdpl doctor TARGET --code 0x904
//! --extended 0x7`, `--code 132 --client xfreerdp`). A code *rules in* the causes it names and *rules out*
//! the ones it contradicts (a socket that was closed by the server was connected, so the name resolved and
//! the port was open). The pre-flight's findings still count more: a code never hides an error the pre-flight
//! found (an expired certificate with `0x904` stays first); it decides among what the pre-flight could not see
//! (a server-side refusal behind a clean pre-flight).
//!
//! What each code means comes from the explain tables (`crate::explain`): mstsc's disconnect reasons
//! (IMsTscAxEvents::OnDisconnected), the extended codes (ExtendedDisconnectReasonCode) and xfreerdp's exit
//! codes. This module only says which doctor causes each one points to.

use std::fmt;

use serde::Serialize;

use super::CauseId;
use crate::explain::{self, Family};

/// Which client showed the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// mstsc (and the Windows App, which shows the same codes): a disconnect reason, maybe an extended code.
    Mstsc,
    /// FreeRDP's xfreerdp (2 or 3): its exit status.
    Xfreerdp,
}

/// The code the user saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Code {
    /// Which client showed it.
    pub client: Client,
    /// mstsc's "error code" or FreeRDP's exit status.
    pub code: u32,
    /// mstsc's "extended error code", when it showed one.
    pub extended: Option<u32>,
}

/// What a code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The code with its names, for evidence lines: `mstsc 0x904 (disconnectReasonAtClientWinsockFDCLOSE),
    /// extended 0x7 (exDiscReasonServerDeniedConnection)`.
    pub label: String,
    /// The causes it names, most specific first.
    pub rules_in: Vec<CauseId>,
    /// The causes it contradicts.
    pub rules_out: Vec<CauseId>,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |family, code| {
            explain::entry(family, code)
                .map(|e| format!(" ({})", e.name))
                .unwrap_or_else(|| " (not a documented value)".to_owned())
        };
        match self.client {
            Client::Mstsc => {
                write!(
                    f,
                    "mstsc {:#X}{}",
                    self.code,
                    name(Family::MstscDisconnect, self.code)
                )?;
                if let Some(x) = self.extended {
                    write!(f, ", extended {x:#X}{}", name(Family::ExtendedReason, x))?;
                }
                Ok(())
            }
            Client::Xfreerdp => write!(
                f,
                "xfreerdp exit status {}{}",
                self.code,
                name(Family::XfreerdpExit, self.code)
            ),
        }
    }
}

use CauseId as C;

/// The network causes: ruled out by any code that proves the server was reached.
const NETWORK: &[CauseId] = &[
    C::NameUnresolvable,
    C::NamePointsElsewhere,
    C::PortClosed,
    C::PortFilteredOrHostDown,
    C::GatewayName,
    C::GatewayUnreachable,
];
/// Everything that happens only after a connection: ruled out by a code that says there was none.
const AFTER_CONNECT: &[CauseId] = &[
    C::NotAnRdpServer,
    C::NlaRequiredButOff,
    C::SecurityLayerMismatch,
    C::ServerCertificateUnusable,
    C::TlsVersionMismatch,
    C::TlsFailed,
    C::CertExpired,
    C::CertNotYetValid,
    C::CertChanged,
    C::CertWrongName,
    C::CertUntrusted,
    C::CertSelfSigned,
    C::CertWeak,
    C::CertNoServerAuth,
    C::CertExpiringSoon,
    C::StaleCredentials,
    C::WrongPassword,
    C::AccountProblem,
    C::RemoteLogonDenied,
    C::ServerDenied,
    C::ServerDeniedConnection,
    C::Licensing,
];
const TLS: &[CauseId] = &[
    C::TlsFailed,
    C::ServerCertificateUnusable,
    C::TlsVersionMismatch,
    C::SecurityLayerMismatch,
];
const PASSWORD: &[CauseId] = &[C::WrongPassword, C::StaleCredentials];
const ACCOUNT: &[CauseId] = &[C::AccountProblem];
const NAME: &[CauseId] = &[C::NameUnresolvable, C::NamePointsElsewhere];
const NO_CONNECTION: &[CauseId] = &[C::PortClosed, C::PortFilteredOrHostDown, C::GatewayUnreachable];

/// What the code rules in and out.
pub fn read(code: &Code) -> Reading {
    let (rules_in, rules_out): (&[CauseId], &[CauseId]) = match code.client {
        Client::Mstsc => match (code.code, code.extended) {
            // A refusal the server names in the extended code wins over the generic disconnect reason.
            (_, Some(x)) if extended(x).is_some() => (extended(x).unwrap_or_default(), NETWORK),
            (0x104 | 0x208 | 0x508 | 0x604, _) => (NAME, AFTER_CONNECT),
            (0x108 | 0x204 | 0x704, _) => (NO_CONNECTION, AFTER_CONNECT),
            (0x406 | 0x606 | 0x706 | 0x906 | 0xA06, _) => (TLS, NETWORK),
            (0x807 | 0xA07 | 0x2107, _) => (PASSWORD, NETWORK),
            (0xB07 | 0xC07 | 0xD07 | 0xE07 | 0xF07 | 0x1207, _) => (ACCOUNT, NETWORK),
            (0x808 | 0x908, _) => (&[C::Licensing], NETWORK),
            (0x1B07, _) => (&[C::CertExpired], NETWORK),
            // Closed by the server, or by it during the session: it was reached; the extended code would say why.
            (0x3 | 0x904 | 0x404 | 0x304, _) => (&[], NETWORK),
            _ => (&[], &[]),
        },
        Client::Xfreerdp => match code.code {
            // The same lists `rdpl connect` maps to exit code 3.
            c if super::XFREERDP_AUTH_FAILED.iter().any(|&a| a.unsigned_abs() == c) => (PASSWORD, NETWORK),
            c if super::XFREERDP_ACCOUNT.iter().any(|&a| a.unsigned_abs() == c) => (ACCOUNT, NETWORK),
            139 | 140 => (NAME, AFTER_CONNECT),
            131 | 141 | 147 => (NO_CONNECTION, &[]),
            143 => (TLS, NETWORK),
            133 | 146 | 161 => (&[C::SecurityLayerMismatch, C::NlaRequiredButOff], NETWORK),
            7 | 8 => (&[C::ServerDeniedConnection], NETWORK),
            9 => (&[C::RemoteLogonDenied], NETWORK),
            10 => (&[C::StaleCredentials], NETWORK),
            16..=26 => (&[C::Licensing], NETWORK),
            _ => (&[], &[]),
        },
    };
    Reading {
        label: code.to_string(),
        rules_in: rules_in.to_vec(),
        rules_out: rules_out
            .iter()
            .copied()
            .filter(|c| !rules_in.contains(c))
            .collect(),
    }
}

/// The event the RDP client (mstsc, the ActiveX control) writes when a connection ends: event 1026 in
/// `Microsoft-Windows-TerminalServices-RDPClient/Operational`, "RDP ClientActiveX has been disconnected
/// (Reason= 2308)", with the reason as event data `Reason`.
pub const RDP_CLIENT_LOG: &str = "Microsoft-Windows-TerminalServices-RDPClient/Operational";
/// Its disconnect event id.
pub const DISCONNECT_EVENT: u32 = 1026;

/// The disconnect reason in a rendered event 1026 (its XML), if it is one.
pub fn disconnect_reason_from_event(xml: &str) -> Option<u32> {
    let id_ok = [
        "<EventID>",
        "<EventID Qualifiers=''>",
        "<EventID Qualifiers=\"\">",
    ]
    .iter()
    .any(|open| xml.contains(&format!("{open}{DISCONNECT_EVENT}</EventID>")));
    if !id_ok {
        return None;
    }
    let at = ["<Data Name='Reason'>", "<Data Name=\"Reason\">"]
        .iter()
        .find_map(|open| xml.find(open).map(|i| i + open.len()))?;
    let rest = &xml[at..];
    let value = &rest[..rest.find('<')?];
    crate::explain::parse_code(value.trim()).ok()
}

/// Whether an mstsc disconnect reason is a normal end (the user or the server's user closed the session), not a
/// failure to diagnose.
pub fn normal_end(reason: u32) -> bool {
    matches!(reason, 0x0..=0x3 | 0xB | 0xC)
}

/// The causes an extended code (ExtendedDisconnectReasonCode) names; `None` for the ones that name none
/// (0: no information; 1, 2, 11, 12: the user or an API ended it; 3, 4, 5: time limits and takeovers).
fn extended(x: u32) -> Option<&'static [CauseId]> {
    Some(match x {
        7 | 8 => &[C::ServerDeniedConnection],
        9 => &[C::RemoteLogonDenied],
        10 => &[C::StaleCredentials],
        0x100..=0x10B => &[C::Licensing],
        0x300 => PASSWORD,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mstsc(code: u32, extended: Option<u32>) -> Reading {
        read(&Code {
            client: Client::Mstsc,
            code,
            extended,
        })
    }

    #[test]
    fn the_extended_code_names_the_refusal() {
        let r = mstsc(0x904, Some(7));
        assert_eq!(r.rules_in, [CauseId::ServerDeniedConnection]);
        assert!(r.rules_out.contains(&CauseId::PortClosed));
        assert_eq!(
            r.label,
            "mstsc 0x904 (disconnectReasonAtClientWinsockFDCLOSE), extended 0x7 (exDiscReasonServerDeniedConnection)"
        );
        assert_eq!(mstsc(0x904, Some(0x102)).rules_in, [CauseId::Licensing]);
        assert_eq!(mstsc(0x904, Some(9)).rules_in, [CauseId::RemoteLogonDenied]);
    }

    #[test]
    fn codes_rule_out_what_they_contradict() {
        // 0x904 alone: connected, closed; nothing named.
        let closed = mstsc(0x904, None);
        assert!(closed.rules_in.is_empty());
        assert!(closed.rules_out.contains(&CauseId::NameUnresolvable));
        // 0x204: never connected; no certificate or password can be why.
        let refused = mstsc(0x204, None);
        assert!(refused.rules_in.contains(&CauseId::PortClosed));
        assert!(refused.rules_out.contains(&CauseId::CertExpired));
        // Unknown values name nothing and rule out nothing.
        let odd = mstsc(0x1234, Some(0x55));
        assert!(odd.rules_in.is_empty() && odd.rules_out.is_empty());
        assert!(odd.label.contains("not a documented value"), "{}", odd.label);
        let xf = read(&Code {
            client: Client::Xfreerdp,
            code: 132,
            extended: None,
        });
        assert_eq!(xf.rules_in, PASSWORD);
        assert!(xf.label.contains("XF_EXIT_AUTH_FAILURE"), "{}", xf.label);
    }

    #[test]
    fn the_disconnect_reason_is_read_from_the_client_event() {
        let xml = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
                   <Provider Name='Microsoft-Windows-TerminalServices-ClientActiveXCore'/><EventID>1026</EventID>\
                   <Channel>Microsoft-Windows-TerminalServices-RDPClient/Operational</Channel></System>\
                   <EventData><Data Name='Name'>Disconnect Reason</Data><Data Name='Reason'>2308</Data>\
                   <Data Name='CustomLevel'>Warning</Data></EventData></Event>";
        assert_eq!(disconnect_reason_from_event(xml), Some(0x904));
        assert_eq!(
            disconnect_reason_from_event(&xml.replace("1026", "1024")),
            None,
            "another event"
        );
        assert_eq!(
            disconnect_reason_from_event(&xml.replace("2308", "x")),
            None,
            "no number"
        );
        assert_eq!(disconnect_reason_from_event("<Event>"), None);
        assert!(normal_end(1) && normal_end(2) && !normal_end(0x904));
    }

    /// Every cause a code can name is a cause the doctor knows how to word (title, server steps).
    #[test]
    fn every_named_cause_has_a_rule() {
        for code in 0..0x2300 {
            for x in [None, Some(7), Some(9), Some(0x100), Some(0x300)] {
                for c in mstsc(code, x).rules_in {
                    assert!(super::super::RULES.iter().any(|r| r.id == c), "{c:?}");
                }
            }
        }
    }
}

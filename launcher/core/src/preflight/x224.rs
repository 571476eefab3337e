//! X.224 Connection Request / Confirm: which security protocols the server accepts.
//!
//! Pure part: [`request`] encodes a Connection Request with RDP_NEG_REQ (ironrdp-pdu) and [`classify`] turns
//! the server's bytes into an [`Answer`] (ironrdp-pdu decodes the Confirm; rdpl adds the distinction between
//! a legacy Confirm without negotiation data and an explicit PROTOCOL_RDP, and bounds what it will read).
//! The driver (`rdpl::probe::x224::exchange`) sends one request and reads one answer on a stream, within a deadline.

use ironrdp_pdu::nego::{
    ConnectionConfirm, ConnectionRequest, FailureCode, NegoRequestData, RequestFlags, SecurityProtocol,
};
use ironrdp_pdu::x224::X224;

use crate::facts::Protocols;
use crate::finding::FindingId;

/// The largest Connection Confirm rdpl accepts. Real ones are 11 (legacy) or 19 bytes.
pub const MAX_CONFIRM: usize = 256;

/// The server's answer to one Connection Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// RDP_NEG_RSP with the selected protocol (empty = standard RDP security).
    Selected(SecurityProtocol),
    /// RDP_NEG_FAILURE with its code.
    Failure(u32),
    /// A Connection Confirm without negotiation data: the server knows only standard RDP security.
    Legacy,
    /// Bytes that are not a Connection Confirm.
    Garbage(String),
    /// The server closed the connection without answering.
    Closed,
    /// No complete answer before the deadline (`bytes` were received).
    Silent { bytes: usize },
}

/// The request bytes for a set of requested protocols (empty = PROTOCOL_RDP only).
pub fn request(protocols: SecurityProtocol) -> Vec<u8> {
    let cr = ConnectionRequest {
        nego_data: Some(NegoRequestData::cookie("rdpl".to_owned())),
        flags: RequestFlags::empty(),
        protocol: protocols,
        correlation_info: None,
    };
    // Encoding a fixed, small PDU into a Vec cannot fail.
    ironrdp_core::encode_vec(&X224(cr)).unwrap_or_default()
}

/// How many bytes a complete answer has, once the 4-byte TPKT header is known; an error for a header that
/// is not TPKT or claims an absurd length.
pub fn expected_len(header: &[u8; 4]) -> Result<usize, String> {
    if header[0] != 3 {
        return Err(format!(
            "not a TPKT header (version byte 0x{:02x}, expected 0x03)",
            header[0]
        ));
    }
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if len < 11 {
        return Err(format!(
            "TPKT length {len} is shorter than any Connection Confirm"
        ));
    }
    if len > MAX_CONFIRM {
        return Err(format!(
            "TPKT length {len} is far longer than a Connection Confirm (at most {MAX_CONFIRM})"
        ));
    }
    Ok(len)
}

/// Reads one Connection Confirm from bytes as they arrive (sans-I/O): the driver reads at most [`wanted`]
/// bytes at a time, so it never reads past the Confirm, and hands them to [`feed`]; at the end of the stream
/// or on a read error the reader says what that means.
///
/// [`wanted`]: ConfirmReader::wanted
/// [`feed`]: ConfirmReader::feed
#[derive(Debug, Clone, Default)]
pub struct ConfirmReader {
    buf: Vec<u8>,
    len: Option<usize>,
}

impl ConfirmReader {
    /// A reader that has seen nothing.
    pub fn new() -> ConfirmReader {
        ConfirmReader::default()
    }

    /// How many more bytes the Confirm needs (the TPKT header first, then what it announced).
    pub fn wanted(&self) -> usize {
        self.len.unwrap_or(4).saturating_sub(self.buf.len())
    }

    /// How many bytes arrived so far.
    pub fn received(&self) -> usize {
        self.buf.len()
    }

    /// Takes the bytes that arrived (at most [`ConfirmReader::wanted`] of them are used); the answer once the
    /// Confirm is complete or the header is not TPKT.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Answer> {
        let take = bytes.len().min(self.wanted());
        self.buf.extend_from_slice(&bytes[..take]);
        if self.len.is_none()
            && let Ok(header) = <[u8; 4]>::try_from(self.buf.as_slice())
        {
            match expected_len(&header) {
                Ok(len) => self.len = Some(len),
                Err(why) => return Some(Answer::Garbage(why)),
            }
        }
        match self.len {
            Some(len) if self.buf.len() == len => Some(classify(&self.buf)),
            _ => None,
        }
    }

    /// What the end of the stream means now.
    pub fn closed(&self) -> Answer {
        match (self.len, self.buf.len()) {
            (None, 0) => Answer::Closed,
            (None, got) => Answer::Garbage(format!("closed after {got} bytes")),
            (Some(len), got) => Answer::Garbage(format!("closed after {got} of {len} bytes")),
        }
    }

    /// What a read error means now.
    pub fn failed(&self, error: &str) -> Answer {
        if self.buf.is_empty() {
            Answer::Closed
        } else {
            Answer::Garbage(error.to_owned())
        }
    }
}

/// Classifies a complete answer (TPKT header included).
pub fn classify(bytes: &[u8]) -> Answer {
    if bytes.len() < 7 {
        return Answer::Garbage(format!(
            "{} bytes are too short for a Connection Confirm",
            bytes.len()
        ));
    }
    // X.224 length indicator: 6 = no variable part (legacy), 14 = RDP_NEG_RSP/RDP_NEG_FAILURE.
    let li = bytes[4];
    if bytes[5] & 0xF0 != 0xD0 {
        return Answer::Garbage(format!(
            "X.224 TPDU code 0x{:02x} is not a Connection Confirm",
            bytes[5]
        ));
    }
    match ironrdp_core::decode::<X224<ConnectionConfirm>>(bytes) {
        Ok(X224(ConnectionConfirm::Response { .. })) if li == 6 => Answer::Legacy,
        Ok(X224(ConnectionConfirm::Response { protocol, .. })) => Answer::Selected(protocol),
        Ok(X224(ConnectionConfirm::Failure { code })) => Answer::Failure(u32::from(code)),
        Err(e) => Answer::Garbage(format!("undecodable Connection Confirm: {e}")),
    }
}

impl From<SecurityProtocol> for Protocols {
    /// A selected or accepted protocol set; the empty set is Standard RDP Security.
    fn from(p: SecurityProtocol) -> Protocols {
        if p.is_standard_rdp_security() {
            return Protocols::RDP;
        }
        [
            (SecurityProtocol::SSL, Protocols::SSL),
            (SecurityProtocol::HYBRID, Protocols::HYBRID),
            (SecurityProtocol::RDSTLS, Protocols::RDSTLS),
            (SecurityProtocol::HYBRID_EX, Protocols::HYBRID_EX),
            (SecurityProtocol::RDSAAD, Protocols::RDSAAD),
        ]
        .into_iter()
        .filter(|(flag, _)| p.contains(*flag))
        .fold(Protocols::empty(), |set, (_, ours)| set | ours)
    }
}

/// Whether `got`, the protocol an RDP_NEG_RSP selected, is a lawful answer to a request for `asked`
/// (MS-RDPBCGR 2.2.1.2.1: `selectedProtocol` is one of the requested protocols, or PROTOCOL_RDP). Two bits,
/// an unknown bit or a protocol that was not asked for is a server that breaks the protocol: nothing may be
/// built on it.
pub fn selection_fits(asked: SecurityProtocol, got: SecurityProtocol) -> bool {
    got.bits() == 0 || (got.bits().count_ones() == 1 && asked.bits() & got.bits() == got.bits())
}

/// A protocol set as MS-RDPBCGR names it (`PROTOCOL_SSL | PROTOCOL_HYBRID`; the empty set is `PROTOCOL_RDP`);
/// unknown bits are shown in hex.
pub fn protocol_names(p: SecurityProtocol) -> String {
    if p.bits() == 0 {
        return "PROTOCOL_RDP".into();
    }
    let known = [
        (SecurityProtocol::SSL, "PROTOCOL_SSL"),
        (SecurityProtocol::HYBRID, "PROTOCOL_HYBRID"),
        (SecurityProtocol::RDSTLS, "PROTOCOL_RDSTLS"),
        (SecurityProtocol::HYBRID_EX, "PROTOCOL_HYBRID_EX"),
        (SecurityProtocol::RDSAAD, "PROTOCOL_RDSAAD"),
    ];
    let mut names: Vec<String> = known
        .iter()
        .filter(|(flag, _)| p.bits() & flag.bits() != 0)
        .map(|(_, name)| (*name).to_owned())
        .collect();
    let unknown = known.iter().fold(p.bits(), |rest, (flag, _)| rest & !flag.bits());
    if unknown != 0 {
        names.push(format!("unknown bits 0x{unknown:08x}"));
    }
    names.join(" | ")
}

/// The finding id of an RDP_NEG_FAILURE code (MS-RDPBCGR 2.2.1.2.2).
pub fn failure_id(code: u32) -> FindingId {
    match FailureCode::from(code) {
        FailureCode::SSL_REQUIRED_BY_SERVER => FindingId::NegoSslRequired,
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => FindingId::NegoSslNotAllowed,
        FailureCode::SSL_CERT_NOT_ON_SERVER => FindingId::NegoSslCertNotOnServer,
        FailureCode::INCONSISTENT_FLAGS => FindingId::NegoInconsistentFlags,
        FailureCode::HYBRID_REQUIRED_BY_SERVER => FindingId::NegoHybridRequired,
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => FindingId::NegoSslWithUserAuthRequired,
        FailureCode::ENTRA_AUTH_REQUIRED_BY_SERVER => FindingId::NegoEntraAuthRequired,
        _ => FindingId::NegoUnknownFailure,
    }
}

/// The name of an RDP_NEG_FAILURE code, as the report gives it.
pub fn failure_name(code: u32) -> &'static str {
    match FailureCode::from(code) {
        FailureCode::SSL_REQUIRED_BY_SERVER => "SSL_REQUIRED_BY_SERVER",
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => "SSL_NOT_ALLOWED_BY_SERVER",
        FailureCode::SSL_CERT_NOT_ON_SERVER => "SSL_CERT_NOT_ON_SERVER",
        FailureCode::INCONSISTENT_FLAGS => "INCONSISTENT_FLAGS",
        FailureCode::HYBRID_REQUIRED_BY_SERVER => "HYBRID_REQUIRED_BY_SERVER",
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        FailureCode::ENTRA_AUTH_REQUIRED_BY_SERVER => "ENTRA_AUTH_REQUIRED_BY_SERVER",
        _ => "unknown failure code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex"))
            .collect()
    }

    /// Captured from xrdp 0.9.21 and the FreeRDP shadow server (../shared/test-servers/RECIPES.md).
    #[test]
    fn classifies_captured_answers() {
        let cases = [
            (
                "03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 01 00 00 00",
                Answer::Selected(SecurityProtocol::SSL),
            ),
            (
                "03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 00 00 00 00",
                Answer::Selected(SecurityProtocol::empty()),
            ),
            (
                "03 00 00 13 0e d0 00 00 12 34 00 02 03 08 00 02 00 00 00",
                Answer::Selected(SecurityProtocol::HYBRID),
            ),
            ("03 00 00 0b 06 d0 00 00 12 34 00", Answer::Legacy),
            (
                "03 00 00 13 0e d0 00 00 12 34 00 03 00 08 00 01 00 00 00",
                Answer::Failure(1),
            ),
            (
                "03 00 00 13 0e d0 00 00 12 34 00 03 00 08 00 05 00 00 00",
                Answer::Failure(5),
            ),
            (
                "03 00 00 13 0e d0 00 00 12 34 00 03 00 08 00 03 00 00 00",
                Answer::Failure(3),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(classify(&hex(bytes)), want, "{bytes}");
        }
    }

    #[test]
    fn rejects_garbage_and_lying_lengths() {
        assert!(matches!(
            classify(b"HTTP/1.1 400 Bad Request\r\n"),
            Answer::Garbage(_)
        ));
        assert!(matches!(
            classify(&hex("03 00 00 13 0e e0 00 00 12 34 00 02 01 08 00 01 00 00 00")),
            Answer::Garbage(_)
        ));
        assert!(matches!(
            classify(&hex("03 00 00 13 0e d0 00 00 12 34 00 07 01 08 00 01 00 00 00")),
            Answer::Garbage(_)
        ));
        assert!(expected_len(&[3, 0, 0xff, 0xff]).is_err());
        assert!(expected_len(&[3, 0, 0, 4]).is_err());
        assert!(expected_len(&[0x16, 3, 1, 0]).is_err());
        assert_eq!(expected_len(&[3, 0, 0, 19]), Ok(19));
    }

    #[test]
    fn the_reader_takes_a_confirm_in_any_pieces_and_never_more() {
        let confirm = hex("03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 01 00 00 00");
        for piece in 1..=confirm.len() {
            // As the driver reads: at most `piece` bytes, and never more than the reader wants.
            let (mut r, mut at, mut answer) = (ConfirmReader::new(), 0, None);
            while answer.is_none() {
                let n = piece.min(r.wanted());
                assert!(
                    n > 0 && at + n <= confirm.len(),
                    "pieces of {piece}: wants past the Confirm"
                );
                answer = r.feed(&confirm[at..at + n]);
                at += n;
            }
            assert_eq!(
                answer,
                Some(Answer::Selected(SecurityProtocol::SSL)),
                "pieces of {piece}"
            );
            assert_eq!((at, r.wanted()), (confirm.len(), 0));
        }
        let mut r = ConfirmReader::new();
        assert_eq!(r.closed(), Answer::Closed);
        assert_eq!(r.failed("reset"), Answer::Closed);
        assert_eq!(r.feed(&[3, 0]), None);
        assert_eq!(r.closed(), Answer::Garbage("closed after 2 bytes".into()));
        assert_eq!(r.failed("reset"), Answer::Garbage("reset".into()));
        assert_eq!(r.feed(&[0, 19, 0x0e]), None);
        assert_eq!(r.received(), 4, "only what the header still wanted");
        assert_eq!(r.wanted(), 15);
        assert_eq!(r.feed(&[0x0e]), None);
        assert_eq!(r.closed(), Answer::Garbage("closed after 5 of 19 bytes".into()));
        let mut r = ConfirmReader::new();
        assert!(matches!(r.feed(b"HTTP/1.1"), Some(Answer::Garbage(_))));
    }

    #[test]
    fn protocols_and_failure_codes() {
        assert_eq!(Protocols::from(SecurityProtocol::empty()), Protocols::RDP);
        assert_eq!(
            Protocols::from(SecurityProtocol::SSL | SecurityProtocol::HYBRID_EX).names(),
            vec!["ssl", "hybrid_ex"]
        );
        assert_eq!(failure_id(5), FindingId::NegoHybridRequired);
        assert_eq!(failure_name(5), "HYBRID_REQUIRED_BY_SERVER");
        assert_eq!(failure_id(99), FindingId::NegoUnknownFailure);
    }

    #[test]
    fn only_a_requested_protocol_or_rdp_is_a_lawful_selection() {
        let modern = SecurityProtocol::SSL | SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX;
        for ok in [
            SecurityProtocol::empty(),
            SecurityProtocol::SSL,
            SecurityProtocol::HYBRID_EX,
        ] {
            assert!(selection_fits(modern, ok), "{ok:?}");
        }
        assert!(selection_fits(SecurityProtocol::SSL, SecurityProtocol::SSL));
        for (asked, got) in [
            (modern, SecurityProtocol::RDSTLS),
            (modern, SecurityProtocol::RDSAAD),
            (SecurityProtocol::SSL, SecurityProtocol::HYBRID),
            (modern, SecurityProtocol::SSL | SecurityProtocol::HYBRID),
            (modern, SecurityProtocol::from_bits_retain(0x100)),
        ] {
            assert!(!selection_fits(asked, got), "{got:?} to {asked:?}");
        }
        assert_eq!(
            protocol_names(modern),
            "PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX"
        );
        assert_eq!(protocol_names(SecurityProtocol::empty()), "PROTOCOL_RDP");
        assert_eq!(
            protocol_names(SecurityProtocol::from_bits_retain(0x101)),
            "PROTOCOL_SSL | unknown bits 0x00000100"
        );
    }

    #[test]
    fn request_matches_the_wire_format() {
        let r = request(SecurityProtocol::SSL | SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX);
        assert_eq!(&r[..2], &[3, 0]);
        assert_eq!(usize::from(u16::from_be_bytes([r[2], r[3]])), r.len());
        assert_eq!(r[5], 0xE0, "Connection Request TPDU");
        assert_eq!(
            &r[r.len() - 8..],
            &[1, 0, 8, 0, 0x0B, 0, 0, 0],
            "RDP_NEG_REQ requesting 0xB"
        );
        assert!(r.windows(20).any(|w| w == b"Cookie: mstshash=rdp"), "cookie");
    }
}

//! A minimal RDP client for checking test servers: the X.224 Connection Request with RDP_NEG_REQ (byte for
//! byte what `shared/test-servers/x224probe.py` sends), reading the Connection Confirm, and fetching the
//! server's TLS certificate after PROTOCOL_SSL/HYBRID was selected.
//!
//! This is independent of rdpl's own probe code on purpose: the self-tests check the servers, and tests of
//! rdpl can use it to cross-check what rdpl reports.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `requestedProtocols` / `selectedProtocol` values (MS-RDPBCGR 2.2.1.1.1).
pub(crate) const PROTOCOL_RDP: u32 = 0x0;
pub(crate) const PROTOCOL_SSL: u32 = 0x1;
pub(crate) const PROTOCOL_HYBRID: u32 = 0x2;
pub(crate) const PROTOCOL_HYBRID_EX: u32 = 0x8;

/// RDP_NEG_FAILURE codes (MS-RDPBCGR 2.2.1.2.2).
pub(crate) const SSL_REQUIRED_BY_SERVER: u32 = 1;
pub(crate) const SSL_NOT_ALLOWED_BY_SERVER: u32 = 2;
pub(crate) const SSL_CERT_NOT_ON_SERVER: u32 = 3;
pub(crate) const HYBRID_REQUIRED_BY_SERVER: u32 = 5;

/// The routing cookie in every request (as in x224probe.py).
pub(crate) const COOKIE: &[u8] = b"Cookie: mstshash=probe\r\n";

/// The X.224 Connection Request TPDU in a TPKT, with the cookie and an RDP_NEG_REQ for `requested`.
pub(crate) fn connection_request(requested: u32) -> Vec<u8> {
    let mut var = COOKIE.to_vec();
    var.extend_from_slice(&[0x01, 0x00, 0x08, 0x00]); // RDP_NEG_REQ, flags 0, length 8
    var.extend_from_slice(&requested.to_le_bytes());
    let li = u8::try_from(6 + var.len()).expect("short request");
    let mut x224 = vec![li, 0xE0, 0, 0, 0, 0, 0]; // CR | CDT, dst-ref, src-ref, class 0
    x224.extend_from_slice(&var);
    let total = u16::try_from(4 + x224.len()).expect("short request");
    let mut tpkt = vec![3, 0];
    tpkt.extend_from_slice(&total.to_be_bytes());
    tpkt.extend_from_slice(&x224);
    tpkt
}

/// What the Connection Confirm said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiation {
    /// RDP_NEG_RSP: the server chose `protocol` (flags are the RSP flags byte).
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE with this code.
    Failure(u32),
    /// A CC without negotiation data (legacy standard RDP security).
    Legacy,
}

/// Decodes a full Connection Confirm TPKT (as returned by [`negotiate`]).
pub(crate) fn parse_confirm(cc: &[u8]) -> Negotiation {
    // TPKT (4) + LI, code, dst-ref (2), src-ref (2), class (1) = 11 bytes, then 8 bytes of RDP_NEG_*.
    match cc.get(11..19) {
        Some(neg) => {
            let value = u32::from_le_bytes([neg[4], neg[5], neg[6], neg[7]]);
            match neg[0] {
                0x02 => Negotiation::Selected {
                    protocol: value,
                    flags: neg[1],
                },
                0x03 => Negotiation::Failure(value),
                t => panic!("unknown negotiation type {t:#04x} in {cc:02x?}"),
            }
        }
        None => Negotiation::Legacy,
    }
}

/// Connects to `addr`, sends [`connection_request`]`(requested)` and reads the whole Connection Confirm TPKT.
/// Returns the still open stream (for [`server_certificate`]) and the raw CC bytes.
pub(crate) fn negotiate(addr: SocketAddr, requested: u32) -> io::Result<(TcpStream, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(&connection_request(requested))?;
    let mut cc = vec![0; 4];
    s.read_exact(&mut cc)?;
    if cc[0] != 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a TPKT: {cc:02x?}"),
        ));
    }
    let len = usize::from(u16::from_be_bytes([cc[2], cc[3]]));
    if len < 4 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "TPKT length < 4"));
    }
    cc.resize(len, 0);
    s.read_exact(&mut cc[4..])?;
    Ok((s, cc))
}

/// After a negotiation that selected SSL or HYBRID, starts TLS on `stream` with a hand-made TLS 1.2
/// ClientHello and returns the server's leaf certificate (DER) from its Certificate message.
///
/// TLS 1.2 is used because TLS 1.3 encrypts the Certificate message; both xrdp and the shadow server accept
/// it. The handshake is abandoned right after the certificate (no key exchange): enough to see what is served.
pub(crate) fn server_certificate(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    stream.write_all(&client_hello())?;
    let mut handshake = Vec::new();
    loop {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header)?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let mut body = vec![0; len];
        stream.read_exact(&mut body)?;
        match header[0] {
            22 => handshake.extend_from_slice(&body),
            21 => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("TLS alert {body:02x?}"),
                ));
            }
            t => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected TLS record type {t}"),
                ));
            }
        }
        // Walk the complete handshake messages received so far.
        let mut at = 0;
        while let Some(h) = handshake.get(at..at + 4) {
            let msg_len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            let Some(msg) = handshake.get(at + 4..at + 4 + msg_len) else {
                break;
            };
            match h[0] {
                11 => {
                    // certificate_list<3 bytes length>, then the first certificate<3 bytes length>.
                    let cert_len = msg
                        .get(3..6)
                        .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]));
                    return cert_len
                        .and_then(|n| msg.get(6..6 + n))
                        .map(<[u8]>::to_vec)
                        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "empty Certificate"));
                }
                14 => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "ServerHelloDone without a Certificate",
                    ));
                }
                _ => at += 4 + msg_len,
            }
        }
    }
}

/// A TLS 1.2 ClientHello (no supported_versions extension, so TLS 1.3 servers fall back to 1.2).
fn client_hello() -> Vec<u8> {
    fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&u16::try_from(data.len()).expect("short").to_be_bytes());
        out.extend_from_slice(data);
    }
    let suites: &[u16] = &[
        0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009E, 0x009F, 0x009C, 0x009D, 0x002F, 0x0035,
    ];
    let mut exts = Vec::new();
    ext(
        &mut exts,
        0x000A,
        &[0x00, 0x06, 0x00, 0x1D, 0x00, 0x17, 0x00, 0x18],
    ); // groups: x25519, P-256, P-384
    ext(&mut exts, 0x000B, &[0x01, 0x00]); // ec_point_formats: uncompressed
    let sig_algs: &[u16] = &[
        0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0201,
    ];
    let mut sa = (u16::try_from(sig_algs.len() * 2).expect("short"))
        .to_be_bytes()
        .to_vec();
    sig_algs
        .iter()
        .for_each(|a| sa.extend_from_slice(&a.to_be_bytes()));
    ext(&mut exts, 0x000D, &sa);
    ext(&mut exts, 0x0017, &[]); // extended_master_secret
    ext(&mut exts, 0xFF01, &[0x00]); // renegotiation_info (empty)

    let mut hello = vec![0x03, 0x03];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hello.extend_from_slice(&seed.to_be_bytes()); // 16 bytes: random need not be secret here
    hello.extend_from_slice(&seed.rotate_left(64).to_be_bytes());
    hello.push(0); // no session id
    hello.extend_from_slice(&(u16::try_from(suites.len() * 2).expect("short")).to_be_bytes());
    suites
        .iter()
        .for_each(|s| hello.extend_from_slice(&s.to_be_bytes()));
    hello.extend_from_slice(&[0x01, 0x00]); // compression: null
    hello.extend_from_slice(&(u16::try_from(exts.len()).expect("short")).to_be_bytes());
    hello.extend_from_slice(&exts);

    let len = u32::try_from(hello.len()).expect("short").to_be_bytes();
    let mut handshake = vec![0x01, len[1], len[2], len[3]];
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(u16::try_from(handshake.len()).expect("short")).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

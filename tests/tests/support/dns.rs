//! A minimal DNS client over UDP, to check what a test [`Dnsmasq`](super::Dnsmasq) answers without `dig`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// Record types the harness asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordType {
    A,
    Aaaa,
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
        }
    }
}

/// Response codes (RFC 1035 4.1.1).
pub(crate) const NOERROR: u8 = 0;
pub(crate) const SERVFAIL: u8 = 2;
pub(crate) const NXDOMAIN: u8 = 3;
pub(crate) const REFUSED: u8 = 5;

/// A decoded answer: the RCODE and the A/AAAA addresses in the answer section, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) rcode: u8,
    pub(crate) addrs: Vec<IpAddr>,
}

/// Asks `server` for `name`/`kind` over UDP (2 s timeout, 3 tries) and decodes the reply.
pub(crate) fn query(server: SocketAddr, name: &str, kind: RecordType) -> io::Result<Reply> {
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind)?;
    sock.connect(server)?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    let id = u16::try_from(std::process::id() & 0xFFFF).unwrap_or(0x1234);
    let request = encode(id, name, kind);
    let mut last = io::Error::new(io::ErrorKind::TimedOut, "no reply");
    for _ in 0..3 {
        sock.send(&request)?;
        let mut buf = [0u8; 1500];
        match sock.recv(&mut buf) {
            Ok(n) => return decode(id, &buf[..n]),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn encode(id: u16, name: &str, kind: RecordType) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    for label in name.trim_end_matches('.').split('.') {
        q.push(u8::try_from(label.len()).expect("label < 64 bytes"));
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&kind.code().to_be_bytes());
    q.extend_from_slice(&[0, 1]); // class IN
    q
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bad DNS reply: {what}"))
}

fn decode(id: u16, msg: &[u8]) -> io::Result<Reply> {
    let header = msg.get(..12).ok_or_else(|| bad("short header"))?;
    if u16::from_be_bytes([header[0], header[1]]) != id {
        return Err(bad("wrong id"));
    }
    let rcode = header[3] & 0x0F;
    let qdcount = u16::from_be_bytes([header[4], header[5]]);
    let ancount = u16::from_be_bytes([header[6], header[7]]);
    let mut at = 12;
    for _ in 0..qdcount {
        at = skip_name(msg, at)? + 4;
    }
    let mut addrs = Vec::new();
    for _ in 0..ancount {
        at = skip_name(msg, at)?;
        let rr = msg.get(at..at + 10).ok_or_else(|| bad("short record"))?;
        let kind = u16::from_be_bytes([rr[0], rr[1]]);
        let len = usize::from(u16::from_be_bytes([rr[8], rr[9]]));
        let data = msg
            .get(at + 10..at + 10 + len)
            .ok_or_else(|| bad("short rdata"))?;
        match (kind, len) {
            (1, 4) => addrs.push(IpAddr::from(<[u8; 4]>::try_from(data).map_err(|_| bad("A"))?)),
            (28, 16) => addrs.push(IpAddr::from(<[u8; 16]>::try_from(data).map_err(|_| bad("AAAA"))?)),
            _ => {}
        }
        at += 10 + len;
    }
    Ok(Reply { rcode, addrs })
}

/// Returns the offset just past the (possibly compressed) name at `at`.
fn skip_name(msg: &[u8], mut at: usize) -> io::Result<usize> {
    loop {
        let len = *msg.get(at).ok_or_else(|| bad("name runs off the end"))?;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xC0 == 0xC0 => return Ok(at + 2),
            l => at += 1 + usize::from(l),
        }
    }
}

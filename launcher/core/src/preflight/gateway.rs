//! RD Gateway answers, pure: [`parse_head`] reads an HTTP response head and [`classify`] turns the answers to
//! the two unauthenticated MS-TSGU requests (`RDG_OUT_DATA /remoteDesktopGateway/` and a WebSocket upgrade)
//! into a status: 401 with `WWW-Authenticate` = a live RD Gateway (its schemes are listed); 101/200 = the
//! transport was accepted; 403/404/410 = HTTPS works but this is not an HTTP RD Gateway (perhaps an
//! RPC-over-HTTP-only one); a reset or close on both = the gateway rejected the request.

use crate::facts::{GatewayStatus, Transport};

/// The most rdpl reads of an HTTP answer's head.
pub const MAX_HEAD: usize = 16 * 1024;

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response head.
    Http {
        /// Status code.
        status: u16,
        /// The schemes of every `WWW-Authenticate` header (`Negotiate`, `NTLM`, `Basic`, ...).
        auth_schemes: Vec<String>,
    },
    /// Reset or closed before a response.
    Closed(String),
    /// Not HTTP.
    Garbage(String),
    /// No response in time.
    Timeout,
}

/// Parses a response head (everything up to and including the blank line).
pub fn parse_head(bytes: &[u8]) -> Option<Answer> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {
            let auth_schemes = resp
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("www-authenticate"))
                .filter_map(|h| std::str::from_utf8(h.value).ok())
                .filter_map(|v| v.split_whitespace().next())
                .map(|s| s.trim_end_matches(',').to_owned())
                .collect();
            Some(Answer::Http {
                status: resp.code.unwrap_or(0),
                auth_schemes,
            })
        }
        Ok(httparse::Status::Partial) => None,
        Err(e) => Some(Answer::Garbage(format!("not an HTTP response: {e}"))),
    }
}

/// Reads a response head from bytes as they arrive (sans-I/O), at most [`MAX_HEAD`] of them.
#[derive(Debug, Clone, Default)]
pub struct HeadReader {
    buf: Vec<u8>,
}

impl HeadReader {
    /// A reader that has seen nothing.
    pub fn new() -> HeadReader {
        HeadReader::default()
    }

    /// Takes the bytes that arrived; the answer once the head is complete, not HTTP, or too long.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Answer> {
        self.buf.extend_from_slice(bytes);
        if let Some(a) = parse_head(&self.buf) {
            return Some(a);
        }
        (self.buf.len() > MAX_HEAD)
            .then(|| Answer::Garbage(format!("response head longer than {MAX_HEAD} bytes")))
    }

    /// What the end of the stream means now.
    pub fn closed(&self) -> Answer {
        if self.buf.is_empty() {
            Answer::Closed("closed without a response".into())
        } else {
            parse_head(&self.buf).unwrap_or(Answer::Garbage("closed in the middle of the response".into()))
        }
    }
}

/// The verdict on the answers to the two requests: status, transport, auth schemes.
pub fn classify(out_data: &Answer, websocket: &Answer) -> (GatewayStatus, Transport, Vec<String>) {
    let status_of = |a: &Answer| match a {
        Answer::Http { status, .. } => Some(*status),
        _ => None,
    };
    let mut schemes: Vec<String> = Vec::new();
    for a in [out_data, websocket] {
        if let Answer::Http { auth_schemes, .. } = a {
            for s in auth_schemes {
                if !schemes.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                    schemes.push(s.clone());
                }
            }
        }
    }
    let (o, w) = (status_of(out_data), status_of(websocket));
    let live = |s: Option<u16>, a: &Answer| {
        matches!(s, Some(101 | 200))
            || (s == Some(401) && matches!(a, Answer::Http { auth_schemes, .. } if !auth_schemes.is_empty()))
    };
    if live(w, websocket) {
        return (GatewayStatus::Ok, Transport::WebSocket, schemes);
    }
    if live(o, out_data) {
        return (GatewayStatus::Ok, Transport::Http, schemes);
    }
    match (o, w) {
        (None, None) => (GatewayStatus::Rejected, Transport::Unknown, schemes),
        (Some(403 | 404 | 410), _) | (_, Some(403 | 404 | 410)) => {
            (GatewayStatus::NotRdg, Transport::Rpc, schemes)
        }
        _ => (GatewayStatus::NotRdg, Transport::Unknown, schemes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, schemes: &[&str]) -> Answer {
        Answer::Http {
            status,
            auth_schemes: schemes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn classifies_gateway_answers() {
        let closed = Answer::Closed("reset".into());
        assert_eq!(
            classify(
                &http(401, &["Negotiate", "NTLM"]),
                &http(401, &["Negotiate", "NTLM", "Basic"])
            ),
            (
                GatewayStatus::Ok,
                Transport::WebSocket,
                vec!["Negotiate".into(), "NTLM".into(), "Basic".into()]
            )
        );
        assert_eq!(
            classify(&http(401, &["Basic"]), &http(404, &[])).0,
            GatewayStatus::Ok
        );
        assert_eq!(classify(&http(200, &[]), &closed).1, Transport::Http);
        assert_eq!(
            classify(&http(404, &[]), &http(404, &[])),
            (GatewayStatus::NotRdg, Transport::Rpc, vec![])
        );
        assert_eq!(
            classify(&http(401, &[]), &http(400, &[])).0,
            GatewayStatus::NotRdg
        );
        assert_eq!(classify(&closed, &Answer::Timeout).0, GatewayStatus::Rejected);
    }

    #[test]
    fn the_head_reader_takes_a_head_in_pieces_and_bounds_it() {
        let head = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n\r\n";
        for piece in [1, 7, head.len()] {
            let mut r = HeadReader::new();
            let answers: Vec<Answer> = head.chunks(piece).filter_map(|c| r.feed(c)).collect();
            assert_eq!(answers, vec![http(401, &["NTLM"])], "pieces of {piece}");
        }
        assert!(matches!(HeadReader::new().closed(), Answer::Closed(_)));
        let mut r = HeadReader::new();
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(
            r.closed(),
            Answer::Garbage("closed in the middle of the response".into())
        );
        let mut r = HeadReader::new();
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(r.feed(long.as_bytes()), Some(Answer::Garbage(_))));
    }

    #[test]
    fn parses_heads() {
        let a = parse_head(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n");
        assert_eq!(a, Some(http(401, &["Negotiate", "Basic"])));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-"), None);
        assert!(matches!(
            parse_head(b"\x16\x03\x01garbage\r\n\r\n"),
            Some(Answer::Garbage(_))
        ));
    }
}

//! RD Gateway answers, pure: [`parse_head`] reads an HTTP response head and [`classify`] turns the answers to
//! the two unauthenticated MS-TSGU requests (`RDG_OUT_DATA /remoteDesktopGateway/` and a WebSocket upgrade)
//! into a status: 401 with `WWW-Authenticate` = a live RD Gateway (its schemes are listed); 101 with
//! `Upgrade: websocket` to the upgrade = the WebSocket transport was accepted; anything else HTTP (a 200 to
//! everything, 403/404/410) = HTTPS works but this is not an HTTP RD Gateway (403/404/410: perhaps an
//! RPC-over-HTTP-only one); no HTTP answer to either = the gateway rejected the request, and [`why`] says how
//! (closed, silent, not HTTP).

use crate::facts::{GatewayStatus, Transport};

/// The most rdpl reads of an HTTP answer's head.
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header lines a head may have: one per 16 bytes of [`MAX_HEAD`], far above any real gateway's
/// (IIS sends about a dozen) and enough for many `WWW-Authenticate` lines.
pub const MAX_HEADERS: usize = MAX_HEAD / 16;

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response head.
    Http {
        /// Status code.
        status: u16,
        /// The schemes of every `WWW-Authenticate` header (`Negotiate`, `NTLM`, `Basic`, ...).
        auth_schemes: Vec<String>,
        /// Whether the head says `Upgrade: websocket` (what a 101 to the WebSocket request must say).
        websocket: bool,
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
    let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
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
            let websocket = resp.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("upgrade")
                    && std::str::from_utf8(h.value).is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
            });
            Some(Answer::Http {
                status: resp.code.unwrap_or(0),
                auth_schemes,
                websocket,
            })
        }
        Ok(httparse::Status::Partial) => None,
        Err(httparse::Error::TooManyHeaders) => Some(Answer::Garbage(format!(
            "an HTTP response head with more than {MAX_HEADERS} header lines"
        ))),
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

/// Whether an answer is what an RD Gateway gives an unauthenticated request: 401 naming an authentication
/// scheme, or (to the WebSocket request, `upgrade`) 101 with `Upgrade: websocket`. A 200 is not: an RD
/// Gateway never accepts RDG_OUT_DATA without credentials, and any web server answers 200 to anything.
pub fn live(a: &Answer, upgrade: bool) -> bool {
    match a {
        Answer::Http {
            status: 401,
            auth_schemes,
            ..
        } => !auth_schemes.is_empty(),
        Answer::Http {
            status: 101,
            websocket,
            ..
        } => upgrade && *websocket,
        _ => false,
    }
}

/// What the two answers were, when neither was HTTP: each named for what it is (closed, silent, not HTTP).
pub fn why(out_data: &Answer, websocket: &Answer) -> String {
    let one = |a: &Answer| match a {
        Answer::Http { status, .. } => format!("HTTP {status}"),
        Answer::Closed(e) => format!("closed the connection ({e})"),
        Answer::Timeout => "sent no complete answer in time (silent or a slow head)".to_owned(),
        Answer::Garbage(e) => format!("answered something else: {e}"),
    };
    if out_data == websocket {
        return one(out_data);
    }
    format!(
        "RDG_OUT_DATA: {}; WebSocket upgrade: {}",
        one(out_data),
        one(websocket)
    )
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
    if live(websocket, true) {
        return (GatewayStatus::Ok, Transport::WebSocket, schemes);
    }
    if live(out_data, false) {
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
            websocket: false,
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
        // A 200 to everything is a web server, not a gateway; a 101 must really switch to WebSocket.
        assert_eq!(
            classify(&http(200, &[]), &http(200, &[])),
            (GatewayStatus::NotRdg, Transport::Unknown, vec![])
        );
        assert_eq!(classify(&http(401, &["NTLM"]), &closed).1, Transport::Http);
        let upgraded = Answer::Http {
            status: 101,
            auth_schemes: vec![],
            websocket: true,
        };
        assert_eq!(classify(&closed, &upgraded).1, Transport::WebSocket);
        assert_eq!(classify(&closed, &http(101, &[])).0, GatewayStatus::NotRdg);
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
    fn many_headers_and_many_challenges_are_a_head_and_each_failure_is_named() {
        let mut head = String::from("HTTP/1.1 401 Unauthorized\r\n");
        for i in 0..100 {
            head.push_str(&format!("X-Filler-{i}: {i}\r\n"));
        }
        for s in ["Negotiate", "NTLM", "Basic realm=\"x\""].iter().cycle().take(60) {
            head.push_str(&format!("WWW-Authenticate: {s}\r\n"));
        }
        head.push_str("\r\n");
        let a = parse_head(head.as_bytes()).expect("complete");
        assert!(
            matches!(&a, Answer::Http { status: 401, auth_schemes, .. } if auth_schemes.len() == 60),
            "{a:?}"
        );
        assert_eq!(classify(&a, &a).0, GatewayStatus::Ok);
        let mut flood = String::from("HTTP/1.1 401 Unauthorized\r\n");
        for _ in 0..=MAX_HEADERS {
            flood.push_str("a:\r\n");
        }
        flood.push_str("\r\n");
        assert!(
            matches!(parse_head(flood.as_bytes()), Some(Answer::Garbage(e)) if e.contains("header lines"))
        );
        let closed = Answer::Closed("reset by peer".into());
        assert!(why(&closed, &closed).contains("closed the connection"));
        assert!(why(&Answer::Timeout, &Answer::Timeout).contains("in time"));
        let ssh = Answer::Garbage("not an HTTP response: invalid HTTP version".into());
        assert!(
            why(&ssh, &Answer::Timeout).contains("answered something else")
                && why(&ssh, &Answer::Timeout).contains("in time")
        );
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

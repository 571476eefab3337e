//! RD Gateway reachability: DNS, TCP, TLS (with the same certificate assessment as the host), then two
//! unauthenticated requests, as MS-TSGU clients start: `RDG_OUT_DATA /remoteDesktopGateway/` (the HTTP
//! transport) and a WebSocket upgrade of `GET /remoteDesktopGateway/`. No credentials are ever sent.
//!
//! [`classify`] is pure: 401 with `WWW-Authenticate` = a live RD Gateway (its schemes are listed); 101/200 =
//! the transport was accepted; 403/404/410 = HTTPS works but this is not an HTTP RD Gateway (perhaps an
//! RPC-over-HTTP-only one); a reset or close on both = the gateway rejected the request.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::report::GatewayStatus;

/// The most rdpl reads of an HTTP answer's head.
pub const MAX_HEAD: usize = 16 * 1024;

/// Which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `RDG_OUT_DATA` (HTTP transport).
    OutData,
    /// WebSocket upgrade.
    WebSocket,
}

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

/// A random GUID in the `{8-4-4-4-12}` form MS-TSGU headers use.
pub fn guid() -> String {
    let mut b = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let h = hex::encode_upper(b);
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The request bytes.
pub fn request(kind: Request, host: &str) -> Vec<u8> {
    let id = guid();
    match kind {
        Request::OutData => format!(
            "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\
             Cache-Control: no-cache\r\nPragma: no-cache\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\
             User-Agent: MS-RDGateway/1.0\r\nRDG-Connection-Id: {id}\r\nRDG-Correlation-Id: {id}\r\n\r\n"
        ),
        Request::WebSocket => {
            let mut key = [0u8; 16];
            let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key);
            format!(
                "GET /remoteDesktopGateway/ HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {}\r\nUser-Agent: MS-RDGateway/1.0\r\n\
                 RDG-Connection-Id: {id}\r\nRDG-Correlation-Id: {id}\r\n\r\n",
                base64_16(&key)
            )
        }
    }
    .into_bytes()
}

fn base64_16(b: &[u8; 16]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
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

/// Sends one request and reads the response head, within `deadline` and at most [`MAX_HEAD`] bytes.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    kind: Request,
    host: &str,
    deadline: Duration,
) -> Answer {
    let work = async {
        if let Err(e) = stream.write_all(&request(kind, host)).await {
            return Answer::Closed(e.to_string());
        }
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 2048];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => {
                    return if buf.is_empty() {
                        Answer::Closed("closed without a response".into())
                    } else {
                        parse_head(&buf)
                            .unwrap_or(Answer::Garbage("closed in the middle of the response".into()))
                    };
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Answer::Closed(e.to_string()),
            }
            if let Some(a) = parse_head(&buf) {
                return a;
            }
            if buf.len() > MAX_HEAD {
                return Answer::Garbage(format!("response head longer than {MAX_HEAD} bytes"));
            }
        }
    };
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or(Answer::Timeout)
}

/// The verdict on the answers to the two requests: status, transport, auth schemes.
pub fn classify(out_data: &Answer, websocket: &Answer) -> (GatewayStatus, &'static str, Vec<String>) {
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
        return (GatewayStatus::Ok, "websocket", schemes);
    }
    if live(o, out_data) {
        return (GatewayStatus::Ok, "http", schemes);
    }
    match (o, w) {
        (None, None) => (GatewayStatus::Rejected, "unknown", schemes),
        (Some(403 | 404 | 410), _) | (_, Some(403 | 404 | 410)) => (GatewayStatus::NotRdg, "rpc", schemes),
        _ => (GatewayStatus::NotRdg, "unknown", schemes),
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
                "websocket",
                vec!["Negotiate".into(), "NTLM".into(), "Basic".into()]
            )
        );
        assert_eq!(
            classify(&http(401, &["Basic"]), &http(404, &[])).0,
            GatewayStatus::Ok
        );
        assert_eq!(classify(&http(200, &[]), &closed).1, "http");
        assert_eq!(
            classify(&http(404, &[]), &http(404, &[])),
            (GatewayStatus::NotRdg, "rpc", vec![])
        );
        assert_eq!(
            classify(&http(401, &[]), &http(400, &[])).0,
            GatewayStatus::NotRdg
        );
        assert_eq!(classify(&closed, &Answer::Timeout).0, GatewayStatus::Rejected);
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

    #[test]
    fn requests_carry_the_tsgu_headers() {
        let r = String::from_utf8(request(Request::OutData, "gw.test")).expect("ascii");
        assert!(r.starts_with("RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: gw.test\r\n"));
        assert!(r.contains("RDG-Connection-Id: {") && r.ends_with("\r\n\r\n"));
        let w = String::from_utf8(request(Request::WebSocket, "gw.test")).expect("ascii");
        assert!(w.contains("Upgrade: websocket") && w.contains("Sec-WebSocket-Key: "));
        assert_eq!(base64_16(&[0u8; 16]), "AAAAAAAAAAAAAAAAAAAAAA==");
        assert_eq!(guid().len(), 38);
    }
}

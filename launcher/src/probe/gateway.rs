//! RD Gateway reachability driver: DNS, TCP, TLS (with the same certificate assessment as the host), then two
//! unauthenticated requests, as MS-TSGU clients start: `RDG_OUT_DATA /remoteDesktopGateway/` (the HTTP
//! transport) and a WebSocket upgrade of `GET /remoteDesktopGateway/`. No credentials are ever sent. What the
//! answers mean is decided by the pure [`rdpl_core::preflight::gateway::classify`].

use std::time::Duration;

use rdpl_core::preflight::gateway::{Answer, HeadReader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `RDG_OUT_DATA` (HTTP transport).
    OutData,
    /// WebSocket upgrade.
    WebSocket,
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

/// Sends one request and reads the response head, within `deadline` and at most
/// [`rdpl_core::preflight::gateway::MAX_HEAD`] bytes.
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
        let mut reader = HeadReader::new();
        let mut chunk = [0u8; 2048];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return reader.closed(),
                Ok(n) => {
                    if let Some(answer) = reader.feed(&chunk[..n]) {
                        return answer;
                    }
                }
                Err(e) => return Answer::Closed(e.to_string()),
            }
        }
    };
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or(Answer::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

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

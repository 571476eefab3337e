//! `test-gateway`: a loopback RD Gateway for the end-to-end tests. It speaks the HTTP transport of [MS-TSGU]
//! inside a WebSocket, the way `ironrdp-mstsgu` (rdpl's gateway client) does, and tunnels the one channel of
//! each connection to a TCP target on loopback: a test echo server or a real RDP server (FreeRDP shadow).
//!
//! ```text
//! test-gateway --listen 127.0.0.1:0 --cert CERT.pem --key KEY.pem --user USER --password PASS
//!              [--allow HOST:PORT]... [--reject-code 0x800759DA [--reject-at tunnel|tunnel-auth|handshake]]
//! ```
//!
//! Once bound it prints exactly one line, `listening 127.0.0.1:PORT`, to stdout and serves until killed. Its
//! log goes to stderr and never contains the password. Exit code 2: bad arguments, files or listen address.
//!
//! # What of [MS-TSGU] is implemented
//!
//! * **HTTP** (3.3.5.1, and the WebSocket variant of current Windows gateways): `RDG_OUT_DATA
//!   /remoteDesktopGateway/` with `Upgrade: websocket` is answered `101 Switching Protocols` (RFC 6455
//!   handshake), after HTTP Basic authentication against `--user`/`--password`. A request without valid
//!   credentials gets `401` with `WWW-Authenticate: Basic` and the connection stays open (keep-alive) for the
//!   next try, as the client expects. `RDG-Connection-Id` is logged.
//!   Not implemented: Negotiate, NTLM and the `SSPI_NTLM` extended authentication are never offered; the
//!   legacy two-connection transport (`RDG_IN_DATA` plus a `200` answer to `RDG_OUT_DATA`) is answered `501`.
//!   Other methods get `405`, other paths `404`; chunked request bodies `501`.
//! * **Packets** (2.2.10; each one in exactly one binary WebSocket message, as ironrdp-mstsgu sends and
//!   expects them): HTTP_HANDSHAKE_REQUEST/RESPONSE (version 1.0, extended auth NONE: authentication already
//!   happened in HTTP); HTTP_TUNNEL_PACKET/HTTP_TUNNEL_RESPONSE (tunnel id and negotiated capabilities;
//!   reauthentication and PAA cookies are not supported); HTTP_TUNNEL_AUTH_PACKET/RESPONSE (client name
//!   logged; redirection flags ENABLE_ALL and idle timeout 0; no statement of health);
//!   HTTP_CHANNEL_PACKET/HTTP_CHANNEL_RESPONSE (resources and alternate resources, port, protocol 3; channel
//!   id 1; no UDP side channel); HTTP_DATA_PACKET both ways; HTTP_CLOSE_PACKET as CLOSE_CHANNEL and
//!   CLOSE_CHANNEL_RESPONSE both ways (the gateway sends CLOSE_CHANNEL when the target ends its side);
//!   keepalives from the client are accepted and ignored. Not implemented: HTTP_EXTENDED_AUTH_PACKET, service,
//!   consent and reauthentication messages, the UDP transport, and RPC over HTTP ([MS-RPCH]).
//! * **Policy** (what RAP does on a real gateway): a resource is reached only when one of its names and the
//!   port equal an `--allow` entry; entries must be loopback (`127.x.y.z`, `::1`, `localhost`), so the gateway
//!   never connects anywhere else. Otherwise CHANNEL_RESPONSE carries E_PROXY_RAP_ACCESSDENIED (0x800759DA);
//!   an allowed target that refuses gets E_PROXY_TS_CONNECTFAILED (0x800759DD). `--reject-code` makes the
//!   TUNNEL_RESPONSE (default), TUNNEL_AUTH_RESPONSE or HANDSHAKE_RESPONSE carry that HRESULT instead.
//!
//! Layout: [`http`], [`wire`], [`policy`] and [`session`] are pure (bytes and values in, decisions out); the
//! async driver at the bottom does the socket work, one tokio task per client, with bounded buffers.
//!
//! [MS-TSGU]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tsgu/
//! [MS-RPCH]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rpch/

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::Parser;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tracing::{Instrument as _, debug, info, trace, warn};

use self::http::{Answer, Credentials, Head};
use self::policy::AllowedTarget;
use self::session::{RejectAt, Session, Step};

/// A loopback RD Gateway (MS-TSGU over WebSocket) for rdpl's end-to-end tests.
///
/// Prints `listening ADDR` on stdout once bound, logs to stderr, serves until killed. Exit code 2: bad
/// arguments, files or listen address.
#[derive(Parser)]
#[command(name = "test-gateway")]
struct Args {
    /// Where to listen (loopback only; port 0 picks a free port).
    #[arg(long)]
    listen: SocketAddr,
    /// The gateway's TLS certificate chain, PEM.
    #[arg(long)]
    cert: PathBuf,
    /// The private key of the certificate, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long)]
    key: PathBuf,
    /// The user name HTTP Basic authentication accepts.
    #[arg(long)]
    user: String,
    /// The password HTTP Basic authentication accepts (never logged).
    #[arg(long, env = "TEST_GATEWAY_PASSWORD", hide_env_values = true)]
    password: String,
    /// A target clients may reach, HOST:PORT (loopback names only); repeatable.
    #[arg(long = "allow", value_name = "HOST:PORT")]
    allow: Vec<AllowedTarget>,
    /// Refuse every tunnel with this HRESULT (hex with 0x, or decimal), e.g. 0x800759DB.
    #[arg(long, value_name = "HRESULT", value_parser = parse_hresult)]
    reject_code: Option<u32>,
    /// Which response carries --reject-code.
    #[arg(long, value_enum, default_value = "tunnel", requires = "reject_code")]
    reject_at: RejectAt,
}

fn parse_hresult(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    match parsed {
        Ok(0) => Err("0 means success, not a refusal".to_owned()),
        Ok(code) => Ok(code),
        Err(e) => Err(format!("not a 32-bit code: {e}")),
    }
}

// ---------------------------------------------------------------------------------------------------------

mod http {
    //! The HTTP/1.1 part: parsing a request head and deciding the answer (MS-TSGU 3.3.5.1, RFC 6455 4.2).

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

    /// The longest request head accepted.
    pub(crate) const MAX_HEAD: usize = 16 * 1024;
    /// The longest request body accepted (ironrdp-mstsgu sends none).
    pub(crate) const MAX_BODY: usize = 64 * 1024;
    /// The resource every RDG request names.
    const PATH: &str = "/remoteDesktopGateway/";
    const REALM: &str = "rdpl-test-gateway";

    /// A parsed request head.
    #[derive(Debug)]
    pub(crate) struct Request {
        pub(crate) method: String,
        pub(crate) path: String,
        headers: Vec<(String, String)>,
    }

    impl Request {
        /// The first header called `name` (case-insensitive).
        pub(crate) fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        /// Whether a comma-separated header lists `token` (case-insensitive), e.g. `Connection: Upgrade`.
        fn lists(&self, name: &str, token: &str) -> bool {
            self.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        }

        /// The body length to skip, or the answer refusing the body.
        pub(crate) fn body_len(&self) -> Result<usize, Answer> {
            if self.header("transfer-encoding").is_some() {
                return Err(Answer::refuse(501, "chunked request bodies are not supported"));
            }
            match self.header("content-length").map(|v| v.trim().parse::<usize>()) {
                None => Ok(0),
                Some(Ok(n)) if n <= MAX_BODY => Ok(n),
                Some(_) => Err(Answer::refuse(400, "bad or too large Content-Length")),
            }
        }
    }

    /// What [`parse`] found at the start of the buffer.
    #[derive(Debug)]
    pub(crate) enum Head {
        /// Not a whole head yet: read more.
        Partial,
        /// A request head of `len` bytes.
        Complete { request: Request, len: usize },
    }

    /// Parses a request head at the start of `buf`.
    pub(crate) fn parse(buf: &[u8]) -> Result<Head, String> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let len = match req
            .parse(buf)
            .map_err(|e| format!("malformed HTTP request: {e}"))?
        {
            httparse::Status::Partial => return Ok(Head::Partial),
            httparse::Status::Complete(len) => len,
        };
        if req.version != Some(1) {
            return Err("only HTTP/1.1 is spoken here".to_owned());
        }
        let request = Request {
            method: req.method.unwrap_or_default().to_owned(),
            path: req.path.unwrap_or_default().to_owned(),
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                .collect(),
        };
        Ok(Head::Complete { request, len })
    }

    /// The user and password Basic authentication accepts.
    pub(crate) struct Credentials {
        pub(crate) user: String,
        pub(crate) password: String,
    }

    impl std::fmt::Debug for Credentials {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Credentials")
                .field("user", &self.user)
                .field("password", &"<redacted>")
                .finish()
        }
    }

    impl Credentials {
        /// Whether an `Authorization` value is `Basic base64(user:password)` for these credentials.
        fn accept(&self, authorization: &str) -> bool {
            let mut parts = authorization.trim().splitn(2, ' ');
            let (Some(scheme), Some(token)) = (parts.next(), parts.next()) else {
                return false;
            };
            if !scheme.eq_ignore_ascii_case("basic") {
                return false;
            }
            let expected = format!("{}:{}", self.user, self.password);
            STANDARD
                .decode(token.trim())
                .is_ok_and(|decoded| decoded == expected.as_bytes())
        }
    }

    /// The gateway's answer to one request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Answer {
        /// `101`: the connection becomes a WebSocket (with this `Sec-WebSocket-Accept`).
        Upgrade { accept: String },
        /// `401` with a Basic challenge; the connection stays open for the next try.
        Challenge { had_credentials: bool },
        /// Another error status; the connection closes after it.
        Refuse { status: u16, detail: &'static str },
    }

    impl Answer {
        pub(crate) fn refuse(status: u16, detail: &'static str) -> Answer {
            Answer::Refuse { status, detail }
        }
    }

    /// Decides the answer to `req`: path, method, authentication, then the WebSocket upgrade.
    pub(crate) fn answer(req: &Request, creds: &Credentials) -> Answer {
        let path = req.path.split('?').next().unwrap_or_default();
        if !path.eq_ignore_ascii_case(PATH) {
            return Answer::refuse(404, "RD Gateway requests go to /remoteDesktopGateway/");
        }
        if req.method != "RDG_OUT_DATA" && req.method != "RDG_IN_DATA" {
            return Answer::refuse(405, "only RDG_OUT_DATA (with a WebSocket upgrade) is served here");
        }
        let authorization = req.header("authorization");
        if !authorization.is_some_and(|a| creds.accept(a)) {
            return Answer::Challenge {
                had_credentials: authorization.is_some(),
            };
        }
        if req.method == "RDG_IN_DATA" {
            return Answer::refuse(501, "the legacy HTTP transport (RDG_IN_DATA) is not implemented");
        }
        if !req.lists("upgrade", "websocket") || !req.lists("connection", "upgrade") {
            return Answer::refuse(
                501,
                "the legacy HTTP transport (RDG_OUT_DATA without a WebSocket upgrade) is not implemented",
            );
        }
        match (
            req.header("sec-websocket-key"),
            req.header("sec-websocket-version"),
        ) {
            (Some(key), Some(version)) if version.trim() == "13" => Answer::Upgrade {
                accept: derive_accept_key(key.trim().as_bytes()),
            },
            _ => Answer::refuse(400, "a WebSocket upgrade needs Sec-WebSocket-Key and version 13"),
        }
    }

    /// The bytes of `answer` on the wire.
    pub(crate) fn render(answer: &Answer) -> Vec<u8> {
        match answer {
            Answer::Upgrade { accept } => format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ),
            Answer::Challenge { .. } => format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"{REALM}\"\r\nContent-Length: 0\r\n\r\n"
            ),
            Answer::Refuse { status, detail } => {
                let reason = match status {
                    400 => "Bad Request",
                    404 => "Not Found",
                    405 => "Method Not Allowed",
                    431 => "Request Header Fields Too Large",
                    _ => "Not Implemented",
                };
                format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{detail}\n",
                    detail.len() + 1
                )
            }
        }
        .into_bytes()
    }
}

// ---------------------------------------------------------------------------------------------------------

mod wire {
    //! MS-TSGU HTTP transport packets (2.2.10): decoding what the client sends, encoding the gateway's answers.
    //! Every packet starts with an HTTP_PACKET_HEADER: type (u16), reserved (u16), length of the whole packet
    //! (u32), all little-endian.

    use std::fmt;

    pub(crate) const HANDSHAKE_REQUEST: u16 = 0x01;
    pub(crate) const HANDSHAKE_RESPONSE: u16 = 0x02;
    pub(crate) const TUNNEL_CREATE: u16 = 0x04;
    pub(crate) const TUNNEL_RESPONSE: u16 = 0x05;
    pub(crate) const TUNNEL_AUTH: u16 = 0x06;
    pub(crate) const TUNNEL_AUTH_RESPONSE: u16 = 0x07;
    pub(crate) const CHANNEL_CREATE: u16 = 0x08;
    pub(crate) const CHANNEL_RESPONSE: u16 = 0x09;
    pub(crate) const DATA: u16 = 0x0A;
    pub(crate) const KEEPALIVE: u16 = 0x0D;
    pub(crate) const CLOSE_CHANNEL: u16 = 0x10;
    pub(crate) const CLOSE_CHANNEL_RESPONSE: u16 = 0x11;

    const HEADER_LEN: usize = 8;
    /// HTTP_TUNNEL_RESPONSE_FIELD_TUNNEL_ID | HTTP_TUNNEL_RESPONSE_FIELD_CAPS (2.2.5.3.8).
    const TUNNEL_FIELDS_ID_CAPS: u16 = 0x1 | 0x2;
    /// HTTP_TUNNEL_AUTH_RESPONSE_FIELD_REDIR_FLAGS | HTTP_TUNNEL_AUTH_RESPONSE_FIELD_IDLE_TIMEOUT (2.2.5.3.5).
    const AUTH_FIELDS_REDIR_IDLE: u16 = 0x1 | 0x2;
    /// HTTP_CHANNEL_RESPONSE_FIELD_CHANNELID (2.2.5.3.1).
    const CHANNEL_FIELD_ID: u16 = 0x1;

    /// A packet from the client; `Data` borrows the WebSocket message it came in.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) enum ClientPacket<'a> {
        HandshakeRequest {
            ver_major: u8,
            ver_minor: u8,
            extended_auth: u16,
        },
        TunnelCreate {
            caps: u32,
            fields_present: u16,
        },
        TunnelAuth {
            client_name: String,
        },
        ChannelCreate {
            resources: Vec<String>,
            port: u16,
            protocol: u16,
        },
        Data(&'a [u8]),
        Keepalive,
        CloseChannel {
            status: u32,
        },
        CloseChannelResponse {
            status: u32,
        },
        /// A valid header of a type the gateway does not serve (extended auth, ...).
        Unsupported {
            packet_type: u16,
        },
    }

    impl ClientPacket<'_> {
        /// The spec's name, for logs.
        pub(crate) fn name(&self) -> &'static str {
            match self {
                ClientPacket::HandshakeRequest { .. } => "HANDSHAKE_REQUEST",
                ClientPacket::TunnelCreate { .. } => "TUNNEL_CREATE",
                ClientPacket::TunnelAuth { .. } => "TUNNEL_AUTH",
                ClientPacket::ChannelCreate { .. } => "CHANNEL_CREATE",
                ClientPacket::Data(_) => "DATA",
                ClientPacket::Keepalive => "KEEPALIVE",
                ClientPacket::CloseChannel { .. } => "CLOSE_CHANNEL",
                ClientPacket::CloseChannelResponse { .. } => "CLOSE_CHANNEL_RESPONSE",
                ClientPacket::Unsupported { .. } => "unsupported packet",
            }
        }
    }

    /// Why a message is not a valid packet.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct WireError(String);

    impl fmt::Display for WireError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }

    struct Reader<'a> {
        buf: &'a [u8],
    }

    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], WireError> {
            if self.buf.len() < n {
                return Err(WireError(format!("truncated at {what}")));
            }
            let (head, rest) = self.buf.split_at(n);
            self.buf = rest;
            Ok(head)
        }

        fn u8(&mut self, what: &str) -> Result<u8, WireError> {
            Ok(self.take(1, what)?[0])
        }

        fn u16(&mut self, what: &str) -> Result<u16, WireError> {
            let b = self.take(2, what)?;
            Ok(u16::from_le_bytes([b[0], b[1]]))
        }

        fn u32(&mut self, what: &str) -> Result<u32, WireError> {
            let b = self.take(4, what)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }

        /// An HTTP_UNICODE_STRING (2.2.10.22): byte count (u16), then UTF-16LE, usually NUL-terminated.
        fn unicode_string(&mut self, what: &str) -> Result<String, WireError> {
            let len = usize::from(self.u16(what)?);
            let bytes = self.take(len, what)?;
            if len % 2 != 0 {
                return Err(WireError(format!("{what}: odd UTF-16 byte count {len}")));
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let text =
                String::from_utf16(&units).map_err(|_| WireError(format!("{what}: invalid UTF-16")))?;
            Ok(text.trim_end_matches('\0').to_owned())
        }
    }

    /// Decodes one packet; the header's length must be the message's length.
    pub(crate) fn decode(message: &[u8]) -> Result<ClientPacket<'_>, WireError> {
        let mut r = Reader { buf: message };
        let packet_type = r.u16("packetType")?;
        let _reserved = r.u16("reserved")?;
        let length = r.u32("packetLength")?;
        if usize::try_from(length).ok() != Some(message.len()) {
            return Err(WireError(format!(
                "packet type 0x{packet_type:02x}: header says {length} bytes, the message has {}",
                message.len()
            )));
        }
        let packet = match packet_type {
            HANDSHAKE_REQUEST => {
                let ver_major = r.u8("verMajor")?;
                let ver_minor = r.u8("verMinor")?;
                let _client_version = r.u16("clientVersion")?;
                let extended_auth = r.u16("extendedAuth")?;
                ClientPacket::HandshakeRequest {
                    ver_major,
                    ver_minor,
                    extended_auth,
                }
            }
            TUNNEL_CREATE => {
                let caps = r.u32("capsFlags")?;
                let fields_present = r.u16("fieldsPresent")?;
                let _reserved = r.u16("reserved")?;
                // The optional part (reauth context, PAA cookie) is not used: skip it.
                r.buf = &[];
                ClientPacket::TunnelCreate { caps, fields_present }
            }
            TUNNEL_AUTH => {
                let _fields_present = r.u16("fieldsPresent")?;
                let client_name = r.unicode_string("clientName")?;
                // The optional statement of health is not used: skip it.
                r.buf = &[];
                ClientPacket::TunnelAuth { client_name }
            }
            CHANNEL_CREATE => {
                let resources = usize::from(r.u8("numResources")?);
                let alternates = usize::from(r.u8("numAltResources")?);
                let port = r.u16("port")?;
                let protocol = r.u16("protocol")?;
                let names = (0..resources + alternates)
                    .map(|_| r.unicode_string("resource name"))
                    .collect::<Result<Vec<_>, _>>()?;
                ClientPacket::ChannelCreate {
                    resources: names,
                    port,
                    protocol,
                }
            }
            DATA => {
                let len = usize::from(r.u16("cbDataLen")?);
                ClientPacket::Data(r.take(len, "data")?)
            }
            KEEPALIVE => ClientPacket::Keepalive,
            CLOSE_CHANNEL => ClientPacket::CloseChannel {
                status: r.u32("statusCode")?,
            },
            CLOSE_CHANNEL_RESPONSE => ClientPacket::CloseChannelResponse {
                status: r.u32("statusCode")?,
            },
            other => {
                r.buf = &[];
                ClientPacket::Unsupported { packet_type: other }
            }
        };
        if !r.buf.is_empty() {
            return Err(WireError(format!(
                "{}: {} bytes after the packet's fields",
                packet.name(),
                r.buf.len()
            )));
        }
        Ok(packet)
    }

    /// A packet: header, then `body`.
    fn packet(packet_type: u16, body: &[u8]) -> Vec<u8> {
        let length = u32::try_from(HEADER_LEN + body.len()).expect("gateway packets are small");
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&packet_type.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    /// HTTP_HANDSHAKE_RESPONSE_PACKET (2.2.10.11): version 1.0, serverVersion 0 (the spec says it MUST be).
    pub(crate) fn handshake_response(error_code: u32, extended_auth: u16) -> Vec<u8> {
        let mut body = error_code.to_le_bytes().to_vec();
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&extended_auth.to_le_bytes());
        packet(HANDSHAKE_RESPONSE, &body)
    }

    /// HTTP_TUNNEL_RESPONSE (2.2.10.20), with tunnel id and capabilities (2.2.10.21) when `accepted`.
    pub(crate) fn tunnel_response(status: u32, accepted: Option<(u32, u32)>) -> Vec<u8> {
        let mut body = 1u16.to_le_bytes().to_vec(); // serverVersion
        body.extend_from_slice(&status.to_le_bytes());
        let fields = if accepted.is_some() {
            TUNNEL_FIELDS_ID_CAPS
        } else {
            0
        };
        body.extend_from_slice(&fields.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        if let Some((tunnel_id, caps)) = accepted {
            body.extend_from_slice(&tunnel_id.to_le_bytes());
            body.extend_from_slice(&caps.to_le_bytes());
        }
        packet(TUNNEL_RESPONSE, &body)
    }

    /// HTTP_TUNNEL_AUTH_RESPONSE (2.2.10.16), with redirection flags and idle timeout (2.2.10.17) when given.
    pub(crate) fn tunnel_auth_response(error_code: u32, policy: Option<(u32, u32)>) -> Vec<u8> {
        let mut body = error_code.to_le_bytes().to_vec();
        let fields = if policy.is_some() {
            AUTH_FIELDS_REDIR_IDLE
        } else {
            0
        };
        body.extend_from_slice(&fields.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        if let Some((redirection_flags, idle_timeout_minutes)) = policy {
            body.extend_from_slice(&redirection_flags.to_le_bytes());
            body.extend_from_slice(&idle_timeout_minutes.to_le_bytes());
        }
        packet(TUNNEL_AUTH_RESPONSE, &body)
    }

    /// HTTP_CHANNEL_RESPONSE (2.2.10.4), with the channel id (2.2.10.5) when given.
    pub(crate) fn channel_response(error_code: u32, channel_id: Option<u32>) -> Vec<u8> {
        let mut body = error_code.to_le_bytes().to_vec();
        let fields = if channel_id.is_some() { CHANNEL_FIELD_ID } else { 0 };
        body.extend_from_slice(&fields.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        if let Some(id) = channel_id {
            body.extend_from_slice(&id.to_le_bytes());
        }
        packet(CHANNEL_RESPONSE, &body)
    }

    /// HTTP_DATA_PACKET (2.2.10.6). `payload` must fit cbDataLen (u16).
    pub(crate) fn data(payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len()).expect("the driver reads at most 16 KiB at a time");
        let mut body = len.to_le_bytes().to_vec();
        body.extend_from_slice(payload);
        packet(DATA, &body)
    }

    /// HTTP_CLOSE_PACKET (2.2.10.23) as CLOSE_CHANNEL or CLOSE_CHANNEL_RESPONSE.
    pub(crate) fn close(packet_type: u16, status: u32) -> Vec<u8> {
        packet(packet_type, &status.to_le_bytes())
    }
}

// ---------------------------------------------------------------------------------------------------------

mod policy {
    //! Which targets a channel may reach: `--allow HOST:PORT` entries, loopback only.

    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::str::FromStr;

    /// One `--allow` entry: the name as clients give it, the port, and the loopback addresses it stands for.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct AllowedTarget {
        name: String,
        port: u16,
        addrs: Vec<IpAddr>,
    }

    impl FromStr for AllowedTarget {
        type Err = String;

        fn from_str(text: &str) -> Result<Self, String> {
            let (host, port) = text
                .rsplit_once(':')
                .ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("{text:?}: {port:?} is not a port"))?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let name = host.to_ascii_lowercase();
            let addrs = if name == "localhost" {
                vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
            } else {
                match name.parse::<IpAddr>() {
                    Ok(ip) if ip.is_loopback() => vec![ip],
                    _ => {
                        return Err(format!(
                            "{text:?}: the test gateway only reaches loopback targets (127.x.y.z, ::1, localhost)"
                        ));
                    }
                }
            };
            Ok(AllowedTarget { name, port, addrs })
        }
    }

    /// The addresses to try for the first resource name that matches an entry with the same port, if any.
    pub(crate) fn choose(
        allow: &[AllowedTarget],
        resources: &[String],
        port: u16,
    ) -> Option<Vec<SocketAddr>> {
        resources.iter().find_map(|resource| {
            let name = resource
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            allow
                .iter()
                .find(|a| a.port == port && a.name == name)
                .map(|a| a.addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
        })
    }
}

// ---------------------------------------------------------------------------------------------------------

mod session {
    //! The tunnel state machine of one connection (MS-TSGU 3.3.5.2 to 3.3.5.6): handshake, tunnel, tunnel
    //! authorization, channel, data, close. Pure: the driver feeds it packets and carries out each [`Step`].

    use super::wire::{self, ClientPacket};

    pub(crate) const E_PROXY_INTERNALERROR: u32 = 0x8007_59D8;
    pub(crate) const E_PROXY_RAP_ACCESSDENIED: u32 = 0x8007_59DA;
    pub(crate) const E_PROXY_TS_CONNECTFAILED: u32 = 0x8007_59DD;
    pub(crate) const E_PROXY_CAPABILITYMISMATCH: u32 = 0x8007_59E9;
    /// ERROR_CONNECTION_ABORTED, in the CLOSE_CHANNEL sent when the target connection breaks.
    pub(crate) const E_PROXY_CONNECTIONABORTED: u32 = 0x0000_04D4;
    /// HTTP_CAPABILITY_MESSAGING_CONSENT_SIGN | HTTP_CAPABILITY_MESSAGING_SERVICE_MSG: fine to grant, since this
    /// gateway never sends such messages. Not granted: SoH, idle timeout, reauthentication, UDP.
    const GRANTED_CAPS: u32 = 0x4 | 0x8;
    /// HTTP_TUNNEL_REDIR_ENABLE_ALL (2.2.5.3.7): the client may redirect every kind of device.
    pub(crate) const REDIRECT_ENABLE_ALL: u32 = 0x8000_0000;
    /// The one channel of a tunnel.
    const CHANNEL_ID: u32 = 1;

    /// Which response carries `--reject-code`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
    pub(crate) enum RejectAt {
        Handshake,
        Tunnel,
        TunnelAuth,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Phase {
        Handshake,
        Tunnel,
        TunnelAuth,
        Channel,
        Connecting,
        Open,
        Closed,
    }

    /// What the driver does next.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) enum Step<'a> {
        /// Send this packet to the client.
        Reply(Vec<u8>),
        /// Send this packet, then end the connection.
        ReplyAndClose(Vec<u8>),
        /// Check the policy, connect, and report with [`Session::channel_opened`] or [`Session::channel_refused`].
        OpenChannel { resources: Vec<String>, port: u16 },
        /// Write these bytes to the target.
        Forward(&'a [u8]),
        /// Nothing (a keepalive).
        Nothing,
        /// The tunnel is over.
        End(&'static str),
        /// The client broke the protocol: end the connection.
        Violation(String),
    }

    #[derive(Debug)]
    pub(crate) struct Session {
        phase: Phase,
        reject: Option<(RejectAt, u32)>,
        tunnel_id: u32,
    }

    impl Session {
        pub(crate) fn new(reject: Option<(RejectAt, u32)>, tunnel_id: u32) -> Session {
            Session {
                phase: Phase::Handshake,
                reject,
                tunnel_id,
            }
        }

        fn rejected_at(&self, at: RejectAt) -> Option<u32> {
            self.reject.filter(|(when, _)| *when == at).map(|(_, code)| code)
        }

        pub(crate) fn on_packet<'a>(&mut self, packet: ClientPacket<'a>) -> Step<'a> {
            match (self.phase, packet) {
                (_, ClientPacket::Keepalive) => Step::Nothing,
                (Phase::Handshake, ClientPacket::HandshakeRequest { ver_major, .. }) => {
                    if let Some(code) = self.rejected_at(RejectAt::Handshake) {
                        self.phase = Phase::Closed;
                        return Step::ReplyAndClose(wire::handshake_response(code, 0));
                    }
                    if ver_major != 1 {
                        self.phase = Phase::Closed;
                        return Step::ReplyAndClose(wire::handshake_response(E_PROXY_CAPABILITYMISMATCH, 0));
                    }
                    self.phase = Phase::Tunnel;
                    // HTTP_EXTENDED_AUTH_NONE: the client authenticated in HTTP already.
                    Step::Reply(wire::handshake_response(0, 0))
                }
                (Phase::Tunnel, ClientPacket::TunnelCreate { caps, .. }) => {
                    if let Some(code) = self.rejected_at(RejectAt::Tunnel) {
                        self.phase = Phase::Closed;
                        return Step::ReplyAndClose(wire::tunnel_response(code, None));
                    }
                    self.phase = Phase::TunnelAuth;
                    Step::Reply(wire::tunnel_response(
                        0,
                        Some((self.tunnel_id, caps & GRANTED_CAPS)),
                    ))
                }
                (Phase::TunnelAuth, ClientPacket::TunnelAuth { .. }) => {
                    if let Some(code) = self.rejected_at(RejectAt::TunnelAuth) {
                        self.phase = Phase::Closed;
                        return Step::ReplyAndClose(wire::tunnel_auth_response(code, None));
                    }
                    self.phase = Phase::Channel;
                    Step::Reply(wire::tunnel_auth_response(0, Some((REDIRECT_ENABLE_ALL, 0))))
                }
                (
                    Phase::Channel,
                    ClientPacket::ChannelCreate {
                        resources,
                        port,
                        protocol,
                    },
                ) => {
                    // 2.2.10.2: protocol MUST be 3 (TCP).
                    if resources.is_empty() || protocol != 3 {
                        self.phase = Phase::Closed;
                        return Step::ReplyAndClose(wire::channel_response(E_PROXY_INTERNALERROR, None));
                    }
                    self.phase = Phase::Connecting;
                    Step::OpenChannel { resources, port }
                }
                (Phase::Open, ClientPacket::Data(data)) => Step::Forward(data),
                (Phase::Open, ClientPacket::CloseChannel { .. }) => {
                    self.phase = Phase::Closed;
                    Step::ReplyAndClose(wire::close(wire::CLOSE_CHANNEL_RESPONSE, 0))
                }
                (Phase::Open, ClientPacket::CloseChannelResponse { .. }) => {
                    self.phase = Phase::Closed;
                    Step::End("the client confirmed the gateway's CLOSE_CHANNEL")
                }
                (phase, packet) => Step::Violation(format!("{} in phase {phase:?}", packet.name())),
            }
        }

        /// The target is connected: the CHANNEL_RESPONSE to send (before any data from the target).
        pub(crate) fn channel_opened(&mut self) -> Vec<u8> {
            self.phase = Phase::Open;
            wire::channel_response(0, Some(CHANNEL_ID))
        }

        /// The channel is refused with `code`: the CHANNEL_RESPONSE to send before closing.
        pub(crate) fn channel_refused(&mut self, code: u32) -> Vec<u8> {
            self.phase = Phase::Closed;
            wire::channel_response(code, None)
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The driver: sockets, TLS, WebSocket, one task per client.

/// How long TLS and HTTP may take before the tunnel starts.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to a target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most the gateway reads from a target at once (one DATA packet).
const CHUNK: usize = 16 * 1024;
/// Packets queued towards one client.
const OUTBOX: usize = 16;
/// The largest WebSocket message or frame accepted (a DATA packet is at most 8 + 2 + 65535 bytes).
const MAX_MESSAGE: usize = 128 * 1024;

/// What every connection task shares.
struct Shared {
    acceptor: TlsAcceptor,
    creds: Credentials,
    allow: Vec<AllowedTarget>,
    reject: Option<(RejectAt, u32)>,
    next_tunnel_id: AtomicU32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the tokio runtime");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "test-gateway cannot serve");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: the test gateway listens on loopback only",
            args.listen
        );
    }
    let acceptor = TlsAcceptor::from(Arc::new(server_config(&args.cert, &args.key)?));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listen on {}", args.listen))?;
    let local = listener.local_addr().context("the bound address")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {local}").context("write to stdout")?;
        out.flush().context("flush stdout")?;
    }
    info!(
        %local,
        user = %args.user,
        allow = ?args.allow,
        reject_code = ?args.reject_code.map(|c| format!("0x{c:08x}")),
        reject_at = ?args.reject_at,
        "RD Gateway listening"
    );
    let shared = Arc::new(Shared {
        acceptor,
        creds: Credentials {
            user: args.user,
            password: args.password,
        },
        allow: args.allow,
        reject: args.reject_code.map(|code| (args.reject_at, code)),
        next_tunnel_id: AtomicU32::new(1),
    });
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let span = tracing::info_span!("client", %peer);
        tokio::spawn(
            async move {
                info!("connection accepted");
                match serve(tcp, &shared).await {
                    Ok(()) => info!("connection closed"),
                    Err(e) => warn!(error = format!("{e:#}"), "connection failed"),
                }
            }
            .instrument(span),
        );
    }
}

/// The rustls server configuration (ring provider) for the certificate and key files.
fn server_config(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("read certificates from {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{}: no certificate in the file", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("read the private key from {}", key.display()))?;
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .context("the certificate and key do not make a TLS server configuration")
}

/// One client: TLS, the HTTP exchange, then the tunnel.
async fn serve(tcp: TcpStream, shared: &Shared) -> anyhow::Result<()> {
    tcp.set_nodelay(true).context("TCP_NODELAY")?;
    let tls = tokio::time::timeout(SETUP_TIMEOUT, shared.acceptor.accept(tcp))
        .await
        .context("TLS handshake timed out")?
        .context("TLS handshake")?;
    debug!("TLS established");
    let upgraded = tokio::time::timeout(SETUP_TIMEOUT, http_exchange(tls, &shared.creds))
        .await
        .context("the HTTP exchange timed out")??;
    let Some((tls, rest)) = upgraded else {
        return Ok(());
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let ws = WebSocketStream::from_partially_read(tls, rest, Role::Server, Some(config)).await;
    tunnel(ws, shared).await
}

/// Answers HTTP requests until one upgrades to a WebSocket (returns the stream and any bytes read past the
/// request) or the client goes away or is refused (`None`).
async fn http_exchange(
    mut tls: TlsStream<TcpStream>,
    creds: &Credentials,
) -> anyhow::Result<Option<(TlsStream<TcpStream>, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let (request, head_len) = loop {
            match http::parse(&buf).map_err(|e| anyhow!(e))? {
                Head::Complete { request, len } => break (request, len),
                Head::Partial if buf.len() >= http::MAX_HEAD => {
                    let refusal = Answer::refuse(431, "the request head is over 16 KiB");
                    tls.write_all(&http::render(&refusal)).await?;
                    bail!("a request head over 16 KiB");
                }
                Head::Partial => {}
            }
            let n = tls.read(&mut chunk).await.context("read the HTTP request")?;
            if n == 0 {
                if buf.is_empty() {
                    debug!("the client closed the connection between requests");
                    return Ok(None);
                }
                bail!("the client closed the connection in the middle of a request");
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let answer = match request.body_len() {
            Ok(body_len) => {
                while buf.len() < head_len + body_len {
                    let n = tls.read(&mut chunk).await.context("read the request body")?;
                    if n == 0 {
                        bail!("the client closed the connection in the middle of a request body");
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                buf.drain(..head_len + body_len);
                http::answer(&request, creds)
            }
            Err(refusal) => refusal,
        };
        let connection_id = request.header("rdg-connection-id").unwrap_or("-").to_owned();
        match &answer {
            Answer::Upgrade { .. } => info!(
                method = %request.method, %connection_id, user = %creds.user,
                "authenticated (Basic): 101 Switching Protocols to WebSocket"
            ),
            Answer::Challenge {
                had_credentials: false,
            } => info!(
                method = %request.method, %connection_id, "no credentials: 401 with a Basic challenge"
            ),
            Answer::Challenge {
                had_credentials: true,
            } => warn!(
                method = %request.method, %connection_id, "wrong or unsupported credentials: 401"
            ),
            Answer::Refuse { status, detail } => warn!(
                method = %request.method, path = %request.path, status, detail, "request refused"
            ),
        }
        tls.write_all(&http::render(&answer))
            .await
            .context("write the HTTP answer")?;
        tls.flush().await.context("flush the HTTP answer")?;
        match answer {
            Answer::Upgrade { .. } => return Ok(Some((tls, buf))),
            Answer::Challenge { .. } => {}
            Answer::Refuse { .. } => {
                let _ = tls.shutdown().await;
                return Ok(None);
            }
        }
    }
}

/// The open channel: the write half of the target connection, and the task pumping its read half to the
/// client (aborted when the channel goes away).
struct Channel {
    target: OwnedWriteHalf,
    pump: JoinHandle<()>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// The MS-TSGU part: packets in binary WebSocket messages, until the tunnel ends.
async fn tunnel(ws: WebSocketStream<TlsStream<TcpStream>>, shared: &Shared) -> anyhow::Result<()> {
    let (mut sink, mut stream) = ws.split();
    let (to_client, mut outbox) = mpsc::channel::<Vec<u8>>(OUTBOX);
    // One writer owns the sink; the session (answers) and the pump (target data) queue packets for it.
    let writer = tokio::spawn(
        async move {
            while let Some(packet) = outbox.recv().await {
                sink.send(Message::binary(packet)).await?;
            }
            sink.close().await
        }
        .in_current_span(),
    );
    let result = packets(&mut stream, to_client, shared).await;
    match tokio::time::timeout(Duration::from_secs(5), writer).await {
        Ok(Ok(Ok(()))) => debug!("WebSocket closed"),
        Ok(Ok(Err(e))) => debug!(error = %e, "WebSocket close"),
        Ok(Err(e)) => debug!(error = %e, "WebSocket writer task"),
        Err(_) => debug!("WebSocket close timed out"),
    }
    result
}

/// Reads packets, steps the session and carries out each step. Dropping `to_client` (and the channel's pump)
/// on return lets the writer send what is queued and close the WebSocket.
async fn packets(
    stream: &mut SplitStream<WebSocketStream<TlsStream<TcpStream>>>,
    to_client: mpsc::Sender<Vec<u8>>,
    shared: &Shared,
) -> anyhow::Result<()> {
    let tunnel_id = shared.next_tunnel_id.fetch_add(1, Ordering::Relaxed);
    let mut session = Session::new(shared.reject, tunnel_id);
    let mut channel: Option<Channel> = None;
    while let Some(message) = stream.next().await {
        let message = match message {
            Ok(Message::Binary(message)) => message,
            Ok(Message::Close(_)) => {
                debug!("the client closed the WebSocket");
                return Ok(());
            }
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(Message::Text(_)) => bail!("a text message: MS-TSGU packets travel in binary messages"),
            Err(e) if channel.is_some() => {
                // ironrdp-mstsgu drops the connection without a close frame after CLOSE_CHANNEL_RESPONSE.
                debug!(error = %e, "the WebSocket ended");
                return Ok(());
            }
            Err(e) => return Err(e).context("read the WebSocket"),
        };
        let packet = wire::decode(&message).map_err(|e| anyhow!("a bad packet: {e}"))?;
        log_packet(&packet);
        match session.on_packet(packet) {
            Step::Reply(packet) => queue(&to_client, packet).await?,
            Step::ReplyAndClose(packet) => {
                queue(&to_client, packet).await?;
                info!("tunnel ended by the gateway");
                return Ok(());
            }
            Step::OpenChannel { resources, port } => match open_target(&shared.allow, &resources, port).await
            {
                Ok(target) => {
                    let (from_target, to_target) = target.into_split();
                    // The CHANNEL_RESPONSE goes first: the client takes any other packet now for an error.
                    queue(&to_client, session.channel_opened()).await?;
                    let pump = tokio::spawn(pump(from_target, to_client.clone()).in_current_span());
                    channel = Some(Channel {
                        target: to_target,
                        pump,
                    });
                }
                Err(code) => {
                    queue(&to_client, session.channel_refused(code)).await?;
                    return Ok(());
                }
            },
            Step::Forward(data) => {
                let channel = channel.as_mut().context("DATA without a channel")?;
                if let Err(e) = channel.target.write_all(data).await {
                    warn!(error = %e, "writing to the target failed: CLOSE_CHANNEL");
                    queue(
                        &to_client,
                        wire::close(wire::CLOSE_CHANNEL, session::E_PROXY_CONNECTIONABORTED),
                    )
                    .await?;
                }
            }
            Step::Nothing => {}
            Step::End(why) => {
                info!(why, "tunnel ended");
                return Ok(());
            }
            Step::Violation(why) => bail!("protocol violation: {why}"),
        }
    }
    debug!("the WebSocket ended without a close frame");
    Ok(())
}

fn log_packet(packet: &wire::ClientPacket<'_>) {
    use wire::ClientPacket as P;
    match packet {
        P::Data(data) => trace!(len = data.len(), "DATA client -> target"),
        P::HandshakeRequest {
            ver_major,
            ver_minor,
            extended_auth,
        } => debug!(ver_major, ver_minor, extended_auth, "HANDSHAKE_REQUEST"),
        P::TunnelCreate { caps, fields_present } => debug!(
            caps = format!("0x{caps:x}"),
            fields_present = format!("0x{fields_present:x}"),
            "TUNNEL_CREATE"
        ),
        P::TunnelAuth { client_name } => info!(%client_name, "TUNNEL_AUTH"),
        P::ChannelCreate {
            resources,
            port,
            protocol,
        } => info!(?resources, port, protocol, "CHANNEL_CREATE"),
        P::CloseChannel { status } | P::CloseChannelResponse { status } => {
            debug!(
                status = format!("0x{status:08x}"),
                packet = packet.name(),
                "close"
            );
        }
        P::Keepalive => debug!("KEEPALIVE"),
        P::Unsupported { packet_type } => debug!(packet_type, "unsupported packet"),
    }
}

async fn queue(to_client: &mpsc::Sender<Vec<u8>>, packet: Vec<u8>) -> anyhow::Result<()> {
    to_client
        .send(packet)
        .await
        .map_err(|_| anyhow!("the WebSocket writer is gone"))
}

/// Connects to the target if the policy allows it, or returns the E_PROXY code for the CHANNEL_RESPONSE.
async fn open_target(allow: &[AllowedTarget], resources: &[String], port: u16) -> Result<TcpStream, u32> {
    let Some(addrs) = policy::choose(allow, resources, port) else {
        warn!(?resources, port, "not in --allow: E_PROXY_RAP_ACCESSDENIED");
        return Err(session::E_PROXY_RAP_ACCESSDENIED);
    };
    for addr in addrs {
        debug_assert!(addr.ip().is_loopback(), "policy only yields loopback addresses");
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                info!(%addr, "channel open");
                return Ok(stream);
            }
            Ok(Err(e)) => warn!(%addr, error = %e, "connecting to the target failed"),
            Err(_) => warn!(%addr, "connecting to the target timed out"),
        }
    }
    warn!(
        ?resources,
        port, "no address of the target answered: E_PROXY_TS_CONNECTFAILED"
    );
    Err(session::E_PROXY_TS_CONNECTFAILED)
}

/// Target to client: DATA packets, then CLOSE_CHANNEL when the target ends its side or fails.
async fn pump(mut from_target: OwnedReadHalf, to_client: mpsc::Sender<Vec<u8>>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let (packet, last) = match from_target.read(&mut buf).await {
            Ok(0) => {
                info!("the target closed the connection: CLOSE_CHANNEL");
                (wire::close(wire::CLOSE_CHANNEL, 0), true)
            }
            Ok(n) => {
                trace!(len = n, "DATA target -> client");
                (wire::data(&buf[..n]), false)
            }
            Err(e) => {
                warn!(error = %e, "reading from the target failed: CLOSE_CHANNEL");
                (
                    wire::close(wire::CLOSE_CHANNEL, session::E_PROXY_CONNECTIONABORTED),
                    true,
                )
            }
        };
        if to_client.send(packet).await.is_err() || last {
            return;
        }
    }
}

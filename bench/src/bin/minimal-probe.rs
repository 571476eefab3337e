//! The smallest probe that learns what `rdpl check` learns about the security layer: one TCP connection, one
//! X.224 Connection Request / Confirm asking for SSL|HYBRID|HYBRID_EX (0x0B), then one TLS handshake with a
//! verifier that accepts any certificate (handshake signatures are still checked, as rdpl does). Nothing
//! else: no DNS, no side probes, no certificate assessment, no files.
//!
//! It uses the same runtime set-up as rdpl (tokio multi-thread, 2 workers) and the same TLS stack (rustls
//! with the ring provider through tokio-rustls), so process start-up is comparable.
//!
//! Usage: `minimal-probe IP:PORT [DEADLINE_MS]` (default deadline 10 s; `bench/fleet` gives rdpl's per-step 3 s). Prints one line (`ssl TLSv1_3 TLS13_AES_256_GCM_SHA384 cert=1234B`) and
//! exits 0, or prints the error on stderr and exits 1.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// TPKT (4) + X.224 CR (7, no cookie) + RDP_NEG_REQ (8) requesting SSL|HYBRID|HYBRID_EX.
const CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, // TPKT version 3, length 19
    0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224: LI 14, CR, dst-ref, src-ref, class 0
    0x01, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, // RDP_NEG_REQ, flags 0, length 8, protocols 0x0B
];

/// Everything must be done by then (so a broken server can't hang the benchmark).
const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn probe(addr: SocketAddr) -> anyhow::Result<String> {
    let mut tcp = TcpStream::connect(addr).await.context("TCP connect")?;
    tcp.write_all(&CONNECTION_REQUEST)
        .await
        .context("send the Connection Request")?;
    let mut header = [0u8; 4];
    tcp.read_exact(&mut header)
        .await
        .context("read the TPKT header")?;
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if header[0] != 3 || !(11..=256).contains(&len) {
        bail!("not a Connection Confirm: {header:02x?}");
    }
    let mut confirm = vec![0u8; len - 4];
    tcp.read_exact(&mut confirm)
        .await
        .context("read the Connection Confirm")?;
    // confirm: X.224 LI, CC code, dst-ref(2), src-ref(2), class, then RDP_NEG_RSP/FAILURE (type, flags, len(2), value(4)).
    if confirm.len() < 15 || confirm[1] & 0xf0 != 0xd0 {
        bail!("no negotiation data in the Connection Confirm: {confirm:02x?}");
    }
    let value = u32::from_le_bytes([confirm[11], confirm[12], confirm[13], confirm[14]]);
    let selected = match (confirm[7], value) {
        (0x02, 1) => "ssl",
        (0x02, 2) => "hybrid",
        (0x02, 8) => "hybrid_ex",
        (0x02, v) => bail!("the server selected protocol {v:#x}, not a TLS-based one"),
        (0x03, code) => bail!("RDP_NEG_FAILURE {code}"),
        (t, _) => bail!("unknown negotiation type {t:#x}"),
    };

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = connector
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .context("TLS handshake")?;
    let (_, conn) = tls.get_ref();
    let version = conn
        .protocol_version()
        .map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"));
    let cipher = conn
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_owned(), |s| format!("{:?}", s.suite()));
    let cert_len = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map_or(0, |c| c.len());
    Ok(format!("{selected} {version} {cipher} cert={cert_len}B"))
}

fn main() -> std::process::ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let deadline = std::env::args()
        .nth(2)
        .and_then(|ms| ms.parse().ok())
        .map_or(DEADLINE, Duration::from_millis);
    let result = arg
        .parse::<SocketAddr>()
        .map_err(|e| anyhow::anyhow!("usage: minimal-probe IP:PORT ({arg:?}: {e})"))
        .and_then(|addr| {
            // The same runtime rdpl builds for `check`.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async {
                tokio::time::timeout(deadline, probe(addr))
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {deadline:?}")))
            })
        });
    match result {
        Ok(line) => {
            let _ = writeln!(std::io::stdout(), "{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "minimal-probe: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

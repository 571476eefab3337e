//! A loopback RDP endpoint for `rdpl demo`: it answers X.224 negotiation like a TLS-only RDP server (PROTOCOL_SSL
//! when the client asks for it, SSL_REQUIRED_BY_SERVER otherwise) and completes TLS with a certificate made at
//! start-up (self-signed, for `localhost` and 127.0.0.1). It goes no further than TLS: enough for a real
//! pre-flight report without a server of your own.

use std::net::SocketAddr;
use std::sync::Arc;

use ironrdp_pdu::nego::{ConnectionConfirm, ConnectionRequest, FailureCode, ResponseFlags, SecurityProtocol};
use ironrdp_pdu::x224::X224;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running endpoint; dropping it stops accepting.
#[derive(Debug)]
pub struct DemoServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tls_config() -> Result<Arc<rustls::ServerConfig>, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rdpl-demo.localhost");
    let now = ::time::OffsetDateTime::now_utc();
    params.not_before = now - ::time::Duration::days(1);
    params.not_after = now + ::time::Duration::days(365);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| e.to_string())?;
    let config = rustls::ServerConfig::builder_with_provider(crate::probe::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// Starts the endpoint on 127.0.0.1 (a free port).
pub async fn start() -> Result<DemoServer, String> {
    let config = tls_config()?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, config.clone()));
        }
    });
    Ok(DemoServer { addr, task })
}

async fn serve(mut stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let mut header = [0u8; 4];
    if stream.read_exact(&mut header).await.is_err() {
        return;
    }
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if header[0] != 3 || !(11..=512).contains(&len) {
        return;
    }
    let mut buf = vec![0u8; len];
    buf[..4].copy_from_slice(&header);
    if stream.read_exact(&mut buf[4..]).await.is_err() {
        return;
    }
    let requested = ironrdp_core::decode::<X224<ConnectionRequest>>(&buf)
        .map(|X224(cr)| cr.protocol)
        .unwrap_or(SecurityProtocol::empty());
    let confirm = if requested.contains(SecurityProtocol::SSL) {
        ConnectionConfirm::Response {
            flags: ResponseFlags::EXTENDED_CLIENT_DATA_SUPPORTED,
            protocol: SecurityProtocol::SSL,
        }
    } else {
        ConnectionConfirm::Failure {
            code: FailureCode::SSL_REQUIRED_BY_SERVER,
        }
    };
    let Ok(bytes) = ironrdp_core::encode_vec(&X224(confirm)) else {
        return;
    };
    if stream.write_all(&bytes).await.is_err() || !requested.contains(SecurityProtocol::SSL) {
        return;
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    if let Ok(mut tls) = acceptor.accept(stream).await {
        // Hold the session until the client goes away.
        let mut sink = [0u8; 1024];
        while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
    }
}

//! The tunnel through an RD Gateway ([MS-TSGU]) with ironrdp-mstsgu: WebSocket transport (mstsgu falls back
//! to the legacy HTTP transport itself), Negotiate/NTLM/Basic authentication with the session's
//! credentials. The gateway's certificate gets the same decision as the server's: trusted by the platform,
//! or exactly the one pre-flight saw.

use std::sync::Arc;

use ironrdp_mstsgu::{GwClient, GwConnectTarget, GwErrorKind};
use secrecy::ExposeSecret as _;

use super::connect::Transport;
use super::target::{Endpoint, GatewayTarget, Login};
use rdpl_core::login::{Failure, FailureKind, GatewayRefusal, Stage};

/// Opens the tunnel to `endpoint` (its name and port; the gateway resolves the name), introducing rdpl as
/// `client_name`.
pub async fn open(
    gw: &GatewayTarget,
    endpoint: &Endpoint,
    login: &Login,
    client_name: &str,
) -> Result<Box<dyn Transport>, Failure> {
    let user = match &login.domain {
        Some(d) if !d.is_empty() => format!("{d}\\{}", login.user),
        _ => login.user.clone(),
    };
    let target = GwConnectTarget {
        gw_endpoint: gw.endpoint.clone(),
        gw_user: user,
        gw_pass: login.password.expose_secret().to_owned(),
        smart_card: None,
        server: endpoint.server_name.clone(),
    };
    let expected = gw.sha256.clone();
    let callback: ironrdp_tls::CertificateValidationCallback =
        Arc::new(move |leaf: &[u8], _endpoint, _error| {
            super::connect::leaf_allowed(expected.as_deref(), leaf)
        });
    crate::probe::tls::install_provider();
    let (client, _local) = GwClient::connect_with_port_and_certificate_validation(
        &target,
        client_name,
        endpoint.addr.port(),
        ironrdp_tls::CertificateValidation::Strict,
        Some(callback),
    )
    .await
    .map_err(|e| refusal(&e))?;
    Ok(Box::new(pump(client)))
}

/// ironrdp-mstsgu 0.1's client puts each write into one DATA packet of at most 8182 bytes (a larger write
/// breaks the tunnel), and its worker can deadlock when the caller writes while not reading. The session
/// gets one end of an in-memory pipe instead; a task moves bytes between the other end and the tunnel,
/// reading and writing at the same time, in pieces the tunnel takes.
fn pump(client: GwClient) -> tokio::io::DuplexStream {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const MAX_WRITE: usize = 8182;
    let (ours, theirs) = tokio::io::duplex(256 * 1024);
    let (mut gw_read, mut gw_write) = tokio::io::split(client);
    let (mut pipe_read, mut pipe_write) = tokio::io::split(theirs);
    tokio::spawn(async move {
        let up = async {
            let mut buf = vec![0u8; MAX_WRITE];
            loop {
                let n = pipe_read.read(&mut buf).await?;
                if n == 0 {
                    return gw_write.shutdown().await;
                }
                gw_write.write_all(&buf[..n]).await?;
                gw_write.flush().await?;
            }
        };
        let down = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                // The client reports the end of the tunnel as an error, not as a zero-length read.
                let n: usize = gw_read.read(&mut buf).await.unwrap_or_default();
                if n == 0 {
                    return pipe_write.shutdown().await;
                }
                pipe_write.write_all(&buf[..n]).await?;
            }
        };
        // Either direction ending ends the tunnel (the other future is dropped, which closes its half).
        let r: std::io::Result<()> = tokio::select! {
            r = up => r,
            r = down => r,
        };
        if let Err(e) = r {
            tracing::debug!("gateway tunnel pump: {e}");
        }
    });
    ours
}

fn refusal(e: &ironrdp_error::Error<GwErrorKind>) -> Failure {
    let kind = match e.kind() {
        GwErrorKind::HttpStatus(s) => GatewayRefusal::Http(*s),
        GwErrorKind::GatewayCode(c) => GatewayRefusal::Code(*c),
        _ => GatewayRefusal::Other,
    };
    let mut detail = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        detail.push_str(": ");
        detail.push_str(&c.to_string());
        cur = c.source();
    }
    Failure::new(Stage::Gateway, FailureKind::Gateway(kind), detail)
}

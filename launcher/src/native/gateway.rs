//! The tunnel through an RD Gateway ([MS-TSGU]) with ironrdp-mstsgu: WebSocket transport (mstsgu falls back
//! to the legacy HTTP transport itself), Negotiate/NTLM/Basic authentication with the session's
//! credentials. The gateway's certificate gets the same decision as the server's: trusted by the platform,
//! or exactly the one pre-flight saw.

use std::sync::Arc;

use ironrdp_mstsgu::{GwClient, GwConnectTarget, GwErrorKind};
use ring::digest;
use secrecy::ExposeSecret as _;

use super::Login;
use super::connect::{Endpoint, Transport};
use super::failure::{Failure, FailureKind, GatewayRefusal, Stage};

/// The gateway to tunnel through.
#[derive(Debug, Clone)]
pub struct GatewayTarget {
    /// `host:port`.
    pub endpoint: String,
    /// SHA-256 (hex) of the gateway certificate pre-flight saw, accepted when the platform does not trust it.
    pub sha256: Option<String>,
}

/// Opens the tunnel to `endpoint` (its name and port; the gateway resolves the name).
pub async fn open(
    gw: &GatewayTarget,
    endpoint: &Endpoint,
    login: &Login,
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
            let got = hex::encode(digest::digest(&digest::SHA256, leaf));
            expected.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&got))
        });
    crate::probe::tls::install_provider();
    let (client, _local) = GwClient::connect_with_port_and_certificate_validation(
        &target,
        &super::connect::client_name(),
        endpoint.addr.port(),
        ironrdp_tls::CertificateValidation::Strict,
        Some(callback),
    )
    .await
    .map_err(|e| refusal(&e))?;
    Ok(Box::new(client))
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

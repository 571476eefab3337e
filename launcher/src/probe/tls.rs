//! TLS after the X.224 negotiation: complete the handshake, record version, cipher and the chain.
//!
//! The handshake uses a verifier that accepts any chain but still checks the handshake signatures, because
//! its only job is to *capture* what the server presents; rdpl's trust decision is made afterwards by
//! [`super::cert::assess`] (validity, name, pins) and [`platform_trust`] (the OS trust store through
//! rustls-platform-verifier). No data is ever sent over a connection made with the capturing verifier.

use std::sync::Arc;
use std::time::Duration;

use rdpl_profiles::name::Host;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, DigitallySignedStruct, Error, PeerIncompatible, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite};

use rdpl_core::preflight::cert::Trust;

/// rdpl's crypto provider (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide rustls provider, for libraries that build their own `ClientConfig` (ironrdp-tls,
/// ironrdp-mstsgu). IronRDP's CredSSP dependency (sspi) also enables aws-lc-rs, and rustls refuses to pick
/// between two providers by itself. Idempotent.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Accepts any certificate chain, keeps a copy of it, verifies handshake signatures against it. The copy is
/// taken before any signature is checked, so a handshake that fails on the signature (a key rdpl's TLS
/// library can't verify) still shows the certificate for assessment.
#[derive(Debug)]
struct Capture(
    Arc<CryptoProvider>,
    Arc<std::sync::Mutex<Vec<CertificateDer<'static>>>>,
);

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if let Ok(mut seen) = self.1.lock() {
            *seen = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a completed handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
}

pub use rdpl_core::preflight::tls::Failure;

/// A failed handshake: why, and the chain the server presented when it got that far (empty otherwise).
#[derive(Debug, Clone)]
pub struct Failed {
    /// Why it failed.
    pub failure: Failure,
    /// The chain, leaf first, as captured before any signature check.
    pub chain: Vec<CertificateDer<'static>>,
}

/// The server name rustls needs: a DNS name, or an IP address (no SNI is sent for IPs).
pub fn server_name(host: &Host) -> ServerName<'static> {
    match host {
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        Host::Name(n) => ServerName::try_from(n.trim_end_matches('.').to_owned())
            .unwrap_or_else(|_| ServerName::IpAddress(std::net::IpAddr::from([0, 0, 0, 0]).into())),
    }
}

/// Classifies a rustls error: legacy-only servers are told apart from other failures.
pub fn classify_error(e: &Error) -> Failure {
    match e {
        Error::AlertReceived(AlertDescription::ProtocolVersion)
        | Error::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13)
        | Error::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig) => {
            Failure::LegacyVersion(e.to_string())
        }
        _ => Failure::Failed(e.to_string()),
    }
}

/// Runs the TLS handshake on `stream` and returns the TLS stream and what the server presented.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &Host,
    deadline: Duration,
) -> Result<(tokio_rustls::client::TlsStream<S>, Handshake), Failed> {
    let provider = provider();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let failed = |failure: Failure| Failed {
        failure,
        chain: seen.lock().map(|c| c.clone()).unwrap_or_default(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(Failure::Failed(e.to_string())))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Capture(provider, seen.clone())))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = match tokio::time::timeout(deadline, connector.connect(server_name(host), stream)).await {
        Err(_) => return Err(failed(Failure::Timeout)),
        Ok(Err(e)) => {
            return Err(failed(
                match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
                    Some(rustls_err) => classify_error(rustls_err),
                    None => Failure::Failed(e.to_string()),
                },
            ));
        }
        Ok(Ok(tls)) => tls,
    };
    let (_, conn) = tls.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_owned(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_owned(), |s| format!("{:?}", s.suite()));
    let chain = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
        .unwrap_or_default();
    Ok((
        tls,
        Handshake {
            version,
            cipher,
            chain,
        },
    ))
}

/// One verifier per process: building one reads the OS trust store.
fn platform_verifier() -> &'static Result<rustls_platform_verifier::Verifier, String> {
    static VERIFIER: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, String>> =
        std::sync::OnceLock::new();
    VERIFIER.get_or_init(|| {
        let v = rustls_platform_verifier::Verifier::new(provider()).map_err(|e| e.to_string())?;
        // The store may load on first use: use it once here, on whatever thread warms it up.
        let _ = v.verify_server_cert(
            &CertificateDer::from(Vec::new()),
            &[],
            &ServerName::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]).into()),
            &[],
            UnixTime::now(),
        );
        Ok(v)
    })
}

/// Loads the OS trust store in the background, so the pre-flight's network steps hide the cost.
pub fn warm_up() {
    std::thread::spawn(|| {
        let _ = platform_verifier();
    });
}

/// Asks the platform verifier (the OS trust store) whether the chain is trusted. A name mismatch is judged
/// separately by the assessment, so it does not make the chain untrusted here.
pub fn platform_trust(chain: &[CertificateDer<'static>], host: &Host) -> Trust {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Trust::Untrusted("the server sent no certificate".into());
    };
    let verifier = match platform_verifier() {
        Ok(v) => v,
        Err(e) => return Trust::Untrusted(format!("the platform verifier is unavailable: {e}")),
    };
    match verifier.verify_server_cert(leaf, intermediates, &server_name(host), &[], UnixTime::now()) {
        Ok(_) => Trust::Trusted,
        Err(Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => Trust::Trusted,
        Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
            Trust::Untrusted("it is not issued by a certificate authority this computer trusts".into())
        }
        Err(e) => Trust::Untrusted(e.to_string()),
    }
}

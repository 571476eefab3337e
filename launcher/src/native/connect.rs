//! The connection sequence with the IronRDP connector: TCP (or an RD Gateway tunnel), X.224 negotiation, TLS
//! with rdpl's own certificate decision, CredSSP (NLA), MCS, licensing and capabilities, until the session is
//! active. Every failure says at which [`Stage`] it happened, which is what tells a rejected password
//! (CredSSP) from a refused connection (negotiation) or a server that hung up later (licensing, denial).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ironrdp_connector::credssp::CredsspSequence;
use ironrdp_connector::sspi::generator::NetworkRequest;
use ironrdp_connector::{
    BitmapConfig, ClientConnector, ClientConnectorState, ConnectionOutcome, ConnectionResult,
    ConnectorResult, Credentials, DesktopSize, ServerName, State as _,
};
use ironrdp_pdu::gcc::KeyboardType;
use ironrdp_pdu::nego::SecurityProtocol;
use ironrdp_pdu::rdp::capability_sets::{MajorPlatformType, RailSupportLevel};
use ironrdp_pdu::rdp::client_info::{PerformanceFlags, TimezoneInfo};
use ironrdp_tokio::{NetworkClient, TokioFramed};
use ring::digest;
use secrecy::ExposeSecret as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::failure::FromConnector as _;
use super::target::{Endpoint, Login, Settings, Trust};
use rdpl_core::login::{Failure, FailureKind, Stage};

/// A byte stream the session runs over: a TCP connection, or a tunnel through an RD Gateway.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Transport for T {}

/// The TLS stream of an established session.
pub type Tls = ironrdp_tls::TlsStream<Box<dyn Transport>>;

/// An established session, ready for the active stage.
pub struct Connected {
    /// What the connector negotiated (channels, desktop size, ...).
    pub result: ConnectionResult,
    /// The framed TLS stream.
    pub framed: TokioFramed<Tls>,
    /// Whether the server authenticated the credentials in the handshake (CredSSP/NLA).
    pub nla: bool,
    /// SHA-256 (lowercase hex) of the certificate the TLS handshake accepted.
    pub cert_sha256: String,
    /// The TLS version, as rustls names it.
    pub tls_version: Option<String>,
    /// From the first TCP byte to the active session.
    pub elapsed: Duration,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("desktop", &self.result.desktop_size)
            .field("nla", &self.nla)
            .field("cert_sha256", &self.cert_sha256)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// Connects over TCP, with the whole sequence bounded by `settings.timeout`.
pub async fn connect(
    endpoint: &Endpoint,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
) -> Result<Connected, Failure> {
    let started = Instant::now();
    let stage = Arc::new(Mutex::new(Stage::Tcp));
    let work = async {
        let tcp = TcpStream::connect(endpoint.addr)
            .await
            .map_err(|e| Failure::io(Stage::Tcp, "TCP connect", &e))?;
        let _ = tcp.set_nodelay(true);
        let local = tcp
            .local_addr()
            .map_err(|e| Failure::io(Stage::Tcp, "local address", &e))?;
        handshake(
            Box::new(tcp),
            local,
            endpoint,
            login,
            settings,
            trust,
            &stage,
            started,
        )
        .await
    };
    bounded(settings.timeout, &stage, work).await
}

/// Runs the sequence over an established transport (a gateway tunnel), bounded by `settings.timeout`.
pub async fn connect_over(
    transport: Box<dyn Transport>,
    endpoint: &Endpoint,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
) -> Result<Connected, Failure> {
    let started = Instant::now();
    let stage = Arc::new(Mutex::new(Stage::X224));
    // The connector puts the client address into the Client Info PDU; through a gateway rdpl has none.
    let local = SocketAddr::from(([0, 0, 0, 0], 0));
    let work = handshake(
        transport, local, endpoint, login, settings, trust, &stage, started,
    );
    bounded(settings.timeout, &stage, work).await
}

async fn bounded(
    timeout: Duration,
    stage: &Mutex<Stage>,
    work: impl Future<Output = Result<Connected, Failure>>,
) -> Result<Connected, Failure> {
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => {
            let at = *stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Err(Failure::new(
                at,
                FailureKind::Timeout,
                format!("no progress within {}", humantime::format_duration(timeout)),
            ))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn handshake(
    transport: Box<dyn Transport>,
    local: SocketAddr,
    endpoint: &Endpoint,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
    stage: &Mutex<Stage>,
    started: Instant,
) -> Result<Connected, Failure> {
    let set = |s: Stage| *stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = s;
    let mut connector = ClientConnector::new(config(login, settings), local);
    if settings.display_control {
        // Dynamic channels (drdynvc) with Display Control ([MS-RDPEDISP]): resize without reconnecting.
        connector.attach_static_channel(ironrdp_dvc::DrdynvcClient::new().with_dynamic_channel(
            ironrdp_displaycontrol::client::DisplayControlClient::new(|_| Ok(Vec::new())),
        ));
    }

    set(Stage::X224);
    let mut framed = TokioFramed::new(transport);
    let should_upgrade = ironrdp_tokio::connect_begin(&mut framed, &mut connector)
        .await
        .map_err(|e| Failure::connector(Stage::X224, &e))?;
    let selected = match &connector.state {
        ClientConnectorState::EnhancedSecurityUpgrade { selected_protocol } => *selected_protocol,
        _ => SecurityProtocol::empty(),
    };
    let nla = selected.intersects(SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX);

    set(Stage::Tls);
    let transport = framed.into_inner_no_leftover();
    let (tls, public_key, cert_sha256) = tls_upgrade(transport, endpoint, trust).await?;
    let tls_version = ironrdp_tls::negotiated(&tls).version;
    let _upgraded = ironrdp_tokio::mark_as_upgraded(should_upgrade, &mut connector);
    let mut framed = TokioFramed::new(tls);

    let mut buf = ironrdp_core::WriteBuf::new();
    if connector.should_perform_credssp() {
        set(Stage::Credssp);
        let server_name = ServerName::new(endpoint.server_name.clone());
        let (sequence, ts_request) = CredsspSequence::init(
            connector.config.credentials.clone(),
            connector.config.domain.as_deref(),
            selected,
            server_name,
            public_key,
            None,
        )
        .map_err(|e| Failure::connector(Stage::Credssp, &e))?;
        ironrdp_tokio::perform_credssp(&mut framed, &mut NoKdc, &mut buf, sequence, ts_request)
            .await
            .map_err(|e| Failure::connector(Stage::Credssp, &e))?;
        connector.mark_credssp_as_done();
    }

    let outcome = loop {
        set(Stage::of_state(connector.state.name()));
        if connector.should_perform_multitransport() {
            // rdpl's session is TCP only: decline UDP side channels, the connection continues over TCP.
            ironrdp_tokio::complete_multitransport(
                &mut connector,
                &mut framed,
                ironrdp_connector::MultitransportResult::Failure(
                    ironrdp_pdu::rdp::multitransport::MultitransportResponsePdu::E_ABORT,
                ),
            )
            .await
            .map_err(|e| Failure::connector(Stage::of_state(connector.state.name()), &e))?;
            continue;
        }
        let at = Stage::of_state(connector.state.name());
        ironrdp_tokio::single_sequence_step(&mut framed, &mut connector, &mut buf)
            .await
            .map_err(|e| Failure::connector(at, &e))?;
        if let Some(outcome) = connector.state.take_outcome() {
            break outcome;
        }
    };
    let result = match outcome {
        ConnectionOutcome::Connected(result) => result,
        ConnectionOutcome::Redirected(_) => {
            return Err(Failure::new(
                Stage::Finalization,
                FailureKind::Redirected,
                "the server redirected the connection to another host (a connection broker); rdpl's native \
                 session does not follow redirections yet",
            ));
        }
    };
    Ok(Connected {
        result,
        framed,
        nla,
        cert_sha256,
        tls_version,
        elapsed: started.elapsed(),
    })
}

/// The TLS upgrade. rustls first validates against the platform's roots and the name; when that fails,
/// ironrdp-tls asks rdpl's callback, which accepts exactly the certificate pre-flight assessed and the plan
/// allowed (its SHA-256), and nothing else. Afterwards the accepted leaf is compared once more, so a
/// certificate the platform trusts but pre-flight never saw is refused too, before any credential is sent.
async fn tls_upgrade(
    transport: Box<dyn Transport>,
    endpoint: &Endpoint,
    trust: &Trust,
) -> Result<(Tls, Vec<u8>, String), Failure> {
    let expected = trust.sha256.clone();
    let seen: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let seen_cb = Arc::clone(&seen);
    let callback: ironrdp_tls::CertificateValidationCallback =
        Arc::new(move |leaf: &[u8], _endpoint, error| {
            let got = sha256_hex(leaf);
            let ok = leaf_allowed(expected.as_deref(), leaf);
            *seen_cb.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((got, error.to_owned()));
            ok
        });
    crate::probe::tls::install_provider();
    let name = tls_name(&endpoint.server_name);
    let (tls, cert) = ironrdp_tls::upgrade_with_certificate_validation_callback(transport, &name, callback)
        .await
        .map_err(|e| {
            let seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            match seen {
                Some((got, why)) if !trust.sha256.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&got)) => {
                    Failure::new(
                        Stage::Tls,
                        FailureKind::CertRejected { sha256: got.clone() },
                        format!(
                            "the server presented certificate SHA-256 {got}, which the platform does not trust \
                             ({why}) and which is not the certificate pre-flight checked{}",
                            trust.sha256.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                        ),
                    )
                }
                _ => Failure::io(Stage::Tls, "TLS handshake", &e),
            }
        })?;
    let public_key = ironrdp_tls::extract_tls_server_public_key(&cert)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            Failure::new(
                Stage::Tls,
                FailureKind::Protocol,
                "the server certificate has no public key",
            )
        })?;
    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| sha256_hex(c.as_ref()))
        .ok_or_else(|| {
            Failure::new(
                Stage::Tls,
                FailureKind::Protocol,
                "the server sent no certificate",
            )
        })?;
    if let Some(expected) = &trust.sha256
        && !leaf.eq_ignore_ascii_case(expected)
    {
        return Err(Failure::new(
            Stage::Tls,
            FailureKind::CertRejected { sha256: leaf.clone() },
            format!(
                "the server presented certificate SHA-256 {leaf}, not the one pre-flight checked ({expected}): it \
                 changed between the check and the session, or something is in the middle"
            ),
        ));
    }
    Ok((tls, public_key, leaf))
}

fn sha256_hex(der: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, der))
}

/// rdpl's answer when the platform does not trust a certificate: yes only for exactly the certificate whose
/// SHA-256 (hex) the pre-flight assessed and the plan allowed; no when there is none. Never accept-all.
pub(super) fn leaf_allowed(expected_sha256: Option<&str>, leaf_der: &[u8]) -> bool {
    expected_sha256.is_some_and(|e| e.eq_ignore_ascii_case(&sha256_hex(leaf_der)))
}

/// rustls needs a DNS name or an IP literal; IPv6 literals come without brackets.
fn tls_name(server_name: &str) -> String {
    server_name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}

fn config(login: &Login, settings: &Settings) -> ironrdp_connector::Config {
    let (width, height) = settings.desktop;
    ironrdp_connector::Config {
        desktop_size: DesktopSize { width, height },
        monitor_layout: None,
        desktop_scale_factor: 0,
        desktop_physical_size: None,
        desktop_orientation: None,
        device_scale_factor: None,
        monitor_extended_layout: None,
        relative_mouse_input: false,
        enable_tls: !settings.nla,
        enable_credssp: settings.nla,
        enable_standard_rdp_security: false,
        credentials: Credentials::UsernamePassword {
            username: login.user.clone(),
            password: login.password.expose_secret().to_owned(),
        },
        domain: login.domain.clone(),
        client_build: 0,
        client_name: settings.client_name.clone(),
        keyboard_type: KeyboardType::IBM_ENHANCED,
        keyboard_subtype: 0,
        keyboard_functional_keys_count: 12,
        keyboard_layout: 0x409,
        connection_type: ironrdp_pdu::gcc::ConnectionType::Lan,
        ime_file_name: String::new(),
        bitmap: Some(BitmapConfig {
            lossy_compression: true,
            color_depth: 32,
            codecs: ironrdp_pdu::rdp::capability_sets::client_codecs_capabilities(&[]).unwrap_or_default(),
        }),
        dig_product_id: String::new(),
        client_dir: "C:\\Windows\\System32\\mstscax.dll".to_owned(),
        alternate_shell: String::new(),
        work_dir: String::new(),
        remote_application_mode: false,
        rail_support_level: RailSupportLevel::empty(),
        platform: platform(),
        hardware_id: None,
        request_data: None,
        autologon: settings.autologon,
        enable_audio_playback: false,
        enable_audio_capture: false,
        performance_flags: PerformanceFlags::default(),
        license_cache: None,
        timezone_info: TimezoneInfo::default(),
        compression_type: None,
        enable_server_pointer: false,
        pointer_software_rendering: true,
        multitransport_flags: None,
        support_dyn_vc_gfx_protocol: false,
    }
}

fn platform() -> MajorPlatformType {
    if cfg!(windows) {
        MajorPlatformType::WINDOWS
    } else if cfg!(target_os = "macos") {
        MajorPlatformType::MACINTOSH
    } else {
        MajorPlatformType::UNIX
    }
}

/// CredSSP's network client is for Kerberos KDC traffic. rdpl's native session authenticates with NTLM (what
/// SSPI's Negotiate falls back to without a KDC); a request for a KDC fails with a plain message.
struct NoKdc;

impl NetworkClient for NoKdc {
    async fn send(&mut self, request: &NetworkRequest) -> ConnectorResult<Vec<u8>> {
        Err(ironrdp_connector::reason_err!(
            "CredSSP",
            "Kerberos wanted to reach a KDC at {}; rdpl's native session supports NTLM only",
            request.url
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_assessed_certificate_is_accepted() {
        let leaf = b"a certificate, DER";
        let sha = sha256_hex(leaf);
        assert!(leaf_allowed(Some(&sha), leaf));
        assert!(
            leaf_allowed(Some(&sha.to_uppercase()), leaf),
            "hex case does not matter"
        );
        assert!(!leaf_allowed(Some(&sha), b"another certificate"));
        assert!(!leaf_allowed(None, leaf), "nothing assessed: nothing accepted");
        assert!(!leaf_allowed(Some(""), leaf));
    }

    #[test]
    fn connector_states_map_to_stages() {
        assert_eq!(Stage::of_state("ConnectionInitiationWaitConfirm"), Stage::X224);
        assert_eq!(Stage::of_state("Credssp"), Stage::Credssp);
        assert_eq!(Stage::of_state("BasicSettingsExchangeWaitResponse"), Stage::Mcs);
        assert_eq!(Stage::of_state("LicensingExchange"), Stage::Licensing);
        assert_eq!(Stage::of_state("CapabilitiesExchange"), Stage::Finalization);
        assert_eq!(tls_name("[::1]"), "::1");
    }
}

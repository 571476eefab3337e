//! Pre-flight: everything rdpl finds out about a target before connecting, in one time-bounded run.
//!
//! Each step is a thin async driver here and a pure part in [`rdpl_core::preflight`] (parser, classifier,
//! assessment, the findings its facts imply: unit-tested on captured bytes and values): [`address`] (DNS +
//! TCP race), [`x224`] (security protocols), [`tls`] (handshake and chain), [`gateway`] (RD Gateway). [`run`]
//! drives them into one [`Facts`]; every step gets at most what is left of the target's time budget.

pub mod address;
pub mod dns;
pub mod gateway;
pub mod tls;
pub mod x224;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use ironrdp_pdu::nego::SecurityProtocol;
use rdpl_profiles::name::Host;
use rdpl_profiles::pins::PinSet;
use rdpl_profiles::profile::{Gateway, Profile};
use time::OffsetDateTime;
use tokio::net::TcpStream;

use rdpl_core::facts::{
    AddressFacts, CertFacts, DnsFacts, DnsStatus, Facts, GatewayFacts, GatewayStatus, SecurityFacts,
    TlsFacts, Transport,
};
use rdpl_core::finding::{Finding, FindingId};
use rdpl_core::preflight::cert::{self, Issue, Scope};
use rdpl_core::preflight::x224::Answer;
use rdpl_core::preflight::{self as pure, gateway_finding};

use self::address::{Plan, Timing};

/// How a run is bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The whole check of one target.
    pub total: Duration,
    /// One X.224 exchange, TLS handshake or HTTP exchange.
    pub step: Duration,
    /// The address race.
    pub timing: Timing,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total: Duration::from_secs(10),
            step: Duration::from_secs(3),
            timing: Timing::default(),
        }
    }
}

/// What a run needs besides the profile.
#[derive(Debug, Clone)]
pub struct Context {
    /// The resolver (`None` when none could be built: names then fail with `dns.error`).
    pub resolver: Option<TokioResolver>,
    /// Why there is no resolver.
    pub resolver_error: Option<String>,
    /// The certificate pins.
    pub pins: PinSet,
    /// Time limits.
    pub limits: Limits,
    /// "Now", for certificate validity.
    pub now: OffsetDateTime,
}

/// One target: a label (what the user typed), the profile, the last address that worked.
#[derive(Debug, Clone)]
pub struct Target {
    /// The profile name or host as given.
    pub label: String,
    /// The profile (an ad-hoc one for `host[:port]`).
    pub profile: Profile,
    /// The last address that worked.
    pub cache: Option<SocketAddr>,
}

/// Delay between the starts of two side probes.
const SIDE_STAGGER: Duration = Duration::from_millis(3);

/// What is left of the budget, capped at `step`.
fn budget(deadline: Instant, step: Duration) -> Duration {
    deadline.saturating_duration_since(Instant::now()).min(step)
}

/// Runs the whole pre-flight of one target.
pub async fn run(target: &Target, ctx: &Context) -> Facts {
    let start = Instant::now();
    let deadline = start + ctx.limits.total;
    let p = &target.profile;
    let (host_part, gateway_part) = tokio::join!(probe_host(p, target.cache, ctx, deadline), async {
        // A gateway the profile says never to use (usage never) is not probed: its errors would be noise.
        match &p.gateway {
            Some(g) if g.usage != rdpl_profiles::profile::GatewayUsage::Never => {
                Some(probe_gateway(g, ctx, deadline).await)
            }
            _ => None,
        }
    });
    let HostPart {
        dns,
        address,
        security,
        tls,
        certificate,
        mut findings,
    } = host_part;
    let gateway = gateway_part.map(|(g, f)| {
        findings.extend(f);
        g
    });
    if Instant::now() >= deadline {
        findings.push(Finding::new(
            FindingId::CheckTimeout,
            format!(
                "The check used its whole time budget ({} ms); later steps were cut short.",
                ctx.limits.total.as_millis()
            ),
        ));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Facts {
        target: target.label.clone(),
        address,
        dns,
        security,
        tls,
        certificate,
        gateway,
        login: None,
        findings,
        took: start.elapsed(),
    }
}

struct HostPart {
    dns: DnsFacts,
    address: AddressFacts,
    security: Option<SecurityFacts>,
    tls: Option<TlsFacts>,
    certificate: Option<CertFacts>,
    findings: Vec<Finding>,
}

async fn probe_host(p: &Profile, cache: Option<SocketAddr>, ctx: &Context, deadline: Instant) -> HostPart {
    let mut findings = Vec::new();
    let plan = Plan {
        host: p.host.clone(),
        port: p.port.get(),
        cache,
        alternate: p.alternate.clone(),
        fallbacks: p.fallbacks.clone(),
    };
    let mut timing = ctx.limits.timing;
    timing.attempt = budget(deadline, timing.attempt);
    timing.dns = budget(deadline, timing.dns);
    let (dns, address, winner) = address::race(&plan, ctx.resolver.as_ref(), timing).await;
    let no_resolver = ctx
        .resolver
        .is_none()
        .then(|| ctx.resolver_error.as_deref().unwrap_or_default());
    findings.extend(pure::address::findings(p, &dns, &address, no_resolver));
    let mut part = HostPart {
        dns,
        address,
        security: None,
        tls: None,
        certificate: None,
        findings,
    };
    let Some(winner) = winner else { return part };

    // The modern request on the winning connection; the single-protocol requests on their own connections,
    // all at once.
    let modern = pure::security::MODERN;
    let step = budget(deadline, ctx.limits.step);
    // Side probes start SIDE_STAGGER apart: servers with a small listen backlog (xrdp's is 2) drop SYNs that
    // arrive together, and a dropped SYN costs a 1 s retransmission.
    let side = |proto: SecurityProtocol, nth: u32| async move {
        tokio::time::sleep(SIDE_STAGGER * nth).await;
        match tokio::time::timeout(step, TcpStream::connect(winner.addr)).await {
            Ok(Ok(mut s)) => x224::exchange(&mut s, proto, step).await,
            Ok(Err(_)) => Answer::Closed,
            Err(_) => Answer::Silent { bytes: 0 },
        }
    };
    // The modern request continues straight into TLS on the winning connection while the single-protocol
    // probes run beside it, so they add no round trip to the critical path.
    let name = winner.name.clone();
    let main_then_tls = async move {
        let mut stream = winner.stream;
        let t0 = Instant::now();
        let main = x224::exchange(&mut stream, modern, step).await;
        let x224_took = t0.elapsed();
        // TLS only after a lawful selection of a TLS-based protocol: an answer the request did not allow
        // (`nego.unexpected_selection`) is not built on.
        let tls_selected = matches!(&main, Answer::Selected(s)
            if pure::x224::selection_fits(modern, *s) && s.intersects(modern));
        let t1 = Instant::now();
        let tls = if tls_selected {
            Some(
                tls::handshake(stream, &name, budget(deadline, ctx.limits.step))
                    .await
                    .map(|(_tls, hs)| hs),
            )
        } else {
            None
        };
        (main, x224_took, tls, t1.elapsed())
    };
    let ((main, x224_took, tls, tls_took), ssl, rdp, rdstls) = tokio::join!(
        main_then_tls,
        side(SecurityProtocol::SSL, 1),
        side(SecurityProtocol::empty(), 2),
        side(SecurityProtocol::RDSTLS, 3),
    );
    let (mut security, sec_findings) = pure::security::judge(p, &main, &ssl, &rdp, &rdstls);
    security.took = Some(x224_took);
    part.findings.extend(sec_findings);
    part.security = Some(security);
    match tls {
        None => {}
        Some(Ok(hs)) => {
            part.tls = Some(TlsFacts {
                version: hs.version.clone(),
                cipher: hs.cipher.clone(),
                took: tls_took,
            });
            let (cert, f) = assess_chain(
                &hs.chain,
                &winner.name,
                Some((&p.host, p.port.get())),
                ctx,
                Scope::Host,
            );
            part.certificate = cert;
            part.findings.extend(f);
        }
        Some(Err(failed)) => {
            // The chain was captured before the handshake's signature check: assess it anyway (a weak key is
            // `cert.weak_key`, and the plan decides), and say why the handshake could not be checked.
            let (cert, f) = if failed.chain.is_empty() {
                (None, Vec::new())
            } else {
                assess_chain(
                    &failed.chain,
                    &winner.name,
                    Some((&p.host, p.port.get())),
                    ctx,
                    Scope::Host,
                )
            };
            part.findings.push(pure::tls::failure_finding(
                Scope::Host,
                &explained(failed.failure, &failed.chain),
                p.security.tls_legacy,
            ));
            part.certificate = cert;
            part.findings.extend(f);
        }
    }
    part
}

/// A handshake failure, with the reason when the leaf's key is one rdpl's TLS library can't verify (ring's
/// "BadSignature" for RSA keys outside 2048-8192 bits says nothing of the kind).
fn explained(
    failure: pure::tls::Failure,
    chain: &[rustls::pki_types::CertificateDer<'static>],
) -> pure::tls::Failure {
    let why = chain.first().and_then(|leaf| {
        let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
        let bits = match cert.public_key().parsed().ok()? {
            x509_parser::public_key::PublicKey::RSA(rsa) => rsa.key_size(),
            _ => return None,
        };
        cert::unverifiable_key("RSA", Some(bits))
    });
    match (failure, why) {
        (pure::tls::Failure::Failed(e), Some(why)) => pure::tls::Failure::Failed(format!("{why} ({e})")),
        (failure, _) => failure,
    }
}

/// Inspects and assesses a chain (and, for the host, the pin).
fn assess_chain(
    chain: &[rustls::pki_types::CertificateDer<'static>],
    name_used: &Host,
    pin_key: Option<(&Host, u16)>,
    ctx: &Context,
    scope: Scope,
) -> (Option<CertFacts>, Vec<Finding>) {
    let Some(leaf_der) = chain.first() else {
        return (
            None,
            vec![Finding::new(
                scope.id(Issue::Missing),
                "The server sent no certificate.",
            )],
        );
    };
    let leaf = match cert::inspect(leaf_der, chain.len(), name_used, ctx.now) {
        Ok(l) => l,
        Err(e) => {
            return (None, vec![Finding::new(scope.id(Issue::Unparsable), e)]);
        }
    };
    let trust = tls::platform_trust(chain, name_used);
    let pin = pin_key.map(|(h, port)| ctx.pins.check(&h.to_string(), port, &leaf.report.sha256));
    let (report, findings) = cert::assess(leaf, &trust, pin.as_ref(), name_used, ctx.now, scope);
    (Some(report), findings)
}

async fn probe_gateway(g: &Gateway, ctx: &Context, deadline: Instant) -> (GatewayFacts, Vec<Finding>) {
    let start = Instant::now();
    let (mut report, f) = probe_gateway_steps(g, ctx, deadline).await;
    report.took = start.elapsed();
    (report, f)
}

async fn probe_gateway_steps(g: &Gateway, ctx: &Context, deadline: Instant) -> (GatewayFacts, Vec<Finding>) {
    let mut f = Vec::new();
    let label = format!("{}:{}", g.host, g.port);
    let mut report = GatewayFacts {
        host: label.clone(),
        status: GatewayStatus::Ok,
        certificate: None,
        transport: Transport::Unknown,
        auth_schemes: Vec::new(),
        http_status: Vec::new(),
        took: Duration::ZERO,
    };
    let plan = Plan {
        host: g.host.clone(),
        port: g.port.get(),
        cache: None,
        alternate: None,
        fallbacks: Vec::new(),
    };
    let mut timing = ctx.limits.timing;
    timing.attempt = budget(deadline, timing.attempt);
    timing.dns = budget(deadline, timing.dns);
    let (dns, _, winner) = address::race(&plan, ctx.resolver.as_ref(), timing).await;
    let Some(winner) = winner else {
        if !matches!(dns.status, DnsStatus::Ok | DnsStatus::Skipped) {
            report.status = GatewayStatus::Dns;
            f.push(Finding::new(
                FindingId::GatewayDns,
                format!("The RD Gateway {} does not resolve ({:?}).", g.host, dns.status).to_lowercase(),
            ));
        } else {
            report.status = GatewayStatus::Unreachable;
            f.push(Finding::new(
                FindingId::GatewayUnreachable,
                format!("The RD Gateway {label} does not accept TCP connections."),
            ));
        }
        return (report, f);
    };
    let step = budget(deadline, ctx.limits.step);
    let (mut stream, hs) = match tls::handshake(winner.stream, &g.host, step).await {
        Ok(x) => x,
        Err(failed) => {
            report.status = GatewayStatus::Tls;
            f.push(pure::tls::failure_finding(
                Scope::Gateway,
                &explained(failed.failure, &failed.chain),
                rdpl_profiles::profile::TlsLegacy::Deny,
            ));
            if !failed.chain.is_empty() {
                let (cert, cf) = assess_chain(&failed.chain, &g.host, None, ctx, Scope::Gateway);
                report.certificate = cert;
                f.extend(cf);
            }
            return (report, f);
        }
    };
    let (cert, cf) = assess_chain(&hs.chain, &g.host, None, ctx, Scope::Gateway);
    report.certificate = cert;
    f.extend(cf);
    let host = g.host.to_string();
    let ws = async {
        let step = budget(deadline, ctx.limits.step);
        match tokio::time::timeout(step, TcpStream::connect(winner.addr)).await {
            Ok(Ok(s)) => match tls::handshake(s, &g.host, step).await {
                Ok((mut t, _)) => gateway::exchange(&mut t, gateway::Request::WebSocket, &host, step).await,
                Err(_) => pure::gateway::Answer::Closed("TLS failed on the second connection".into()),
            },
            Ok(Err(e)) => pure::gateway::Answer::Closed(e.to_string()),
            Err(_) => pure::gateway::Answer::Timeout,
        }
    };
    let (out_data, websocket) = tokio::join!(
        gateway::exchange(&mut stream, gateway::Request::OutData, &host, step),
        ws
    );
    for a in [&out_data, &websocket] {
        if let pure::gateway::Answer::Http { status, .. } = a {
            report.http_status.push(*status);
        }
    }
    let (status, transport, schemes) = pure::gateway::classify(&out_data, &websocket);
    report.status = status;
    report.transport = transport;
    report.auth_schemes = schemes;
    let why = pure::gateway::why(&out_data, &websocket);
    f.extend(gateway_finding(status, &label, &report.http_status, &why));
    (report, f)
}

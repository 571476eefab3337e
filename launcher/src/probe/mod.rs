//! Pre-flight: everything rdpl finds out about a target before connecting, in one time-bounded run.
//!
//! Each step is a module with a pure part (parser, classifier, assessment, state machine: unit-tested on
//! captured bytes or scripted events) and a thin async driver: [`address`] (DNS + TCP race, the driver of the
//! machine in [`race`]), [`x224`] (security protocols), [`tls`] (handshake and chain), [`cert`] (assessment),
//! [`gateway`] (RD Gateway). [`run`] drives them and turns the facts into [`report::Finding`]s with stable
//! ids; every step gets at most what is left of the target's time budget.

pub mod address;
pub mod cert;
pub mod dns;
pub mod gateway;
pub mod race;
pub mod report;
pub mod tls;
pub mod x224;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use ironrdp_pdu::nego::SecurityProtocol;
use rdpl_profiles::name::Host;
use rdpl_profiles::pins::PinSet;
use rdpl_profiles::profile::{Gateway, Profile, Tri};
use time::OffsetDateTime;
use tokio::net::TcpStream;

use self::address::{Plan, Timing};
use self::report::{
    AddressReport, CertReport, DnsReport, DnsStatus, Finding, GatewayReport, GatewayStatus, Outcome, Report,
    SecurityReport, Severity, Source, TlsReport,
};
use self::x224::Answer;

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

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What is left of the budget, capped at `step`.
fn budget(deadline: Instant, step: Duration) -> Duration {
    deadline.saturating_duration_since(Instant::now()).min(step)
}

/// Runs the whole pre-flight of one target.
pub async fn run(target: &Target, ctx: &Context) -> Report {
    let start = Instant::now();
    let deadline = start + ctx.limits.total;
    let p = &target.profile;
    let (host_part, gateway_part) = tokio::join!(probe_host(p, target.cache, ctx, deadline), async {
        match &p.gateway {
            Some(g) => Some(probe_gateway(g, ctx, deadline).await),
            None => None,
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
        findings.push(
            Finding::new(
                "check.timeout",
                Severity::Warning,
                format!(
                    "The check used its whole time budget ({} ms); later steps were cut short.",
                    ctx.limits.total.as_millis()
                ),
            )
            .fix("Run it again with a longer --timeout."),
        );
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Report {
        version: 1,
        target: target.label.clone(),
        verdict: Report::verdict_of(&findings),
        address,
        dns,
        security,
        tls,
        certificate,
        gateway,
        login: None,
        findings,
        ms: ms(start),
    }
}

struct HostPart {
    dns: DnsReport,
    address: AddressReport,
    security: Option<SecurityReport>,
    tls: Option<TlsReport>,
    certificate: Option<CertReport>,
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
    findings.extend(address_findings(p, &dns, &address, ctx));
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
    let modern = SecurityProtocol::SSL | SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX;
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
        let x224_ms = ms(t0);
        let tls_selected = matches!(&main, Answer::Selected(s) if s.intersects(
            SecurityProtocol::SSL | SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX | SecurityProtocol::RDSTLS));
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
        (main, x224_ms, tls, ms(t1))
    };
    let ((main, x224_ms, tls, tls_ms), ssl, rdp, rdstls) = tokio::join!(
        main_then_tls,
        side(SecurityProtocol::SSL, 1),
        side(SecurityProtocol::empty(), 2),
        side(SecurityProtocol::RDSTLS, 3),
    );
    let (mut security, sec_findings) = security_of(p, &main, &ssl, &rdp, &rdstls);
    security.ms = Some(x224_ms);
    part.findings.extend(sec_findings);
    part.security = Some(security);
    match tls {
        None => {}
        Some(Ok(hs)) => {
            part.tls = Some(TlsReport {
                version: hs.version.clone(),
                cipher: hs.cipher.clone(),
                ms: tls_ms,
            });
            let (cert, f) = assess_chain(
                &hs.chain,
                &winner.name,
                Some((&p.host, p.port.get())),
                ctx,
                "cert",
            );
            part.certificate = cert;
            part.findings.extend(f);
        }
        Some(Err(fail)) => part.findings.push(tls_failure("tls", &fail, "the server")),
    }
    part
}

fn tls_failure(prefix: &str, fail: &tls::Failure, who: &str) -> Finding {
    match fail {
        tls::Failure::LegacyVersion(e) => Finding::new(
            format!("{prefix}.legacy_version"),
            Severity::Error,
            format!("{who} speaks only TLS 1.0 or 1.1, which rdpl and current clients refuse ({e})."),
        )
        .fix("Enable TLS 1.2 on the server (Windows Server 2008 R2/2012 need KB3080079 and the TLS 1.2 registry keys)."),
        tls::Failure::Failed(e) => Finding::new(
            format!("{prefix}.handshake_failed"),
            Severity::Error,
            format!("The TLS handshake with {who} failed: {e}."),
        )
        .fix("Check the server's certificate configuration and its event log (Schannel errors)."),
        tls::Failure::Timeout => Finding::new(
            format!("{prefix}.handshake_failed"),
            Severity::Error,
            format!("{who} did not complete the TLS handshake in time."),
        ),
    }
}

/// Inspects and assesses a chain (and, for the host, the pin).
fn assess_chain(
    chain: &[rustls::pki_types::CertificateDer<'static>],
    name_used: &Host,
    pin_key: Option<(&Host, u16)>,
    ctx: &Context,
    prefix: &str,
) -> (Option<CertReport>, Vec<Finding>) {
    let Some(leaf_der) = chain.first() else {
        return (
            None,
            vec![Finding::new(
                format!("{prefix}.missing"),
                Severity::Error,
                "The server sent no certificate.",
            )],
        );
    };
    let leaf = match cert::inspect(leaf_der, chain.len(), name_used, ctx.now) {
        Ok(l) => l,
        Err(e) => {
            return (
                None,
                vec![Finding::new(format!("{prefix}.unparsable"), Severity::Error, e)],
            );
        }
    };
    let trust = tls::platform_trust(chain, name_used);
    let pin = pin_key.map(|(h, port)| ctx.pins.check(&h.to_string(), port, &leaf.report.sha256));
    let (report, findings) = cert::assess(leaf, &trust, pin.as_ref(), name_used, ctx.now, prefix);
    (Some(report), findings)
}

fn describe(o: Outcome) -> &'static str {
    match o {
        Outcome::Refused => "refused the connection (nothing listens on that port)",
        Outcome::Timeout => "did not answer (host down, or the port is filtered by a firewall)",
        Outcome::Unreachable => "is unreachable (no route to it)",
        Outcome::Nxdomain => "does not resolve",
        Outcome::Error => "failed",
        Outcome::Connected => "connected",
        Outcome::Skipped => "was not needed",
        Outcome::Cancelled => "was still pending when another address connected",
    }
}

fn address_findings(p: &Profile, dns: &DnsReport, a: &AddressReport, ctx: &Context) -> Vec<Finding> {
    let mut f = Vec::new();
    let connected = a.chosen.is_some();
    let soft = if connected {
        Severity::Warning
    } else {
        Severity::Error
    };
    if matches!(p.host, Host::Name(_)) {
        let none = ctx.resolver.is_none();
        match dns.status {
            DnsStatus::Ok | DnsStatus::Skipped => {}
            DnsStatus::Nxdomain => f.push(
                Finding::new("dns.nxdomain", soft, format!("{} does not exist in DNS (NXDOMAIN).", dns.name))
                    .fix("Check the spelling and the DNS suffix, or add the server's IP as a fallback: `rdpl profile set NAME fallback=IP`."),
            ),
            DnsStatus::Timeout => f.push(
                Finding::new("dns.timeout", soft, format!("The DNS server did not answer for {} in time.", dns.name))
                    .fix("Check the DNS servers of this computer (VPN connected?), or pass --dns-server."),
            ),
            DnsStatus::Servfail => f.push(
                Finding::new("dns.servfail", soft, format!("The DNS server failed to resolve {} (SERVFAIL).", dns.name))
                    .fix("The DNS server could not reach the zone's servers; try again, or use another DNS server."),
            ),
            DnsStatus::Error => f.push(Finding::new(
                "dns.error",
                soft,
                if none {
                    format!("No DNS resolver is available: {}.", ctx.resolver_error.clone().unwrap_or_default())
                } else {
                    format!("{} could not be resolved.", dns.name)
                },
            )),
        }
    }
    let failed: Vec<_> = a
        .candidates
        .iter()
        .filter(|c| {
            !matches!(
                c.result,
                Outcome::Connected | Outcome::Skipped | Outcome::Cancelled
            )
        })
        .collect();
    for outcome in [
        Outcome::Refused,
        Outcome::Timeout,
        Outcome::Unreachable,
        Outcome::Error,
    ] {
        let addrs: Vec<&str> = failed
            .iter()
            .filter(|c| c.result == outcome)
            .map(|c| c.address.as_str())
            .collect();
        if addrs.is_empty() {
            continue;
        }
        let id = match outcome {
            Outcome::Refused => "tcp.refused",
            Outcome::Timeout => "tcp.timeout",
            Outcome::Unreachable => "tcp.unreachable",
            _ => "tcp.error",
        };
        let sev = if connected {
            Severity::Info
        } else {
            Severity::Error
        };
        let fix = match outcome {
            Outcome::Refused => {
                "Make sure Remote Desktop is enabled on the server and listens on this port (TermService running, PortNumber in the registry)."
            }
            Outcome::Timeout => {
                "Check that the host is up and that firewalls (Windows Defender Firewall, network ACLs, VPN) allow TCP to this port."
            }
            _ => "Check routing and the VPN connection to that network.",
        };
        f.push(Finding::new(id, sev, format!("{} {}.", addrs.join(", "), describe(outcome))).fix(fix));
    }
    if let (Some(chosen), Some(via)) = (&a.chosen, a.via)
        && !matches!(via, Source::Dns | Source::Literal)
    {
        let why = if dns.status != DnsStatus::Ok && matches!(p.host, Host::Name(_)) {
            format!("{} did not resolve", dns.name)
        } else {
            format!("{}:{} did not answer", p.host, p.port)
        };
        f.push(
            Finding::new(
                "address.fallback_used",
                Severity::Warning,
                format!(
                    "{why}; connected to {chosen} ({}) instead.",
                    serde_json::to_value(via)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            )
            .fix("rdpl uses this address automatically; fix the name or the primary address when you can."),
        );
        if dns.status == DnsStatus::Ok && !dns.addresses.iter().any(|d| chosen.starts_with(d.as_str())) {
            f.push(
                Finding::new(
                    "dns.mismatch",
                    Severity::Warning,
                    format!(
                        "{} resolves to {}, but the server answers at {chosen}.",
                        dns.name,
                        dns.addresses.join(", ")
                    ),
                )
                .fix("Update the DNS record (or a stale hosts-file entry) to the server's current address."),
            );
        }
    }
    if !connected && a.candidates.is_empty() && dns.status == DnsStatus::Ok {
        f.push(Finding::new(
            "tcp.error",
            Severity::Error,
            "No address to connect to.",
        ));
    }
    f
}

fn names(p: SecurityProtocol) -> String {
    x224::protocol_names(p).join("+")
}

fn security_of(
    p: &Profile,
    main: &Answer,
    ssl: &Answer,
    rdp: &Answer,
    rdstls: &Answer,
) -> (SecurityReport, Vec<Finding>) {
    let mut f = Vec::new();
    let mut s = SecurityReport::default();
    let mut offered: Vec<&str> = Vec::new();
    let mut add = |n: &'static str| {
        if !offered.contains(&n) {
            offered.push(n);
        }
    };
    match main {
        Answer::Selected(proto) => {
            s.selected = Some(names(*proto));
            for n in x224::protocol_names(*proto) {
                add(n);
            }
            if proto.contains(SecurityProtocol::HYBRID_EX) {
                add("hybrid");
            }
        }
        Answer::Failure(code) => {
            let (id, name) = x224::failure_id(*code);
            s.failure = Some(name.to_owned());
            f.push(negotiation_failure(id, *code));
        }
        Answer::Legacy => {
            add("rdp");
            s.selected = Some("rdp".into());
            f.push(
                Finding::new(
                    "x224.legacy_only",
                    Severity::Warning,
                    "The server answered without negotiation data: it only knows legacy Standard RDP Security (no TLS, no NLA), which can't authenticate the server.",
                )
                .fix("Enable TLS/NLA on the server (Remote Desktop Session Host security layer: Negotiate or SSL)."),
            );
        }
        Answer::Garbage(why) => f.push(
            Finding::new("x224.garbage", Severity::Error, format!("The server's answer to the RDP connection request is not RDP: {why}."))
                .fix("Something other than an RDP server listens on this port (a web server, SSH, a proxy); check the port."),
        ),
        Answer::Closed => f.push(
            Finding::new("x224.closed", Severity::Error, "The server accepted TCP and closed the connection without answering the RDP request.")
                .fix("The RDP service may be overloaded or restricted to some clients (RDP-Tcp listener, firewall with IPS); check the server's event log."),
        ),
        Answer::Silent { bytes } => f.push(
            Finding::new(
                "x224.silent",
                Severity::Error,
                if *bytes == 0 {
                    "The server accepted TCP but never answered the RDP connection request.".to_owned()
                } else {
                    format!("The server started an answer ({bytes} bytes) but did not finish it in time.")
                },
            )
            .fix("A hung TermService, or a proxy or load balancer that accepts connections without an RDP server behind it."),
        ),
    }
    // A server selects the strongest protocol it supports among those requested, so the modern request's
    // answer already says whether HYBRID/HYBRID_EX is offered; these say whether TLS alone, standard RDP
    // security and RDSTLS are accepted too.
    let single = [(ssl, "ssl"), (rdp, "rdp"), (rdstls, "rdstls")];
    let mut hybrid_required = false;
    for (answer, want) in single {
        match answer {
            Answer::Selected(proto) if names(*proto) == want => add(match want {
                "ssl" => "ssl",
                "rdp" => "rdp",
                "hybrid" => "hybrid",
                _ => "rdstls",
            }),
            Answer::Failure(5) => hybrid_required = true,
            _ => {}
        }
    }
    let offers_nla = offered.iter().any(|n| matches!(*n, "hybrid" | "hybrid_ex"));
    let decided = matches!(main, Answer::Selected(_) | Answer::Legacy);
    s.nla_required = decided
        .then_some(hybrid_required || (offers_nla && !offered.iter().any(|n| matches!(*n, "ssl" | "rdp"))));
    s.offered = offered.iter().map(|n| (*n).to_owned()).collect();
    if decided {
        if s.nla_required == Some(true) {
            let (sev, msg, fix) = if p.security.nla == Tri::Off {
                (
                    Severity::Error,
                    "The server requires NLA (CredSSP), but this profile turns NLA off (nla=off): the connection will be refused.",
                    Some("`rdpl profile set NAME nla=auto`"),
                )
            } else {
                (
                    Severity::Info,
                    "The server requires NLA (CredSSP); a request for TLS alone is refused with HYBRID_REQUIRED_BY_SERVER.",
                    None,
                )
            };
            let mut finding = Finding::new("nego.hybrid_required", sev, msg);
            if let Some(fix) = fix {
                finding = finding.fix(fix);
            }
            f.push(finding);
        } else if !offers_nla {
            let tls = offered.contains(&"ssl");
            let (sev, msg) = match (p.security.nla, tls) {
                (Tri::On, _) => (
                    Severity::Error,
                    "The server does not offer NLA (CredSSP), but this profile requires it (nla=on).",
                ),
                (_, true) => (
                    Severity::Warning,
                    "The server does not offer NLA (CredSSP): the password is checked only after the session starts, inside TLS. rdpl turns NLA off for this connection (nla=auto).",
                ),
                (_, false) => (
                    Severity::Warning,
                    "The server offers neither NLA nor TLS, only legacy Standard RDP Security.",
                ),
            };
            f.push(Finding::new("nego.nla_unavailable", sev, msg).fix(
                "On the server: System Properties > Remote > \"Allow connections only from computers running Remote Desktop with Network Level Authentication\".",
            ));
            if !tls && !matches!(main, Answer::Legacy) {
                f.push(
                    Finding::new("nego.ssl_not_allowed", Severity::Warning, "The server allows only Standard RDP Security (security layer \"RDP\"): the connection is not protected by TLS and the server can't be authenticated.")
                        .fix("Set the server's security layer to Negotiate or SSL (TLS)."),
                );
            }
        }
    }
    (s, f)
}

fn negotiation_failure(id: &str, code: u32) -> Finding {
    let (msg, fix) = match code {
        1 => (
            "The server requires TLS (SSL_REQUIRED_BY_SERVER).",
            "Allow TLS on the client (negotiate security layer).",
        ),
        2 => (
            "The server allows only Standard RDP Security (SSL_NOT_ALLOWED_BY_SERVER).",
            "Set the server's security layer to Negotiate or SSL (TLS).",
        ),
        3 => (
            "The server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER).",
            "On the server: check the RDP certificate (the \"Remote Desktop\" store, or the listener's SSLCertificateSHA1Hash) and the private key's permissions in MachineKeys; then restart TermService.",
        ),
        4 => (
            "The server says the requested protocols are inconsistent (INCONSISTENT_FLAGS).",
            "Update the client; this happens with the Direct Approach only.",
        ),
        5 => (
            "The server requires NLA (HYBRID_REQUIRED_BY_SERVER).",
            "Turn NLA on for this profile (nla=auto or on).",
        ),
        6 => (
            "The server requires TLS with client certificate authentication (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER).",
            "Use a client that supports certificate-based client authentication (smart card).",
        ),
        7 => (
            "The server requires Microsoft Entra ID authentication (ENTRA_AUTH_REQUIRED_BY_SERVER).",
            "Connect with Entra ID authentication (enablerdsaadauth:i:1) from mstsc or the Windows App.",
        ),
        _ => (
            "The server refused the negotiation with an unknown failure code.",
            "Check the server's event log.",
        ),
    };
    Finding::new(id, Severity::Error, format!("{msg} (code {code})")).fix(fix)
}

async fn probe_gateway(g: &Gateway, ctx: &Context, deadline: Instant) -> (GatewayReport, Vec<Finding>) {
    let start = Instant::now();
    let (mut report, f) = probe_gateway_steps(g, ctx, deadline).await;
    report.ms = ms(start);
    (report, f)
}

async fn probe_gateway_steps(g: &Gateway, ctx: &Context, deadline: Instant) -> (GatewayReport, Vec<Finding>) {
    let mut f = Vec::new();
    let label = format!("{}:{}", g.host, g.port);
    let mut report = GatewayReport {
        host: label.clone(),
        status: GatewayStatus::Ok,
        certificate: None,
        transport: "unknown".into(),
        auth_schemes: Vec::new(),
        http_status: Vec::new(),
        ms: 0,
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
            f.push(
                Finding::new("gateway.dns", Severity::Error, format!("The RD Gateway {} does not resolve ({:?}).", g.host, dns.status).to_lowercase())
                    .fix("Check the gateway name in the profile (`rdpl profile set NAME gateway=HOST`) and this computer's DNS."),
            );
        } else {
            report.status = GatewayStatus::Unreachable;
            f.push(
                Finding::new(
                    "gateway.unreachable",
                    Severity::Error,
                    format!("The RD Gateway {label} does not accept TCP connections."),
                )
                .fix("Check that the gateway is up and that port 443 (TCP) is open to it from this network."),
            );
        }
        return (report, f);
    };
    let step = budget(deadline, ctx.limits.step);
    let (mut stream, hs) = match tls::handshake(winner.stream, &g.host, step).await {
        Ok(x) => x,
        Err(fail) => {
            report.status = GatewayStatus::Tls;
            f.push(tls_failure("gateway.tls", &fail, "the RD Gateway"));
            return (report, f);
        }
    };
    let (cert, cf) = assess_chain(&hs.chain, &g.host, None, ctx, "gateway.cert");
    report.certificate = cert;
    f.extend(cf);
    let host = g.host.to_string();
    let ws = async {
        let step = budget(deadline, ctx.limits.step);
        match tokio::time::timeout(step, TcpStream::connect(winner.addr)).await {
            Ok(Ok(s)) => match tls::handshake(s, &g.host, step).await {
                Ok((mut t, _)) => gateway::exchange(&mut t, gateway::Request::WebSocket, &host, step).await,
                Err(_) => gateway::Answer::Closed("TLS failed on the second connection".into()),
            },
            Ok(Err(e)) => gateway::Answer::Closed(e.to_string()),
            Err(_) => gateway::Answer::Timeout,
        }
    };
    let (out_data, websocket) = tokio::join!(
        gateway::exchange(&mut stream, gateway::Request::OutData, &host, step),
        ws
    );
    for a in [&out_data, &websocket] {
        if let gateway::Answer::Http { status, .. } = a {
            report.http_status.push(*status);
        }
    }
    let (status, transport, schemes) = gateway::classify(&out_data, &websocket);
    report.status = status;
    report.transport = transport.into();
    report.auth_schemes = schemes;
    match status {
        GatewayStatus::NotRdg => f.push(
            Finding::new(
                "gateway.not_rdg",
                Severity::Error,
                format!("{label} answers HTTPS (HTTP {:?}) but is not an HTTP RD Gateway.", report.http_status),
            )
            .fix("Check the gateway name; an RD Gateway answers RDG_OUT_DATA /remoteDesktopGateway/ with 401. Older gateways that only speak RPC over HTTP need mstsc's RPC transport."),
        ),
        GatewayStatus::Rejected => f.push(
            Finding::new("gateway.rejected", Severity::Error, format!("{label} closed the connection on the RD Gateway request."))
                .fix("A reverse proxy or WAF in front of the gateway may block RDG_OUT_DATA or WebSocket upgrades; allow them."),
        ),
        _ => {}
    }
    (report, f)
}

//! rdpl's own RDP session, on the IronRDP crates: the login check (`check --login`), screenshots, and the
//! window of `connect --with native`.
//!
//! - `connect.rs`: the connection sequence (X.224, TLS with rdpl's certificate decision, CredSSP, MCS,
//!   licensing, capabilities), stage by stage.
//! - `gateway.rs`: the tunnel through an RD Gateway (ironrdp-mstsgu).
//! - `session.rs`: the active stage (decode into a framebuffer, input, resize, disconnect).
//! - `failure.rs`: IronRDP's connector errors as rdpl's failures (what they mean is `rdpl_core::login`).
//! - `png.rs`: the framebuffer as a PNG file.
//! - `window/`: the window of `connect --with native` (winit + softbuffer): drawing, keyboard and mouse,
//!   resize (`mod.rs`), reconnect after a network loss (`reconnect.rs`), and the pure key, mouse and layout
//!   mapping (`input.rs`, `layout.rs`).
//!
//! Invariant: credentials go only into the CredSSP exchange (NLA) or the encrypted Client Info PDU (TLS); the
//! TLS handshake accepts only the certificate pre-flight assessed and the plan allowed, so nothing is sent to
//! a server rdpl did not decide to trust.

#[cfg(feature = "native")]
pub mod connect;
#[cfg(feature = "native")]
pub mod failure;
#[cfg(feature = "native")]
pub mod gateway;
#[cfg(feature = "native")]
pub mod png;
#[cfg(feature = "native")]
pub mod session;
#[cfg(feature = "native")]
pub mod target;
#[cfg(feature = "native")]
pub mod window;

#[cfg(feature = "native")]
use std::time::{Duration, Instant};

#[cfg(feature = "native")]
use rdpl_core::finding::{Finding, FindingId};
pub use rdpl_core::login::LoginOutcome;
#[cfg(feature = "native")]
use rdpl_core::login::{Failure, FailureKind, LoginStatus, Stage};

#[cfg(feature = "native")]
use self::connect::Connected;
#[cfg(feature = "native")]
use self::session::Session;
#[cfg(feature = "native")]
pub use self::target::{Endpoint, GatewayTarget, Login, Route, Settings, Trust};

#[cfg(feature = "native")]
/// Connects along the route.
pub async fn open(
    route: &Route,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
) -> Result<Connected, Failure> {
    crate::probe::tls::install_provider();
    match route {
        Route::Direct(endpoint) => connect::connect(endpoint, login, settings, trust).await,
        Route::Gateway { gateway, endpoint } => {
            let tunnel = tokio::time::timeout(
                settings.timeout,
                gateway::open(gateway, endpoint, login, &settings.client_name),
            )
            .await
            .map_err(|_| {
                Failure::new(
                    Stage::Gateway,
                    FailureKind::Timeout,
                    format!(
                        "the RD Gateway {} did not open a tunnel in time",
                        gateway.endpoint
                    ),
                )
            })??;
            connect::connect_over(tunnel, endpoint, login, settings, trust).await
        }
    }
}

#[cfg(feature = "native")]
/// A session that reached its first frame, with the check's outcome.
#[derive(Debug)]
pub struct Active {
    /// The running session.
    pub session: Session,
    /// The login check so far.
    pub outcome: LoginOutcome,
}

#[cfg(feature = "native")]
/// Connects and runs the session until its first decoded frame.
pub async fn until_first_frame(
    route: &Route,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
) -> Result<Active, LoginOutcome> {
    let started = Instant::now();
    let via_gateway = matches!(route, Route::Gateway { .. });
    let connected = open(route, login, settings, trust)
        .await
        .map_err(|f| LoginOutcome::failed(&f, started.elapsed(), via_gateway))?;
    let (nla, elapsed, tls_version) = (connected.nla, connected.elapsed, connected.tls_version.clone());
    let desktop = format!(
        "{}x{}",
        connected.result.desktop_size.width, connected.result.desktop_size.height
    );
    let mut session = Session::new(connected);
    let wait = async {
        loop {
            let (action, frame) = session.read().await?;
            let u = session.process(action, &frame).await?;
            if let Some(end) = u.ended {
                return Err(end.failure().unwrap_or_else(|| {
                    Failure::new(Stage::Session, FailureKind::Disconnected(None), end.reason)
                }));
            }
            if u.drawn.is_some() {
                return Ok(());
            }
        }
    };
    let first = match tokio::time::timeout(
        settings
            .timeout
            .saturating_sub(elapsed)
            .max(Duration::from_secs(2)),
        wait,
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            Stage::Session,
            FailureKind::Timeout,
            "the session came up but the server drew nothing",
        )),
    };
    if let Err(f) = first {
        session.disconnect().await;
        let mut o = LoginOutcome::failed(&f, started.elapsed(), via_gateway);
        o.connect = Some(elapsed);
        o.protocol = Some(if nla { "nla" } else { "tls" }.into());
        return Err(o);
    }
    let (status, finding) = if nla {
        (LoginStatus::Ok, None)
    } else {
        (
            LoginStatus::NotVerified,
            Some(Finding::new(
                FindingId::AuthNotVerified,
                "the session came up, but the server does not use NLA: the credentials were not checked by the \
                 handshake (the user logs on inside the session)",
            )),
        )
    };
    Ok(Active {
        outcome: LoginOutcome {
            status,
            took: started.elapsed(),
            connect: Some(elapsed),
            first_frame: session.first_frame(),
            protocol: Some(if nla { "nla" } else { "tls" }.into()),
            tls_version,
            desktop: Some(desktop),
            via_gateway,
            stage: None,
            detail: None,
            finding,
        },
        session,
    })
}

#[cfg(feature = "native")]
/// `check --login`: until the first frame, then a clean disconnect.
pub async fn login_check(route: &Route, login: &Login, settings: &Settings, trust: &Trust) -> LoginOutcome {
    match until_first_frame(route, login, settings, trust).await {
        Ok(mut a) => {
            a.session.disconnect().await;
            a.outcome
        }
        Err(o) => o,
    }
}

#[cfg(feature = "native")]
/// `screenshot`: until the screen has settled (no update for `quiet`, at most `max` after the first frame),
/// then the framebuffer, and a clean disconnect.
pub async fn screenshot(
    route: &Route,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
    quiet: Duration,
    max: Duration,
) -> Result<(LoginOutcome, png::Frame), LoginOutcome> {
    let mut a = until_first_frame(route, login, settings, trust).await?;
    let deadline = tokio::time::Instant::now() + max;
    let mut ended = None;
    loop {
        let next = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + quiet),
            a.session.read(),
        )
        .await;
        let Ok(read) = next else { break };
        let processed = match read {
            Ok((action, frame)) => a.session.process(action, &frame).await,
            Err(f) => Err(f),
        };
        match processed {
            Ok(u) => {
                if let Some(e) = u.ended {
                    ended = Some(e);
                    break;
                }
            }
            Err(f) => {
                ended = Some(session::Ended {
                    reason: f.to_string(),
                    errinfo: None,
                    by_user: false,
                });
                break;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    let frame = png::Frame::of(a.session.image());
    if ended.is_none() {
        a.session.disconnect().await;
    }
    Ok((a.outcome, frame))
}

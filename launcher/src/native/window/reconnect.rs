//! The session side of the window: connect, run the session, and after a network loss reconnect with
//! backoff, on the tokio runtime. It talks to the window only through the channel types here: [`Command`]s
//! in (input, resize, close) and [`Event`]s out through [`Ctx::to_window`], plus the shared [`Frame`] it
//! draws into.
//!
//! No winit here: the window hands in a plain callback (its `EventLoopProxy`). The policy is pure and tested:
//! the backoff schedule ([`backoff`]), which losses to mend ([`is_transient`]) and which failed attempts to
//! retry ([`retryable`]).
//!
//! Invariant: the password stays in [`Ctx::login`], which goes only to [`native::open`] (and
//! [`native::until_first_frame`]); no event, state or log line carries it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ironrdp_pdu::geometry::InclusiveRectangle;
use ironrdp_pdu::input::fast_path::FastPathInputEvent;
use ironrdp_session::image::DecodedImage;
use tokio::sync::mpsc;
use tracing::{debug, info};

use super::layout::{Frame, desktop_size_for};
use crate::native::session::{Ended, Session};
use crate::native::{self, Login, LoginOutcome, Route, Settings, Trust};
use rdpl_core::login::{Failure, FailureKind, LoginStatus, Stage};

/// How the window ended.
#[derive(Debug)]
pub enum WindowEnd {
    /// The user closed the window (rdpl disconnected cleanly).
    Closed,
    /// The server ended the session.
    Ended(Ended),
    /// The first connection failed, the session broke (a protocol error), reconnecting gave up, or no window
    /// could be opened.
    Failed(LoginOutcome),
}

/// Reconnect attempts after a network loss.
pub const RECONNECT_ATTEMPTS: u32 = 5;

// ---------------------------------------------------------------------------------------------------------
// Between the window and the session

/// From the session to the window.
#[derive(Debug)]
pub(super) enum Event {
    /// The connection state changed (the title shows it).
    State(State),
    /// A line for the user.
    Say(String),
    /// The shared frame has new pixels.
    Frame,
    /// The session is up with this desktop size (after a connect or a reactivation).
    Desktop(u16, u16),
    /// The session task is done; its result is the task's return value.
    Finished,
}

/// From the window to the session.
#[derive(Debug)]
pub(super) enum Command {
    Input(Vec<FastPathInputEvent>),
    Resize(u32, u32),
    Close,
}

/// The connection state, as the title shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
    Connecting,
    Connected {
        nla: bool,
    },
    /// Waiting `in_secs` before attempt `attempt` of `of` (0: the attempt is under way).
    Reconnecting {
        attempt: u32,
        of: u32,
        in_secs: u64,
    },
    Disconnected(String),
}

// ---------------------------------------------------------------------------------------------------------
// The session

/// What the session task needs: where and how to connect, and its link to the window.
pub(super) struct Ctx {
    pub(super) route: Route,
    pub(super) login: Login,
    pub(super) settings: Settings,
    pub(super) trust: Trust,
    /// Hands an event to the window and wakes it (winit's `EventLoopProxy` in [`super::run`]); a window that
    /// is gone drops it, and the session notices through its command channel.
    pub(super) to_window: Box<dyn Fn(Event) + Send>,
    pub(super) frame: Arc<Mutex<Frame>>,
    /// Set while an `Event::Frame` is on its way; the window clears it when it takes the frame.
    pub(super) woken: Arc<AtomicBool>,
}

impl Ctx {
    fn send(&self, e: Event) {
        (self.to_window)(e);
    }

    fn state(&self, s: State) {
        self.send(Event::State(s));
    }

    fn say(&self, line: impl Into<String>) {
        self.send(Event::Say(line.into()));
    }

    /// Publishes what the session drew (`None`: all of it) and wakes the window once per batch.
    fn publish(&self, image: &DecodedImage, area: Option<&InclusiveRectangle>) {
        self.frame
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .copy_from(image, area);
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.send(Event::Frame);
        }
    }
}

/// What ended one pass of the session loop.
enum Next {
    End(WindowEnd),
    Lost(Failure),
}

/// The session task: connect, then run the session, reconnecting after a transient network loss.
pub(super) async fn drive(ctx: Ctx, mut commands: mpsc::UnboundedReceiver<Command>) -> WindowEnd {
    let end = drive_inner(&ctx, &mut commands).await;
    ctx.send(Event::Finished);
    end
}

async fn drive_inner(ctx: &Ctx, commands: &mut mpsc::UnboundedReceiver<Command>) -> WindowEnd {
    ctx.state(State::Connecting);
    let first = tokio::select! {
        r = native::until_first_frame(&ctx.route, &ctx.login, &ctx.settings, &ctx.trust) => r,
        () = until_close(commands) => return WindowEnd::Closed,
    };
    let active = match first {
        Ok(a) => a,
        Err(outcome) => {
            ctx.state(State::Disconnected(
                outcome
                    .detail
                    .clone()
                    .unwrap_or_else(|| "connection failed".into()),
            ));
            return WindowEnd::Failed(outcome);
        }
    };
    let nla = active.outcome.protocol.as_deref() == Some("nla");
    let mut session = active.session;
    connected(ctx, &session, nla, false);
    let mut resize_noted = false;
    loop {
        let lost = match run_session(ctx, &mut session, commands, &mut resize_noted).await {
            Next::End(end) => return end,
            Next::Lost(f) => f,
        };
        if !is_transient(&lost) {
            // Not the network and not the server's goodbye (that is `Update::ended`): the session broke.
            ctx.state(State::Disconnected(lost.to_string()));
            let via_gateway = matches!(ctx.route, Route::Gateway { .. });
            return WindowEnd::Failed(LoginOutcome::failed(
                &lost,
                session.started.elapsed(),
                via_gateway,
            ));
        }
        let size = (session.image().width(), session.image().height());
        match reconnect(ctx, commands, &lost, size).await {
            Ok(s) => {
                session = s;
                connected(ctx, &session, nla, true);
            }
            Err(end) => return end,
        }
    }
}

/// The session is up: tell the user and the window. The first connection has drawn its first frame already;
/// after a reconnect the window keeps the old picture until the server draws (a new size replaces it).
fn connected(ctx: &Ctx, session: &Session, nla: bool, again: bool) {
    let (w, h) = (session.image().width(), session.image().height());
    let word = if again { "reconnected" } else { "connected" };
    info!(nla, width = w, height = h, "{word}");
    ctx.say(format!(
        "{word} ({}), desktop {w}x{h}",
        if nla { "NLA" } else { "TLS" }
    ));
    ctx.state(State::Connected { nla });
    ctx.send(Event::Desktop(w, h));
    if !again {
        ctx.publish(session.image(), None);
    }
}

/// Waits for the window to close (input and resizes before the session is up are dropped).
async fn until_close(commands: &mut mpsc::UnboundedReceiver<Command>) {
    while let Some(c) = commands.recv().await {
        if matches!(c, Command::Close) {
            return;
        }
    }
}

/// Runs one connected session until it ends, the window closes, or the connection is lost.
async fn run_session(
    ctx: &Ctx,
    session: &mut Session,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    resize_noted: &mut bool,
) -> Next {
    loop {
        tokio::select! {
            read = session.read() => {
                let update = match read {
                    Ok((action, pdu)) => session.process(action, &pdu).await,
                    Err(f) => Err(f),
                };
                let u = match update {
                    Ok(u) => u,
                    Err(f) => return Next::Lost(f),
                };
                if let Some((w, h)) = u.resized {
                    debug!(width = w, height = h, "desktop resized");
                    ctx.send(Event::Desktop(w, h));
                    ctx.publish(session.image(), None);
                } else if let Some(r) = &u.drawn {
                    ctx.publish(session.image(), Some(r));
                }
                if let Some(e) = u.ended {
                    ctx.state(State::Disconnected(e.reason.clone()));
                    return Next::End(WindowEnd::Ended(e));
                }
            }
            command = commands.recv() => match command {
                Some(Command::Input(events)) => {
                    if let Err(f) = session.input(&events).await {
                        return Next::Lost(f);
                    }
                }
                Some(Command::Resize(w, h)) => {
                    let current = (u32::from(session.image().width()), u32::from(session.image().height()));
                    let (w, h) = desktop_size_for(w, h);
                    let asked = if (w, h) == current { Ok(true) } else { session.resize(w, h).await };
                    match asked {
                        Ok(true) => debug!(width = w, height = h, "desktop size requested"),
                        Ok(false) => {
                            if !std::mem::replace(resize_noted, true) {
                                ctx.say(format!(
                                    "the server does not resize its desktop (no Display Control): \
                                     it stays {}x{}, scaled into the window",
                                    current.0, current.1
                                ));
                            }
                        }
                        Err(f) => return Next::Lost(f),
                    }
                }
                Some(Command::Close) | None => {
                    // Bounded: a server that stops reading must not hold the window open.
                    let _ = tokio::time::timeout(Duration::from_secs(2), session.disconnect()).await;
                    ctx.state(State::Disconnected("closed".into()));
                    return Next::End(WindowEnd::Closed);
                }
            },
        }
    }
}

/// Reconnects with exponential backoff. `Err` when the window closed or the attempts gave up.
async fn reconnect(
    ctx: &Ctx,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    lost: &Failure,
    size: (u16, u16),
) -> Result<Session, WindowEnd> {
    ctx.say(format!("lost the connection: {lost}"));
    let mut settings = ctx.settings.clone();
    settings.desktop = size;
    let started = Instant::now();
    let via_gateway = matches!(ctx.route, Route::Gateway { .. });
    let mut last = lost.clone();
    for attempt in 1..=RECONNECT_ATTEMPTS {
        let wait = backoff(attempt);
        ctx.say(format!(
            "reconnecting in {}s (attempt {attempt}/{RECONNECT_ATTEMPTS})",
            wait.as_secs()
        ));
        let due = tokio::time::Instant::now() + wait;
        loop {
            let left = due.saturating_duration_since(tokio::time::Instant::now());
            ctx.state(State::Reconnecting {
                attempt,
                of: RECONNECT_ATTEMPTS,
                in_secs: left.as_secs_f64().ceil() as u64,
            });
            if left.is_zero() {
                break;
            }
            let tick = left.min(Duration::from_secs(1));
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = until_close(commands) => return Err(WindowEnd::Closed),
            }
        }
        let opened = tokio::select! {
            r = native::open(&ctx.route, &ctx.login, &settings, &ctx.trust) => r,
            () = until_close(commands) => return Err(WindowEnd::Closed),
        };
        match opened {
            Ok(c) => return Ok(Session::new(c)),
            Err(f) => {
                debug!(attempt, error = %f, "reconnect failed");
                ctx.say(format!("attempt {attempt} failed: {f}"));
                let retry = retryable(&f);
                last = f;
                if !retry {
                    break;
                }
            }
        }
    }
    ctx.say(format!("gave up reconnecting: {last}"));
    ctx.state(State::Disconnected(last.to_string()));
    Err(WindowEnd::Failed(LoginOutcome::failed(
        &last,
        started.elapsed(),
        via_gateway,
    )))
}

// ---------------------------------------------------------------------------------------------------------
// The policy (pure)

/// The wait before reconnect attempt `attempt` (1-based): 1, 2, 4, 8, 16 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6))
}

/// A failure of the running session that a reconnect may mend: the network (an I/O error or a stall) while
/// the session was up. A server's disconnect is not a failure (it arrives as `Update::ended`), nor is a
/// protocol error.
fn is_transient(f: &Failure) -> bool {
    f.stage == Stage::Session && matches!(f.kind, FailureKind::Io(_) | FailureKind::Timeout)
}

/// Whether a failed reconnect attempt is worth another: the network again, not the credentials or the
/// certificate.
fn retryable(f: &Failure) -> bool {
    matches!(f.kind, FailureKind::Io(_) | FailureKind::Timeout) && f.status() != LoginStatus::Failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_waits_1_2_4_8_16_seconds() {
        let schedule: Vec<u64> = (1..=RECONNECT_ATTEMPTS).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(schedule, [1, 2, 4, 8, 16]);
        assert_eq!(backoff(100), Duration::from_secs(64), "bounded");
    }

    #[test]
    fn only_network_losses_in_the_session_are_retried() {
        use std::io::ErrorKind;
        let f = |stage, kind| Failure::new(stage, kind, "x");
        assert!(is_transient(&f(
            Stage::Session,
            FailureKind::Io(ErrorKind::ConnectionReset)
        )));
        assert!(is_transient(&f(
            Stage::Session,
            FailureKind::Io(ErrorKind::UnexpectedEof)
        )));
        assert!(is_transient(&f(Stage::Session, FailureKind::Timeout)));
        assert!(!is_transient(&f(Stage::Session, FailureKind::Disconnected(None))));
        assert!(!is_transient(&f(Stage::Session, FailureKind::Protocol)));
        assert!(!is_transient(&f(
            Stage::Credssp,
            FailureKind::Io(ErrorKind::ConnectionReset)
        )));
        // A reconnect attempt: the network again yes, a rejected password or certificate no.
        assert!(retryable(&f(
            Stage::Tcp,
            FailureKind::Io(ErrorKind::ConnectionRefused)
        )));
        assert!(retryable(&f(Stage::Tls, FailureKind::Timeout)));
        assert!(!retryable(&f(
            Stage::Credssp,
            FailureKind::Io(ErrorKind::UnexpectedEof)
        )));
        assert!(!retryable(&f(
            Stage::Credssp,
            FailureKind::Credssp(Some(0xC000_006D))
        )));
        assert!(!retryable(&f(
            Stage::Tls,
            FailureKind::CertRejected { sha256: "ab".into() }
        )));
    }

    /// A session context whose window is a channel, for what needs no server.
    fn ctx() -> (Ctx, std::sync::mpsc::Receiver<Event>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let endpoint = crate::native::Endpoint {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
            server_name: "web01".into(),
        };
        let ctx = Ctx {
            route: Route::Direct(endpoint),
            login: Login {
                user: "u".into(),
                domain: None,
                password: secrecy::SecretString::from("p".to_owned()),
            },
            settings: Settings {
                nla: true,
                desktop: (4, 3),
                autologon: false,
                timeout: Duration::from_secs(1),
                display_control: true,
                client_name: "test".into(),
            },
            trust: Trust::default(),
            to_window: Box::new(move |e| {
                let _ = tx.send(e);
            }),
            frame: Arc::new(Mutex::new(Frame::new(4, 3))),
            woken: Arc::new(AtomicBool::new(false)),
        };
        (ctx, rx)
    }

    #[test]
    fn the_window_is_woken_once_per_batch_of_frames() {
        use crate::native::window::layout::Rect;
        let (ctx, events) = ctx();
        let image = DecodedImage::new(ironrdp_graphics::image_processing::PixelFormat::RgbA32, 4, 3);
        let area = InclusiveRectangle {
            left: 1,
            top: 1,
            right: 1,
            bottom: 1,
        };
        ctx.publish(&image, Some(&area));
        ctx.publish(&image, None);
        let got: Vec<Event> = events.try_iter().collect();
        assert!(matches!(got.as_slice(), [Event::Frame]), "{got:?}");
        let dirty = ctx.frame.lock().unwrap_or_else(PoisonError::into_inner).dirty;
        assert_eq!(
            dirty,
            Some(Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 3
            })
        );
        // The window took the frame: the next drawing wakes it again.
        ctx.woken.store(false, Ordering::Release);
        ctx.publish(&image, Some(&area));
        let got: Vec<Event> = events.try_iter().collect();
        assert!(matches!(got.as_slice(), [Event::Frame]), "{got:?}");
    }

    #[tokio::test]
    async fn before_the_session_is_up_only_a_close_counts() {
        let (tx, mut commands) = mpsc::unbounded_channel();
        for c in [
            Command::Input(Vec::new()),
            Command::Resize(800, 600),
            Command::Close,
            Command::Resize(1, 1),
        ] {
            tx.send(c).expect("open");
        }
        until_close(&mut commands).await;
        // It returned at the Close: what came after is still queued.
        assert!(matches!(commands.try_recv(), Ok(Command::Resize(1, 1))));
        // A window that is gone (its sender dropped) counts as closed.
        drop(tx);
        until_close(&mut commands).await;
    }

    #[tokio::test]
    async fn closing_the_window_while_waiting_to_reconnect_ends_the_wait() {
        let (ctx, events) = ctx();
        let (tx, mut commands) = mpsc::unbounded_channel();
        tx.send(Command::Close).expect("open");
        let lost = Failure::new(
            Stage::Session,
            FailureKind::Io(std::io::ErrorKind::ConnectionReset),
            "reset",
        );
        let end = reconnect(&ctx, &mut commands, &lost, (4, 3)).await;
        assert!(matches!(end, Err(WindowEnd::Closed)));
        // No attempt was made: the user was told, and the title counted down, nothing more.
        let got: Vec<Event> = events.try_iter().collect();
        assert!(
            matches!(
                got.as_slice(),
                [
                    Event::Say(lost),
                    Event::Say(wait),
                    Event::State(State::Reconnecting {
                        attempt: 1,
                        of: RECONNECT_ATTEMPTS,
                        in_secs: 1
                    }),
                ] if lost.starts_with("lost the connection: ") && wait == "reconnecting in 1s (attempt 1/5)"
            ),
            "{got:?}"
        );
    }
}

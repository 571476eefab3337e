//! The window of `connect --with native`: the session drawn with winit + softbuffer, keyboard and mouse sent
//! back, the desktop following the window's size, and reconnection after a network loss.
//!
//! Two halves talk through channels:
//! - the **window** runs winit's event loop on the calling (main) thread ([`run`]); it turns winit's events
//!   into RDP input through ironrdp-input's [`Database`] and sends `Command`s to the session;
//! - the **session** runs on the tokio runtime (`drive`, on one of its blocking threads); it connects,
//!   decodes, copies each drawn region (converted to softbuffer's `0RGB` once) into the shared `Frame`, and
//!   wakes the window with `Event`s through winit's `EventLoopProxy`. Only the drawn region is copied, and
//!   only the damaged part of the window is redrawn when softbuffer still holds the previous frame.
//!
//! The pure parts (key table, letterbox and scale math, backoff schedule, which failures to retry, the title,
//! the resize debounce) are functions at the bottom with unit tests.
//!
//! Invariant: nothing here sees the password except `drive`, which hands it to [`super::open`] again on a
//! reconnect; no message, title or log line carries it.

mod input;
mod layout;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ironrdp_input::{Database, MousePosition, Operation};
use ironrdp_pdu::geometry::InclusiveRectangle;
use ironrdp_pdu::input::fast_path::FastPathInputEvent;
use ironrdp_session::image::DecodedImage;
use tokio::sync::mpsc;
use tracing::{debug, info};
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::{ElementState, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy, OwnedDisplayHandle};
use winit::keyboard::{KeyCode, PhysicalKey};
use winit::window::{Window, WindowId};

use self::input::{mouse_button, pause_events, repeated, scancode, wheel};
use self::layout::{Frame, Layout, Rect, blit, desktop_size_for};
use super::failure::{Failure, FailureKind, LoginStatus, Stage};
use super::session::{Ended, Session};
use super::{Login, LoginOutcome, Route, Settings, Trust};
use crate::probe::report::{Finding, Severity};

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

/// How long the window's size must stay still before the desktop is asked to follow it.
const RESIZE_DEBOUNCE: Duration = Duration::from_millis(300);

/// How long a closed window waits for the clean disconnect before rdpl goes anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Opens the window and runs the session in it until the window is closed or the session ends.
///
/// The event loop runs on the calling thread (the main thread: macOS requires it); the session runs on `rt`.
/// `say` gets the lines worth showing the user (connected, reconnecting, the desktop cannot resize, ...).
pub fn run(
    rt: &tokio::runtime::Runtime,
    route: &Route,
    login: &Login,
    settings: &Settings,
    trust: &Trust,
    title: &str,
    say: &mut dyn FnMut(&str),
) -> WindowEnd {
    let event_loop = match build_event_loop() {
        Ok(l) => l,
        Err(e) => return WindowEnd::Failed(no_window(&e)),
    };
    let context = match softbuffer::Context::new(event_loop.owned_display_handle()) {
        Ok(c) => c,
        Err(e) => return WindowEnd::Failed(no_window(&format!("softbuffer: {e}"))),
    };
    let (w, h) = settings.desktop;
    let frame = Arc::new(Mutex::new(Frame::new(w, h)));
    let woken = Arc::new(AtomicBool::new(false));
    let (commands, received) = mpsc::unbounded_channel();
    let ctx = Ctx {
        route: route.clone(),
        login: Login {
            user: login.user.clone(),
            domain: login.domain.clone(),
            password: login.password.clone(),
        },
        settings: settings.clone(),
        trust: trust.clone(),
        proxy: event_loop.create_proxy(),
        frame: Arc::clone(&frame),
        woken: Arc::clone(&woken),
    };
    // The session future is driven by `block_on` on one of the runtime's blocking threads rather than
    // `spawn`ed: rustc cannot prove the connector's future `Send` for every lifetime of its borrows (the
    // "implementation of `Send` is not general enough" limitation, rust-lang/rust#110338). `abandon` ends it
    // should it not finish after the window is gone.
    let (abandon, abandoned) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.handle().clone();
    let task = rt.spawn_blocking(move || {
        handle.block_on(async move {
            tokio::select! {
                end = drive(ctx, received) => end,
                _ = abandoned => WindowEnd::Closed,
            }
        })
    });

    let mut app = App {
        base: title.to_owned(),
        size: (u32::from(w), u32::from(h)),
        context,
        window: None,
        surface: None,
        surface_size: (0, 0),
        drawn: None,
        frame,
        woken,
        commands,
        input: Database::new(),
        connected: false,
        desktop: (u32::from(w), u32::from(h)),
        sized_to_desktop: false,
        resize: Debounce::default(),
        closing: None,
        finished: false,
        window_error: None,
        say,
    };
    if let Err(e) = event_loop.run_app(&mut app) {
        app.window_error.get_or_insert_with(|| e.to_string());
    }
    // Whatever ended the loop, the session is told to end (a no-op when it already has).
    let _ = app.commands.send(Command::Close);
    let window_error = app.window_error.take();
    drop(app);
    let end = rt.block_on(async {
        let mut task = task;
        let joined = match tokio::time::timeout(CLOSE_GRACE, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                debug!("the session did not end in time; abandoning it");
                let _ = abandon.send(());
                task.await
            }
        };
        joined.unwrap_or_else(|e| {
            debug!(error = %e, "the session task failed");
            WindowEnd::Closed
        })
    });
    match (window_error, end) {
        (Some(e), WindowEnd::Closed) => WindowEnd::Failed(no_window(&e)),
        (_, end) => end,
    }
}

fn build_event_loop() -> Result<EventLoop<Event>, String> {
    let mut builder = EventLoop::<Event>::with_user_event();
    // rdpl calls this from its main thread; saying so keeps winit's "not the main thread" check from ever
    // panicking where the platform does not need it (Linux, Windows). macOS does need it.
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    winit::platform::x11::EventLoopBuilderExtX11::with_any_thread(&mut builder, true);
    #[cfg(windows)]
    winit::platform::windows::EventLoopBuilderExtWindows::with_any_thread(&mut builder, true);
    builder.build().map_err(|e| e.to_string())
}

/// The outcome for "no window could be opened": nothing was sent to the server.
fn no_window(detail: &str) -> LoginOutcome {
    LoginOutcome {
        status: LoginStatus::Error,
        ms: 0,
        connect_ms: None,
        first_frame_ms: None,
        protocol: None,
        tls_version: None,
        desktop: None,
        via_gateway: false,
        stage: None,
        detail: Some(detail.to_owned()),
        finding: Some(
            Finding::new(
                "window.unavailable",
                Severity::Error,
                format!("could not open a window: {detail}"),
            )
            .fix(
                "run rdpl in a graphical session (DISPLAY or WAYLAND_DISPLAY set), or use `--with xfreerdp`",
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Between the two halves

/// From the session to the window.
#[derive(Debug)]
enum Event {
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
enum Command {
    Input(Vec<FastPathInputEvent>),
    Resize(u32, u32),
    Close,
}

/// The connection state, as the title shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
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
// The session half

struct Ctx {
    route: Route,
    login: Login,
    settings: Settings,
    trust: Trust,
    proxy: EventLoopProxy<Event>,
    frame: Arc<Mutex<Frame>>,
    woken: Arc<AtomicBool>,
}

impl Ctx {
    fn send(&self, e: Event) {
        // The window is gone when this fails; the session notices through its command channel.
        let _ = self.proxy.send_event(e);
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
async fn drive(ctx: Ctx, mut commands: mpsc::UnboundedReceiver<Command>) -> WindowEnd {
    let end = drive_inner(&ctx, &mut commands).await;
    ctx.send(Event::Finished);
    end
}

async fn drive_inner(ctx: &Ctx, commands: &mut mpsc::UnboundedReceiver<Command>) -> WindowEnd {
    ctx.state(State::Connecting);
    let first = tokio::select! {
        r = super::until_first_frame(&ctx.route, &ctx.login, &ctx.settings, &ctx.trust) => r,
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
            return WindowEnd::Failed(LoginOutcome::failed(&lost, session.started, via_gateway));
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
            r = super::open(&ctx.route, &ctx.login, &settings, &ctx.trust) => r,
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
        started,
        via_gateway,
    )))
}

// ---------------------------------------------------------------------------------------------------------
// The window half

struct App<'a> {
    base: String,
    /// The size the window opens with.
    size: (u32, u32),
    context: softbuffer::Context<OwnedDisplayHandle>,
    window: Option<Arc<Window>>,
    surface: Option<softbuffer::Surface<OwnedDisplayHandle, Arc<Window>>>,
    surface_size: (u32, u32),
    /// The layout of the last present (a change means a full redraw).
    drawn: Option<Layout>,
    frame: Arc<Mutex<Frame>>,
    woken: Arc<AtomicBool>,
    commands: mpsc::UnboundedSender<Command>,
    input: Database,
    connected: bool,
    desktop: (u32, u32),
    sized_to_desktop: bool,
    resize: Debounce,
    closing: Option<Instant>,
    finished: bool,
    window_error: Option<String>,
    say: &'a mut dyn FnMut(&str),
}

impl App<'_> {
    fn send(&mut self, events: impl IntoIterator<Item = FastPathInputEvent>) {
        if !self.connected || self.closing.is_some() {
            return;
        }
        let events: Vec<_> = events.into_iter().collect();
        if !events.is_empty() {
            let _ = self.commands.send(Command::Input(events));
        }
    }

    fn close(&mut self, event_loop: &ActiveEventLoop) {
        if self.closing.is_some() {
            return;
        }
        let released = self.input.release_all();
        self.send(released);
        let _ = self.commands.send(Command::Close);
        self.closing = Some(Instant::now() + CLOSE_GRACE);
        if let Some(w) = &self.window {
            w.set_visible(false);
        }
        if self.finished {
            event_loop.exit();
        }
    }

    fn layout(&self) -> Option<Layout> {
        let size = self.window.as_ref()?.inner_size();
        Some(Layout::fit(self.desktop, (size.width, size.height)))
    }

    fn draw(&mut self) {
        let (Some(window), Some(surface)) = (&self.window, &mut self.surface) else {
            return;
        };
        let size = window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(size.width), NonZeroU32::new(size.height)) else {
            return;
        };
        if self.surface_size != (size.width, size.height) {
            if let Err(e) = surface.resize(w, h) {
                debug!(error = %e, "softbuffer resize");
                return;
            }
            self.surface_size = (size.width, size.height);
            self.drawn = None;
        }
        let mut frame = self.frame.lock().unwrap_or_else(PoisonError::into_inner);
        let layout = Layout::fit((frame.width, frame.height), (size.width, size.height));
        let dirty = frame.dirty.take();
        let mut buffer = match surface.buffer_mut() {
            Ok(b) => b,
            Err(e) => {
                debug!(error = %e, "softbuffer buffer");
                return;
            }
        };
        let full = buffer.age() != 1 || self.drawn != Some(layout);
        let region = if full {
            Rect {
                x: 0,
                y: 0,
                w: size.width,
                h: size.height,
            }
        } else {
            match dirty {
                Some(d) => layout.dst_of(d),
                None => return,
            }
        };
        blit(&layout, &frame.pixels, &mut buffer, region);
        drop(frame);
        let presented = match (NonZeroU32::new(region.w), NonZeroU32::new(region.h)) {
            (Some(width), Some(height)) if !full => buffer.present_with_damage(&[softbuffer::Rect {
                x: region.x,
                y: region.y,
                width,
                height,
            }]),
            _ => buffer.present(),
        };
        match presented {
            Ok(()) => self.drawn = Some(layout),
            Err(e) => debug!(error = %e, "softbuffer present"),
        }
    }

    fn key(&mut self, code: KeyCode, state: ElementState, repeat: bool) {
        let pressed = state == ElementState::Pressed;
        if code == KeyCode::Pause {
            if pressed && !repeat {
                self.send(pause_events());
            }
            return;
        }
        let Some(sc) = scancode(code) else {
            debug!(?code, "no scancode for this key");
            return;
        };
        let events = if pressed && repeat && self.input.is_key_pressed(sc) {
            // Auto-repeat is a repeated make code, without the break the database would put before it.
            vec![repeated(sc)]
        } else if pressed {
            self.input.apply([Operation::KeyPressed(sc)]).into_vec()
        } else {
            self.input.apply([Operation::KeyReleased(sc)]).into_vec()
        };
        self.send(events);
    }
}

impl ApplicationHandler<Event> for App<'_> {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_some() {
            return;
        }
        let attributes = Window::default_attributes()
            .with_title(title_of(&self.base, &State::Connecting))
            .with_inner_size(PhysicalSize::new(self.size.0, self.size.1));
        let window = match event_loop.create_window(attributes) {
            Ok(w) => Arc::new(w),
            Err(e) => {
                self.window_error = Some(e.to_string());
                let _ = self.commands.send(Command::Close);
                event_loop.exit();
                return;
            }
        };
        match softbuffer::Surface::new(&self.context, Arc::clone(&window)) {
            Ok(s) => self.surface = Some(s),
            Err(e) => {
                self.window_error = Some(format!("softbuffer: {e}"));
                let _ = self.commands.send(Command::Close);
                event_loop.exit();
                return;
            }
        }
        self.window = Some(window);
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: Event) {
        match event {
            Event::State(state) => {
                if let State::Connected { .. } = state {
                    // A new session knows no pressed keys: start from a clean slate.
                    self.input = Database::new();
                    self.connected = true;
                } else {
                    self.connected = false;
                }
                if let Some(w) = &self.window {
                    w.set_title(&title_of(&self.base, &state));
                }
            }
            Event::Say(line) => (self.say)(&line),
            Event::Frame => {
                self.woken.store(false, Ordering::Release);
                if let Some(w) = &self.window {
                    w.request_redraw();
                }
            }
            Event::Desktop(w, h) => {
                self.desktop = (u32::from(w), u32::from(h));
                if !std::mem::replace(&mut self.sized_to_desktop, true)
                    && let Some(window) = &self.window
                {
                    // The first desktop size: open at exactly that size (the server may have changed it).
                    let _ = window.request_inner_size(PhysicalSize::new(u32::from(w), u32::from(h)));
                }
            }
            Event::Finished => {
                self.finished = true;
                event_loop.exit();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, id: WindowId, event: WindowEvent) {
        if self.window.as_ref().is_none_or(|w| w.id() != id) {
            return;
        }
        match event {
            WindowEvent::CloseRequested => self.close(event_loop),
            WindowEvent::Destroyed => {
                // Destroyed from outside (no close request first): nothing more to draw on.
                self.surface = None;
                self.window = None;
                self.close(event_loop);
            }
            WindowEvent::RedrawRequested => self.draw(),
            WindowEvent::Resized(size) => {
                self.resize.changed(Instant::now(), (size.width, size.height));
                if let Some(w) = &self.window {
                    w.request_redraw();
                }
            }
            WindowEvent::Focused(false) => {
                let released = self.input.release_all();
                self.send(released);
            }
            WindowEvent::KeyboardInput {
                event, is_synthetic, ..
            } => {
                // Synthetic presses are keys held when the window got the focus (Alt of Alt+Tab...).
                if is_synthetic {
                    return;
                }
                if let PhysicalKey::Code(code) = event.physical_key {
                    self.key(code, event.state, event.repeat);
                }
            }
            WindowEvent::CursorMoved { position, .. } => {
                let Some(layout) = self.layout() else { return };
                let (x, y) = layout.desktop_at(position.x, position.y);
                let events = self.input.apply([Operation::MouseMove(MousePosition { x, y })]);
                self.send(events);
            }
            WindowEvent::MouseInput { state, button, .. } => {
                let Some(button) = mouse_button(button) else {
                    return;
                };
                let op = match state {
                    ElementState::Pressed => Operation::MouseButtonPressed(button),
                    ElementState::Released => Operation::MouseButtonReleased(button),
                };
                let events = self.input.apply([op]);
                self.send(events);
            }
            WindowEvent::MouseWheel { delta, .. } => {
                let events = self.input.apply(wheel(delta));
                self.send(events);
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let now = Instant::now();
        if self.closing.is_some_and(|deadline| now >= deadline) {
            event_loop.exit();
            return;
        }
        if let Some((w, h)) = self.resize.due(now)
            && self.connected
        {
            let _ = self.commands.send(Command::Resize(w, h));
        }
        let wake = [self.resize.deadline(), self.closing].into_iter().flatten().min();
        event_loop.set_control_flow(match wake {
            Some(at) => ControlFlow::WaitUntil(at),
            None => ControlFlow::Wait,
        });
    }
}

// ---------------------------------------------------------------------------------------------------------
// Pure parts

/// The window title for a state.
fn title_of(base: &str, state: &State) -> String {
    let what = match state {
        State::Connecting => "connecting\u{2026}".to_owned(),
        State::Connected { nla: true } => "connected (NLA)".to_owned(),
        State::Connected { nla: false } => "connected (TLS)".to_owned(),
        State::Reconnecting {
            attempt,
            of,
            in_secs: 0,
        } => format!("reconnecting (attempt {attempt}/{of})\u{2026}"),
        State::Reconnecting { attempt, of, in_secs } => {
            format!("reconnecting (attempt {attempt}/{of} in {in_secs}s)")
        }
        State::Disconnected(reason) => format!("disconnected: {reason}"),
    };
    format!("{base}: {what}")
}

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

/// Waits for the window's size to stay still for [`RESIZE_DEBOUNCE`].
#[derive(Debug, Default)]
struct Debounce {
    pending: Option<((u32, u32), Instant)>,
}

impl Debounce {
    fn changed(&mut self, now: Instant, size: (u32, u32)) {
        self.pending = Some((size, now + RESIZE_DEBOUNCE));
    }

    fn deadline(&self) -> Option<Instant> {
        self.pending.map(|(_, at)| at)
    }

    /// The size to ask for, once it has been still long enough.
    fn due(&mut self, now: Instant) -> Option<(u32, u32)> {
        match self.pending {
            Some((size, at)) if now >= at => {
                self.pending = None;
                Some(size)
            }
            _ => None,
        }
    }
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

    #[test]
    fn the_title_shows_the_state() {
        let t = |s| title_of("web01 - rdpl", &s);
        assert_eq!(t(State::Connecting), "web01 - rdpl: connecting\u{2026}");
        assert_eq!(t(State::Connected { nla: true }), "web01 - rdpl: connected (NLA)");
        assert_eq!(
            t(State::Connected { nla: false }),
            "web01 - rdpl: connected (TLS)"
        );
        assert_eq!(
            t(State::Reconnecting {
                attempt: 2,
                of: 5,
                in_secs: 2
            }),
            "web01 - rdpl: reconnecting (attempt 2/5 in 2s)"
        );
        assert_eq!(
            t(State::Reconnecting {
                attempt: 2,
                of: 5,
                in_secs: 0
            }),
            "web01 - rdpl: reconnecting (attempt 2/5)\u{2026}"
        );
        assert_eq!(
            t(State::Disconnected("the server ended it".into())),
            "web01 - rdpl: disconnected: the server ended it"
        );
    }

    #[test]
    fn resizes_wait_until_the_size_is_still() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert_eq!(d.due(t0), None);
        d.changed(t0, (800, 600));
        d.changed(t0 + Duration::from_millis(100), (900, 700));
        assert_eq!(d.deadline(), Some(t0 + Duration::from_millis(400)));
        assert_eq!(d.due(t0 + Duration::from_millis(350)), None);
        assert_eq!(d.due(t0 + Duration::from_millis(400)), Some((900, 700)));
        assert_eq!(d.due(t0 + Duration::from_millis(500)), None, "once");
    }
}

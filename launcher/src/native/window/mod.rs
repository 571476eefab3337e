//! The window of `connect --with native`: the session drawn with winit + softbuffer, keyboard and mouse sent
//! back, the desktop following the window's size, and reconnection after a network loss.
//!
//! Two halves talk through channels:
//! - the **window** (this file) runs winit's event loop on the calling (main) thread ([`run`]); it turns
//!   winit's events into RDP input through ironrdp-input's [`Database`] and sends `Command`s to the session;
//! - the **session** (`reconnect.rs`) runs on the tokio runtime (`drive`, on one of its blocking threads); it
//!   connects, decodes, copies each drawn region (converted to softbuffer's `0RGB` once) into the shared
//!   `Frame`, and wakes the window with `Event`s through winit's `EventLoopProxy`, which it sees only as a
//!   callback. Only the drawn region is copied, and only the damaged part of the window is redrawn when
//!   softbuffer still holds the previous frame.
//!
//! The pure parts are unit-tested where they live: `input.rs` (key table, Pause, auto-repeat, mouse buttons
//! and wheel), `layout.rs` (letterbox and scale math, the blit, the shared `Frame`), `reconnect.rs` (backoff
//! schedule, which failures to retry), and at the bottom of this file the title and the resize debounce.
//!
//! Invariant: nothing here sees the password except `drive`, which hands it to [`super::open`] again on a
//! reconnect; no message, title or log line carries it.

mod input;
mod layout;
mod reconnect;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ironrdp_input::{Database, MousePosition, Operation};
use ironrdp_pdu::input::fast_path::FastPathInputEvent;
use tokio::sync::mpsc;
use tracing::debug;
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::{ElementState, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, OwnedDisplayHandle};
use winit::keyboard::{KeyCode, PhysicalKey};
use winit::window::{Window, WindowId};

use self::input::{mouse_button, pause_events, repeated, scancode, wheel};
use self::layout::{Frame, Layout, Rect, blit};
pub use self::reconnect::RECONNECT_ATTEMPTS;
use self::reconnect::{Command, Ctx, Event, State, drive};
use super::LoginOutcome;
use super::target::{Login, Route, Settings, Trust};
use rdpl_core::finding::{Finding, FindingId};
use rdpl_core::login::LoginStatus;

pub use self::reconnect::WindowEnd;

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
    let proxy = event_loop.create_proxy();
    let ctx = Ctx {
        route: route.clone(),
        login: Login {
            user: login.user.clone(),
            domain: login.domain.clone(),
            password: login.password.clone(),
        },
        settings: settings.clone(),
        trust: trust.clone(),
        to_window: Box::new(move |e| {
            let _ = proxy.send_event(e);
        }),
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
        took: Duration::ZERO,
        connect: None,
        first_frame: None,
        protocol: None,
        tls_version: None,
        desktop: None,
        via_gateway: false,
        stage: None,
        detail: Some(detail.to_owned()),
        finding: Some(Finding::new(
            FindingId::WindowUnavailable,
            format!("could not open a window: {detail}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------
// The window

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
// Pure parts of the window

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

//! `rdpl connect --with native`: the window, end to end, against the FreeRDP shadow server (real NLA).
//!
//! Two private X displays keep it honest: the shadow server shares `remote`, rdpl's window opens on `local`.
//! What the window shows is read back from `local` (`xwd`); what the window sends is observed on `remote`:
//! the pointer position (`xdotool getmouselocation`) and the key and button events an `xev -root` logger
//! receives there. The shadow server injects input with XTEST, and with no window mapped on `remote` every
//! event is delivered to the root window, where xev listens; xev prints the keysym, so the check covers the
//! whole path: winit key -> scancode (with the E0 prefix and modifiers) -> RDP -> X keycode on the server.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::World;
use crate::connect::add_profile;
use crate::support::{self, PrivateXvfb, Shadow, certs, process, tool};

/// The remote desktop's colours (distinct from black, the letterbox and the empty `local` root).
const BLUE: [u8; 3] = [0x33, 0x66, 0xCC];
const ORANGE: [u8; 3] = [0xCC, 0x66, 0x33];

/// The shadow server's screen, and so the desktop size; `local` is larger, so the window fits 1:1.
const DESKTOP: (u32, u32) = (1024, 768);

/// What the shadow server logs when a client connection ends (FreeRDP 2).
const SHADOW_CLIENT_GONE: &str = "Failed to check FreeRDP file descriptor";

#[test]
fn native_window_shows_the_desktop_sends_input_and_closes_cleanly() {
    let mut needs = vec!["xdotool", "xwd", "xev", "xsetroot"];
    needs.extend(Shadow::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let remote = PrivateXvfb::start(DESKTOP.0, DESKTOP.1);
    let local = PrivateXvfb::start(1280, 1024);
    paint(&remote, BLUE);
    let w = World::new();
    let xev = Xev::start(&remote, &w.path("xev.log"));
    let shadow = Shadow::builder().display(&remote).start();
    add_profile(&w, "win01", shadow.addr(), Shadow::USER);

    let mut rdpl = Rdpl::start(&w, &local, "win01");
    let diag = |rdpl: &Rdpl| {
        format!(
            "--- rdpl stderr\n{}\n--- shadow\n{}\n--- xev\n{}",
            rdpl.stderr(),
            shadow.log(),
            xev.log()
        )
    };

    // The window opens, says it is connected with NLA and takes the desktop's size.
    let win = poll(Duration::from_secs(30), || {
        assert!(rdpl.running(), "rdpl ended early\n{}", diag(&rdpl));
        first_line(&xdotool(
            &local,
            &["search", "--name", "^win01 - rdpl: connected \\(NLA\\)$"],
        ))
    })
    .unwrap_or_else(|| panic!("no connected window on {}\n{}", local.display(), diag(&rdpl)));
    let geometry = poll(Duration::from_secs(5), || {
        let g = geometry(&local, &win);
        (g.2, g.3).eq(&DESKTOP).then_some(g)
    })
    .unwrap_or_else(|| {
        panic!(
            "the window takes the desktop's size {DESKTOP:?}: {:?}\n{}",
            geometry(&local, &win),
            diag(&rdpl)
        )
    });

    // What the remote shows fills the window, and follows it when it changes (incremental updates).
    for colour in [BLUE, ORANGE] {
        paint(&remote, colour);
        let share = poll(Duration::from_secs(20), || {
            let s = share_of(&local, geometry, colour);
            (s >= 0.98).then_some(s)
        });
        assert!(
            share.is_some(),
            "#{} covers {:.1}% of the window\n{}",
            hex(colour),
            100.0 * share_of(&local, geometry, colour),
            diag(&rdpl)
        );
    }

    // The pointer: a move in the window moves the remote pointer to the same spot (the window is 1:1).
    xdotool(&local, &["windowfocus", "--sync", &win]);
    let (x, y) = (geometry.0 + 100, geometry.1 + 200);
    xdotool(&local, &["mousemove", "--sync", &x.to_string(), &y.to_string()]);
    let at = poll(Duration::from_secs(10), || {
        let loc = xdotool(&remote, &["getmouselocation"]);
        loc.starts_with("x:100 y:200 ").then_some(loc)
    });
    assert!(
        at.is_some(),
        "remote pointer at {}\n{}",
        xdotool(&remote, &["getmouselocation"]),
        diag(&rdpl)
    );

    // A click there, and keys: a letter, an extended key (E0 4D) and a shifted letter.
    xdotool(&local, &["click", "1"]);
    xdotool(&local, &["key", "a", "Right", "shift+b"]);
    let expected: [&[&str]; 6] = [
        &["ButtonPress", "root:(100,200)", "button 1,"],
        &["ButtonRelease", "root:(100,200)", "button 1,"],
        &["KeyPress", "(keysym 0x61, a)"],
        &["KeyPress", "(keysym 0xff53, Right)"],
        &["KeyPress", "(keysym 0xffe1, Shift_L)"],
        // b with Shift held: state 0x1, so xev names the keysym B.
        &["KeyPress", "state 0x1,", "(keysym 0x42, B)"],
    ];
    let seen = poll(Duration::from_secs(10), || {
        expected.iter().all(|e| xev.saw(e)).then_some(())
    });
    assert!(
        seen.is_some(),
        "the remote received the click and the keys: missing {:?}\n{}",
        expected.iter().filter(|e| !xev.saw(e)).collect::<Vec<_>>(),
        diag(&rdpl)
    );

    // Closing the window: a clean disconnect, rdpl exits 0 within a few seconds, the server sees the client go.
    let gone_before = shadow.log().matches(SHADOW_CLIENT_GONE).count();
    let closed = Instant::now();
    xdotool(&local, &["windowclose", &win]);
    let code = rdpl.wait(Duration::from_secs(10));
    let took = closed.elapsed();
    assert_eq!(
        code,
        Some(0),
        "rdpl exit code after the window closed\n{}",
        diag(&rdpl)
    );
    assert!(took < Duration::from_secs(5), "rdpl took {took:?} to exit");
    let gone = poll(Duration::from_secs(5), || {
        (shadow.log().matches(SHADOW_CLIENT_GONE).count() > gone_before).then_some(())
    });
    assert!(
        gone.is_some(),
        "the shadow server saw the client leave\n{}",
        diag(&rdpl)
    );
    let stderr = rdpl.stderr();
    assert!(stderr.contains("connected (NLA), desktop 1024x768"), "{stderr}");
    assert!(
        !stderr.contains(Shadow::PASSWORD),
        "the password is never printed"
    );
}

/// The server goes away mid-session and comes back on the same port with the same certificate: the window says
/// it is reconnecting, connects again by itself, and shows the desktop as it is now.
#[test]
fn native_window_reconnects_after_the_connection_is_lost() {
    let mut needs = vec!["xdotool", "xwd", "xsetroot", "openssl"];
    needs.extend(Shadow::NEEDS);
    if !support::require_all(&needs) {
        return;
    }
    let remote = PrivateXvfb::start(DESKTOP.0, DESKTOP.1);
    let local = PrivateXvfb::start(1280, 1024);
    paint(&remote, BLUE);
    // A certificate of its own, so the server that comes back is the one rdpl decided to trust.
    let cert = certs::self_signed(&["127.0.0.1"]);
    let shadow = Shadow::builder().display(&remote).cert(&cert).start();
    let addr = shadow.addr();
    let w = World::new();
    add_profile(&w, "win02", addr, Shadow::USER);
    let mut rdpl = Rdpl::start(&w, &local, "win02");
    let title = |state: &str| format!("^win02 - rdpl: {state}");
    let win = poll(Duration::from_secs(30), || {
        assert!(rdpl.running(), "rdpl ended early\n{}", rdpl.stderr());
        first_line(&xdotool(
            &local,
            &["search", "--name", &title("connected \\(NLA\\)$")],
        ))
    })
    .unwrap_or_else(|| panic!("no connected window\n{}\n{}", rdpl.stderr(), shadow.log()));
    let geometry = geometry(&local, &win);

    // The server dies: the title counts down to the next attempt.
    drop(shadow);
    let reconnecting = poll(Duration::from_secs(10), || {
        first_line(&xdotool(
            &local,
            &["search", "--name", &title("reconnecting \\(attempt ")],
        ))
    });
    assert!(reconnecting.is_some(), "no reconnecting title\n{}", rdpl.stderr());

    // It comes back (same port, same certificate), the window reconnects and shows today's desktop.
    paint(&remote, ORANGE);
    let shadow = Shadow::builder()
        .display(&remote)
        .cert(&cert)
        .port(addr.port())
        .start();
    let back = poll(Duration::from_secs(40), || {
        assert!(
            rdpl.running(),
            "rdpl gave up\n{}\n{}",
            rdpl.stderr(),
            shadow.log()
        );
        (rdpl.stderr().contains("reconnected (NLA)") && share_of(&local, geometry, ORANGE) >= 0.98)
            .then_some(())
    });
    assert!(
        back.is_some(),
        "reconnected and drawing: orange covers {:.1}%\n{}\n--- shadow\n{}",
        100.0 * share_of(&local, geometry, ORANGE),
        rdpl.stderr(),
        shadow.log()
    );
    let stderr = rdpl.stderr();
    assert!(stderr.contains("lost the connection"), "{stderr}");
    assert!(stderr.contains("reconnecting in 1s (attempt 1/5)"), "{stderr}");

    xdotool(&local, &["windowclose", &win]);
    assert_eq!(rdpl.wait(Duration::from_secs(10)), Some(0), "{}", rdpl.stderr());
    assert!(
        !rdpl.stderr().contains(Shadow::PASSWORD),
        "the password is never printed"
    );
}

fn first_line(s: &str) -> Option<String> {
    s.lines().next().map(str::to_owned)
}

/// `rdpl connect --with native PROFILE --password-stdin` with its window on `display`; killed on drop.
struct Rdpl {
    child: Child,
    stderr: PathBuf,
}

impl Rdpl {
    fn start(w: &World, display: &PrivateXvfb, profile: &str) -> Rdpl {
        let stderr = w.path("rdpl.stderr");
        let mut c = w.cmd(&["connect", "--with", "native", profile, "--password-stdin"]);
        c.env("DISPLAY", display.display())
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(w.path("rdpl.stdout")).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        let mut child = process::harden(&mut c).spawn().expect("spawn rdpl");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{}", Shadow::PASSWORD).expect("write the password");
        drop(stdin);
        Rdpl { child, stderr }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// The exit code, or `None` if rdpl is still running after `timeout`.
    fn wait(&mut self, timeout: Duration) -> Option<i32> {
        poll(timeout, || self.child.try_wait().expect("try_wait")).and_then(|s| s.code())
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Rdpl {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `xev -root` on a display, logging key and button events to a file; killed on drop.
struct Xev {
    _process: process::ServerProcess,
    log: PathBuf,
}

impl Xev {
    fn start(display: &PrivateXvfb, log: &Path) -> Xev {
        let mut cmd = Command::new(tool("xev"));
        cmd.args(["-root", "-event", "keyboard", "-event", "button"])
            .env("DISPLAY", display.display());
        let process = process::ServerProcess::spawn("xev", cmd, log);
        let xev = Xev {
            _process: process,
            log: log.to_owned(),
        };
        // Ready once it reports a right click made right here (XTEST, at the pointer's start in the middle).
        let ready = poll(Duration::from_secs(10), || {
            xdotool(display, &["click", "3"]);
            xev.events()
                .iter()
                .any(|e| e.contains("ButtonPress") && e.contains("button 3,"))
                .then_some(())
        });
        assert!(ready.is_some(), "xev does not report events:\n{}", xev.log());
        xev
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The events so far, one text each (xev separates them with an empty line).
    fn events(&self) -> Vec<String> {
        self.log().split("\n\n").map(str::to_owned).collect()
    }

    /// Whether one event has all of `parts`.
    fn saw(&self, parts: &[&str]) -> bool {
        self.events().iter().any(|e| parts.iter().all(|p| e.contains(p)))
    }
}

/// Calls `f` every 100 ms until it returns `Some`, for at most `timeout`.
fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs xdotool on a display; its standard output.
#[track_caller]
fn xdotool(display: &PrivateXvfb, args: &[&str]) -> String {
    x_tool("xdotool", display, args)
}

#[track_caller]
fn x_tool(program: &str, display: &PrivateXvfb, args: &[&str]) -> String {
    let mut c = Command::new(tool(program));
    c.args(args).env("DISPLAY", display.display());
    let out = process::run_with_timeout(c, Duration::from_secs(10));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Paints the root window of `display` one colour.
fn paint(display: &PrivateXvfb, [r, g, b]: [u8; 3]) {
    x_tool(
        "xsetroot",
        display,
        &["-solid", &format!("#{r:02x}{g:02x}{b:02x}")],
    );
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("{r:02x}{g:02x}{b:02x}")
}

/// A window's position and size: `(x, y, width, height)`.
fn geometry(display: &PrivateXvfb, win: &str) -> (u32, u32, u32, u32) {
    let out = xdotool(display, &["getwindowgeometry", win]);
    let pair = |key: &str, sep: char| -> (u32, u32) {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.split_once(sep))
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .unwrap_or_else(|| panic!("getwindowgeometry: {out}"))
    };
    let (x, y) = pair("Position:", ',');
    let (w, h) = pair("Geometry:", 'x');
    (x, y, w, h)
}

/// The share of the pixels in `area` (of a screenshot of `display`) that are `colour` (each channel within 6,
/// should a codec round).
fn share_of(display: &PrivateXvfb, (x, y, w, h): (u32, u32, u32, u32), colour: [u8; 3]) -> f64 {
    let shot = Xwd::capture(display);
    let mut hits = 0u64;
    for py in y..y + h {
        for px in x..x + w {
            let p = shot.pixel(px, py);
            if p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 6) {
                hits += 1;
            }
        }
    }
    hits as f64 / (f64::from(w) * f64::from(h)).max(1.0)
}

/// A screenshot in X Window Dump format (`xwd -root`): a 100-byte big-endian header, the window name, the
/// colour map (12 bytes an entry), then the pixels. Only what Xvfb's depth-24 TrueColor screens produce is
/// read: ZPixmap, 32 bits per pixel, masks 0xFF0000 / 0xFF00 / 0xFF.
struct Xwd {
    width: u32,
    height: u32,
    bytes_per_line: usize,
    lsb_first: bool,
    pixels: Vec<u8>,
}

impl Xwd {
    fn capture(display: &PrivateXvfb) -> Xwd {
        let mut c = Command::new(tool("xwd"));
        c.args(["-root", "-silent", "-display", &display.display()]);
        let out = process::run_with_timeout(c, Duration::from_secs(10));
        assert!(
            out.status.success(),
            "xwd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Xwd::parse(&out.stdout)
    }

    fn parse(bytes: &[u8]) -> Xwd {
        let field = |i: usize| -> u32 {
            let b: [u8; 4] = bytes[i * 4..i * 4 + 4].try_into().expect("4 bytes");
            u32::from_be_bytes(b)
        };
        let (header_size, format, width, height) = (field(0), field(2), field(4), field(5));
        let (byte_order, bits_per_pixel, bytes_per_line) = (field(7), field(11), field(12));
        let masks = (field(14), field(15), field(16));
        let ncolors = field(19);
        assert_eq!(format, 2, "ZPixmap");
        assert_eq!(bits_per_pixel, 32);
        assert_eq!(masks, (0xFF_0000, 0xFF00, 0xFF), "TrueColor masks");
        let start = header_size as usize + ncolors as usize * 12;
        let pixels = bytes[start..].to_vec();
        assert!(
            pixels.len() >= bytes_per_line as usize * height as usize,
            "truncated xwd"
        );
        Xwd {
            width,
            height,
            bytes_per_line: bytes_per_line as usize,
            lsb_first: byte_order == 0,
            pixels,
        }
    }

    /// `[r, g, b]` at `(x, y)`; black outside the screen.
    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        if x >= self.width || y >= self.height {
            return [0; 3];
        }
        let at = y as usize * self.bytes_per_line + x as usize * 4;
        let b: [u8; 4] = self.pixels[at..at + 4].try_into().expect("4 bytes");
        let v = if self.lsb_first {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        };
        let [_, r, g, b] = v.to_be_bytes();
        [r, g, b]
    }
}

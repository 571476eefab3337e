//! A real login through xrdp: rdpl's `--autologon` (the credentials in the Client Info PDU, INFO_AUTOLOGON)
//! against xrdp (TLS, no NLA) and `xrdp-sesman` with a local test user reaches that user's own Xorg desktop,
//! and a wrong password does not. The harness is `support::sesman` (RECIPES.md section 1, "Full login").

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::connect::add_profile;
use crate::support::{self, SecurityLayer, Sesman, Xrdp, process, sesman};
use crate::{Run, World};

/// How long one rdpl run may take (a screenshot: --timeout 30s, then up to --max-wait 40s, with margin).
const RUN_LIMIT: Duration = Duration::from_secs(90);
/// Screenshot attempts at most, and the time they may take together: a session slow to draw (a loaded CI
/// machine: Xorg starts, then xsetroot, then the xterm) can settle on an early frame; the next connection
/// reaches the same session (sesman's Policy=Default reconnects the user), which has drawn by then.
const ATTEMPTS: usize = 3;
const BUDGET: Duration = Duration::from_secs(150);

/// Runs `c` with `stdin` written to it; kills its process group and panics after `limit`.
#[track_caller]
fn run_bounded(mut c: Command, stdin: &str, limit: Duration) -> Run {
    process::harden(&mut c)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn rdpl");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            b
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > limit {
            let pgid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
            // SAFETY: kill(2) has no memory-safety preconditions; the group is the one this child leads
            // (harden), and it is not reaped yet, so the id cannot have been reused.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{c:?} still running after {limit:?}, killed\n--- stderr\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run(std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// xrdp's own screens (login dialog, "Connection Log" with "login failed"): the dialog's grey and its title
/// bar's colour, as xrdp's built-in defaults (what the harness's xrdp.ini, which sets no colours, gets) and
/// as Debian's /etc/xrdp/xrdp.ini sets them (`grey=dedede`, `blue=009cb5`).
const XRDP_DIALOG: &[[u8; 3]] = &[[0xc0, 0xc0, 0xc0], [0xde, 0xde, 0xde]];
const XRDP_TITLE: &[[u8; 3]] = &[[0x00, 0x00, 0xff], [0x00, 0x9c, 0xb5]];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];

/// A decoded screenshot.
struct Picture {
    width: u32,
    height: u32,
    /// RGB or RGBA samples.
    pixels: Vec<u8>,
    channels: usize,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{}, per mille: desktop {}, white {}, xrdp dialog {}, xrdp title {}",
            self.width,
            self.height,
            self.permille(&[Sesman::DESKTOP]),
            self.permille(&[WHITE]),
            self.permille(XRDP_DIALOG),
            self.permille(XRDP_TITLE)
        )
    }
}

impl Picture {
    fn read(path: &Path) -> Picture {
        let dec = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(path).expect("open png"),
        ));
        let mut r = dec.read_info().expect("a PNG header");
        let mut pixels = vec![0; r.output_buffer_size().expect("size")];
        let info = r.next_frame(&mut pixels).expect("a PNG frame");
        pixels.truncate(info.buffer_size());
        let channels = info.color_type.samples();
        assert!(channels >= 3, "an RGB(A) PNG: {:?}", info.color_type);
        Picture {
            width: info.width,
            height: info.height,
            pixels,
            channels,
        }
    }

    /// Per mille of the pixels within 16 per channel of one of `colours`.
    fn permille(&self, colours: &[[u8; 3]]) -> usize {
        let near = |px: &[u8]| {
            colours
                .iter()
                .any(|c| px.iter().zip(c).all(|(a, b)| a.abs_diff(*b) < 16))
        };
        let total = self.pixels.len() / self.channels;
        let hits = self
            .pixels
            .chunks_exact(self.channels)
            .filter(|px| near(px))
            .count();
        hits * 1000 / total.max(1)
    }
}

/// The password appears in nothing rdpl printed. (Checked before any assertion that prints rdpl's output.)
#[track_caller]
fn assert_not_printed(r: &Run, password: &str) {
    assert!(
        !r.stdout().contains(password) && !r.stderr().contains(password),
        "rdpl printed the password"
    );
}

#[test]
fn autologon_through_xrdp_and_sesman_reaches_the_users_desktop_and_a_wrong_password_does_not() {
    let mut needs = Xrdp::NEEDS.to_vec();
    needs.extend(Sesman::NEEDS);
    if !support::require_all(&needs) || !Sesman::available() {
        return;
    }
    let started = Instant::now();
    let sesman = Sesman::start();
    let user = sesman.user();
    let password = user.password().to_owned();
    // The Xrdp harness's [Xorg] section (ip=127.0.0.1, port=-1: "ask sesman") is the only session type, so
    // autologon with an empty domain starts it.
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let w = World::new();
    add_profile(&w, "desk", xrdp.addr(), user.name());
    let logs = |what: &str| format!("{what}\n{}\n--- xrdp\n{}", sesman.log(), xrdp.log());

    // 1. `check --login`: even the right password is only "not verified": xrdp has no NLA, the handshake
    //    checks nothing (and check does not log on, so no session starts here).
    let check = run_bounded(
        w.cmd(&[
            "check",
            "desk",
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "15s",
        ]),
        &format!("{password}\n"),
        RUN_LIMIT,
    );
    assert_not_printed(&check, &password);
    check.expect(0);
    let login = check.json()["login"].clone();
    assert_eq!(login["status"], "not_verified", "{login}");
    assert_eq!(login["protocol"], "tls", "{login}");
    // (Only this user: sesman serves every xrdp on the machine, so other tests' logins may show in its log.)
    assert!(
        !sesman.log().contains(user.name()),
        "check --login sent no credentials to sesman\n{}",
        sesman.log()
    );

    // 2. The screenshot with the right password: PAM accepts it, sesman starts the user's Xorg session, and
    //    the picture is that desktop (sea green with a white xterm), not xrdp's login screen.
    let desk = w.path("desk.png");
    let shot = |out: &Path, pw: &str, settle: &str| {
        let r = run_bounded(
            w.cmd(&[
                "screenshot",
                "desk",
                "-o",
                out.to_str().expect("utf-8 path"),
                "--password-stdin",
                "--autologon",
                "--settle",
                settle,
                "--max-wait",
                "40s",
                "--timeout",
                "30s",
            ]),
            &format!("{pw}\n"),
            RUN_LIMIT,
        );
        assert_not_printed(&r, &password);
        r
    };
    let mut tries = Vec::new();
    let picture = loop {
        let t = Instant::now();
        let r = shot(&desk, &password, "2s");
        r.expect(0);
        let pic = Picture::read(&desk);
        tries.push(format!(
            "attempt {}: {:?}, {pic:?}; {}",
            tries.len() + 1,
            t.elapsed(),
            r.stdout().lines().next().unwrap_or_default()
        ));
        if pic.permille(&[Sesman::DESKTOP]) > 600 || tries.len() >= ATTEMPTS || started.elapsed() > BUDGET {
            break pic;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(
        picture.permille(&[Sesman::DESKTOP]) > 600,
        "the user's desktop colour covers most of the screenshot: {picture:?}\n{}\n{}",
        tries.join("\n"),
        logs("--- sesman")
    );
    assert!(
        picture.permille(&[WHITE]) > 10,
        "the session's xterm is on the desktop: {picture:?}\n{}",
        tries.join("\n")
    );
    assert!(
        picture.permille(XRDP_DIALOG) < 10 && picture.permille(XRDP_TITLE) < 2,
        "no xrdp dialog on the desktop: {picture:?}"
    );
    assert!(
        sesman
            .log()
            .contains(&format!("Session started successfully for user {}", user.name())),
        "{}",
        logs("sesman started the user's session")
    );
    let running: Vec<String> = user.processes().into_iter().map(|(_, name)| name).collect();
    for p in ["Xorg", "xterm", "xrdp-chansrv"] {
        assert!(
            running.iter().any(|r| r == p),
            "{p} runs as {}: {running:?}",
            user.name()
        );
    }

    // 3. A wrong password: PAM rejects it, so the screenshot is xrdp's "login failed" screen, not the desktop
    //    (even though a session of that user is running right now). PAM delays a failure by about 2 s, during
    //    which xrdp draws nothing: a settle time longer than that waits for the dialog.
    let bad = w.path("bad.png");
    let wrong = format!("{password}-wrong");
    let r = shot(&bad, &wrong, "4s");
    // xrdp sends nothing that tells a rejected logon (no Logon Error Info, no Save Session Info with Xorg
    // sessions): the session "comes up" with xrdp's dialog, and rdpl can only call it not verified.
    assert!(
        bad.exists() && !r.stdout().contains("login: ok"),
        "a screenshot, not a verified login\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout(),
        r.stderr()
    );
    let picture = Picture::read(&bad);
    assert!(
        picture.permille(&[Sesman::DESKTOP]) < 10,
        "a wrong password never shows the desktop: {picture:?}\n{}",
        logs("--- sesman")
    );
    assert!(
        picture.permille(XRDP_DIALOG) > 50 && picture.permille(XRDP_TITLE) > 2,
        "xrdp's own dialog (\"login failed\") instead: {picture:?}"
    );
    assert!(
        sesman.wait_for_log(
            &format!("AUTHFAIL: user={}", user.name()),
            Duration::from_secs(10)
        ) && sesman.log().contains("pam_authenticate failed"),
        "{}",
        logs("sesman logged the PAM failure for the user")
    );

    // Nothing is left behind: the session's processes, the user and its home are gone.
    let (name, uid, home) = (user.name().to_owned(), user.uid(), user.home().to_owned());
    drop(xrdp);
    drop(sesman);
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    assert!(
        !passwd.lines().any(|l| l.starts_with(&format!("{name}:"))),
        "{name} was deleted"
    );
    assert!(!home.exists(), "{} was removed", home.display());
    let left = sesman::processes_of(uid);
    assert!(left.is_empty(), "processes of uid {uid} left: {left:?}");
}

//! xfreerdp (FreeRDP 2.x, also FreeRDP 3's `xfreerdp3`): the plan as arguments. The password, when rdpl
//! has one, goes on standard input (`/from-stdin:force`), never into argv or the environment; the server
//! certificate is pinned to exactly the one pre-flight saw (`/cert:deny,fingerprint:sha256:…`), so FreeRDP
//! neither prompts nor trusts anything else.
//!
//! FreeRDP 2 has no RDP-UDP transport, so the plan's UDP decision needs no argument here.

use std::io::Write;
use std::process::{Command, Stdio};

use rdpl_profiles::profile::{AudioPlayback, GatewayUsage};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::launch::{Handoff, HandoffError, Launch, Running};
use rdpl_core::plan::Layer;

/// The programs tried, in order.
const PROGRAMS: [&str; 2] = ["xfreerdp", "xfreerdp3"];

/// The command line.
pub fn describe(launch: &Launch<'_>) -> Handoff {
    Handoff {
        backend: "xfreerdp".into(),
        program: PROGRAMS[0].into(),
        args: args(launch),
        rdp_file: None,
        stdin: launch
            .password
            .map(|_| "the password, one line (/from-stdin:force)".to_owned()),
    }
}

/// The arguments for a plan.
pub fn args(launch: &Launch<'_>) -> Vec<String> {
    let (p, plan) = (launch.profile, launch.plan);
    let mut a = vec![format!("/v:{}", plan.address)];
    if let Some(u) = &p.user {
        a.push(format!("/u:{u}"));
    }
    if let Some(d) = &p.domain {
        a.push(format!("/d:{d}"));
    }
    a.push(
        match plan.layer {
            Layer::Nla => "/sec:nla",
            Layer::Tls => "/sec:tls",
            Layer::Rdp => "/sec:rdp",
        }
        .into(),
    );
    if let Some(sha) = &plan.cert_sha256 {
        // FreeRDP compares the colon-separated form.
        let colons = sha
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        a.push(format!("/cert:deny,fingerprint:sha256:{colons}"));
    }
    if let Some(g) = &p.gateway {
        match g.usage {
            GatewayUsage::Never => {}
            usage => {
                a.push(format!("/g:{}:{}", g.host, g.port));
                if usage == GatewayUsage::Detect {
                    a.push("/gateway-usage-method:detect".into());
                }
                if let Some(acct) = rdpl_core::stale::account(p) {
                    a.push(format!("/gu:{acct}"));
                }
            }
        }
    }
    let r = &p.redirect;
    a.push(if r.clipboard { "+clipboard" } else { "-clipboard" }.into());
    if !r.drives.is_empty() {
        // Windows drive letters mean nothing here; any drive redirection shares the home directory.
        a.push("+home-drive".into());
    }
    if r.printers {
        a.push("/printer".into());
    }
    if r.smart_cards {
        a.push("/smartcard".into());
    }
    if r.usb {
        a.push("/usb:auto".into());
    }
    if r.microphone {
        a.push("/microphone".into());
    }
    match r.audio {
        AudioPlayback::Local => a.push("/sound".into()),
        AudioPlayback::Remote => a.push("/audio-mode:1".into()),
        AudioPlayback::Off => a.push("/audio-mode:2".into()),
    }
    if let (Some(w), Some(h)) = (p.display.width, p.display.height) {
        a.push(format!("/size:{w}x{h}"));
    }
    if p.display.full_screen || launch.pass.full_screen {
        a.push("/f".into());
    }
    if p.display.multimon || launch.pass.multimon {
        a.push("/multimon".into());
    }
    if launch.pass.admin {
        a.push("/admin".into());
    }
    a.push("+auto-reconnect".into());
    a.push(format!("/t:{} (rdpl)", p.name));
    if launch.password.is_some() {
        a.push("/from-stdin:force".into());
    }
    a
}

/// Starts xfreerdp and writes the password (if any) to its standard input, which is then closed.
pub fn start(launch: &Launch<'_>) -> Result<Running, HandoffError> {
    let h = describe(launch);
    let mut last = None;
    for program in PROGRAMS {
        let mut cmd = Command::new(program);
        cmd.args(&h.args);
        if launch.password.is_some() {
            cmd.stdin(Stdio::piped());
        }
        match cmd.spawn() {
            Ok(mut child) => {
                if let (Some(pw), Some(mut stdin)) = (launch.password, child.stdin.take()) {
                    let mut line = Zeroizing::new(String::with_capacity(pw.expose_secret().len() + 1));
                    line.push_str(pw.expose_secret());
                    line.push('\n');
                    // A client that exits before reading closes the pipe; its exit code tells why.
                    let _ = stdin.write_all(line.as_bytes());
                }
                return Ok(Running::Child { program, child });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => last = Some(e),
            Err(e) => return Err(HandoffError::io(format!("could not start {program}"))(e)),
        }
    }
    tracing::debug!("xfreerdp not found: {last:?}");
    Err(HandoffError::NotInstalled {
        program: "xfreerdp".into(),
        install: "install FreeRDP's X11 client: `sudo apt install freerdp2-x11` (Debian 12, Ubuntu 22.04), \
                  `sudo apt install freerdp3-x11` (newer releases), `sudo dnf install freerdp` (Fedora)"
            .into(),
    })
}

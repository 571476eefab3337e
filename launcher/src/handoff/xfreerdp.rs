//! FreeRDP (2 and 3: `xfreerdp`, `xfreerdp3`, `sdl-freerdp3`, `wlfreerdp3`): the plan as arguments, in the
//! syntax of the version installed ([`super::freerdp`] finds it). The password, when rdpl has one, goes on
//! standard input (`/from-stdin:force`), never into argv or the environment; so does the RD Gateway's own
//! password, as the second line, in the order FreeRDP asks ("Password:", then "Gateway Password:"). The server
//! certificate is pinned to exactly the one pre-flight saw (`/cert:deny,fingerprint:sha256:…`), so FreeRDP
//! neither prompts nor trusts anything else; rdpl never passes `/cert:ignore` or `/cert:tofu`.
//!
//! FreeRDP 3 removed `/g: /gu: /gd: /gp: /gt: /gateway-usage-method:`; it takes
//! `/gateway:g:HOST:PORT,u:USER,d:DOMAIN,usage-method:direct|detect,type:auto`. FreeRDP 2 gets the old options.
//! The X11 client never uses the UDP transport, so the plan's UDP decision needs no argument here.

use std::io::Write;
use std::process::{Command, Stdio};

use rdpl_profiles::profile::{AudioPlayback, GatewayUsage};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::freerdp::{self, FreerdpClient};
use super::launch::{Handoff, HandoffError, Launch, Running};
use rdpl_core::plan::Layer;

/// The command line, for the installed client.
pub fn describe(launch: &Launch<'_>) -> Result<Handoff, HandoffError> {
    let client = freerdp::detect(launch.program, launch.chosen_by, launch.search_path)?;
    Ok(describe_for(launch, client))
}

/// The command line for this client.
pub fn describe_for(launch: &Launch<'_>, client: FreerdpClient) -> Handoff {
    let lines = stdin_lines(launch);
    Handoff {
        backend: "xfreerdp".into(),
        program: client.path.display().to_string(),
        args: args(launch, &client),
        rdp_file: None,
        stdin: match lines.len() {
            0 => None,
            1 => Some("the password, one line (/from-stdin:force)".to_owned()),
            _ => Some(
                "the password, then the RD Gateway's password, one line each (/from-stdin:force)".to_owned(),
            ),
        },
        client: Some(client),
    }
}

/// What rdpl writes to the client's standard input: the password, and the gateway's own password after it
/// when the gateway has its own account. FreeRDP asks for the gateway's password only after the target's, so
/// without the target's password rdpl hands over neither and FreeRDP asks for both on the terminal.
fn stdin_lines<'a>(launch: &Launch<'a>) -> Vec<&'a secrecy::SecretString> {
    let own_gateway_account = launch
        .profile
        .gateway
        .as_ref()
        .is_some_and(|g| g.user.is_some() && g.usage != GatewayUsage::Never);
    match (launch.password, launch.gateway_password, own_gateway_account) {
        (Some(p), Some(g), true) => vec![p, g],
        // The gateway has its own account but rdpl lacks its password: a closed stdin would end FreeRDP's
        // "Gateway Password:" prompt with nothing; let FreeRDP ask on the terminal instead.
        (Some(_), None, true) => vec![],
        (Some(p), _, false) => vec![p],
        (None, _, _) => vec![],
    }
}

/// The arguments for a plan, in the client's syntax.
pub fn args(launch: &Launch<'_>, client: &FreerdpClient) -> Vec<String> {
    let (p, plan) = (launch.profile, launch.plan);
    let v3 = client.is_v3();
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
    if let Some(g) = p.gateway.as_ref().filter(|g| g.usage != GatewayUsage::Never) {
        let detect = g.usage == GatewayUsage::Detect;
        if v3 {
            let mut parts = vec![format!("g:{}:{}", g.host, g.port)];
            if let Some(u) = &g.user {
                parts.push(format!("u:{u}"));
                if let Some(d) = &g.domain {
                    parts.push(format!("d:{d}"));
                }
            }
            parts.push(format!(
                "usage-method:{}",
                if detect { "detect" } else { "direct" }
            ));
            parts.push("type:auto".into());
            a.push(format!("/gateway:{}", parts.join(",")));
        } else {
            a.push(format!("/g:{}:{}", g.host, g.port));
            if detect {
                a.push("/gateway-usage-method:detect".into());
            }
            // Without /gu: FreeRDP signs in to the gateway with the connection's account.
            if let Some(u) = &g.user {
                a.push(format!("/gu:{u}"));
                if let Some(d) = &g.domain {
                    a.push(format!("/gd:{d}"));
                }
            }
        }
    }
    if plan.tls_legacy {
        // The server speaks only TLS 1.0/1.1 and the profile allows it (tls.legacy=allow).
        if v3 {
            a.push("/tls:seclevel:0".into());
            a.push("/tls:enforce:1.0".into());
        } else {
            a.push("/tls-seclevel:0".into());
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
    if !stdin_lines(launch).is_empty() {
        a.push("/from-stdin:force".into());
    }
    a
}

/// Starts the client and writes the password(s), if any, to its standard input, which is then closed.
pub fn start(launch: &Launch<'_>) -> Result<Running, HandoffError> {
    let h = describe(launch)?;
    let lines = stdin_lines(launch);
    let program = h
        .client
        .as_ref()
        .map_or_else(|| h.program.clone(), |c| c.program.clone());
    let mut cmd = Command::new(&h.program);
    cmd.args(&h.args);
    if !lines.is_empty() {
        cmd.stdin(Stdio::piped());
    }
    if launch.stdout_to_stderr {
        cmd.stdout(std::io::stderr());
    }
    let mut child = cmd
        .spawn()
        .map_err(HandoffError::io(format!("could not start {}", h.program)))?;
    if let Some(mut stdin) = child.stdin.take() {
        let mut text = Zeroizing::new(String::new());
        for pw in lines {
            text.push_str(pw.expose_secret());
            text.push('\n');
        }
        // A client that exits before reading closes the pipe; its exit code tells why.
        let _ = stdin.write_all(text.as_bytes());
    }
    Ok(Running::Child { program, child })
}

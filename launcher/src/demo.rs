//! `rdpl demo`: the whole path on a throw-away config dir, so a new user sees what rdpl does without a server
//! of their own: a profile, a real pre-flight of a built-in loopback RDP endpoint, pinning its certificate, the
//! .rdp the profile becomes, and what the sanitizer does to a hostile file.

use anyhow::anyhow;

use crate::cli::{
    CheckArgs, Command, ImportArgs, JsonArg, PinCmd, PinTargetArgs, ProfileAddArgs, ProfileCmd,
    ProfileShowArgs, RdpArgs, SanitizeArgs,
};
use crate::commands::dispatch;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::ui::outln;
use crate::ui::{Ui, style};

/// A file modelled on the October 2024 rogue .rdp campaign (all redirections, WebAuthn, a RemoteApp, a
/// signature), with an embedded credential blob and a token added. Hosts are reserved example names.
pub(crate) const ROGUE_SAMPLE: &[u8] = include_bytes!("commands/rogue-sample.rdp");

pub(crate) fn run(outer: &Config, ui: &mut Ui) -> CmdResult {
    let temp = outer
        .temp_dir
        .as_deref()
        .ok_or_else(|| anyhow!("no directory for temporary files is known"));
    let dir = temp
        .and_then(|t| Ok(tempfile::Builder::new().prefix("rdpl-demo-").tempdir_in(t)?))
        .map_err(|e| CliError::usage(e.context("could not create a temporary directory")))?;
    let config = Config {
        config_dir: dir.path().join("config"),
        color: anstream::ColorChoice::Auto,
        dns_server: None,
        verbosity: 0,
        keyring: crate::credentials::KeyringChoice::Auto,
        pfx_password: None,
        // What the OS reported stays (the machine's name, ...).
        ..outer.clone()
    };
    // The loopback RDP endpoint runs on its own runtime while the commands below run theirs.
    let rt = crate::pipeline::runtime()?;
    let server = rt
        .block_on(crate::demo_server::start())
        .map_err(|e| CliError::usage(anyhow!(e)))?;
    let port = server.addr.port().to_string();
    let rogue = dir.path().join("invoice-Q4.rdp");
    std::fs::write(&rogue, ROGUE_SAMPLE).map_err(|e| CliError::usage(anyhow!(e)))?;
    let b = style::BOLD;
    let step = |ui: &mut Ui, title: &str| {
        outln!(ui);
        outln!(ui, "{b}== {title}{b:#}");
    };

    step(
        ui,
        &format!(
            "1. a profile: rdpl profile add web01 --host localhost --port {port} --fallback {} --user alice --domain CORP",
            server.addr
        ),
    );
    dispatch(
        Command::Profile(ProfileCmd::Add(ProfileAddArgs {
            name: "web01".into(),
            host: "localhost".into(),
            port: Some(server.addr.port()),
            fallbacks: vec![server.addr.to_string()],
            alternate: None,
            user: Some("alice".into()),
            domain: Some("CORP".into()),
            gateway: None,
            nla: None,
            udp: None,
            backend: None,
            json: false,
        })),
        &config,
        ui,
    )?;
    dispatch(
        Command::Profile(ProfileCmd::Show(ProfileShowArgs {
            name: "web01".into(),
            json: false,
        })),
        &config,
        ui,
    )?;

    step(
        ui,
        "2. pre-flight against the built-in loopback RDP endpoint (TLS, self-signed): rdpl check web01",
    );
    let check = |ui: &mut Ui| {
        dispatch(
            Command::Check(CheckArgs {
                targets: vec!["web01".into()],
                all: false,
                json: false,
                timeout: std::time::Duration::from_secs(10),
                jobs: 1,
                login: false,
                password_stdin: false,
                cert: crate::cli::CertFlags::default(),
            }),
            &config,
            ui,
        )
    };
    check(ui)?;
    step(
        ui,
        "3. pin its certificate (trust on first use), then check again: rdpl pin accept web01",
    );
    dispatch(
        Command::Pin(PinCmd::Accept(PinTargetArgs {
            target: "web01".into(),
            timeout: std::time::Duration::from_secs(10),
            json: false,
        })),
        &config,
        ui,
    )?;
    check(ui)?;

    step(
        ui,
        "4. the .rdp file mstsc would get, decided from the pre-flight (NLA off: the server has none): rdpl rdp web01",
    );
    dispatch(
        Command::Rdp(RdpArgs {
            target: "web01".into(),
            output: None,
            offline: false,
            timeout: std::time::Duration::from_secs(10),
            cert: crate::cli::CertFlags {
                accept_changed_cert: false,
                accept_expired_cert: false,
                strict_pin: false,
            },
            sign: None,
            key: None,
            pfx_password_stdin: false,
            json: false,
        }),
        &config,
        ui,
    )?;

    step(ui, "5. a hostile .rdp attachment: rdpl sanitize invoice-Q4.rdp");
    dispatch(
        Command::Sanitize(SanitizeArgs {
            file: rogue.clone(),
            output: None,
            allow: Vec::new(),
            json: false,
        }),
        &config,
        ui,
    )?;

    step(
        ui,
        "4. importing it keeps only what is safe: rdpl import invoice-Q4.rdp",
    );
    dispatch(
        Command::Import(ImportArgs {
            file: rogue,
            name: None,
            allow: Vec::new(),
            dry_run: false,
            json: false,
        }),
        &config,
        ui,
    )?;
    dispatch(
        Command::Profile(ProfileCmd::List(JsonArg { json: false })),
        &config,
        ui,
    )?;

    outln!(ui);
    outln!(
        ui,
        "The demo used a temporary config directory, now deleted. Your own profiles live in"
    );
    let real = outer.dirs.rdpl_config.as_ref().map(|d| d.display().to_string());
    outln!(
        ui,
        "  {}",
        real.unwrap_or_else(|| "(no home directory found)".into())
    );
    Ok(Exit::Ok)
}

//! `rdpl demo`: the whole data path on a throw-away config dir, so a new user sees what rdpl does without a
//! server of their own: a profile, the .rdp it becomes, and what the sanitizer does to a hostile file.

use anyhow::anyhow;

use super::dispatch;
use crate::cli::{
    Command, ImportArgs, JsonArg, ProfileAddArgs, ProfileCmd, ProfileShowArgs, RdpArgs, SanitizeArgs,
};
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::outln;
use crate::ui::{Ui, style};

/// A file modelled on the October 2024 rogue .rdp campaign (all redirections, WebAuthn, a RemoteApp, a
/// signature), with an embedded credential blob and a token added. Hosts are reserved example names.
pub(crate) const ROGUE_SAMPLE: &[u8] = include_bytes!("rogue-sample.rdp");

pub(super) fn run(ui: &mut Ui) -> CmdResult {
    let dir = tempfile::Builder::new()
        .prefix("rdpl-demo-")
        .tempdir()
        .map_err(|e| CliError::usage(anyhow!(e).context("could not create a temporary directory")))?;
    let config = Config {
        config_dir: dir.path().join("config"),
        color: anstream::ColorChoice::Auto,
        verbosity: 0,
    };
    let rogue = dir.path().join("invoice-Q4.rdp");
    std::fs::write(&rogue, ROGUE_SAMPLE).map_err(|e| CliError::usage(anyhow!(e)))?;
    let b = style::BOLD;
    let step = |ui: &mut Ui, title: &str| {
        outln!(ui);
        outln!(ui, "{b}== {title}{b:#}");
    };

    step(
        ui,
        "1. a profile: rdpl profile add web01 --host 127.0.0.1 --user alice --domain CORP",
    );
    dispatch(
        Command::Profile(ProfileCmd::Add(ProfileAddArgs {
            name: "web01".into(),
            host: "127.0.0.1".into(),
            port: None,
            fallbacks: vec!["127.0.0.2".into()],
            alternate: None,
            user: Some("alice".into()),
            domain: Some("CORP".into()),
            gateway: None,
            nla: None,
            udp: None,
            backend: None,
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

    step(ui, "2. the .rdp file mstsc would get: rdpl rdp web01 --offline");
    dispatch(
        Command::Rdp(RdpArgs {
            target: "web01".into(),
            output: None,
            offline: true,
        }),
        &config,
        ui,
    )?;

    step(ui, "3. a hostile .rdp attachment: rdpl sanitize invoice-Q4.rdp");
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
    let real = directories::ProjectDirs::from("", "", "rdpl").map(|d| d.config_dir().display().to_string());
    outln!(
        ui,
        "  {}",
        real.unwrap_or_else(|| "(no home directory found)".into())
    );
    Ok(Exit::Ok)
}

//! The commands, one module each, and what they share: store errors as user errors, target resolution,
//! reading .rdp files safely.

mod check;
mod common;
mod connect;
mod creds;
mod doctor;
mod explain;
mod exporter;
mod integrate;
mod managers;
#[cfg(feature = "native")]
mod native;
#[cfg(not(feature = "native"))]
#[path = "native_off.rs"]
mod native;
mod pin;
mod profile;
mod rdpfile;

use std::io::Write;

use anyhow::anyhow;

use crate::cli::Command;
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::ui::Ui;
use common::{policy, read_rdp_bytes};

/// Runs a command.
pub fn dispatch(cmd: Command, config: &Config, ui: &mut Ui) -> CmdResult {
    match cmd {
        Command::Profile(p) => profile::run(p, config, ui),
        Command::Import(a) => import(a, config, ui),
        Command::Sanitize(a) => rdpfile::sanitize(a, ui),
        Command::Rdp(a) => rdpfile::rdp(a, config, ui),
        Command::Check(a) if a.login => native::check_login(&a, config, ui),
        Command::Check(a) => check::run(a, config, ui),
        Command::Pin(p) => pin::run(p, config, ui),
        Command::Explain(a) => explain::run(a, ui),
        Command::Doctor(a) => doctor::run(a, config, ui),
        Command::Screenshot(a) => native::screenshot(a, config, ui),
        Command::Connect(a) => connect::connect(a, config, ui),
        Command::Open(a) => connect::open(a, config, ui),
        Command::Creds(c) => creds::run(c, config, ui),
        Command::Integrate(a) => integrate::integrate(a, config, ui),
        Command::Shortcut(a) => integrate::shortcut(a, config, ui),
        // `demo` runs other commands through this dispatcher, so it sits above it: `entry::run` starts it.
        Command::Exporter(a) => exporter::run(a, config, ui),
        Command::Demo => Err(CliError::usage(anyhow!(
            "`demo` is started by rdpl's entry point, not by the command dispatcher"
        ))),
        Command::Completions(a) => {
            use clap::CommandFactory as _;
            // Into a buffer first: clap_complete panics on a write error such as a closed pipe (`| head`).
            let mut buf = Vec::new();
            clap_complete::generate(a.shell, &mut crate::cli::Cli::command(), "rdpl", &mut buf);
            let _ = ui.out.write_all(&buf);
            Ok(crate::exit::Exit::Ok)
        }
        Command::Man => {
            use clap::CommandFactory as _;
            let mut buf = Vec::new();
            clap_mangen::Man::new(crate::cli::Cli::command())
                .render(&mut buf)
                .map_err(|e| CliError::usage(anyhow::anyhow!(e).context("could not render the man page")))?;
            let _ = ui.out.write_all(&buf);
            Ok(crate::exit::Exit::Ok)
        }
    }
}

/// `rdpl import FILE`: Remmina, mRemoteNG and RDCMan files are recognised by their content, anything else is
/// read as an .rdp file.
fn import(a: crate::cli::ImportArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let policy = policy(&a.allow)?;
    let bytes = read_rdp_bytes(&a.file)?;
    match rdpl_profiles::import::detect(&bytes) {
        Some(format) => managers::import(&a, format, &bytes, &policy, config, ui),
        None => rdpfile::import(a, &bytes, &policy, config, ui),
    }
}

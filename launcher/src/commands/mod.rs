//! The commands, one module each, and what they share: store errors as user errors, target resolution,
//! reading .rdp files safely.

mod check;
mod connect;
mod creds;
mod demo;
mod doctor;
mod explain;
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

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::anyhow;

use rdpl_profiles::name::{ProfileName, TargetAddr};
use rdpl_profiles::profile::Profile;
use rdpl_profiles::rdp::decode::MAX_FILE_BYTES;
use rdpl_profiles::store::{Store, StoreError};

use crate::cli::Command;
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::suggest;
use crate::ui::Ui;

/// Runs a command.
pub fn dispatch(cmd: Command, config: &Config, ui: &mut Ui) -> CmdResult {
    match cmd {
        Command::Profile(p) => profile::run(p, config, ui),
        Command::Import(a) => rdpfile::import(a, config, ui),
        Command::Sanitize(a) => rdpfile::sanitize(a, ui),
        Command::Rdp(a) => rdpfile::rdp(a, config, ui),
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
        Command::Demo => demo::run(config, ui),
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

/// Turns a store error into a user error with `help:` lines (exit 2).
pub(crate) fn store_error(e: StoreError) -> CliError {
    let help = match &e {
        StoreError::NotFound { name, known } => {
            let mut h: Vec<String> = suggest::help_line(name, known).into_iter().collect();
            h.push(if known.is_empty() {
                "there are no profiles yet: add one with `rdpl profile add NAME --host HOST`".into()
            } else {
                "`rdpl profile list` shows all profiles".into()
            });
            h
        }
        StoreError::Corrupt { .. } => vec![
            "fix the file in an editor, or delete it with `rdpl profile rm NAME`; rdpl never overwrites a file \
             it cannot read"
                .into(),
        ],
        StoreError::Exists { .. } => vec!["choose another name, or `rdpl profile rm` the old one first".into()],
        _ => Vec::new(),
    };
    let mut err = CliError::usage(e);
    err.help = help;
    err
}

/// A parsed profile name, or a usage error naming the problem.
pub(crate) fn profile_name(s: &str) -> Result<ProfileName, CliError> {
    s.parse::<ProfileName>()
        .map_err(|e| CliError::usage(anyhow!("invalid profile name `{}`: {e}", s.escape_debug())))
}

/// A profile by name, or an ad-hoc one for `HOST[:PORT]`. A string that names no profile but is close to
/// one is treated as a typo, not as a host.
pub(crate) fn resolve_target(store: &Store, target: &str) -> Result<Profile, CliError> {
    match store.load(target) {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound { name, known }) => {
            let looks_like_host = target.contains(['.', ':']) || target.parse::<std::net::IpAddr>().is_ok();
            let close = suggest::did_you_mean(target, known.iter().map(String::as_str));
            if !looks_like_host && !close.is_empty() {
                let mut e = store_error(StoreError::NotFound {
                    name,
                    known: known.clone(),
                });
                e.help.push(format!(
                    "to connect to a host of that name, write it as `{target}:3389`"
                ));
                return Err(e);
            }
            let addr: TargetAddr = target.parse().map_err(|e| {
                store_error(StoreError::NotFound {
                    name: target.to_owned(),
                    known: known.clone(),
                })
                .help(format!("`{}` is not a host either: {e}", target.escape_debug()))
            })?;
            let mut p = Profile::new(ProfileName::for_host(&addr.host), addr.host.clone());
            if let Some(port) = addr.port {
                p.port = port;
            }
            Ok(p)
        }
        Err(e) => Err(store_error(e)),
    }
}

/// Reads an .rdp file (or stdin for `-`), refusing anything larger than the decoder accepts before reading it.
pub(crate) fn read_rdp_bytes(path: &Path) -> Result<Vec<u8>, CliError> {
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
    let too_large = |size: u64| {
        CliError::usage(anyhow!(
            "{}: the file is {size} bytes; .rdp files are a few KiB and rdpl reads at most {MAX_FILE_BYTES} bytes",
            path.display()
        ))
    };
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| CliError::usage(anyhow!(e).context("could not read standard input")))?;
    } else {
        let f = File::open(path)
            .map_err(|e| CliError::usage(anyhow!(e).context(format!("could not open {}", path.display()))))?;
        let meta = f.metadata().map_err(|e| CliError::usage(anyhow!(e)))?;
        if meta.is_dir() {
            return Err(CliError::usage(anyhow!(
                "{} is a directory, not an .rdp file",
                path.display()
            )));
        }
        if meta.len() > limit {
            return Err(too_large(meta.len()));
        }
        f.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| CliError::usage(anyhow!(e).context(format!("could not read {}", path.display()))))?;
    }
    if buf.len() as u64 > limit {
        // Standard input, a pipe or a device (/dev/zero) has no size to report: only what was read.
        return Err(CliError::usage(anyhow!(
            "{}: more than {MAX_FILE_BYTES} bytes; .rdp files are a few KiB and rdpl reads at most {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Writes a file atomically (owner-only), creating nothing but the file itself.
pub(crate) fn write_output(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    rdpl_profiles::files::write_atomic(path, bytes).map_err(|e| CliError::usage(anyhow!(e)))
}

/// Prints JSON on stdout.
pub(crate) fn print_json(ui: &mut Ui, v: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(v).map_err(|e| CliError::usage(anyhow!(e)))?;
    let _ = writeln!(ui.out, "{text}");
    Ok(())
}

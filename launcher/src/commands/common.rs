//! What the command modules share: reading .rdp files (bounded) and the sanitizer policy, writing output,
//! printing a JSON document, profile names, and (from `lookup`) targets and store errors.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::anyhow;
use rdpl_profiles::name::ProfileName;
use rdpl_profiles::rdp::RdpFile;
use rdpl_profiles::rdp::decode::MAX_FILE_BYTES;
use rdpl_profiles::rdp::sanitize::Policy;

use crate::exit::CliError;
pub(crate) use crate::lookup::{resolve_target, store_error};
use crate::ui::Ui;

/// A parsed profile name, or a usage error naming the problem.
pub(crate) fn profile_name(s: &str) -> Result<ProfileName, CliError> {
    s.parse::<ProfileName>()
        .map_err(|e| CliError::usage(anyhow!("invalid profile name `{}`: {e}", s.escape_debug())))
}

/// Reads and parses an .rdp file; a file with no property at all is an input error naming why.
pub(crate) fn load(path: &Path) -> Result<RdpFile, CliError> {
    parse_loaded(path, &read_rdp_bytes(path)?)
}

/// [`load`] for bytes already read.
pub(crate) fn parse_loaded(path: &Path, bytes: &[u8]) -> Result<RdpFile, CliError> {
    let file = RdpFile::from_bytes(bytes).map_err(|e| CliError::usage(anyhow!("{}: {e}", path.display())))?;
    if file.entries.is_empty() {
        let mut err = CliError::usage(anyhow!(
            "{}: no .rdp properties found ({} lines, none of the form `name:type:value`)",
            path.display(),
            file.lines
        ));
        err.help = file.diagnostics.iter().take(5).map(|d| d.to_string()).collect();
        if file.diagnostics.len() > 5 {
            err.help
                .push(format!("… and {} more problems", file.diagnostics.len() - 5));
        }
        return Err(err);
    }
    Ok(file)
}

pub(crate) fn policy(allow: &[String]) -> Result<Policy, CliError> {
    let mut p = Policy::strict();
    for a in allow {
        p.allow(a).map_err(|e| CliError::usage(anyhow!("--allow: {e}")))?;
    }
    Ok(p)
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
        // A regular file only: a FIFO in an archive would block `open` (the double-click handler) forever,
        // and a device such as /dev/zero never ends.
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) && size > limit {
            return Err(too_large(size));
        }
        buf = rdpl_profiles::files::read_regular(path, limit).map_err(|e| CliError::usage(anyhow!(e)))?;
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

/// Warns when `name` looks like one of `existing` (`web0l` beside `web01`): a look-alike makes it easy to
/// connect to the wrong server.
pub(super) fn warn_look_alike(
    ui: &mut Ui,
    name: &rdpl_profiles::name::ProfileName,
    existing: &[rdpl_profiles::name::ProfileName],
) {
    if let Some(other) = name.look_alike(existing) {
        ui.warn(format!(
            "profile `{name}` looks like the existing profile `{other}`; rename one if they are different servers (`rdpl profile rename`)"
        ));
    }
}

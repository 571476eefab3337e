//! `rdpl exporter`: flags in, the server of [`crate::exporter`] run until the process is stopped.

use anyhow::anyhow;

use crate::cli::ExporterArgs;
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::exporter::{Options, serve};
use crate::ui::Ui;

pub(super) fn run(a: ExporterArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    if a.timeout.is_zero() {
        return Err(CliError::usage(anyhow!("--timeout must be longer than 0")));
    }
    serve(
        config,
        Options {
            listen: a.listen,
            allow_adhoc: a.allow_adhoc,
            max_concurrent: usize::from(a.max_concurrent),
            timeout: a.timeout,
        },
        ui,
    )
}

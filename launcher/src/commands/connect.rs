//! `rdpl connect` and `rdpl open`. Placeholder.

use anyhow::anyhow;

use crate::cli::{ConnectArgs, OpenArgs};
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::ui::Ui;

pub(super) fn connect(a: ConnectArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let _ = (a, config, ui);
    Err(CliError::usage(anyhow!("connect: not built yet")))
}

pub(super) fn open(a: OpenArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let _ = (a, config, ui);
    Err(CliError::usage(anyhow!("open: not built yet")))
}

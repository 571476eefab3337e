//! `rdpl integrate` and `rdpl shortcut`: placeholder, filled in by the integration work.

use anyhow::anyhow;

use crate::cli::{IntegrateArgs, ShortcutArgs};
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::ui::Ui;

pub(super) fn integrate(a: IntegrateArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let _ = (a, config, ui);
    Err(CliError::usage(anyhow!("integrate: not built yet")))
}

pub(super) fn shortcut(a: ShortcutArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let _ = (a, config, ui);
    Err(CliError::usage(anyhow!("shortcut: not built yet")))
}

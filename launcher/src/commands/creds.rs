//! `rdpl creds set|clear|list`. Placeholder.

use anyhow::anyhow;

use crate::cli::CredsCmd;
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::ui::Ui;

pub(super) fn run(c: CredsCmd, config: &Config, ui: &mut Ui) -> CmdResult {
    let _ = (c, config, ui);
    Err(CliError::usage(anyhow!("creds: not built yet")))
}

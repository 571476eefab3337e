//! The native-session commands in a build without the `native` feature (the macOS cross-check on Linux): each
//! says so and exits with a usage error. The other commands are unchanged.

use crate::cli::{CheckArgs, ScreenshotArgs};
use crate::config::Config;
use crate::exit::CmdResult;
use crate::session::unavailable;
use crate::ui::Ui;

pub(super) fn check_login(_: &CheckArgs, _: &Config, _: &mut Ui) -> CmdResult {
    Err(unavailable("check --login"))
}

pub(super) fn screenshot(_: ScreenshotArgs, _: &Config, _: &mut Ui) -> CmdResult {
    Err(unavailable("screenshot"))
}

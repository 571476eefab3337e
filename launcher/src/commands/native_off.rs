//! The native-session commands in a build without the `native` feature (the macOS cross-check on Linux): each
//! says so and exits with a usage error. The other commands are unchanged.

use anyhow::anyhow;
use rdpl_profiles::profile::Profile;
use secrecy::SecretString;

use crate::cli::{CheckArgs, ConnectOpts, ScreenshotArgs};
use crate::config::Config;
use crate::exit::{CliError, CmdResult};
use crate::probe::report::Report;
use crate::ui::Ui;

fn unavailable(what: &str) -> CliError {
    CliError::usage(anyhow!("{what} needs rdpl's own session, which this build leaves out"))
        .help("rebuild with the default features (`cargo install --path launcher`), or use --with xfreerdp|mstsc|macos")
}

pub(super) fn check_login(_: &CheckArgs, _: &Config, _: &mut Ui) -> CmdResult {
    Err(unavailable("check --login"))
}

pub(super) fn screenshot(_: ScreenshotArgs, _: &Config, _: &mut Ui) -> CmdResult {
    Err(unavailable("screenshot"))
}

pub(super) fn window(
    _: &Config,
    _: Profile,
    _: (Report, ::time::OffsetDateTime),
    _: &str,
    _: &ConnectOpts,
    _: Option<SecretString>,
    _: &mut Ui,
) -> CmdResult {
    Err(unavailable("connect --with native"))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn login_into(
    _: &Config,
    _: &Profile,
    _: &mut Report,
    _: ::time::OffsetDateTime,
    _: &str,
    _: std::time::Duration,
    _: bool,
    _: &mut Ui,
) -> Result<(), CliError> {
    Err(unavailable("doctor --login"))
}

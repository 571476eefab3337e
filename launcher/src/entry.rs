//! The process entry: arguments and environment in, an exit code out. [`main_entry`] catches panics (exit
//! code 1, never 101); [`run`] parses the command line, resolves the configuration once, sets up logging and
//! dispatches to the command.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::config::{Config, Env};
use crate::exit::Exit;
use crate::ui::Ui;
use crate::{cli, commands, demo};

/// The process entry point: real arguments, environment, stdout and stderr.
#[allow(
    clippy::disallowed_methods,
    reason = "the one place that takes the process's arguments; the rest of its world is Env::from_process"
)]
pub fn main_entry() -> ExitCode {
    // A panic is a bug; it must still not surface as exit code 101, which the CLI contract reserves.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "error: rdpl hit an internal bug: {info}");
    }));
    let code = std::panic::catch_unwind(|| run(std::env::args_os(), &Env::from_process()))
        .unwrap_or(Exit::Failed.code());
    ExitCode::from(code)
}

/// Runs rdpl with the given arguments and environment; returns the exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>, env: &Env) -> u8 {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap quotes the argument back: escaped and cut like every other message (no colour here).
            let text = crate::ui::message(&e.render().to_string());
            let _ = write!(std::io::stderr(), "{}", text);
            return Exit::Usage.code();
        }
        Err(e) => {
            let _ = e.print();
            return Exit::Ok.code();
        }
    };
    let config = match Config::resolve(&cli.global, env) {
        Ok(c) => c,
        Err(e) => {
            let mut ui = Ui::stdio(anstream::ColorChoice::Auto);
            ui.error(&e);
            return e.exit.code();
        }
    };
    init_logging(config.verbosity);
    let mut ui = Ui::stdio(config.color);
    ui.quiet = config.verbosity < 0;
    let result = match cli.command {
        cli::Command::Demo => demo::run(&config, &mut ui),
        command => commands::dispatch(command, &config, &mut ui),
    };
    match result {
        Ok(exit) => exit.code(),
        Err(e) => {
            ui.error(&e);
            e.exit.code()
        }
    }
}

fn init_logging(verbosity: i8) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match verbosity {
        i8::MIN..=-1 => tracing::Level::ERROR,
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Libraries (winit, IronRDP, rustls) warn about things a user can do nothing about ("XRandR reported 0mm");
    // at the default verbosity only their errors show, rdpl's own warnings always do.
    let libraries = if verbosity <= 0 {
        tracing::Level::ERROR
    } else {
        level
    };
    let filter = tracing_subscriber::filter::filter_fn(move |m| {
        let own = m.target().starts_with("rdpl");
        *m.level() <= if own { level } else { libraries }
    });
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init();
}

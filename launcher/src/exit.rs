//! Exit codes (a contract, documented in `--help`) and the error type commands return.

use std::fmt;

/// rdpl's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success (warnings allowed).
    Ok,
    /// 1: pre-flight blocked the connection, or the connection failed.
    Failed,
    /// 2: usage, configuration or input error.
    Usage,
    /// 3: authentication failed.
    Auth,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Auth => 3,
        }
    }
}

/// The exit code table shown at the end of `rdpl --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok (warnings allowed)
  1  pre-flight blocked the connection, or the connection failed
  2  usage, configuration or input error (bad flags, a broken profile file, an unreadable .rdp file)
  3  authentication failed
  `rdpl connect` maps the client it hands the connection to onto the same codes: 0 when the session ended
  normally, 3 when the client failed on authentication, 1 for any other failure; the client's own exit
  status is in the message (and in `connect --json`).";

/// An error with its exit code and `help:` lines.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// The error, printed as a chain.
    pub error: anyhow::Error,
    /// `help:` lines.
    pub help: Vec<String>,
}

impl CliError {
    /// A usage/config/input error (exit 2).
    pub fn usage(error: impl Into<anyhow::Error>) -> CliError {
        CliError {
            exit: Exit::Usage,
            error: error.into(),
            help: Vec::new(),
        }
    }

    /// Adds a `help:` line.
    pub fn help(mut self, line: impl Into<String>) -> CliError {
        self.help.push(line.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// The result type of every command.
pub type CmdResult = Result<Exit, CliError>;

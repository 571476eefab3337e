//! Terminal output: stdout for results, stderr for errors and notes, colour only where wanted.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::exit::CliError;

/// Styles used in output.
pub mod style {
    use super::*;
    /// Good news.
    pub const OK: Style = AnsiColor::Green.on_default().bold();
    /// Warnings.
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    /// Errors.
    pub const ERR: Style = AnsiColor::Red.on_default().bold();
    /// Headings and names.
    pub const BOLD: Style = Style::new().bold();
    /// Less important text.
    pub const DIM: Style = Style::new().dimmed();
}

/// Where a command writes.
pub struct Ui {
    /// Results.
    pub out: Box<dyn Write>,
    /// Errors, warnings, notes.
    pub err: Box<dyn Write>,
    /// Errors only (`-q`).
    pub quiet: bool,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui")
            .field("quiet", &self.quiet)
            .finish_non_exhaustive()
    }
}

impl Ui {
    /// The process's stdout and stderr, colour as chosen (styles are stripped where colour is off).
    pub fn stdio(color: anstream::ColorChoice) -> Ui {
        Ui {
            out: Box::new(anstream::AutoStream::new(io::stdout(), color)),
            err: Box::new(anstream::AutoStream::new(io::stderr(), color)),
            quiet: false,
        }
    }

    /// A UI that discards everything (for steps whose own messages the caller reports differently).
    pub fn sink() -> Ui {
        Ui {
            out: Box::new(io::sink()),
            err: Box::new(io::sink()),
            quiet: true,
        }
    }

    /// Prints an error chain and its help lines to stderr.
    pub fn error(&mut self, e: &CliError) {
        let (r, b) = (style::ERR, style::BOLD);
        let _ = writeln!(self.err, "{r}error{r:#}: {:#}", e.error);
        for h in &e.help {
            let _ = writeln!(self.err, "{b}help{b:#}: {h}");
        }
    }

    /// A warning on stderr.
    pub fn warn(&mut self, msg: impl std::fmt::Display) {
        let w = style::WARN;
        let _ = writeln!(self.err, "{w}warning{w:#}: {msg}");
    }

    /// A note on stderr (suppressed by `-q`).
    pub fn note(&mut self, msg: impl std::fmt::Display) {
        if !self.quiet {
            let _ = writeln!(self.err, "{msg}");
        }
    }
}

/// Writes a line to the UI's stdout, ignoring a closed pipe.
macro_rules! outln {
    ($ui:expr) => { { let _ = writeln!($ui.out); } };
    ($ui:expr, $($arg:tt)*) => { { let _ = writeln!($ui.out, $($arg)*); } };
}
pub(crate) use outln;

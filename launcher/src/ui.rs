//! Terminal output: stdout for results, stderr for errors and notes, colour only where wanted.

use std::borrow::Cow;
use std::fmt;
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

    /// Prints an error chain and its help lines to stderr, control characters escaped (an error often
    /// quotes a file or a server).
    pub fn error(&mut self, e: &CliError) {
        let (r, b) = (style::ERR, style::BOLD);
        let chain = format!("{:#}", e.error);
        let _ = writeln!(self.err, "{r}error{r:#}: {}", message(&chain));
        for h in &e.help {
            let _ = writeln!(self.err, "{b}help{b:#}: {}", message(h));
        }
    }

    /// A warning on stderr, control characters escaped, absurdly long words cut.
    pub fn warn(&mut self, msg: impl fmt::Display) {
        let w = style::WARN;
        let _ = writeln!(self.err, "{w}warning{w:#}: {}", message(&msg.to_string()));
    }

    /// A note on stderr (suppressed by `-q`), control characters escaped, absurdly long words cut.
    pub fn note(&mut self, msg: impl fmt::Display) {
        if !self.quiet {
            let _ = writeln!(self.err, "{}", message(&msg.to_string()));
        }
    }
}

/// Text from a server, a file or an argument, made safe for a terminal: every control character (C0 and DEL,
/// including newlines; C1) and every bidirectional-formatting character (overrides, embeddings, isolates and
/// marks) is written as a `\u{..}` escape (`\n`, `\r`, `\t` for those three), so data can neither move the
/// cursor, clear the screen, change colours, ring the bell, start a new line nor reorder what follows.
/// Everything else is written as it is, and width and alignment (`{:<20}`) apply to the escaped text.
///
/// This is the one escaping function of the human output: `output.rs` and the commands pass every string
/// that did not come from rdpl itself through it (JSON and pins.toml have their own, serde's, escaping).
pub fn shown(s: &str) -> Shown<'_> {
    Shown { s, lines: false }
}

/// [`shown`], keeping line feeds: for rdpl's own multi-line messages that quote data (warnings, notes).
pub fn shown_lines(s: &str) -> Shown<'_> {
    Shown { s, lines: true }
}

/// The longest word a message shows whole; a longer one (a 128 KiB argument quoted back) keeps its first
/// and last characters around the number left out.
pub const MAX_WORD: usize = 200;

/// One of rdpl's messages (an error chain, a help, warning or note line) as the terminal gets it: escaped
/// like [`shown_lines`], and every word longer than [`MAX_WORD`] characters cut to its ends.
pub fn message(s: &str) -> String {
    let escaped = escaped(s, true);
    let mut out = String::with_capacity(escaped.len().min(4 * MAX_WORD));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let n = word.chars().count();
        if n > MAX_WORD {
            let head: String = word.chars().take(MAX_WORD / 2).collect();
            let tail: String = word.chars().skip(n - 16).collect();
            out.push_str(&format!(
                "{head}…[{} characters left out]…{tail}",
                n - MAX_WORD / 2 - 16
            ));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in escaped.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// An error with its causes, `outer: inner: ...`, as anyhow's `{:#}` writes them (a bare `Display` of a
/// store error would say "could not read PATH" without why).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// What [`shown`] returns: a `Display` of the escaped text.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    s: &'a str,
    lines: bool,
}

/// Whether a character may not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The escaped text (borrowed when nothing needed escaping).
pub fn escaped(s: &str, lines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && !(lines && c == '\n')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if lines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escaped(self.s, self.lines))
    }
}

/// Writes a line to the UI's stdout, ignoring a closed pipe.
macro_rules! outln {
    ($ui:expr) => { { let _ = writeln!($ui.out); } };
    ($ui:expr, $($arg:tt)*) => { { let _ = writeln!($ui.out, $($arg)*); } };
}
pub(crate) use outln;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped_and_the_rest_is_kept() {
        let hostile =
            "CN=a\u{1b}[2J\u{1b}]0;t\u{7}\r\n✓ certificate trusted and pinned\u{9b}31m\u{202e}gpj.exe\u{7f}";
        let s = shown(hostile).to_string();
        assert_eq!(
            s,
            "CN=a\\u{1b}[2J\\u{1b}]0;t\\u{7}\\r\\n✓ certificate trusted and pinned\\u{9b}31m\\u{202e}gpj.exe\\u{7f}"
        );
        assert!(!s.chars().any(is_unsafe));
        assert_eq!(shown_lines("a\nb\u{1b}").to_string(), "a\nb\\u{1b}");
        assert_eq!(format!("[{:<6}]", shown("bü\u{7}")), "[bü\\u{7}]");
        assert_eq!(format!("[{:<6}]", shown("bücher")), "[bücher]");
        assert_eq!(format!("[{:<4}]", shown("ab")), "[ab  ]");
        assert!(matches!(escaped("CORP\\alice café", false), Cow::Borrowed(_)));
    }

    #[test]
    fn a_huge_word_in_a_message_is_cut_to_its_ends() {
        let arg = "A".repeat(131_000);
        let m = message(&format!(
            "no profile named `{arg}`: did you mean `web01`?\nhelp: `{arg}`"
        ));
        assert!(m.chars().count() < 2 * (MAX_WORD + 60), "{}", m.len());
        assert!(
            m.starts_with("no profile named `AAAA") && m.contains("characters left out]…AAAA"),
            "{m}"
        );
        assert!(m.contains("AAA`: did you mean `web01`?\nhelp: `AAA"), "{m}");
        assert_eq!(message("short \u{1b} words\nkept"), "short \\u{1b} words\nkept");
    }
}

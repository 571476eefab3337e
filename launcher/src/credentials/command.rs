//! Passwords from a vault: a profile's `password.command` (`pass show corp/alice`, `secret-tool lookup ...`,
//! `op read ...`) is run without a shell when rdpl needs the password; the first line of its standard output
//! is the password. Nothing of that output is logged, printed or written; its standard error is shown when it
//! fails. The command inherits rdpl's environment (a vault agent's socket, `PASSWORD_STORE_DIR`, ...) and
//! never gets a password in it or on its command line.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use rdpl_profiles::profile::PasswordCommand;
use secrecy::SecretString;
use zeroize::Zeroizing;

/// How long a vault command may take (an unlocked agent answers in milliseconds; a prompt for a vault's
/// master password on the terminal takes longer).
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The most of a command's output rdpl reads.
const MAX_OUTPUT: u64 = 64 * 1024;
/// The most of its standard error shown in a message.
const MAX_SHOWN: usize = 600;

/// Why a vault command gave no password: said with the command line and its standard error, never its output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the password command `{command}` {what}{}", stderr_suffix(.stderr))]
pub struct CommandFailed {
    /// The command line as written in the profile.
    pub command: String,
    /// What went wrong.
    pub what: String,
    /// Its standard error, trimmed and bounded.
    pub stderr: String,
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// Runs `command` (at most `timeout`) and returns the first line of its standard output.
pub fn password_from(command: &PasswordCommand, timeout: Duration) -> Result<SecretString, CommandFailed> {
    let fail = |what: String, stderr: String| CommandFailed {
        command: command.line().to_owned(),
        what,
        stderr,
    };
    let (program, args) = command
        .argv()
        .split_first()
        .ok_or_else(|| fail("is empty".into(), String::new()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("could not be started ({e})"), String::new()))?;
    // Read both pipes while it runs (a chatty command must not block on a full pipe), bounded.
    let mut out = child.stdout.take().map(|o| {
        std::thread::spawn(move || {
            let mut buf = Zeroizing::new(Vec::new());
            let _ = o.take(MAX_OUTPUT).read_to_end(&mut buf);
            buf
        })
    });
    let err = child.stderr.take().map(|e| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = e.take(MAX_OUTPUT).read_to_end(&mut buf);
            buf
        })
    });
    let status = match crate::child::wait_at_most(&mut child, timeout) {
        Ok(Some(status)) => Ok(status),
        Ok(None) => Err(format!("did not finish within {} s (killed)", timeout.as_secs())),
        Err(e) => Err(format!("could not be waited for ({e})")),
    };
    let stderr = err
        .and_then(|h| h.join().ok())
        .map(|b| shown(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let stdout = out.take().and_then(|h| h.join().ok()).unwrap_or_default();
    let status = status.map_err(|what| fail(what, stderr.clone()))?;
    if !status.success() {
        let how = status.code().map_or_else(
            || "was killed by a signal".to_owned(),
            |c| format!("exited with {c}"),
        );
        return Err(fail(how, stderr));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&stdout).into_owned());
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(fail(
            "printed no password (its first line is empty)".into(),
            stderr,
        ));
    }
    Ok(SecretString::from(first.to_owned()))
}

/// Standard error for a message: trimmed, control characters replaced, bounded.
fn shown(s: &str) -> String {
    let flat: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > MAX_SHOWN {
        format!("{}…", flat.chars().take(MAX_SHOWN).collect::<String>())
    } else {
        flat
    }
}

#[cfg(all(test, unix))]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;
    use std::time::Instant;

    fn cmd(line: &str) -> PasswordCommand {
        line.parse().expect("command")
    }

    #[test]
    fn the_first_line_is_the_password_and_failures_say_why_without_it() {
        let pw = password_from(&cmd("printf 'S3cret pw\\nsecond line\\n'"), TIMEOUT).expect("password");
        assert_eq!(pw.expose_secret(), "S3cret pw");
        // A failure shows the exit status and stderr, never stdout.
        // (stdout is "leakedOUT", which the command line does not spell out)
        let e = password_from(
            &cmd("sh -c 'printf %s%s leaked OUT; echo gpg: decryption failed >&2; exit 2'"),
            TIMEOUT,
        )
        .expect_err("fails");
        assert_eq!(e.what, "exited with 2");
        assert_eq!(e.stderr, "gpg: decryption failed");
        assert!(!e.to_string().contains("leakedOUT"), "{e}");
        assert!(e.to_string().contains("`sh -c 'printf"), "names the command: {e}");
        let empty = password_from(&cmd("printf '\\nsecond'"), TIMEOUT).expect_err("empty");
        assert!(empty.what.contains("no password"), "{empty}");
        let missing = password_from(&cmd("/nonexistent/vault-cli get x"), TIMEOUT).expect_err("missing");
        assert!(missing.what.contains("could not be started"), "{missing}");
        // A hung command is killed at the timeout.
        let start = Instant::now();
        let hung = password_from(&cmd("sleep 30"), Duration::from_millis(300)).expect_err("hung");
        assert!(hung.what.contains("did not finish"), "{hung}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}

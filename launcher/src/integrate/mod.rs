//! Desktop integration: rdpl as the per-user handler of .rdp files (`rdpl integrate`), and launchers that
//! connect to one profile (`rdpl shortcut`).
//!
//! The text of every file is built by pure functions ([`desktop_entry`], [`script`]); each platform module
//! turns a request into a list of [`Step`]s, which `--dry-run` prints and [`apply`] carries out:
//! - `xdg` (Linux and the BSDs): a desktop entry and a shared-mime-info package under `$XDG_DATA_HOME`,
//!   then `update-mime-database`, `update-desktop-database` and `xdg-mime default`.
//! - `windows`: a per-user ProgID and `OpenWithProgids` entry under `HKCU\Software\Classes` (winreg); the
//!   default itself is the user's choice in Settings.
//! - `macos`: no handler (LaunchServices binds file types to app bundles); shortcuts are `.command` scripts.
//!
//! Nothing here reads environment variables: the directories come from the `directories` crate (which
//! follows `XDG_DATA_HOME`, `XDG_CONFIG_HOME`, `HOME` and user-dirs.dirs itself) and the programs rdpl
//! runs inherit the environment.

pub mod desktop_entry;
#[cfg(target_os = "macos")]
pub mod macos;
pub mod script;
#[cfg(windows)]
pub mod windows;
#[cfg(all(unix, not(target_os = "macos")))]
pub mod xdg;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The MIME type of .rdp files (what FreeRDP, Remmina and GNOME Connections use).
pub const RDP_MIME: &str = "application/x-rdp";

/// A program rdpl runs, with the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program, looked up in `PATH`.
    pub program: &'static str,
    /// The Debian/Ubuntu package that installs it.
    pub package: &'static str,
    /// What its absence costs.
    pub need: Need,
}

/// How much a [`Tool`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Without it the command did not do its job (an error).
    Required,
    /// Without it the job is only partly done (a warning).
    Recommended,
    /// A cache refresh that desktops also do by themselves (a note).
    Optional,
}

/// One change to the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create or replace a file (creating its directory), with these Unix permissions.
    Write {
        /// The file.
        path: PathBuf,
        /// Its text.
        text: String,
        /// Unix permission bits (ignored elsewhere).
        mode: u32,
    },
    /// Replace an existing file's text, keeping its permissions.
    Edit {
        /// The file.
        path: PathBuf,
        /// The new text.
        text: String,
        /// What the edit does, for the report.
        what: String,
    },
    /// Delete a file.
    Remove {
        /// The file.
        path: PathBuf,
    },
    /// Delete a directory if it is empty (else leave it).
    RemoveEmptyDir {
        /// The directory.
        path: PathBuf,
    },
    /// Run a program.
    Run {
        /// The program.
        tool: Tool,
        /// Its arguments.
        args: Vec<OsString>,
    },
}

impl fmt::Display for Step {
    /// One line: what the step does (`--dry-run` adds the text of written files).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Write { path, .. } => write!(f, "write {}", path.display()),
            Step::Edit { path, what, .. } => write!(f, "edit {} ({what})", path.display()),
            Step::Remove { path } => write!(f, "remove {}", path.display()),
            Step::RemoveEmptyDir { path } => write!(f, "remove {} if empty", path.display()),
            Step::Run { tool, args } => {
                write!(f, "run {}", tool.program)?;
                for a in args {
                    write!(f, " {}", script::sh_quote(&a.to_string_lossy()))?;
                }
                Ok(())
            }
        }
    }
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A file operation failed.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The program is not installed.
    #[error("`{}` is not installed (Debian/Ubuntu package `{}`)", tool.program, tool.package)]
    Missing {
        /// The program.
        tool: Tool,
    },
    /// The program ran and failed.
    #[error("`{}` failed ({status}){}", tool.program, if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        /// The program.
        tool: Tool,
        /// Its exit status.
        status: String,
        /// The end of what it printed on stderr.
        stderr: String,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StepError + use<> {
    let path = path.to_owned();
    move |source| StepError::Io { action, path, source }
}

/// Carries out one step.
pub fn apply(step: &Step) -> Result<(), StepError> {
    match step {
        Step::Write { path, text, mode } => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
            }
            write_file(path, text.as_bytes())?;
            set_mode(path, *mode)
        }
        Step::Edit { path, text, .. } => {
            let perms = std::fs::metadata(path)
                .map_err(io_err("read", path))?
                .permissions();
            write_file(path, text.as_bytes())?;
            std::fs::set_permissions(path, perms).map_err(io_err("set the permissions of", path))
        }
        Step::Remove { path } => match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err("remove", path)(e)),
            _ => Ok(()),
        },
        Step::RemoveEmptyDir { path } => match std::fs::remove_dir(path) {
            Err(e) if path.is_dir() && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()) => {
                Err(io_err("remove", path)(e))
            }
            _ => Ok(()),
        },
        Step::Run { tool, args } => run_tool(*tool, args).map(drop),
    }
}

/// Runs a tool and returns its standard output.
pub fn run_tool(tool: Tool, args: &[OsString]) -> Result<String, StepError> {
    let out = match std::process::Command::new(tool.program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StepError::Missing { tool }),
        Err(e) => return Err(io_err("run", Path::new(tool.program))(e)),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(3)..].join(" / ");
        return Err(StepError::Failed {
            tool,
            status: out.status.to_string(),
            stderr: tail,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StepError> {
    rdpl_profiles::files::write_atomic(path, bytes).map_err(|e| StepError::Io {
        action: "write",
        path: path.to_owned(),
        source: io::Error::other(e),
    })
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), StepError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_err("set the permissions of", path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), StepError> {
    Ok(())
}

/// Reads a file that may be absent; other errors are errors.
pub fn read_optional(path: &Path) -> Result<Option<String>, StepError> {
    // Desktop entries and mimeapps.list are small regular files; a FIFO or a device is refused, not waited on.
    match rdpl_profiles::files::read_regular(path, rdpl_profiles::files::MAX_DATA_BYTES) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path)(e.source)),
    }
}

/// A file-name stem from a profile name, for systems whose file names rdpl does not want spaces or
/// punctuation in (desktop file ids): letters, digits, `-`, `_` and `.` are kept, anything else becomes `-`.
pub fn safe_file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("web01"), "web01");
        assert_eq!(safe_file_stem("web 01 (old)"), "web-01--old-");
        assert_eq!(safe_file_stem("Büro$1"), "Büro-1");
    }

    #[test]
    fn steps_print_as_shell_lines() {
        let s = Step::Run {
            tool: Tool {
                program: "xdg-mime",
                package: "xdg-utils",
                need: Need::Required,
            },
            args: vec!["default".into(), "rdpl.desktop".into(), "a b".into()],
        };
        assert_eq!(s.to_string(), "run xdg-mime default rdpl.desktop 'a b'");
    }

    #[test]
    fn steps_write_edit_and_remove_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new/sub/f.desktop");
        apply(&Step::Write {
            path: path.clone(),
            text: "x".into(),
            mode: 0o755,
        })
        .expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        apply(&Step::Edit {
            path: path.clone(),
            text: "y".into(),
            what: "test".into(),
        })
        .expect("edit");
        assert_eq!(read_optional(&path).expect("read"), Some("y".into()));
        apply(&Step::Remove { path: path.clone() }).expect("remove");
        apply(&Step::Remove { path: path.clone() }).expect("removing twice is fine");
        assert_eq!(read_optional(&path).expect("read"), None);
        let sub = dir.path().join("new/sub");
        let parent = dir.path().join("new");
        apply(&Step::RemoveEmptyDir { path: parent.clone() }).expect("a full directory is kept");
        assert!(parent.is_dir());
        apply(&Step::RemoveEmptyDir { path: sub.clone() }).expect("remove");
        assert!(!sub.exists());
        apply(&Step::RemoveEmptyDir { path: sub }).expect("a missing directory is fine");
    }

    #[test]
    fn missing_and_failing_tools_are_told_apart() {
        let missing = Tool {
            program: "rdpl-no-such-tool",
            package: "rdpl-test",
            need: Need::Required,
        };
        assert!(matches!(run_tool(missing, &[]), Err(StepError::Missing { .. })));
        #[cfg(unix)]
        {
            let sh = Tool {
                program: "sh",
                package: "dash",
                need: Need::Required,
            };
            let err = run_tool(sh, &["-c".into(), "echo boom >&2; exit 3".into()]).expect_err("fails");
            assert!(err.to_string().contains("boom"), "{err}");
        }
    }
}

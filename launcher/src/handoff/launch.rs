//! What every backend shares: the [`Launch`] it gets, the [`Handoff`] it describes, its errors, a started
//! client ([`Running`]), the private temporary .rdp file and the exit code of a finished client.

use std::path::{Path, PathBuf};

use rdpl_core::plan::Plan;
use rdpl_profiles::profile::Profile;
use secrecy::SecretString;
use serde::Serialize;

/// Options passed through to the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Passthrough {
    /// Connect to the console/admin session (`/admin`).
    pub admin: bool,
    /// Full screen (`/f`).
    pub full_screen: bool,
    /// All monitors (`/multimon`).
    pub multimon: bool,
}

/// Everything a backend needs.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The decision, with the .rdp document to write.
    pub plan: &'a Plan,
    /// The password, when rdpl has one (keyring or `--password-stdin`).
    pub password: Option<&'a SecretString>,
    /// The RD Gateway's own password, when the gateway has its own account (`gateway.user`) and rdpl has it.
    pub gateway_password: Option<&'a SecretString>,
    /// The exact FreeRDP program asked for (`--with xfreerdp3`, the profile's `backend`), if any.
    pub program: Option<&'a str>,
    /// Who chose the client, for the report (`--with`, `the profile's backend`, `the platform default`).
    pub chosen_by: &'a str,
    /// The `PATH` directories, where FreeRDP clients are looked for.
    pub search_path: &'a [PathBuf],
    /// Send the client's standard output to rdpl's standard error (`connect --json`: stdout is the JSON).
    pub stdout_to_stderr: bool,
    /// Whether the user asked to keep the password saved for the client (mstsc: a `TERMSRV/<host>` entry).
    pub save_password: bool,
    /// Options for the client.
    pub pass: Passthrough,
    /// An owner-only directory for the temporary .rdp file.
    pub private_dir: &'a Path,
    /// `%SystemRoot%` (Windows), where mstsc.exe is looked for first ([`crate::config::Config::system_root`]).
    pub system_root: Option<&'a Path>,
    /// The home directory, where the Windows App may be installed (macOS: `~/Applications`).
    pub home: Option<&'a Path>,
}

/// The command a backend runs, printable (it never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handoff {
    /// The backend.
    pub backend: String,
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The temporary .rdp file it reads, if any (deleted after the client exits).
    pub rdp_file: Option<PathBuf>,
    /// What goes to the child's standard input, described (never the content).
    pub stdin: Option<String>,
    /// The FreeRDP client, its version and why it was chosen (FreeRDP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<super::freerdp::FreerdpClient>,
}

/// Why a handoff failed.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// The client is not installed.
    #[error("{program} was not found")]
    NotInstalled {
        /// What was looked for.
        program: String,
        /// How to install it.
        install: String,
    },
    /// The backend does not exist on this platform or is not built yet.
    #[error("{0}")]
    Unsupported(String),
    /// Starting, feeding or waiting for the client failed.
    #[error("{what}: {source}")]
    Io {
        /// What rdpl was doing.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// Credential Manager (mstsc's saved password).
    #[error("{0}")]
    Credentials(String),
}

impl HandoffError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HandoffError {
        let what = what.into();
        move |source| HandoffError::Io { what, source }
    }
}

/// A started client.
#[derive(Debug)]
pub enum Running {
    /// A client process that already has everything it needs from rdpl.
    Child {
        /// Its program name, for errors.
        program: String,
        /// The process.
        child: std::process::Child,
    },
    /// A client that ran to the end in `handoff::start`: its exit code.
    Done(i32),
}

impl Running {
    /// Waits for the client; its exit code.
    pub fn wait(self) -> Result<i32, HandoffError> {
        match self {
            Running::Child { program, mut child } => {
                let status = child
                    .wait()
                    .map_err(HandoffError::io(format!("waiting for {program} failed")))?;
                Ok(exit_code(status))
            }
            Running::Done(code) => Ok(code),
        }
    }
}

/// A unique path for a temporary .rdp file in the private directory.
pub(crate) fn temp_rdp_path(private_dir: &Path, stem: &str) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    private_dir.join(format!("{stem}-{}-{n:x}.rdp", std::process::id()))
}

/// Writes the plan's .rdp (owner-only) for a client that reads a file; the guard deletes it when dropped.
pub(crate) fn write_temp_rdp(path: &Path, plan: &Plan) -> Result<TempRdp, HandoffError> {
    rdpl_profiles::files::create_private_dir(path.parent().unwrap_or(Path::new("."))).map_err(|e| {
        HandoffError::Io {
            what: "could not create the private directory".into(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    rdpl_profiles::files::write_atomic(path, &plan.document.to_bytes()).map_err(|e| HandoffError::Io {
        what: format!("could not write {}", path.display()),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(TempRdp(path.to_owned()))
}

/// A temporary .rdp file, deleted on drop.
#[derive(Debug)]
pub(crate) struct TempRdp(pub(crate) PathBuf);

impl Drop for TempRdp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An exit status as a number (a signal on Unix becomes 128 + signal, as shells do).
pub(crate) fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

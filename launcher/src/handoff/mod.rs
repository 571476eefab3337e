//! Handing the connection to a client: mstsc (Windows), xfreerdp (Linux), the Windows App (macOS). Each
//! backend turns a [`Launch`] into a command line ([`Handoff`], shown by `connect --dry-run`) and runs it,
//! passing the child's exit code through.
//!
//! Invariant: a password never appears in a command line, an environment variable or a file rdpl writes. It
//! goes to xfreerdp on standard input (`/from-stdin`) and to mstsc only through the Credential Manager, and
//! only when the user asked to save it.

pub mod macos;
pub mod mstsc;
pub mod xfreerdp;

use std::path::{Path, PathBuf};

use rdpl_profiles::profile::{Backend, Profile};
use secrecy::SecretString;
use serde::Serialize;

use rdpl_core::plan::Plan;

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

/// The command line a backend would run (for `--dry-run` and the log).
pub fn describe(backend: Backend, launch: &Launch<'_>) -> Result<Handoff, HandoffError> {
    match backend {
        Backend::Xfreerdp => Ok(xfreerdp::describe(launch)),
        Backend::Mstsc => Ok(mstsc::describe(launch, &mstsc::rdp_path(launch.private_dir))),
        Backend::Macos => Ok(macos::describe(launch, &macos::rdp_path(launch.private_dir))),
        Backend::Native => Err(native_unavailable()),
        Backend::Auto => describe(rdpl_core::plan::platform_default(), launch),
    }
}

/// Runs the client and waits for it; its exit code.
pub fn run(backend: Backend, launch: &Launch<'_>) -> Result<i32, HandoffError> {
    match backend {
        Backend::Xfreerdp => xfreerdp::start(launch)?.wait(),
        Backend::Mstsc => mstsc::run(launch),
        Backend::Macos => macos::run(launch),
        Backend::Native => Err(native_unavailable()),
        Backend::Auto => run(rdpl_core::plan::platform_default(), launch),
    }
}

/// Starts the client and hands it the password; the caller can then drop (zeroize) its copy of the password
/// before it [waits](Running::wait) for the whole session. Backends that need the password until the client
/// exits (mstsc's Credential Manager entry is deleted afterwards) run to the end here.
pub fn start(backend: Backend, launch: &Launch<'_>) -> Result<Running, HandoffError> {
    match backend {
        Backend::Xfreerdp => xfreerdp::start(launch),
        Backend::Auto => start(rdpl_core::plan::platform_default(), launch),
        b => run(b, launch).map(Running::Done),
    }
}

/// A started client.
#[derive(Debug)]
pub enum Running {
    /// A client process that already has everything it needs from rdpl.
    Child {
        /// Its program name, for errors.
        program: &'static str,
        /// The process.
        child: std::process::Child,
    },
    /// A client that ran to the end in [`start`]: its exit code.
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

fn native_unavailable() -> HandoffError {
    HandoffError::Unsupported(
        "the native IronRDP session is not available in this build yet; use --with xfreerdp, mstsc or macos"
            .into(),
    )
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

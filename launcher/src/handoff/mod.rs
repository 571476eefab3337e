//! Handing the connection to a client: mstsc (Windows), xfreerdp (Linux), the Windows App (macOS). Each
//! backend turns a [`Launch`] into a command line ([`Handoff`], shown by `connect --dry-run`) and runs it,
//! passing the child's exit code through.
//!
//! Invariant: a password never appears in a command line, an environment variable or a file rdpl writes. It
//! goes to xfreerdp on standard input (`/from-stdin`) and to mstsc only through the Credential Manager, and
//! only when the user asked to save it.

pub mod freerdp;
pub mod macos;
pub mod mstsc;
pub mod xfreerdp;

pub(crate) mod launch;

use rdpl_profiles::profile::Backend;

pub use self::launch::{Handoff, HandoffError, Launch, Passthrough, Running};

/// The command line a backend would run (for `--dry-run` and the log).
pub fn describe(backend: Backend, launch: &Launch<'_>) -> Result<Handoff, HandoffError> {
    match backend {
        Backend::Xfreerdp => xfreerdp::describe(launch),
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

fn native_unavailable() -> HandoffError {
    HandoffError::Unsupported(
        "the native IronRDP session is not available in this build yet; use --with xfreerdp, mstsc or macos"
            .into(),
    )
}

//! macOS: placeholder.

use super::{Handoff, HandoffError, Launch};

/// The command line.
pub fn describe(launch: &Launch<'_>) -> Handoff {
    let rdp = std::path::Path::new("x");
    let _ = launch;
    Handoff {
        backend: "macos".into(),
        program: "open".into(),
        args: vec![rdp.display().to_string()],
        rdp_file: Some(rdp.to_owned()),
        stdin: None,
    }
}

/// Runs it.
pub fn run(launch: &Launch<'_>) -> Result<i32, HandoffError> {
    let _ = launch;
    Err(HandoffError::Unsupported("pending".into()))
}

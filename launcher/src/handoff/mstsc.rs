//! mstsc (Windows): placeholder until the Windows backend lands.

use std::path::{Path, PathBuf};

use super::{Handoff, HandoffError, Launch};

/// Where the temporary .rdp goes.
pub fn rdp_path(private_dir: &Path) -> PathBuf {
    super::temp_rdp_path(private_dir, "mstsc")
}

/// The command line.
pub fn describe(launch: &Launch<'_>, rdp: &Path) -> Handoff {
    let _ = launch;
    Handoff {
        backend: "mstsc".into(),
        program: "mstsc.exe".into(),
        args: vec![rdp.display().to_string()],
        rdp_file: Some(rdp.to_owned()),
        stdin: None,
    }
}

/// Runs mstsc.
pub fn run(launch: &Launch<'_>) -> Result<i32, HandoffError> {
    let _ = launch;
    Err(HandoffError::Unsupported("mstsc backend pending".into()))
}

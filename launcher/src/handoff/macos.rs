//! macOS: Microsoft's Windows App (formerly Microsoft Remote Desktop) opens the sanitized .rdp file:
//! `open -W -a "Windows App" FILE`, or `open -W FILE` (the default .rdp handler) when the app is not in
//! /Applications or ~/Applications. `-W` waits until the app quits, so the file outlives its use and is
//! deleted afterwards. The Windows App asks for the password itself (rdpl passes none: there is no safe
//! channel for it).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::launch::{Handoff, HandoffError, Launch, exit_code, write_temp_rdp};

/// The app's name for `open -a`.
pub const APP: &str = "Windows App";

/// Where the temporary .rdp goes.
pub fn rdp_path(private_dir: &Path) -> PathBuf {
    super::launch::temp_rdp_path(private_dir, "windows-app")
}

/// Whether the Windows App is installed in one of the usual places: /Applications, `~/Applications`.
fn app_installed(home: Option<&Path>) -> bool {
    let mut places = vec![PathBuf::from("/Applications")];
    if let Some(home) = home {
        places.push(home.join("Applications"));
    }
    places.iter().any(|d| d.join(format!("{APP}.app")).is_dir())
}

/// The command line.
pub fn describe(launch: &Launch<'_>, rdp: &Path) -> Handoff {
    let mut args = vec!["-W".to_owned()];
    if app_installed(launch.home) {
        args.push("-a".into());
        args.push(APP.into());
    }
    args.push(rdp.display().to_string());
    if launch.password.is_some() {
        tracing::info!("the Windows App asks for the password itself; rdpl does not pass it");
    }
    Handoff {
        backend: "macos".into(),
        program: "open".into(),
        args,
        rdp_file: Some(rdp.to_owned()),
        stdin: None,
        client: None,
    }
}

/// Opens the file and waits until the app quits; `open`'s exit code.
pub fn run(launch: &Launch<'_>) -> Result<i32, HandoffError> {
    let path = rdp_path(launch.private_dir);
    let h = describe(launch, &path);
    let _file = write_temp_rdp(&path, launch.plan)?;
    let status = match Command::new(&h.program).args(&h.args).status() {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HandoffError::NotInstalled {
                program: "open".into(),
                install: "`open` is part of macOS; install the Windows App from the App Store".into(),
            });
        }
        Err(e) => return Err(HandoffError::io("could not start open")(e)),
    };
    Ok(exit_code(status))
}

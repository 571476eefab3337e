//! Which FreeRDP client is installed, and which version it is. `--with xfreerdp` (and `backend =
//! "xfreerdp"`) means the FreeRDP family: every known client program on `PATH` is considered and FreeRDP 3 is
//! preferred; a program name (`xfreerdp3`, `sdl-freerdp3`, ...) or an absolute path names one exactly.
//!
//! The version is read from the program itself (`PROGRAM /version`: "This is FreeRDP version 3.10.3 (...)"),
//! never guessed from the name: Fedora's and Arch's `xfreerdp` is FreeRDP 3, Debian 12's is 2. FreeRDP 2's X11
//! client opens the display before it parses its arguments, so without a display its `/version` prints
//! nothing; then the major version comes from the FreeRDP library the program is linked against
//! (`libfreerdp3.so` / `libfreerdp2.so` in its dynamic section), and the report says so.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;

use super::launch::HandoffError;

/// The client programs of the FreeRDP family, in the order they are preferred among equal versions: the X11
/// client first (what `xfreerdp` users had), then SDL, then Wayland; FreeRDP 3's names before the unsuffixed
/// ones, whose version decides.
pub const FAMILY: &[&str] = &[
    "xfreerdp3",
    "sdl-freerdp3",
    "wlfreerdp3",
    "xfreerdp",
    "sdl-freerdp",
    "wlfreerdp",
];

/// How long a `/version` run may take before it is killed.
const VERSION_TIMEOUT: Duration = Duration::from_secs(3);
/// The most of a program's output (or, for the library check, of its file) rdpl reads.
const MAX_VERSION_OUTPUT: u64 = 16 * 1024;
const MAX_BINARY: u64 = 256 * 1024 * 1024;

/// How the version was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// The program's own `/version` output.
    VersionOption,
    /// The FreeRDP library the program is linked against (major version only).
    LinkedLibrary,
    /// Neither worked.
    Unknown,
}

/// The FreeRDP client a connection is handed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreerdpClient {
    /// The program as named or found (`xfreerdp3`).
    pub program: String,
    /// Where it is.
    pub path: PathBuf,
    /// Its version (`3.10.3`; `3.x` when only the major version is known), if known.
    pub version: Option<String>,
    /// Its major version, if known: which command-line syntax it speaks.
    pub major: Option<u8>,
    /// How the version was learned.
    pub version_source: VersionSource,
    /// Why this program was chosen.
    pub why: String,
}

impl FreerdpClient {
    /// Whether it speaks FreeRDP 3's syntax (`/gateway:g:...`). An unknown version is taken from the name:
    /// a `3` suffix is FreeRDP 3, anything else 2 (the report says the version is unknown).
    pub fn is_v3(&self) -> bool {
        match self.major {
            Some(m) => m >= 3,
            None => self.program.ends_with('3'),
        }
    }

    /// `xfreerdp3 3.10.3` / `xfreerdp (version unknown)`, for messages.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.program),
            None => format!("{} (version unknown)", self.program),
        }
    }
}

/// Finds the client: `wanted` is the exact program (a name or an absolute path) or `None` for the family.
/// `chosen_by` says who asked (`--with`, the profile's backend), for the report.
pub fn detect(
    wanted: Option<&str>,
    chosen_by: &str,
    search_path: &[PathBuf],
) -> Result<FreerdpClient, HandoffError> {
    if let Some(w) = wanted {
        let path = if Path::new(w).is_absolute() {
            Some(PathBuf::from(w)).filter(|p| is_executable(p))
        } else {
            find_on(search_path, w)
        };
        let Some(path) = path else {
            return Err(not_installed(w));
        };
        let (version, major, source) = version_of(&path);
        return Ok(FreerdpClient {
            program: program_name(w, &path),
            path,
            version,
            major,
            version_source: source,
            why: format!("named exactly by {chosen_by}"),
        });
    }
    let present: Vec<(&str, PathBuf)> = FAMILY
        .iter()
        .filter_map(|n| find_on(search_path, n).map(|p| (*n, p)))
        .collect();
    if present.is_empty() {
        return Err(not_installed("xfreerdp"));
    }
    let mut probed = Vec::new();
    for (name, path) in &present {
        let (version, major, source) = version_of(path);
        let c = FreerdpClient {
            program: (*name).to_owned(),
            path: path.clone(),
            version,
            major,
            version_source: source,
            why: String::new(),
        };
        let v3 = c.major.is_some_and(|m| m >= 3);
        probed.push(c);
        if v3 {
            break;
        }
    }
    let pick = probed
        .iter()
        .position(|c| c.major.is_some_and(|m| m >= 3))
        .or_else(|| probed.iter().position(|c| c.major == Some(2)))
        .unwrap_or(0);
    let mut chosen = probed.swap_remove(pick);
    let others: Vec<String> = present
        .iter()
        .filter(|(n, _)| *n != chosen.program)
        .map(|(n, _)| {
            probed
                .iter()
                .find(|c| c.program == *n)
                .map_or_else(|| (*n).to_owned(), FreerdpClient::label)
        })
        .collect();
    let family = format!("{chosen_by} names the FreeRDP family");
    chosen.why = match (chosen.major, others.is_empty()) {
        (Some(m), true) if m >= 3 => format!("{family}; FreeRDP {m} is the only FreeRDP client installed"),
        (Some(m), false) if m >= 3 => format!(
            "{family} and FreeRDP 3 is preferred (also installed: {})",
            others.join(", ")
        ),
        (_, true) => format!("{family}; it is the only FreeRDP client installed"),
        (_, false) => format!(
            "{family}; no FreeRDP 3 client is installed (also installed: {})",
            others.join(", ")
        ),
    };
    Ok(chosen)
}

fn program_name(wanted: &str, path: &Path) -> String {
    if Path::new(wanted).is_absolute() {
        path.file_name()
            .map_or_else(|| wanted.to_owned(), |n| n.to_string_lossy().into_owned())
    } else {
        wanted.to_owned()
    }
}

fn not_installed(program: &str) -> HandoffError {
    HandoffError::NotInstalled {
        program: program.into(),
        install: "install FreeRDP's client: `sudo apt install freerdp3-x11` (Debian 13, Ubuntu 24.04; Debian 12: \
                  from bookworm-backports), `sudo apt install freerdp2-x11` (older releases), `sudo dnf install \
                  freerdp` (Fedora), `sudo pacman -S freerdp` (Arch)"
            .into(),
    }
}

/// `name` in the first `PATH` directory that has it as an executable file.
fn find_on(search_path: &[PathBuf], name: &str) -> Option<PathBuf> {
    search_path
        .iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The version, its major number and how it was learned.
fn version_of(path: &Path) -> (Option<String>, Option<u8>, VersionSource) {
    if let Some(v) = run_version(path).as_deref().and_then(parse_version) {
        let major = major_of(&v);
        return (Some(v), major, VersionSource::VersionOption);
    }
    match linked_major(path) {
        Some(m) => (Some(format!("{m}.x")), Some(m), VersionSource::LinkedLibrary),
        None => (None, None, VersionSource::Unknown),
    }
}

/// Runs `PROGRAM /version` (no input, at most [`VERSION_TIMEOUT`]) and returns what it printed.
fn run_version(path: &Path) -> Option<String> {
    let mut child = Command::new(path)
        .arg("/version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if crate::child::wait_at_most(&mut child, VERSION_TIMEOUT)
        .ok()?
        .is_none()
    {
        tracing::debug!("{} /version did not end in time", path.display());
        return None;
    }
    let mut out = Vec::new();
    child
        .stdout
        .take()?
        .take(MAX_VERSION_OUTPUT)
        .read_to_end(&mut out)
        .ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `3.10.3` from "This is FreeRDP version 3.10.3 (n/a)".
pub fn parse_version(out: &str) -> Option<String> {
    let rest = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("This is FreeRDP version "))?;
    let v = rest.split_whitespace().next()?;
    (major_of(v).is_some() && v.chars().all(|c| c.is_ascii_alphanumeric() || ".-+~".contains(c)))
        .then(|| v.to_owned())
}

fn major_of(v: &str) -> Option<u8> {
    v.split('.').next()?.parse().ok()
}

/// FreeRDP's major version from the library the program is linked against.
fn linked_major(path: &Path) -> Option<u8> {
    let f = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    f.take(MAX_BINARY).read_to_end(&mut bytes).ok()?;
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if has(b"libfreerdp3.so") || has(b"libfreerdp-client3.so") {
        Some(3)
    } else if has(b"libfreerdp2.so") || has(b"libfreerdp-client2.so") {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn the_version_line_is_parsed_and_anything_else_is_not() {
        assert_eq!(
            parse_version("This is FreeRDP version 3.10.3 (n/a)\n").as_deref(),
            Some("3.10.3")
        );
        assert_eq!(
            parse_version("[log] x\nThis is FreeRDP version 2.11.7 (2.11.7)").as_deref(),
            Some("2.11.7")
        );
        assert_eq!(parse_version("This is FreeRDP version \u{1b}[2J (x)"), None);
        assert_eq!(parse_version("FreeRDP 3"), None);
        assert_eq!(major_of("3.10.3"), Some(3));
    }

    #[cfg(unix)]
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    #[cfg(unix)]
    #[test]
    fn the_family_prefers_freerdp_3_by_version_not_by_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let bin = dir.path().to_path_buf();
        // An unsuffixed xfreerdp that is FreeRDP 3 (Fedora, Arch) beats nothing else; with a 2 beside a 3, 3 wins.
        script(&bin, "xfreerdp", "echo 'This is FreeRDP version 2.11.7 (2.11.7)'");
        let only2 = detect(None, "--with xfreerdp", std::slice::from_ref(&bin)).expect("found");
        assert_eq!((only2.program.as_str(), only2.major), ("xfreerdp", Some(2)));
        assert!(only2.why.contains("only FreeRDP client"), "{}", only2.why);
        script(&bin, "sdl-freerdp3", "echo 'This is FreeRDP version 3.5.1 (n/a)'");
        let both = detect(None, "--with xfreerdp", std::slice::from_ref(&bin)).expect("found");
        assert_eq!(
            (both.program.as_str(), both.version.as_deref()),
            ("sdl-freerdp3", Some("3.5.1"))
        );
        assert!(
            both.why.contains("FreeRDP 3 is preferred") && both.why.contains("xfreerdp"),
            "{}",
            both.why
        );
        // Named exactly: that one, even when it is 2.
        let exact = detect(
            Some("xfreerdp"),
            "the profile's backend",
            std::slice::from_ref(&bin),
        )
        .expect("found");
        assert_eq!(exact.major, Some(2));
        assert!(exact.why.contains("named exactly"));
        // A hung program is killed after the timeout and its version is unknown.
        let hung = script(&bin, "hung", "sleep 30");
        let start = Instant::now();
        assert_eq!(version_of(&hung).2, VersionSource::Unknown);
        assert!(start.elapsed() < Duration::from_secs(10));
        // Not installed: named, with what to install.
        match detect(Some("wlfreerdp3"), "--with", std::slice::from_ref(&bin)) {
            Err(HandoffError::NotInstalled { program, install }) => {
                assert_eq!(program, "wlfreerdp3");
                assert!(install.contains("freerdp3-x11"));
            }
            other => panic!("{other:?}"),
        }
    }
}

//! Windows: a per-user file association for .rdp under `HKEY_CURRENT_USER\Software\Classes`.
//!
//! `rdpl integrate` writes a ProgID, `rdpl.rdpfile` (`shell\open\command` = `"<exe>" open "%1"`, an icon
//! and a friendly name), and lists it under `.rdp\OpenWithProgids`, so rdpl appears in "Open with" for
//! .rdp files. It does not touch the default value of `.rdp` (mstsc's `RDP.File`): since Windows 8 the
//! default is the user's `UserChoice`, which only the user can set (its hash is checked), so the command
//! says where to pick rdpl. `--uninstall` deletes the ProgID and the `OpenWithProgids` value, and the
//! `.rdp` keys it leaves empty.
//!
//! Every function takes the classes key as a parameter, so the tests work under a scratch key.

use std::fmt;
use std::io;

use winreg::enums::{HKEY_CURRENT_USER, KEY_ALL_ACCESS, KEY_READ, REG_EXPAND_SZ, REG_SZ};
use winreg::{RegKey, RegValue};

/// The per-user classes key, under `HKEY_CURRENT_USER`.
pub const CLASSES: &str = r"Software\Classes";

/// rdpl's ProgID for .rdp files.
pub const PROG_ID: &str = "rdpl.rdpfile";

/// The extension key.
const EXT: &str = ".rdp";

/// Where Explorer keeps the user's choice for .rdp, under `HKEY_CURRENT_USER`.
const USER_CHOICE: &str = r"Software\Microsoft\Windows\CurrentVersion\Explorer\FileExts\.rdp\UserChoice";

/// A registry value's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `REG_SZ`.
    Sz(String),
    /// `REG_EXPAND_SZ` (environment variables expanded by the reader).
    ExpandSz(String),
    /// An empty `REG_SZ`: an `OpenWithProgids` entry, where only the name counts. (`REG_NONE` with no data is
    /// the other common form, but winreg passes a dangling pointer for empty data, which Wine rejects with
    /// ERROR_NOACCESS.)
    Empty,
}

/// One value to set, relative to the classes key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegWrite {
    /// The key, relative to `HKEY_CURRENT_USER\Software\Classes`.
    pub key: String,
    /// The value name (`""`: the key's default value).
    pub name: String,
    /// The data.
    pub data: Data,
}

impl fmt::Display for RegWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.name.is_empty() {
            "(default)"
        } else {
            &self.name
        };
        write!(f, r"HKEY_CURRENT_USER\{CLASSES}\{} [{name}] = ", self.key)?;
        match &self.data {
            Data::Sz(s) => write!(f, "{s}"),
            Data::ExpandSz(s) => write!(f, "{s} (REG_EXPAND_SZ)"),
            Data::Empty => write!(f, "(empty)"),
        }
    }
}

/// The command line Explorer runs for "open": `"<exe>" open "%1"` (a Windows path cannot contain `"`).
pub fn open_command(exe: &str) -> String {
    format!("\"{exe}\" open \"%1\"")
}

/// Every value `rdpl integrate` sets.
///
/// The icon is mstsc's: rdpl.exe carries no icon resource, and .rdp files look like this everywhere else.
pub fn writes(exe: &str) -> Vec<RegWrite> {
    let w = |key: &str, name: &str, data: Data| RegWrite {
        key: key.to_owned(),
        name: name.to_owned(),
        data,
    };
    let type_name = "Remote Desktop connection (rdpl)";
    vec![
        w(PROG_ID, "", Data::Sz(type_name.into())),
        w(PROG_ID, "FriendlyTypeName", Data::Sz(type_name.into())),
        w(
            &format!(r"{PROG_ID}\DefaultIcon"),
            "",
            Data::ExpandSz(r"%SystemRoot%\System32\mstsc.exe,0".into()),
        ),
        w(&format!(r"{PROG_ID}\shell"), "", Data::Sz("open".into())),
        w(
            &format!(r"{PROG_ID}\shell\open"),
            "FriendlyAppName",
            Data::Sz("rdpl (Remote Desktop launcher)".into()),
        ),
        w(
            &format!(r"{PROG_ID}\shell\open\command"),
            "",
            Data::Sz(open_command(exe)),
        ),
        w(&format!(r"{EXT}\OpenWithProgids"), PROG_ID, Data::Empty),
    ]
}

fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// `HKEY_CURRENT_USER\Software\Classes`, opened for writing.
pub fn classes_key() -> io::Result<RegKey> {
    RegKey::predef(HKEY_CURRENT_USER)
        .create_subkey(CLASSES)
        .map(|(k, _)| k)
}

/// Sets the values under `classes`.
pub fn install(classes: &RegKey, writes: &[RegWrite]) -> io::Result<()> {
    for w in writes {
        let (key, _) = classes.create_subkey(&w.key)?;
        let value = match &w.data {
            Data::Sz(s) => RegValue {
                bytes: utf16_bytes(s).into(),
                vtype: REG_SZ,
            },
            Data::ExpandSz(s) => RegValue {
                bytes: utf16_bytes(s).into(),
                vtype: REG_EXPAND_SZ,
            },
            Data::Empty => RegValue {
                bytes: utf16_bytes("").into(),
                vtype: REG_SZ,
            },
        };
        key.set_raw_value(&w.name, &value)?;
    }
    Ok(())
}

fn not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

/// Deletes `path` under `parent` when it has neither values (a default value counts) nor subkeys.
fn delete_if_empty(parent: &RegKey, path: &str) -> io::Result<()> {
    let key = match parent.open_subkey_with_flags(path, KEY_READ) {
        Ok(k) => k,
        Err(e) if not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    let info = key.query_info()?;
    drop(key);
    if info.values == 0 && info.sub_keys == 0 {
        parent.delete_subkey(path)?;
    }
    Ok(())
}

/// Removes the ProgID and the `OpenWithProgids` value (and `.rdp` keys left empty). `Ok(false)` when
/// there was nothing to remove.
pub fn uninstall(classes: &RegKey) -> io::Result<bool> {
    let mut removed = false;
    match classes.delete_subkey_all(PROG_ID) {
        Ok(()) => removed = true,
        Err(e) if not_found(&e) => {}
        Err(e) => return Err(e),
    }
    let open_with = format!(r"{EXT}\OpenWithProgids");
    match classes.open_subkey_with_flags(&open_with, KEY_ALL_ACCESS) {
        Ok(key) => match key.delete_value(PROG_ID) {
            Ok(()) => removed = true,
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(e),
        },
        Err(e) if not_found(&e) => {}
        Err(e) => return Err(e),
    }
    delete_if_empty(classes, &open_with)?;
    delete_if_empty(classes, EXT)?;
    Ok(removed)
}

/// The ProgID the user chose for .rdp in Explorer or Settings, if any.
pub fn user_choice() -> Option<String> {
    RegKey::predef(HKEY_CURRENT_USER)
        .open_subkey_with_flags(USER_CHOICE, KEY_READ)
        .and_then(|k| k.get_value::<String, _>("ProgId"))
        .ok()
}

#[link(name = "shell32")]
unsafe extern "system" {
    /// shell32's `SHChangeNotify` (declared here: the windows-sys feature `Win32_UI_Shell` is not enabled).
    fn SHChangeNotify(
        event: i32,
        flags: u32,
        item1: *const core::ffi::c_void,
        item2: *const core::ffi::c_void,
    );
}

/// Tells Explorer that file associations changed, so icons and menus refresh without a logoff.
pub fn notify_shell() {
    const SHCNE_ASSOCCHANGED: i32 = 0x0800_0000;
    const SHCNF_IDLIST: u32 = 0;
    // SAFETY: SHCNE_ASSOCCHANGED takes no items; both must be null, which they are.
    unsafe {
        SHChangeNotify(
            SHCNE_ASSOCCHANGED,
            SHCNF_IDLIST,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
}

#[cfg(all(test, windows))]
mod tests {
    use super::*;

    /// A scratch classes key under `HKEY_CURRENT_USER\Software`, deleted on drop.
    struct Scratch {
        path: String,
        key: RegKey,
    }

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let path = format!(r"Software\rdpl-test-{}-{test}", std::process::id());
            let (key, _) = RegKey::predef(HKEY_CURRENT_USER)
                .create_subkey(&path)
                .expect("create the scratch key");
            Scratch { path, key }
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = RegKey::predef(HKEY_CURRENT_USER).delete_subkey_all(&self.path);
        }
    }

    const EXE: &str = r"C:\Program Files\rdpl tools\rdpl.exe";

    fn get(base: &RegKey, key: &str, name: &str) -> io::Result<String> {
        base.open_subkey(key)?.get_value(name)
    }

    #[test]
    fn the_open_command_quotes_the_path_and_the_file() {
        assert_eq!(
            open_command(EXE),
            r#""C:\Program Files\rdpl tools\rdpl.exe" open "%1""#
        );
        assert!(writes(EXE).iter().any(|w| w.to_string()
            == r#"HKEY_CURRENT_USER\Software\Classes\rdpl.rdpfile\shell\open\command [(default)] = "C:\Program Files\rdpl tools\rdpl.exe" open "%1""#));
    }

    #[test]
    fn install_writes_the_prog_id_and_keeps_the_default() {
        let s = Scratch::new("install");
        let (ext, _) = s.key.create_subkey(".rdp").expect("ext");
        ext.set_value("", &"RDP.File").expect("default");
        let (owp, _) = s.key.create_subkey(r".rdp\OpenWithProgids").expect("owp");
        owp.set_value("Other.File", &"").expect("other");

        install(&s.key, &writes(EXE)).expect("install");
        install(&s.key, &writes(EXE)).expect("installing twice is fine");

        assert_eq!(
            get(&s.key, r"rdpl.rdpfile\shell\open\command", "").expect("command"),
            open_command(EXE)
        );
        assert_eq!(
            get(&s.key, "rdpl.rdpfile", "FriendlyTypeName").expect("name"),
            "Remote Desktop connection (rdpl)"
        );
        let icon = s
            .key
            .open_subkey(r"rdpl.rdpfile\DefaultIcon")
            .expect("icon key")
            .get_raw_value("")
            .expect("icon");
        assert_eq!(icon.vtype, REG_EXPAND_SZ);
        let mark = s
            .key
            .open_subkey(r".rdp\OpenWithProgids")
            .expect("owp")
            .get_raw_value(PROG_ID)
            .expect("listed");
        assert_eq!(mark.vtype, REG_SZ);
        assert_eq!(
            get(&s.key, ".rdp", "").expect("default"),
            "RDP.File",
            "not clobbered"
        );

        assert!(uninstall(&s.key).expect("uninstall"));
        assert!(s.key.open_subkey("rdpl.rdpfile").is_err(), "ProgID gone");
        let owp = s
            .key
            .open_subkey(r".rdp\OpenWithProgids")
            .expect("kept: it has another entry");
        assert!(owp.get_raw_value(PROG_ID).is_err(), "our entry gone");
        assert!(owp.get_raw_value("Other.File").is_ok(), "the other entry kept");
        assert_eq!(get(&s.key, ".rdp", "").expect("default"), "RDP.File");
        assert!(!uninstall(&s.key).expect("again"), "nothing left to remove");
    }

    #[test]
    fn uninstall_deletes_the_keys_it_left_empty() {
        let s = Scratch::new("empty");
        install(&s.key, &writes(EXE)).expect("install");
        assert!(uninstall(&s.key).expect("uninstall"));
        assert!(s.key.open_subkey(".rdp").is_err(), ".rdp was only ours");
        let info = s.key.query_info().expect("info");
        assert_eq!((info.sub_keys, info.values), (0, 0));
    }

    /// The Windows build of the fake client (`RDPL_TEST_FAKE_CLIENT_EXE`, set by scripts/wine-test). None
    /// (with a note) when it is not given, except in CI, where that fails the test.
    #[allow(
        clippy::print_stderr,
        reason = "a skipped test says why, where cargo test shows it"
    )]
    #[allow(
        clippy::disallowed_methods,
        reason = "tests may read the environment (the code under test never does)"
    )]
    fn fake_client() -> Option<std::path::PathBuf> {
        let Some(exe) = std::env::var_os("RDPL_TEST_FAKE_CLIENT_EXE") else {
            let why =
                "RDPL_TEST_FAKE_CLIENT_EXE is not set (scripts/wine-test builds the fake client and sets it)";
            let ci = std::env::var("CI")
                .is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
            assert!(!ci, "{why}; CI is set, so this fails instead of skipping");
            eprintln!("skipped: {why}");
            return None;
        };
        Some(exe.into())
    }

    /// The `.cmd` launcher `rdpl shortcut` writes, run by cmd.exe with a fake rdpl.exe (in a directory with a
    /// space) that records its arguments: the profile name arrives intact, and the exit code comes back.
    ///
    /// ASCII names only: Wine 8's cmd.exe decodes batch lines with the OEM code page whatever `chcp` says
    /// ("Büro" arrives as "B├╝ro"), so the `chcp 65001` path for non-ASCII names is not verifiable here.
    #[test]
    fn the_cmd_launcher_passes_awkward_names_intact() {
        let Some(fake) = fake_client() else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("rdpl tools");
        std::fs::create_dir_all(&bin).expect("bin");
        let exe = bin.join("rdpl.exe");
        std::fs::copy(&fake, &exe).expect("copy the fake client");
        let exe = exe.to_str().expect("utf-8");
        for (i, name) in ["web 01", "50% & more (x) ^caret! ;=,", "Bob's $erver"]
            .iter()
            .enumerate()
        {
            let record = dir.path().join(format!("rec{i}"));
            let script = dir.path().join(format!("launcher{i}.cmd"));
            let text = crate::integrate::script::cmd_script(exe, name).expect("script");
            std::fs::write(&script, text).expect("write");
            let status = std::process::Command::new(&script)
                .env("RDPL_FAKE_DIR", &record)
                .env("RDPL_FAKE_EXIT", "3")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .status()
                .expect("cmd.exe runs the launcher");
            assert_eq!(status.code(), Some(3), "{name}: the exit code comes back");
            let runs: Vec<_> = std::fs::read_dir(&record)
                .expect("the fake client ran")
                .map(|e| e.expect("entry").path())
                .collect();
            assert_eq!(runs.len(), 1, "{name}: {runs:?}");
            let argv: Vec<String> =
                serde_json::from_str(&std::fs::read_to_string(runs[0].join("argv.json")).expect("argv"))
                    .expect("json");
            assert_eq!(argv[1..], ["connect".to_owned(), (*name).to_owned()], "{name}");
        }
    }

    #[test]
    fn notifying_the_shell_does_not_crash() {
        notify_shell();
        let _ = user_choice();
    }
}

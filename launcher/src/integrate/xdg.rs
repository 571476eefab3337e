//! Linux and the BSDs: the freedesktop.org way, per user.
//!
//! `rdpl integrate` writes `$XDG_DATA_HOME/applications/rdpl.desktop` (the handler) and
//! `$XDG_DATA_HOME/mime/packages/rdpl-rdp.xml` (declares `application/x-rdp` with the glob `*.rdp`, for
//! systems whose shared-mime-info lacks it; a per-user duplicate of a system type is harmless), refreshes
//! both caches and runs `xdg-mime default rdpl.desktop application/x-rdp`, which records the default in
//! `$XDG_CONFIG_HOME/mimeapps.list` (what GIO, KDE and xdg-open read). No desktop session is needed: xdg-utils
//! writes that file whatever `$XDG_CURRENT_DESKTOP` says.
//!
//! `--uninstall` deletes the two files (only when they carry rdpl's marker), removes `rdpl.desktop` from the
//! `application/x-rdp` lines of `mimeapps.list` (the default is reset only when it still is rdpl), and
//! refreshes the caches, or deletes them when they described nothing but rdpl.
//!
//! The plans are pure functions of the directories and the files' current text; the command runs them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::desktop_entry::{self, HANDLER_ID};
use super::{Need, RDP_MIME, Step, Tool, safe_file_stem};
use crate::config::OsDirs;

/// `update-mime-database`: without it the per-user glob for `*.rdp` is not active.
pub const UPDATE_MIME_DATABASE: Tool = Tool {
    program: "update-mime-database",
    package: "shared-mime-info",
    need: Need::Recommended,
};

/// `update-desktop-database`: the `mimeinfo.cache` of the applications directory (desktops rebuild it too).
pub const UPDATE_DESKTOP_DATABASE: Tool = Tool {
    program: "update-desktop-database",
    package: "desktop-file-utils",
    need: Need::Optional,
};

/// `xdg-mime`: records the default handler.
pub const XDG_MIME: Tool = Tool {
    program: "xdg-mime",
    package: "xdg-utils",
    need: Need::Required,
};

/// The shared-mime-info package's file name (vendor prefix `rdpl-`, as the spec asks).
pub const MIME_PACKAGE: &str = "rdpl-rdp.xml";

/// The first line after the XML declaration of the MIME package: the marker `--uninstall` looks for.
const MIME_MARKER: &str = "<!-- written by rdpl integrate, which removes it again on uninstall -->";

/// The per-user directories integration uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// `$XDG_DATA_HOME` (default `~/.local/share`).
    pub data_home: PathBuf,
    /// `$XDG_CONFIG_HOME` (default `~/.config`).
    pub config_home: PathBuf,
    /// The desktop: `XDG_DESKTOP_DIR` from user-dirs.dirs, else `~/Desktop`, when it exists and is not home.
    pub desktop: Option<PathBuf>,
}

impl Dirs {
    /// The user's directories from what the OS reported ([`crate::config::Config::dirs`]; `None` without a
    /// home directory).
    pub fn from_os(os: &OsDirs) -> Option<Dirs> {
        let (Some(home), Some(data_home), Some(config_home)) = (&os.home, &os.data, &os.config) else {
            return None;
        };
        let desktop = os.desktop.clone().unwrap_or_else(|| home.join("Desktop"));
        let desktop = (desktop.is_dir() && desktop != *home).then_some(desktop);
        Some(Dirs {
            data_home: data_home.clone(),
            config_home: config_home.clone(),
            desktop,
        })
    }

    /// `$XDG_DATA_HOME/applications`.
    pub fn applications(&self) -> PathBuf {
        self.data_home.join("applications")
    }

    /// `$XDG_DATA_HOME/mime`.
    pub fn mime(&self) -> PathBuf {
        self.data_home.join("mime")
    }

    /// The handler's desktop entry.
    pub fn handler(&self) -> PathBuf {
        self.applications().join(HANDLER_ID)
    }

    /// The MIME package.
    pub fn mime_package(&self) -> PathBuf {
        self.mime().join("packages").join(MIME_PACKAGE)
    }

    /// The `mimeapps.list` files that may hold rdpl's association: the current location and the deprecated
    /// one under the applications directory (xdg-utils still reads it).
    pub fn mimeapps_lists(&self) -> [PathBuf; 2] {
        [
            self.config_home.join("mimeapps.list"),
            self.applications().join("mimeapps.list"),
        ]
    }
}

/// The shared-mime-info package declaring `application/x-rdp`.
pub fn mime_package_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
{MIME_MARKER}
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{RDP_MIME}">
    <comment>Remote Desktop connection</comment>
    <sub-class-of type="text/plain"/>
    <generic-icon name="text-x-generic"/>
    <glob pattern="*.rdp"/>
  </mime-type>
</mime-info>
"#
    )
}

fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

/// What `rdpl integrate` does.
pub fn integrate_plan(dirs: &Dirs, exe: &str) -> Vec<Step> {
    vec![
        Step::Write {
            path: dirs.handler(),
            text: desktop_entry::handler_entry(exe),
            mode: 0o644,
        },
        Step::Write {
            path: dirs.mime_package(),
            text: mime_package_xml(),
            mode: 0o644,
        },
        Step::Run {
            tool: UPDATE_MIME_DATABASE,
            args: vec![os(dirs.mime())],
        },
        Step::Run {
            tool: UPDATE_DESKTOP_DATABASE,
            args: vec![os(dirs.applications())],
        },
        Step::Run {
            tool: XDG_MIME,
            args: vec![os("default"), os(HANDLER_ID), os(RDP_MIME)],
        },
    ]
}

/// The current state of what `--uninstall` looks at (`None`: absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// `rdpl.desktop`.
    pub handler: Option<String>,
    /// `rdpl-rdp.xml`.
    pub mime_package: Option<String>,
    /// Each `mimeapps.list` with its text.
    pub mimeapps: Vec<(PathBuf, String)>,
    /// Whether `mime/packages` holds packages besides rdpl's.
    pub other_mime_packages: bool,
    /// The caches `update-mime-database` wrote that exist now.
    pub mime_caches: Vec<PathBuf>,
    /// Whether the applications directory holds desktop entries besides rdpl's.
    pub other_entries: bool,
    /// Whether `applications/mimeinfo.cache` exists.
    pub desktop_cache: bool,
}

/// The files `update-mime-database` (shared-mime-info 2.x) generates in a MIME directory when rdpl's is the
/// only package (`application/x-rdp.xml` is the per-type copy it writes for each type).
const MIME_CACHES: &[&str] = &[
    "application/x-rdp.xml",
    "aliases",
    "generic-icons",
    "globs",
    "globs2",
    "icons",
    "magic",
    "mime.cache",
    "subclasses",
    "treemagic",
    "types",
    "version",
    "XMLnamespaces",
];

/// The cache `update-desktop-database` writes.
const DESKTOP_CACHE: &str = "mimeinfo.cache";

/// Whether `dir` holds a file, other than `except`, whose name ends with `suffix` (a missing dir holds none).
fn holds_other(dir: &Path, suffix: &str, except: &str) -> Result<bool, super::StepError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(super::StepError::Io {
                action: "list",
                path: dir.to_owned(),
                source,
            });
        }
    };
    Ok(rd.filter_map(Result::ok).any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name != except && name.ends_with(suffix) && !name.starts_with('.')
    }))
}

impl Installed {
    /// Looks at the files.
    pub fn read(dirs: &Dirs) -> Result<Installed, super::StepError> {
        let mut mimeapps = Vec::new();
        for p in dirs.mimeapps_lists() {
            if let Some(t) = super::read_optional(&p)? {
                mimeapps.push((p, t));
            }
        }
        Ok(Installed {
            handler: super::read_optional(&dirs.handler())?,
            mime_package: super::read_optional(&dirs.mime_package())?,
            mimeapps,
            other_mime_packages: holds_other(&dirs.mime().join("packages"), ".xml", MIME_PACKAGE)?,
            mime_caches: MIME_CACHES
                .iter()
                .map(|f| dirs.mime().join(f))
                .filter(|p| p.is_file())
                .collect(),
            other_entries: holds_other(&dirs.applications(), ".desktop", HANDLER_ID)?,
            desktop_cache: dirs.applications().join(DESKTOP_CACHE).is_file(),
        })
    }
}

/// What `rdpl integrate --uninstall` does, and the files it leaves alone because rdpl did not write them.
///
/// The caches are refreshed when other entries or packages remain, and deleted when rdpl's were the only
/// ones (they then describe nothing but rdpl), with the MIME directories left empty by that.
pub fn uninstall_plan(dirs: &Dirs, now: &Installed) -> (Vec<Step>, Vec<String>) {
    let mut steps = Vec::new();
    let mut kept = Vec::new();
    for (path, text) in &now.mimeapps {
        match remove_association(text, RDP_MIME, HANDLER_ID) {
            Some(new) if new.trim().is_empty() => steps.push(Step::Remove { path: path.clone() }),
            Some(new) => steps.push(Step::Edit {
                path: path.clone(),
                text: new,
                what: format!("drop {HANDLER_ID} from {RDP_MIME}"),
            }),
            None => {}
        }
    }
    let not_ours = |p: PathBuf| {
        format!(
            "{} was not written by `rdpl integrate`; left in place",
            p.display()
        )
    };
    match &now.handler {
        Some(t) if desktop_entry::is_managed(t, "integrate") => {
            steps.push(Step::Remove { path: dirs.handler() });
            if now.other_entries {
                steps.push(Step::Run {
                    tool: UPDATE_DESKTOP_DATABASE,
                    args: vec![os(dirs.applications())],
                });
            } else if now.desktop_cache {
                steps.push(Step::Remove {
                    path: dirs.applications().join(DESKTOP_CACHE),
                });
            }
        }
        Some(_) => kept.push(not_ours(dirs.handler())),
        None => {}
    }
    match &now.mime_package {
        Some(t) if t.contains(MIME_MARKER) => {
            steps.push(Step::Remove {
                path: dirs.mime_package(),
            });
            if now.other_mime_packages {
                steps.push(Step::Run {
                    tool: UPDATE_MIME_DATABASE,
                    args: vec![os(dirs.mime())],
                });
            } else {
                steps.extend(now.mime_caches.iter().map(|p| Step::Remove { path: p.clone() }));
                for dir in [
                    dirs.mime().join("application"),
                    dirs.mime().join("packages"),
                    dirs.mime(),
                ] {
                    steps.push(Step::RemoveEmptyDir { path: dir });
                }
            }
        }
        Some(_) => kept.push(not_ours(dirs.mime_package())),
        None => {}
    }
    (steps, kept)
}

/// Removes `desktop_id` from the `mime=` lines of the `[Default Applications]` and `[Added Associations]`
/// groups of a `mimeapps.list`, dropping a line left empty and a group left empty by that; everything else
/// is kept byte for byte. `None` when the text does not mention it.
pub fn remove_association(text: &str, mime: &str, desktop_id: &str) -> Option<String> {
    // Sections: the lines before the first group, then one per group header.
    let mut sections: Vec<(Option<&str>, Vec<String>, bool)> = vec![(None, Vec::new(), false)];
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let eol = &line[body.len()..];
        if body.starts_with('[') {
            sections.push((Some(line), Vec::new(), false));
            continue;
        }
        let Some((header, lines, edited)) = sections.last_mut() else {
            continue;
        };
        let in_group =
            header.is_some_and(|h| matches!(h.trim_end(), "[Default Applications]" | "[Added Associations]"));
        let value = body
            .split_once('=')
            .filter(|(k, _)| in_group && k.trim() == mime)
            .map(|(_, v)| v);
        let ids: Vec<&str> = value
            .map(|v| v.split(';').map(str::trim).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if !ids.contains(&desktop_id) {
            lines.push(line.to_owned());
            continue;
        }
        changed = true;
        *edited = true;
        let rest: Vec<&str> = ids.into_iter().filter(|id| *id != desktop_id).collect();
        if !rest.is_empty() {
            lines.push(format!("{mime}={};{eol}", rest.join(";")));
        }
    }
    if !changed {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (header, lines, edited) in sections {
        if edited && lines.iter().all(|l| l.trim().is_empty()) {
            continue;
        }
        out.extend(header.map(str::to_owned));
        out.extend(lines);
    }
    Some(out)
}

/// The launcher file of a profile in `dir`.
pub fn shortcut_path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("rdpl-{}.desktop", safe_file_stem(profile)))
}

/// Whether an existing launcher file belongs to `profile` (and was written by rdpl).
pub fn shortcut_is_for(text: &str, profile: &str) -> bool {
    desktop_entry::is_managed(text, "shortcut")
        && desktop_entry::get_key(text, "X-Rdpl-Profile")
            == Some(desktop_entry::escape_value(profile).as_str())
}

/// The program the handler entry in `text` runs (its `Exec` parsed per spec), if it parses.
pub fn handler_program(text: &str) -> Option<String> {
    let exec = desktop_entry::get_key(text, "Exec")?;
    desktop_entry::parse_exec(exec).ok()?.into_iter().next()
}

/// The default handler of .rdp files as xdg-utils sees it (`xdg-mime query default application/x-rdp`).
pub fn query_default() -> Result<String, super::StepError> {
    let out = super::run_tool(XDG_MIME, &[os("query"), os("default"), os(RDP_MIME)])?;
    Ok(out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> Dirs {
        Dirs {
            data_home: "/h/.local/share".into(),
            config_home: "/h/.config".into(),
            desktop: None,
        }
    }

    #[test]
    fn dirs_come_from_what_the_os_reported_and_the_desktop_must_exist() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().to_path_buf();
        let os = OsDirs {
            home: Some(home.clone()),
            data: Some(home.join(".local/share")),
            config: Some(home.join(".config")),
            ..OsDirs::default()
        };
        let d = Dirs::from_os(&os).expect("dirs");
        assert_eq!(
            (d.data_home, d.config_home),
            (home.join(".local/share"), home.join(".config"))
        );
        assert_eq!(d.desktop, None, "~/Desktop does not exist");
        std::fs::create_dir(home.join("Desktop")).expect("mkdir");
        assert_eq!(
            Dirs::from_os(&os).expect("dirs").desktop,
            Some(home.join("Desktop"))
        );
        let named = |desktop: PathBuf| OsDirs {
            desktop: Some(desktop),
            ..os.clone()
        };
        assert_eq!(
            Dirs::from_os(&named(home.clone())).expect("dirs").desktop,
            None,
            "home is no desktop"
        );
        std::fs::create_dir(home.join("Schreibtisch")).expect("mkdir");
        assert_eq!(
            Dirs::from_os(&named(home.join("Schreibtisch")))
                .expect("dirs")
                .desktop,
            Some(home.join("Schreibtisch"))
        );
        assert_eq!(Dirs::from_os(&OsDirs::default()), None, "no home");
    }

    #[test]
    fn integrate_writes_two_files_then_runs_the_tools() {
        let plan = integrate_plan(&dirs(), "/usr/bin/rdpl");
        let lines: Vec<String> = plan.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "write /h/.local/share/applications/rdpl.desktop",
                "write /h/.local/share/mime/packages/rdpl-rdp.xml",
                "run update-mime-database /h/.local/share/mime",
                "run update-desktop-database /h/.local/share/applications",
                "run xdg-mime default rdpl.desktop application/x-rdp",
            ]
        );
    }

    #[test]
    fn uninstall_removes_only_what_rdpl_wrote() {
        let d = dirs();
        let now = Installed {
            handler: Some(desktop_entry::handler_entry("/usr/bin/rdpl")),
            mime_package: Some("<mime-info/>".into()),
            mimeapps: vec![(
                d.config_home.join("mimeapps.list"),
                "[Default Applications]\ntext/plain=gedit.desktop\napplication/x-rdp=rdpl.desktop;\n".into(),
            )],
            other_entries: true,
            desktop_cache: true,
            ..Installed::default()
        };
        let (steps, kept) = uninstall_plan(&d, &now);
        let lines: Vec<String> = steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "edit /h/.config/mimeapps.list (drop rdpl.desktop from application/x-rdp)",
                "remove /h/.local/share/applications/rdpl.desktop",
                "run update-desktop-database /h/.local/share/applications",
            ]
        );
        assert_eq!(kept.len(), 1);
        assert!(kept[0].contains("rdpl-rdp.xml"), "{kept:?}");
        let (steps, kept) = uninstall_plan(&d, &Installed::default());
        assert!(steps.is_empty() && kept.is_empty());
    }

    #[test]
    fn caches_that_described_only_rdpl_are_deleted() {
        let d = dirs();
        let now = Installed {
            handler: Some(desktop_entry::handler_entry("/usr/bin/rdpl")),
            mime_package: Some(mime_package_xml()),
            mimeapps: vec![(
                d.config_home.join("mimeapps.list"),
                "\n[Default Applications]\napplication/x-rdp=rdpl.desktop\n".into(),
            )],
            mime_caches: vec![d.mime().join("globs2"), d.mime().join("mime.cache")],
            desktop_cache: true,
            ..Installed::default()
        };
        let (steps, _) = uninstall_plan(&d, &now);
        let lines: Vec<String> = steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "remove /h/.config/mimeapps.list",
                "remove /h/.local/share/applications/rdpl.desktop",
                "remove /h/.local/share/applications/mimeinfo.cache",
                "remove /h/.local/share/mime/packages/rdpl-rdp.xml",
                "remove /h/.local/share/mime/globs2",
                "remove /h/.local/share/mime/mime.cache",
                "remove /h/.local/share/mime/application if empty",
                "remove /h/.local/share/mime/packages if empty",
                "remove /h/.local/share/mime if empty",
            ]
        );
        let now = Installed {
            other_mime_packages: true,
            ..now
        };
        let (steps, _) = uninstall_plan(&d, &now);
        assert_eq!(
            steps.last().map(ToString::to_string).as_deref(),
            Some("run update-mime-database /h/.local/share/mime")
        );
    }

    #[test]
    fn mime_package_is_recognised_as_ours() {
        let now = Installed {
            mime_package: Some(mime_package_xml()),
            ..Installed::default()
        };
        let (steps, _) = uninstall_plan(&dirs(), &now);
        assert_eq!(
            steps.first().map(ToString::to_string).as_deref(),
            Some("remove /h/.local/share/mime/packages/rdpl-rdp.xml")
        );
    }

    #[test]
    fn the_default_is_reset_only_when_it_is_rdpl() {
        let text = "# mine\r\n[Default Applications]\r\ntext/plain=gedit.desktop\r\napplication/x-rdp=rdpl.desktop\r\n\r\n[Added Associations]\r\napplication/x-rdp=rdpl.desktop;remmina.desktop;\r\n";
        assert_eq!(
            remove_association(text, RDP_MIME, HANDLER_ID).as_deref(),
            Some(
                "# mine\r\n[Default Applications]\r\ntext/plain=gedit.desktop\r\n\r\n[Added Associations]\r\napplication/x-rdp=remmina.desktop;\r\n"
            )
        );
        let other = "[Default Applications]\napplication/x-rdp=remmina.desktop\n";
        assert_eq!(remove_association(other, RDP_MIME, HANDLER_ID), None);
        let elsewhere = "[Removed Associations]\napplication/x-rdp=rdpl.desktop\n";
        assert_eq!(remove_association(elsewhere, RDP_MIME, HANDLER_ID), None);
        let second = "[Default Applications]\napplication/x-rdp=remmina.desktop;rdpl.desktop;";
        assert_eq!(
            remove_association(second, RDP_MIME, HANDLER_ID).as_deref(),
            Some("[Default Applications]\napplication/x-rdp=remmina.desktop;")
        );
    }

    #[test]
    fn a_group_left_empty_is_dropped() {
        let text = "[Default Applications]\napplication/x-rdp=rdpl.desktop\n\n[Added Associations]\ntext/plain=gedit.desktop;\n";
        assert_eq!(
            remove_association(text, RDP_MIME, HANDLER_ID).as_deref(),
            Some("[Added Associations]\ntext/plain=gedit.desktop;\n")
        );
        // An empty group rdpl did not edit stays.
        let text = "[Added Associations]\n[Default Applications]\napplication/x-rdp=rdpl.desktop\n";
        assert_eq!(
            remove_association(text, RDP_MIME, HANDLER_ID).as_deref(),
            Some("[Added Associations]\n")
        );
    }

    #[test]
    fn shortcuts_are_matched_to_their_profile() {
        let text = desktop_entry::shortcut_entry("/usr/bin/rdpl", "web 01", "h:3389");
        assert!(shortcut_is_for(&text, "web 01"));
        assert!(!shortcut_is_for(&text, "web-01"));
        assert_eq!(
            shortcut_path(Path::new("/d"), "web 01"),
            Path::new("/d/rdpl-web-01.desktop")
        );
        assert_eq!(
            handler_program(&desktop_entry::handler_entry("/a b/rdpl")).as_deref(),
            Some("/a b/rdpl")
        );
    }

    #[test]
    fn mime_package_comment_is_well_formed_xml() {
        // `--` inside a comment makes the XML invalid, and update-mime-database then skips the file (exit 0).
        let inner = MIME_MARKER
            .strip_prefix("<!--")
            .and_then(|s| s.strip_suffix("-->"));
        assert!(inner.is_some_and(|s| !s.contains("--") && !s.ends_with('-')));
    }

    #[test]
    fn mime_package_text() {
        insta::assert_snapshot!(mime_package_xml(), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- written by rdpl integrate, which removes it again on uninstall -->
        <mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
          <mime-type type="application/x-rdp">
            <comment>Remote Desktop connection</comment>
            <sub-class-of type="text/plain"/>
            <generic-icon name="text-x-generic"/>
            <glob pattern="*.rdp"/>
          </mime-type>
        </mime-info>
        "#);
    }
}

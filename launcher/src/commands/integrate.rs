//! `rdpl integrate` (rdpl as the per-user .rdp handler) and `rdpl shortcut` (a launcher for one profile).
//!
//! The platform work lives in [`crate::integrate`]; this module resolves the profile and the executable,
//! runs or prints the steps, and reports what happened.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use rdpl_profiles::store::{Store, StoreError};

use super::common::{profile_name, store_error};
use crate::cli::{IntegrateArgs, ShortcutArgs};
use crate::config::{Config, OsDirs};
use crate::exit::{CliError, CmdResult, Exit};
use crate::integrate::{Step, StepError, read_optional};
use crate::ui::Ui;
use crate::ui::outln;

pub(super) fn integrate(a: IntegrateArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    if a.print_desktop_entry.is_some() || a.print_mime {
        return print_for_package(&a, ui);
    }
    if a.trust_publisher {
        return trust_publisher(config, a.dry_run, ui);
    }
    let exe = current_exe(config)?;
    platform::integrate(&a, &exe, &config.dirs, ui)
}

/// `rdpl integrate --trust-publisher`: rdpl's .rdp publisher (made if needed), its thumbprint, and on Windows
/// the "trusted .rdp publishers" policy (`TrustedCertThumbprints`) for this user, or the administrator's
/// command where the user may not write it.
fn trust_publisher(config: &Config, dry_run: bool, ui: &mut Ui) -> CmdResult {
    let p = if dry_run {
        crate::publisher::existing(config)?
    } else {
        Some(crate::publisher::ensure(config)?)
    };
    let Some(p) = p else {
        outln!(
            ui,
            "would create rdpl's .rdp publisher certificate ({}) and trust it",
            crate::publisher::path(config).display()
        );
        return Ok(Exit::Ok);
    };
    if p.created {
        outln!(
            ui,
            "created rdpl's .rdp publisher certificate {}",
            p.path.display()
        );
    }
    outln!(ui, "publisher   {}", p.subject);
    outln!(ui, "thumbprint  {} (SHA-1)", p.thumbprint);
    #[cfg(windows)]
    return platform::trust_thumbprint(&p.thumbprint, dry_run, ui);
    #[cfg(not(windows))]
    {
        // mstsc only exists on Windows: the thumbprint is what a Windows administrator lists.
        let _ = dry_run;
        outln!(
            ui,
            "mstsc runs on Windows only; on a Windows computer that opens rdpl's files, an administrator trusts \
             this publisher with:"
        );
        outln!(ui, "  {}", admin_command(&p.thumbprint, None));
        Ok(Exit::Ok)
    }
}

/// The command an administrator runs to trust `thumbprint` for every user of the computer (keeping what the
/// value lists already: `current`).
fn admin_command(thumbprint: &str, current: Option<&str>) -> String {
    let value = rdpl_core::mstsc::with_thumbprint(current.unwrap_or(""), thumbprint)
        .unwrap_or_else(|| current.unwrap_or("").to_owned());
    format!(
        "reg add \"HKLM\\{}\" /v {} /t REG_SZ /d \"{value}\" /f",
        rdpl_core::mstsc::POLICY_KEY,
        rdpl_core::mstsc::TRUSTED_THUMBPRINTS
    )
}

pub(super) fn shortcut(a: ShortcutArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    if a.remove {
        return remove_shortcut(&a, &store, &config.dirs, ui);
    }
    let p = store.load(&a.profile).map_err(store_error)?;
    let name = p.name.to_string();
    let exe = current_exe(config)?;
    let dir = match &a.output {
        Some(dir) => existing_dir(dir)?,
        None => platform::shortcut_dirs(&config.dirs)?
            .into_iter()
            .next()
            .ok_or_else(|| CliError::usage(anyhow!("found no desktop directory")).help("pass -o DIR"))?,
    };
    let path = platform::shortcut_path(&dir, &name);
    if let Some(text) = read_optional(&path).map_err(step_error)?
        && !platform::shortcut_is_for(&text, &name)
    {
        return Err(CliError::usage(anyhow!(
            "{} exists and is not rdpl's launcher for `{name}`",
            path.display()
        ))
        .help("move it away, or write the launcher elsewhere with -o DIR"));
    }
    let text = platform::shortcut_text(&exe, &name, &p.target().to_string())?;
    let step = Step::Write {
        path: path.clone(),
        text,
        mode: 0o755,
    };
    crate::integrate::apply(&step).map_err(step_error)?;
    outln!(ui, "{}", path.display());
    ui.note(format!(
        "wrote a launcher for `{name}`: double-click it to connect"
    ));
    platform::after_shortcut(&path, &config.dirs, ui);
    Ok(Exit::Ok)
}

fn remove_shortcut(a: &ShortcutArgs, store: &Store, os: &OsDirs, ui: &mut Ui) -> CmdResult {
    // A launcher can outlive its profile, so an unknown name is still looked for (as typed).
    let (name, not_found) = match store.resolve(&a.profile) {
        Ok(n) => (n.to_string(), None),
        Err(e @ StoreError::NotFound { .. }) => (profile_name(&a.profile)?.to_string(), Some(e)),
        Err(e) => return Err(store_error(e)),
    };
    let dirs = match &a.output {
        Some(dir) => vec![existing_dir(dir)?],
        None => platform::shortcut_dirs(os)?,
    };
    let mut removed = 0;
    for dir in &dirs {
        let path = platform::shortcut_path(dir, &name);
        let Some(text) = read_optional(&path).map_err(step_error)? else {
            continue;
        };
        if !platform::shortcut_is_for(&text, &name) {
            ui.warn(format!(
                "{} is not rdpl's launcher for `{name}`; left in place",
                path.display()
            ));
            continue;
        }
        crate::integrate::apply(&Step::Remove { path: path.clone() }).map_err(step_error)?;
        outln!(ui, "{}", path.display());
        removed += 1;
    }
    if removed > 0 {
        ui.note(format!("removed the launcher for `{name}`"));
        return Ok(Exit::Ok);
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut e = match not_found {
        Some(nf) => store_error(nf),
        None => CliError::usage(anyhow!("there is no launcher for `{name}`")),
    };
    e.help.push(format!("looked in {}", looked.join(" and ")));
    Err(e)
}

/// `--print-desktop-entry EXE` / `--print-mime`: the files `rdpl integrate` writes per user, for a package to
/// install system-wide (scripts/package-deb). Without rdpl's own markers: nothing but the package removes them.
#[cfg(all(unix, not(target_os = "macos")))]
fn print_for_package(a: &IntegrateArgs, ui: &mut Ui) -> CmdResult {
    let text = match &a.print_desktop_entry {
        Some(exe) => crate::integrate::desktop_entry::handler_entry(exe),
        None => crate::integrate::xdg::mime_package_xml(),
    };
    let keep = |l: &&str| {
        !l.starts_with(crate::integrate::desktop_entry::MANAGED_KEY) && !l.starts_with("<!-- written by rdpl")
    };
    for line in text.lines().filter(keep) {
        outln!(ui, "{line}");
    }
    Ok(Exit::Ok)
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn print_for_package(_: &IntegrateArgs, _: &mut Ui) -> CmdResult {
    Err(CliError::usage(anyhow!(
        "--print-desktop-entry and --print-mime are for Linux and BSD packages"
    )))
}

/// The running executable ([`Config::current_exe`]), as launchers must call it (an absolute path, valid
/// UTF-8).
fn current_exe(config: &Config) -> Result<String, CliError> {
    let exe = config.current_exe.as_ref().map_err(|e| {
        CliError::usage(anyhow!(e.clone()).context("could not find the path of the rdpl executable"))
    })?;
    exe.to_str().map(str::to_owned).ok_or_else(|| {
        CliError::usage(anyhow!(
            "the path of the rdpl executable is not valid UTF-8: {}",
            exe.display()
        ))
        .help("launchers and file associations need a UTF-8 path; move rdpl to one")
    })
}

fn existing_dir(dir: &Path) -> Result<PathBuf, CliError> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(CliError::usage(anyhow!("{} is not a directory", dir.display())))
    }
}

/// The user's desktop folder (Windows, macOS), where launchers go without `-o`.
#[cfg(any(windows, target_os = "macos"))]
fn desktop_dir(os: &OsDirs) -> Result<PathBuf, CliError> {
    os.desktop
        .clone()
        .ok_or_else(|| CliError::usage(anyhow!("could not find your desktop folder")).help("pass -o DIR"))
}

fn step_error(e: StepError) -> CliError {
    CliError::usage(e)
}

#[cfg(all(unix, not(target_os = "macos")))]
mod platform {
    //! Linux and the BSDs: desktop entries and xdg-utils.

    use super::*;
    use crate::integrate::desktop_entry::{self, HANDLER_ID};
    use crate::integrate::xdg::{self, Dirs, Installed};
    use crate::integrate::{Need, StepError};
    use crate::ui::style;

    /// Prints the steps (`--dry-run`): each line, and the text of each file to write.
    fn print_steps(ui: &mut Ui, steps: &[Step]) {
        let d = style::DIM;
        for s in steps {
            outln!(ui, "would {s}");
            if let Step::Write { text, .. } | Step::Edit { text, .. } = s {
                for line in text.lines() {
                    outln!(ui, "    {d}{line}{d:#}");
                }
            }
        }
    }

    /// Runs the steps in order. A missing or failing program does not stop the rest; file errors do. Returns
    /// the problems of required programs (the caller decides what they mean); warns about the others.
    fn run_steps(ui: &mut Ui, steps: &[Step]) -> Result<Vec<StepError>, CliError> {
        let mut done: Vec<String> = Vec::new();
        let mut required = Vec::new();
        for s in steps {
            match crate::integrate::apply(s) {
                Ok(()) => {
                    ui.note(format!("{s}: done"));
                    done.push(s.to_string());
                }
                Err(e @ (StepError::Missing { tool } | StepError::Failed { tool, .. })) => match tool.need {
                    Need::Required => required.push(e),
                    Need::Recommended => ui.warn(&e),
                    Need::Optional => ui.note(format!("skipped: {e}")),
                },
                Err(e) => {
                    let mut err = step_error(e);
                    if !done.is_empty() {
                        err.help.push(format!("already done: {}", done.join("; ")));
                    }
                    return Err(err);
                }
            }
        }
        Ok(required)
    }

    fn install_help(e: &StepError) -> Option<String> {
        match e {
            StepError::Missing { tool } => Some(format!(
                "install it (Debian/Ubuntu: `sudo apt install {}`), then run this again",
                tool.package
            )),
            _ => None,
        }
    }

    fn dirs(os: &OsDirs) -> Result<Dirs, CliError> {
        Dirs::from_os(os).ok_or_else(|| {
            CliError::usage(anyhow!("could not find your home directory")).help("set HOME (or XDG_DATA_HOME)")
        })
    }

    pub(super) fn integrate(a: &IntegrateArgs, exe: &str, os: &OsDirs, ui: &mut Ui) -> CmdResult {
        let dirs = dirs(os)?;
        if a.uninstall {
            return uninstall(&dirs, a.dry_run, ui);
        }
        let handler = dirs.handler();
        if let Some(old) = read_optional(&handler).map_err(step_error)? {
            if !desktop_entry::is_managed(&old, "integrate") {
                return Err(CliError::usage(anyhow!(
                    "{} exists and was not written by rdpl",
                    handler.display()
                ))
                .help("move it away and run `rdpl integrate` again"));
            }
            match xdg::handler_program(&old) {
                Some(prog) if prog != exe => ui.note(format!("replacing the handler that ran {prog}")),
                _ => {}
            }
        }
        let steps = xdg::integrate_plan(&dirs, exe);
        if a.dry_run {
            print_steps(ui, &steps);
            return Ok(Exit::Ok);
        }
        let required = run_steps(ui, &steps)?;
        if let Some(e) = required.into_iter().next() {
            let mut err = CliError::usage(anyhow!("the default application for .rdp files was not set: {e}"));
            err.help.extend(install_help(&e));
            err.help.push(format!(
                "written anyway: {} and {}",
                dirs.handler().display(),
                dirs.mime_package().display()
            ));
            return Err(err);
        }
        match xdg::query_default() {
            Ok(id) if id == HANDLER_ID => {}
            Ok(id) => ui.warn(format!(
                "`xdg-mime query default {}` still answers `{id}`: your desktop keeps its own choice; pick \
                 rdpl in the file manager (Open With > rdpl, set as default)",
                crate::integrate::RDP_MIME
            )),
            Err(e) => ui.warn(format!("could not check the default: {e}")),
        }
        let g = style::OK;
        outln!(
            ui,
            "{g}rdpl now opens .rdp files for this user{g:#} (double-click one, or `xdg-open FILE.rdp`)"
        );
        outln!(ui, "undo with `rdpl integrate --uninstall`");
        Ok(Exit::Ok)
    }

    fn uninstall(dirs: &Dirs, dry_run: bool, ui: &mut Ui) -> CmdResult {
        let now = Installed::read(dirs).map_err(step_error)?;
        let (steps, kept) = xdg::uninstall_plan(dirs, &now);
        for k in &kept {
            ui.warn(k);
        }
        if steps.is_empty() {
            ui.note("nothing to remove: rdpl is not integrated for this user");
            return Ok(Exit::Ok);
        }
        if dry_run {
            print_steps(ui, &steps);
            return Ok(Exit::Ok);
        }
        // Only cache refreshes run here; their problems were reported as warnings and notes.
        let _ = run_steps(ui, &steps)?;
        outln!(ui, "rdpl no longer handles .rdp files for this user");
        Ok(Exit::Ok)
    }

    /// Where a launcher goes: the desktop when there is one, then the applications menu.
    pub(super) fn shortcut_dirs(os: &OsDirs) -> Result<Vec<PathBuf>, CliError> {
        let dirs = dirs(os)?;
        Ok(dirs
            .desktop
            .iter()
            .cloned()
            .chain([dirs.applications()])
            .collect())
    }

    pub(super) fn shortcut_path(dir: &Path, name: &str) -> PathBuf {
        xdg::shortcut_path(dir, name)
    }

    pub(super) fn shortcut_is_for(text: &str, name: &str) -> bool {
        xdg::shortcut_is_for(text, name)
    }

    pub(super) fn shortcut_text(exe: &str, name: &str, target: &str) -> Result<String, CliError> {
        Ok(desktop_entry::shortcut_entry(exe, name, target))
    }

    /// GNOME's desktop runs a launcher only when it is executable *and* marked trusted (a gvfs attribute).
    pub(super) fn after_shortcut(path: &Path, os: &OsDirs, ui: &mut Ui) {
        let on_desktop = Dirs::from_os(os)
            .and_then(|d| d.desktop)
            .is_some_and(|d| path.parent() == Some(d.as_path()));
        if !on_desktop {
            return;
        }
        let gio = crate::integrate::Tool {
            program: "gio",
            package: "libglib2.0-bin",
            need: Need::Optional,
        };
        let args = [
            "set".into(),
            path.into(),
            "metadata::trusted".into(),
            "true".into(),
        ];
        if crate::integrate::run_tool(gio, &args).is_err() {
            ui.note(
                "on GNOME, right-click the launcher and choose \"Allow Launching\" once (it could not be \
                 marked trusted from here)",
            );
        }
    }
}

#[cfg(windows)]
mod platform {
    //! Windows: a per-user file association in the registry; `.cmd` launchers.

    use super::*;
    use crate::integrate::windows as win;
    use crate::ui::style;

    /// Adds the thumbprint to the user's policy value, or prints the administrator's command.
    pub(super) fn trust_thumbprint(thumbprint: &str, dry_run: bool, ui: &mut Ui) -> CmdResult {
        use crate::credentials::windows::{Trust, rdp_file_policy, trust_publisher};
        let policy = rdp_file_policy().map_err(|e| CliError::usage(anyhow!(e)))?;
        if let Some(at) = policy.trusted_in(thumbprint) {
            outln!(ui, "{}trusted{:#} already: listed in {at}", style::OK, style::OK);
            return Ok(Exit::Ok);
        }
        let at = format!(r"HKCU\{}", rdpl_core::mstsc::POLICY_KEY);
        if dry_run {
            outln!(
                ui,
                "would add it to {} in {at}",
                rdpl_core::mstsc::TRUSTED_THUMBPRINTS
            );
            return Ok(Exit::Ok);
        }
        match trust_publisher(thumbprint) {
            Ok(Trust::Added(at) | Trust::Already(at)) => {
                outln!(
                    ui,
                    "{}trusted{:#}: added to {} in {at}; mstsc now opens rdpl's signed files without the security \
                     dialog, with the redirections they ask for",
                    style::OK,
                    style::OK,
                    rdpl_core::mstsc::TRUSTED_THUMBPRINTS
                );
                if let Some(at) = policy.signed_files_blocked() {
                    ui.warn(format!(
                        "AllowSignedFiles is 0 in {at}: mstsc refuses signed files until an administrator enables \
                         the policy \"Allow .rdp files from valid publishers and user's default .rdp settings\""
                    ));
                }
                Ok(Exit::Ok)
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                let current = policy
                    .trusted
                    .iter()
                    .find(|(w, _)| w.starts_with("HKLM"))
                    .map(|(_, v)| v.as_str());
                Err(CliError::usage(anyhow!(
                    "this user may not write the policy {at} (managed computer)"
                ))
                .help(format!(
                    "an administrator trusts rdpl's publisher for every user with: {}",
                    admin_command(thumbprint, current)
                )))
            }
            Err(e) => Err(CliError::usage(anyhow!(e))),
        }
    }

    pub(super) fn integrate(a: &IntegrateArgs, exe: &str, _os: &OsDirs, ui: &mut Ui) -> CmdResult {
        let reg_error = |e: std::io::Error| {
            CliError::usage(
                anyhow!(e).context(format!("could not change HKEY_CURRENT_USER\\{}", win::CLASSES)),
            )
        };
        if a.uninstall {
            if a.dry_run {
                outln!(
                    ui,
                    "would delete HKEY_CURRENT_USER\\{}\\{}",
                    win::CLASSES,
                    win::PROG_ID
                );
                outln!(
                    ui,
                    "would delete the value {} of HKEY_CURRENT_USER\\{}\\.rdp\\OpenWithProgids",
                    win::PROG_ID,
                    win::CLASSES
                );
                return Ok(Exit::Ok);
            }
            let classes = win::classes_key().map_err(reg_error)?;
            let removed = win::uninstall(&classes).map_err(reg_error)?;
            win::notify_shell();
            if removed {
                outln!(ui, "rdpl no longer offers to open .rdp files for this user");
            } else {
                ui.note("nothing to remove: rdpl is not registered for this user");
            }
            if win::user_choice().as_deref() == Some(win::PROG_ID) {
                ui.note(
                    "Windows still lists rdpl as your choice for .rdp files; it will ask which app to use next \
                     time",
                );
            }
            return Ok(Exit::Ok);
        }
        let writes = win::writes(exe);
        if a.dry_run {
            for w in &writes {
                outln!(ui, "would set {w}");
            }
            return Ok(Exit::Ok);
        }
        let classes = win::classes_key().map_err(reg_error)?;
        win::install(&classes, &writes).map_err(reg_error)?;
        win::notify_shell();
        for w in &writes {
            ui.note(format!("set {w}"));
        }
        let g = style::OK;
        outln!(ui, "{g}rdpl is registered for .rdp files for this user{g:#}");
        if win::user_choice().as_deref() == Some(win::PROG_ID) {
            outln!(ui, "it is already your default for .rdp files");
        } else {
            outln!(
                ui,
                "Windows lets only you choose the default: right-click an .rdp file > Open with > Choose \
                 another app > rdpl, and tick \"Always use this app\" (or Settings > Apps > Default apps > .rdp)"
            );
        }
        outln!(ui, "undo with `rdpl integrate --uninstall`");
        Ok(Exit::Ok)
    }

    pub(super) fn shortcut_dirs(os: &OsDirs) -> Result<Vec<PathBuf>, CliError> {
        super::desktop_dir(os).map(|d| vec![d])
    }

    pub(super) fn shortcut_path(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.cmd"))
    }

    pub(super) fn shortcut_is_for(text: &str, name: &str) -> bool {
        crate::integrate::script::is_managed(text, name)
    }

    /// A `.cmd` file rather than a `.lnk` shortcut: a `.lnk` needs COM (`IShellLinkW`) or a hand-written
    /// binary format, and its console window closes the moment rdpl exits, taking the pre-flight report
    /// with it; the batch file pauses when rdpl fails, is plain text the user can read, and needs no
    /// dependency. Its cost is the generic batch-file icon.
    pub(super) fn shortcut_text(exe: &str, name: &str, _target: &str) -> Result<String, CliError> {
        crate::integrate::script::cmd_script(exe, name).ok_or_else(|| {
            CliError::usage(anyhow!(
                "the path or the name cannot be written into a batch file"
            ))
        })
    }

    pub(super) fn after_shortcut(_path: &Path, _os: &OsDirs, _ui: &mut Ui) {}
}

#[cfg(target_os = "macos")]
mod platform {
    //! macOS: no handler without an app bundle (explained), `.command` launchers.

    use super::*;

    pub(super) fn integrate(a: &IntegrateArgs, exe: &str, _os: &OsDirs, ui: &mut Ui) -> CmdResult {
        let _ = a;
        for line in crate::integrate::macos::explanation(exe) {
            outln!(ui, "{line}");
        }
        Ok(Exit::Ok)
    }

    pub(super) fn shortcut_dirs(os: &OsDirs) -> Result<Vec<PathBuf>, CliError> {
        super::desktop_dir(os).map(|d| vec![d])
    }

    pub(super) fn shortcut_path(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.command"))
    }

    pub(super) fn shortcut_is_for(text: &str, name: &str) -> bool {
        crate::integrate::script::is_managed(text, name)
    }

    pub(super) fn shortcut_text(exe: &str, name: &str, _target: &str) -> Result<String, CliError> {
        Ok(crate::integrate::script::command_script(exe, name))
    }

    pub(super) fn after_shortcut(_path: &Path, _os: &OsDirs, ui: &mut Ui) {
        ui.note("the first double-click may ask whether to open it: it is a shell script rdpl wrote");
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    //! Anything else: nothing to integrate with.

    use super::*;

    fn unsupported() -> CliError {
        CliError::usage(anyhow!("desktop integration is not supported on this system"))
    }

    pub(super) fn integrate(_a: &IntegrateArgs, _exe: &str, _os: &OsDirs, _ui: &mut Ui) -> CmdResult {
        Err(unsupported())
    }

    pub(super) fn shortcut_dirs(_os: &OsDirs) -> Result<Vec<PathBuf>, CliError> {
        Err(unsupported())
    }

    pub(super) fn shortcut_path(dir: &Path, name: &str) -> PathBuf {
        dir.join(name)
    }

    pub(super) fn shortcut_is_for(_text: &str, _name: &str) -> bool {
        false
    }

    pub(super) fn shortcut_text(_exe: &str, _name: &str, _target: &str) -> Result<String, CliError> {
        Err(unsupported())
    }

    pub(super) fn after_shortcut(_path: &Path, _os: &OsDirs, _ui: &mut Ui) {}
}

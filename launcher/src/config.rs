//! The merged configuration of one run: flags, then environment, then OS defaults.
//!
//! This is the only module that reads environment variables or asks the OS about the process's world (the
//! machine's name, `%SystemRoot%`, the executable's path, the temporary and per-user directories):
//! [`Env::from_process`] takes that snapshot once, tests inject their own, everything else gets a [`Config`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cli::{ColorWhen, GlobalArgs};
use crate::exit::CliError;

/// Environment variables rdpl reads.
pub const ENV_CONFIG_DIR: &str = "RDPL_CONFIG_DIR";
/// The DNS server to ask instead of the system resolver.
pub const ENV_DNS_SERVER: &str = "RDPL_DNS_SERVER";
/// Which keyring: `auto`, `secret-service`, `keyutils` (Linux).
pub const ENV_KEYRING: &str = "RDPL_KEYRING";
/// The password of a PFX signing certificate (`rdpl rdp --sign`, a profile's `sign.cert`).
pub const ENV_PFX_PASSWORD: &str = "RDPL_PFX_PASSWORD";
/// The machine's name, as shells set it; the native session's client name.
const ENV_HOSTNAME: &str = "HOSTNAME";

/// The configuration of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where profiles (and later pins and state) live.
    pub config_dir: PathBuf,
    /// Whether to colour output.
    pub color: anstream::ColorChoice,
    /// The DNS server to ask instead of the system's (`--dns-server`, `RDPL_DNS_SERVER`).
    pub dns_server: Option<std::net::SocketAddr>,
    /// Log verbosity: 0 = warnings, 1 = info, 2 = debug, 3+ = trace; -1 = errors only.
    pub verbosity: i8,
    /// Which keyring (`RDPL_KEYRING`).
    pub keyring: crate::credentials::KeyringChoice,
    /// The password of a PFX signing certificate (`RDPL_PFX_PASSWORD`); redacted in `Debug`.
    pub pfx_password: Option<secrecy::SecretString>,
    /// The client name a server shows for rdpl's native session (`HOSTNAME`, else `/etc/hostname`, else
    /// `rdpl`; at most 15 characters), worked out only when a session asks for it.
    pub client_name: ClientName,
    /// `%SystemRoot%` (Windows only; `None` elsewhere): where mstsc.exe is looked for first.
    pub system_root: Option<PathBuf>,
    /// The running executable as the OS reports it (`/proc/self/exe`, `GetModuleFileNameW`,
    /// `_NSGetExecutablePath`), or the OS's error: what launchers and file associations call.
    pub current_exe: Result<PathBuf, String>,
    /// The directory for temporary files (`TMPDIR`, `%TEMP%`, ...: `std::env::temp_dir`); `None` only in an
    /// injected environment without one.
    pub temp_dir: Option<PathBuf>,
    /// The per-user directories the OS reports.
    pub dirs: OsDirs,
    /// The directories of `PATH`, in order: where client programs (FreeRDP) are looked for.
    pub search_path: Vec<PathBuf>,
}

/// The per-user directories the OS reports, through the `directories` crate: `$HOME`, the `$XDG_*`
/// variables and `user-dirs.dirs` on Linux and the BSDs, the known folders on Windows, the standard
/// directories on macOS. All `None` without a home directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsDirs {
    /// The home directory.
    pub home: Option<PathBuf>,
    /// The user's data directory (`$XDG_DATA_HOME`, default `~/.local/share`).
    pub data: Option<PathBuf>,
    /// The user's configuration directory (`$XDG_CONFIG_HOME`, default `~/.config`).
    pub config: Option<PathBuf>,
    /// The desktop folder as the OS names it (`XDG_DESKTOP_DIR` from user-dirs.dirs, the Desktop known
    /// folder), whether or not it exists.
    pub desktop: Option<PathBuf>,
    /// rdpl's default configuration directory (e.g. `~/.config/rdpl`).
    pub rdpl_config: Option<PathBuf>,
}

impl OsDirs {
    #[allow(
        clippy::disallowed_methods,
        reason = "Env::from_process's snapshot: the one place that asks the OS for the user's directories"
    )]
    fn from_process() -> OsDirs {
        let base = directories::BaseDirs::new();
        OsDirs {
            home: base.as_ref().map(|b| b.home_dir().to_path_buf()),
            data: base.as_ref().map(|b| b.data_dir().to_path_buf()),
            config: base.as_ref().map(|b| b.config_dir().to_path_buf()),
            desktop: directories::UserDirs::new().and_then(|u| u.desktop_dir().map(Path::to_path_buf)),
            rdpl_config: directories::ProjectDirs::from("", "", "rdpl").map(|d| d.config_dir().to_path_buf()),
        }
    }
}

/// A snapshot of the environment variables and OS facts rdpl cares about (injected, so tests can supply their
/// own).
#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<String, String>,
    /// `/etc/hostname`, used only when `HOSTNAME` is not set: its path (read when a session needs the client
    /// name, not at start-up) or, injected, its text.
    etc_hostname: HostnameFile,
    /// `%SystemRoot%`, read on Windows only (a path, so not necessarily UTF-8).
    system_root: Option<PathBuf>,
    /// `std::env::current_exe()`, its error as text.
    current_exe: Result<PathBuf, String>,
    /// `std::env::temp_dir()`.
    temp_dir: Option<PathBuf>,
    /// The per-user directories.
    dirs: OsDirs,
    /// `PATH`, split.
    search_path: Vec<PathBuf>,
}

impl Default for Env {
    /// No variables, no OS facts (the executable is unknown).
    fn default() -> Env {
        Env {
            vars: HashMap::new(),
            etc_hostname: HostnameFile::None,
            system_root: None,
            current_exe: Err("no executable path in this environment".into()),
            temp_dir: None,
            dirs: OsDirs::default(),
            search_path: Vec::new(),
        }
    }
}

impl Env {
    /// The process environment.
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place that reads the environment and the OS facts; everything else gets a Config"
    )]
    pub fn from_process() -> Env {
        let wanted = [
            ENV_CONFIG_DIR,
            ENV_DNS_SERVER,
            ENV_KEYRING,
            ENV_PFX_PASSWORD,
            "NO_COLOR",
            "CLICOLOR_FORCE",
            ENV_HOSTNAME,
        ];
        let vars: HashMap<String, String> = wanted
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
            .collect();
        let etc_hostname = if vars.contains_key(ENV_HOSTNAME) {
            HostnameFile::None
        } else {
            HostnameFile::Path(PathBuf::from("/etc/hostname"))
        };
        #[cfg(windows)]
        let system_root = std::env::var_os("SystemRoot").map(PathBuf::from);
        #[cfg(not(windows))]
        let system_root = None;
        Env {
            vars,
            etc_hostname,
            system_root,
            current_exe: std::env::current_exe().map_err(|e| e.to_string()),
            temp_dir: Some(std::env::temp_dir()),
            dirs: OsDirs::from_process(),
            search_path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        }
    }

    /// An environment with exactly these variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Env::default()
        }
    }

    /// This environment with `%SystemRoot%` set to `dir`.
    pub fn with_system_root(mut self, dir: impl Into<PathBuf>) -> Env {
        self.system_root = Some(dir.into());
        self
    }

    /// This environment with `exe` as the running executable.
    pub fn with_current_exe(mut self, exe: impl Into<PathBuf>) -> Env {
        self.current_exe = Ok(exe.into());
        self
    }

    /// This environment with `dir` for temporary files.
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Env {
        self.temp_dir = Some(dir.into());
        self
    }

    /// This environment with these `PATH` directories.
    pub fn with_search_path(mut self, dirs: Vec<PathBuf>) -> Env {
        self.search_path = dirs;
        self
    }

    /// This environment with these per-user directories.
    pub fn with_dirs(mut self, dirs: OsDirs) -> Env {
        self.dirs = dirs;
        self
    }

    /// This environment with `/etc/hostname` reading `text` (used when `HOSTNAME` is not set).
    pub fn with_etc_hostname(mut self, text: impl Into<String>) -> Env {
        self.etc_hostname = HostnameFile::Text(text.into());
        self
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Merges flags, environment and OS defaults.
    pub fn resolve(args: &GlobalArgs, env: &Env) -> Result<Config, CliError> {
        let config_dir = match (&args.config_dir, env.get(ENV_CONFIG_DIR)) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => env.dirs.rdpl_config.clone().ok_or_else(|| {
                CliError::usage(anyhow::anyhow!(
                    "could not find a home directory for rdpl's configuration"
                ))
                .help(format!("pass --config-dir DIR or set {ENV_CONFIG_DIR}"))
            })?,
        };
        let color = match args.color {
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
            ColorWhen::Auto if env.get("NO_COLOR").is_some() => anstream::ColorChoice::Never,
            ColorWhen::Auto if env.get("CLICOLOR_FORCE").is_some() => anstream::ColorChoice::Always,
            ColorWhen::Auto => anstream::ColorChoice::Auto,
        };
        let dns_server = match (&args.dns_server, env.get(ENV_DNS_SERVER)) {
            (Some(s), _) => {
                Some(parse_dns_server(s).map_err(|e| CliError::usage(anyhow::anyhow!("--dns-server: {e}")))?)
            }
            (None, Some(s)) => Some(
                parse_dns_server(s).map_err(|e| CliError::usage(anyhow::anyhow!("{ENV_DNS_SERVER}: {e}")))?,
            ),
            (None, None) => None,
        };
        let verbosity =
            i8::try_from(args.verbose).unwrap_or(i8::MAX) - i8::try_from(args.quiet).unwrap_or(i8::MAX);
        let keyring = match env.get(ENV_KEYRING) {
            Some(k) => k
                .parse()
                .map_err(|e| CliError::usage(anyhow::anyhow!("{ENV_KEYRING}: {e}")))?,
            None => crate::credentials::KeyringChoice::Auto,
        };
        let pfx_password = env
            .get(ENV_PFX_PASSWORD)
            .map(|p| secrecy::SecretString::from(p.to_owned()));
        Ok(Config {
            config_dir,
            color,
            dns_server,
            verbosity,
            keyring,
            pfx_password,
            client_name: client_name(env),
            system_root: env.system_root.clone(),
            current_exe: env.current_exe.clone(),
            temp_dir: env.temp_dir.clone(),
            dirs: env.dirs.clone(),
            search_path: env.search_path.clone(),
        })
    }

    /// The profile store.
    pub fn store(&self) -> rdpl_profiles::store::Store {
        rdpl_profiles::store::Store::new(&self.config_dir).on_lock_wait(|lock| {
            // Before blocking: a user otherwise sees an rdpl that does nothing.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "waiting for another rdpl to finish changing profiles, pins or state (it holds {})",
                crate::ui::shown(&lock.display().to_string())
            );
        })
    }

    /// rdpl's keyring entries and their index.
    pub fn vault(&self) -> crate::credentials::Vault {
        crate::credentials::Vault::new(self.store(), self.keyring)
    }

    /// The owner-only directory for the temporary .rdp files handed to clients (inside the config dir, which
    /// is private already; each file is deleted when its client exits).
    pub fn private_dir(&self) -> PathBuf {
        self.config_dir.join("run")
    }
}

/// Where `/etc/hostname`'s text comes from.
#[derive(Debug, Clone)]
enum HostnameFile {
    /// Not used (`HOSTNAME` is set) or not known.
    None,
    /// Read this file when the name is needed.
    Path(PathBuf),
    /// Its text (injected).
    Text(String),
}

/// The client name the server shows, worked out when a session needs it (so no command reads
/// `/etc/hostname` at start-up).
#[derive(Debug, Clone)]
pub struct ClientName {
    hostname: Option<String>,
    file: HostnameFile,
}

impl ClientName {
    /// At most 15 characters ([MS-RDPBCGR] 2.2.1.3.2): `HOSTNAME` when it is set (even when empty), else
    /// `/etc/hostname`; trimmed; `rdpl` when that leaves nothing.
    #[allow(
        clippy::disallowed_methods,
        reason = "config.rs reads the OS facts; this one only when a session asks for it"
    )]
    pub fn get(&self) -> String {
        let file = match (&self.hostname, &self.file) {
            (Some(_), _) | (None, HostnameFile::None) => None,
            (None, HostnameFile::Text(t)) => Some(t.clone()),
            (None, HostnameFile::Path(p)) => rdpl_profiles::files::read_regular(p, 4096)
                .ok()
                .and_then(|b| String::from_utf8(b).ok()),
        };
        let host = self
            .hostname
            .clone()
            .or(file)
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "rdpl".to_owned());
        host.chars().take(15).collect()
    }
}

/// The client name of this environment (nothing is read yet).
fn client_name(env: &Env) -> ClientName {
    ClientName {
        hostname: env.vars.get(ENV_HOSTNAME).cloned(),
        file: env.etc_hostname.clone(),
    }
}

/// `IP` (port 53) or `IP:PORT` / `[IPv6]:PORT`.
pub fn parse_dns_server(s: &str) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, 53));
    }
    s.parse()
        .map_err(|_| format!("`{s}` is not an IP address or IP:PORT"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "the test writes the hostname file it then reads"
    )]
    fn the_hostname_file_is_read_when_the_name_is_asked_for_not_before() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hostname");
        let name = ClientName {
            hostname: None,
            file: HostnameFile::Path(file.clone()),
        };
        std::fs::write(&file, "late-host\n").expect("write");
        assert_eq!(name.get(), "late-host");
        std::fs::remove_file(&file).expect("remove");
        assert_eq!(name.get(), "rdpl", "a missing file is no name");
    }

    #[test]
    fn client_name_is_hostname_then_etc_hostname_then_rdpl() {
        let etc = |e: Env| e.with_etc_hostname("from-file\n");
        assert_eq!(
            client_name(&etc(Env::from_pairs([("HOSTNAME", " ws01 ")]))).get(),
            "ws01"
        );
        assert_eq!(client_name(&etc(Env::default())).get(), "from-file");
        assert_eq!(client_name(&Env::default()).get(), "rdpl");
        // A set but empty HOSTNAME wins over the file, as `std::env::var(..).ok().or_else(..)` did.
        assert_eq!(
            client_name(&etc(Env::from_pairs([("HOSTNAME", "")]))).get(),
            "rdpl"
        );
        assert_eq!(
            client_name(&Env::from_pairs([("HOSTNAME", "a-very-long-workstation-name")])).get(),
            "a-very-long-wor"
        );
    }

    fn resolve(args: &[&str], env: &Env) -> Result<Config, CliError> {
        let cli = crate::cli::Cli::try_parse_from(["rdpl"].iter().chain(args).chain(&["explain", "0"]))
            .expect("arguments parse");
        Config::resolve(&cli.global, env)
    }

    #[test]
    fn the_os_facts_come_from_the_injected_env() {
        let dirs = OsDirs {
            home: Some("/h".into()),
            rdpl_config: Some("/h/.config/rdpl".into()),
            ..OsDirs::default()
        };
        let env = Env::from_pairs([("HOSTNAME", "ws01")])
            .with_system_root(r"C:\Windows")
            .with_current_exe("/opt/rdpl/bin/rdpl")
            .with_temp_dir("/t")
            .with_dirs(dirs.clone());
        let c = resolve(&[], &env).expect("config");
        assert_eq!(c.config_dir, Path::new("/h/.config/rdpl"));
        assert_eq!(c.client_name.get(), "ws01");
        assert_eq!(c.system_root.as_deref(), Some(Path::new(r"C:\Windows")));
        assert_eq!(c.current_exe.as_deref(), Ok(Path::new("/opt/rdpl/bin/rdpl")));
        assert_eq!(c.temp_dir.as_deref(), Some(Path::new("/t")));
        assert_eq!(c.dirs, dirs);

        let bare = resolve(&["--config-dir", "/c"], &Env::default()).expect("config");
        assert_eq!(bare.config_dir, Path::new("/c"));
        assert_eq!(
            (bare.client_name.get().as_str(), bare.system_root, bare.temp_dir),
            ("rdpl", None, None)
        );
        assert!(bare.current_exe.is_err());
        let err = resolve(&[], &Env::default()).expect_err("no config dir");
        assert!(err.to_string().contains("home directory"), "{err}");
    }
}

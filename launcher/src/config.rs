//! The merged configuration of one run: flags, then environment, then OS defaults.
//!
//! This is the only module that reads environment variables; everything else gets a [`Config`].

use std::collections::HashMap;
use std::path::PathBuf;

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
}

/// A snapshot of the environment variables rdpl cares about (injected, so tests can supply their own).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Env {
        let wanted = [
            ENV_CONFIG_DIR,
            ENV_DNS_SERVER,
            ENV_KEYRING,
            ENV_PFX_PASSWORD,
            "NO_COLOR",
            "CLICOLOR_FORCE",
        ];
        Env {
            vars: wanted
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
                .collect(),
        }
    }

    /// An environment with exactly these variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
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
            (None, None) => directories::ProjectDirs::from("", "", "rdpl")
                .map(|d| d.config_dir().to_path_buf())
                .ok_or_else(|| {
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
        })
    }

    /// The profile store.
    pub fn store(&self) -> rdpl_profiles::store::Store {
        rdpl_profiles::store::Store::new(&self.config_dir)
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

/// `IP` (port 53) or `IP:PORT` / `[IPv6]:PORT`.
pub fn parse_dns_server(s: &str) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, 53));
    }
    s.parse()
        .map_err(|_| format!("`{s}` is not an IP address or IP:PORT"))
}

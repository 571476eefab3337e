//! The profile store: one TOML file per profile under `<config dir>/profiles/`, pins and state; with
//! [`crate::files`] (which it writes through) the only module of this crate that does file I/O.
//!
//! - Writes are atomic ([`write_atomic`]): a temporary file in the same directory, fsync, rename over the
//!   target, fsync of the directory. A reader sees the old file or the new one, never a partial one.
//! - Every read-modify-write holds an exclusive lock on `<config dir>/.lock`, so concurrent `rdpl profile add`
//!   from many processes lose nothing.
//! - A file that does not parse is reported with its path, line and column and is never overwritten.
//! - The on-disk form ([`ProfileFileV1`]) is separate from the domain type and carries a schema `version`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::files::{FileError, create_private_dir, write_atomic};
use crate::name::{NameError, Port, ProfileName, TargetAddr};
use crate::profile::{
    AudioPlayback, ClientChoice, Display, Gateway, GatewayUsage, Profile, Redirect, Security, Tri,
    check_account_field, check_extra,
};
use crate::rdp::Value;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Errors from the store. Each names the profile or file concerned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no profile named `{name}`")]
    NotFound { name: String, known: Vec<String> },
    #[error("a profile named `{name}` already exists")]
    Exists { name: String },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid profile name `{name}`: {source}")]
    InvalidName { name: String, source: NameError },
    #[error("invalid value: {0}")]
    Invalid(String),
    #[error("could not {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl From<FileError> for StoreError {
    fn from(e: FileError) -> StoreError {
        StoreError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError + use<> {
    let path = path.to_owned();
    move |source| StoreError::Io { action, path, source }
}

/// A profile as it is written in its TOML file (schema version 1).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFileV1 {
    /// Schema version; always [`SCHEMA_VERSION`] when written.
    pub version: Spanned<u32>,
    /// Host name or IP address.
    pub host: Spanned<String>,
    /// RDP port (default 3389).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Spanned<u16>>,
    /// Fallback addresses, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<Spanned<String>>,
    /// Alternate address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate: Option<Spanned<String>>,
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Spanned<String>>,
    /// Domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Spanned<String>>,
    /// Where the password comes from instead of the keyring (`[password] command = "..."`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordFile>,
    /// Preferred client: a backend, or one exact FreeRDP program (`xfreerdp3`, an absolute path).
    #[serde(default, skip_serializing_if = "is_default")]
    pub backend: ClientChoice,
    /// RD Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayFile>,
    /// Security preferences.
    #[serde(default)]
    pub security: SecurityFile,
    /// Redirection policy.
    #[serde(default)]
    pub redirect: RedirectFile,
    /// Display.
    #[serde(default, skip_serializing_if = "is_default")]
    pub display: DisplayFile,
    /// Extra low-risk .rdp properties, by their .rdp name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rdp: BTreeMap<String, Spanned<toml::Value>>,
    /// The certificate that signs written .rdp files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<SignFile>,
}

/// `[sign]`
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignFile {
    /// The certificate (PEM or PFX), an absolute path.
    pub cert: Spanned<String>,
    /// The PEM private key, when the certificate file has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Spanned<String>>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `[gateway]`
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// Gateway host.
    pub host: Spanned<String>,
    /// Gateway port (default 443).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Spanned<u16>>,
    /// When to use it.
    #[serde(default)]
    pub usage: GatewayUsage,
    /// The gateway's own account, when it is not the connection's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Spanned<String>>,
    /// Its domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Spanned<String>>,
    /// Where its own password comes from (`[gateway.password] command = "..."`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordFile>,
}

/// `[password]` and `[gateway.password]`
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordFile {
    /// The command that prints the password (split like a shell would, run without one).
    pub command: Spanned<String>,
}

/// `[security]`
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityFile {
    /// NLA / CredSSP.
    #[serde(default)]
    pub nla: Tri,
    /// UDP transport.
    #[serde(default)]
    pub udp: Tri,
    /// The network path: normal, vpn, flaky.
    #[serde(default, skip_serializing_if = "is_normal")]
    pub link: crate::profile::Link,
    /// TLS 1.0/1.1 for servers that speak nothing newer: deny (default) or allow.
    #[serde(default, skip_serializing_if = "is_default")]
    pub tls_legacy: crate::profile::TlsLegacy,
}

fn is_normal(l: &crate::profile::Link) -> bool {
    *l == crate::profile::Link::Normal
}

/// `[redirect]`
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedirectFile {
    pub clipboard: bool,
    pub drives: Vec<Spanned<String>>,
    pub printers: bool,
    pub smart_cards: bool,
    pub ports: bool,
    pub usb: bool,
    pub cameras: bool,
    pub webauthn: bool,
    pub pos_devices: bool,
    pub location: bool,
    pub microphone: bool,
    pub audio: AudioPlayback,
}

impl Default for RedirectFile {
    fn default() -> Self {
        RedirectFile::from(&Redirect::default())
    }
}

impl From<&Redirect> for RedirectFile {
    fn from(r: &Redirect) -> Self {
        RedirectFile {
            clipboard: r.clipboard,
            drives: r.drives.iter().map(|d| unspanned(d.clone())).collect(),
            printers: r.printers,
            smart_cards: r.smart_cards,
            ports: r.ports,
            usb: r.usb,
            cameras: r.cameras,
            webauthn: r.webauthn,
            pos_devices: r.pos_devices,
            location: r.location,
            microphone: r.microphone,
            audio: r.audio,
        }
    }
}

/// `[display]`
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisplayFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub full_screen: bool,
    pub multimon: bool,
}

fn unspanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Converts the on-disk form into a profile; errors carry the span of the offending value.
fn from_file(name: ProfileName, f: ProfileFileV1) -> Result<Profile, (Range<usize>, String)> {
    fn parse<T: std::str::FromStr>(s: &Spanned<String>) -> Result<T, (Range<usize>, String)>
    where
        T::Err: std::fmt::Display,
    {
        s.get_ref().parse::<T>().map_err(|e| (s.span(), e.to_string()))
    }
    fn account(what: &str, s: &Option<Spanned<String>>) -> Result<Option<String>, (Range<usize>, String)> {
        match s {
            None => Ok(None),
            Some(s) => check_account_field(what, s.get_ref())
                .map(|()| Some(s.get_ref().clone()))
                .map_err(|e| (s.span(), e)),
        }
    }
    fn port(p: &Option<Spanned<u16>>, default: Port) -> Result<Port, (Range<usize>, String)> {
        match p {
            None => Ok(default),
            Some(p) => {
                Port::new(*p.get_ref()).ok_or_else(|| (p.span(), "port 0 is not a usable port".into()))
            }
        }
    }
    if *f.version.get_ref() != SCHEMA_VERSION {
        return Err((
            f.version.span(),
            format!(
                "schema version {} is not supported by this rdpl (it reads version {SCHEMA_VERSION}); \
                 the file was left as it is",
                f.version.get_ref()
            ),
        ));
    }
    let mut p = Profile::new(name, parse(&f.host)?);
    p.port = port(&f.port, Port::RDP)?;
    p.fallbacks = f
        .fallback
        .iter()
        .map(parse::<TargetAddr>)
        .collect::<Result<_, _>>()?;
    p.alternate = f.alternate.as_ref().map(parse::<TargetAddr>).transpose()?;
    p.user = account("user", &f.user)?;
    p.domain = account("domain", &f.domain)?;
    let command = |pw: &Option<PasswordFile>, what: &str| {
        pw.as_ref()
            .map(|pw| {
                pw.command
                    .get_ref()
                    .parse::<crate::profile::PasswordCommand>()
                    .map_err(|e| (pw.command.span(), format!("{what}: {e}")))
            })
            .transpose()
    };
    p.password_command = command(&f.password, "password.command")?;
    p.backend = f.backend.backend;
    p.freerdp_program = f.backend.program.clone();
    p.gateway = match &f.gateway {
        None => None,
        Some(g) => Some(Gateway {
            host: parse(&g.host)?,
            port: port(&g.port, Port::HTTPS)?,
            usage: g.usage,
            user: account("gateway.user", &g.user)?,
            domain: account("gateway.domain", &g.domain)?,
            password_command: command(&g.password, "gateway.password.command")?,
        }),
    };
    p.security = Security {
        nla: f.security.nla,
        udp: f.security.udp,
        link: f.security.link,
        tls_legacy: f.security.tls_legacy,
    };
    let r = &f.redirect;
    for d in &r.drives {
        check_account_field("a drive name", d.get_ref()).map_err(|e| (d.span(), e))?;
    }
    p.redirect = Redirect {
        clipboard: r.clipboard,
        drives: r.drives.iter().map(|d| d.get_ref().clone()).collect(),
        printers: r.printers,
        smart_cards: r.smart_cards,
        ports: r.ports,
        usb: r.usb,
        cameras: r.cameras,
        webauthn: r.webauthn,
        pos_devices: r.pos_devices,
        location: r.location,
        microphone: r.microphone,
        audio: r.audio,
    };
    p.display = Display {
        width: f.display.width,
        height: f.display.height,
        full_screen: f.display.full_screen,
        multimon: f.display.multimon,
    };
    for (key, v) in &f.rdp {
        let value = match v.get_ref() {
            toml::Value::Integer(i) => Value::Int(*i),
            toml::Value::String(s) => Value::Str(s.clone()),
            _ => return Err((v.span(), format!("`{key}` must be an integer or a string"))),
        };
        let canonical = check_extra(key, &value).map_err(|e| (v.span(), e))?;
        p.extra.insert(canonical.to_owned(), value);
    }
    if let Some(s) = &f.sign {
        let path = |v: &Spanned<String>| {
            crate::profile::sign_path(v.get_ref()).map_err(|e| (v.span(), format!("sign: {e}")))
        };
        p.sign = Some(crate::profile::SignSettings {
            cert: path(&s.cert)?,
            key: s.key.as_ref().map(path).transpose()?,
        });
    }
    Ok(p)
}

/// The on-disk form of a profile.
pub fn to_file(p: &Profile) -> ProfileFileV1 {
    ProfileFileV1 {
        version: unspanned(SCHEMA_VERSION),
        host: unspanned(p.host.to_string()),
        port: (p.port != Port::RDP).then(|| unspanned(p.port.get())),
        fallback: p.fallbacks.iter().map(|a| unspanned(a.to_string())).collect(),
        alternate: p.alternate.as_ref().map(|a| unspanned(a.to_string())),
        user: p.user.clone().map(unspanned),
        domain: p.domain.clone().map(unspanned),
        password: p.password_command.as_ref().map(|c| PasswordFile {
            command: unspanned(c.line().to_owned()),
        }),
        backend: p.client(),
        gateway: p.gateway.as_ref().map(|g| GatewayFile {
            host: unspanned(g.host.to_string()),
            port: (g.port != Port::HTTPS).then(|| unspanned(g.port.get())),
            usage: g.usage,
            user: g.user.clone().map(unspanned),
            domain: g.domain.clone().map(unspanned),
            password: g.password_command.as_ref().map(|c| PasswordFile {
                command: unspanned(c.line().to_owned()),
            }),
        }),
        security: SecurityFile {
            nla: p.security.nla,
            udp: p.security.udp,
            link: p.security.link,
            tls_legacy: p.security.tls_legacy,
        },
        redirect: RedirectFile::from(&p.redirect),
        display: DisplayFile {
            width: p.display.width,
            height: p.display.height,
            full_screen: p.display.full_screen,
            multimon: p.display.multimon,
        },
        rdp: p
            .extra
            .iter()
            .filter_map(|(k, v)| {
                let tv = match v {
                    Value::Int(i) => toml::Value::Integer(*i),
                    Value::Str(s) => toml::Value::String(s.clone()),
                    Value::Bin(_) => return None,
                };
                Some((k.clone(), unspanned(tv)))
            })
            .collect(),
        sign: p.sign.as_ref().map(|s| SignFile {
            cert: unspanned(s.cert.display().to_string()),
            key: s.key.as_ref().map(|k| unspanned(k.display().to_string())),
        }),
    }
}

/// Renders a profile as the TOML text of its file.
pub fn to_toml(p: &Profile) -> String {
    // Serializing plain data to TOML cannot fail; fall back to an empty document rather than panic.
    toml::to_string(&to_file(p)).unwrap_or_default()
}

/// Parses the TOML text of a profile file; errors carry line and column.
pub fn parse_profile(name: ProfileName, path: &Path, text: &str) -> Result<Profile, StoreError> {
    let corrupt = |span: Option<Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
        StoreError::Corrupt {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let file: ProfileFileV1 =
        toml::from_str(text).map_err(|e| corrupt(e.span(), e.message().trim_end_matches('\n').to_owned()))?;
    from_file(name, file).map_err(|(span, msg)| corrupt(Some(span), msg))
}

/// An exclusive lock on the config directory, held until dropped.
#[derive(Debug)]
pub struct ConfigLock {
    _file: File,
}

/// The profile store.
#[derive(Debug, Clone)]
pub struct Store {
    config_dir: PathBuf,
    /// Called with the lock file's path when another process holds the config lock, before waiting for it.
    on_wait: Option<fn(&Path)>,
}

impl Store {
    /// A store rooted at a config directory (nothing is created until the first write).
    pub fn new(config_dir: impl Into<PathBuf>) -> Store {
        Store {
            config_dir: config_dir.into(),
            on_wait: None,
        }
    }

    /// Has [`Store::lock`] call `say` with the lock file's path when it must wait for another process (so a
    /// user sees why rdpl is not doing anything), then wait.
    pub fn on_lock_wait(mut self, say: fn(&Path)) -> Store {
        self.on_wait = Some(say);
        self
    }

    /// The config directory.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// The directory holding the profile files.
    pub fn profiles_dir(&self) -> PathBuf {
        self.config_dir.join("profiles")
    }

    /// The file of a profile.
    pub fn path_of(&self, name: &ProfileName) -> PathBuf {
        self.profiles_dir().join(format!("{name}.toml"))
    }

    /// Takes the exclusive config lock (blocking until other rdpl processes release it).
    pub fn lock(&self) -> Result<ConfigLock, StoreError> {
        create_private_dir(&self.config_dir)?;
        let path = self.config_dir.join(".lock");
        let mut options = File::options();
        options.create(true).truncate(false).write(true);
        // Owner-only like everything else in the config dir (it is empty, but 0644 would be the odd one out).
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io_err("open the lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                if let Some(say) = self.on_wait {
                    say(&path);
                }
                file.lock().map_err(io_err("lock", &path))?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
        }
        self.sweep_temp_files();
        Ok(ConfigLock { _file: file })
    }

    /// Removes the `.tmp-*` files a killed writer left behind. Called with the lock held: every write into
    /// these directories happens under the lock, so a temp file seen now belongs to no live process. Best
    /// effort; a file that can't be removed is harmless (owner-only, and never read as a profile).
    fn sweep_temp_files(&self) {
        let dirs = [
            self.config_dir.clone(),
            self.profiles_dir(),
            self.config_dir.join("state"),
        ];
        for dir in dirs {
            crate::files::remove_temp_files(&dir);
        }
        self.recover_imports();
    }

    /// Finishes or undoes what a killed [`Store::add_all`] left (called with the lock held): a staging
    /// directory with its commit mark is moved into place (the files it still holds), one without is
    /// deleted. So an import is all or nothing, whenever it is killed.
    fn recover_imports(&self) {
        let profiles = self.profiles_dir();
        let Ok(rd) = fs::read_dir(&profiles) else { return };
        for entry in rd.flatten() {
            let staged = entry.path();
            let is_staging = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(STAGING_PREFIX));
            if !is_staging || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if staged.join(COMMIT_MARK).is_file() {
                let _ = move_staged(&staged, &profiles);
            }
            let _ = fs::remove_dir_all(&staged);
        }
    }

    /// The names of all profile files, sorted case-insensitively. Files whose stem is not a valid name
    /// are returned as errors.
    pub fn names(&self) -> Result<(Vec<ProfileName>, Vec<StoreError>), StoreError> {
        let (mut names, errors) = self.unsorted_names()?;
        names.sort_by_cached_key(|n| (n.key(), n.to_string()));
        Ok((names, errors))
    }

    /// [`Store::names`] in directory order.
    fn unsorted_names(&self) -> Result<(Vec<ProfileName>, Vec<StoreError>), StoreError> {
        // A config dir that is a file or a broken link is named as such, not as "could not list".
        if !crate::files::existing_dir(&self.config_dir)? {
            return Ok((Vec::new(), Vec::new()));
        }
        let dir = self.profiles_dir();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => {
                return Err(StoreError::Io {
                    action: "list",
                    path: dir,
                    source: e,
                });
            }
        };
        let mut names = Vec::new();
        let mut errors = Vec::new();
        for ent in rd {
            let ent = ent.map_err(io_err("list", &dir))?;
            let file_name = ent.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            let Some(stem) = file_name.strip_suffix(".toml") else {
                continue;
            };
            match stem.parse::<ProfileName>() {
                Ok(n) => names.push(n),
                Err(source) => errors.push(StoreError::InvalidName {
                    name: stem.to_owned(),
                    source,
                }),
            }
        }
        Ok((names, errors))
    }

    /// Finds an existing profile name, ignoring case.
    pub fn resolve(&self, name: &str) -> Result<ProfileName, StoreError> {
        // Unsorted: a lookup needs no order (the exporter resolves a name per probe, in directories of
        // thousands of profiles); only the error's list of known names is sorted.
        let (mut names, _) = self.unsorted_names()?;
        let wanted = name.to_lowercase();
        if let Some(n) = names
            .iter()
            .find(|n| n.as_str() == name)
            .or_else(|| names.iter().find(|n| n.key() == wanted))
        {
            return Ok(n.clone());
        }
        names.sort_by_cached_key(|n| (n.key(), n.to_string()));
        Err(StoreError::NotFound {
            name: name.to_owned(),
            known: names.iter().map(ToString::to_string).collect(),
        })
    }

    /// Loads one profile (name matched ignoring case).
    pub fn load(&self, name: &str) -> Result<Profile, StoreError> {
        let name = self.resolve(name)?;
        self.load_exact(name)
    }

    fn load_exact(&self, name: ProfileName) -> Result<Profile, StoreError> {
        let path = self.path_of(&name);
        let bytes = crate::files::read_regular(&path, crate::files::MAX_PROFILE_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, column) = line_col(
                &String::from_utf8_lossy(e.as_bytes()),
                e.utf8_error().valid_up_to(),
            );
            StoreError::Corrupt {
                path: path.clone(),
                line,
                column,
                message: "the file is not valid UTF-8".into(),
            }
        })?;
        parse_profile(name, &path, &text)
    }

    /// Loads every profile; files that fail to load come back as errors beside the good ones.
    pub fn load_all(&self) -> Result<(Vec<Profile>, Vec<StoreError>), StoreError> {
        let (names, mut errors) = self.names()?;
        let mut profiles = Vec::new();
        for n in names {
            match self.load_exact(n) {
                Ok(p) => profiles.push(p),
                Err(e) => errors.push(e),
            }
        }
        Ok((profiles, errors))
    }

    fn write(&self, p: &Profile) -> Result<(), StoreError> {
        create_private_dir(&self.profiles_dir())?;
        Ok(write_atomic(&self.path_of(&p.name), to_toml(p).as_bytes())?)
    }

    /// Adds many profiles, all or nothing, in one pass: one lock, one listing of the directory, the files
    /// written into a staging directory (`profiles/.import-*`, never read as profiles), one sync, a commit
    /// mark, then each moved into place and one sync of the directory. A kill before the mark leaves nothing
    /// (the staging directory is deleted under the next lock); after it, the next lock finishes the move.
    /// Profiles whose name exists (ignoring case, in the store or earlier in `profiles`) are not written:
    /// their indexes are returned. `progress` is called with the number of files written so far.
    pub fn add_all(
        &self,
        profiles: &[Profile],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<usize>, StoreError> {
        let _lock = self.lock()?;
        let (existing, _) = self.names()?;
        let mut taken: std::collections::HashSet<String> = existing.iter().map(ProfileName::key).collect();
        let dir = self.profiles_dir();
        create_private_dir(&dir)?;
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(&dir)
            .map_err(io_err("create a staging directory in", &dir))?;
        crate::private::restrict(staging.path()).map_err(io_err("make owner-only", staging.path()))?;
        let mut clashes = Vec::new();
        let mut written = 0;
        for (i, p) in profiles.iter().enumerate() {
            if !taken.insert(p.name.key()) {
                clashes.push(i);
                continue;
            }
            let path = staging.path().join(format!("{}.toml", p.name));
            let mut options = File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&path).map_err(io_err("create", &path))?;
            crate::private::restrict(&path).map_err(io_err("make owner-only", &path))?;
            io::Write::write_all(&mut f, to_toml(p).as_bytes()).map_err(io_err("write", &path))?;
            written += 1;
            progress(written);
        }
        sync_tree(staging.path())?;
        write_atomic(&staging.path().join(COMMIT_MARK), b"commit\n")?;
        move_staged(staging.path(), &dir)?;
        #[cfg(unix)]
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync", &dir))?;
        Ok(clashes)
    }

    /// Adds a new profile; fails if one with the same name (ignoring case) exists.
    pub fn add(&self, p: &Profile) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        if let Ok(existing) = self.resolve(p.name.as_str()) {
            return Err(StoreError::Exists {
                name: existing.to_string(),
            });
        }
        self.write(p)
    }

    /// Loads, changes and writes back a profile under the lock. A file that does not parse is left untouched.
    pub fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut Profile) -> Result<(), String>,
    ) -> Result<Profile, StoreError> {
        let _lock = self.lock()?;
        let mut p = self.load(name)?;
        change(&mut p).map_err(StoreError::Invalid)?;
        self.write(&p)?;
        Ok(p)
    }

    /// Deletes a profile (even one whose file does not parse).
    pub fn remove(&self, name: &str) -> Result<ProfileName, StoreError> {
        let _lock = self.lock()?;
        let name = self.resolve(name)?;
        let path = self.path_of(&name);
        fs::remove_file(&path).map_err(io_err("delete", &path))?;
        Ok(name)
    }

    /// Renames a profile; fails if the new name is taken by another profile.
    pub fn rename(&self, old: &str, new: &ProfileName) -> Result<ProfileName, StoreError> {
        let _lock = self.lock()?;
        let old = self.resolve(old)?;
        if let Ok(existing) = self.resolve(new.as_str())
            && existing != old
        {
            return Err(StoreError::Exists {
                name: existing.to_string(),
            });
        }
        let (from, to) = (self.path_of(&old), self.path_of(new));
        fs::rename(&from, &to).map_err(io_err("rename", &from))?;
        #[cfg(unix)]
        File::open(self.profiles_dir())
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync", &self.profiles_dir()))?;
        Ok(old)
    }
}

/// How the staging directories of [`Store::add_all`] begin (hidden: never listed as profiles).
const STAGING_PREFIX: &str = ".import-";
/// The file that says a staging directory is complete and synced: its files go into place.
const COMMIT_MARK: &str = ".commit";

/// Moves every staged `*.toml` into `profiles` (a file already there is left alone: it was moved before).
fn move_staged(staging: &Path, profiles: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(staging).map_err(io_err("list", staging))?.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| n.ends_with(".toml")) {
            continue;
        }
        let to = profiles.join(&name);
        if to.exists() {
            continue;
        }
        fs::rename(entry.path(), &to).map_err(io_err("move into place", &to))?;
    }
    Ok(())
}

/// Makes what was written under `dir` durable with one call where the OS has one (Linux: `syncfs`), else
/// file by file; then the directory itself.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd as _;
        let d = File::open(dir).map_err(io_err("open", dir))?;
        // SAFETY: a valid open file descriptor; syncfs only flushes the file system it is on.
        if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
            return Ok(());
        }
    }
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))?.flatten() {
        File::open(entry.path())
            .and_then(|f| f.sync_all())
            .map_err(io_err("sync", &entry.path()))?;
    }
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))?;
    Ok(())
}

/// Reads a small TOML data file (pins, state); a missing file is the default value, a broken one an error
/// with line and column (the file is then left alone).
fn read_toml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, StoreError> {
    let bytes = match crate::files::read_regular(path, crate::files::MAX_DATA_BYTES) {
        Ok(b) => b,
        Err(e) if e.source.kind() == io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8(bytes).map_err(|e| StoreError::Io {
        action: "read",
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, format!("it is not UTF-8 text: {e}")),
    })?;
    toml::from_str(&text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(&text, s.start));
        StoreError::Corrupt {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim_end_matches('\n').to_owned(),
        }
    })
}

fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let text = toml::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    Ok(write_atomic(path, text.as_bytes())?)
}

impl Store {
    /// `<config dir>/pins.toml`.
    pub fn pins_path(&self) -> PathBuf {
        self.config_dir.join("pins.toml")
    }

    /// The certificate pins.
    pub fn load_pins(&self) -> Result<crate::pins::PinSet, StoreError> {
        read_toml(&self.pins_path())
    }

    /// Changes the pins under the config lock (a broken pins.toml is never overwritten).
    pub fn update_pins<R>(
        &self,
        change: impl FnOnce(&mut crate::pins::PinSet) -> R,
    ) -> Result<R, StoreError> {
        let _lock = self.lock()?;
        let mut pins = self.load_pins()?;
        let r = change(&mut pins);
        write_toml(&self.pins_path(), &pins)?;
        Ok(r)
    }

    /// `<config dir>/state/last-good.toml`: what rdpl remembers between runs.
    pub fn state_path(&self) -> PathBuf {
        self.config_dir.join("state").join("last-good.toml")
    }

    /// The remembered state (missing or unreadable state is empty: it is only a cache).
    pub fn load_state(&self) -> crate::state::State {
        read_toml(&self.state_path()).unwrap_or_default()
    }

    /// `<config dir>/state/credentials.toml`: the index of what rdpl saved in the keyring (no secrets).
    pub fn creds_path(&self) -> PathBuf {
        self.config_dir.join("state").join("credentials.toml")
    }

    /// The credential index; a broken file is an error (it is the only list of rdpl's keyring entries).
    pub fn load_creds(&self) -> Result<crate::creds::CredIndex, StoreError> {
        read_toml(&self.creds_path())
    }

    /// Changes the credential index under the config lock (a broken file is never overwritten).
    pub fn update_creds<R>(
        &self,
        change: impl FnOnce(&mut crate::creds::CredIndex) -> R,
    ) -> Result<R, StoreError> {
        let _lock = self.lock()?;
        let mut idx = self.load_creds()?;
        let r = change(&mut idx);
        write_toml(&self.creds_path(), &idx)?;
        Ok(r)
    }

    /// Changes the state under the config lock.
    pub fn update_state(&self, change: impl FnOnce(&mut crate::state::State)) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut state = self.load_state();
        change(&mut state);
        write_toml(&self.state_path(), &state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Host;

    fn name(s: &str) -> ProfileName {
        s.parse().expect("valid name")
    }

    #[test]
    fn add_all_writes_everything_in_one_pass_and_a_killed_one_is_finished_or_undone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        store
            .add(&Profile::new(name("Web1"), "w.test".parse().expect("host")))
            .expect("add");
        let batch: Vec<Profile> = ["a", "web1", "b", "A"]
            .iter()
            .map(|n| Profile::new(name(n), "h.test".parse().expect("host")))
            .collect();
        let mut seen = 0;
        let clashes = store.add_all(&batch, &mut |n| seen = n).expect("add_all");
        assert_eq!(clashes, vec![1, 3], "web1 exists, A is a twice");
        assert_eq!(seen, 2);
        let (names, errors) = store.names().expect("names");
        assert!(errors.is_empty());
        assert_eq!(
            names.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["a", "b", "Web1"]
        );
        // What a kill leaves: a staging dir without its mark is dropped, one with it is moved into place.
        let profiles = store.profiles_dir();
        for (stage, mark, file) in [(".import-killed", false, "lost"), (".import-done", true, "kept")] {
            let d = profiles.join(stage);
            fs::create_dir(&d).expect("mkdir");
            fs::write(d.join(format!("{file}.toml")), "version = 1\nhost = \"h.test\"\n").expect("write");
            if mark {
                fs::write(d.join(COMMIT_MARK), b"commit\n").expect("mark");
            }
        }
        drop(store.lock().expect("lock"));
        let (names, _) = store.names().expect("names");
        assert_eq!(
            names.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["a", "b", "kept", "Web1"]
        );
        assert!(!profiles.join(".import-killed").exists() && !profiles.join(".import-done").exists());
    }

    #[test]
    fn a_held_lock_is_announced_before_waiting() {
        static WAITED: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
        let dir = tempfile::tempdir().expect("tempdir");
        let holder = Store::new(dir.path());
        let held = holder.lock().expect("first lock");
        let waiter = Store::new(dir.path()).on_lock_wait(|p| {
            *WAITED.lock().expect("mutex") = Some(p.to_owned());
        });
        let t = std::thread::spawn(move || waiter.lock().map(|_| ()));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(
            WAITED.lock().expect("mutex").clone(),
            Some(dir.path().join(".lock"))
        );
        drop(held);
        t.join()
            .expect("thread")
            .expect("second lock after the first is released");
    }

    #[test]
    fn the_first_pin_writes_the_current_schema_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        store
            .update_pins(|set| {
                set.record(
                    "h.test",
                    3389,
                    crate::pins::Pin {
                        sha256: "00".repeat(32),
                        subject: "CN=h".into(),
                        issuer: "CN=h".into(),
                        not_before: "2026-01-01T00:00:00Z".into(),
                        not_after: "2027-01-01T00:00:00Z".into(),
                        first_seen: "2026-01-01T00:00:00Z".into(),
                        last_seen: "2026-01-01T00:00:00Z".into(),
                    },
                )
            })
            .expect("pin");
        let text = fs::read_to_string(store.pins_path()).expect("pins.toml");
        assert!(text.starts_with("version = 1\n"), "{text}");
        assert_eq!(store.load_pins().expect("load").version, 1);
    }

    #[test]
    fn round_trips_a_full_profile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        let mut p = Profile::new(name("web01"), "web01.corp.test".parse().expect("host"));
        p.port = Port::new(3390).expect("port");
        p.fallbacks = vec![
            "10.0.0.5".parse().expect("addr"),
            "[::1]:3389".parse().expect("addr"),
        ];
        p.user = Some("alice".into());
        p.domain = Some("CORP".into());
        p.gateway = Some(Gateway {
            host: Host::Name("gw.corp.test".into()),
            port: Port::HTTPS,
            usage: GatewayUsage::Detect,
            user: Some("gwadmin".into()),
            domain: Some("GW".into()),
            password_command: Some("secret-tool lookup service rdp-gw".parse().expect("command")),
        });
        p.password_command = Some("pass show 'corp/alice smith'".parse().expect("command"));
        p.security.tls_legacy = crate::profile::TlsLegacy::Allow;
        p.freerdp_program = Some("xfreerdp3".into());
        p.backend = crate::profile::Backend::Xfreerdp;
        p.security.nla = Tri::On;
        p.redirect.drives = vec!["C:".into()];
        p.display.width = Some(1920);
        p.extra.insert("session bpp".into(), Value::Int(24));
        store.add(&p).expect("add");
        assert_eq!(store.load("WEB01").expect("load"), p);
        assert!(matches!(store.add(&p), Err(StoreError::Exists { .. })));
    }

    #[test]
    fn corrupt_file_reports_line_and_column_and_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        fs::create_dir_all(store.profiles_dir()).expect("mkdir");
        let path = store.profiles_dir().join("bad.toml");
        let text = "version = 1\nhost = \"ok.example\"\nport = \"x\"\n";
        fs::write(&path, text).expect("write");
        let err = store.update("bad", |p| {
            p.user = Some("x".into());
            Ok(())
        });
        match err {
            Err(StoreError::Corrupt { line, column, .. }) => assert_eq!((line, column), (3, 8)),
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(&path).expect("read"), text);
    }

    #[test]
    fn semantic_errors_point_at_the_value() {
        let p = Path::new("x.toml");
        let err = parse_profile(name("x"), p, "version = 1\nhost = \"bad host\"\n").expect_err("bad host");
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    line: 2,
                    column: 8,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_profile(name("x"), p, "version = 1\nhost = \"h\"\nuser = \"a\\nb\"\n")
            .expect_err("newline");
        assert!(matches!(err, StoreError::Corrupt { line: 3, .. }), "{err}");
        let err = parse_profile(name("x"), p, "version = 7\nhost = \"h\"\n").expect_err("version");
        assert!(err.to_string().contains("schema version 7"), "{err}");
        let err =
            parse_profile(name("x"), p, "version = 1\nhost = \"h\"\nhots = 1\n").expect_err("unknown key");
        assert!(matches!(err, StoreError::Corrupt { line: 3, .. }), "{err}");
        let err = parse_profile(
            name("x"),
            p,
            "version = 1\nhost = \"h\"\n[rdp]\n\"alternate shell\" = \"cmd\"\n",
        )
        .expect_err("risky extra");
        assert!(err.to_string().contains("alternate shell"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_profile_file_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path().join("config"));
        store
            .add(&Profile::new(name("a"), "a.corp.test".parse().expect("host")))
            .expect("add");
        let real = dir.path().join("dotfiles-a.toml");
        fs::rename(store.path_of(&name("a")), &real).expect("move out");
        std::os::unix::fs::symlink(&real, store.path_of(&name("a"))).expect("link");
        store
            .update("a", |p| {
                p.user = Some("alice".into());
                Ok(())
            })
            .expect("update");
        let link = fs::symlink_metadata(store.path_of(&name("a"))).expect("meta");
        assert!(link.file_type().is_symlink());
        assert!(fs::read_to_string(&real).expect("read").contains("alice"));
    }

    #[test]
    fn a_killed_writers_temp_files_are_swept_under_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        store
            .add(&Profile::new(name("a"), "a.corp.test".parse().expect("host")))
            .expect("add");
        let left = [
            dir.path().join(".tmp-AbC123"),
            store.profiles_dir().join(".tmp-XyZ789"),
        ];
        for f in &left {
            fs::write(f, b"half a profi").expect("plant");
        }
        let keep = store.profiles_dir().join("notes.txt");
        fs::write(&keep, b"not ours").expect("plant");
        drop(store.lock().expect("lock"));
        for f in &left {
            assert!(!f.exists(), "{} survived", f.display());
        }
        assert!(keep.exists());
        assert_eq!(store.load("a").expect("load").name.to_string(), "a");
    }

    #[test]
    fn rename_and_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        store
            .add(&Profile::new(name("a"), Host::Name("a.test".into())))
            .expect("add a");
        store
            .add(&Profile::new(name("b"), Host::Name("b.test".into())))
            .expect("add b");
        assert!(matches!(
            store.rename("a", &name("B")),
            Err(StoreError::Exists { .. })
        ));
        store.rename("a", &name("c")).expect("rename");
        assert!(matches!(store.load("a"), Err(StoreError::NotFound { .. })));
        assert_eq!(store.load("c").expect("load").host, Host::Name("a.test".into()));
        store.remove("c").expect("remove");
        let (names, errors) = store.names().expect("names");
        assert_eq!((names, errors.len()), (vec![name("b")], 0));
    }
}

//! Credentials: rdpl's own keyring entries (keyring-core with the platform's store), the index of what it
//! saved (`state/credentials.toml`, no secrets), what mstsc saved on Windows ([`windows`]), and which of all
//! that is stale for a connection ([`stale`], pure).
//!
//! Store selection is lazy: the first operation that needs the keyring picks it. On Linux that is the
//! Secret Service when one answers on the session bus, else the kernel keyring (keyutils); on Windows the
//! Credential Manager; on macOS the Keychain. `RDPL_KEYRING` (see [`crate::config`]) can force one.
//!
//! Passwords only ever live in [`SecretString`]s (zeroized on drop) and go nowhere but the keyring and the
//! client's standard input or credential store.

#[cfg(windows)]
pub mod windows;

pub mod command;

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
use rdpl_core::stale;
use rdpl_profiles::creds::{CredIndex, CredKey, CredRecord, StoreKind};
use rdpl_profiles::store::{Store, StoreError};
use secrecy::{ExposeSecret, SecretString};

/// The keyring service name of rdpl's entries.
pub const SERVICE: &str = "rdpl";

/// Which keyring to use (`RDPL_KEYRING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyringChoice {
    /// The platform's store; on Linux the Secret Service, falling back to the kernel keyring.
    #[default]
    Auto,
    /// The Secret Service only.
    SecretService,
    /// The kernel keyring only.
    Keyutils,
}

impl std::str::FromStr for KeyringChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(KeyringChoice::Auto),
            "secret-service" => Ok(KeyringChoice::SecretService),
            "keyutils" => Ok(KeyringChoice::Keyutils),
            _ => Err(format!("expected auto, secret-service or keyutils, not `{s}`")),
        }
    }
}

/// A credential error, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CredError {
    /// No keyring could be opened.
    #[error("no keyring is available: {0}")]
    NoKeyring(String),
    /// The keyring refused or failed.
    #[error("the {store} failed: {message}")]
    Keyring {
        /// Which store.
        store: StoreKind,
        /// What it said.
        message: String,
    },
    /// The index file.
    #[error(transparent)]
    Index(#[from] StoreError),
    /// Windows Credential Manager or registry.
    #[error("{0}")]
    Windows(String),
}

type Opened = (StoreKind, Arc<CredentialStore>);

/// rdpl's keyring entries plus their index. Opens the keyring on first use.
#[derive(Debug)]
pub struct Vault {
    store: Store,
    choice: KeyringChoice,
    opened: OnceLock<Result<Opened, String>>,
}

impl Vault {
    /// A vault over this config store's index.
    pub fn new(store: Store, choice: KeyringChoice) -> Vault {
        Vault {
            store,
            choice,
            opened: OnceLock::new(),
        }
    }

    /// The index (no secrets).
    pub fn index(&self) -> Result<CredIndex, CredError> {
        Ok(self.store.load_creds()?)
    }

    fn open(&self) -> Result<&Opened, CredError> {
        self.opened
            .get_or_init(|| open_store(self.choice))
            .as_ref()
            .map_err(|e| CredError::NoKeyring(e.clone()))
    }

    fn entry(&self, key: &CredKey) -> Result<(StoreKind, Entry), CredError> {
        let (kind, store) = self.open()?;
        let entry = store
            .build(SERVICE, &key.keyring_user(), None)
            .map_err(|e| keyring_error(*kind, &e))?;
        Ok((*kind, entry))
    }

    /// Saves a password for `key` (replacing an older one and its failure mark) and records it in the index.
    pub fn set(
        &self,
        key: &CredKey,
        profile: Option<&str>,
        secret: &SecretString,
    ) -> Result<StoreKind, CredError> {
        let (kind, entry) = self.entry(key)?;
        entry
            .set_password(secret.expose_secret())
            .map_err(|e| keyring_error(kind, &e))?;
        let record = CredRecord {
            key: key.clone(),
            profile: profile.map(str::to_owned),
            store: kind,
            saved: now(),
            failed: None,
            failed_reason: None,
        };
        self.store.update_creds(|idx| idx.upsert(record))?;
        Ok(kind)
    }

    /// The saved password of `key`, if there is one.
    pub fn get(&self, key: &CredKey) -> Result<Option<SecretString>, CredError> {
        let (kind, entry) = self.entry(key)?;
        match entry.get_password() {
            Ok(p) => Ok(Some(SecretString::from(p))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(kind, &e)),
        }
    }

    /// Whether the keyring has an entry for `key` (reads it, drops it at once).
    pub fn exists(&self, key: &CredKey) -> Result<bool, CredError> {
        Ok(self.get(key)?.is_some())
    }

    /// Deletes `key` from the keyring and the index; whether anything was there.
    pub fn delete(&self, key: &CredKey) -> Result<bool, CredError> {
        let (kind, entry) = self.entry(key)?;
        let in_keyring = match entry.delete_credential() {
            Ok(()) => true,
            Err(keyring_core::Error::NoEntry) => false,
            Err(e) => return Err(keyring_error(kind, &e)),
        };
        let in_index = self.store.update_creds(|idx| idx.remove(key))?;
        Ok(in_keyring || in_index)
    }

    /// Marks `key` as rejected by a server; it is then stale and `connect` clears it.
    pub fn mark_failed(&self, key: &CredKey, reason: &str) -> Result<bool, CredError> {
        let when = now();
        Ok(self
            .store
            .update_creds(|idx| idx.mark_failed(key, &when, reason))?)
    }
}

fn now() -> String {
    ::time::OffsetDateTime::now_utc()
        .format(&::time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn keyring_error(store: StoreKind, e: &keyring_core::Error) -> CredError {
    CredError::Keyring {
        store,
        message: e.to_string(),
    }
}

#[cfg(target_os = "linux")]
fn open_store(choice: KeyringChoice) -> Result<Opened, String> {
    let keyutils = || -> Result<Opened, String> {
        ensure_session_keyring();
        let s = linux_keyutils_keyring_store::Store::new().map_err(|e| format!("kernel keyring: {e}"))?;
        Ok((StoreKind::Keyutils, s))
    };
    let secret_service = || -> Result<Opened, String> {
        let s =
            zbus_secret_service_keyring_store::Store::new().map_err(|e| format!("Secret Service: {e}"))?;
        Ok((StoreKind::SecretService, s))
    };
    match choice {
        KeyringChoice::Keyutils => keyutils(),
        KeyringChoice::SecretService => secret_service(),
        // A bus can be there without a Secret Service behind it, or with one that fails: decide on a real
        // lookup (of an entry that does not exist), not on the connection alone.
        KeyringChoice::Auto => secret_service()
            .and_then(|(kind, s)| {
                let probe = s
                    .build(SERVICE, "rdpl-store-probe", None)
                    .and_then(|e| e.get_password());
                match probe {
                    Ok(_) | Err(keyring_core::Error::NoEntry) => Ok((kind, s)),
                    Err(e) => Err(format!("Secret Service: {e}")),
                }
            })
            .or_else(|ss| {
                tracing::info!("{ss}; using the kernel keyring");
                keyutils().map_err(|k| format!("{ss}; {k}"))
            }),
    }
}

/// The kernel keyring store needs a session keyring of the process's own: without one (a container, a
/// cron job, a service: no pam_keyinit gave it one) its `@s` is the shared user session keyring, the key it
/// adds there is not possessed, linking it into the persistent keyring is refused, and every save fails
/// with "access denied". rdpl then joins a new anonymous session keyring, as `keyctl session -` or a login
/// would; it affects only this process and its children. The key also goes into the persistent keyring,
/// which is where later runs find it.
#[cfg(target_os = "linux")]
fn ensure_session_keyring() {
    const KEYCTL_GET_KEYRING_ID: libc::c_ulong = 0;
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_ulong = 1;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    const KEY_SPEC_USER_SESSION_KEYRING: libc::c_long = -5;
    // SAFETY: keyctl(2) with integer arguments only (create = 0: nothing is created); no memory is shared.
    let (session, user_session) = unsafe {
        (
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_GET_KEYRING_ID,
                KEY_SPEC_SESSION_KEYRING,
                0,
            ),
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_GET_KEYRING_ID,
                KEY_SPEC_USER_SESSION_KEYRING,
                0,
            ),
        )
    };
    if session >= 0 && session != user_session {
        return;
    }
    // SAFETY: a NULL name asks for a new anonymous session keyring; the kernel reads no memory of ours.
    let joined = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    tracing::debug!("no session keyring of our own; joined a new anonymous one: {joined}");
}

#[cfg(windows)]
fn open_store(_: KeyringChoice) -> Result<Opened, String> {
    let s = windows_native_keyring_store::Store::new().map_err(|e| e.to_string())?;
    Ok((StoreKind::WindowsCredentialManager, s))
}

#[cfg(target_os = "macos")]
fn open_store(_: KeyringChoice) -> Result<Opened, String> {
    let s = apple_native_keyring_store::keychain::Store::new().map_err(|e| e.to_string())?;
    Ok((StoreKind::MacosKeychain, s))
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
fn open_store(_: KeyringChoice) -> Result<Opened, String> {
    Err("rdpl has no keyring support on this platform".into())
}

/// Reads one line (a password) from standard input, without the trailing `\n` / `\r\n`.
///
/// Not through std's `Stdin`: its 8 KiB buffer lives as long as the process and is never cleared, so the
/// password would stay in memory for a whole session (and in a core dump). On Unix this reads file
/// descriptor 0 directly, a byte at a time (nothing past the line is consumed), into zeroized buffers.
pub fn read_secret_line() -> std::io::Result<SecretString> {
    use std::io::Read as _;
    use zeroize::{Zeroize as _, Zeroizing};
    #[cfg(unix)]
    let mut input = {
        use std::os::fd::FromRawFd as _;
        // SAFETY: fd 0 stays open for the whole process; ManuallyDrop keeps this `File` from closing it.
        std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) })
    };
    // Elsewhere std's buffered stdin (a Windows console needs its UTF-16 handling).
    #[cfg(not(unix))]
    let mut input = std::io::stdin();
    let mut line = Zeroizing::new(Vec::<u8>::with_capacity(128));
    let mut byte = [0u8; 1];
    let result = loop {
        match input.read(&mut byte) {
            Ok(0) => break Ok(()),
            Ok(_) if byte[0] == b'\n' => break Ok(()),
            Ok(_) => {
                if line.len() == line.capacity() {
                    // Grow by hand: `Vec` would reallocate and leave the old bytes behind uncleared.
                    let mut bigger = Zeroizing::new(Vec::with_capacity(line.capacity() * 2));
                    bigger.extend_from_slice(&line);
                    line = bigger;
                }
                line.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    byte.zeroize();
    result?;
    while line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = std::str::from_utf8(&line)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "the password is not UTF-8"))?;
    Ok(SecretString::from(text.to_owned()))
}

/// What is saved for connections: rdpl's index, and on Windows mstsc's credentials and server keys.
pub fn inventory(vault: &Vault) -> Result<stale::Inventory, CredError> {
    let rdpl = vault.index()?.entries;
    #[cfg(windows)]
    let (termsrv, mstsc_servers) = (
        windows::termsrv_list().map_err(|e| CredError::Windows(format!("Credential Manager: {e}")))?,
        windows::mstsc_servers().map_err(|e| CredError::Windows(format!("registry: {e}")))?,
    );
    #[cfg(not(windows))]
    let (termsrv, mstsc_servers) = (Vec::new(), Vec::new());
    Ok(stale::Inventory {
        rdpl,
        termsrv,
        mstsc_servers,
    })
}

/// Clears one stale item; whether something was there.
pub fn clear(vault: &Vault, item: &stale::StaleItem) -> Result<bool, CredError> {
    match item {
        stale::StaleItem::Rdpl { key } => vault.delete(key),
        #[cfg(windows)]
        stale::StaleItem::Termsrv { target, cred_type } => windows::termsrv_delete(target, *cred_type)
            .map_err(|e| CredError::Windows(format!("could not delete {target}: {e}"))),
        #[cfg(windows)]
        stale::StaleItem::CertHash { host } => windows::clear_cert_hash(host)
            .map_err(|e| CredError::Windows(format!("could not clear the CertHash of {host}: {e}"))),
        #[cfg(not(windows))]
        stale::StaleItem::Termsrv { .. } | stale::StaleItem::CertHash { .. } => Ok(false),
    }
}

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

pub mod stale;
#[cfg(windows)]
pub mod windows;

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
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

    /// Which store the keyring operations go to (opening it on first call).
    pub fn store_kind(&self) -> Result<StoreKind, CredError> {
        self.open().map(|(k, _)| *k)
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

//! rdpl's data room: connection profiles and their TOML store, the .rdp file codec (decode, parse with
//! diagnostics, render), the property catalogue, the sanitizer, and the readers of other connection managers'
//! files ([`import`]: Remmina, mRemoteNG, RDCMan).
//!
//! Invariants: nothing here opens a socket, spawns a process or reads the environment; all file I/O lives
//! in [`store`] and the general helpers of [`files`] it writes through; no type here can hold a password
//! (the credential index in [`creds`] names accounts, never secrets).

pub mod convert;
pub mod creds;
pub mod files;
pub mod import;
pub mod name;
pub mod pins;
pub mod private;
pub mod profile;
pub mod rdp;
pub mod state;
pub mod store;

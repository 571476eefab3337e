//! rdpl's pure core: everything rdpl decides, over values, with no I/O.
//!
//! - [`finding`]: the finding catalogue, the one place an id is spelled.
//! - [`facts`]: what the pre-flight and the native session learned, typed.
//! - [`preflight`]: the pure half of each pre-flight step (X.224 parsing, certificate assessment, gateway
//!   classification) and the findings each step's facts imply.
//! - [`login`]: how a native session ended and what that means.
//! - [`plan`]: the one decision function; [`doctor`]: causes, ranked; [`stale`]: which saved credentials are
//!   stale; [`explain`]: the error-code tables.
//!
//! The launcher (`rdpl`) gathers the facts (sockets, TLS, DNS, the keyring, processes) and prints; this crate
//! decides. Its dependencies prove it: no tokio, no sockets, no processes (see Cargo.toml and clippy.toml).

pub mod doctor;
pub mod explain;
pub mod facts;
pub mod finding;
pub mod login;
pub mod mstsc;
pub mod plan;
pub mod preflight;
pub mod stale;

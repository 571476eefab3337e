//! What rdpl remembers between runs: the last address that worked for each target. A cache only: losing it
//! costs one slower connect, never correctness. File I/O is in [`crate::store`].

use std::collections::BTreeMap;

/// The remembered state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// Last address (`ip:port`) that connected, keyed like pins (`host:port`, host lowercased).
    #[serde(default)]
    pub last_good: BTreeMap<String, String>,
}

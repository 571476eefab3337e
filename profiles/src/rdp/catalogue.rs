//! The property catalogue: every .rdp property rdpl knows, with its type, allowed values, risk class
//! and the public source that documents it.
//!
//! The table itself lives in `properties.rs`, the types of its entries in `spec.rs` (re-exported here); this
//! module holds the lookups. Names are stored as mstsc writes them (lowercase, with spaces); lookups are
//! case-insensitive.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use super::spec::{Allowed, PropertySpec, Risk, Source, ValueType};

/// Looks a property up by name, ignoring ASCII case and surrounding whitespace.
pub fn lookup(name: &str) -> Option<&'static PropertySpec> {
    static INDEX: OnceLock<HashMap<String, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        super::properties::PROPERTIES
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.to_ascii_lowercase(), i))
            .collect()
    });
    let key = name.trim().to_ascii_lowercase();
    index.get(&key).map(|&i| &super::properties::PROPERTIES[i])
}

/// The position of a property in the catalogue; used to render files in a deterministic order.
pub fn order(name: &str) -> usize {
    lookup(name)
        .and_then(|spec| {
            super::properties::PROPERTIES
                .iter()
                .position(|p| p.name == spec.name)
        })
        .unwrap_or(usize::MAX)
}

/// All catalogue entries, in render order.
pub fn all() -> &'static [PropertySpec] {
    super::properties::PROPERTIES
}

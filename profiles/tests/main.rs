//! Integration tests of the profiles crate.

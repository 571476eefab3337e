//! End-to-end tests: drive the real rdpl binary.

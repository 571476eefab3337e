//! Windows: mstsc's `TERMSRV/*` credentials and per-server registry keys. Placeholder.

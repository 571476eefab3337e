//! Desktop integration: rdpl as the .rdp file handler, and per-profile launchers. Placeholder.

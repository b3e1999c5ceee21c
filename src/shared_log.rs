//! Synchronizing between backends (chapter 13): one log file written by many backends.

/// Called once from `_PG_init` (src/lib.rs) when the library is loaded.
pub fn init() {}

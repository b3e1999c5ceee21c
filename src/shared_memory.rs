//! Shared memory and LWLocks (chapter 12).

/// Called once from `_PG_init` (src/lib.rs) when the library is loaded.
pub fn init() {}

//! Dynamic loading (chapter 1): the magic block, `_PG_init`, `LOAD`.

/// Called once from `_PG_init` (src/lib.rs) when the library is loaded.
pub fn init() {}

//! xfunc: the examples of the PostgreSQL manual's "C-Language Functions" chapter, written in Rust
//! with pgrx. Each module is one chapter of the book (`book/src/`), with a C twin of the same name
//! in `c/` and a regression test of the same name in `sql/`.

use pgrx::prelude::*;

// The magic block: lets PostgreSQL refuse a library built for another major version.
// ANCHOR: magic
::pgrx::pg_module_magic!(name, version);
// ANCHOR_END: magic

// One module per chapter of the book, in chapter order (chapters 3, 6 and 7 have no code), after
// the support module the chapters share.
pub mod pg_support;
pub mod dynamic_loading;
pub mod base_types;
pub mod v1_calling;
pub mod writing_code;
pub mod composite_args;
pub mod returning_rows;
pub mod returning_sets;
pub mod polymorphic;
pub mod shared_memory;
pub mod shared_log;
pub mod fast_calls;
// Part II: extending SQL.
pub mod support_functions;
pub mod user_types;
pub mod operators;
pub mod index_support;
pub mod aggregates;
pub mod triggers;

// ANCHOR: pg_init
/// Runs once per process that loads the library: in the postmaster when the library is in
/// `shared_preload_libraries`, otherwise in each backend at its first call into the library.
/// Each chapter that needs set-up at load time has an `init` of its own.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    dynamic_loading::init();
    shared_memory::init();
    shared_log::init();
}
// ANCHOR_END: pg_init

/// Helpers shared by the `#[pg_test]` tests of every chapter.
#[cfg(any(test, feature = "pg_test"))]
pub mod testing {
    use pgrx::prelude::*;

    /// Runs `query` inside a PL/pgSQL exception block and returns the SQLSTATE it raised, or
    /// `None` when it succeeded. The error is caught in a subtransaction, so the test goes on.
    pub fn sqlstate_of(query: &str) -> Option<String> {
        Spi::run(
            "CREATE OR REPLACE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text \
             LANGUAGE plpgsql AS $$ BEGIN EXECUTE q; RETURN NULL; \
             EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$",
        )
        .expect("creating pg_temp.sqlstate_of");
        Spi::get_one_with_args::<String>("SELECT pg_temp.sqlstate_of($1)", &[query.into()])
            .expect("calling pg_temp.sqlstate_of")
    }

    /// `copytext` and `concat_text` (of `schema`: "" or "xfunc_fast.") on a value of each
    /// kind of header: short (1-byte), EXTERNAL (toasted, uncompressed) and MAIN (compressed
    /// inline); each result must equal the built-in's.
    pub fn text_functions_handle_every_header(schema: &str) {
        Spi::run(
            "CREATE TEMP TABLE t (short text, ext text, cmp text); \
             ALTER TABLE t ALTER COLUMN ext SET STORAGE EXTERNAL; \
             ALTER TABLE t ALTER COLUMN cmp SET STORAGE MAIN; \
             INSERT INTO t VALUES ('Grüße', repeat('é', 50000), repeat('ab', 5000))",
        )
        .unwrap();
        let query = format!(
            "SELECT {schema}copytext(short) = short AND {schema}copytext(ext) = ext \
                AND {schema}copytext(cmp) = cmp AND {schema}concat_text(short, ext) = short || ext \
                AND {schema}concat_text(cmp, '') = cmp FROM t"
        );
        assert_eq!(Spi::get_one::<bool>(&query), Ok(Some(true)));
    }
}

/// Hooks for `cargo pgrx test`: the test cluster pgrx starts gets these settings.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    /// `restart_after_crash = off`: a backend that dies by a signal takes the test cluster down
    /// with it, instead of the postmaster quietly restarting every backend, so the test in
    /// which it died and every later one fail, and the run with them.
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["jit = off", "restart_after_crash = off"]
    }
}

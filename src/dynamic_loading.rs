//! Dynamic loading (chapter 1): what `_PG_init` saw when the library was loaded.
//!
//! PostgreSQL loads a C-language function's library the first time a process needs it, or, for a
//! library in `shared_preload_libraries`, once in the postmaster at server start. Either way it
//! calls the library's `_PG_init` once per loading process. `init` below records what that call
//! saw; three SQL functions report it, so the regression test can show how this backend got the
//! library.
//!
//! The library is loaded into one process (a postmaster or a backend) and each backend runs on
//! one thread, so these statics are only ever touched by one thread; atomics make that safe
//! without `unsafe` and cost nothing here.

use pgrx::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

// ANCHOR: init
/// How many times `_PG_init` has run in this process's memory.
static INIT_CALLS: AtomicI32 = AtomicI32::new(0);
/// Whether `_PG_init` ran while `shared_preload_libraries` was being processed.
static INIT_IN_PRELOAD: AtomicBool = AtomicBool::new(false);
/// The process id of the process that ran `_PG_init`.
static INIT_PID: AtomicI32 = AtomicI32::new(0);

/// Called once from `_PG_init` (src/lib.rs) when the library is loaded.
pub fn init() {
    INIT_CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: PostgreSQL sets these two globals before it loads any library and only its main
    // thread, the one running _PG_init, reads or writes them.
    let (in_preload, pid) = unsafe {
        (
            pg_sys::process_shared_preload_libraries_in_progress,
            pg_sys::MyProcPid,
        )
    };
    INIT_IN_PRELOAD.store(in_preload, Ordering::Relaxed);
    INIT_PID.store(pid, Ordering::Relaxed);
}
// ANCHOR_END: init

// ANCHOR: reporters
/// `init_calls()`: how many times `_PG_init` ran in this process's memory (1 once loaded).
///
/// Not in the manual. The C version keeps a `static int`; a Rust `static` must be an atomic (or
/// behind a lock) to be mutable without `unsafe`. PARALLEL RESTRICTED: a parallel worker loads
/// the library for itself and could answer differently from the backend that runs the query.
#[pg_extern(volatile, parallel_restricted)]
pub fn init_calls() -> i32 {
    INIT_CALLS.load(Ordering::Relaxed)
}

/// `init_in_preload()`: whether `_PG_init` ran during `shared_preload_libraries` processing.
#[pg_extern(volatile, parallel_restricted)]
pub fn init_in_preload() -> bool {
    INIT_IN_PRELOAD.load(Ordering::Relaxed)
}

/// `init_inherited()`: whether `_PG_init` ran in another process, the postmaster, whose memory
/// this backend inherited when it was forked. False when this backend loaded the library itself.
#[pg_extern(volatile, parallel_restricted)]
pub fn init_inherited() -> bool {
    // SAFETY: MyProcPid is set once at process start, before any SQL function can run.
    let my_pid = unsafe { pg_sys::MyProcPid };
    INIT_CALLS.load(Ordering::Relaxed) > 0 && INIT_PID.load(Ordering::Relaxed) != my_pid
}
// ANCHOR_END: reporters

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// Whether the server preloads this library: the test cluster does not, the book's does.
    fn preloaded() -> bool {
        Spi::get_one::<bool>(
            "SELECT 'xfunc' = ANY (string_to_array(current_setting('shared_preload_libraries'), ', '))",
        )
        .expect("reading shared_preload_libraries")
        .unwrap_or(false)
    }

    #[pg_test]
    fn pg_init_ran_exactly_once() {
        assert_eq!(Spi::get_one::<i32>("SELECT init_calls()"), Ok(Some(1)));
    }

    #[pg_test]
    fn preload_and_inheritance_match_the_server_setting() {
        let preloaded = preloaded();
        assert_eq!(
            Spi::get_one::<bool>("SELECT init_in_preload()"),
            Ok(Some(preloaded))
        );
        // On Linux a preloaded library is inherited through fork(); one loaded on demand is not.
        assert_eq!(
            Spi::get_one::<bool>("SELECT init_inherited()"),
            Ok(Some(preloaded))
        );
    }

    #[pg_test]
    fn load_of_a_loaded_library_does_not_run_pg_init_again() {
        let lib = Spi::get_one::<String>("SELECT probin FROM pg_proc WHERE proname = 'init_calls'")
            .expect("reading probin")
            .expect("init_calls has a probin");
        Spi::run(&format!("LOAD '{lib}'")).expect("LOAD");
        assert_eq!(Spi::get_one::<i32>("SELECT init_calls()"), Ok(Some(1)));
    }

    #[pg_test]
    fn missing_library_and_symbol_sqlstates() {
        assert_eq!(
            crate::testing::sqlstate_of(
                "CREATE FUNCTION pg_temp.f() RETURNS integer AS 'no_such_library' LANGUAGE C"
            ),
            Some("58P01".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of(
                "CREATE FUNCTION pg_temp.f() RETURNS integer \
                 AS '$libdir/plpgsql', 'no_such_symbol' LANGUAGE C"
            ),
            Some("42883".into())
        );
    }
}

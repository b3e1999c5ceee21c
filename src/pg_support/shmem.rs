//! A struct in shared memory with the LWLock that guards it, set up by PostgreSQL 15's hook
//! pair: `shmem_request_hook` asks for the space and the lock, `shmem_startup_hook` creates
//! the struct. Chapters 12 and 13 declare [`ShmemStruct`]s and call [`ShmemStruct::request`]
//! from `_PG_init`; one pair of hooks serves them all.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::CStr;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

// ANCHOR: shmem_struct
/// A struct of type `T` in shared memory, named `name` in the shared memory index, with the
/// one lock of the LWLock tranche `tranche` (the name `pg_stat_activity.wait_event` shows).
pub struct ShmemStruct<T: 'static> {
    name: &'static CStr,
    tranche: &'static CStr,
    /// Writes the struct's first value at its address (and its tail's, if it has one), given
    /// its lock. Runs once per segment: at server start, and again after every crash restart.
    init: unsafe fn(this: *mut T, lock: *mut pg_sys::LWLock),
    /// How many bytes follow the struct: an array whose length is known only once the
    /// postmaster has read its settings (e.g. one slot per backend, `MaxBackends`).
    tail: fn() -> usize,
    /// This process's pointer to it: set by the startup hook, null when not preloaded. A
    /// backend is single-threaded; the atomic only spares us a `static mut`.
    ptr: AtomicPtr<T>,
}
// ANCHOR_END: shmem_struct

// ANCHOR: register
impl<T> ShmemStruct<T> {
    pub const fn new(
        name: &'static CStr,
        tranche: &'static CStr,
        init: unsafe fn(this: *mut T, lock: *mut pg_sys::LWLock),
    ) -> Self {
        Self::with_tail(name, tranche, init, || 0)
    }

    /// The same, followed by `tail()` bytes, asked for when the request hook runs. The tail
    /// starts at `this.add(1)`, aligned as `T` is.
    pub const fn with_tail(
        name: &'static CStr,
        tranche: &'static CStr,
        init: unsafe fn(this: *mut T, lock: *mut pg_sys::LWLock),
        tail: fn() -> usize,
    ) -> Self {
        ShmemStruct {
            name,
            tranche,
            init,
            tail,
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Called from `_PG_init`. Outside `shared_preload_libraries` it is too late to ask for
    /// shared memory (the postmaster has sized the segment already), so nothing is asked.
    pub fn request(&'static self) {
        // SAFETY: read in the one thread of the process that runs _PG_init.
        if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
            return;
        }
        let mut registered = REGISTERED.lock().unwrap_or_else(PoisonError::into_inner);
        if registered.is_empty() {
            install_hooks();
        }
        registered.push(self);
    }
}
// ANCHOR_END: register

// ANCHOR: get
impl<T> ShmemStruct<T> {
    /// The struct, or ERROR 55000 when the library was not preloaded. A raw pointer, never a
    /// reference: other processes write the struct, which a Rust reference would promise
    /// they do not.
    pub fn get(&self) -> *mut T {
        let ptr = self.ptr();
        if ptr.is_null() {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "xfunc must be loaded via shared_preload_libraries"
            );
        }
        ptr
    }

    /// The pointer, null when the library was not preloaded.
    pub fn ptr(&self) -> *mut T {
        self.ptr.load(Ordering::Relaxed)
    }
}
// ANCHOR_END: get

/// What the hooks need of a [`ShmemStruct`], whatever its `T`.
trait Registered: Sync {
    /// The struct's size, its tail included: only from the request hook on.
    fn size(&self) -> usize;
    fn tranche(&self) -> &'static CStr;
    /// Finds or creates the struct and sets this process's pointer to it.
    ///
    /// # Safety
    /// Only in the startup hook, holding `AddinShmemInitLock`.
    unsafe fn attach(&self);
}

impl<T> Registered for ShmemStruct<T> {
    fn size(&self) -> usize {
        // SAFETY: add_size only adds, raising an ERROR on overflow.
        unsafe { pg_sys::add_size(size_of::<T>(), (self.tail)()) }
    }

    fn tranche(&self) -> &'static CStr {
        self.tranche
    }

    unsafe fn attach(&self) {
        let mut found = false;
        // SAFETY: the caller holds AddinShmemInitLock in the startup hook. ShmemInitStruct
        // returns memory of the size we asked for, MAXALIGNed; when `found` is false nobody
        // else can see it before the lock is released, so `init` may write the whole struct.
        // The tranche was requested by the request hook, so it exists.
        unsafe {
            let this =
                pg_sys::ShmemInitStruct(self.name.as_ptr(), self.size(), &mut found).cast::<T>();
            if !found {
                let lock = &raw mut (*pg_sys::GetNamedLWLockTranche(self.tranche.as_ptr())).lock;
                (self.init)(this, lock);
            }
            self.ptr.store(this, Ordering::Relaxed);
        }
    }
}

/// Every struct requested, in the order of the `request` calls.
static REGISTERED: Mutex<Vec<&'static dyn Registered>> = Mutex::new(Vec::new());

/// The hooks that were installed before ours: we must call them.
static mut PREV_SHMEM_REQUEST_HOOK: pg_sys::shmem_request_hook_type = None;
static mut PREV_SHMEM_STARTUP_HOOK: pg_sys::shmem_startup_hook_type = None;

fn install_hooks() {
    // SAFETY: _PG_init runs in one thread of one process; the hook variables are PostgreSQL's
    // globals for exactly this use, and we save the previous values before replacing them.
    unsafe {
        PREV_SHMEM_REQUEST_HOOK = pg_sys::shmem_request_hook;
        pg_sys::shmem_request_hook = Some(shmem_request);
        PREV_SHMEM_STARTUP_HOOK = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(shmem_startup);
    }
}

// ANCHOR: request
/// `shmem_request_hook`: runs once in the postmaster, after every preloaded library's
/// `_PG_init`, while the postmaster adds up how big the shared memory segment must be.
#[pg_guard]
unsafe extern "C-unwind" fn shmem_request() {
    // SAFETY: called by the postmaster in its only thread, at the one time PostgreSQL allows
    // these requests. The previous hook is C, or another library's: called through pgrx's
    // guard, as pgrx calls its own bindings, so that an ERROR it raises unwinds through this
    // function's frames (which hold pgrx's catch_unwind) as a panic instead of jumping over
    // them; the closure holds nothing.
    unsafe {
        if let Some(prev) = PREV_SHMEM_REQUEST_HOOK {
            #[expect(ffi_unwind_calls, reason = "a hook, called through pgrx's guard")]
            pg_sys::ffi::pg_guard_ffi_boundary(|| prev());
        }
        for s in REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            pg_sys::RequestAddinShmemSpace(pg_sys::MAXALIGN(s.size()));
            pg_sys::RequestNamedLWLockTranche(s.tranche().as_ptr(), 1);
        }
    }
}
// ANCHOR_END: request

// ANCHOR: startup
/// `shmem_startup_hook`: runs in the postmaster once the segment exists (and again after every
/// crash restart, on a new segment). `ShmemInitStruct` finds each struct by name in the shared
/// memory index or carves it out; `found` says which. `AddinShmemInitLock` makes the look-up
/// and the initialisation one step, for the `EXEC_BACKEND` builds where each backend runs this.
#[pg_guard]
unsafe extern "C-unwind" fn shmem_startup() {
    // SAFETY: called by PostgreSQL once the segment exists; each struct is attached holding
    // AddinShmemInitLock, as `attach` requires. The previous hook is called through pgrx's
    // guard, as in the request hook.
    unsafe {
        if let Some(prev) = PREV_SHMEM_STARTUP_HOOK {
            #[expect(ffi_unwind_calls, reason = "a hook, called through pgrx's guard")]
            pg_sys::ffi::pg_guard_ffi_boundary(|| prev());
        }
        let init_lock = addin_shmem_init_lock();
        pg_sys::LWLockAcquire(init_lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        for s in REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            s.attach();
        }
        pg_sys::LWLockRelease(init_lock);
    }
}
// ANCHOR_END: startup

// ANCHOR: addin_lock
/// `AddinShmemInitLock`: in C a macro of `storage/lwlocknames.h`,
/// `(&MainLWLockArray[21].lock)`, which bindgen cannot translate.
///
/// # Safety
/// Only once the main LWLock array exists (in a shmem startup hook or later).
unsafe fn addin_shmem_init_lock() -> *mut pg_sys::LWLock {
    const ADDIN_SHMEM_INIT_LOCK: usize = 21;
    // SAFETY: the caller guarantees MainLWLockArray is set up; index 21 is within the
    // fixed, individually named locks of PostgreSQL 15.
    unsafe { &raw mut (*pg_sys::MainLWLockArray.add(ADDIN_SHMEM_INIT_LOCK)).lock }
}
// ANCHOR_END: addin_lock

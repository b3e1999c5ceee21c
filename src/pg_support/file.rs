//! Files a backend opens itself, with PostgreSQL's error reporting. The C twin has both from
//! PostgreSQL: `OpenTransientFile` (fd.c) counts the descriptor and closes it at an ERROR, and
//! `errcode_for_file_access()` with `%m` turns `errno` into the SQLSTATE and the message.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, OsStr};
use std::fs::{File, OpenOptions};
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::IntoRawFd;
use std::os::unix::ffi::OsStrExt;

/// Raises the ERROR that `errcode_for_file_access()` and `%m` raise in C:
/// `could not <action> "<path>": <strerror>`, with the SQLSTATE PostgreSQL gives that errno.
pub fn file_error(action: &str, path: &CStr, err: &io::Error) -> ! {
    use io::ErrorKind::*;
    // std makes up two errors without an errno: `read_exact_at` when the file ends first, and
    // `write_all` when write() writes nothing. PostgreSQL sets EIO and ENOSPC there.
    let made_up = match err.kind() {
        UnexpectedEof => Some(io::Error::from_raw_os_error(libc::EIO)),
        WriteZero => Some(io::Error::from_raw_os_error(libc::ENOSPC)),
        _ => None,
    };
    let err = made_up.as_ref().unwrap_or(err);
    // The mapping of errcode_for_file_access (elog.c), errno by errno.
    let code = match err.raw_os_error() {
        Some(libc::EPERM | libc::EACCES | libc::EROFS) => {
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE
        }
        Some(libc::ENOENT) => PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
        Some(libc::EEXIST) => PgSqlErrorCode::ERRCODE_DUPLICATE_FILE,
        Some(libc::ENOTDIR | libc::EISDIR | libc::ENOTEMPTY) => {
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE
        }
        Some(libc::ENOSPC) => PgSqlErrorCode::ERRCODE_DISK_FULL,
        Some(libc::ENFILE | libc::EMFILE) => PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
        Some(libc::EIO) => PgSqlErrorCode::ERRCODE_IO_ERROR,
        _ => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
    };
    let reason = match err.raw_os_error() {
        // SAFETY: pg_strerror returns a static, NUL-terminated message for any errno.
        Some(errno) => unsafe { CStr::from_ptr(pg_sys::pg_strerror(errno)) }
            .to_string_lossy()
            .into_owned(),
        None => err.to_string(),
    };
    ereport!(
        ERROR,
        code,
        format!(
            "could not {action} \"{}\": {reason}",
            path.to_string_lossy()
        )
    );
}

/// A file opened without PostgreSQL's fd.c, counted against `max_files_per_process` for as
/// long as it is open, as fd.c asks of such files (`ReserveExternalFD`,
/// `AcquireExternalFD`). Dropping it, on the way out of an ERROR included, closes it and
/// gives the count back.
pub struct ExternalFile(File);

impl ExternalFile {
    /// Opens a file for a moment (within one call), as `OpenTransientFile` does in C.
    pub fn open(options: &OpenOptions, path: &CStr) -> io::Result<Self> {
        // SAFETY: only counts; given back on failure below or when the file is dropped.
        unsafe { pg_sys::ReserveExternalFD() };
        Self::open_counted(options, path)
    }

    /// Opens a file to keep open across calls, or `None` when this backend may keep no more
    /// (`AcquireExternalFD` says so: the caller opens it for a moment instead).
    pub fn open_kept(options: &OpenOptions, path: &CStr) -> Option<io::Result<Self>> {
        // SAFETY: only counts; given back on failure below or when the file is dropped.
        if !unsafe { pg_sys::AcquireExternalFD() } {
            return None;
        }
        Some(Self::open_counted(options, path))
    }

    fn open_counted(options: &OpenOptions, path: &CStr) -> io::Result<Self> {
        options
            .open(OsStr::from_bytes(path.to_bytes()))
            .map(ExternalFile)
            .inspect_err(|_| {
                // SAFETY: gives back the count the caller took.
                unsafe { pg_sys::ReleaseExternalFD() }
            })
    }

    /// Closes the file and reports what close() said, which dropping it would ignore (C
    /// checks `CloseTransientFile`). A failed close() may be a write the kernel could not
    /// finish (NFS, for one, reports write errors there).
    pub fn close(self) -> io::Result<()> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so its File is moved out exactly once.
        let fd = unsafe { std::ptr::read(&this.0) }.into_raw_fd();
        // SAFETY: into_raw_fd gave us the only owner of an open descriptor: closed once.
        let result = match unsafe { libc::close(fd) } {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        };
        // SAFETY: gives back the count of `open`, as drop would have.
        unsafe { pg_sys::ReleaseExternalFD() };
        result
    }
}

impl Drop for ExternalFile {
    fn drop(&mut self) {
        // SAFETY: gives back the count of `open`; the File closes right after.
        unsafe { pg_sys::ReleaseExternalFD() };
    }
}

impl std::ops::Deref for ExternalFile {
    type Target = File;
    fn deref(&self) -> &File {
        &self.0
    }
}

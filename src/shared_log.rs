//! Synchronizing between backends (chapter 13): one log file, many backends.
//!
//! `xfunc_log(message)` appends one line to the file named by the setting `xfunc.log_file`:
//!
//! ```text
//! <UTC timestamp> <pid> <sequence number> <message, escaped>\n
//! ```
//!
//! What lives in shared memory, and which lock guards it:
//!
//! - [`SharedLog`], "xfunc shared log" in the shared memory index, and the only lock of the
//!   LWLock tranche "xfunc_log", the *write lock*. The struct caches what the next writer
//!   needs to know about the file: which file it is (device and inode), how long it was after
//!   the last line we wrote, and the sequence number of the next line. The file is the truth;
//!   the struct is a cache of it. The write lock guards the cache and every `write()`,
//!   `fdatasync()` and `ftruncate()` of the file.
//! - [`LogBuffer`], "xfunc shared log buffer", for the design `group_commit`, with the only
//!   lock of the tranche "xfunc_log_buffer", the *insert lock*. It holds two halves of
//!   `HALF` bytes: backends copy their lines into the current half (under the insert lock)
//!   while a flusher writes the other one (under the write lock). After it, in the same
//!   allocation, one [`Slot`] per backend (`MaxBackends`), where a flusher leaves the outcome
//!   of each line it took.
//!
//! Locking: a writer holds the write lock `LW_EXCLUSIVE` from before it looks at the file
//! until its lines are written (and synced, with `xfunc.log_sync`): checking the cache,
//! numbering the lines and writing them are one locked section (no START_CRIT_SECTION: an
//! ERROR stays an ERROR), so lines never interleave, the file is in sequence-number order, and
//! a line's number is the number of lines before it plus one. `open_per_line` and `kept_open`
//! write one line per locked section; in `group_commit` the holder of the write lock writes
//! every line waiting in the buffer. `xfunc_log_tail` and `xfunc_log_lines` hold the write lock
//! `LW_SHARED` while they read, so they never see half a line nor a file a writer is cutting
//! short. The insert lock is held `LW_EXCLUSIVE` only to copy one line into the current half,
//! or, by a flusher holding the write lock, to swap the halves: the order is write lock, then
//! insert lock, never the other way (an inserter that finds the half full releases the insert
//! lock before it waits for the write lock). The fields of [`LogBuffer`] say which lock guards
//! each. A slot's outcome is written by the flusher holding the write lock, and read by the
//! slot's backend without a lock: the ticket of the outcome is stored last (release) and read
//! first (acquire).
//!
//! Errors: every way out of the locked section, an `ereport!(ERROR)` included, drops the
//! [`LwLockGuard`] (releasing the lock) and the [`File`] (closing it). On success, the writer
//! releases the lock and then closes the file itself, to report a failed `close()` as the C
//! twin does. A write or a sync that fails is cut off again with `set_len` (ftruncate) before
//! the ERROR, and the sequence number is not advanced: the file holds only whole lines, and a
//! line that was not written leaves no gap. A `group_commit` flusher catches any ERROR after it
//! took a batch out of the buffer (`PgTryBuilder`), writes it into the slot of every line of
//! the batch, and each of those calls raises it: the flusher's included, and no other. From
//! copying its line in to reading its outcome, a `group_commit` backend holds interrupts off:
//! a query cancel, `statement_timeout` or `pg_terminate_backend` takes effect once its line is
//! in the file (or has failed), never with the line still waiting in the buffer. If a flusher
//! left with a batch and no outcomes (an ERROR in the catch handler itself), the next holder of
//! the write lock finds the batch still marked as taken and fails its lines.
//!
//! Crash and restart: shared memory is created anew, the cache is empty (`next_seq == 0`), and
//! the first writer reads the last line of the file to continue its numbering. Because the
//! number always continues from the file, a gap in the sequence proves a lost line, even across
//! a crash. A last line without its newline (a write cut short by a power failure) is removed
//! when the numbering is recovered, with a LOG message, if the line before it is ours; a file
//! whose last complete line is not ours is never changed. Lines that were in the buffer are
//! lost with it; none of their calls had returned.
//!
//! Encodings: a message is logged as the bytes of its characters in the database encoding,
//! and `xfunc_log_tail` returns lines as such bytes, checked with `pg_verifymbstr`. pgrx's
//! `&str` and `String` are UTF-8 only, so the `text` values here are [`DbText`].
//!
//! The C twin is `c/shared_log.c`.

use crate::pg_support::file::{file_error, ExternalFile};
use crate::pg_support::{
    try_vec, DbText, HoldInterrupts, LwLockGuard, ShmemStruct, MAX_ALLOC_SIZE,
};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use pgrx::PgTryBuilder;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString, OsStr};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::panic::AssertUnwindSafe;
use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

// ANCHOR: shared_struct
/// The struct in shared memory: the lock, and what it guards.
#[repr(C)]
struct SharedLog {
    /// The one lock of tranche "xfunc_log". Set once; read by every backend at any time.
    lock: *mut pg_sys::LWLock,
    /// Guarded by `lock`: a writer holding it exclusively may take a `&mut` to this part.
    cache: LogCache,
}

/// What the next writer needs to know about the file.
#[repr(C)]
struct LogCache {
    /// Number of the next line; 0: unknown, read the file.
    next_seq: u64,
    /// The file `next_seq` belongs to ...
    dev: u64,
    ino: u64,
    /// ... and its size after our last line.
    size: u64,
}

/// The struct, and its lock: the tranche "xfunc_log".
static SHARED_LOG: ShmemStruct<SharedLog> =
    ShmemStruct::new(c"xfunc shared log", c"xfunc_log", SharedLog::init);

impl SharedLog {
    /// # Safety
    /// `this` points to uninitialised shared memory for the struct, seen by nobody else yet.
    unsafe fn init(this: *mut SharedLog, lock: *mut pg_sys::LWLock) {
        let cache = LogCache {
            next_seq: 0,
            dev: 0,
            ino: 0,
            size: 0,
        };
        // SAFETY: as the caller guarantees.
        unsafe { this.write(SharedLog { lock, cache }) };
    }
}

/// The setting `xfunc.log_file`.
static LOG_FILE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"xfunc.log"));
// ANCHOR_END: shared_struct

// ANCHOR: design_setting
/// The setting `xfunc.log_design`: how `xfunc_log` gets at the file. Every design numbers and
/// writes its lines under the one write lock, from the shared cache it keeps true to the file,
/// so backends using different designs may log to one file at once.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogDesign {
    /// The book's first design: open the file, lock, append one line, unlock, close.
    #[name = c"open_per_line"]
    OpenPerLine,
    /// Each backend keeps its file open, and checks it is still the right one (see
    /// `xfunc_log_kept_open`).
    #[name = c"kept_open"]
    KeptOpen,
    /// Lines meet in a shared buffer; whoever holds the write lock writes them all, in one
    /// `write()` and at most one sync (see `append_group_commit`).
    #[name = c"group_commit"]
    GroupCommit,
}

static LOG_DESIGN: GucSetting<LogDesign> = GucSetting::<LogDesign>::new(LogDesign::KeptOpen);

/// The setting `xfunc.log_sync`: on, a call returns only once its line is on disk
/// (`fdatasync`), in every design.
static LOG_SYNC: GucSetting<bool> = GucSetting::<bool>::new(false);
// ANCHOR_END: design_setting

/// Longest line prefix: timestamp, pid, sequence number and three spaces.
const PREFIX_MAX: usize = 64;
/// `xfunc_log_tail` returns at most this many lines.
const TAIL_MAX: i32 = 1000;
/// Block size for reading the file backwards.
const BLOCK: u64 = 8192;

// ANCHOR: init
/// Called from `_PG_init`: defines the setting in every process that loads the library, and
/// installs the shared memory hooks when the library is being preloaded.
pub fn init() {
    // SAFETY: check_log_file is a #[pg_guard] function with the check hook's signature.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"xfunc.log_file",
            c"File that xfunc_log() appends to.",
            c"A relative path is taken from the data directory. The file must be inside the data \
              directory or log_directory.",
            &LOG_FILE,
            GucContext::Sighup,
            GucFlags::SUPERUSER_ONLY,
            Some(check_log_file),
            None,
            None,
        );
    }
    GucRegistry::define_enum_guc(
        c"xfunc.log_design",
        c"How xfunc_log() writes: open_per_line, kept_open or group_commit.",
        c"open_per_line opens and closes the file for every line; kept_open keeps it open in \
          each backend; group_commit writes the lines of many backends at once.",
        &LOG_DESIGN,
        GucContext::Suset,
        GucFlags::default(),
    );
    // ANCHOR: sync_setting
    GucRegistry::define_bool_guc(
        c"xfunc.log_sync",
        c"Whether xfunc_log() waits until its line is on disk (fdatasync).",
        c"on: a call returns once its line is written and synced; off: once it is written \
          (a crash of the operating system may lose it). Obeys fsync = off, as the server's \
          own files do.",
        &LOG_SYNC,
        GucContext::Suset,
        GucFlags::default(),
    );
    // ANCHOR_END: sync_setting
    // SAFETY: _PG_init runs in one thread of one process, after the settings are defined.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"xfunc".as_ptr()) };
    SHARED_LOG.request();
    LOG_BUFFER.request();
}
// ANCHOR_END: init

// ANCHOR: path_check
/// Why `path` may not be a log file, or `None` if it may. The rules of `pg_read_file` and
/// `pg_file_write` (`convert_and_check_filename` in genfile.c), with PostgreSQL's own path
/// functions: no ".." component; an absolute path must lie in the data directory or in an
/// absolute `log_directory`; a relative path is taken from the data directory (every
/// backend's working directory). The check is on the text of the path, canonicalized
/// ("a//b/./c" is "a/b/c"): a symbolic link inside the data directory is the administrator's.
fn log_file_path_problem(path: &CStr) -> Option<&'static CStr> {
    // Any ".." component, before canonicalize_path could fold "a/../b" into "b".
    if path
        .to_bytes()
        .split(|&b| b == b'/')
        .any(|part| part == b"..")
    {
        return Some(c"The path must not contain \"..\".");
    }
    let bytes = path.to_bytes_with_nul();
    let mut canonical = [0 as c_char; pg_sys::MAXPGPATH as usize];
    if bytes.len() > canonical.len() {
        return Some(c"The path is too long.");
    }
    for (dst, &src) in canonical.iter_mut().zip(bytes) {
        *dst = src as c_char;
    }
    // SAFETY: `canonical` holds a NUL-terminated copy of the path; canonicalize_path only
    // shortens it in place. DataDir and Log_directory are NUL-terminated strings or null
    // (tested); the path functions only read them.
    unsafe {
        pg_sys::canonicalize_path(canonical.as_mut_ptr());
        if canonical[0] == b'/' as c_char {
            let data_dir = pg_sys::DataDir;
            if !data_dir.is_null() && pg_sys::path_is_prefix_of_path(data_dir, canonical.as_ptr()) {
                return None;
            }
            let log_dir = pg_sys::Log_directory;
            if !log_dir.is_null()
                && *log_dir == b'/' as c_char
                && pg_sys::path_is_prefix_of_path(log_dir, canonical.as_ptr())
            {
                return None;
            }
            return Some(c"An absolute path must lie inside the data directory or log_directory.");
        }
        if !pg_sys::path_is_relative_and_below_cwd(canonical.as_ptr()) {
            return Some(c"A relative path must lie inside the data directory.");
        }
    }
    None
}

/// The GUC check hook: runs for postgresql.conf, ALTER SYSTEM and reloads, in every process.
/// A check hook must not raise an ERROR: it returns false, with an SQLSTATE and a detail.
#[pg_guard]
unsafe extern "C-unwind" fn check_log_file(
    newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: PostgreSQL passes a pointer to the proposed value, a NUL-terminated string or
    // null.
    let value = unsafe { (*newval).cast_const().as_ref().map(|v| CStr::from_ptr(v)) };
    let (code, detail) = match value.filter(|path| !path.is_empty()) {
        None => (
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            c"The log file name must not be empty.",
        ),
        Some(path) => match log_file_path_problem(path) {
            None => return true,
            Some(problem) => (PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE, problem),
        },
    };
    // SAFETY: the documented way to report from a check hook (GUC_check_errcode and the
    // variable behind the GUC_check_errdetail macro); pstrdup copies the detail into memory
    // that lives until the caller has reported it.
    unsafe {
        pg_sys::GUC_check_errcode(code as i32);
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr());
    }
    false
}
// ANCHOR_END: path_check

/// The setting's current value, without copying it.
fn log_file_setting() -> Option<&'static CStr> {
    // SAFETY: the GUC machinery keeps the variable a NUL-terminated string or null; the value
    // changes only when the backend processes a reload, between statements, after we are done.
    unsafe {
        let value = *LOG_FILE.as_ptr();
        (!value.is_null()).then(|| CStr::from_ptr(value))
    }
}

/// The setting, checked again where it is used (the rules may depend on log_directory).
fn log_file_checked() -> CString {
    let Some(path) = LOG_FILE.get() else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "no log file is set"
        );
    };
    if let Some(problem) = log_file_path_problem(&path) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("log file \"{}\" is not allowed", path.to_string_lossy()),
            problem.to_string_lossy()
        );
    }
    path
}

// ANCHOR: escape
/// How many bytes `c` takes in a line: backslash, newline, carriage return, tab and every
/// other control character are escaped, so that one message is one line. Bytes >= 0x80 pass:
/// they are parts of multibyte characters, or characters of a single-byte encoding such as
/// LATIN1.
fn escaped_width(c: u8) -> usize {
    match c {
        b'\\' | b'\n' | b'\r' | b'\t' => 2,
        0x00..=0x1f | 0x7f => 4,
        _ => 1,
    }
}

/// Appends `message` to `line`, escaped. `line` has room for it (see [`LineBuf::new`]).
fn append_escaped(line: &mut Vec<u8>, message: &[u8]) {
    for &c in message {
        match c {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b'\t' => line.extend_from_slice(b"\\t"),
            0x00..=0x1f | 0x7f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                line.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 15)],
                ]);
            }
            _ => line.push(c),
        }
    }
}
// ANCHOR_END: escape

// ANCHOR: line_buffer
/// A line in the making: room for the longest prefix, then the escaped message and its
/// newline. The prefix holds the sequence number and the time, so it is formatted under the
/// lock, into the room left for it: the message is never moved.
struct LineBuf {
    buf: Vec<u8>,
    /// Where the line starts in `buf`: `PREFIX_MAX` until the prefix is in.
    start: usize,
}

impl LineBuf {
    /// Escapes `message` into a new line. The length is counted before anything is
    /// allocated, and the allocation may fail: a line that would not fit in MaxAllocSize (as
    /// in the C version, whose buffer is palloc'd) is 54000, memory the process cannot get is
    /// 53200. Neither aborts the backend, as a failed `Vec` allocation would.
    fn new(message: &[u8]) -> LineBuf {
        let escaped: usize = message.iter().map(|&c| escaped_width(c)).sum();
        if escaped >= MAX_ALLOC_SIZE - PREFIX_MAX - 1 {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "message is too long to log"
            );
        }
        let mut buf = try_vec(PREFIX_MAX + escaped + 1);
        buf.resize(PREFIX_MAX, b' ');
        append_escaped(&mut buf, message);
        buf.push(b'\n');
        LineBuf {
            buf,
            start: PREFIX_MAX,
        }
    }

    /// Puts "2026-11-21T17:30:00.123456Z 4242 17 " in front of the message: the time, this
    /// backend's pid and the line's number.
    fn set_prefix(&mut self, now: pg_sys::TimestampTz, seq: u64) {
        let mut prefix = [0u8; PREFIX_MAX];
        // SAFETY: set once when the process starts, never written afterwards.
        let len = format_prefix(&mut prefix, now, unsafe { pg_sys::MyProcPid }, seq);
        self.start = PREFIX_MAX - len;
        self.buf[self.start..PREFIX_MAX].copy_from_slice(&prefix[..len]);
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The escaped message and its newline, without the prefix.
    fn escaped(&self) -> &[u8] {
        &self.buf[PREFIX_MAX..]
    }
}
// ANCHOR_END: line_buffer

/// The date and time to the second of the last prefix this backend made, formatted: most
/// lines share it with the one before, and `timestamp2tm` and formatting are the dearest part
/// of a line after `write()`.
struct PrefixCache {
    second: i64,
    datetime: [u8; 32],
    len: usize,
}

thread_local! {
    static PREFIX_CACHE: RefCell<PrefixCache> = const {
        RefCell::new(PrefixCache { second: -1, datetime: [0; 32], len: 0 })
    };
}

/// Writes "2026-11-21T17:30:00.123456Z 4242 17 ", the start of a line, into `out`; returns its
/// length (at most 62: a 6-digit year, a 10-digit pid, a 20-digit sequence number).
fn format_prefix(
    out: &mut [u8; PREFIX_MAX],
    now: pg_sys::TimestampTz,
    pid: i32,
    seq: u64,
) -> usize {
    const USECS_PER_SEC: i64 = 1_000_000;
    let mut usec = now % USECS_PER_SEC;
    PREFIX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if now < 0 || now / USECS_PER_SEC != cache.second {
            let mut tm = pg_sys::pg_tm::default();
            let mut fsec: pg_sys::fsec_t = 0;
            // SAFETY: timestamp2tm only writes tm and fsec; a null time zone means UTC.
            let rc = unsafe {
                pg_sys::timestamp2tm(
                    now,
                    ptr::null_mut(),
                    &mut tm,
                    &mut fsec,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            };
            if rc != 0 {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
                    "timestamp out of range"
                );
            }
            let mut cursor = io::Cursor::new(&mut cache.datetime[..]);
            // Cannot fail: 32 bytes hold any date timestamp2tm gives (a 6-digit year).
            let _ = write!(
                cursor,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            );
            cache.len = cursor.position() as usize;
            cache.second = if now < 0 { -1 } else { now / USECS_PER_SEC };
            usec = i64::from(fsec);
        }
        out[..cache.len].copy_from_slice(&cache.datetime[..cache.len]);
        let mut p = cache.len;
        out[p] = b'.';
        for i in (0..6).rev() {
            out[p + 1 + i] = b'0' + (usec % 10) as u8;
            usec /= 10;
        }
        p += 7;
        out[p..p + 2].copy_from_slice(b"Z ");
        p += 2;
        p += put_decimal(&mut out[p..], u64::from(pid.unsigned_abs()));
        out[p] = b' ';
        p += 1;
        p += put_decimal(&mut out[p..], seq);
        out[p] = b' ';
        p + 1
    })
}

/// Writes `value` in decimal at the start of `out`; returns how many digits.
fn put_decimal(out: &mut [u8], mut value: u64) -> usize {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[19 - n] = b'0' + (value % 10) as u8;
        n += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out[..n].copy_from_slice(&digits[20 - n..]);
    n
}

/// Fills `buf` from the file at `offset`. A file that ends first was cut short after our
/// `fstat` (by someone not taking the lock): EIO, "Input/output error", as in the C twin.
fn read_exactly_at(file: &File, path: &CStr, buf: &mut [u8], offset: u64) {
    if let Err(err) = file.read_exact_at(buf, offset) {
        file_error("read log file", path, &err);
    }
}

/// The offset of the last '\n' before offset `before`, or `None`. Reads backwards a block at
/// a time.
fn newline_before(file: &File, path: &CStr, mut before: u64) -> Option<u64> {
    let mut block = vec![0u8; BLOCK as usize];
    while before > 0 {
        let start = before.saturating_sub(BLOCK);
        let chunk = &mut block[..(before - start) as usize];
        read_exactly_at(file, path, chunk, start);
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Some(start + i as u64);
        }
        before = start;
    }
    None
}

/// The sequence number of a line that starts with `head`: "<timestamp> <pid> <seq> ...", the
/// timestamp any non-empty word, pid and seq decimal digits, each followed by one space. A NUL
/// byte ends `head`, as it ends the C twin's string.
fn parse_seq(head: &[u8]) -> Option<u64> {
    let head = &head[..head.iter().position(|&b| b == 0).unwrap_or(head.len())];
    let mut fields = head.splitn(4, |&b| b == b' ');
    let (timestamp, pid, seq) = (fields.next()?, fields.next()?, fields.next()?);
    fields.next()?; // the space after seq
    let digits = |field: &[u8]| !field.is_empty() && field.iter().all(u8::is_ascii_digit);
    if timestamp.is_empty() || !digits(pid) || !digits(seq) {
        return None;
    }
    std::str::from_utf8(seq).ok()?.parse().ok()
}

// ANCHOR: recover
/// The sequence number of the file's last complete line, and the offset of the newline that
/// ends it. `size` is the file's size from `fstat`, taken under the lock (in either mode). A
/// file with no complete line of ours is an ERROR (XX001), and is left alone.
fn last_line_seq(file: &File, path: &CStr, size: u64) -> (u64, u64) {
    let last_newline = newline_before(file, path, size);
    let seq = last_newline.and_then(|last_newline| {
        let line_start = newline_before(file, path, last_newline).map_or(0, |nl| nl + 1);
        let mut head = vec![0u8; PREFIX_MAX.min((last_newline - line_start) as usize)];
        read_exactly_at(file, path, &mut head, line_start);
        parse_seq(&head)
    });
    match (last_newline, seq) {
        (Some(last_newline), Some(seq)) => (last_newline, seq),
        _ => no_sequence_number(path),
    }
}

fn no_sequence_number(path: &CStr) -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
        format!(
            "last line of log file \"{}\" has no sequence number",
            path.to_string_lossy()
        )
    );
}

/// Returns the sequence number that follows the file's last line (1 for an empty file). Called
/// with the lock held exclusively, when the cache does not describe this file. If the file
/// ends with an incomplete line after a line of ours, the incomplete line is cut off; `size`
/// is updated.
fn recover_next_seq(file: &File, path: &CStr, size: &mut u64) -> u64 {
    if *size == 0 {
        return 1;
    }
    let (last_newline, seq) = last_line_seq(file, path, *size);
    if seq == u64::MAX {
        no_sequence_number(path); // the next one would not fit
    }

    if last_newline != *size - 1 {
        if let Err(err) = file.set_len(last_newline + 1) {
            file_error("truncate log file", path, &err);
        }
        pgrx::log!(
            "removed an incomplete last line of {} bytes from log file \"{}\"",
            *size - (last_newline + 1),
            path.to_string_lossy()
        );
        *size = last_newline + 1;
    }
    seq + 1
}
// ANCHOR_END: recover

/// How the writers open the log file: for appending, created with the server's umask (0600,
/// like OpenTransientFile's files) when it is missing.
fn append_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    options
}

/// The readers' start: the log file opened and its size, taken under the lock held in
/// shared mode (the guard), or `None` when there is no file yet.
fn open_for_reading(log: *mut SharedLog, path: &CStr) -> Option<(ExternalFile, LwLockGuard, u64)> {
    let file = match ExternalFile::open(OpenOptions::new().read(true), path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return None,
        Err(err) => file_error("open log file", path, &err),
    };
    let guard = lock(log, pg_sys::LWLockMode::LW_SHARED);
    let size = metadata(&file, path).len();
    Some((file, guard, size))
}

/// Takes the log's lock in `mode`, until the guard is dropped.
fn lock(log: *mut SharedLog, mode: pg_sys::LWLockMode::Type) -> LwLockGuard {
    // SAFETY: `log` comes from SHARED_LOG.get(): the struct in shared memory, whose lock was
    // set once, before any backend existed, and never changes.
    unsafe { LwLockGuard::acquire((*log).lock, mode) }
}

/// `fstat`, or the ERROR C raises for it.
fn metadata(file: &File, path: &CStr) -> std::fs::Metadata {
    file.metadata()
        .unwrap_or_else(|err| file_error("stat log file", path, &err))
}

// ANCHOR: xfunc_log
/// `xfunc_log(message text) RETURNS void`: appends one line to the log file. The manual's
/// "Shared Memory and LWLocks" explains the lock; this is the book's example of why one is
/// needed. The C version detoasts the argument by hand (`PG_GETARG_TEXT_PP`); pgrx does it
/// for a [`DbText`], which hands us the bytes in the database encoding, as C has them.
/// `xfunc.log_design` says how the file is reached, `xfunc.log_sync` whether the line is
/// synced before the call returns; the locked section is the same.
#[pg_extern(volatile)]
pub fn xfunc_log(message: DbText<'_>) {
    let log = SHARED_LOG.get();
    let line = LineBuf::new(message.as_bytes());
    let sync = LOG_SYNC.get();
    match LOG_DESIGN.get() {
        LogDesign::OpenPerLine => append_open_per_line(log, line, sync),
        LogDesign::KeptOpen => append_kept_open(log, line, sync),
        LogDesign::GroupCommit => append_group_commit(log, LOG_BUFFER.get(), line, sync),
    }
}

/// The book's first design. Everything that can be done before taking the lock is: the path
/// check, escaping the message, opening the file. Under the lock: compare the cache with the
/// file, number the line, format it, write it whole, advance the cache. Then release the lock
/// and close the file. The C version opens the file with `OpenTransientFile` so that an ERROR
/// closes it; here `Drop` closes it on the way out of an ERROR, and `close` on success, to
/// check it.
fn append_open_per_line(log: *mut SharedLog, mut line: LineBuf, sync: bool) {
    let path = log_file_checked();
    let file = ExternalFile::open(&append_options(), &path)
        .unwrap_or_else(|err| file_error("open log file", &path, &err));
    let guard = lock(log, pg_sys::LWLockMode::LW_EXCLUSIVE);
    // SAFETY: from here to `drop(guard)` we hold the lock exclusively: no other process reads
    // or writes the cache. (Others may read `lock`, which is not borrowed.)
    let shared = unsafe { &mut (*log).cache };
    sync_cache(shared, &file, &path);
    if let Err((action, err)) = append_line(shared, &file, &mut line, sync) {
        file_error(action, &path, &err);
    }
    drop(guard);

    if let Err(err) = file.close() {
        file_error("close log file", &path, &err);
    }
}
// ANCHOR_END: xfunc_log

// ANCHOR: locked_section
/// Under the lock held exclusively: makes the cache describe `file`. When the file is not the
/// one the cache describes (another setting, a file rotated away or deleted, a new segment
/// after a crash: `next_seq` is 0) or has another size (somebody else wrote to it), its last
/// line is the truth.
fn sync_cache(shared: &mut LogCache, file: &File, path: &CStr) {
    let meta = metadata(file, path);
    let mut size = meta.len();
    if shared.next_seq == 0
        || shared.dev != meta.dev()
        || shared.ino != meta.ino()
        || shared.size != size
    {
        shared.next_seq = recover_next_seq(file, path, &mut size);
        shared.dev = meta.dev();
        shared.ino = meta.ino();
        shared.size = size;
    }
}

/// Under the lock held exclusively, with the cache describing `file`: numbers the line, takes
/// the time, and appends it ([`append_lines`]).
fn append_line(
    shared: &mut LogCache,
    file: &File,
    line: &mut LineBuf,
    sync: bool,
) -> Result<(), FileFailure> {
    // SAFETY: GetCurrentTimestamp only reads the clock.
    line.set_prefix(unsafe { pg_sys::GetCurrentTimestamp() }, shared.next_seq);
    append_lines(shared, file, line.bytes(), 1, sync)
}

/// Under the lock held exclusively, with the cache describing `file`: writes `bytes`, which
/// hold `lines` whole lines numbered from `shared.next_seq`, then syncs them if `sync`, and
/// advances the cache. A write that fails part-way, or a sync that fails, is cut off again
/// (nobody appends meanwhile) and the numbers are not used: the caller raises the ERROR.
fn append_lines(
    shared: &mut LogCache,
    file: &File,
    bytes: &[u8],
    lines: u64,
    sync: bool,
) -> Result<(), FileFailure> {
    // write_all calls write() again after a short write and after EINTR.
    let done = (&*file)
        .write_all(bytes)
        .map_err(|err| ("write to log file", err))
        .and_then(|()| match sync {
            // SAFETY: fdatasync of a descriptor we own (pg_fdatasync: none with fsync = off).
            true if unsafe { pg_sys::pg_fdatasync(file.as_raw_fd()) } != 0 => {
                Err(("fdatasync log file", io::Error::last_os_error()))
            }
            _ => Ok(()),
        });
    if let Err(failure) = done {
        if file.set_len(shared.size).is_err() {
            shared.next_seq = 0; // could not: let the next writer look at the file
        }
        return Err(failure);
    }
    shared.next_seq += lines;
    shared.size += bytes.len() as u64;
    Ok(())
}

/// What failed, and how: raised with [`file_error`].
type FileFailure = (&'static str, io::Error);
// ANCHOR_END: locked_section

// ANCHOR: kept_open
/// The file a backend keeps open in the `kept_open` design, and what it knows of it.
struct KeptFile {
    file: ExternalFile,
    /// The setting's value it was opened for, which passed the path check then.
    path: CString,
    /// Its identity, from `fstat` when it was opened.
    dev: u64,
    ino: u64,
    /// When the path was last found to name this very file.
    checked_at: pg_sys::TimestampTz,
}

thread_local! {
    /// This backend's kept file: none before its first line, and none again after an ERROR.
    static KEPT: RefCell<Option<KeptFile>> = const { RefCell::new(None) };
}

/// How long a backend trusts, without a system call, that the path still names its file
/// and that nobody but `xfunc_log` wrote to it: 100 ms.
const RECHECK_USECS: i64 = 100_000;

/// The kept file made ready for a line, before any lock (step 1 of `kept_open`).
struct Ready {
    kept: KeptFile,
    /// The path was checked now: compare the cache with the file under the lock.
    due: bool,
    /// The file was opened now.
    fresh: bool,
}

/// Before the lock: takes this backend's kept file out of `KEPT` (put back only after a line
/// went in: an ERROR drops, and so closes, it), reopens it when the setting names another
/// file, and every `RECHECK_USECS` checks the path (the rules, and `stat`: is it still our
/// file?). `None` when there is none and this backend may keep no more files open.
fn kept_file_ready() -> Option<Ready> {
    let mut kept = KEPT.with(|k| k.borrow_mut().take());
    // SAFETY: GetCurrentTimestamp only reads the clock.
    let now = unsafe { pg_sys::GetCurrentTimestamp() };
    let due = match &kept {
        None => true,
        Some(k) => {
            Some(k.path.as_c_str()) != log_file_setting()
                || !(0..RECHECK_USECS).contains(&(now - k.checked_at))
        }
    };
    let mut fresh = false;
    if due {
        let path = log_file_checked();
        match kept.as_mut() {
            Some(k) if k.path == path && names_file(&path, k) => k.checked_at = now,
            _ => {
                drop(kept.take()); // closes the old file first
                kept = Some(open_kept(path, now)?);
                fresh = true;
            }
        }
    }
    kept.map(|kept| Ready { kept, due, fresh })
}

/// Opens `path` to keep, and takes its identity; `None` when this backend may keep no more
/// files open (`AcquireExternalFD`).
fn open_kept(path: CString, now: pg_sys::TimestampTz) -> Option<KeptFile> {
    let opened = ExternalFile::open_kept(&append_options(), &path)?;
    let file = opened.unwrap_or_else(|err| file_error("open log file", &path, &err));
    let meta = metadata(&file, &path);
    Some(KeptFile {
        file,
        path,
        dev: meta.dev(),
        ino: meta.ino(),
        checked_at: now,
    })
}

/// The faster design: one `write()` per line, and no other system call, while the file stays
/// what it was. Before the lock: [`kept_file_ready`]. Under the lock: when the cache
/// describes another file, ours has been replaced (another backend found out first): reopen.
/// At a check, or with a file just opened, the cache is compared with `fstat`, as the first
/// design does for every line. Then the same locked section. An ERROR anywhere closes the
/// kept file: the next line opens it again.
fn append_kept_open(log: *mut SharedLog, mut line: LineBuf, sync: bool) {
    let Some(Ready { kept, due, fresh }) = kept_file_ready() else {
        return append_open_per_line(log, line, sync); // may keep no more files open
    };

    let guard = lock(log, pg_sys::LWLockMode::LW_EXCLUSIVE);
    // SAFETY: we hold the lock exclusively until `drop(guard)`.
    let shared = unsafe { &mut (*log).cache };
    if shared.next_seq != 0 && (shared.dev, shared.ino) != (kept.dev, kept.ino) && !fresh {
        // Another backend logs to another file: the path names a new one. Start again with
        // no kept file (once: a file just opened is never "not fresh").
        drop(guard);
        drop(kept);
        return append_kept_open(log, line, sync);
    }
    if due || shared.next_seq == 0 || (shared.dev, shared.ino) != (kept.dev, kept.ino) {
        sync_cache(shared, &kept.file, &kept.path);
    }
    if let Err((action, err)) = append_line(shared, &kept.file, &mut line, sync) {
        drop(guard);
        let path = kept.path.clone();
        drop(kept); // closed: the next line opens the file again
        file_error(action, &path, &err);
    }
    drop(guard);
    KEPT.with(|slot| *slot.borrow_mut() = Some(kept));
}

/// Whether `path` names the file `kept` has open (`stat`, without the lock).
fn names_file(path: &CStr, kept: &KeptFile) -> bool {
    std::fs::metadata(OsStr::from_bytes(path.to_bytes()))
        .is_ok_and(|meta| meta.dev() == kept.dev && meta.ino() == kept.ino)
}
// ANCHOR_END: kept_open

// ANCHOR: group_buffer
/// The design `group_commit`'s buffer, in shared memory: two halves, one of which takes lines
/// while a flusher writes the other, and after the struct one [`Slot`] per backend.
#[repr(C)]
struct LogBuffer {
    /// The one lock of tranche "xfunc_log_buffer", the insert lock. Set once; read by every
    /// backend at any time.
    insert_lock: *mut pg_sys::LWLock,
    /// Guarded by the insert lock.
    fill: Fill,
    /// Bytes of the current half in use: written under the insert lock, read under it or, by
    /// a flusher that only wants to know whether any line waits, without it.
    used: AtomicUsize,
    /// Guarded by the write lock (`SharedLog::lock`).
    taken: Taken,
    /// `halves[fill.current]` is guarded by the insert lock, the other half by the write lock.
    halves: [Half; 2],
}

/// Where the next line goes.
#[repr(C)]
struct Fill {
    /// The half lines are copied into, 0 or 1.
    current: usize,
    /// The ticket of the next line copied in: 1, 2, 3, ... for as long as the segment lives.
    /// It only tells lines apart; a line's sequence number is given when it is written.
    next_ticket: u64,
}

/// The half a flusher took out of the buffer, and the last batch written.
#[repr(C)]
struct Taken {
    /// Taken, and its lines have no outcome yet: a flusher is writing it, or left without
    /// finishing (then the next holder of the write lock fails its lines).
    in_flight: bool,
    half: usize,
    len: usize,
    /// Lines of the last batch written, and how long its write and sync took (0: it was not
    /// synced, or failed): what the next flusher gathers by.
    last_lines: u64,
    last_usecs: i64,
}

/// The longest a flusher waits for lines to gather: 10 ms.
const GATHER_MAX_USECS: i64 = 10_000;

/// Bytes in each half of the buffer.
const HALF: usize = 64 * 1024;

#[repr(C, align(8))]
struct Half([u8; HALF]);

/// What a backend copies in before its line's message: then the escaped message and its
/// newline, padded to 8 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct EntryHeader {
    ticket: u64,
    /// Bytes of the message and its newline.
    len: u32,
    /// The pid of the line's prefix: the backend that logged it.
    pid: i32,
    /// Where its outcome goes: the slot of the backend that logged it (`MyBackendId - 1`).
    slot: u32,
    /// 1: the line must be synced before its call returns.
    sync: u32,
}

const HEADER: usize = size_of::<EntryHeader>();

/// Bytes an entry takes in a half.
const fn entry_size(message: usize) -> usize {
    HEADER + message.next_multiple_of(8)
}

/// One backend's mailbox: the outcome of its last line that a flusher wrote, or failed to.
#[repr(C)]
struct Slot {
    /// The ticket of the line the outcome is for. Written last (Release) by the flusher
    /// holding the write lock, read first (Acquire) by the slot's backend, without a lock.
    done: AtomicU64,
    /// 0: written (and synced, if asked); else the ERROR's SQLSTATE, as PostgreSQL encodes it.
    sqlerrcode: i32,
    /// Bytes of `message` in use.
    len: u32,
    /// The ERROR's message (room for any our functions raise, a path of MAXPGPATH included).
    message: [u8; SLOT_MESSAGE],
}

const SLOT_MESSAGE: usize = 1264;

/// The buffer, its slots and its lock: the tranche "xfunc_log_buffer".
static LOG_BUFFER: ShmemStruct<LogBuffer> = ShmemStruct::with_tail(
    c"xfunc shared log buffer",
    c"xfunc_log_buffer",
    LogBuffer::init,
    LogBuffer::slots_size,
);

impl LogBuffer {
    /// One slot per backend: `MaxBackends` is known when the request hook runs.
    fn slots_size() -> usize {
        // SAFETY: set by the postmaster before it calls the request hooks, never changed.
        let backends = usize::try_from(unsafe { pg_sys::MaxBackends }).unwrap_or(0);
        // SAFETY: mul_size only multiplies, raising an ERROR on overflow.
        unsafe { pg_sys::mul_size(backends, size_of::<Slot>()) }
    }

    /// # Safety
    /// `this` points to uninitialised shared memory for the struct and its slots, seen by
    /// nobody else yet.
    unsafe fn init(this: *mut LogBuffer, lock: *mut pg_sys::LWLock) {
        // SAFETY: as the caller guarantees. Field by field: the halves (128 KiB) are not
        // built on the stack, and are only ever read where a line was copied in.
        unsafe {
            (&raw mut (*this).insert_lock).write(lock);
            (&raw mut (*this).fill).write(Fill {
                current: 0,
                next_ticket: 1,
            });
            (&raw mut (*this).used).write(AtomicUsize::new(0));
            (&raw mut (*this).taken).write(Taken {
                in_flight: false,
                half: 0,
                len: 0,
                last_lines: 0,
                last_usecs: 0,
            });
            for i in 0..Self::slots_size() / size_of::<Slot>() {
                Self::slot(this, i).write(Slot {
                    done: AtomicU64::new(0),
                    sqlerrcode: 0,
                    len: 0,
                    message: [0; SLOT_MESSAGE],
                });
            }
        }
    }

    /// Slot `i`, which the caller knows exists.
    ///
    /// # Safety
    /// `this` is the struct in shared memory and `i < MaxBackends`.
    unsafe fn slot(this: *mut LogBuffer, i: usize) -> *mut Slot {
        // SAFETY: the slots follow the struct (its size is a multiple of its alignment, 8,
        // which is the slots' too).
        unsafe { this.add(1).cast::<Slot>().add(i) }
    }
}
// ANCHOR_END: group_buffer

/// This backend's slot: `MyBackendId - 1`.
fn my_slot() -> usize {
    // SAFETY: set once when the backend starts, never written afterwards.
    let (id, max) = unsafe { (pg_sys::MyBackendId, pg_sys::MaxBackends) };
    if !(1..=max).contains(&id) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("backend ID {id} has no log buffer slot")
        );
    }
    (id - 1) as usize
}

thread_local! {
    /// Where a flusher puts the lines of a batch together, prefixes and all: allocated at the
    /// first `group_commit` line, before anything is copied into the buffer.
    static STAGING: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The most a batch can need: each line of a half gets a prefix (at most `PREFIX_MAX` bytes
/// for an entry of at least `entry_size(1)`), and the flusher's own line may follow.
const STAGING_MAX: usize = HALF + HALF / entry_size(1) * PREFIX_MAX + HALF + PREFIX_MAX;

/// The file a flusher writes to, and whether it must be compared with the cache.
struct FlushFile {
    kept: Option<KeptFile>,
    due: bool,
    fresh: bool,
}

// ANCHOR: group_commit
/// The design `group_commit`: a line waits in the shared buffer, and whoever holds the write
/// lock writes every waiting line in one `write()` and at most one sync (`XLogFlush`'s way with
/// WAL records). In order:
///
/// 1. Before any lock, as in `kept_open`: the kept file, and the path checked when due. A line
///    longer than a half cannot wait in the buffer: it is written as `kept_open` writes one.
/// 2. The write lock free: take it, and write the lines waiting in the buffer and ours
///    together ([`flush`]). Its outcome is ours.
/// 3. Otherwise copy the line into the buffer ([`insert`]), and until our slot says it has an
///    outcome: `LWLockAcquireOrWait` the write lock. Given the lock, flush (our line is in the
///    buffer); not given it, a flusher has just released it: look at the slot again.
/// 4. The slot's outcome: return, or raise the ERROR the flusher met.
///
/// From step 2 on, interrupts are held off: a cancel or a termination takes effect after the
/// call, with the line in the file or failed, never while it waits in the buffer.
fn append_group_commit(log: *mut SharedLog, buf: *mut LogBuffer, line: LineBuf, sync: bool) {
    let Some(Ready { kept, due, fresh }) = kept_file_ready() else {
        return append_open_per_line(log, line, sync); // may keep no more files open
    };
    if entry_size(line.escaped().len()) > HALF {
        KEPT.with(|k| *k.borrow_mut() = Some(kept));
        return append_kept_open(log, line, sync);
    }
    let slot = my_slot();
    let mut staging = STAGING.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if staging.capacity() < STAGING_MAX {
        staging = try_vec(STAGING_MAX);
    }
    let mut file = FlushFile {
        kept: Some(kept),
        due,
        fresh,
    };
    let mut line = line;

    let held = HoldInterrupts::new();
    // SAFETY: `log` comes from SHARED_LOG.get(); its lock never changes.
    if let Some(guard) = unsafe { LwLockGuard::try_acquire((*log).lock, EXCLUSIVE) } {
        let outcome = flush(
            log,
            buf,
            &mut file,
            &mut staging,
            Some((&mut line, sync)),
            sync,
        );
        drop(guard);
        drop(held);
        if let Err(error) = outcome {
            error.rethrow(); // drops the kept file: the next line opens it again
        }
    } else {
        let ticket = insert(log, buf, &mut file, &mut staging, &line, sync, slot);
        let failed = loop {
            if let Some(outcome) = outcome(buf, slot, ticket) {
                break outcome;
            }
            if let Some(guard) = wait_for_writer(log, sync) {
                if outcome(buf, slot, ticket).is_none() {
                    // Our line is in the buffer: the outcome goes into our slot too.
                    let _ = flush(log, buf, &mut file, &mut staging, None, sync);
                }
                drop(guard);
            }
        };
        drop(held);
        if let Some((code, message)) = failed {
            drop(file); // closes the kept file: the next line opens it again
            ereport!(ERROR, code, message);
        }
    }
    STAGING.with(|s| *s.borrow_mut() = staging);
    KEPT.with(|k| *k.borrow_mut() = file.kept);
}

const EXCLUSIVE: pg_sys::LWLockMode::Type = pg_sys::LWLockMode::LW_EXCLUSIVE;

/// Waits for the write lock as a line that waits in the buffer should. With the sync on,
/// `LWLockAcquireOrWait`: a flusher's release wakes every such waiter at once, and most find
/// their line written (`None`: not taken). Without it a batch is only a `write()`, most hold
/// a line or two, and waking every waiter at each release would cost more than it saves:
/// `LWLockAcquire`, as in `kept_open`, one waiter woken at a time, and whoever holds the lock
/// writes every line waiting.
fn wait_for_writer(log: *mut SharedLog, sync: bool) -> Option<LwLockGuard> {
    // SAFETY: `log` comes from SHARED_LOG.get(); its lock never changes.
    unsafe {
        match sync {
            true => LwLockGuard::acquire_or_wait((*log).lock, EXCLUSIVE),
            false => Some(LwLockGuard::acquire((*log).lock, EXCLUSIVE)),
        }
    }
}

/// Step 3: copies the line into the current half and returns its ticket. When the half has no
/// room, waits for the write lock (or takes it and flushes) and tries again: each flush empties
/// a half, and lines, which are at most a half long, go in whole.
fn insert(
    log: *mut SharedLog,
    buf: *mut LogBuffer,
    file: &mut FlushFile,
    staging: &mut Vec<u8>,
    line: &LineBuf,
    sync: bool,
    slot: usize,
) -> u64 {
    let message = line.escaped();
    let size = entry_size(message.len());
    loop {
        {
            // SAFETY: `buf` comes from LOG_BUFFER.get(); its lock never changes.
            let _insert = unsafe { LwLockGuard::acquire((*buf).insert_lock, EXCLUSIVE) };
            // SAFETY: we hold the insert lock: `fill`, `used` and the current half are ours.
            let (fill, used) = unsafe { (&mut (*buf).fill, &(*buf).used) };
            let at = used.load(Ordering::Relaxed);
            if at + size <= HALF {
                let ticket = fill.next_ticket;
                let header = EntryHeader {
                    ticket,
                    len: message.len() as u32,
                    // SAFETY: set once when the process starts.
                    pid: unsafe { pg_sys::MyProcPid },
                    slot: slot as u32,
                    sync: u32::from(sync),
                };
                // SAFETY: as above; `at + size <= HALF`, and `at` is a multiple of 8.
                unsafe {
                    let entry = (&raw mut (*buf).halves[fill.current].0)
                        .cast::<u8>()
                        .add(at);
                    entry.cast::<EntryHeader>().write(header);
                    ptr::copy_nonoverlapping(message.as_ptr(), entry.add(HEADER), message.len());
                }
                used.store(at + size, Ordering::Relaxed);
                fill.next_ticket += 1;
                return ticket;
            }
        }
        if let Some(guard) = wait_for_writer(log, sync) {
            let _ = flush(log, buf, file, staging, None, sync); // none of its lines is ours
            drop(guard);
        }
    }
}

/// Our slot's outcome for `ticket`: `None` while there is none; `Some(None)`: written;
/// `Some(Some(error))`: the ERROR the flusher met.
#[allow(clippy::type_complexity)]
fn outcome(
    buf: *mut LogBuffer,
    slot: usize,
    ticket: u64,
) -> Option<Option<(PgSqlErrorCode, String)>> {
    // SAFETY: `slot` is ours (my_slot). Only a flusher holding the write lock writes it, and
    // it stores `done` last: once we read our ticket there (Acquire), the rest is written.
    unsafe {
        let slot = LogBuffer::slot(buf, slot);
        if (*slot).done.load(Ordering::Acquire) != ticket {
            return None;
        }
        if (*slot).sqlerrcode == 0 {
            return Some(None);
        }
        let message = &(&(*slot).message)[..(*slot).len as usize];
        Some(Some((
            PgSqlErrorCode::from((*slot).sqlerrcode),
            String::from_utf8_lossy(message).into_owned(),
        )))
    }
}
// ANCHOR_END: group_commit

// ANCHOR: group_flush
/// Under the write lock: the flusher's work. First, the lines of a half a flusher took and
/// left without outcomes (it met an ERROR it could not record) fail. A flusher that syncs
/// (`sync`: its own setting) may wait a moment for more lines ([`gather`]). Then the current
/// half is taken out of the buffer (the insert lock, for a moment: inserters go on in the other half),
/// and its lines and `own` (the flusher's line, when it took the lock without waiting) are
/// written in one `write()` and at most one sync ([`write_batch`]). Whatever ERROR that meets
/// is caught, and every line of the half gets the outcome in its owner's slot; `own`'s is
/// returned.
fn flush(
    log: *mut SharedLog,
    buf: *mut LogBuffer,
    file: &mut FlushFile,
    staging: &mut Vec<u8>,
    own: Option<(&mut LineBuf, bool)>,
    sync: bool,
) -> Result<(), Box<CaughtError>> {
    // SAFETY: we hold the write lock: `taken`, and the half it names, are ours.
    let taken = unsafe { &mut (*buf).taken };
    if taken.in_flight {
        let abandoned = (
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "the backend writing this log line stopped before it could say whether the line \
             was written",
        );
        record(buf, taken.half, taken.len, Some(abandoned));
        taken.in_flight = false;
    }
    gather(buf, taken, sync);
    // SAFETY: an atomic, read without the insert lock: a line copied in after we read 0 is
    // its backend's to see written, once we release the write lock.
    let (half, len) = match unsafe { (*buf).used.load(Ordering::Relaxed) } {
        0 => (0, 0),
        _ => {
            // SAFETY: as in insert. Write lock, then insert lock: the one order.
            let _insert = unsafe { LwLockGuard::acquire((*buf).insert_lock, EXCLUSIVE) };
            // SAFETY: we hold the insert lock.
            let (fill, used) = unsafe { (&mut (*buf).fill, &(*buf).used) };
            let half = fill.current;
            // The other half is free: its lines got their outcomes before the write lock was
            // last released.
            fill.current = 1 - half;
            (half, used.swap(0, Ordering::Relaxed))
        }
    };
    // SAFETY: GetCurrentTimestamp only reads the clock.
    let started = unsafe { pg_sys::GetCurrentTimestamp() };
    (taken.last_lines, taken.last_usecs) = (0, 0);
    if len == 0 {
        // Only the flusher's own line, or nothing: no line of anybody else's to answer for, so
        // an ERROR is the flusher's alone, and raised as kept_open raises it.
        let Some(own) = own else { return Ok(()) };
        let (lines, synced) = write_batch(log, file, staging, &[], Some(own));
        taken.last_lines = lines;
        if synced {
            // SAFETY: as above.
            taken.last_usecs = (unsafe { pg_sys::GetCurrentTimestamp() } - started).max(0);
        }
        return Ok(());
    }
    (taken.in_flight, taken.half, taken.len) = (true, half, len);
    // SAFETY: the half is taken: no inserter writes it until a flusher makes it current
    // again, after we have released the write lock.
    let batch =
        unsafe { std::slice::from_raw_parts((&raw const (*buf).halves[half].0).cast::<u8>(), len) };
    // SAFETY: a backend's own counter. An ERROR raised inside PostgreSQL zeroes it before it
    // unwinds to the catch (errfinish); we still hold the write lock and interrupts, so it is
    // set back, as elog.c says a handler may do.
    let holdoff = unsafe { pg_sys::InterruptHoldoffCount };
    let written = PgTryBuilder::new(AssertUnwindSafe(|| {
        Ok(write_batch(log, file, staging, batch, own))
    }))
    .catch_others(|error| {
        // SAFETY: as above.
        unsafe { pg_sys::InterruptHoldoffCount = holdoff };
        Err(Box::new(error))
    })
    .execute();
    let failure = written.as_ref().err().map(|error| {
        let report = match &**error {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        };
        (report.sql_error_code(), report.message())
    });
    record(buf, half, len, failure);
    taken.in_flight = false;
    // SAFETY: as above.
    let took = unsafe { pg_sys::GetCurrentTimestamp() } - started;
    (taken.last_lines, taken.last_usecs) = match written {
        Ok((lines, true)) => (lines, took.max(0)),
        Ok((lines, false)) => (lines, 0),
        Err(_) => (0, 0),
    };
    if written.is_err() {
        file.kept = None; // closed: the next flush opens the file again
    }
    written.map(|_| ())
}

/// XLogFlush's `commit_delay`, chosen by itself: under the write lock, before the half is
/// taken, a flusher that syncs waits for lines to gather when others are logging (the last
/// batch carried more than one line, or lines are waiting): half as long as the last batch's
/// write and sync took, at most `GATHER_MAX_USECS`. The backends the last batch released are
/// logging their next lines meanwhile, and go into this batch instead of the next. Alone, or
/// without the sync, a flusher does not wait.
fn gather(buf: *mut LogBuffer, taken: &Taken, sync: bool) {
    if !sync || taken.last_usecs < 2 {
        return;
    }
    // SAFETY: `used` is an atomic, read without the insert lock.
    let waiting = unsafe { (*buf).used.load(Ordering::Relaxed) } > 0;
    if taken.last_lines > 1 || waiting {
        // SAFETY: pg_usleep only sleeps (a signal cuts it short).
        unsafe { pg_sys::pg_usleep((taken.last_usecs / 2).min(GATHER_MAX_USECS)) };
    }
}

/// Gives each line of `half[..len]` its outcome, in its owner's slot: written (`None`) or the
/// ERROR met. The owner may read it as soon as `done` holds its ticket.
fn record(buf: *mut LogBuffer, half: usize, len: usize, failure: Option<(PgSqlErrorCode, &str)>) {
    let mut at = 0;
    while at < len {
        // SAFETY: we hold the write lock, and the half holds whole entries up to `len`, each
        // naming a slot that exists (my_slot checked it).
        unsafe {
            let entry = (&raw const (*buf).halves[half].0).cast::<u8>().add(at);
            let header = entry.cast::<EntryHeader>().read();
            let slot = LogBuffer::slot(buf, header.slot as usize);
            match failure {
                None => (*slot).sqlerrcode = 0,
                Some((code, message)) => {
                    let mut n = message.len().min(SLOT_MESSAGE);
                    while !message.is_char_boundary(n) {
                        n -= 1;
                    }
                    (*slot).sqlerrcode = code as i32;
                    (*slot).len = n as u32;
                    (&mut (*slot).message)[..n].copy_from_slice(&message.as_bytes()[..n]);
                }
            }
            (*slot).done.store(header.ticket, Ordering::Release);
            at += entry_size(header.len as usize);
        }
    }
}

/// The flusher's work under the write lock, which may raise an ERROR: the file (reopened here
/// when the cache names another one: the batch must go somewhere), the cache compared with it
/// when due, then every line numbered, prefixed and put together, written and synced.
fn write_batch(
    log: *mut SharedLog,
    file: &mut FlushFile,
    staging: &mut Vec<u8>,
    batch: &[u8],
    own: Option<(&mut LineBuf, bool)>,
) -> (u64, bool) {
    // SAFETY: we hold the write lock exclusively.
    let shared = unsafe { &mut (*log).cache };
    // SAFETY: GetCurrentTimestamp only reads the clock.
    let now = unsafe { pg_sys::GetCurrentTimestamp() };
    let stale = |k: &KeptFile| shared.next_seq != 0 && (shared.dev, shared.ino) != (k.dev, k.ino);
    if file.kept.as_ref().is_none_or(|k| stale(k) && !file.fresh) {
        let path = match file.kept.take() {
            Some(k) => k.path.clone(), // closed here
            None => log_file_checked(),
        };
        // We gave back the descriptor we kept (or a failed flush did): there is room for one.
        let Some(reopened) = open_kept(path.clone(), now) else {
            let err = io::Error::from_raw_os_error(libc::EMFILE);
            file_error("open log file", &path, &err)
        };
        file.kept = Some(reopened);
        file.fresh = true;
    }
    let Some(kept) = file.kept.as_ref() else {
        unreachable!("a file is open here")
    };
    if file.due || file.fresh || shared.next_seq == 0 || stale(kept) {
        sync_cache(shared, &kept.file, &kept.path);
    }
    (file.due, file.fresh) = (false, false);

    if batch.is_empty() {
        let Some((line, sync)) = own else {
            return (0, false);
        };
        if let Err((action, err)) = append_line(shared, &kept.file, line, sync) {
            file_error(action, &kept.path, &err);
        }
        return (1, sync);
    }
    staging.clear();
    let (mut lines, mut sync) = (0, false);
    let mut at = 0;
    while at < batch.len() {
        // SAFETY: the batch holds whole entries, each a header at a multiple of 8.
        let header = unsafe { batch.as_ptr().add(at).cast::<EntryHeader>().read() };
        let message = &batch[at + HEADER..at + HEADER + header.len as usize];
        let mut prefix = [0u8; PREFIX_MAX];
        let n = format_prefix(&mut prefix, now, header.pid, shared.next_seq + lines);
        // Within the capacity reserved (STAGING_MAX): no allocation.
        staging.extend_from_slice(&prefix[..n]);
        staging.extend_from_slice(message);
        lines += 1;
        sync |= header.sync != 0;
        at += entry_size(header.len as usize);
    }
    if let Some((line, own_sync)) = own {
        line.set_prefix(now, shared.next_seq + lines);
        staging.extend_from_slice(line.bytes());
        lines += 1;
        sync |= own_sync;
    }
    if let Err((action, err)) = append_lines(shared, &kept.file, staging, lines, sync) {
        file_error(action, &kept.path, &err);
    }
    (lines, sync)
}
// ANCHOR_END: group_flush

// ANCHOR: xfunc_log_tail
/// `xfunc_log_tail(lines integer DEFAULT 10) RETURNS SETOF text`: the last `lines` lines of
/// the log file, oldest first, read under the shared lock so that no line is seen
/// half-written. No file yet: no rows. The C version fills a tuplestore
/// (`InitMaterializedSRF`); pgrx returns the rows of the iterator one per call. Each row is a
/// [`DbText`]: bytes in the database encoding, checked by `pg_verifymbstr` as in C.
#[pg_extern(volatile)]
pub fn xfunc_log_tail(lines: default!(i32, 10)) -> SetOfIterator<'static, DbText<'static>> {
    let log = SHARED_LOG.get();
    let path = log_file_checked();
    if !(0..=TAIL_MAX).contains(&lines) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("lines must be between 0 and {TAIL_MAX}")
        );
    }
    let text = {
        let Some((file, _guard, size)) = open_for_reading(log, &path) else {
            return SetOfIterator::empty();
        };
        // Only whole lines: end just after the last newline.
        let end = newline_before(&file, &path, size).map_or(0, |nl| nl + 1);
        let mut start = end;
        for _ in 0..lines {
            if start == 0 {
                break;
            }
            start = newline_before(&file, &path, start - 1).map_or(0, |nl| nl + 1);
        }
        if end - start >= MAX_ALLOC_SIZE as u64 {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "the last {lines} lines of log file \"{}\" are too long",
                    path.to_string_lossy()
                )
            );
        }
        let mut text = try_vec((end - start) as usize);
        text.resize(text.capacity(), 0);
        read_exactly_at(&file, &path, &mut text, start);
        text
    };

    // `text` is empty or ends with a newline. A file that is not ours may hold anything, a
    // NUL byte included: each line must be valid text in the server's encoding.
    let lines = match text.strip_suffix(b"\n") {
        None => Vec::new(),
        Some(body) => body.split(|&b| b == b'\n').collect(),
    };
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        // SAFETY: pg_verifymbstr reads `line.len()` bytes of `line` (less than MaxAllocSize,
        // checked above); with noError it returns false instead of raising an ERROR.
        let valid =
            unsafe { pg_sys::pg_verifymbstr(line.as_ptr().cast(), line.len() as i32, true) };
        if !valid {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
                format!(
                    "log file \"{}\" holds a line that is not valid text",
                    path.to_string_lossy()
                )
            );
        }
        let mut row = try_vec(line.len());
        row.extend_from_slice(line);
        rows.push(DbText::from_bytes(row));
    }
    SetOfIterator::new(rows)
}
// ANCHOR_END: xfunc_log_tail

// ANCHOR: xfunc_log_lines
/// Exercise of chapter 13: `xfunc_log_lines() RETURNS bigint`, how many lines the log file
/// holds. Since the numbering counts the lines, that is the sequence number of its last
/// complete line: 0 when the file is empty or does not exist, XX001 when that line is not
/// ours. The cache in shared memory cannot answer (it is empty after a restart and knows
/// nothing of another file); the file can.
///
/// It only reads, yet it holds the lock in shared mode, as `xfunc_log_tail` does: a writer
/// may cut the file short (a failed write, a torn line removed by the recovery) between our
/// `fstat` and our read. It reads the last line as the recovery does (`last_line_seq`).
#[pg_extern(volatile)]
pub fn xfunc_log_lines() -> i64 {
    let log = SHARED_LOG.get();
    let path = log_file_checked();
    let Some((file, _guard, size)) = open_for_reading(log, &path) else {
        return 0;
    };
    if size == 0 {
        return 0;
    }
    let (_, seq) = last_line_seq(&file, &path, size);
    i64::try_from(seq).unwrap_or_else(|_| no_sequence_number(&path))
}
// ANCHOR_END: xfunc_log_lines

// ANCHOR: grants
// Writing a file on the server is what pg_write_server_files may do; reading, what
// pg_read_server_files may do. Superusers may do both.
pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION xfunc_log(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log(text) TO pg_write_server_files;
REVOKE EXECUTE ON FUNCTION xfunc_log_tail(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log_tail(integer) TO pg_read_server_files;
REVOKE EXECUTE ON FUNCTION xfunc_log_lines() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log_lines() TO pg_read_server_files;
"#,
    name = "shared_log_grants",
    requires = [xfunc_log, xfunc_log_tail, xfunc_log_lines]
);
// ANCHOR_END: grants

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    // The pgrx test cluster does not preload xfunc: the functions must refuse, not crash.
    #[pg_test]
    fn shared_log_without_preload_is_55000() {
        for query in [
            "SELECT xfunc_log('hello')",
            "SELECT * FROM xfunc_log_tail(3)",
            "SELECT xfunc_log_lines()",
        ] {
            assert_eq!(
                crate::testing::sqlstate_of(query),
                Some("55000".into()),
                "{query}"
            );
        }
    }

    #[pg_test(error = "xfunc must be loaded via shared_preload_libraries")]
    fn shared_log_without_preload_message() {
        Spi::run("SELECT xfunc_log('hello')").unwrap();
    }

    #[pg_test]
    fn log_file_setting_exists_without_preload() {
        // The setting is defined in every process that loads the library.
        assert_eq!(
            Spi::get_one::<String>("SELECT current_setting('xfunc.log_file')"),
            Ok(Some("xfunc.log".into()))
        );
    }
}

//! Synchronizing between backends (chapter 13): one log file, many backends.
//!
//! `xfunc_log(message)` appends one line to the file named by the setting `xfunc.log_file`:
//!
//! ```text
//! <UTC timestamp> <pid> <sequence number> <message, escaped>\n
//! ```
//!
//! What lives in shared memory: one [`SharedLog`], named "xfunc shared log" in the shared
//! memory index, guarded by the only lock of the LWLock tranche "xfunc_log". It caches what the
//! next writer needs to know about the file: which file it is (device and inode), how long it
//! was after the last line we wrote, and the sequence number of the next line. The file is the
//! truth; the struct is a cache of it.
//!
//! Locking: a writer holds the lock `LW_EXCLUSIVE` from before it looks at the file until its
//! line is written: checking the cache, numbering the line and writing it are one locked section
//! (no START_CRIT_SECTION: an ERROR stays an ERROR), so lines never interleave, the file is in
//! sequence-number order, and a line's number is the number of lines before it plus one.
//! `xfunc_log_tail` and `xfunc_log_lines` hold it `LW_SHARED` while they read, so they never see
//! half a line nor a file a writer is cutting short. Nothing else is locked while it is held.
//!
//! Errors: every way out of the locked section, an `ereport!(ERROR)` included, drops the
//! [`LwLockGuard`] (releasing the lock) and the [`File`] (closing it). On success, the writer
//! releases the lock and then closes the file itself, to report a failed `close()` as the C
//! twin does. A write that fails part-way is cut off again with `set_len` (ftruncate) before
//! the ERROR, and the sequence number is not advanced: the file holds only whole lines, and a
//! line that was not written leaves no gap.
//!
//! Crash and restart: shared memory is created anew, the cache is empty (`next_seq == 0`), and
//! the first writer reads the last line of the file to continue its numbering. Because the
//! number always continues from the file, a gap in the sequence proves a lost line, even across
//! a crash. A last line without its newline (a write cut short by a power failure) is removed
//! when the numbering is recovered, with a LOG message, if the line before it is ours; a file
//! whose last complete line is not ours is never changed.
//!
//! Encodings: a message is logged as the bytes of its characters in the database encoding,
//! and `xfunc_log_tail` returns lines as such bytes, checked with `pg_verifymbstr`. pgrx's
//! `&str` and `String` are UTF-8 only, so the `text` values here are [`DbText`].
//!
//! The C twin is `c/shared_log.c`.

use crate::pg_support::file::{file_error, ExternalFile};
use crate::pg_support::{try_vec, DbText, LwLockGuard, ShmemStruct, MAX_ALLOC_SIZE};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString, OsStr};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::ptr;

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
/// The setting `xfunc.log_design`: how `xfunc_log` gets at the file. Both designs keep the
/// shared cache true to the file, so backends using different designs may log at once.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogDesign {
    /// The book's first design: open the file, lock, append one line, unlock, close.
    #[name = c"open_per_line"]
    OpenPerLine,
    /// Each backend keeps its file open, and checks it is still the right one (see
    /// `xfunc_log_kept_open`).
    #[name = c"kept_open"]
    KeptOpen,
}

static LOG_DESIGN: GucSetting<LogDesign> = GucSetting::<LogDesign>::new(LogDesign::KeptOpen);
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
        c"How xfunc_log() writes: open_per_line or kept_open.",
        c"open_per_line opens and closes the file for every line; kept_open keeps it open in \
          each backend. Both take the lock for every line.",
        &LOG_DESIGN,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: _PG_init runs in one thread of one process, after the settings are defined.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"xfunc".as_ptr()) };
    SHARED_LOG.request();
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

    /// Puts "2026-11-21T17:30:00.123456Z 4242 17 " in front of the message.
    fn set_prefix(&mut self, now: pg_sys::TimestampTz, seq: u64) {
        let mut prefix = [0u8; PREFIX_MAX];
        let len = format_prefix(&mut prefix, now, seq);
        self.start = PREFIX_MAX - len;
        self.buf[self.start..PREFIX_MAX].copy_from_slice(&prefix[..len]);
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
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
fn format_prefix(out: &mut [u8; PREFIX_MAX], now: pg_sys::TimestampTz, seq: u64) -> usize {
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
        // SAFETY: set once when the process starts, never written afterwards.
        p += put_decimal(
            &mut out[p..],
            u64::from(unsafe { pg_sys::MyProcPid }.unsigned_abs()),
        );
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
/// `xfunc.log_design` says how the file is reached; the locked section is the same.
#[pg_extern(volatile)]
pub fn xfunc_log(message: DbText<'_>) {
    let log = SHARED_LOG.get();
    let line = LineBuf::new(message.as_bytes());
    match LOG_DESIGN.get() {
        LogDesign::OpenPerLine => append_open_per_line(log, line),
        LogDesign::KeptOpen => append_kept_open(log, line),
    }
}

/// The book's first design. Everything that can be done before taking the lock is: the path
/// check, escaping the message, opening the file. Under the lock: compare the cache with the
/// file, number the line, format it, write it whole, advance the cache. Then release the lock
/// and close the file. The C version opens the file with `OpenTransientFile` so that an ERROR
/// closes it; here `Drop` closes it on the way out of an ERROR, and `close` on success, to
/// check it.
fn append_open_per_line(log: *mut SharedLog, mut line: LineBuf) {
    let path = log_file_checked();
    let file = ExternalFile::open(&append_options(), &path)
        .unwrap_or_else(|err| file_error("open log file", &path, &err));
    let guard = lock(log, pg_sys::LWLockMode::LW_EXCLUSIVE);
    // SAFETY: from here to `drop(guard)` we hold the lock exclusively: no other process reads
    // or writes the cache. (Others may read `lock`, which is not borrowed.)
    let shared = unsafe { &mut (*log).cache };
    sync_cache(shared, &file, &path);
    if let Err(err) = append_line(shared, &file, &mut line) {
        file_error("write to log file", &path, &err);
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
/// the time, writes the line whole and advances the cache. A write that fails part-way is cut
/// off again (nobody appends meanwhile) and the number is not used: the caller raises the
/// ERROR.
fn append_line(shared: &mut LogCache, file: &File, line: &mut LineBuf) -> io::Result<()> {
    let seq = shared.next_seq;
    // SAFETY: GetCurrentTimestamp only reads the clock.
    line.set_prefix(unsafe { pg_sys::GetCurrentTimestamp() }, seq);
    // write_all calls write() again after a short write and after EINTR.
    if let Err(err) = (&*file).write_all(line.bytes()) {
        if file.set_len(shared.size).is_err() {
            shared.next_seq = 0; // could not: let the next writer look at the file
        }
        return Err(err);
    }
    shared.next_seq = seq + 1;
    shared.size += line.bytes().len() as u64;
    Ok(())
}
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

/// The faster design: one `write()` per line, and no other system call, while the file stays
/// what it was. Before the lock: the kept file is reopened when the setting names another
/// file, and every `RECHECK_USECS` the path is checked (the rules, and `stat`: is it still
/// our file?). Under the lock: when the cache describes another file, ours has been replaced
/// (another backend found out first): reopen. At a check, or with a file just opened, the
/// cache is compared with `fstat`, as the first design does for every line. Then the same
/// locked section. An ERROR anywhere closes the kept file: the next line opens it again.
fn append_kept_open(log: *mut SharedLog, mut line: LineBuf) {
    // Taken out, and put back only after a line went in: an ERROR drops (closes) it.
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
                let Some(opened) = ExternalFile::open_kept(&append_options(), &path) else {
                    return append_open_per_line(log, line); // may keep no more files open
                };
                let file = opened.unwrap_or_else(|err| file_error("open log file", &path, &err));
                let meta = metadata(&file, &path);
                kept = Some(KeptFile {
                    file,
                    path,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    checked_at: now,
                });
                fresh = true;
            }
        }
    }
    let Some(k) = kept.as_ref() else {
        unreachable!("a kept file is open here")
    };

    let guard = lock(log, pg_sys::LWLockMode::LW_EXCLUSIVE);
    // SAFETY: we hold the lock exclusively until `drop(guard)`.
    let shared = unsafe { &mut (*log).cache };
    if shared.next_seq != 0 && (shared.dev, shared.ino) != (k.dev, k.ino) && !fresh {
        // Another backend logs to another file: the path names a new one. Start again with
        // no kept file (once: a file just opened is never "not fresh").
        drop(guard);
        drop(kept);
        return append_kept_open(log, line);
    }
    if due || shared.next_seq == 0 || (shared.dev, shared.ino) != (k.dev, k.ino) {
        sync_cache(shared, &k.file, &k.path);
    }
    if let Err(err) = append_line(shared, &k.file, &mut line) {
        drop(guard);
        let path = k.path.clone();
        drop(kept); // closed: the next line opens the file again
        file_error("write to log file", &path, &err);
    }
    drop(guard);
    KEPT.with(|slot| *slot.borrow_mut() = kept);
}

/// Whether `path` names the file `kept` has open (`stat`, without the lock).
fn names_file(path: &CStr, kept: &KeptFile) -> bool {
    std::fs::metadata(OsStr::from_bytes(path.to_bytes()))
        .is_ok_and(|meta| meta.dev() == kept.dev && meta.ino() == kept.ino)
}
// ANCHOR_END: kept_open

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

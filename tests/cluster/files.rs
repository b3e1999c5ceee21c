//! The shared log's file when the file system says no (chapter 13): writes and reads that
//! fail (`failures`), and a kept file renamed away or deleted under a session (`rotate`).

use crate::harness::{mode, outcome, within, Check, Run};
use std::fs;
use std::path::Path;
use std::time::Duration;
use xfunc_test_support::log_file::Expect;

// ANCHOR: failures
/// Writes that fail: the ERROR carries the errno's SQLSTATE, the lock is free afterwards (the
/// next call in the same session and in another does not hang), and the file stays whole.
pub fn failures(r: &Run) -> Check {
    let (ext, db, file) = (
        r.ext,
        r.db(),
        format!("shmem_failures_{}_{}.log", r.ext, r.label),
    );
    disk_full(r)?;
    r.fresh_log_file(&file)?;
    r.sql(&db, &["SELECT xfunc_log('first')"])?;
    // Permission denied: the server's user may not open the file.
    r.as_server(&["chmod", "000", &r.data_path(&file)])?;
    r.expect_error(
        &db,
        "SELECT xfunc_log('refused')",
        &format!("42501: could not open log file \"{file}\": Permission denied"),
    )?;
    r.as_server(&["chmod", "600", &r.data_path(&file)])?;
    r.sql(&db, &["SELECT xfunc_log('second')"])?;
    r.check_log(&file, Expect::lines(2))?;
    // The file removed: the next call makes a new one, whose numbering starts again at 1.
    r.as_server(&["rm", &r.data_path(&file)])?;
    r.sql(&db, &["SELECT xfunc_log('in a new file')"])?;
    r.check_log(&file, Expect::lines(1))?;
    r.ok(format!(
        "{ext}: a removed file is created again, numbered from 1"
    ));
    // A message whose escaped line would not fit in 1 GB (MaxAllocSize): the same ERROR from
    // both builds, before anything is written: 2^28 control characters, 4 bytes each escaped.
    r.expect_error(
        &db,
        "SELECT xfunc_log(repeat(chr(1), 268435456))",
        "54000: message is too long to log",
    )?;
    r.check_log(&file, Expect::lines(1))?;
    // Created with the mode of the server's own files (0600, or 0640 with group access).
    let (mode, server_mode) = (
        mode(&r.pgdata.join(&file))?,
        mode(&r.pgdata.join("PG_VERSION"))?,
    );
    if mode != server_mode {
        fail!("the file's mode is {mode:o}, the server's files' {server_mode:o}");
    }
    r.ok(format!(
        "{ext}: a new file has mode {mode:o}, as the server's own files"
    ));
    short_read(r)
}

/// Disk full: a symbolic link in the data directory to /dev/full. Two calls in one session
/// fail with 53100, and the next call in that session takes the shared lock.
fn disk_full(r: &Run) -> Check {
    let full = format!("shmem_full_{}.log", r.ext);
    r.as_server(&["ln", "-sfn", "/dev/full", &r.data_path(&full)])?;
    r.set_log_file(&full)?;
    let mut session = r.connect(&r.db())?;
    let said = within(Duration::from_secs(60), move || {
        let one = outcome(&mut session, "SELECT xfunc_log('one')");
        let two = outcome(&mut session, "SELECT xfunc_log('two')");
        let tail = outcome(&mut session, "SELECT count(*) FROM xfunc_log_tail(5)");
        [one, two, tail]
    })
    .ok_or("disk full: the session hung")?;
    let enospc = format!("53100: could not write to log file \"{full}\": No space left on device");
    let refused = said
        .iter()
        .filter(|s| matches!(s, Err(e) if e.starts_with(&enospc)));
    if refused.count() != 2 {
        fail!("disk full: {said:?}");
    }
    let tail = said[2]
        .clone()
        .map_err(|e| format!("disk full: the tail: {e}"))?;
    r.ok(format!(
        "{}: disk full -> 53100, twice in one session, then the shared lock: {tail} rows",
        r.ext
    ));
    r.as_server(&["rm", "-f", &r.data_path(&full)])
}

/// A short read: a sysfs file says it holds 4096 bytes and gives a few. Both builds take it
/// for a file cut short under them: EIO. Skipped where no such file is.
fn short_read(r: &Run) -> Check {
    let short = Path::new("/sys/devices/system/cpu/online");
    let sysfs_size = fs::metadata(short).map(|m| m.len()).ok();
    let read = fs::read(short).map(|b| b.len()).unwrap_or(usize::MAX);
    if sysfs_size != Some(4096) || read >= 4096 {
        println!(
            "cluster: SKIPPED {}: short read ({} is not a 4096-byte sysfs file)",
            r.ext,
            short.display()
        );
        return Ok(());
    }
    let link = format!("shmem_short_{}.log", r.ext);
    let target = short.display().to_string();
    r.as_server(&["ln", "-sfn", &target, &r.data_path(&link)])?;
    r.set_log_file(&link)?;
    for query in [
        "SELECT * FROM xfunc_log_tail(1)",
        "SELECT xfunc_log_lines()",
    ] {
        r.expect_error(
            &r.db(),
            query,
            &format!("58030: could not read log file \"{link}\": Input/output error"),
        )?;
    }
    r.as_server(&["rm", "-f", &r.data_path(&link)])
}
// ANCHOR_END: failures

// ANCHOR: rotate
/// kept_open: one session keeps its file open. The file is renamed away (log rotation) or
/// deleted; after RECHECK (100 ms) the same session logs into a new file, numbered from 1.
pub fn rotate(r: &Run) -> Check {
    let (ext, db, file) = (r.ext, r.db(), format!("shmem_rotate_{}.log", r.ext));
    let (path, rotated) = (r.pgdata.join(&file), r.pgdata.join(format!("{file}.1")));
    r.fresh_log_file(&file)?;
    r.as_server(&["rm", "-f", &rotated.display().to_string()])?;
    let mut session = r.connect(&db)?;
    let mut log = |sql: &str| {
        session
            .batch_execute(sql)
            .map_err(|e| xfunc_test_support::sqlstate(&e))
    };
    log("SELECT xfunc_log('one')")?;
    log("SELECT xfunc_log('two')")?;
    fs::rename(&path, &rotated).map_err(|e| format!("mv {}: {e}", path.display()))?;
    log("SELECT pg_sleep(0.2)")?;
    log("SELECT xfunc_log('three, in a new file')")?;
    fs::remove_file(&path).map_err(|e| format!("rm {}: {e}", path.display()))?;
    log("SELECT pg_sleep(0.2)")?;
    log("SELECT xfunc_log('four, in another new file')")?;
    log("SELECT xfunc_log('five')")?;
    r.check_log(&format!("{file}.1"), Expect::lines(2))?;
    r.check_log(&file, Expect::lines(2))?;
    let now = fs::read_to_string(&path).map_err(|e| e.to_string())?;
    if !now
        .lines()
        .any(|l| l.ends_with(" 1 four, in another new file"))
    {
        fail!("{now}");
    }
    r.ok(format!(
        "{ext}: a kept file renamed away, then deleted: the same session went on in a new file"
    ));
    r.as_server(&["rm", "-f", &rotated.display().to_string()])
}
// ANCHOR_END: rotate

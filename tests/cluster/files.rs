//! The shared log's file when the file system says no (chapter 13): writes and reads that
//! fail (`failures`), a failed write or sync reported to the calls whose lines it carried
//! (`carried`), and a kept file renamed away or deleted under a session (`rotate`).

use crate::harness::{log_at_once, mode, outcome, session_lines, within, Check, Run};
use std::collections::BTreeSet;
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

/// Rounds of the case `carried`, at most, in group_commit with sync on.
const CARRIED_ROUNDS: usize = 10;

// ANCHOR: carried
/// A failed write is reported to every call whose line it carried, and to no other. CLIENTS/2
/// sessions log numbered lines at once; `prlimit` forbids one of them (the backend of session
/// 0) to write past the first byte of a file (RLIMIT_FSIZE: its writes fail with EFBIG, "File
/// too large"; PostgreSQL ignores SIGXFSZ). Afterwards the file holds exactly the lines of the
/// calls that returned, each session's in its order, and every call that failed was told "File
/// too large". In open_per_line and kept_open each call writes its own line: only session 0's
/// calls failed, all of them. In group_commit a flusher writes everyone's lines: with sync on,
/// calls of other sessions failed too (their lines were in session 0's batches), and some of
/// session 0's returned (their lines were in another's): the sessions log in rounds, each with
/// new sessions, until both have been seen. Then a sync that fails (`failed_sync`).
pub fn carried(r: &Run) -> Check {
    let (ext, db) = (r.ext, r.db());
    let file = format!("shmem_carried_{ext}_{}.log", r.label);
    let (sessions, calls) = ((r.clients / 2).max(2), (r.calls() / 20).max(20));
    r.fresh_log_file(&file)?;
    r.sql(&db, &["SELECT xfunc_log('before the limit')"])?;
    let too_large = format!("XX000: could not write to log file \"{file}\": File too large");
    // In group_commit with sync on, which lines share a batch is up to the scheduler: rounds
    // with new sessions until one shows a line carried each way (at most CARRIED_ROUNDS).
    let carrying = r.design == Some("group_commit") && r.sync;
    let (mut failed_in, mut session0_ok, mut ok_calls, mut made) = (BTreeSet::new(), 0, 0, 0);
    for round in 1..=CARRIED_ROUNDS {
        let tag = format!("carried{round}");
        let mut clients = (0..sessions)
            .map(|_| r.connect(&db))
            .collect::<Check<Vec<_>>>()?;
        let pid = outcome(&mut clients[0], "SELECT pg_backend_pid()")?;
        r.as_server(&["prlimit", "--pid", &pid, "--fsize=1:1"])?; // as the same user: no privilege needed
        let said = log_at_once(clients, &tag, calls);
        // The limited backend ends with its session: no later case meets the limit.

        let lines = session_lines(&r.pgdata.join(&file), &tag)?;
        for (i, calls_said) in said.iter().enumerate() {
            let returned: Vec<usize> = (0..calls).filter(|&j| calls_said[j].is_ok()).collect();
            if lines.get(&i).cloned().unwrap_or_default() != returned {
                fail!("round {round}, session {i}: the file's lines are not those of the calls that returned ({} of {calls})", returned.len());
            }
            for error in calls_said.iter().filter_map(|r| r.as_ref().err()) {
                if *error != too_large {
                    fail!("round {round}, session {i}: {error}");
                }
                failed_in.insert(i);
            }
        }
        ok_calls += said.iter().flatten().filter(|r| r.is_ok()).count();
        session0_ok += said[0].iter().filter(|r| r.is_ok()).count();
        made += sessions * calls;
        let carried = failed_in.iter().any(|&i| i != 0) && session0_ok > 0;
        if !carrying || carried {
            break;
        }
    }
    r.check_log(&file, Expect::lines(1 + ok_calls))?;
    let failed = made - ok_calls;
    if r.design == Some("group_commit") {
        // Only with sync on do lines surely wait for each other: a batch takes a disk flush,
        // and meanwhile the other sessions' lines gather for the next one. Without sync a
        // write takes microseconds, and most lines find the write lock free.
        if r.sync && (failed_in.iter().all(|&i| i == 0) || session0_ok == 0) {
            fail!(
                "no line carried across sessions in {CARRIED_ROUNDS} rounds: failures in sessions {failed_in:?}, {session0_ok} of session 0's calls returned"
            );
        }
    } else if failed_in != BTreeSet::from([0]) || session0_ok != 0 {
        fail!("failures in sessions {failed_in:?}, {session0_ok} of session 0's calls returned");
    }
    r.ok(format!(
        "{ext}: {sessions} sessions x {calls} calls a round, {} round(s), one session limited to 1 byte: \
         {failed} calls told \"File too large\" (in sessions {failed_in:?}), the file holds the lines of the other {ok_calls}, in order",
        made / (sessions * calls)
    ));
    failed_sync(r, sessions, calls)
}

/// A sync that fails: a link to /dev/null, whose writes succeed and whose fdatasync fails
/// (EINVAL). `sessions` sessions make `calls`/4 calls each: with sync on, every call is told;
/// with sync off, none is.
fn failed_sync(r: &Run, sessions: usize, calls: usize) -> Check {
    let (ext, db) = (r.ext, r.db());
    let null = format!("shmem_null_{ext}_{}.log", r.label);
    r.as_server(&["ln", "-sfn", "/dev/null", &r.data_path(&null)])?;
    r.set_log_file(&null)?;
    let clients = (0..sessions)
        .map(|_| r.connect(&db))
        .collect::<Check<Vec<_>>>()?;
    let said = log_at_once(clients, "null", calls / 4);
    let invalid = format!("XX000: could not fdatasync log file \"{null}\": Invalid argument");
    let (told, returned): (Vec<_>, Vec<_>) = said.iter().flatten().partition(|r| r.is_err());
    let wrong: Vec<_> = told
        .iter()
        .filter(|r| **r != &Err(invalid.clone()))
        .collect();
    match (r.sync, told.len(), returned.len()) {
        (_, _, _) if !wrong.is_empty() => fail!("/dev/null: {:?}", wrong[0]),
        (true, _, 0) | (false, 0, _) => {}
        _ => fail!(
            "/dev/null: {} calls failed, {} returned",
            told.len(),
            returned.len()
        ),
    }
    r.ok(format!(
        "{ext}: a link to /dev/null: {} of {} calls told \"Invalid argument\" by fdatasync",
        told.len(),
        told.len() + returned.len()
    ));
    r.as_server(&["rm", "-f", &r.data_path(&null)])
}

// ANCHOR_END: carried

// ANCHOR: rotate
/// kept_open and group_commit: one session keeps its file open. The file is renamed away (log
/// rotation) or deleted; after RECHECK (100 ms) the same session logs into a new file,
/// numbered from 1.
pub fn rotate(r: &Run) -> Check {
    let (ext, db, file) = (
        r.ext,
        r.db(),
        format!("shmem_rotate_{}_{}.log", r.ext, r.label),
    );
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

//! The tests of chapters 12 and 13 that a regress file cannot make: many backends at once, a
//! backend killed with SIGKILL, failing writes, syncs and reads, a write failure carried by a
//! batch, calls cancelled and terminated while they wait, a database that is not UTF-8, every
//! log design on one file, a kept file rotated away, and a cluster that does not preload the
//! libraries. Each runs against both builds, xfunc (Rust) and xfunc_c (C).
//!
//!   cargo test --test cluster [-- CASE...]      (just cluster-tests [CASE...])
//!
//! CASE is a name of `CASES` below (concurrency, crash, failures, carried, cancel, encoding,
//! mixed, rotate, no-preload) or `all`, the default; the cases run in the order given, one after
//! the other. Most run once per log design (DESIGNS, default all three: open_per_line kept_open
//! group_commit) and sync setting (SYNCS, default both: off on), set for every session and every
//! pgbench run with `-c xfunc.log_design=... -c xfunc.log_sync=...` and the same for xfunc_c
//! (PGOPTIONS); the files they write carry the design's name, and `_sync` with sync on.
//! Environment: CLIENTS (pgbench clients, 16), CALLS (calls per client, 10000), CALLS_SYNC
//! (calls per client with sync on, where every line waits for the disk: 200), DESIGNS, SYNCS.
//!
//! Expects the cluster to be running with both extensions installed (`just install`). Changes
//! xfunc.log_file and xfunc_c.log_file with ALTER SYSTEM while it runs and resets them at the
//! end; the crash case restarts every backend of the cluster, so run nothing else meanwhile.
//! At the end, whatever the cases said, the server log must show no server process that died
//! by a signal, but those the crash case killed.
//!
//! Prints one `ok` line per check. Not a `cargo test` default target (Cargo.toml: `test =
//! false`, and `harness = false`: this `main` runs the cases in order and reads the names).

mod support;

use postgres::types::{FromSql, Type};
use postgres::{Client, SimpleQueryMessage};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A check's outcome: what went wrong, in one message.
type Check<T = ()> = Result<T, String>;

macro_rules! fail {
    ($($arg:tt)*) => { return Err(format!($($arg)*)) };
}

const EXTS: [&str; 2] = ["xfunc", "xfunc_c"];

// --- the cases --------------------------------------------------------------------------------

/// Which builds, designs and sync settings a case runs for.
#[derive(Clone, Copy)]
enum Runs {
    /// For each log design (DESIGNS) and sync setting (SYNCS), for each build.
    EachDesign,
    /// The same, for those of the designs given that DESIGNS names.
    Designs(&'static [&'static str]),
    /// For each sync setting, for each build, each session in the design the case gives it;
    /// the files named with a label (and `_sync`).
    EachSync(&'static str),
    /// Once, for both builds, the label given.
    Once(&'static str),
}

struct Case {
    name: &'static str,
    runs: Runs,
    /// One run, for one build (`""` for a case that runs once).
    run: fn(&mut Harness, &'static str) -> Check,
    /// Run after both builds, once per design.
    after: Option<fn(&mut Harness) -> Check>,
}

// ANCHOR: cases
/// Every case, in the order `all` runs them. A new case is one more line here and its function.
const CASES: &[Case] = &[
    case("concurrency", Runs::EachDesign, concurrency),
    case("crash", Runs::EachDesign, crash),
    case("failures", Runs::EachDesign, failures),
    case("carried", Runs::EachDesign, carried),
    case("cancel", Runs::EachDesign, cancel),
    Case {
        after: Some(encoding_same_bytes),
        ..case("encoding", Runs::EachDesign, encoding)
    },
    case("mixed", Runs::EachSync("mixed"), mixed),
    case(
        "rotate",
        Runs::Designs(&["kept_open", "group_commit"]),
        rotate,
    ),
    case("no-preload", Runs::Once("no_preload"), no_preload),
];

/// The log designs, as DESIGNS names them.
const DESIGNS: [&str; 3] = ["open_per_line", "kept_open", "group_commit"];
// ANCHOR_END: cases

const fn case(
    name: &'static str,
    runs: Runs,
    run: fn(&mut Harness, &'static str) -> Check,
) -> Case {
    Case {
        name,
        runs,
        run,
        after: None,
    }
}

// ANCHOR: pgbench_script
/// Each transaction logs one line whose message has a tab and a newline to escape.
const PGBENCH_SCRIPT: &str = r"SELECT xfunc_log(E'pgbench client :client_id: a tab\there, a newline\nthere');
";
// ANCHOR_END: pgbench_script

/// Meanwhile, in a session of its own: which LWLocks the pgbench clients wait on, sampled every
/// 10 ms until they are gone.
const WAIT_SAMPLER: [&str; 3] = [
    "CREATE TEMP TABLE samples (wait_event text)",
    "DO $$
     BEGIN
       FOR i IN 1..6000 LOOP
         PERFORM pg_stat_clear_snapshot();
         INSERT INTO samples SELECT wait_event FROM pg_stat_activity
          WHERE application_name = 'pgbench' AND wait_event_type = 'LWLock';
         EXIT WHEN i > 100 AND NOT EXISTS
           (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgbench');
         PERFORM pg_sleep(0.01);
       END LOOP;
     END $$",
    "SELECT wait_event || ' ' || count(*) FROM samples GROUP BY wait_event ORDER BY count(*) DESC",
];

// ANCHOR: concurrency
/// CLIENTS backends x CALLS calls: exactly CLIENTS*CALLS lines, numbered 1.. in file order,
/// CALLS from each client. Meanwhile a sampler counts the LWLock wait events of the clients.
fn concurrency(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (
        db_of(ext),
        format!("shmem_concurrency_{ext}_{}.log", h.label),
    );
    let (clients, calls) = (h.clients, h.calls());
    h.fresh_log_file(ext, &file)?;
    let script = h.work_file("xfunc_log.sql", PGBENCH_SCRIPT)?;
    let mut sampler = h.connect(&db)?;
    let sampler = std::thread::spawn(move || -> Check<Vec<String>> {
        let (setup, sample, report) = (WAIT_SAMPLER[0], WAIT_SAMPLER[1], WAIT_SAMPLER[2]);
        sampler
            .batch_execute(setup)
            .map_err(|e| support::sqlstate(&e))?;
        sampler
            .batch_execute(sample)
            .map_err(|e| support::sqlstate(&e))?;
        rows(&mut sampler, report)
    });
    let out = h.pgbench(
        &[
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-t",
            &calls.to_string(),
        ],
        &script,
        &db,
        &format!("pgbench_{ext}.txt"),
    )?;
    let waits = sampler.join().map_err(|_| "the sampler panicked")??;
    h.ok(format!(
        "{ext}: pgbench {clients} clients x {calls} calls, {}",
        tps(&out)
    ));
    h.check_log(
        &file,
        Expect {
            lines: Some(clients * calls),
            clients: Some((clients, calls)),
            ..Expect::default()
        },
    )?;
    let tranche = format!("{ext}_log");
    if !waits.iter().any(|w| w.starts_with(&format!("{tranche} "))) {
        fail!(
            "no backend seen waiting on LWLock {tranche}: {}",
            waits.join(",")
        );
    }
    h.ok(format!(
        "{ext}: wait events sampled (LWLock): {}",
        waits.join(",")
    ));
    // One client alone, for the cost of the lock (no waiting at all).
    let out = h.pgbench(
        &["-c", "1", "-t", &calls.to_string()],
        &script,
        &db,
        &format!("pgbench1_{ext}.txt"),
    )?;
    h.ok(format!(
        "{ext}: pgbench 1 client x {calls} calls, {}",
        tps(&out)
    ));
    if !h.first_run() {
        return Ok(()); // the counters do not depend on the log's design: once is enough
    }
    // The chapter 12 counter under the same load: no update lost.
    let script = h.work_file("counter.sql", "SELECT shared_counter_add(1);\n")?;
    h.sql(&db, &["SELECT shared_counter_reset()"])?;
    let each = ["-c", &clients.to_string(), "-j", "2", "-t", "1000"];
    h.pgbench(&each, &script, &db, "pgbench_counter.txt")?;
    let counted = h.value(&db, "SELECT value || ' ' || updates FROM shared_counter()")?;
    if counted != format!("{0} {0}", clients * 1000) {
        fail!("counter {counted}");
    }
    h.ok(format!(
        "{ext}: shared_counter after {clients} clients x 1000 adds: value updates = {counted}"
    ));
    // The contention benchmark's other counters: atomic, spinlock (and in Rust, pgrx's PgLwLock).
    let mut functions = vec!["shared_counter_bump_atomic", "shared_counter_bump_spinlock"];
    if ext == "xfunc" {
        functions.extend(["rust_counter_add_pglwlock", "rust_counter_add_by_hand"]);
    }
    for f in &functions {
        let call = if f.starts_with("rust_") {
            format!("{f}(1)")
        } else {
            format!("{f}()")
        };
        let script = h.work_file(&format!("counter_{f}.sql"), &format!("SELECT {call};\n"))?;
        h.sql(&db, &["SELECT shared_counter_reset()"])?;
        h.pgbench(&each, &script, &db, &format!("pgbench_counter_{f}.txt"))?;
        let counted = h.value(&db, &format!("SELECT {call}"))?;
        if counted != (clients * 1000 + 1).to_string() {
            fail!("{f} counted {counted}");
        }
    }
    h.ok(format!(
        "{ext}: {}: {clients} clients x 1000 calls, none lost",
        functions.join(" ")
    ));
    Ok(())
}
// ANCHOR_END: concurrency

// ANCHOR: crash
/// kill -9 one backend while CLIENTS others log. The postmaster ends every backend, creates
/// shared memory anew (the chapter 12 counter is 0 again), and logging goes on; the file holds
/// only whole lines, numbered without a gap across the crash, and every call pgbench counted
/// as done has its line.
fn crash(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_crash_{ext}_{}.log", h.label));
    h.fresh_log_file(ext, &file)?;
    let script = h.work_file("xfunc_log.sql", PGBENCH_SCRIPT)?;
    h.sql(
        &db,
        &[
            "SELECT shared_counter_reset()",
            "SELECT shared_counter_add(42)",
        ],
    )?;
    let mark = h.log_mark();
    let output = h.work.join(format!("pgbench_crash_{ext}.txt"));
    let clients = h.clients.to_string();
    let mut bench = h.pgbench_command(&["-c", &clients, "-j", "2", "-T", "60"], &script, &db);
    let out = File::create(&output).map_err(|e| format!("{}: {e}", output.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut bench = bench
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("pgbench: {e}"))?;
    let victim_query = format!(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = '{db}'
          ORDER BY random() LIMIT 1"
    );
    let mut victim = String::new();
    // Killed once the clients have logged half as many lines as each would in the other cases.
    let enough = h.calls() / 2;
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        victim = h.value("postgres", &victim_query)?;
        if !victim.is_empty() && count_lines(&h.pgdata.join(&file)) > enough {
            break;
        }
    }
    if victim.is_empty() {
        let _ = bench.kill();
        fail!("no pgbench backend to kill");
    }
    let mut kills = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&h.expected_kills)
        .map_err(|e| format!("{}: {e}", h.expected_kills.display()))?;
    writeln!(kills, "{victim}").map_err(|e| e.to_string())?;
    run(Command::new("kill").args(["-9", &victim]))?;
    if bench.wait().map_err(|e| e.to_string())?.success() {
        fail!("pgbench did not notice the crash");
    }
    h.wait_for_server()?;
    let server_log = h.log_since(mark);
    if !server_log.contains(&format!(
        "server process (PID {victim}) was terminated by signal 9"
    )) {
        fail!("the server log does not show the crash");
    }
    if !server_log.contains("all server processes terminated; reinitializing") {
        fail!("the server log does not show the restart");
    }
    h.ok(format!(
        "{ext}: killed backend {victim}; the postmaster reinitialized"
    ));
    let counter = h.value(&db, "SELECT value FROM shared_counter()")?;
    if counter != "0" {
        fail!("counter is {counter} after the restart, not 0");
    }
    h.ok(format!(
        "{ext}: shared_counter is 0 again: shared memory was set up anew"
    ));

    let before = count_lines(&h.pgdata.join(&file));
    let pgbench_said = fs::read_to_string(&output).unwrap_or_default();
    let processed = pgbench_said.lines().find_map(|l| {
        let n = l.strip_prefix("number of transactions actually processed: ")?;
        n.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<usize>()
            .ok()
    });
    h.check_log(
        &file,
        Expect {
            lines: Some(before),
            min_lines: Some(processed.unwrap_or(0)),
            ..Expect::default()
        },
    )?;
    h.ok(format!(
        "{ext}: {before} lines before and during the crash; pgbench counted {} calls done",
        processed.map_or("?".to_owned(), |n| n.to_string())
    ));
    let after = h.calls() / 10;
    h.pgbench(
        &["-c", "4", "-j", "2", "-t", &after.to_string()],
        &script,
        &db,
        "pgbench_after_crash.txt",
    )?;
    h.check_log(&file, Expect::lines(before + 4 * after))?;
    h.ok(format!(
        "{ext}: {} more lines after the restart, numbered on from {}",
        4 * after,
        before + 1
    ));

    // A last line cut short (as a power failure could leave it) is removed, with a LOG line.
    let mark = h.log_mark();
    let torn = format!(
        "printf '2001-02-03T04:05:06.000007Z 1 %s torn' {} >>'{}'",
        before + 4 * after + 1,
        h.pgdata.join(&file).display()
    );
    h.as_server(&["sh", "-c", &torn])?;
    h.sql(&db, &["SELECT xfunc_log('after a torn line')"])?;
    let server_log = h.log_since(mark);
    if !server_log
        .lines()
        .any(|l| l.contains("removed an incomplete last line of ") && l.contains(" bytes"))
    {
        fail!("no LOG line about the torn line");
    }
    h.check_log(&file, Expect::lines(before + 4 * after + 1))?;
    h.ok(format!(
        "{ext}: a torn last line was cut off, numbering went on"
    ));
    Ok(())
}
// ANCHOR_END: crash

// ANCHOR: failures
/// Writes that fail: the ERROR carries the errno's SQLSTATE, the lock is free afterwards (the
/// next call in the same session and in another does not hang), and the file stays whole.
fn failures(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_failures_{ext}_{}.log", h.label));
    // Disk full: a symbolic link in the data directory to /dev/full.
    let full = format!("shmem_full_{ext}.log");
    h.as_server(&["ln", "-sfn", "/dev/full", &h.data_path(&full)])?;
    h.set_log_file(ext, &full)?;
    let mut session = h.connect(&db)?;
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
    h.ok(format!(
        "{ext}: disk full -> 53100, twice in one session, then the shared lock: {tail} rows"
    ));
    h.as_server(&["rm", "-f", &h.data_path(&full)])?;

    h.fresh_log_file(ext, &file)?;
    h.sql(&db, &["SELECT xfunc_log('first')"])?;
    // Permission denied: the server's user may not open the file.
    h.as_server(&["chmod", "000", &h.data_path(&file)])?;
    h.expect_error(
        &db,
        "SELECT xfunc_log('refused')",
        &format!("42501: could not open log file \"{file}\": Permission denied"),
    )?;
    h.as_server(&["chmod", "600", &h.data_path(&file)])?;
    h.sql(&db, &["SELECT xfunc_log('second')"])?;
    h.check_log(&file, Expect::lines(2))?;
    // The file removed: the next call makes a new one, whose numbering starts again at 1.
    h.as_server(&["rm", &h.data_path(&file)])?;
    h.sql(&db, &["SELECT xfunc_log('in a new file')"])?;
    h.check_log(&file, Expect::lines(1))?;
    h.ok(format!(
        "{ext}: a removed file is created again, numbered from 1"
    ));
    // A message whose escaped line would not fit in 1 GB (MaxAllocSize): the same ERROR from
    // both builds, before anything is written: 2^28 control characters, 4 bytes each escaped.
    h.expect_error(
        &db,
        "SELECT xfunc_log(repeat(chr(1), 268435456))",
        "54000: message is too long to log",
    )?;
    h.check_log(&file, Expect::lines(1))?;
    // Created with the mode of the server's own files (0600, or 0640 with group access).
    let (mode, server_mode) = (
        mode(&h.pgdata.join(&file))?,
        mode(&h.pgdata.join("PG_VERSION"))?,
    );
    if mode != server_mode {
        fail!("the file's mode is {mode:o}, the server's files' {server_mode:o}");
    }
    h.ok(format!(
        "{ext}: a new file has mode {mode:o}, as the server's own files"
    ));

    // A short read: a sysfs file says it holds 4096 bytes and gives a few. Both builds take it
    // for a file cut short under them: EIO.
    let short = Path::new("/sys/devices/system/cpu/online");
    let sysfs_size = fs::metadata(short).map(|m| m.len()).ok();
    let read = fs::read(short).map(|b| b.len()).unwrap_or(usize::MAX);
    if sysfs_size == Some(4096) && read < 4096 {
        let link = format!("shmem_short_{ext}.log");
        h.as_server(&[
            "ln",
            "-sfn",
            &short.display().to_string(),
            &h.data_path(&link),
        ])?;
        h.set_log_file(ext, &link)?;
        for query in [
            "SELECT * FROM xfunc_log_tail(1)",
            "SELECT xfunc_log_lines()",
        ] {
            h.expect_error(
                &db,
                query,
                &format!("58030: could not read log file \"{link}\": Input/output error"),
            )?;
        }
        h.as_server(&["rm", "-f", &h.data_path(&link)])?;
    } else {
        println!(
            "cluster: SKIPPED {ext}: short read ({} is not a 4096-byte sysfs file)",
            short.display()
        );
    }
    Ok(())
}
// ANCHOR_END: failures

// ANCHOR: carried
/// A failed write is reported to every call whose line it carried, and to no other. CLIENTS/2
/// sessions log numbered lines at once; `prlimit` forbids one of them (the backend of session
/// 0) to write past the first byte of a file (RLIMIT_FSIZE: its writes fail with EFBIG, "File
/// too large"; PostgreSQL ignores SIGXFSZ). Afterwards the file holds exactly the lines of the
/// calls that returned, each session's in its order, and every call that failed was told "File
/// too large". In open_per_line and kept_open each call writes its own line: only session 0's
/// calls failed, all of them. In group_commit a flusher writes everyone's lines: with sync on,
/// calls of other sessions failed too (their lines were in session 0's batches), and some of
/// session 0's returned (their lines were in another's).
fn carried(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_carried_{ext}_{}.log", h.label));
    let (sessions, calls) = ((h.clients / 2).max(2), (h.calls() / 20).max(20));
    h.fresh_log_file(ext, &file)?;
    h.sql(&db, &["SELECT xfunc_log('before the limit')"])?;
    let mut clients = (0..sessions)
        .map(|_| h.connect(&db))
        .collect::<Check<Vec<_>>>()?;
    let pid = outcome(&mut clients[0], "SELECT pg_backend_pid()")?;
    h.as_server(&["prlimit", "--pid", &pid, "--fsize=1:1"])?; // as the same user: no privilege needed
    let said = log_at_once(clients, "carried", calls);
    // The limited backend ends with its session: no later case meets the limit.

    let too_large = format!("XX000: could not write to log file \"{file}\": File too large");
    let lines = session_lines(&h.pgdata.join(&file), "carried")?;
    let mut failed_in = BTreeSet::new();
    for (i, calls_said) in said.iter().enumerate() {
        let returned: Vec<usize> = (0..calls).filter(|&j| calls_said[j].is_ok()).collect();
        if lines.get(&i).cloned().unwrap_or_default() != returned {
            fail!("session {i}: the file's lines are not those of the calls that returned ({} of {calls})", returned.len());
        }
        for error in calls_said.iter().filter_map(|r| r.as_ref().err()) {
            if *error != too_large {
                fail!("session {i}: {error}");
            }
            failed_in.insert(i);
        }
    }
    let ok_calls: usize = said.iter().flatten().filter(|r| r.is_ok()).count();
    h.check_log(&file, Expect::lines(1 + ok_calls))?;
    let failed = sessions * calls - ok_calls;
    let session0_ok = said[0].iter().filter(|r| r.is_ok()).count();
    if h.design == Some("group_commit") {
        // Only with sync on do lines surely wait for each other: a batch takes a disk flush,
        // and meanwhile the other sessions' lines gather for the next one. Without sync a
        // write takes microseconds, and most lines find the write lock free.
        if h.sync && (failed_in.iter().all(|&i| i == 0) || session0_ok == 0) {
            fail!(
                "no line carried across sessions: failures in sessions {failed_in:?}, {session0_ok} of session 0's calls returned"
            );
        }
    } else if failed_in != BTreeSet::from([0]) || session0_ok != 0 {
        fail!("failures in sessions {failed_in:?}, {session0_ok} of session 0's calls returned");
    }
    h.ok(format!(
        "{ext}: {sessions} sessions x {calls} calls, one limited to 1 byte: {failed} calls told \
         \"File too large\" (in sessions {failed_in:?}), the file holds the lines of the other {ok_calls}, in order"
    ));

    // A sync that fails: a link to /dev/null, whose writes succeed and whose fdatasync fails
    // (EINVAL). With sync on, every call is told; with sync off, none is.
    let null = format!("shmem_null_{ext}_{}.log", h.label);
    h.as_server(&["ln", "-sfn", "/dev/null", &h.data_path(&null)])?;
    h.set_log_file(ext, &null)?;
    let clients = (0..sessions)
        .map(|_| h.connect(&db))
        .collect::<Check<Vec<_>>>()?;
    let said = log_at_once(clients, "null", calls / 4);
    let invalid = format!("XX000: could not fdatasync log file \"{null}\": Invalid argument");
    let (told, returned): (Vec<_>, Vec<_>) = said.iter().flatten().partition(|r| r.is_err());
    let wrong: Vec<_> = told
        .iter()
        .filter(|r| **r != &Err(invalid.clone()))
        .collect();
    match (h.sync, told.len(), returned.len()) {
        (_, _, _) if !wrong.is_empty() => fail!("/dev/null: {:?}", wrong[0]),
        (true, _, 0) | (false, 0, _) => {}
        _ => fail!(
            "/dev/null: {} calls failed, {} returned",
            told.len(),
            returned.len()
        ),
    }
    h.ok(format!(
        "{ext}: a link to /dev/null: {} of {} calls told \"Invalid argument\" by fdatasync",
        told.len(),
        told.len() + returned.len()
    ));
    h.as_server(&["rm", "-f", &h.data_path(&null)])
}

/// Each client, in a thread of its own, logs "<tag> session <i> call <j>" for j in 0..calls;
/// returns what each call said, session by session.
fn log_at_once(clients: Vec<Client>, tag: &str, calls: usize) -> Vec<Vec<Check<String>>> {
    let threads: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            let tag = tag.to_owned();
            std::thread::spawn(move || {
                (0..calls)
                    .map(|j| {
                        outcome(
                            &mut client,
                            &format!("SELECT xfunc_log('{tag} session {i} call {j}')"),
                        )
                    })
                    .collect()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().unwrap_or_default())
        .collect()
}

/// The calls whose lines "<tag> session <i> call <j>" a log file holds: j in file order, by i.
fn session_lines(path: &Path, tag: &str) -> Check<BTreeMap<usize, Vec<usize>>> {
    let data = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let prefix = format!("{tag} session ");
    for line in data.split(|&b| b == b'\n') {
        let Some((_, _, _, message)) = parse_line(line) else {
            continue;
        };
        let Some(rest) = std::str::from_utf8(message)
            .ok()
            .and_then(|m| m.strip_prefix(&prefix))
        else {
            continue;
        };
        let parsed = rest
            .split_once(" call ")
            .and_then(|(i, j)| Some((i.parse().ok()?, j.parse().ok()?)));
        let Some((i, j)) = parsed else {
            fail!("not a line of the test: {rest}");
        };
        lines.entry(i).or_default().push(j);
    }
    Ok(lines)
}
// ANCHOR_END: carried

// ANCHOR: cancel
/// Calls interrupted while they wait. CLIENTS/2 sessions log numbered lines (two of them with
/// statement_timeout = 5ms) while another session, every 5 ms, cancels one of them
/// (pg_cancel_backend) or, one time in eight, terminates it (pg_terminate_backend; the
/// session connects again and goes on). No call hangs (the whole case ends within 300 s), no
/// backend crashes; the file is whole and numbered, and holds, in each session's order, the
/// line of every call that returned, and only lines of calls that were made. A call that was
/// told "canceling statement" may have its line in the file: the cancel takes effect once the
/// line is written, never while it waits. The line logged last, by a session of its own, is the
/// file's last: no line was left waiting in the buffer.
fn cancel(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_cancel_{ext}_{}.log", h.label));
    let (sessions, calls) = ((h.clients / 2).max(3), (h.calls() / 20).max(20));
    h.fresh_log_file(ext, &file)?;
    let pids = std::sync::Arc::new(std::sync::Mutex::new(vec![0i32; sessions]));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut threads = Vec::new();
    for i in 0..sessions {
        let mut config = support::config_at(&h.host, &db);
        if let Some(options) = h.session_options() {
            config.options(&options);
        }
        let pids = pids.clone();
        threads.push(std::thread::spawn(move || -> Check<Vec<Check<String>>> {
            let connect = || -> Check<Client> {
                let mut client = config.connect(postgres::NoTls).map_err(|e| e.to_string())?;
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .map_err(|e| e.to_string())?
                    .get(0);
                if i < 2 {
                    client
                        .batch_execute("SET statement_timeout = '5ms'")
                        .map_err(|e| e.to_string())?;
                }
                pids.lock().unwrap_or_else(|e| e.into_inner())[i] = pid;
                Ok(client)
            };
            let mut client = connect()?;
            let mut said = Vec::new();
            for j in 0..calls {
                let query = format!("SELECT xfunc_log('cancel session {i} call {j}')");
                let result = outcome(&mut client, &query);
                if client.is_closed() {
                    // Terminated (the call before may have said so, 57P01, with the
                    // connection not yet closed): a new backend goes on.
                    said.push(Err(format!(
                        "terminated: {}",
                        result.err().unwrap_or_default()
                    )));
                    client = connect()?;
                } else {
                    said.push(result);
                }
            }
            Ok(said)
        }));
    }
    let mut disrupter = h.connect("postgres")?;
    let (pids2, done2) = (pids.clone(), done.clone());
    let disrupting = std::thread::spawn(move || -> (usize, usize) {
        let (mut cancels, mut terminations, mut state) = (0, 0, 0x9e37_79b9_7f4a_7c15_u64);
        while !done2.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let pids = pids2.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let pid = pids[(state % pids.len() as u64) as usize];
            let (function, count) = if state % 8 == 0 {
                ("pg_terminate_backend", &mut terminations)
            } else {
                ("pg_cancel_backend", &mut cancels)
            };
            if pid != 0
                && disrupter
                    .simple_query(&format!("SELECT {function}({pid})"))
                    .is_ok()
            {
                *count += 1;
            }
        }
        (cancels, terminations)
    });
    let finished = within(Duration::from_secs(300), move || {
        threads
            .into_iter()
            .map(|t| t.join().map_err(|_| "a session panicked".to_owned())?)
            .collect::<Check<Vec<_>>>()
    });
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (cancels, terminations) = disrupting.join().map_err(|_| "the disrupter panicked")?;
    let said = finished.ok_or("a session hung: not done after 300 s")??;

    let lines = session_lines(&h.pgdata.join(&file), "cancel")?;
    let (mut interrupted, mut written_first) = (0, 0);
    for (i, calls_said) in said.iter().enumerate() {
        let in_file = lines.get(&i).cloned().unwrap_or_default();
        if in_file.windows(2).any(|w| w[0] >= w[1]) || in_file.iter().any(|&j| j >= calls) {
            fail!("session {i}: lines out of order, twice, or of calls never made: {in_file:?}");
        }
        for (j, said) in calls_said.iter().enumerate() {
            match said {
                Ok(_) if !in_file.contains(&j) => {
                    fail!("session {i}: call {j} returned, its line is missing")
                }
                Ok(_) => {}
                Err(e)
                    if e.starts_with("57014: ")
                        || e.starts_with("57P01: ")
                        || e.starts_with("terminated: ") =>
                {
                    interrupted += 1;
                    written_first += usize::from(in_file.contains(&j));
                }
                Err(e) => fail!("session {i} call {j}: {e}"),
            }
        }
    }
    if interrupted == 0 {
        fail!("no call was interrupted ({cancels} cancels, {terminations} terminations sent)");
    }
    let before = count_lines(&h.pgdata.join(&file));
    h.sql(&db, &["SELECT xfunc_log('the last line')"])?;
    h.check_log(&file, Expect::lines(before + 1))?;
    let data = fs::read_to_string(h.pgdata.join(&file)).map_err(|e| e.to_string())?;
    if !data.trim_end().ends_with(" the last line") {
        fail!("the line logged last is not the file's last");
    }
    h.ok(format!(
        "{ext}: {sessions} sessions x {calls} calls, {cancels} cancels and {terminations} \
         terminations sent, {interrupted} calls interrupted ({written_first} of them after their \
         line was written): every line of a call that returned, in order, none left behind"
    ));
    Ok(())
}
// ANCHOR_END: cancel

// ANCHOR: encoding
/// A LATIN1 database: the message goes into the file as LATIN1 bytes, and comes back from
/// xfunc_log_tail as the same line. The C build works on the bytes; so must the Rust build.
/// In a UTF-8 database, the same line is not valid text: 22021.
const LATIN1_MESSAGE: &str = "café, naïve, ½ «ÿ», a tab\there";
/// The message field of its line: LATIN1, the tab escaped.
const LATIN1_BYTES: &[u8] = b"caf\xe9, na\xefve, \xbd \xab\xff\xbb, a tab\\there\n";

fn encoding(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (
        format!("shmem_latin1_{ext}"),
        format!("shmem_latin1_{ext}_{}.log", h.label),
    );
    h.create_database(
        &db,
        "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )?;
    h.create_extension(&db, ext)?;
    h.fresh_log_file(ext, &file)?;
    // From a UTF-8 client (the postgres crate's only client encoding): the server converts.
    h.connect(&db)?
        .execute("SELECT xfunc_log($1)", &[&LATIN1_MESSAGE])
        .map_err(|e| support::sqlstate(&e))?;
    h.check_log(&file, Expect::lines(1))?;
    // The message field of the line, byte for byte.
    let line = fs::read(h.pgdata.join(&file)).map_err(|e| e.to_string())?;
    let message: Vec<u8> = line
        .splitn(4, |&b| b == b' ')
        .nth(3)
        .unwrap_or_default()
        .to_vec();
    if message != LATIN1_BYTES {
        fail!(
            "the file holds {}",
            String::from_utf8_lossy(&message).escape_debug()
        );
    }
    h.ok(format!(
        "{ext}: LATIN1 database: the file holds the message in LATIN1: {}",
        hex(&message)
    ));
    h.latin1_messages.insert((h.label.clone(), ext), message);
    // Read back in the database encoding, the row is the file's line, byte for byte ...
    let mut latin1 = h.connect(&db)?;
    latin1
        .batch_execute("SET client_encoding = 'LATIN1'")
        .map_err(|e| support::sqlstate(&e))?;
    let tail = latin1
        .query("SELECT * FROM xfunc_log_tail(1)", &[])
        .map_err(|e| support::sqlstate(&e))?;
    let mut returned: Vec<u8> = tail.iter().flat_map(|r| r.get::<_, Raw>(0).0).collect();
    returned.push(b'\n');
    if returned != line {
        fail!(
            "xfunc_log_tail returned {}",
            String::from_utf8_lossy(&returned).escape_debug()
        );
    }
    // ... and in UTF-8, the message that was logged.
    let message = h.value(
        &db,
        r"SELECT substring(line FROM '^\S+ \d+ \d+ (.*)$') FROM xfunc_log_tail(1) AS line",
    )?;
    if message != LATIN1_MESSAGE.replace('\t', "\\t") {
        fail!("xfunc_log_tail returned '{message}'");
    }
    h.ok(format!(
        "{ext}: LATIN1 database: xfunc_log_tail returns the line as written: '{message}'"
    ));
    h.expect_error(
        &db_of(ext),
        "SELECT * FROM xfunc_log_tail(1)",
        &format!("22021: log file \"{file}\" holds a line that is not valid text"),
    )?;

    // A path that is not UTF-8: é in LATIN1, set from the LATIN1 database. The C build's
    // message holds the path's bytes; the Rust build's messages are Rust strings (pgrx's
    // ereport! takes nothing else), which hold U+FFFD instead, "ï¿½" read as LATIN1. The one
    // difference between the builds' messages; the SQLSTATE is the same.
    let path = "no_such_directory/\u{e9}.log";
    h.set_log_file_in(&db, ext, path)?;
    let shown = match ext {
        "xfunc" => "no_such_directory/\u{ef}\u{bf}\u{bd}.log",
        _ => path,
    };
    h.expect_error(
        &db,
        "SELECT xfunc_log('lost')",
        &format!("58P01: could not open log file \"{shown}\": No such file or directory"),
    )
}

/// After both builds, in each design: they wrote the same bytes.
fn encoding_same_bytes(h: &mut Harness) -> Check {
    let [rust, c] = EXTS.map(|ext| h.latin1_messages.get(&(h.label.clone(), ext)));
    if rust != c {
        fail!("the two builds wrote different bytes: {rust:?}, {c:?}");
    }
    h.ok("LATIN1 database: both builds wrote the same bytes".to_owned());
    Ok(())
}
// ANCHOR_END: encoding

// ANCHOR: mixed
/// Every design at once on one file, CLIENTS/n pgbench clients with each (with sync on, one
/// group more: group_commit without sync, whose lines share batches with synced ones). Every
/// line whole, numbered 1.. in file order, CALLS from each client: the designs number and write
/// under one lock.
fn mixed(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_{}_{ext}.log", h.label));
    let mut groups: Vec<(&str, bool)> = h.designs.iter().map(|&d| (d, h.sync)).collect();
    if h.sync && h.designs.contains(&"group_commit") {
        groups.push(("group_commit", false));
    }
    let (each, calls) = (h.clients / groups.len(), h.calls());
    h.fresh_log_file(ext, &file)?;
    let mut runs = Vec::new();
    for (i, &(design, sync)) in groups.iter().enumerate() {
        // Client ids made distinct across the runs: pgbench numbers each run's from 0.
        let script = PGBENCH_SCRIPT.replace(":client_id:", ":id:");
        let script = format!("\\set id :client_id + {}\n{script}", i * each);
        let script = h.work_file(&format!("xfunc_log_mixed_{i}.sql"), &script)?;
        let args = ["-c", &each.to_string(), "-j", "1", "-t", &calls.to_string()];
        let mut bench = h.pgbench_command(&args, &script, &db);
        let sync = if sync { "on" } else { "off" };
        let options = format!("-c {ext}.log_design={design} -c {ext}.log_sync={sync}");
        bench.env("PGOPTIONS", options);
        runs.push(std::thread::spawn(move || bench.output()));
    }
    for run in runs {
        let out = run.join().map_err(|_| "pgbench thread panicked")?;
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => fail!(
                "pgbench (mixed designs): {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => fail!("pgbench (mixed designs): {e}"),
        }
    }
    h.check_log(
        &file,
        Expect {
            lines: Some(groups.len() * each * calls),
            clients: Some((groups.len() * each, calls)),
            ..Expect::default()
        },
    )?;
    let said: Vec<String> = groups
        .iter()
        .map(|(d, sync)| format!("{each} {d}{}", if *sync { " synced" } else { "" }))
        .collect();
    h.ok(format!(
        "{ext}: {} x {calls} calls: one sequence",
        said.join(" + ")
    ));
    Ok(())
}
// ANCHOR_END: mixed

// ANCHOR: rotate
/// kept_open and group_commit: one session keeps its file open. The file is renamed away (log
/// rotation) or deleted; after RECHECK (100 ms) the same session logs into a new file,
/// numbered from 1.
fn rotate(h: &mut Harness, ext: &'static str) -> Check {
    let (db, file) = (db_of(ext), format!("shmem_rotate_{ext}_{}.log", h.label));
    let (path, rotated) = (h.pgdata.join(&file), h.pgdata.join(format!("{file}.1")));
    h.fresh_log_file(ext, &file)?;
    h.as_server(&["rm", "-f", &rotated.display().to_string()])?;
    let mut session = h.connect(&db)?;
    let mut log = |sql: &str| {
        session
            .batch_execute(sql)
            .map_err(|e| support::sqlstate(&e))
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
    h.check_log(&format!("{file}.1"), Expect::lines(2))?;
    h.check_log(&file, Expect::lines(2))?;
    let now = fs::read_to_string(&path).map_err(|e| e.to_string())?;
    if !now
        .lines()
        .any(|l| l.ends_with(" 1 four, in another new file"))
    {
        fail!("{now}");
    }
    h.ok(format!(
        "{ext}: a kept file renamed away, then deleted: the same session went on in a new file"
    ));
    h.as_server(&["rm", "-f", &rotated.display().to_string()])
}
// ANCHOR_END: rotate

// ANCHOR: no_preload
/// A second, throw-away cluster from the same PostgreSQL copy, without shared_preload_libraries:
/// CREATE EXTENSION works, every function that needs shared memory raises 55000, nothing crashes.
fn no_preload(h: &mut Harness, _: &'static str) -> Check {
    let cluster = ThrowAwayCluster::start(h)?;
    let main_cluster = std::mem::replace(&mut h.host, cluster.socket.clone());
    let checked = (|| {
        for ext in EXTS {
            h.sql("postgres", &[&format!("CREATE DATABASE {ext}")])?;
            h.sql(ext, &[&format!("CREATE EXTENSION {ext}")])?;
            for query in [
                "SELECT shared_counter_add(1)",
                "SELECT * FROM shared_counter()",
                "SELECT shared_counter_reset()",
                "SELECT shared_counter_swap(1)",
                "SELECT xfunc_log('hello')",
                "SELECT * FROM xfunc_log_tail(1)",
                "SELECT xfunc_log_lines()",
            ] {
                let error = format!("55000: {ext} must be loaded via shared_preload_libraries");
                h.expect_error(ext, query, &error)?;
            }
            // In every design, with sync on too: the buffer of group_commit is in shared
            // memory as well. (LOAD first: the settings exist once the library is loaded.)
            for design in DESIGNS {
                let query = format!(
                    "LOAD '{ext}'; SET {ext}.log_design = {design}; SET {ext}.log_sync = on; \
                     SELECT xfunc_log('hello')"
                );
                let error = format!("55000: {ext} must be loaded via shared_preload_libraries");
                h.expect_error(ext, &query, &error)?;
            }
            // The setting exists (defined by _PG_init in the backend) and is checked.
            let shown = h.sql(
                ext,
                &[&format!("LOAD '{ext}'"), &format!("SHOW {ext}.log_file")],
            )?;
            if shown != [format!("{ext}.log")] {
                fail!("{ext}: SHOW {ext}.log_file: {shown:?}");
            }
        }
        h.check_no_crash(0, &cluster.log)
            .map_err(|e| format!("a backend of the cluster without preload crashed: {e}"))
    })();
    h.host = main_cluster;
    checked // (the cluster is stopped and removed when dropped, here)
}
// ANCHOR_END: no_preload

/// The cluster of `no_preload`: its own data directory and socket directory (only a Unix
/// socket, in a directory of its own: the port number cannot clash), under XFUNC_STATE;
/// stopped and removed when dropped.
struct ThrowAwayCluster {
    data: PathBuf,
    socket: PathBuf,
    log: PathBuf,
    bindir: PathBuf,
    runas: String,
    own_user: bool,
}

impl ThrowAwayCluster {
    fn start(h: &Harness) -> Check<ThrowAwayCluster> {
        let state = support::env_path("XFUNC_STATE");
        let cluster = ThrowAwayCluster {
            data: state.join("nopreload-data"),
            socket: state.join("nopreload-socket"),
            log: state.join("nopreload.log"),
            bindir: h.bindir.clone(),
            runas: h.runas.clone(),
            own_user: h.own_user,
        };
        cluster.remove();
        let [data, socket, log] =
            [&cluster.data, &cluster.socket, &cluster.log].map(|p| p.display().to_string());
        run(Command::new("install").args(["-d", "-o", &h.runas, &data, &socket]))?;
        let initdb = h.bindir.join("initdb").display().to_string();
        h.as_server(&[
            &initdb,
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ])
        .map_err(|e| format!("initdb: {e}"))?;
        let pg_ctl = h.bindir.join("pg_ctl").display().to_string();
        let options = format!("-p {} -k {socket} -c listen_addresses=''", h.port);
        let start = [
            &pg_ctl, "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
        ];
        h.as_server(&start)?;
        Ok(cluster)
    }

    fn remove(&self) {
        if self.data.join("postmaster.pid").exists() {
            let pg_ctl = self.bindir.join("pg_ctl").display().to_string();
            let data = self.data.display().to_string();
            let stop = [
                pg_ctl.as_str(),
                "-D",
                &data,
                "-w",
                "-m",
                "immediate",
                "stop",
            ];
            let _ = as_user(&self.runas, self.own_user, &stop);
        }
        for p in [&self.data, &self.socket] {
            let _ = fs::remove_dir_all(p);
        }
        let _ = fs::remove_file(&self.log);
    }
}

impl Drop for ThrowAwayCluster {
    fn drop(&mut self) {
        self.remove();
    }
}

// --- the crash check --------------------------------------------------------------------------

// ANCHOR: crash_check
/// The lines of `log` (a server log since a mark) that say a server process died by a signal
/// (or exited with a code other than 0 and 1) and is not one a case killed on purpose
/// (`expected`): what the postmaster logs before it restarts every backend. tools/lib/env.sh's
/// check_no_crash, for the Rust tests.
fn crashes(log: &str, expected: &BTreeSet<String>) -> Vec<String> {
    log.lines()
        .filter(|line| died(line).is_some_and(|pid| !expected.contains(pid)))
        .map(str::to_owned)
        .collect()
}

/// The PID of the server process a line of the server log says died, if it says so.
fn died(line: &str) -> Option<&str> {
    let (_, after) = line.split_once("(PID ")?;
    let (pid, rest) = after.split_once(") ")?;
    let by_signal = rest.starts_with("was terminated by signal");
    let code = rest.strip_prefix("exited with exit code ").map(|c| {
        c.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    let bad_exit = code.is_some_and(|c| c.parse::<u64>().is_ok_and(|c| c >= 2));
    (pid.chars().all(|c| c.is_ascii_digit()) && (by_signal || bad_exit)).then_some(pid)
}
// ANCHOR_END: crash_check

// --- the log-file check ---------------------------------------------------------------------

/// What a log file written by xfunc_log must hold besides whole, well-formed lines.
#[derive(Default)]
struct Expect {
    /// Exactly this many lines.
    lines: Option<usize>,
    /// At least this many lines.
    min_lines: Option<usize>,
    /// The pgbench messages "pgbench client <id>: ..." come from exactly this many clients, this
    /// many lines each.
    clients: Option<(usize, usize)>,
}

impl Expect {
    fn lines(n: usize) -> Expect {
        Expect {
            lines: Some(n),
            ..Expect::default()
        }
    }
}

/// Checks a log file written by xfunc_log (chapter 13); returns what it found, in one line.
/// Fails unless the file ends with a newline (it holds only whole lines); every line is
/// "<YYYY-MM-DDTHH:MM:SS.ffffffZ> <pid> <seq> <message>" with no control character in the
/// message (they are escaped); the sequence numbers are 1, 2, ... in file order, each exactly
/// once, no gap; the timestamps never go backwards; and `expect` holds.
fn check_log_file(path: &Path, expect: &Expect) -> Check<String> {
    let data = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut problems = Vec::new();
    let whole = data.strip_suffix(b"\n");
    if !data.is_empty() && whole.is_none() {
        problems.push("the file does not end with a newline".to_owned());
    }
    let lines: Vec<&[u8]> = match whole {
        Some(whole) => whole.split(|&b| b == b'\n').collect(),
        None if data.is_empty() => Vec::new(),
        None => data.split(|&b| b == b'\n').collect(),
    };
    let mut pids = BTreeSet::new();
    let mut clients: BTreeMap<u64, usize> = BTreeMap::new();
    let mut last_timestamp: &[u8] = b"";
    for (n, line) in lines.iter().enumerate() {
        let Some((timestamp, pid, seq, message)) = parse_line(line) else {
            let start = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
            problems.push(format!("line {} is malformed: {start:?}", n + 1));
            continue;
        };
        if seq != n as u64 + 1 {
            problems.push(format!(
                "line {} has sequence number {seq}, not {}",
                n + 1,
                n + 1
            ));
        }
        if timestamp < last_timestamp {
            problems.push(format!("line {}: timestamp goes backwards", n + 1));
        }
        if message.iter().any(|&b| b < 0x20 || b == 0x7f) {
            problems.push(format!("line {}: unescaped control character", n + 1));
        }
        last_timestamp = timestamp;
        pids.insert(pid);
        if let Some(client) = pgbench_client(message) {
            *clients.entry(client).or_default() += 1;
        }
        if problems.len() > 10 {
            break;
        }
    }
    match expect.lines {
        Some(want) if lines.len() != want => {
            problems.push(format!("{} lines, expected exactly {want}", lines.len()));
        }
        _ => {}
    }
    match expect.min_lines {
        Some(want) if lines.len() < want => {
            problems.push(format!("{} lines, expected at least {want}", lines.len()));
        }
        _ => {}
    }
    if let Some((want_clients, per_client)) = expect.clients {
        if clients.len() != want_clients {
            let got = clients.len();
            problems.push(format!(
                "lines from {got} pgbench clients, expected {want_clients}"
            ));
        }
        let wrong: BTreeMap<_, _> = clients.iter().filter(|(_, k)| **k != per_client).collect();
        if !wrong.is_empty() {
            problems.push(format!(
                "clients without exactly {per_client} lines: {wrong:?}"
            ));
        }
    }
    let mut summary = format!(
        "{}: {} lines, sequence 1..{}, {} pids",
        path.display(),
        lines.len(),
        lines.len(),
        pids.len()
    );
    if let (Some(min), Some(max)) = (clients.values().min(), clients.values().max()) {
        summary += &format!(", {} pgbench clients x {min}..{max} lines", clients.len());
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(format!("{summary}\n  {}", problems.join("\n  ")))
    }
}

/// A line's timestamp, pid, sequence number and message, when it has the form
/// `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [1-9]\d* [1-9]\d* .*`.
fn parse_line(line: &[u8]) -> Option<(&[u8], u64, u64, &[u8])> {
    const FORM: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    let mut fields = line.splitn(4, |&b| b == b' ');
    let (timestamp, pid, seq, message) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let timestamp_ok = timestamp.len() == FORM.len()
        && timestamp.iter().zip(FORM).all(|(&b, &f)| match f {
            b'd' => b.is_ascii_digit(),
            f => b == f,
        });
    let number = |s: &[u8]| -> Option<u64> {
        let digits = s.first().is_some_and(|&b| b != b'0') && s.iter().all(u8::is_ascii_digit);
        digits
            .then(|| std::str::from_utf8(s).ok()?.parse().ok())
            .flatten()
    };
    timestamp_ok.then_some(())?;
    Some((timestamp, number(pid)?, number(seq)?, message))
}

/// The client id of a pgbench message, "pgbench client <id>: ...".
fn pgbench_client(message: &[u8]) -> Option<u64> {
    let rest = message.strip_prefix(b"pgbench client ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits..digits + 2) != Some(b": ") {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Before any case: the two checkers above refuse what they must refuse (a checker that
/// passes everything would make every case pass).
fn check_the_checkers(h: &Harness) -> Check {
    let good = "2026-12-02T05:00:00.000001Z 7 1 pgbench client 0: a tab\\there\n\
                2026-12-02T05:00:00.000002Z 8 2 pgbench client 1: b\n";
    let bad = [
        ("a gap", good.replace(" 8 2 ", " 8 3 ")),
        ("a torn last line", good.trim_end().to_owned()),
        ("a control character", good.replace("tab\\t", "tab\t")),
        ("a timestamp going back", good.replace("000002Z", "000000Z")),
        ("a malformed line", good.replace(" 8 2 ", " 08 2 ")),
        ("one client", good.replace("client 1", "client 0")),
        ("3 lines", good.to_owned()),
    ];
    let path = h.work.join("checker-self-test.log");
    let expect = |lines| Expect {
        lines: Some(lines),
        clients: Some((2, 1)),
        ..Expect::default()
    };
    fs::write(&path, good).map_err(|e| e.to_string())?;
    check_log_file(&path, &expect(2))?;
    for (what, content) in &bad {
        fs::write(&path, content).map_err(|e| e.to_string())?;
        let lines = if *what == "3 lines" { 3 } else { 2 };
        if check_log_file(&path, &expect(lines)).is_ok() {
            fail!("check_log_file passed a file with {what}");
        }
    }
    let log = "LOG:  server process (PID 12) was terminated by signal 9: Killed\n\
               LOG:  background worker \"x\" (PID 13) exited with exit code 2\n\
               LOG:  server process (PID 14) exited with exit code 1\n";
    let killed = BTreeSet::from(["12".to_owned()]);
    if crashes(log, &killed).len() != 1 || crashes(log, &BTreeSet::new()).len() != 2 {
        fail!("crashes() misread {log}");
    }
    h.ok("the log-file check and the crash check refuse what they must".to_owned());
    Ok(())
}

// --- the harness ------------------------------------------------------------------------------

struct Harness {
    clients: usize,
    calls: usize,
    calls_sync: usize,
    designs: Vec<&'static str>,
    syncs: Vec<bool>,
    /// Where pgbench's scripts and outputs go: target/cluster-tests.
    work: PathBuf,
    pgdata: PathBuf,
    pglog: PathBuf,
    bindir: PathBuf,
    expected_kills: PathBuf,
    port: String,
    /// The socket directory sessions connect to: the cluster's, or the throw-away one's.
    host: PathBuf,
    runas: String,
    /// Whether this process runs as the server's user (else commands run through runuser).
    own_user: bool,
    /// The log design every session and pgbench run uses now (None: the default).
    design: Option<&'static str>,
    /// Whether every session and pgbench run has log_sync on now.
    sync: bool,
    /// The design, or what the files of the running case are named after.
    label: String,
    /// What the encoding case found in each file, by (design, build).
    latin1_messages: BTreeMap<(String, &'static str), Vec<u8>>,
}

fn db_of(ext: &str) -> String {
    format!("shmem_{ext}")
}

impl Harness {
    fn new() -> Harness {
        let number = |key: &str, default: usize| {
            std::env::var(key).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{key}={v}: not a number"))
            })
        };
        let designs = std::env::var("DESIGNS")
            .unwrap_or_else(|_| DESIGNS.join(" "))
            .split_whitespace()
            .map(|d| {
                DESIGNS
                    .into_iter()
                    .find(|&known| known == d)
                    .unwrap_or_else(|| panic!("DESIGNS: no design {d} ({})", DESIGNS.join(", ")))
            })
            .collect();
        let syncs = std::env::var("SYNCS")
            .unwrap_or_else(|_| "off on".to_owned())
            .split_whitespace()
            .map(|v| match v {
                "off" => false,
                "on" => true,
                _ => panic!("SYNCS: {v} is neither off nor on"),
            })
            .collect();
        let runas = support::env_value("XFUNC_RUNAS").to_owned();
        let me = Command::new("id").arg("-un").output().expect("id -un");
        let work = support::env_path("XFUNC_ROOT").join("target/cluster-tests");
        fs::create_dir_all(&work).unwrap_or_else(|e| panic!("{}: {e}", work.display()));
        Harness {
            clients: number("CLIENTS", 16),
            calls: number("CALLS", 10000),
            calls_sync: number("CALLS_SYNC", 200),
            designs,
            syncs,
            work,
            pgdata: support::env_path("XFUNC_PGDATA"),
            pglog: support::env_path("XFUNC_PGLOG"),
            bindir: support::env_path("PG_BINDIR"),
            expected_kills: support::env_path("XFUNC_EXPECTED_KILLS"),
            port: support::env_value("PGPORT").to_owned(),
            host: support::env_path("PGHOST"),
            own_user: String::from_utf8_lossy(&me.stdout).trim() == runas,
            runas,
            design: None,
            sync: false,
            label: String::new(),
            latin1_messages: BTreeMap::new(),
        }
    }

    /// Calls per client in this run: fewer with sync on, where each line waits for the disk.
    fn calls(&self) -> usize {
        if self.sync {
            self.calls_sync
        } else {
            self.calls
        }
    }

    /// Whether this is the first design and sync setting a case runs for.
    fn first_run(&self) -> bool {
        self.design == self.designs.first().copied() && self.sync == self.syncs[0]
    }

    /// The settings every session and pgbench run of this run gets (PGOPTIONS), if any.
    fn session_options(&self) -> Option<String> {
        if self.design.is_none() && !self.sync {
            return None;
        }
        let mut options = Vec::new();
        for ext in EXTS {
            if let Some(design) = self.design {
                options.push(format!("-c {ext}.log_design={design}"));
            }
            let sync = if self.sync { "on" } else { "off" };
            options.push(format!("-c {ext}.log_sync={sync}"));
        }
        Some(options.join(" "))
    }

    /// Prints one passed check.
    fn ok(&self, what: String) {
        println!("cluster: ok [{}] {what}", self.label);
    }

    fn connect(&self, db: &str) -> Check<Client> {
        let mut config = support::config_at(&self.host, db);
        if let Some(options) = self.session_options() {
            config.options(&options);
        }
        config
            .connect(postgres::NoTls)
            .map_err(|e| format!("connecting to {db}: {e}"))
    }

    /// One session: runs each statement (as psql -c), stops at the first error; returns the
    /// first column of every row (NULL as the empty string).
    fn sql(&self, db: &str, statements: &[&str]) -> Check<Vec<String>> {
        let mut client = self.connect(db)?;
        let mut out = Vec::new();
        for sql in statements {
            out.extend(rows(&mut client, sql).map_err(|e| format!("{sql}: {e}"))?);
        }
        Ok(out)
    }

    /// The rows of one query, one a line (as psql -At prints them).
    fn value(&self, db: &str, query: &str) -> Check<String> {
        Ok(self.sql(db, &[query])?.join("\n"))
    }

    /// Runs `query` in a session of its own: its error must be `SQLSTATE: message...`.
    fn expect_error(&self, db: &str, query: &str, error: &str) -> Check {
        let got = outcome(&mut self.connect(db)?, query)
            .err()
            .unwrap_or("ok".to_owned());
        if !got.starts_with(error) {
            fail!("{query}: expected {error}..., got '{got}'");
        }
        self.ok(format!("{query} -> {got}"));
        Ok(())
    }

    fn create_database(&self, db: &str, options: &str) -> Check {
        let exists = format!("SELECT 1 FROM pg_database WHERE datname = '{db}'");
        if self.value("postgres", &exists)?.is_empty() {
            self.sql("postgres", &[&format!("CREATE DATABASE {db} {options}")])?;
        }
        Ok(())
    }

    /// The extension afresh, so that the database has the functions of the build installed.
    fn create_extension(&self, db: &str, ext: &str) -> Check {
        let drop = format!("DROP EXTENSION IF EXISTS {ext} CASCADE");
        let create = format!("CREATE EXTENSION {ext}");
        self.sql(db, &["SET client_min_messages = warning", &drop, &create])?;
        Ok(())
    }

    /// ALTER SYSTEM + reload. A connection made after pg_reload_conf() returns is forked by a
    /// postmaster that has read the file again (chapter 13 says why); the loop only guards
    /// against a slow machine.
    fn set_log_file(&self, ext: &str, file: &str) -> Check {
        self.set_log_file_in("postgres", ext, file)
    }

    /// The same, set and shown in database `db` (whose encoding the value is converted to).
    fn set_log_file_in(&self, db: &str, ext: &str, file: &str) -> Check {
        let set = format!("ALTER SYSTEM SET {ext}.log_file = '{file}'");
        self.sql(db, &[&set, "SELECT pg_reload_conf()"])?;
        for _ in 0..100 {
            if self.value(db, &format!("SHOW {ext}.log_file"))? == file {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        fail!("{ext}.log_file did not become {file}")
    }

    /// Points the setting at a new, empty file.
    fn fresh_log_file(&self, ext: &str, file: &str) -> Check {
        self.as_server(&["rm", "-f", &self.data_path(file)])?;
        self.set_log_file(ext, file)
    }

    fn data_path(&self, file: &str) -> String {
        self.pgdata.join(file).display().to_string()
    }

    fn check_log(&self, file: &str, expect: Expect) -> Check {
        let summary = check_log_file(&self.pgdata.join(file), &expect)?;
        self.ok(summary);
        Ok(())
    }

    /// Writes `content` to target/cluster-tests/`name` and returns its path.
    fn work_file(&self, name: &str, content: &str) -> Check<String> {
        let path = self.work.join(name);
        fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }

    /// pgbench with `args`, `script`, on `db`, in the current design.
    fn pgbench_command(&self, args: &[&str], script: &str, db: &str) -> Command {
        let mut command = Command::new(self.bindir.join("pgbench"));
        command
            .args(["-h", &self.host.display().to_string(), "-p", &self.port])
            .args(["-U", "postgres", "-n"])
            .args(args)
            .args(["-f", script, db])
            .stdin(Stdio::null());
        match self.session_options() {
            Some(options) => command.env("PGOPTIONS", options),
            None => command.env_remove("PGOPTIONS"),
        };
        command
    }

    /// Runs pgbench to its end; keeps what it printed in target/cluster-tests/`save_as` and
    /// returns it; fails when pgbench does.
    fn pgbench(&self, args: &[&str], script: &str, db: &str, save_as: &str) -> Check<String> {
        let out = self
            .pgbench_command(args, script, db)
            .output()
            .map_err(|e| format!("pgbench: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = fs::write(self.work.join(save_as), &text);
        if !out.status.success() {
            fail!("pgbench {} on {db}: {text}", args.join(" "));
        }
        Ok(text)
    }

    fn as_server(&self, args: &[&str]) -> Check {
        as_user(&self.runas, self.own_user, args)
    }

    /// Where the server log is now.
    fn log_mark(&self) -> u64 {
        fs::metadata(&self.pglog).map_or(0, |m| m.len())
    }

    /// What the server log got since `mark`.
    fn log_since(&self, mark: u64) -> String {
        log_after(&self.pglog, mark)
    }

    fn wait_for_server(&self) -> Check {
        for _ in 0..600 {
            if self.sql("postgres", &["SELECT 1"]).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        fail!("the server did not come back")
    }

    /// Fails, naming the lines, when `log` says since byte `mark` that a server process died
    /// by a signal that no case sent.
    fn check_no_crash(&self, mark: u64, log: &Path) -> Check {
        let expected: BTreeSet<String> = fs::read_to_string(&self.expected_kills)
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_owned())
            .collect();
        let died = crashes(&log_after(log, mark), &expected);
        if !died.is_empty() {
            fail!(
                "a server process died (server log {}):\n{}",
                log.display(),
                died.join("\n")
            );
        }
        self.ok(format!(
            "no server process died by a signal (server log {})",
            log.display()
        ));
        Ok(())
    }
}

/// Puts both builds' log_file back to the default when the run ends, however it ends.
struct ResetSettings;

impl Drop for ResetSettings {
    fn drop(&mut self) {
        if let Ok(mut admin) = support::config("postgres").connect(postgres::NoTls) {
            for ext in EXTS {
                let _ = admin.batch_execute(&format!("ALTER SYSTEM RESET {ext}.log_file"));
            }
            let _ = admin.batch_execute("SELECT pg_reload_conf()");
        }
    }
}

// --- small helpers ------------------------------------------------------------------------------

/// The first column of each row `sql` returns (NULL as the empty string), or `SQLSTATE: message`.
fn rows(client: &mut Client, sql: &str) -> Check<Vec<String>> {
    let messages = client
        .simple_query(sql)
        .map_err(|e| support::sqlstate(&e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("").to_owned()),
            _ => None,
        })
        .collect())
}

/// `Ok` with the rows joined, or the statement's `SQLSTATE: message`.
fn outcome(client: &mut Client, sql: &str) -> Check<String> {
    rows(client, sql).map(|r| r.join("\n"))
}

/// A column's bytes as the server sent them, whatever the client encoding.
struct Raw(Vec<u8>);

impl FromSql<'_> for Raw {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Raw, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Runs `f` in a thread of its own; None when it has not finished after `limit` (it hangs).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(f());
    });
    receive.recv_timeout(limit).ok()
}

/// Runs `args` as `user` (through runuser, from /, unless this process is that user already).
fn as_user(user: &str, own_user: bool, args: &[&str]) -> Check {
    let mut command = if own_user {
        Command::new(args[0])
    } else {
        let mut command = Command::new("runuser");
        command.args(["-u", user, "--", args[0]]);
        command
    };
    command.args(&args[1..]).current_dir("/");
    run(&mut command)
}

/// Runs a command to its end; fails, with what it printed, unless it succeeds.
fn run(command: &mut Command) -> Check {
    let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if !out.status.success() {
        fail!(
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn log_after(log: &Path, mark: u64) -> String {
    let all = fs::read(log).unwrap_or_default();
    String::from_utf8_lossy(all.get(mark as usize..).unwrap_or_default()).into_owned()
}

fn count_lines(path: &Path) -> usize {
    fs::read(path).map_or(0, |b| b.iter().filter(|&&b| b == b'\n').count())
}

fn mode(path: &Path) -> Check<u32> {
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// "tps = 1234.5" from pgbench's report.
fn tps(report: &str) -> String {
    report
        .split_once("tps = ")
        .map(|(_, rest)| {
            let n: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            format!("tps = {n}")
        })
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// --- the run --------------------------------------------------------------------------------

fn main() {
    let names: Vec<String> = std::env::args()
        .skip(1)
        // cargo test's own flags (--nocapture, --test-threads=1, ...) mean nothing here.
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<&Case> = if names.is_empty() || names.iter().all(|n| n == "all") {
        CASES.iter().collect()
    } else {
        names
            .iter()
            .map(|n| {
                CASES.iter().find(|c| c.name == n).unwrap_or_else(|| {
                    let all: Vec<_> = CASES.iter().map(|c| c.name).collect();
                    eprintln!("cluster: no case {n}; cases: {} (or all)", all.join(" "));
                    std::process::exit(2)
                })
            })
            .collect()
    };
    let started = Instant::now();
    let mut h = Harness::new();
    let status = support::cluster_sh(&["status"]);
    if !String::from_utf8_lossy(&status.stdout).starts_with("cluster: running") {
        eprintln!("cluster: FAIL: the cluster is not running (just install)");
        std::process::exit(1);
    }
    let reset = ResetSettings;
    let mark = h.log_mark();
    h.label = "self-test".to_owned();
    let result = check_the_checkers(&h)
        .and_then(|()| setup(&h))
        .and_then(|()| run_cases(&mut h, &selected));
    h.label = "end".to_owned();
    h.design = None;
    let crash_check = h
        .check_no_crash(mark, &h.pglog.clone())
        .map_err(|e| format!("a backend died by a signal no case sent: {e}"));
    let failed: Vec<String> = [result, crash_check]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    let took = started.elapsed().as_secs();
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("cluster: FAIL {f}");
        }
        drop(reset);
        eprintln!("cluster: failed after {took}s");
        std::process::exit(1);
    }
    println!("cluster: every check passed ({took}s)");
}

/// A database of each build, made once, its extension afresh.
fn setup(h: &Harness) -> Check {
    for ext in EXTS {
        h.create_database(&db_of(ext), "")?;
        h.create_extension(&db_of(ext), ext)?;
    }
    Ok(())
}

fn run_cases(h: &mut Harness, cases: &[&Case]) -> Check {
    for case in cases {
        let one = |h: &mut Harness, ext: &'static str| {
            (case.run)(h, ext).map_err(|e| {
                let build = if ext.is_empty() {
                    String::new()
                } else {
                    format!(" {ext}")
                };
                format!("[{}] {}{build}: {e}", h.label, case.name)
            })
        };
        let designs = match case.runs {
            Runs::EachDesign => h.designs.clone(),
            Runs::Designs(some) => h
                .designs
                .iter()
                .copied()
                .filter(|d| some.contains(d))
                .collect(),
            Runs::EachSync(_) | Runs::Once(_) => vec![],
        };
        match case.runs {
            Runs::EachDesign | Runs::Designs(_) => {
                for design in designs {
                    for sync in h.syncs.clone() {
                        h.design = Some(design);
                        h.sync = sync;
                        h.label = label(design, sync);
                        for ext in EXTS {
                            one(h, ext)?;
                        }
                        if let Some(after) = case.after {
                            after(h).map_err(|e| format!("[{}] {}: {e}", h.label, case.name))?;
                        }
                    }
                }
            }
            Runs::EachSync(name) => {
                for sync in h.syncs.clone() {
                    (h.design, h.sync, h.label) = (None, sync, label(name, sync));
                    for ext in EXTS {
                        one(h, ext)?;
                    }
                }
            }
            Runs::Once(name) => {
                (h.design, h.sync, h.label) = (None, false, name.to_owned());
                one(h, "")?;
            }
        }
    }
    Ok(())
}

/// What a run's files are named after: the design (or case), and `_sync` with sync on.
fn label(name: &str, sync: bool) -> String {
    if sync {
        format!("{name}_sync")
    } else {
        name.to_owned()
    }
}

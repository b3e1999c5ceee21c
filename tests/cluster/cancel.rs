//! Calls interrupted while they wait (chapter 13): query cancels, statement_timeout and
//! terminations sent to sessions that log, in each design and sync setting.

use crate::harness::{count_lines, outcome, session_lines, within, Check, Run};
use postgres::Client;
use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xfunc_test_support::log_file::Expect;

/// Interrupted calls (of all sessions) after which the sessions may stop.
const MIN_INTERRUPTED: usize = 4;

// ANCHOR: cancel
/// Calls interrupted while they wait. CLIENTS/2 sessions log numbered lines (two of them with
/// statement_timeout = 5ms) while another session, every 5 ms, cancels one of them
/// (pg_cancel_backend) or, one time in eight, terminates it (pg_terminate_backend; the
/// session connects again and goes on). Each session makes CALLS/20 calls (CALLS_SYNC/20 with
/// sync on, at least 20), and goes on until MIN_INTERRUPTED calls of all sessions were
/// interrupted (a cancel that comes between two statements does nothing; without the sync a
/// call takes so little time that most do), or 60 s have gone by. No call hangs (the whole
/// case ends within 300 s), no
/// backend crashes; the file is whole and numbered, and holds, in each session's order, the
/// line of every call that returned, and only lines of calls that were made. A call that was
/// told "canceling statement" may have its line in the file: the cancel takes effect once the
/// line is written, never while it waits. The line logged last, by a session of its own, is the
/// file's last: no line was left waiting in the buffer.
pub fn cancel(r: &Run) -> Check {
    let (ext, db) = (r.ext, r.db());
    let file = format!("shmem_cancel_{ext}_{}.log", r.label);
    let (sessions, calls) = ((r.clients / 2).max(3), (r.calls() / 20).max(20));
    r.fresh_log_file(&file)?;
    let pids = Arc::new(Mutex::new(vec![0i32; sessions]));
    let done = Arc::new(AtomicBool::new(false));
    let interrupted_so_far = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut threads = Vec::new();
    for i in 0..sessions {
        let config = r.config(&db);
        let (pids, interrupted_so_far) = (pids.clone(), interrupted_so_far.clone());
        threads.push(std::thread::spawn(move || {
            log_in_session(i, &config, calls, &pids, &interrupted_so_far, started)
        }));
    }
    let disrupter = r.connect("postgres")?;
    let (pids2, done2) = (pids.clone(), done.clone());
    let disrupting = std::thread::spawn(move || disrupt(disrupter, &pids2, &done2));
    let finished = within(Duration::from_secs(300), move || {
        threads
            .into_iter()
            .map(|t| t.join().map_err(|_| "a session panicked".to_owned())?)
            .collect::<Check<Vec<_>>>()
    });
    done.store(true, Relaxed);
    let (cancels, terminations) = disrupting.join().map_err(|_| "the disrupter panicked")?;
    let said = finished.ok_or("a session hung: not done after 300 s")??;

    let lines = session_lines(&r.pgdata.join(&file), "cancel")?;
    let (interrupted, written_first) = check_lines(&said, &lines)?;
    let total: usize = said.iter().map(Vec::len).sum();
    if interrupted == 0 {
        fail!("no call was interrupted ({cancels} cancels, {terminations} terminations sent)");
    }
    let before = count_lines(&r.pgdata.join(&file));
    r.sql(&db, &["SELECT xfunc_log('the last line')"])?;
    r.check_log(&file, Expect::lines(before + 1))?;
    let data = fs::read_to_string(r.pgdata.join(&file)).map_err(|e| e.to_string())?;
    if !data.trim_end().ends_with(" the last line") {
        fail!("the line logged last is not the file's last");
    }
    r.ok(format!(
        "{ext}: {sessions} sessions x {calls} calls or more ({total} in all), {cancels} cancels and {terminations} \
         terminations sent, {interrupted} calls interrupted ({written_first} of them after their \
         line was written): every line of a call that returned, in order, none left behind"
    ));
    Ok(())
}

/// Session `i` (in a thread of its own): logs "cancel session <i> call <j>", at least `calls`
/// times and until MIN_INTERRUPTED calls of all sessions were interrupted or 60 s have gone by
/// since `started`; keeps its backend's pid in `pids`, and connects again when terminated.
/// Returns what each call said ("terminated: ..." for a call whose connection was closed).
fn log_in_session(
    i: usize,
    config: &postgres::Config,
    calls: usize,
    pids: &Mutex<Vec<i32>>,
    interrupted_so_far: &AtomicUsize,
    started: Instant,
) -> Check<Vec<Check<String>>> {
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
    for j in 0.. {
        let enough = interrupted_so_far.load(Relaxed) >= MIN_INTERRUPTED
            || started.elapsed() > Duration::from_secs(60);
        if j >= calls && enough {
            break;
        }
        let query = format!("SELECT xfunc_log('cancel session {i} call {j}')");
        let result = outcome(&mut client, &query);
        if result.as_ref().is_err_and(|e| interruption(e)) || client.is_closed() {
            interrupted_so_far.fetch_add(1, Relaxed);
        }
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
}

/// The disrupter (in a thread of its own, on `disrupter`): every 5 ms, until `done`, cancels
/// one of the backends in `pids`, or, one time in eight, terminates it. Returns how many
/// cancels and terminations it sent.
fn disrupt(mut disrupter: Client, pids: &Mutex<Vec<i32>>, done: &AtomicBool) -> (usize, usize) {
    let (mut cancels, mut terminations, mut state) = (0, 0, 0x9e37_79b9_7f4a_7c15_u64);
    while !done.load(Relaxed) {
        std::thread::sleep(Duration::from_millis(5));
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let pids = pids.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
}

/// The file's lines (`lines`, by session) against what each session's calls said (`said`):
/// each session's in order, none of a call never made, the line of every call that returned,
/// and no error but an interruption. Returns how many calls were interrupted, and how many of
/// those have their line in the file.
fn check_lines(
    said: &[Vec<Check<String>>],
    lines: &BTreeMap<usize, Vec<usize>>,
) -> Check<(usize, usize)> {
    let (mut interrupted, mut written_first) = (0, 0);
    for (i, calls_said) in said.iter().enumerate() {
        let in_file = lines.get(&i).cloned().unwrap_or_default();
        let made = calls_said.len();
        if in_file.windows(2).any(|w| w[0] >= w[1]) || in_file.iter().any(|&j| j >= made) {
            fail!("session {i}: lines out of order, twice, or of calls never made: {in_file:?}");
        }
        for (j, said) in calls_said.iter().enumerate() {
            match said {
                Ok(_) if !in_file.contains(&j) => {
                    fail!("session {i}: call {j} returned, its line is missing")
                }
                Ok(_) => {}
                Err(e) if interruption(e) || e.starts_with("terminated: ") => {
                    interrupted += 1;
                    written_first += usize::from(in_file.contains(&j));
                }
                Err(e) => fail!("session {i} call {j}: {e}"),
            }
        }
    }
    Ok((interrupted, written_first))
}

/// An ERROR of an interrupted call: canceled (57014: a cancel or statement_timeout) or
/// terminated (57P01).
fn interruption(error: &str) -> bool {
    error.starts_with("57014: ") || error.starts_with("57P01: ")
}
// ANCHOR_END: cancel

//! A backend killed with SIGKILL while others log (chapters 12 and 13), and a last line torn.

use crate::harness::{count_lines, run_command, Check, Run};
use crate::load::PGBENCH_SCRIPT;
use std::fs::{self, File};
use std::process::{Child, Command};
use std::time::Duration;
use xfunc_test_support::log_file::Expect;

// ANCHOR: crash
/// kill -9 one backend while CLIENTS others log. The postmaster ends every backend, creates
/// shared memory anew (the chapter 12 counter is 0 again), and logging goes on; the file holds
/// only whole lines, numbered without a gap across the crash, and every call pgbench counted
/// as done has its line. Then a torn last line is cut off. With sync on, where every line waits
/// for the disk, the counts follow CALLS_SYNC instead of CALLS.
pub fn crash(r: &Run) -> Check {
    let (ext, db, file) = (
        r.ext,
        r.db(),
        format!("shmem_crash_{}_{}.log", r.ext, r.label),
    );
    r.fresh_log_file(&file)?;
    let script = r.work_file("xfunc_log.sql", PGBENCH_SCRIPT)?;
    r.sql(
        &db,
        &[
            "SELECT shared_counter_reset()",
            "SELECT shared_counter_add(42)",
        ],
    )?;
    let output = r.work.join(format!("pgbench_crash_{ext}.txt"));
    kill_one_backend(r, &file, &script, &output)?;
    let counter = r.value(&db, "SELECT value FROM shared_counter()")?;
    if counter != "0" {
        fail!("counter is {counter} after the restart, not 0");
    }
    r.ok(format!(
        "{ext}: shared_counter is 0 again: shared memory was set up anew"
    ));

    let before = count_lines(&r.pgdata.join(&file));
    let pgbench_said = fs::read_to_string(&output).unwrap_or_default();
    let processed = pgbench_said.lines().find_map(|l| {
        let n = l.strip_prefix("number of transactions actually processed: ")?;
        n.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<usize>()
            .ok()
    });
    r.check_log(
        &file,
        Expect {
            lines: Some(before),
            min_lines: Some(processed.unwrap_or(0)),
            ..Expect::default()
        },
    )?;
    r.ok(format!(
        "{ext}: {before} lines before and during the crash; pgbench counted {} calls done",
        processed.map_or("?".to_owned(), |n| n.to_string())
    ));
    let after = r.calls() / 10;
    let args = ["-c", "4", "-j", "2", "-t", &after.to_string()];
    r.pgbench(&args, &script, &db, "pgbench_after_crash.txt")?;
    r.check_log(&file, Expect::lines(before + 4 * after))?;
    r.ok(format!(
        "{ext}: {} more lines after the restart, numbered on from {}",
        4 * after,
        before + 1
    ));
    torn_line(r, &file, before + 4 * after)
}

/// Starts CLIENTS pgbench clients logging for up to a minute (what they print goes to
/// `output`), kills one of their backends with SIGKILL once the file has CALLS / 2 lines
/// (CALLS_SYNC / 2 with sync on), and
/// checks that pgbench noticed and that the postmaster reinitialized.
fn kill_one_backend(r: &Run, file: &str, script: &str, output: &std::path::Path) -> Check {
    let (ext, db) = (r.ext, r.db());
    let mark = r.log_mark();
    let clients = r.clients.to_string();
    let mut bench = r.pgbench_command(&["-c", &clients, "-j", "2", "-T", "60"], script, &db);
    let out = File::create(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut bench = bench
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("pgbench: {e}"))?;
    let victim = victim(r, file, &mut bench)?;
    // Listed before the kill: the crash check excuses this one death.
    r.crash_check.expect_kill(&victim)?;
    run_command(Command::new("kill").args(["-9", &victim]))?;
    if bench.wait().map_err(|e| e.to_string())?.success() {
        fail!("pgbench did not notice the crash");
    }
    r.wait_for_server()?;
    let server_log = r.log_since(mark);
    if !server_log.contains(&format!(
        "server process (PID {victim}) was terminated by signal 9"
    )) {
        fail!("the server log does not show the crash");
    }
    if !server_log.contains("all server processes terminated; reinitializing") {
        fail!("the server log does not show the restart");
    }
    r.ok(format!(
        "{ext}: killed backend {victim}; the postmaster reinitialized"
    ));
    Ok(())
}

/// The PID of one of the backends of the pgbench run `bench`, once `file` has CALLS / 2 lines
/// (CALLS_SYNC / 2 with sync on), or after 30 s.
fn victim(r: &Run, file: &str, bench: &mut Child) -> Check<String> {
    let victim_query = format!(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = '{}'
          ORDER BY random() LIMIT 1",
        r.db()
    );
    let mut victim = String::new();
    let enough = r.calls() / 2;
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        victim = r.value("postgres", &victim_query)?;
        if !victim.is_empty() && count_lines(&r.pgdata.join(file)) > enough {
            break;
        }
    }
    if victim.is_empty() {
        let _ = bench.kill();
        fail!("no pgbench backend to kill");
    }
    Ok(victim)
}

/// A last line cut short (as a power failure could leave it) after `lines` whole ones is
/// removed by the next writer, with a LOG line, and the numbering goes on.
fn torn_line(r: &Run, file: &str, lines: usize) -> Check {
    let mark = r.log_mark();
    let torn = format!(
        "printf '2001-02-03T04:05:06.000007Z 1 %s torn' {} >>'{}'",
        lines + 1,
        r.pgdata.join(file).display()
    );
    r.as_server(&["sh", "-c", &torn])?;
    r.sql(&r.db(), &["SELECT xfunc_log('after a torn line')"])?;
    let server_log = r.log_since(mark);
    if !server_log
        .lines()
        .any(|l| l.contains("removed an incomplete last line of ") && l.contains(" bytes"))
    {
        fail!("no LOG line about the torn line");
    }
    r.check_log(file, Expect::lines(lines + 1))?;
    r.ok(format!(
        "{}: a torn last line was cut off, numbering went on",
        r.ext
    ));
    Ok(())
}
// ANCHOR_END: crash

//! Many backends at once (chapters 12 and 13): pgbench clients logging into one file, in one
//! design (`concurrency`) and in all designs at once (`mixed`), and adding to the counters.

use crate::harness::{rows, tps, Check, Run, DESIGNS};
use xfunc_test_support as support;
use xfunc_test_support::log_file::Expect;

// ANCHOR: pgbench_script
/// Each transaction logs one line whose message has a tab and a newline to escape.
pub const PGBENCH_SCRIPT: &str = r"SELECT xfunc_log(E'pgbench client :client_id: a tab\there, a newline\nthere');
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
/// CLIENTS backends x CALLS calls (CALLS_SYNC with sync on): exactly CLIENTS*CALLS lines,
/// numbered 1.. in file order, CALLS from each client. Meanwhile a sampler counts the LWLock
/// wait events of the clients. Then one client alone, and (with the sync off: they do not log)
/// the counters of chapter 12 under the same load.
pub fn concurrency(r: &Run) -> Check {
    let (ext, db, file) = (
        r.ext,
        r.db(),
        format!("shmem_concurrency_{}_{}.log", r.ext, r.label),
    );
    let (clients, calls) = (r.clients, r.calls());
    r.fresh_log_file(&file)?;
    let script = r.work_file("xfunc_log.sql", PGBENCH_SCRIPT)?;
    let mut sampler = r.connect(&db)?;
    let sampler = std::thread::spawn(move || -> Check<Vec<String>> {
        let (setup, sample, report) = (WAIT_SAMPLER[0], WAIT_SAMPLER[1], WAIT_SAMPLER[2]);
        for sql in [setup, sample] {
            sampler
                .batch_execute(sql)
                .map_err(|e| support::sqlstate(&e))?;
        }
        rows(&mut sampler, report)
    });
    let (clients_arg, calls_arg) = (clients.to_string(), calls.to_string());
    let args = ["-c", &clients_arg, "-j", "2", "-t", &calls_arg];
    let out = r.pgbench(&args, &script, &db, &format!("pgbench_{ext}.txt"))?;
    let waits = sampler.join().map_err(|_| "the sampler panicked")??;
    r.ok(format!(
        "{ext}: pgbench {clients} clients x {calls} calls, {}",
        tps(&out)
    ));
    r.check_log(
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
    r.ok(format!(
        "{ext}: wait events sampled (LWLock): {}",
        waits.join(",")
    ));
    // One client alone, for the cost of the lock (no waiting at all).
    let args = ["-c", "1", "-t", &calls_arg];
    let out = r.pgbench(&args, &script, &db, &format!("pgbench1_{ext}.txt"))?;
    r.ok(format!(
        "{ext}: pgbench 1 client x {calls} calls, {}",
        tps(&out)
    ));
    match r.sync {
        false => counters(r),
        true => Ok(()),
    }
}

/// The chapter 12 counter under the same load: no update lost; then the contention
/// benchmark's other counters: atomic, spinlock (and in Rust, pgrx's PgLwLock and by hand).
fn counters(r: &Run) -> Check {
    let (ext, db, clients) = (r.ext, r.db(), r.clients);
    let script = r.work_file("counter.sql", "SELECT shared_counter_add(1);\n")?;
    r.sql(&db, &["SELECT shared_counter_reset()"])?;
    let clients_arg = clients.to_string();
    let each = ["-c", &clients_arg, "-j", "2", "-t", "1000"];
    r.pgbench(&each, &script, &db, "pgbench_counter.txt")?;
    let counted = r.value(&db, "SELECT value || ' ' || updates FROM shared_counter()")?;
    if counted != format!("{0} {0}", clients * 1000) {
        fail!("counter {counted}");
    }
    r.ok(format!(
        "{ext}: shared_counter after {clients} clients x 1000 adds: value updates = {counted}"
    ));
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
        let script = r.work_file(&format!("counter_{f}.sql"), &format!("SELECT {call};\n"))?;
        r.sql(&db, &["SELECT shared_counter_reset()"])?;
        r.pgbench(&each, &script, &db, &format!("pgbench_counter_{f}.txt"))?;
        let counted = r.value(&db, &format!("SELECT {call}"))?;
        if counted != (clients * 1000 + 1).to_string() {
            fail!("{f} counted {counted}");
        }
    }
    r.ok(format!(
        "{ext}: {}: {clients} clients x 1000 calls, none lost",
        functions.join(" ")
    ));
    Ok(())
}
// ANCHOR_END: concurrency

// ANCHOR: mixed
/// Every design at once on one file, CLIENTS / (number of groups) pgbench clients in each
/// design (with sync on, one group more: group_commit without the sync, whose lines share
/// batches with synced ones). Every line whole, numbered 1.. in file order, CALLS from each
/// client: the designs number and write under one lock.
pub fn mixed(r: &Run) -> Check {
    let (ext, db, file) = (r.ext, r.db(), format!("shmem_{}_{}.log", r.label, r.ext));
    let mut groups: Vec<(&str, bool)> = DESIGNS.iter().map(|&d| (d, r.sync)).collect();
    if r.sync {
        groups.push(("group_commit", false));
    }
    let (each, calls) = (r.clients / groups.len(), r.calls());
    r.fresh_log_file(&file)?;
    let mut runs = Vec::new();
    for (i, &(design, sync)) in groups.iter().enumerate() {
        // Client ids made distinct across the runs: pgbench numbers each run's from 0.
        let script = PGBENCH_SCRIPT.replace(":client_id:", ":id:");
        let script = format!("\\set id :client_id + {}\n{script}", i * each);
        let script = r.work_file(&format!("xfunc_log_mixed_{i}.sql"), &script)?;
        let args = ["-c", &each.to_string(), "-j", "1", "-t", &calls.to_string()];
        let mut bench = r.pgbench_command(&args, &script, &db);
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
    r.check_log(
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
    r.ok(format!(
        "{ext}: {} x {calls} calls: one sequence",
        said.join(" + ")
    ));
    Ok(())
}
// ANCHOR_END: mixed

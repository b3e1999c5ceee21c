//! The tests of chapters 12 and 13 that a regress file cannot make: many backends at once, a
//! backend killed with SIGKILL, failing writes, syncs and reads, a write failure carried by a
//! batch, calls cancelled and terminated while they wait, a database that is not UTF-8, all log
//! designs on one file, a kept file rotated away, and a cluster that does not preload the
//! libraries. Each runs against both builds, xfunc (Rust) and xfunc_c (C).
//!
//!   cargo test --test cluster [-- FILTER]        (just cluster-tests [CASE...])
//!   cargo test --test cluster -- --list
//!
//! A libtest-mimic harness: each case of `CASES` is one test, or one per log design and sync
//! setting, named `case::design` with the sync off and `case::design_sync` with it on
//! (`crash::kept_open`, `crash::group_commit_sync`); the standard options work (`--list`, a
//! filter, `--exact`, `--skip`), and the tests run one at a time, in the order of `CASES`. The
//! cases that run in each design (DESIGNS, default all of harness::DESIGNS) and sync setting
//! (SYNCS, default `off on`) set them for every session and every pgbench run with `-c
//! xfunc.log_design=... -c xfunc.log_sync=...` and the same for xfunc_c (PGOPTIONS); the files
//! they write carry the test's label (`group_commit_sync`). Environment: CLIENTS (pgbench
//! clients, 16), CALLS (calls per client, 10000), CALLS_SYNC (calls per client with sync on,
//! where every line waits for the disk: 200), DESIGNS, SYNCS.
//!
//! Expects the cluster to be running with both extensions installed (`just install`). Changes
//! xfunc.log_file and xfunc_c.log_file with ALTER SYSTEM while it runs and resets them at the
//! end; the crash case restarts every backend of the cluster, so run nothing else meanwhile.
//! A test fails, whatever its checks said, when the server log shows a server process that died
//! meanwhile by a signal no case sent (the crash check, tools/lib/env.sh); so does the run.
//!
//! Prints one `ok` line per check. Not a `cargo test` default target (Cargo.toml: `test =
//! false`, `harness = false`). The checkers it relies on (the log-file check, the crash check)
//! are tested by tests/checkers.rs (`just checker-tests`).

/// Returns from the check with a message made like format!'s.
macro_rules! fail {
    ($($arg:tt)*) => { return Err(format!($($arg)*)) };
}

mod cancel;
mod crash;
mod encoding;
mod files;
mod harness;
mod load;
mod no_preload;

use harness::{Check, Env, Knobs, Run, EXTS};
use libtest_mimic::{Arguments, Trial};
use std::sync::OnceLock;
use xfunc_test_support as support;
use xfunc_test_support::crash_check::CrashCheck;

/// Which builds, designs and sync settings a case runs for.
#[derive(Clone, Copy)]
enum Runs {
    /// One test per log design (DESIGNS) and sync setting (SYNCS), each for both builds in
    /// turn.
    EachDesign,
    /// The same, for those of the designs given that DESIGNS names.
    Designs(&'static [&'static str]),
    /// One test per sync setting, for both builds in turn, each session in the design the case
    /// gives it, the files named with a label (and `_sync`).
    EachSync(&'static str),
    /// One test, run once for both builds, the label given.
    Once(&'static str),
}

struct Case {
    name: &'static str,
    runs: Runs,
    /// One run, for the build the `Run` names (`""` for a case that runs once).
    run: fn(&Run) -> Check,
    /// Run after both builds, in each design.
    after: Option<fn(&Run) -> Check>,
}

// ANCHOR: cases
/// Every case, in the order they run. A new case is one more line here and its function.
const CASES: &[Case] = &[
    case("concurrency", Runs::EachDesign, load::concurrency),
    case("crash", Runs::EachDesign, crash::crash),
    case("failures", Runs::EachDesign, files::failures),
    case("carried", Runs::EachDesign, files::carried),
    case("cancel", Runs::EachDesign, cancel::cancel),
    Case {
        after: Some(encoding::encoding_same_bytes),
        ..case("encoding", Runs::EachDesign, encoding::encoding)
    },
    case("mixed", Runs::EachSync("mixed"), load::mixed),
    case(
        "rotate",
        Runs::Designs(&["kept_open", "group_commit"]),
        files::rotate,
    ),
    case(
        "no-preload",
        Runs::Once("no_preload"),
        no_preload::no_preload,
    ),
];
// ANCHOR_END: cases

const fn case(name: &'static str, runs: Runs, run: fn(&Run) -> Check) -> Case {
    Case {
        name,
        runs,
        run,
        after: None,
    }
}

/// The cluster and the run's crash check, set by `main` before the first test runs.
static CLUSTER: OnceLock<(Env, CrashCheck)> = OnceLock::new();

/// The tests: each case, once, once per sync setting in `knobs.syncs`, or once per design in
/// `knobs.designs` and sync setting, in the order of CASES.
fn trials(knobs: &Knobs) -> Vec<Trial> {
    let mut trials = Vec::new();
    for case in CASES {
        let test = |name: String, design: Option<&'static str>, sync: bool, label: String| {
            Trial::test(name, move || Ok(run_test(case, design, sync, &label)?))
        };
        let designs: Vec<&'static str> = match case.runs {
            Runs::EachDesign => knobs.designs.clone(),
            Runs::Designs(some) => knobs
                .designs
                .iter()
                .copied()
                .filter(|d| some.contains(d))
                .collect(),
            Runs::EachSync(_) | Runs::Once(_) => vec![],
        };
        match case.runs {
            Runs::EachDesign | Runs::Designs(_) => {
                for &design in &designs {
                    for &sync in &knobs.syncs {
                        let label = label(design, sync);
                        let name = format!("{}::{label}", case.name);
                        trials.push(test(name, Some(design), sync, label));
                    }
                }
            }
            Runs::EachSync(name) => {
                for &sync in &knobs.syncs {
                    let label = label(name, sync);
                    let test_name = match sync {
                        false => case.name.to_owned(),
                        true => format!("{}::sync", case.name),
                    };
                    trials.push(test(test_name, None, sync, label));
                }
            }
            Runs::Once(label) => trials.push(test(case.name.into(), None, false, label.into())),
        }
    }
    trials
}

/// What a run's files are named after: the design (or case), and `_sync` with sync on.
fn label(name: &str, sync: bool) -> String {
    match sync {
        false => name.to_owned(),
        true => format!("{name}_sync"),
    }
}

/// One test: the case, then the crash check of the time it ran (a test fails too when a
/// server process died meanwhile by a signal no case sent).
fn run_test(case: &Case, design: Option<&'static str>, sync: bool, label: &str) -> Check {
    let (env, run_check) = CLUSTER
        .get()
        .expect("main sets CLUSTER before the tests run");
    println!(); // after libtest's "test NAME ... ", before the case's lines
    let crash_check = run_check.from_now();
    let result = run_case(case, env, run_check, design, sync, label);
    let crashed = crash_check
        .check()
        .err()
        .map(|e| format!("a server process died by a signal no case sent: {e}"));
    match (result, crashed) {
        (result, None) => result,
        (Ok(()), Some(crashed)) => Err(crashed),
        (Err(e), Some(crashed)) => Err(format!("{e}\n{crashed}")),
    }
}

/// The case for each build in turn (or once, for both), then its `after`.
fn run_case(
    case: &Case,
    env: &Env,
    crash_check: &CrashCheck,
    design: Option<&'static str>,
    sync: bool,
    label: &str,
) -> Check {
    let run = |ext| Run {
        env,
        crash_check,
        host: env.host.clone(),
        design,
        sync,
        label,
        ext,
    };
    let named = |ext: &str, e: String| match ext {
        "" => format!("[{label}] {}: {e}", case.name),
        ext => format!("[{label}] {} {ext}: {e}", case.name),
    };
    if let Runs::Once(_) = case.runs {
        return (case.run)(&run("")).map_err(|e| named("", e));
    }
    for ext in EXTS {
        (case.run)(&run(ext)).map_err(|e| named(ext, e))?;
    }
    match case.after {
        Some(after) => after(&run("")).map_err(|e| named("(both builds)", e)),
        None => Ok(()),
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // The cases share one cluster and its settings: one at a time, in the order of CASES.
    args.test_threads = Some(1);
    let knobs = Knobs::from_environment();
    let trials = trials(&knobs);
    if args.list {
        libtest_mimic::run(&args, trials).exit();
    }
    let status = support::cluster_sh(&["status"]);
    if !String::from_utf8_lossy(&status.stdout).starts_with("cluster: running") {
        eprintln!("cluster: FAIL: the cluster is not running (just install)");
        std::process::exit(1);
    }
    let env = Env::new(&knobs);
    let crash_check = CrashCheck::start(&env.pglog).unwrap_or_else(|e| {
        eprintln!("cluster: FAIL: the crash check: {e}");
        std::process::exit(1)
    });
    let (env, crash_check) = CLUSTER.get_or_init(|| (env, crash_check));
    let reset = ResetSettings;
    if let Err(e) = setup(env, crash_check) {
        eprintln!("cluster: FAIL setting up: {e}");
        drop(reset);
        std::process::exit(1);
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop(reset);
    // Whatever the tests said, and outside them: the crash check of the whole run.
    match crash_check.check() {
        Ok(line) => println!("cluster: {line}"),
        Err(e) => {
            eprintln!("cluster: FAIL a server process died by a signal no case sent: {e}");
            std::process::exit(101);
        }
    }
    conclusion.exit()
}

/// A database of each build, made once, its extension afresh.
fn setup(env: &Env, crash_check: &CrashCheck) -> Check {
    for ext in EXTS {
        let run = Run {
            env,
            crash_check,
            host: env.host.clone(),
            design: None,
            sync: false,
            label: "setup",
            ext,
        };
        run.create_database(&run.db(), "")?;
        run.create_extension(&run.db(), ext)?;
    }
    Ok(())
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

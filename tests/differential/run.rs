//! The run: every function both builds have, in turn, called on both with the same arguments,
//! the answers compared; what differs is reported with the seed that replays it.

use crate::args::Ctx;
use crate::calls::{self, Call};
use crate::catalog::{self, Function, RowTypes};
use crate::changes;
use crate::db::{self, Outcome, Pair, ENCODINGS};
use crate::known;
use crate::log_files::LogFiles;
use crate::rng::Rng;
use crate::shapes;
use crate::Settings;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One call: of which function, in which database pair, its SQL and its number.
#[derive(Clone, Copy)]
struct Site<'a> {
    f: &'a Function,
    p: usize,
    call: &'a Call,
    n: u64,
}

/// After this many failures a function's calls stop: the rest would say the same.
const FAILURES_PER_FUNCTION: u32 = 20;

struct Run<'a> {
    s: &'a Settings,
    pairs: Vec<Pair>,
    log_files: LogFiles,
    /// The names of the functions with a fast variant to call as well.
    fast: BTreeSet<String>,
    failures: Vec<String>,
    /// The known differences met, and in how many calls.
    known_seen: Vec<(&'static str, u64)>,
    /// Each function's share of XFUNC_DIFFTEST_SECONDS.
    per_function: Option<Duration>,
    total_calls: u64,
}

pub fn run(s: &Settings) {
    println!(
        "differential test: seed {} ({} calls per function{})",
        s.seed,
        s.calls,
        s.budget
            .map(|b| format!(", at most {}s in all", b.as_secs()))
            .unwrap_or_default()
    );
    println!("replay: XFUNC_DIFFTEST_SEED={} just difftest", s.seed);
    let started = Instant::now();
    db::create_databases();
    let mut pairs: Vec<Pair> = ENCODINGS.iter().map(|&enc| Pair::open(enc)).collect();
    let mut failures = Vec::new();
    let (functions, fast) = functions(&mut pairs[0], s, &mut failures);
    println!("{} functions in both builds", functions.len());
    let log_files = LogFiles::new();
    log_files.wait_for_all(&mut pairs);
    // The shared counter of each build starts from zero.
    for pair in &mut pairs {
        for db in [&mut pair.rust, &mut pair.c] {
            db.run("SELECT shared_counter_reset()")
                .expect("resetting the counter");
        }
    }
    let mut run = Run {
        s,
        pairs,
        log_files,
        fast,
        failures,
        known_seen: Vec::new(),
        per_function: s.budget.map(|b| b / functions.len().max(1) as u32),
        total_calls: 0,
    };
    for f in &functions {
        run.function(f);
    }
    run.finish(started);
}

/// The functions to call: every function of either build (one that only one build has is a
/// failure, but the fast variants and known::RUST_ONLY), or those XFUNC_DIFFTEST_ONLY names;
/// and the names of the fast variants to hold to the C build. A VOLATILE one (the shared
/// counter's) moves the Rust build's state a second time: its answer is compared with a second
/// call of the C build, which moves the C build's state as far.
fn functions(
    pair: &mut Pair,
    s: &Settings,
    failures: &mut Vec<String>,
) -> (Vec<Function>, BTreeSet<String>) {
    let (fast, mut rust): (BTreeMap<_, _>, BTreeMap<_, _>) =
        catalog::extension_functions(&mut pair.rust)
            .into_iter()
            .filter(|(signature, _)| !known::RUST_ONLY.contains(&signature.as_str()))
            .partition(|(signature, _)| signature.starts_with("xfunc_fast."));
    let fast = fast.into_values().map(|f| f.name);
    let mut c = catalog::extension_functions(&mut pair.c);
    let signatures: BTreeSet<String> = rust.keys().chain(c.keys()).cloned().collect();
    let mut functions = Vec::new();
    for signature in signatures {
        let (r, c) = (rust.remove(&signature), c.remove(&signature));
        match (&r, &c) {
            (Some(r), Some(c)) if r.declared != c.declared => failures.push(format!(
                "{signature} is declared differently: {} in xfunc, {} in xfunc_c",
                r.declared, c.declared
            )),
            (Some(_), None) => failures.push(format!("{signature} is only in xfunc")),
            (None, Some(_)) => failures.push(format!("{signature} is only in xfunc_c")),
            _ => {}
        }
        let f = r.or(c).expect("a signature of one build or the other");
        if s.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == f.sql_name()))
        {
            functions.push(f);
        }
    }
    (functions, fast.collect())
}

impl Run<'_> {
    /// Calls `f` XFUNC_DIFFTEST_CALLS times (or for its share of the time), in a database pair
    /// picked for each call, changing the catalog under it now and then.
    fn function(&mut self, f: &Function) {
        let started = Instant::now();
        let mut rng = Rng::for_function(self.s.seed, &f.signature);
        for pair in &mut self.pairs {
            pair.reset();
        }
        let mut rows: Vec<RowTypes> = self
            .pairs
            .iter_mut()
            .map(|pair| catalog::row_types(&mut pair.rust, &f.args))
            .collect();
        let shape = shapes::find(&f.name);
        if let Some(why) = shape.map_or_else(|| calls::default_refused(f, &rows[0]), |_| None) {
            println!("{:<45} not called: {why}", f.signature);
            self.failures.push(why);
            return;
        }
        let targets = changes::targets(f, &rows[0], &mut self.pairs[0].rust);
        let (mut calls, mut errors, mut failed) = (0u64, 0u64, 0u32);
        // A call in a parallel plan starts worker processes (tens of milliseconds): a tenth as
        // many calls.
        let max_calls = if shapes::PARALLEL.contains(&f.name.as_str()) {
            (self.s.calls / 10).max(self.s.calls.min(20))
        } else {
            self.s.calls
        };
        while calls < max_calls
            && failed < FAILURES_PER_FUNCTION
            && self.per_function.is_none_or(|b| started.elapsed() <= b)
        {
            let p = match rng.below(10) {
                0 => 1,
                1 => 2,
                _ => 0,
            };
            if let Some(change) = targets.iter().find_map(|t| t.roll(&mut rng)) {
                self.change(p, change);
                rows[p] = catalog::row_types(&mut self.pairs[p].rust, &f.args);
            }
            if shapes::WRITES_LOG.contains(&f.name.as_str()) && calls % 500 == 499 {
                self.log_files.rotate(&mut self.pairs);
            }
            let mut cx = Ctx {
                rng: &mut rng,
                enc: self.pairs[p].enc,
                rows: &rows[p],
            };
            let call = match shape {
                Some(shape) => (shape.call)(&mut cx, f),
                None => calls::default_call(&mut cx, f),
            };
            calls += 1;
            let (error, failures) = self.compare(f, p, &call, calls);
            errors += u64::from(error);
            failed += failures;
        }
        self.total_calls += calls;
        println!(
            "{:<45} {calls:>8} calls ({errors} errors, same in both) {:>7.1}s{}",
            f.signature,
            started.elapsed().as_secs_f64(),
            if shape.is_some() { "  (shapes.rs)" } else { "" }
        );
    }

    /// Makes a catalog change (None: recreate the extensions) in both databases of pair `p`;
    /// the two must take it alike.
    fn change(&mut self, p: usize, change: Option<String>) {
        let pair = &mut self.pairs[p];
        let Some(sql) = change else {
            pair.reset();
            return;
        };
        let r = pair
            .rust
            .run(&sql)
            .map_err(|e| e.replace("xfunc_c", "xfunc"));
        let c = pair.c.run(&sql).map_err(|e| e.replace("xfunc_c", "xfunc"));
        if r != c {
            self.failures.push(format!(
                "seed {}: {sql} in {:?}: xfunc {r:?}, xfunc_c {c:?}",
                self.s.seed, pair.enc
            ));
        }
        if r.is_ok() {
            pair.history.push(sql);
        }
    }

    /// Makes call number `n` of `f` in pair `p` on both builds (and on the fast variant, if
    /// any): whether the Rust build's answer was an ERROR, and how many failures it made.
    fn compare(&mut self, f: &Function, p: usize, call: &Call, n: u64) -> (bool, u32) {
        let sql = call.wrapped();
        let pair = &mut self.pairs[p];
        let rust = db::call(&mut pair.rust, &sql);
        let mut c = db::call(&mut pair.c, &sql);
        // A message that names the build (a setting, a file: the shared log's) names it as
        // the Rust build does.
        if let Outcome::Error(_, message) = &mut c {
            *message = message.replace("xfunc_c", "xfunc");
        }
        let fast = self.fast.contains(&f.name).then(|| {
            let fast = db::call(&mut pair.fast, &sql);
            // The fast call moved the Rust build's state (the shared counter): the C build's
            // moves as far, and the two answers are compared from the same state.
            let c = if f.volatile {
                let mut again = db::call(&mut pair.c, &sql);
                if let Outcome::Error(_, message) = &mut again {
                    *message = message.replace("xfunc_c", "xfunc");
                }
                again
            } else {
                c.clone()
            };
            (fast, c)
        });
        let site = Site { f, p, call, n };
        let mut failed = self.check(&site, "xfunc", &rust, &c);
        if let Some((fast, c)) = fast {
            failed += self.check(&site, "xfunc_fast", &fast, &c);
        }
        (matches!(rust, Outcome::Error(..)), failed)
    }

    /// Whether the answer of `build` and the C build's are the same, or differ in a known
    /// way; if not, a failure (1), and a dead backend ends the run.
    fn check(&mut self, site: &Site<'_>, build: &str, got: &Outcome, c: &Outcome) -> u32 {
        let dead = matches!(got, Outcome::Dead(_)) || matches!(c, Outcome::Dead(_));
        if got == c && !dead {
            return 0;
        }
        if let Some(why) = (!dead)
            .then(|| known::allowed(&site.f.name, &site.call.sql(), got, c))
            .flatten()
        {
            match self.known_seen.iter_mut().find(|(w, _)| *w == why) {
                Some((_, count)) => *count += 1,
                None => self.known_seen.push((why, 1)),
            }
            return 0;
        }
        let report = self.report(site, build, got, c);
        self.failures.push(report);
        if dead {
            // A crash restarts the whole cluster: nothing after it means anything.
            print_failures(&self.failures, self.s.seed);
            panic!("a backend died; seed {}", self.s.seed);
        }
        1
    }

    fn report(&self, site: &Site<'_>, build: &str, got: &Outcome, c: &Outcome) -> String {
        let Site { f, p, call, n } = *site;
        let (pair, seed) = (&self.pairs[p], self.s.seed);
        let schema = if build == "xfunc_fast" {
            "xfunc_fast."
        } else {
            ""
        };
        let mut report = format!(
            "seed {seed} function {schema}{} call {n} database pair {:?} \
             (difftest_xfunc{suffix} / difftest_xfunc_c{suffix})\n  replay:  \
             XFUNC_DIFFTEST_SEED={seed} XFUNC_DIFFTEST_ONLY={} XFUNC_DIFFTEST_CALLS={n} \
             just difftest\n",
            f.signature,
            pair.enc,
            f.sql_name(),
            suffix = pair.enc.suffix(),
        );
        if !pair.history.is_empty() {
            writeln!(report, "  after: {};", pair.history.join("; ")).unwrap();
        }
        writeln!(report, "  call:    {};", call.sql()).unwrap();
        writeln!(report, "  {:<8} {got}", format!("{build}:")).unwrap();
        writeln!(report, "  xfunc_c: {c}").unwrap();
        report
    }

    /// Leaves the databases as the extensions make them, prints the summary, and fails the
    /// test if anything differed.
    fn finish(mut self, started: Instant) {
        for pair in &mut self.pairs {
            pair.reset();
        }
        db::remove_recv_files();
        for (why, n) in &self.known_seen {
            println!("known difference, allowed ({n} calls): {why}");
        }
        let seed = self.s.seed;
        println!(
            "differential test: {} calls in {:.1}s, seed {seed}",
            self.total_calls,
            started.elapsed().as_secs_f64(),
        );
        if !self.failures.is_empty() {
            print_failures(&self.failures, seed);
            panic!("{} differences; seed {seed}", self.failures.len());
        }
    }
}

fn print_failures(failures: &[String], seed: u64) {
    eprintln!(
        "\n{} differences between xfunc and xfunc_c, or functions the test cannot call \
         (seed {seed}):",
        failures.len()
    );
    for f in failures.iter().take(60) {
        eprintln!("{f}");
    }
    eprintln!("replay: XFUNC_DIFFTEST_SEED={seed} just difftest");
}

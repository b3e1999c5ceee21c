//! The harness of the cluster tests: the cluster and the knobs of the run (`Env`, one for the
//! whole run), and what one run of a case is given (`Run`: the build, the log design and sync
//! setting, the label its files carry, the socket directory its sessions connect to), with the
//! verbs the cases use: sessions and statements, pgbench, the log-file check, commands as the
//! server's user.

use postgres::types::{FromSql, Type};
use postgres::{Client, SimpleQueryMessage};
use std::collections::BTreeMap;
use std::fs;
use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use xfunc_test_support as support;
use xfunc_test_support::crash_check::CrashCheck;
use xfunc_test_support::log_file::{check_log_file, parse_line, Expect};

/// A check's outcome: what went wrong, in one message.
pub type Check<T = ()> = Result<T, String>;

/// The two builds, in the order every case runs them.
pub const EXTS: [&str; 2] = ["xfunc", "xfunc_c"];

/// The shared log's designs (the setting xfunc.log_design): a case that runs in each design runs
/// in each of these, in this order, unless DESIGNS names fewer.
pub const DESIGNS: &[&str] = &["open_per_line", "kept_open", "group_commit"];

/// The settings of xfunc.log_sync (xfunc_c.log_sync) a case that runs in each design runs with,
/// in this order, unless SYNCS names fewer: the sync off, then on.
pub const SYNCS: &[bool] = &[false, true];

/// The knobs of a run, from the environment: CLIENTS (pgbench clients, 16), CALLS (calls per
/// client, 10000), CALLS_SYNC (calls per client with sync on, where every line waits for the
/// disk: 200), DESIGNS (default: all of `DESIGNS`), SYNCS (`off on`).
pub struct Knobs {
    pub clients: usize,
    pub calls: usize,
    pub calls_sync: usize,
    pub designs: Vec<&'static str>,
    pub syncs: Vec<bool>,
}

impl Knobs {
    pub fn from_environment() -> Knobs {
        let number = |key: &str, default: usize| {
            std::env::var(key).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{key}={v}: not a number"))
            })
        };
        let designs = match std::env::var("DESIGNS") {
            Err(_) => DESIGNS.to_vec(),
            Ok(names) => names
                .split_whitespace()
                .map(|d| {
                    *DESIGNS
                        .iter()
                        .find(|known| **known == d)
                        .unwrap_or_else(|| {
                            panic!("DESIGNS: no design {d} ({})", DESIGNS.join(", "))
                        })
                })
                .collect(),
        };
        let syncs = match std::env::var("SYNCS") {
            Err(_) => SYNCS.to_vec(),
            Ok(values) => values
                .split_whitespace()
                .map(|v| match v {
                    "off" => false,
                    "on" => true,
                    _ => panic!("SYNCS: {v} is neither off nor on"),
                })
                .collect(),
        };
        Knobs {
            clients: number("CLIENTS", 16),
            calls: number("CALLS", 10000),
            calls_sync: number("CALLS_SYNC", 200),
            designs,
            syncs,
        }
    }
}

/// The cluster the cases run against (as `tools/cluster/cluster.sh env` describes it), where
/// their files go, and the knobs.
pub struct Env {
    pub clients: usize,
    pub calls: usize,
    pub calls_sync: usize,
    /// Where pgbench's scripts and outputs go: target/cluster-tests.
    pub work: PathBuf,
    pub pgdata: PathBuf,
    pub pglog: PathBuf,
    pub bindir: PathBuf,
    /// The cluster's socket directory.
    pub host: PathBuf,
    pub runas: String,
    /// Whether this process runs as the server's user (else commands run through runuser).
    pub own_user: bool,
}

impl Env {
    pub fn new(knobs: &Knobs) -> Env {
        let runas = support::env_value("XFUNC_RUNAS").to_owned();
        let me = Command::new("id").arg("-un").output().expect("id -un");
        let work = support::root().join("target/cluster-tests");
        fs::create_dir_all(&work).unwrap_or_else(|e| panic!("{}: {e}", work.display()));
        Env {
            clients: knobs.clients,
            calls: knobs.calls,
            calls_sync: knobs.calls_sync,
            work,
            pgdata: support::env_path("XFUNC_PGDATA"),
            pglog: support::env_path("XFUNC_PGLOG"),
            bindir: support::env_path("PG_BINDIR"),
            host: support::env_path("PGHOST"),
            own_user: String::from_utf8_lossy(&me.stdout).trim() == runas,
            runas,
        }
    }

    pub fn as_server(&self, args: &[&str]) -> Check {
        as_user(&self.runas, self.own_user, args)
    }

    /// A file in the data directory, the directory a relative log_file is in.
    pub fn data_path(&self, file: &str) -> String {
        self.pgdata.join(file).display().to_string()
    }

    /// Writes `content` to target/cluster-tests/`name` and returns its path.
    pub fn work_file(&self, name: &str, content: &str) -> Check<String> {
        let path = self.work.join(name);
        fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }

    /// Where the server log is now.
    pub fn log_mark(&self) -> u64 {
        fs::metadata(&self.pglog).map_or(0, |m| m.len())
    }

    /// What the server log got since `mark`.
    pub fn log_since(&self, mark: u64) -> String {
        let all = fs::read(&self.pglog).unwrap_or_default();
        String::from_utf8_lossy(all.get(mark as usize..).unwrap_or_default()).into_owned()
    }
}

/// What one run of a case is given: the cluster (`Env`, whose fields and verbs it lends), the
/// run's crash check (which a case that kills a backend on purpose tells so), the socket
/// directory its sessions connect to, the log design its sessions and pgbench runs use (None:
/// each build's default) and whether they sync, the label its files are named after (the
/// design, and `_sync` with sync on), and the build it tests (`""` for a case that runs once
/// for both).
#[derive(Clone)]
pub struct Run<'a> {
    pub env: &'a Env,
    pub crash_check: &'a CrashCheck,
    pub host: PathBuf,
    pub design: Option<&'static str>,
    pub sync: bool,
    pub label: &'a str,
    pub ext: &'static str,
}

impl Deref for Run<'_> {
    type Target = Env;
    fn deref(&self) -> &Env {
        self.env
    }
}

impl Run<'_> {
    /// The database of the build under test: shmem_xfunc, shmem_xfunc_c.
    pub fn db(&self) -> String {
        format!("shmem_{}", self.ext)
    }

    /// Prints one passed check.
    pub fn ok(&self, what: String) {
        println!("cluster: ok [{}] {what}", self.label);
    }

    /// Calls per client in this run: CALLS_SYNC with sync on, where each line waits for the
    /// disk, else CALLS.
    pub fn calls(&self) -> usize {
        if self.sync {
            self.calls_sync
        } else {
            self.calls
        }
    }

    /// The settings every session and pgbench run of this run gets (PGOPTIONS): the design, if
    /// any, and the sync setting, for both builds; None, for a run in each build's defaults.
    pub fn session_options(&self) -> Option<String> {
        if self.design.is_none() && !self.sync {
            return None;
        }
        let sync = if self.sync { "on" } else { "off" };
        let mut options = Vec::new();
        for ext in EXTS {
            if let Some(design) = self.design {
                options.push(format!("-c {ext}.log_design={design}"));
            }
            options.push(format!("-c {ext}.log_sync={sync}"));
        }
        Some(options.join(" "))
    }

    /// The connection settings of a session of this run, to `db`.
    pub fn config(&self, db: &str) -> postgres::Config {
        let mut config = support::config_at(&self.host, db);
        if let Some(options) = self.session_options() {
            config.options(&options);
        }
        config
    }

    pub fn connect(&self, db: &str) -> Check<Client> {
        self.config(db)
            .connect(postgres::NoTls)
            .map_err(|e| format!("connecting to {db}: {e}"))
    }

    /// One session: runs each statement (as psql -c), stops at the first error; returns the
    /// first column of every row (NULL as the empty string).
    pub fn sql(&self, db: &str, statements: &[&str]) -> Check<Vec<String>> {
        let mut client = self.connect(db)?;
        let mut out = Vec::new();
        for sql in statements {
            out.extend(rows(&mut client, sql).map_err(|e| format!("{sql}: {e}"))?);
        }
        Ok(out)
    }

    /// The rows of one query, one a line (as psql -At prints them).
    pub fn value(&self, db: &str, query: &str) -> Check<String> {
        Ok(self.sql(db, &[query])?.join("\n"))
    }

    /// Runs `query` in a session of its own: its error must be `SQLSTATE: message...`.
    pub fn expect_error(&self, db: &str, query: &str, error: &str) -> Check {
        let got = outcome(&mut self.connect(db)?, query)
            .err()
            .unwrap_or("ok".to_owned());
        if !got.starts_with(error) {
            fail!("{query}: expected {error}..., got '{got}'");
        }
        self.ok(format!("{query} -> {got}"));
        Ok(())
    }

    pub fn create_database(&self, db: &str, options: &str) -> Check {
        let exists = format!("SELECT 1 FROM pg_database WHERE datname = '{db}'");
        if self.value("postgres", &exists)?.is_empty() {
            self.sql("postgres", &[&format!("CREATE DATABASE {db} {options}")])?;
        }
        Ok(())
    }

    /// The extension `ext` afresh, so that `db` has the functions of the build installed.
    pub fn create_extension(&self, db: &str, ext: &str) -> Check {
        let drop = format!("DROP EXTENSION IF EXISTS {ext} CASCADE");
        let create = format!("CREATE EXTENSION {ext}");
        self.sql(db, &["SET client_min_messages = warning", &drop, &create])?;
        Ok(())
    }

    /// The build's log_file, by ALTER SYSTEM + reload. A connection made after
    /// pg_reload_conf() returns is forked by a postmaster that has read the file again
    /// (chapter 13 says why); the loop only guards against a slow machine.
    pub fn set_log_file(&self, file: &str) -> Check {
        self.set_log_file_in("postgres", file)
    }

    /// The same, set and shown in database `db` (whose encoding the value is converted to).
    pub fn set_log_file_in(&self, db: &str, file: &str) -> Check {
        let ext = self.ext;
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

    /// Points the build's log_file at a new, empty file.
    pub fn fresh_log_file(&self, file: &str) -> Check {
        self.as_server(&["rm", "-f", &self.data_path(file)])?;
        self.set_log_file(file)
    }

    /// The log-file check (tests/support/src/log_file.rs) of `file` in the data directory.
    pub fn check_log(&self, file: &str, expect: Expect) -> Check {
        let summary = check_log_file(&self.pgdata.join(file), &expect)?;
        self.ok(summary);
        Ok(())
    }

    /// pgbench with `args`, `script`, on `db`, in the run's design and sync setting.
    pub fn pgbench_command(&self, args: &[&str], script: &str, db: &str) -> Command {
        let mut command = Command::new(self.bindir.join("pgbench"));
        command
            .args(["-h", &self.host.display().to_string()])
            .args(["-p", support::env_value("PGPORT")])
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
    pub fn pgbench(&self, args: &[&str], script: &str, db: &str, save_as: &str) -> Check<String> {
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

    pub fn wait_for_server(&self) -> Check {
        for _ in 0..600 {
            if self.sql("postgres", &["SELECT 1"]).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        fail!("the server did not come back")
    }
}

// --- small helpers ------------------------------------------------------------------------------

/// The first column of each row `sql` returns (NULL as the empty string), or `SQLSTATE: message`.
pub fn rows(client: &mut Client, sql: &str) -> Check<Vec<String>> {
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
pub fn outcome(client: &mut Client, sql: &str) -> Check<String> {
    rows(client, sql).map(|r| r.join("\n"))
}

/// Each client, in a thread of its own, logs "<tag> session <i> call <j>" for j in 0..calls;
/// returns what each call said, session by session.
pub fn log_at_once(clients: Vec<Client>, tag: &str, calls: usize) -> Vec<Vec<Check<String>>> {
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
pub fn session_lines(path: &Path, tag: &str) -> Check<BTreeMap<usize, Vec<usize>>> {
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

/// A column's bytes as the server sent them, whatever the client encoding.
pub struct Raw(pub Vec<u8>);

impl FromSql<'_> for Raw {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Raw, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Runs `f` in a thread of its own; None when it has not finished after `limit` (it hangs).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
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
    run_command(&mut command)
}

/// Runs a command to its end; fails, with what it printed, unless it succeeds.
pub fn run_command(command: &mut Command) -> Check {
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

pub fn count_lines(path: &Path) -> usize {
    fs::read(path).map_or(0, |b| b.iter().filter(|&&b| b == b'\n').count())
}

pub fn mode(path: &Path) -> Check<u32> {
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// "tps = 1234.5" from pgbench's report.
pub fn tps(report: &str) -> String {
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

pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

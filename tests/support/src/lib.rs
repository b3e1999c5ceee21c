//! What the tests and benchmarks that are clients of the local cluster share
//! (tests/differential.rs, tests/cluster/, benches/): the cluster's environment as
//! `tools/cluster/cluster.sh env` prints it, a connection to one of its databases, a failed
//! statement's SQLSTATE and message (here); the crash check (`crash_check`); the check of a
//! file `xfunc_log` wrote (`log_file`); and what every benchmark needs (`bench`).
//!
//! A library of the workspace, a dev-dependency of xfunc; tests/checkers.rs (`just
//! checker-tests`) tests its checkers.

pub mod bench;
pub mod crash_check;
pub mod log_file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The checkout (this crate is its tests/support).
pub fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The checkout's environment: every `KEY=VALUE` line `tools/cluster/cluster.sh env` prints (PGHOST,
/// PGPORT, XFUNC_PGDATA, XFUNC_PGLOG, PG_BINDIR, XFUNC_RUNAS, XFUNC_EXPECTED_KILLS, ...),
/// read once.
pub fn env() -> &'static BTreeMap<String, String> {
    static ENV: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let out = cluster_sh(&["env"]);
        assert!(
            out.status.success(),
            "tools/cluster/cluster.sh env failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

/// One value of `env()`; panics when tools/cluster/cluster.sh does not print it.
pub fn env_value(key: &str) -> &'static str {
    env()
        .get(key)
        .unwrap_or_else(|| panic!("tools/cluster/cluster.sh env printed no {key}"))
}

/// A path value of `env()`.
pub fn env_path(key: &str) -> PathBuf {
    PathBuf::from(env_value(key))
}

/// Runs tools/cluster/cluster.sh with `args` and returns what it did.
pub fn cluster_sh(args: &[&str]) -> std::process::Output {
    let script = root().join("tools/cluster/cluster.sh");
    Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tools/cluster/cluster.sh: {e}"))
}

/// The connection settings for `dbname` on the local cluster, as user postgres.
pub fn config(dbname: &str) -> postgres::Config {
    config_at(Path::new(env_value("PGHOST")), dbname)
}

/// The same for a server listening on the cluster's port in socket directory `host` (another,
/// throw-away cluster).
pub fn config_at(host: &Path, dbname: &str) -> postgres::Config {
    let port = env_value("PGPORT");
    let mut config = postgres::Config::new();
    config
        .host_path(host)
        .port(port.parse().unwrap_or_else(|_| panic!("bad PGPORT {port}")))
        .user("postgres")
        .dbname(dbname);
    config
}

/// Connects to `dbname` on the local cluster.
pub fn connect_to(dbname: &str) -> postgres::Client {
    config(dbname).connect(postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot connect to the cluster at {}: {e}",
            env_value("PGHOST")
        )
    })
}

/// The server's message for a failed statement (the client error alone says only "db error").
pub fn db_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A failed statement as `SQLSTATE: message` (what psql prints with VERBOSITY=verbose), or the
/// client's error when the server sent none (a connection that broke).
pub fn sqlstate(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

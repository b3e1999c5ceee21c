//! A cluster that does not preload the libraries (chapter 12): no shared memory, no crash.

use crate::harness::{Check, Run, DESIGNS, EXTS};
use std::path::PathBuf;
use xfunc_test_support as support;
use xfunc_test_support::crash_check::CrashCheck;

// ANCHOR: no_preload
/// A second, throw-away cluster from the same PostgreSQL copy, without shared_preload_libraries:
/// CREATE EXTENSION works, every function that needs shared memory raises 55000, nothing crashes.
pub fn no_preload(r: &Run) -> Check {
    let cluster = ThrowAwayCluster::start()?;
    let r = Run {
        host: cluster.socket.clone(),
        ..*r
    };
    for ext in EXTS {
        r.sql("postgres", &[&format!("CREATE DATABASE {ext}")])?;
        r.sql(ext, &[&format!("CREATE EXTENSION {ext}")])?;
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
            r.expect_error(ext, query, &error)?;
        }
        each_design(&r, ext)?;
        // The setting exists (defined by _PG_init in the backend) and is checked.
        let shown = r.sql(
            ext,
            &[&format!("LOAD '{ext}'"), &format!("SHOW {ext}.log_file")],
        )?;
        if shown != [format!("{ext}.log")] {
            fail!("{ext}: SHOW {ext}.log_file: {shown:?}");
        }
    }
    let no_crash = CrashCheck::nothing_killed(&cluster.log)
        .check()
        .map_err(|e| format!("a backend of the cluster without preload crashed: {e}"))?;
    r.ok(no_crash);
    Ok(()) // (the cluster is stopped and removed when dropped, here)
}
// ANCHOR_END: no_preload

/// xfunc_log in every design, with sync on too: the buffer of group_commit is in shared memory
/// as well. (LOAD first: the settings exist once the library is loaded.)
fn each_design(r: &Run, ext: &str) -> Check {
    for design in DESIGNS {
        let query = format!(
            "LOAD '{ext}'; SET {ext}.log_design = {design}; SET {ext}.log_sync = on; \
             SELECT xfunc_log('hello')"
        );
        let error = format!("55000: {ext} must be loaded via shared_preload_libraries");
        r.expect_error(ext, &query, &error)?;
    }
    Ok(())
}

/// The cluster of `no_preload`, started by tools/cluster/cluster.sh with a data directory,
/// socket directory (only a Unix socket, in a directory of its own: the port number cannot
/// clash) and log of its own under XFUNC_STATE, and no shared_preload_libraries; stopped and
/// removed when dropped.
struct ThrowAwayCluster {
    data: PathBuf,
    socket: PathBuf,
    log: PathBuf,
}

impl ThrowAwayCluster {
    fn start() -> Check<ThrowAwayCluster> {
        let state = support::env_path("XFUNC_STATE");
        let cluster = ThrowAwayCluster {
            data: state.join("nopreload-data"),
            socket: state.join("nopreload-socket"),
            log: state.join("nopreload.log"),
        };
        cluster.cluster_sh("destroy")?;
        cluster.cluster_sh("start")?;
        Ok(cluster)
    }

    /// tools/cluster/cluster.sh VERB, for this cluster.
    fn cluster_sh(&self, verb: &str) -> Check {
        let [data, socket, log] =
            [&self.data, &self.socket, &self.log].map(|p| p.display().to_string());
        let out = support::cluster_sh(&[
            "--data",
            &data,
            "--socket",
            &socket,
            "--log",
            &log,
            "--set",
            "shared_preload_libraries=",
            "--no-sync",
            verb,
        ]);
        if !out.status.success() {
            fail!(
                "tools/cluster/cluster.sh {verb} (no preload): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for ThrowAwayCluster {
    fn drop(&mut self) {
        let _ = self.cluster_sh("destroy");
    }
}

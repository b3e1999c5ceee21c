//! The shared log's files (chapter 13): each build writes its own scratch file for the run,
//! and every session logs in a design and with a sync setting that change with each file.

use crate::db::{Db, Pair};
use crate::support;
use postgres::Client;
use std::time::Duration;

/// Points each build's log at a scratch file in the data directory for the run (ALTER SYSTEM,
/// reload), and puts the settings back and removes the files when dropped.
pub struct LogFiles {
    admin: Client,
    data_directory: std::path::PathBuf,
    generation: u32,
}

impl LogFiles {
    fn file(ext: &str, generation: u32) -> String {
        format!("difftest_{ext}_{generation}.log")
    }

    pub fn new() -> LogFiles {
        let mut admin = support::connect_to("postgres");
        let data_directory: String = admin
            .query_one("SELECT current_setting('data_directory')", &[])
            .expect("data_directory")
            .get(0);
        let mut files = LogFiles {
            admin,
            data_directory: data_directory.into(),
            generation: 0,
        };
        // Left over from a run that was killed: the builds must start from empty files.
        files.remove(0);
        files.point_at(Some(0));
        files
    }

    /// Sets both builds' log_file to the files of `generation` (None: back to the default).
    fn point_at(&mut self, generation: Option<u32>) {
        for ext in ["xfunc", "xfunc_c"] {
            let sql = match generation {
                Some(g) => format!("ALTER SYSTEM SET {ext}.log_file = '{}'", Self::file(ext, g)),
                None => format!("ALTER SYSTEM RESET {ext}.log_file"),
            };
            self.admin.batch_execute(&sql).expect("ALTER SYSTEM");
        }
        self.admin
            .batch_execute("SELECT pg_reload_conf()")
            .expect("pg_reload_conf");
    }

    /// The design and the sync setting of the files of `generation`: every design in turn, first
    /// with the sync off, then on.
    fn design(generation: u32) -> (&'static str, &'static str) {
        const DESIGNS: [&str; 3] = ["open_per_line", "kept_open", "group_commit"];
        let sync = if generation / 3 % 2 == 1 { "on" } else { "off" };
        (DESIGNS[generation as usize % 3], sync)
    }

    /// Waits until `db` sees the current files (a reload reaches each backend when it next
    /// reads a command), then sets the session's design and sync setting for them.
    fn wait_for(&self, db: &mut Db) {
        let want = Self::file(db.ext, self.generation);
        let sql = format!("SELECT current_setting('{}.log_file')", db.ext);
        for _ in 0..200 {
            let now: String = db.client.query_one(&sql, &[]).expect(&sql).get(0);
            if now == want {
                let (design, sync) = Self::design(self.generation);
                let set = format!(
                    "SET {0}.log_design = {design}; SET {0}.log_sync = {sync}",
                    db.ext
                );
                db.client.batch_execute(&set).expect(&set);
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{} never saw {}.log_file = {want}", db.ext, db.ext);
    }

    /// New, empty files; the old ones are removed (a long run would fill the disk).
    pub fn rotate(&mut self, pairs: &mut [Pair]) {
        let old = self.generation;
        self.generation += 1;
        self.remove(self.generation);
        self.point_at(Some(self.generation));
        self.wait_for_all(pairs);
        self.remove(old);
    }

    /// Waits until every session of both builds sees the current files.
    pub fn wait_for_all(&self, pairs: &mut [Pair]) {
        for pair in pairs.iter_mut() {
            self.wait_for(&mut pair.rust);
            self.wait_for(&mut pair.c);
        }
    }

    fn remove(&self, generation: u32) {
        for ext in ["xfunc", "xfunc_c"] {
            let _ = std::fs::remove_file(self.data_directory.join(Self::file(ext, generation)));
        }
    }
}

impl Drop for LogFiles {
    fn drop(&mut self) {
        self.point_at(None);
        self.remove(self.generation);
    }
}

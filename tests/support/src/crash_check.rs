//! The crash check, for the Rust tests: the functions of tools/lib/env.sh (`crash_check_start`,
//! `crash_check_expect_kill`, `check_no_crash`), called through bash, so that the cluster tests
//! and tools/test/regress.sh decide with one implementation whether a server process died.
//!
//! A run starts with `CrashCheck::start`, which empties the list of PIDs killed on purpose and
//! marks the server log; a case that kills a backend on purpose lists its PID first
//! (`expect_kill`), which excuses one death of that PID; `check` reads the log from the mark.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One run's check of a server log, from a mark on.
pub struct CrashCheck {
    log: PathBuf,
    mark: u64,
    /// The list of PIDs killed on purpose, when it is not the cluster's (XFUNC_EXPECTED_KILLS).
    kills: Option<PathBuf>,
}

impl CrashCheck {
    /// Starts a run on the server log `log`: the list of PIDs killed on purpose is emptied, and
    /// the check reads what the log gets from now on.
    pub fn start(log: &Path) -> Result<CrashCheck, String> {
        CrashCheck::start_with(log, None)
    }

    /// The check of a log in which no process was killed on purpose (a throw-away cluster's),
    /// read from its first byte: every death counts, whatever the run's list says.
    pub fn nothing_killed(log: &Path) -> CrashCheck {
        CrashCheck {
            log: log.to_owned(),
            mark: 0,
            kills: Some(PathBuf::from("/dev/null")),
        }
    }

    /// A run that lists its kills in `list` rather than in the cluster's list (the tests of
    /// this check).
    pub fn start_with_list(log: &Path, list: &Path) -> Result<CrashCheck, String> {
        CrashCheck::start_with(log, Some(list.to_owned()))
    }

    fn start_with(log: &Path, kills: Option<PathBuf>) -> Result<CrashCheck, String> {
        let mut check = CrashCheck {
            log: log.to_owned(),
            mark: 0,
            kills,
        };
        let out = check.env_sh("crash_check_start", &[&check.log.display().to_string()])?;
        check.mark = out
            .trim()
            .parse()
            .map_err(|_| format!("crash_check_start printed {out:?}, not a size"))?;
        Ok(check)
    }

    /// The same run's check (the same list), reading the log from its end now on: a part of the
    /// run checked on its own.
    pub fn from_now(&self) -> CrashCheck {
        let mark = std::fs::metadata(&self.log).map_or(0, |m| m.len());
        CrashCheck {
            log: self.log.clone(),
            mark,
            kills: self.kills.clone(),
        }
    }

    /// Lists `pid` as killed on purpose: the check excuses one death of it in this run.
    pub fn expect_kill(&self, pid: &str) -> Result<(), String> {
        self.env_sh("crash_check_expect_kill", &[pid]).map(drop)
    }

    /// The line that says no server process died by a signal it was not sent on purpose since
    /// the mark, or the lines of the log that say which did.
    pub fn check(&self) -> Result<String, String> {
        let mark = self.mark.to_string();
        self.env_sh("check_no_crash", &[&mark, &self.log.display().to_string()])
            .map(|out| out.trim().to_owned())
    }

    /// Runs `function ARGS...` of tools/lib/env.sh; its standard output, or, when it fails,
    /// everything it printed.
    fn env_sh(&self, function: &str, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(r#". "$1" && shift && "$@""#)
            .arg("crash-check")
            .arg(crate::root().join("tools/lib/env.sh"))
            .arg(function)
            .args(args);
        if let Some(kills) = &self.kills {
            command.env("XFUNC_EXPECTED_KILLS", kills);
        }
        let out = command
            .output()
            .map_err(|e| format!("bash tools/lib/env.sh {function}: {e}"))?;
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(said)
        } else {
            Err(format!("{said}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }
}

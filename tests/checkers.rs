//! The tests of the checkers in tests/support that the other tests rely on: the check of a
//! file `xfunc_log` wrote (`log_file`) and the crash check (`crash_check`). A checker that
//! passes everything would make every test that uses it pass: these show that each refuses
//! what it must. They need no cluster (the crash check runs tools/lib/env.sh's functions on
//! logs made here). Run by `just checker-tests` (`cargo test --test checkers`), in `just test`.
//!
//! A test target of xfunc rather than unit tests of the support crate: built with xfunc's
//! dev-dependencies, it shares their build with the other tests (the support crate built
//! alone resolves other features of postgres and criterion, and compiles them again).

mod log_file {
    use xfunc_test_support::log_file::{check_log, Expect};

    /// Two lines from two pgbench clients, one each: what every test below spoils in one way.
    const GOOD: &str = "2026-12-02T05:00:00.000001Z 7 1 pgbench client 0: a tab\\there\n\
                        2026-12-02T05:00:00.000002Z 8 2 pgbench client 1: b\n";

    fn two_clients(lines: usize) -> Expect {
        Expect {
            lines: Some(lines),
            clients: Some((2, 1)),
            ..Expect::default()
        }
    }

    /// Fails the test unless the check refuses `content` when it expects `lines` lines.
    fn refused(content: &str, lines: usize) -> String {
        check_log("test.log", content.as_bytes(), &two_clients(lines))
            .expect_err("the check passed a spoilt file")
    }

    #[test]
    fn a_good_file_passes_with_a_summary() {
        let summary = check_log("test.log", GOOD.as_bytes(), &two_clients(2)).unwrap();
        assert_eq!(
            summary,
            "test.log: 2 lines, sequence 1..2, 2 pids, 2 pgbench clients x 1..1 lines"
        );
        assert!(check_log("empty.log", b"", &Expect::lines(0)).is_ok());
    }

    #[test]
    fn a_gap_in_the_sequence_is_refused() {
        let failed = refused(&GOOD.replace(" 8 2 ", " 8 3 "), 2);
        assert!(
            failed.contains("line 2 has sequence number 3, not 2"),
            "{failed}"
        );
    }

    #[test]
    fn a_torn_last_line_is_refused() {
        let failed = refused(GOOD.trim_end(), 2);
        assert!(failed.contains("does not end with a newline"), "{failed}");
    }

    #[test]
    fn a_control_character_is_refused() {
        let failed = refused(&GOOD.replace("tab\\t", "tab\t"), 2);
        assert!(
            failed.contains("line 1: unescaped control character"),
            "{failed}"
        );
    }

    #[test]
    fn a_timestamp_going_back_is_refused() {
        let failed = refused(&GOOD.replace("000002Z", "000000Z"), 2);
        assert!(
            failed.contains("line 2: timestamp goes backwards"),
            "{failed}"
        );
    }

    #[test]
    fn a_malformed_line_is_refused() {
        for spoilt in [
            GOOD.replace(" 8 2 ", " 08 2 "),
            GOOD.replace("T05:00", "T5:000"),
            GOOD.replace(" 8 2 pgbench client 1: b", " 8 2"),
        ] {
            let failed = refused(&spoilt, 2);
            assert!(failed.contains("line 2 is malformed"), "{failed}");
        }
    }

    #[test]
    fn lines_from_the_wrong_clients_are_refused() {
        let failed = refused(&GOOD.replace("client 1", "client 0"), 2);
        assert!(
            failed.contains("lines from 1 pgbench clients, expected 2"),
            "{failed}"
        );
        assert!(
            failed.contains("clients without exactly 1 lines: {0: 2}"),
            "{failed}"
        );
    }

    #[test]
    fn a_wrong_number_of_lines_is_refused() {
        let failed = refused(GOOD, 3);
        assert!(failed.contains("2 lines, expected exactly 3"), "{failed}");
        let at_least = Expect {
            min_lines: Some(3),
            ..Expect::default()
        };
        let failed = check_log("test.log", GOOD.as_bytes(), &at_least).unwrap_err();
        assert!(failed.contains("2 lines, expected at least 3"), "{failed}");
    }
}

mod crash_check {
    use std::fs::{self, OpenOptions};
    use std::io::Write as _;
    use std::path::PathBuf;
    use xfunc_test_support::crash_check::CrashCheck;

    const KILLED_12: &str = "LOG:  server process (PID 12) was terminated by signal 9: Killed";

    /// A server log and a list of kills of the test's own, in a directory made afresh.
    struct Scratch {
        dir: PathBuf,
    }

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("xfunc-crash-check-{}-{test}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("server.log"), "LOG:  database system is ready\n").unwrap();
            Scratch { dir }
        }

        fn log(&self) -> PathBuf {
            self.dir.join("server.log")
        }

        /// A new run on the log, with the list of kills of this directory.
        fn start(&self) -> CrashCheck {
            CrashCheck::start_with_list(&self.log(), &self.dir.join("expected-kills")).unwrap()
        }

        fn server_says(&self, line: &str) {
            let mut log = OpenOptions::new().append(true).open(self.log()).unwrap();
            writeln!(log, "{line}").unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn a_death_by_a_signal_fails_the_check_and_is_printed() {
        let s = Scratch::new("signal");
        let check = s.start();
        assert!(check.check().is_ok());
        s.server_says(KILLED_12);
        let failed = check.check().unwrap_err();
        assert!(failed.contains(KILLED_12), "{failed}");
    }

    #[test]
    fn exit_code_1_is_an_error_exit_and_2_a_crash() {
        let s = Scratch::new("exit-codes");
        let check = s.start();
        s.server_says("LOG:  server process (PID 14) exited with exit code 1");
        s.server_says("LOG:  background worker \"w\" (PID 15) exited with exit code 0");
        assert!(check.check().is_ok());
        s.server_says("LOG:  background worker \"w\" (PID 13) exited with exit code 2");
        assert!(check.check().unwrap_err().contains("(PID 13)"));
    }

    #[test]
    fn what_the_log_held_before_the_mark_does_not_count() {
        let s = Scratch::new("mark");
        s.server_says(KILLED_12);
        let check = s.start();
        assert!(check.check().is_ok());
        s.server_says("LOG:  server process (PID 16) was terminated by signal 11");
        assert!(check.from_now().check().is_ok());
        assert!(check.check().is_err());
    }

    #[test]
    fn a_kill_on_purpose_excuses_one_death_of_that_pid() {
        let s = Scratch::new("excused");
        let check = s.start();
        check.expect_kill("12").unwrap();
        s.server_says(KILLED_12);
        assert!(check.check().is_ok(), "{:?}", check.check());
        // The PID, reused by the system for a backend that then crashes.
        s.server_says("LOG:  server process (PID 12) was terminated by signal 11");
        assert!(check.check().unwrap_err().contains("signal 11"));
    }

    #[test]
    fn a_new_run_forgets_the_kills_of_the_last() {
        let s = Scratch::new("reused");
        let earlier = s.start();
        earlier.expect_kill("12").unwrap();
        s.server_says(KILLED_12);
        assert!(earlier.check().is_ok());
        // The next run: a backend that got PID 12 again dies, and no one meant it.
        let next = s.start();
        s.server_says(KILLED_12);
        let failed = next.check().unwrap_err();
        assert!(failed.contains(KILLED_12), "{failed}");
    }

    #[test]
    fn a_log_where_nothing_was_killed_ignores_the_list() {
        let s = Scratch::new("nothing-killed");
        let check = s.start();
        check.expect_kill("12").unwrap();
        s.server_says(KILLED_12);
        assert!(check.check().is_ok());
        assert!(CrashCheck::nothing_killed(&s.log()).check().is_err());
    }
}

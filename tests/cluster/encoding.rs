//! A database that is not UTF-8 (chapter 13): the shared log in a LATIN1 database.

use crate::harness::{hex, Check, Raw, Run, EXTS};
use std::fs;
use xfunc_test_support::log_file::Expect;
use xfunc_test_support::sqlstate;

// ANCHOR: encoding
/// A LATIN1 database: the message goes into the file as LATIN1 bytes, and comes back from
/// xfunc_log_tail as the same line. The C build works on the bytes; so must the Rust build.
/// In a UTF-8 database, the same line is not valid text: 22021.
const LATIN1_MESSAGE: &str = "café, naïve, ½ «ÿ», a tab\there";
/// The message field of its line: LATIN1, the tab escaped.
const LATIN1_BYTES: &[u8] = b"caf\xe9, na\xefve, \xbd \xab\xff\xbb, a tab\\there\n";

pub fn encoding(r: &Run) -> Check {
    let (ext, db, file) = (r.ext, latin1_db(r.ext), latin1_file(r, r.ext));
    r.create_database(
        &db,
        "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )?;
    r.create_extension(&db, ext)?;
    r.fresh_log_file(&file)?;
    // From a UTF-8 client (the postgres crate's only client encoding): the server converts.
    r.connect(&db)?
        .execute("SELECT xfunc_log($1)", &[&LATIN1_MESSAGE])
        .map_err(|e| sqlstate(&e))?;
    r.check_log(&file, Expect::lines(1))?;
    let message = logged_message(r, ext)?;
    if message != LATIN1_BYTES {
        fail!(
            "the file holds {}",
            String::from_utf8_lossy(&message).escape_debug()
        );
    }
    r.ok(format!(
        "{ext}: LATIN1 database: the file holds the message in LATIN1: {}",
        hex(&message)
    ));
    read_back(r)?;
    r.expect_error(
        &r.db(),
        "SELECT * FROM xfunc_log_tail(1)",
        &format!("22021: log file \"{file}\" holds a line that is not valid text"),
    )?;

    // A path that is not UTF-8: é in LATIN1, set from the LATIN1 database. The C build's
    // message holds the path's bytes; the Rust build's messages are Rust strings (pgrx's
    // ereport! takes nothing else), which hold U+FFFD instead, "ï¿½" read as LATIN1. The one
    // difference between the builds' messages; the SQLSTATE is the same.
    let path = "no_such_directory/\u{e9}.log";
    r.set_log_file_in(&db, path)?;
    let shown = match ext {
        "xfunc" => "no_such_directory/\u{ef}\u{bf}\u{bd}.log",
        _ => path,
    };
    r.expect_error(
        &db,
        "SELECT xfunc_log('lost')",
        &format!("58P01: could not open log file \"{shown}\": No such file or directory"),
    )
}

/// Read back in the database encoding, the row is the file's line, byte for byte; in UTF-8,
/// the message that was logged.
fn read_back(r: &Run) -> Check {
    let db = latin1_db(r.ext);
    let line = fs::read(r.pgdata.join(latin1_file(r, r.ext))).map_err(|e| e.to_string())?;
    let mut latin1 = r.connect(&db)?;
    latin1
        .batch_execute("SET client_encoding = 'LATIN1'")
        .map_err(|e| sqlstate(&e))?;
    let tail = latin1
        .query("SELECT * FROM xfunc_log_tail(1)", &[])
        .map_err(|e| sqlstate(&e))?;
    let mut returned: Vec<u8> = tail.iter().flat_map(|row| row.get::<_, Raw>(0).0).collect();
    returned.push(b'\n');
    if returned != line {
        fail!(
            "xfunc_log_tail returned {}",
            String::from_utf8_lossy(&returned).escape_debug()
        );
    }
    let message = r.value(
        &db,
        r"SELECT substring(line FROM '^\S+ \d+ \d+ (.*)$') FROM xfunc_log_tail(1) AS line",
    )?;
    if message != LATIN1_MESSAGE.replace('\t', "\\t") {
        fail!("xfunc_log_tail returned '{message}'");
    }
    r.ok(format!(
        "{}: LATIN1 database: xfunc_log_tail returns the line as written: '{message}'",
        r.ext
    ));
    Ok(())
}

/// After both builds, in each design: they wrote the same bytes.
pub fn encoding_same_bytes(r: &Run) -> Check {
    let [rust, c] = EXTS.map(|ext| logged_message(r, ext));
    if rust != c {
        fail!("the two builds wrote different bytes: {rust:?}, {c:?}");
    }
    r.ok("LATIN1 database: both builds wrote the same bytes".to_owned());
    Ok(())
}
// ANCHOR_END: encoding

fn latin1_db(ext: &str) -> String {
    format!("shmem_latin1_{ext}")
}

/// The file build `ext` logs into from its LATIN1 database, in the run's design.
fn latin1_file(r: &Run, ext: &str) -> String {
    format!("shmem_latin1_{ext}_{}.log", r.label)
}

/// The message field of the first line of that file, byte for byte.
fn logged_message(r: &Run, ext: &str) -> Check<Vec<u8>> {
    let path = r.pgdata.join(latin1_file(r, ext));
    let line = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(line
        .splitn(4, |&b| b == b' ')
        .nth(3)
        .unwrap_or_default()
        .to_vec())
}

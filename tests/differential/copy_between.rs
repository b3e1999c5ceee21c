//! Values of the type `complex` (chapter 17) cross from one build's database to the other's
//! by binary `COPY`, both ways: the two builds store and send them alike, to the byte.

use crate::rng::Rng;
use crate::support;
use crate::values;
use postgres::Client;
use std::io::Write as _;

/// One build's scratch database: the extension, the database's name, a session in it.
type Database = (&'static str, String, Client);

/// Values of `complex` written by one build are read by the other: a table of random values
/// (those of the generator above, NULLs, NaN, infinities, minus zero, subnormals, and any 16
/// bytes at all) goes out of
/// one build's database with `COPY ... TO STDOUT (FORMAT binary)` and into the other's with
/// `COPY ... FROM STDIN (FORMAT binary)`, in both directions. The two builds must then hold the
/// same 16 bytes for every value (`complex_send`), print them the same, sort them the same
/// (their B-tree operator classes), and write the very same COPY stream.
pub fn run(seed: u64) {
    let mut rng = Rng::for_function(seed, "complex_values_cross_between_builds");
    let mut admin = support::connect_to("postgres");
    let mut dbs = create_databases(&mut admin);
    write_values(&mut dbs, &mut rng);
    let streams = exchange(&mut dbs);
    check_values_held(&mut dbs, seed);
    check_written_back(&mut dbs, &streams, seed);
    for (ext, name, client) in dbs {
        drop(client);
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap_or_else(|e| {
                panic!("dropping the database of {ext}: {}", support::db_error(&e))
            });
    }
    println!(
        "complex values crossed between the builds both ways: 2 x 2500 values, seed {seed}: same \
         bytes, text, order and COPY streams"
    );
}

/// A fresh database for each build, with its extension and the empty tables written and read.
fn create_databases(admin: &mut Client) -> Vec<Database> {
    let mut dbs = Vec::new();
    for ext in ["xfunc", "xfunc_c"] {
        let name = format!("difftest_copy_{ext}");
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {}", support::db_error(&e)));
        }
        let mut client = support::connect_to(&name);
        client
            .batch_execute(&format!(
                "CREATE EXTENSION {ext}; \
                 CREATE TABLE written (id integer, c complex); \
                 CREATE TABLE read (id integer, c complex)"
            ))
            .unwrap_or_else(|e| panic!("{name}: {}", support::db_error(&e)));
        dbs.push((ext, name, client));
    }
    dbs
}

/// Each build writes its own set of values into written: 2000 from their text form, and 500
/// of any 16 bytes at all (NaNs with payloads, subnormals), through a binary COPY stream
/// made here, so that complex_recv makes them.
fn write_values(dbs: &mut [Database], rng: &mut Rng) {
    for (i, (_, name, client)) in dbs.iter_mut().enumerate() {
        let values: Vec<String> = (0..2000)
            .map(|id| format!("({}, {})", id * 2 + i, values::complex(rng)))
            .collect();
        let sql = format!("INSERT INTO written VALUES {}", values.join(", "));
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{name}: {}", support::db_error(&e)));
        let mut stream = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        for id in 0..500u32 {
            stream.extend(2i16.to_be_bytes());
            stream.extend(4i32.to_be_bytes());
            stream.extend((4000 + id * 2 + i as u32).to_be_bytes());
            stream.extend(16i32.to_be_bytes());
            stream.extend(rng.next().to_be_bytes());
            stream.extend(rng.next().to_be_bytes());
        }
        stream.extend((-1i16).to_be_bytes());
        copy_in(
            client,
            name,
            "COPY written FROM STDIN (FORMAT binary)",
            &stream,
        );
    }
}

/// Binary COPY out of each, into the other's table read; returns the streams, build by build.
fn exchange(dbs: &mut [Database]) -> Vec<Vec<u8>> {
    let mut streams = Vec::new();
    for (_, name, client) in dbs.iter_mut() {
        let sql = "COPY (SELECT * FROM written ORDER BY id) TO STDOUT (FORMAT binary)";
        streams.push(copy_out(client, name, sql));
    }
    for (i, (_, name, client)) in dbs.iter_mut().enumerate() {
        copy_in(
            client,
            name,
            "COPY read FROM STDIN (FORMAT binary)",
            &streams[1 - i],
        );
    }
    streams
}

/// Every value, as each database holds it after the exchange: bytes, text, and the order of
/// the ids by value (ties by id). Both builds must hold the same.
fn check_values_held(dbs: &mut [Database], seed: u64) {
    let query = "SELECT coalesce(encode(complex_send(c), 'hex'), 'NULL') || ' ' || \
                        coalesce(c::text, 'NULL') \
                   FROM (SELECT * FROM written UNION ALL SELECT * FROM read) AS v ORDER BY id";
    let order = "SELECT string_agg(id::text, ',' ORDER BY c, id) \
                   FROM (SELECT * FROM written UNION ALL SELECT * FROM read) AS v";
    let mut seen: Vec<(Vec<String>, String)> = Vec::new();
    for (_, name, client) in dbs.iter_mut() {
        let rows: Vec<String> = client
            .query(query, &[])
            .unwrap_or_else(|e| panic!("{name}: {}", support::db_error(&e)))
            .iter()
            .map(|r| r.get(0))
            .collect();
        let ids: String = client
            .query_one(order, &[])
            .unwrap_or_else(|e| panic!("{name}: {}", support::db_error(&e)))
            .get(0);
        seen.push((rows, ids));
    }
    assert_eq!(seen[0].0.len(), 5000, "every value crossed over");
    for (a, b) in seen[0].0.iter().zip(&seen[1].0) {
        assert_eq!(a, b, "seed {seed}: xfunc and xfunc_c hold different values");
    }
    assert_eq!(
        seen[0].1, seen[1].1,
        "seed {seed}: the builds sort the values differently"
    );
}

/// The same values, written again by the other build: the very same COPY stream (`streams`:
/// what each build wrote in the exchange, build by build).
fn check_written_back(dbs: &mut [Database], streams: &[Vec<u8>], seed: u64) {
    let mut again = Vec::new();
    for (i, (_, name, client)) in dbs.iter_mut().enumerate() {
        let sql = "COPY (SELECT * FROM read ORDER BY id) TO STDOUT (FORMAT binary)";
        again.push((i, copy_out(client, name, sql)));
    }
    for ((i, written_again), (ext, _, _)) in again.iter().zip(dbs.iter()) {
        // (Not assert_eq!: a failure would print two streams of 50 kB.)
        assert!(
            *written_again == streams[1 - i],
            "seed {seed}: {ext} writes back other bytes than the other build wrote"
        );
    }
}

/// Sends `stream` to a `COPY ... FROM STDIN`.
fn copy_in(client: &mut Client, db: &str, sql: &str, stream: &[u8]) {
    let mut writer = client
        .copy_in(sql)
        .unwrap_or_else(|e| panic!("{db}: COPY FROM: {}", support::db_error(&e)));
    writer.write_all(stream).unwrap();
    writer
        .finish()
        .unwrap_or_else(|e| panic!("{db}: COPY FROM: {}", support::db_error(&e)));
}

/// The bytes a `COPY ... TO STDOUT` sends.
fn copy_out(client: &mut Client, db: &str, sql: &str) -> Vec<u8> {
    use std::io::Read;
    let mut reader = client
        .copy_out(sql)
        .unwrap_or_else(|e| panic!("{db}: {sql}: {}", support::db_error(&e)));
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("{db}: {sql}: {e}"));
    bytes
}

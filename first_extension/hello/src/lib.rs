// ANCHOR: template_head
use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

#[pg_extern]
fn hello_hello() -> &'static str {
    "Hello, hello"
}
// ANCHOR_END: template_head

// ANCHOR: hello
/// `hello(name text) RETURNS text`: a greeting, and a line in the server log.
/// The argument is not an `Option`, so pgrx declares the function `STRICT`: a NULL name
/// gives NULL without a call. The C twin is `hello_c/hello_c.c`.
#[pg_extern]
fn hello(name: &str) -> String {
    log!("hello: called with {name}");
    format!("Hello, {name}!")
}
// ANCHOR_END: hello

// ANCHOR: tests
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn test_hello_hello() {
        assert_eq!("Hello, hello", crate::hello_hello());
    }

    /// The Rust function, called as Rust.
    #[pg_test]
    fn hello_greets() {
        assert_eq!(crate::hello("world"), "Hello, world!");
    }

    /// The SQL function, called through SQL in the test's transaction.
    #[pg_test]
    fn hello_from_sql() {
        let greeting = Spi::get_one::<String>("SELECT hello('SQL')");
        assert_eq!(greeting, Ok(Some("Hello, SQL!".to_string())));
    }
}
// ANCHOR_END: tests

// ANCHOR: template_tail
/// This module is required by `cargo pgrx test` invocations.
/// It must be visible at the root of your extension crate.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {
        // perform one-off initialization when the pg_test framework starts
    }

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        // return any postgresql.conf settings that are required for your tests
        vec![]
    }
}
// ANCHOR_END: template_tail

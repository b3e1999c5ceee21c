-- The psql session of the chapter "Your First Extension": run by tools/test/first-extension.sh
-- with psql -a (each statement echoed before its output) in database hello.
CREATE EXTENSION hello;
SELECT hello_hello();
SELECT hello('world');
\df hello*

--
-- shared_memory: a struct in shared memory, set up by shmem_request_hook and
-- shmem_startup_hook, guarded by the LWLock of a named tranche.
-- Chapter 12 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- The cluster preloads both libraries. Without preloading every function here raises
-- SQLSTATE 55000 with a message that names the library, so that case is tested outside this
-- file (tests/cluster/, and the #[pg_test]s of src/shared_memory.rs).
--

-- ANCHOR: counter
SELECT shared_counter_reset();
SELECT shared_counter_add(40);
SELECT shared_counter_add(2);
SELECT * FROM shared_counter();
-- ANCHOR_END: counter

SELECT pg_backend_pid() AS first_pid \gset
-- ANCHOR: other_backend
-- \c starts a new backend: it sees the same struct.
\c
SELECT pg_backend_pid() <> :first_pid AS new_backend;
SELECT * FROM shared_counter();
SELECT shared_counter_add(-42);
-- ANCHOR_END: other_backend

-- ANCHOR: overflow
SELECT shared_counter_add(9223372036854775807);
SELECT shared_counter_add(1);  -- expect: ERROR 22003 bigint out of range
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM shared_counter();  -- unchanged by the failed call
-- ANCHOR_END: overflow
SELECT shared_counter_add(-9223372036854775807 - 1);  -- back to -1
SELECT shared_counter_add(-9223372036854775807);  -- the minimum
SELECT shared_counter_add(-1);  -- expect: ERROR 22003 bigint out of range
\echo :LAST_ERROR_SQLSTATE
SELECT shared_counter_add(NULL) IS NULL AS strict_null;
SELECT shared_counter_add('one');  -- expect: ERROR 22P02 invalid input syntax for type bigint
\echo :LAST_ERROR_SQLSTATE
SELECT shared_counter_reset();
SELECT * FROM shared_counter();

-- Exercise: shared_counter_swap(new_value) replaces the total and returns the old one.
-- ANCHOR: swap
SELECT shared_counter_add(5);
SELECT shared_counter_swap(100) AS old_value;
SELECT shared_counter_swap(-9223372036854775807 - 1) AS old_value;  -- any bigint, no overflow
SELECT * FROM shared_counter();
SELECT shared_counter_swap(NULL) IS NULL AS strict_null;  -- STRICT: not called, not counted
SELECT shared_counter_swap('lots');  -- expect: ERROR 22P02 invalid input syntax for type bigint
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM shared_counter();
-- ANCHOR_END: swap
SELECT shared_counter_reset();

-- The contention benchmark's ways to share a count (benches/lwlock_contention.rs): read under
-- the lock in shared mode, add with an atomic instruction, add under a spinlock.
-- ANCHOR: contention
SELECT shared_counter_add(7);
SELECT shared_counter_value();
SELECT shared_counter_bump_atomic() AS atomic_1, shared_counter_bump_atomic() AS atomic_2;
SELECT shared_counter_bump_spinlock() AS spin_1, shared_counter_bump_spinlock() AS spin_2;
SELECT shared_counter_reset();
SELECT shared_counter_value(), shared_counter_bump_atomic(), shared_counter_bump_spinlock();
-- ANCHOR_END: contention
SELECT shared_counter_reset();

-- The declarations both builds must agree on (those a call finds on the search path).
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel, p.proretset
  FROM pg_proc p
 WHERE p.proname LIKE 'shared\_counter%' AND pg_function_is_visible(p.oid)
 ORDER BY p.proname;

-- ANCHOR: my_add_one
-- The chapter-1 exercise: one plus the argument, and the error past the largest integer.
SELECT my_add_one(41);
SELECT my_add_one(2147483647);  -- expect: ERROR 22003 integer out of range
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: my_add_one

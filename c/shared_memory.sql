-- Shared memory and LWLocks (chapter 12). Part of the xfunc_c extension script.

-- ANCHOR: functions
CREATE FUNCTION shared_counter_add("delta" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_add'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter()
    RETURNS TABLE("value" bigint, "updates" bigint)
    AS 'MODULE_PATHNAME', 'shared_counter'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'shared_counter_reset'
    LANGUAGE C VOLATILE STRICT;
-- ANCHOR_END: functions

-- ANCHOR: swap
CREATE FUNCTION shared_counter_swap("new_value" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_swap'
    LANGUAGE C VOLATILE STRICT;
-- ANCHOR_END: swap

-- ANCHOR: contention
CREATE FUNCTION shared_counter_value() RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_value'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_bump_atomic() RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_bump_atomic'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_bump_spinlock() RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_bump_spinlock'
    LANGUAGE C VOLATILE STRICT;
-- ANCHOR_END: contention

-- ANCHOR: cycles
CREATE FUNCTION shared_counter_add_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_add_cycles'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_value_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_value_cycles'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_mix_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_mix_cycles'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_bump_atomic_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_bump_atomic_cycles'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION shared_counter_bump_spinlock_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'shared_counter_bump_spinlock_cycles'
    LANGUAGE C VOLATILE STRICT;
-- ANCHOR_END: cycles

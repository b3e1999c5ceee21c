-- ANCHOR: my_add_one
CREATE FUNCTION my_add_one(arg integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'my_add_one'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: my_add_one

//! Polymorphic arguments and return types (chapter 11): the manual's `make_array`.
//!
//! A function declared with `anyelement` receives a `Datum` of whatever type the caller passed;
//! the type is known only at run time, from the call's expression tree
//! (`get_fn_expr_argtype`). Building a value of a type known only at run time, such as an array
//! of it, needs the type's storage properties (length, by-value, alignment) from the catalog.

use pgrx::prelude::*;
use pgrx::{pg_getarg_type, AnyArray, AnyElement, FromDatum};

// ANCHOR: make_array
/// `make_array(anyelement) RETURNS anyarray`: the manual's polymorphic example, a one-element
/// array of whatever it is given; `make_array(NULL::integer)` is `{NULL}`.
///
/// pgrx gives the argument as an `AnyElement`: its `Datum` and its type (`AnyElement::oid`,
/// which pgrx fills in with `get_fn_expr_argtype`). For a NULL argument it gives `None` and no
/// type, so the type is read from `fcinfo` with `pg_getarg_type`, pgrx's wrapper of
/// `get_fn_expr_argtype`. pgrx cannot build the array: `Vec<AnyElement>` would make an array of
/// the pseudo-type `anyelement` (its `type_oid()` is the constant `ANYELEMENTOID`), so, as the
/// C version does, we ask the catalog for the element type's length, by-value flag and alignment
/// and call `construct_md_array`. Not STRICT, as in the manual.
///
/// Not `pub`: it takes a raw `FunctionCallInfo`, which only the wrapper pgrx generates (called
/// by PostgreSQL) can pass soundly.
#[pg_extern(immutable, parallel_safe)]
fn make_array(element: Option<AnyElement>, fcinfo: pg_sys::FunctionCallInfo) -> Option<AnyArray> {
    // SAFETY: fcinfo is the FunctionCallInfo of this very call, which has one argument.
    let element_type = unsafe { pg_getarg_type(fcinfo, 0) };
    if element_type == pg_sys::InvalidOid {
        // Called without an expression tree (e.g. through OidFunctionCall1): no type to use.
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE,
            "could not determine data type of input"
        );
    }
    let (mut datum, mut isnull) = match element {
        Some(element) => (element.datum(), false),
        None => (pg_sys::Datum::from(0), true),
    };

    let mut typlen: i16 = 0;
    let mut typbyval = false;
    let mut typalign: std::ffi::c_char = 0;
    // SAFETY: element_type is a valid type oid (the parser resolved it) and the three out
    // parameters point at live locals of the types the function writes.
    unsafe {
        pg_sys::get_typlenbyvalalign(element_type, &mut typlen, &mut typbyval, &mut typalign);
    }

    let mut dims = [1];
    let mut lbs = [1];
    // SAFETY: one dimension of one element: datum and isnull are that element, dims and lbs
    // have ndims = 1 entries, and the type properties are element_type's own. When the element
    // is not NULL, datum is a valid value of element_type for the duration of this call
    // (construct_md_array detoasts and copies it into the new array).
    let array = unsafe {
        pg_sys::construct_md_array(
            &mut datum,
            &mut isnull,
            1,
            dims.as_mut_ptr(),
            lbs.as_mut_ptr(),
            element_type,
            typlen.into(),
            typbyval,
            typalign,
        )
    };
    // SAFETY: array is a freshly built, non-NULL array of element_type.
    unsafe {
        AnyArray::from_polymorphic_datum(
            pg_sys::Datum::from(array),
            false,
            pg_sys::get_array_type(element_type),
        )
    }
}
// ANCHOR_END: make_array

// ANCHOR: make_pair
/// Exercise of chapter 11: `make_pair(first anyelement, second anyelement) RETURNS anyarray`,
/// a two-element array; either element may be NULL.
///
/// Both arguments are `anyelement`, so the parser has resolved them to one type and coerced
/// both to it: argument 0's type is the element type. The rest is `make_array` with two
/// elements: the Datums and NULL flags are arrays of two, still one dimension.
#[pg_extern(immutable, parallel_safe)]
fn make_pair(
    first: Option<AnyElement>,
    second: Option<AnyElement>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<AnyArray> {
    // SAFETY: fcinfo is the FunctionCallInfo of this very call, which has two arguments.
    let element_type = unsafe { pg_getarg_type(fcinfo, 0) };
    if element_type == pg_sys::InvalidOid {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE,
            "could not determine data type of input"
        );
    }
    let split = |element: Option<AnyElement>| match element {
        Some(element) => (element.datum(), false),
        None => (pg_sys::Datum::from(0), true),
    };
    let ((first, first_null), (second, second_null)) = (split(first), split(second));
    let mut datums = [first, second];
    let mut nulls = [first_null, second_null];

    let mut typlen: i16 = 0;
    let mut typbyval = false;
    let mut typalign: std::ffi::c_char = 0;
    // SAFETY: as in make_array: a valid type oid, out parameters pointing at live locals.
    unsafe {
        pg_sys::get_typlenbyvalalign(element_type, &mut typlen, &mut typbyval, &mut typalign);
    }

    let mut dims = [2];
    let mut lbs = [1];
    // SAFETY: one dimension of two elements: datums and nulls have 2 entries, dims and lbs
    // have ndims = 1, and each non-NULL datum is a valid value of element_type for the
    // duration of this call.
    let array = unsafe {
        pg_sys::construct_md_array(
            datums.as_mut_ptr(),
            nulls.as_mut_ptr(),
            1,
            dims.as_mut_ptr(),
            lbs.as_mut_ptr(),
            element_type,
            typlen.into(),
            typbyval,
            typalign,
        )
    };
    // SAFETY: array is a freshly built, non-NULL array of element_type.
    unsafe {
        AnyArray::from_polymorphic_datum(
            pg_sys::Datum::from(array),
            false,
            pg_sys::get_array_type(element_type),
        )
    }
}
// ANCHOR_END: make_pair

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn make_array_of_each_kind_of_type() {
        assert_eq!(
            Spi::get_one::<String>("SELECT make_array(42)::text"),
            Ok(Some("{42}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT make_array('a b'::text)::text"),
            Ok(Some("{\"a b\"}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT make_array(point(1, 2))::text"),
            Ok(Some("{\"(1,2)\"}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT make_array(NULL::integer)::text"),
            Ok(Some("{NULL}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT pg_typeof(make_array(1.5::numeric))::text"),
            Ok(Some("numeric[]".into()))
        );
    }

    #[pg_test]
    fn make_array_unknown_literal_is_refused_by_the_parser() {
        assert_eq!(
            crate::testing::sqlstate_of("SELECT make_array('x')"),
            Some("42804".into())
        );
    }

    #[pg_test(error = "could not determine data type of input")]
    fn make_array_without_an_expression_tree() {
        // OidFunctionCall1Coll calls the function with no fn_expr: get_fn_expr_argtype has
        // nothing to look at and returns InvalidOid.
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'make_array(anyelement)'::regprocedure::oid")
            .expect("looking up make_array")
            .expect("make_array exists");
        // SAFETY: oid names a function of one argument, and 42 is a valid by-value Datum.
        unsafe {
            pg_sys::OidFunctionCall1Coll(oid, pg_sys::InvalidOid, pg_sys::Datum::from(42));
        }
    }

    #[pg_test]
    fn make_pair_of_two_elements() {
        assert_eq!(
            Spi::get_one::<String>("SELECT make_pair('a'::text, NULL)::text"),
            Ok(Some("{a,NULL}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT make_pair(1, '2')::text"),
            Ok(Some("{1,2}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT pg_typeof(make_pair(point(1, 2), NULL))::text"),
            Ok(Some("point[]".into()))
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT make_pair(1, 2.5)"),
            Some("42883".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT make_pair(NULL, NULL)"),
            Some("42804".into())
        );
    }
}

//! Polymorphic arguments and return types (chapter 11): the manual's `make_array`.
//!
//! A function declared with `anyelement` receives a `Datum` of whatever type the caller passed;
//! the type is known only at run time, from the call's expression tree
//! (`get_fn_expr_argtype`). Building a value of a type known only at run time, such as an array
//! of it, needs the type's storage properties (length, by-value, alignment) from the catalog.

use pgrx::prelude::*;
use pgrx::{pg_getarg_type, AnyArray, AnyElement, FromDatum};

// ANCHOR: make_array
/// The type of the call's first argument, read from its expression tree, or the error for a
/// call that has none (through `OidFunctionCall1`, say): there is then no type to use.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it, with an argument 0.
unsafe fn element_type_of(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Oid {
    // SAFETY: fcinfo is this call's and has an argument 0 (our caller's contract).
    let element_type = unsafe { pg_getarg_type(fcinfo, 0) };
    if element_type == pg_sys::InvalidOid {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE,
            "could not determine data type of input"
        );
    }
    element_type
}

/// A one-dimensional array of `element_type` holding `elements` (`None` is a NULL element),
/// built by `construct_md_array` with the type's length, by-value flag and alignment.
///
/// # Safety
/// Every `Some` element must be a value of `element_type`, valid for the duration of the call.
unsafe fn array_of(element_type: pg_sys::Oid, elements: &[Option<AnyElement>]) -> Option<AnyArray> {
    let mut datums: Vec<pg_sys::Datum> = elements
        .iter()
        .map(|element| element.map_or(pg_sys::Datum::from(0), |element| element.datum()))
        .collect();
    let mut nulls: Vec<bool> = elements.iter().map(Option::is_none).collect();

    let mut typlen: i16 = 0;
    let mut typbyval = false;
    let mut typalign: std::ffi::c_char = 0;
    // SAFETY: element_type is a valid type oid (the parser resolved it) and the three out
    // parameters point at live locals of the types the function writes.
    unsafe {
        pg_sys::get_typlenbyvalalign(element_type, &mut typlen, &mut typbyval, &mut typalign);
    }

    // A function has at most 100 arguments (FUNC_MAX_ARGS): the length fits in a C int.
    let mut dims = [elements.len() as i32];
    let mut lbs = [1];
    // SAFETY: one dimension of dims[0] elements: datums and nulls have that many entries, dims
    // and lbs have ndims = 1 entries, and the type properties are element_type's own. Each
    // non-NULL datum is a valid value of element_type for the duration of this call (our
    // caller's contract); construct_md_array detoasts and copies it into the new array.
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
    let element_type = unsafe { element_type_of(fcinfo) };
    // SAFETY: a non-NULL element is the argument itself, a value of element_type.
    unsafe { array_of(element_type, &[element]) }
}
// ANCHOR_END: make_array

// ANCHOR: make_pair
/// Exercise of chapter 11: `make_pair(first anyelement, second anyelement) RETURNS anyarray`,
/// a two-element array; either element may be NULL.
///
/// Both arguments are `anyelement`, so the parser has resolved them to one type and coerced
/// both to it: argument 0's type is the element type. The rest is `make_array` with two
/// elements, through the same helpers, `element_type_of` and `array_of`.
#[pg_extern(immutable, parallel_safe)]
fn make_pair(
    first: Option<AnyElement>,
    second: Option<AnyElement>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<AnyArray> {
    // SAFETY: fcinfo is the FunctionCallInfo of this very call, which has two arguments.
    let element_type = unsafe { element_type_of(fcinfo) };
    // SAFETY: each non-NULL element is an argument, coerced by the parser to element_type.
    unsafe { array_of(element_type, &[first, second]) }
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

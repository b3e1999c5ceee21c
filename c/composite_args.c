/*
 * composite_args.c
 *		Composite-type arguments: the manual's c_overpaid(emp, integer).
 *
 * The C twin of src/composite_args.rs. Same SQL contract: see c/composite_args.sql and the
 * regression test sql/composite_args.sql, which both builds must pass with the same expected
 * output.
 *
 * A composite argument arrives as a HeapTupleHeader: a row with no tuple descriptor attached,
 * only its type's OID and typmod. Reading a field by name means finding the row type's
 * descriptor, and nothing guarantees that the type still has the shape the function was written
 * for: ALTER TABLE can drop the column or change its type after CREATE FUNCTION.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

/* ANCHOR: check_salary */
/*
 * Raise a clear error unless the row's type has a column "salary" of type integer (or a domain
 * over integer).
 *
 * GetAttributeByName does not check this for us: for a missing column it raises an internal
 * error (elog, SQLSTATE XX000), and it returns whatever Datum the column holds, which for a
 * numeric or text salary is a pointer that DatumGetInt32 would silently misread.
 */
static void
check_salary_column(HeapTupleHeader row)
{
	Oid			rowtype = HeapTupleHeaderGetTypeId(row);
	TupleDesc	tupdesc;
	Oid			salary_type = InvalidOid;

	tupdesc = lookup_rowtype_tupdesc(rowtype, HeapTupleHeaderGetTypMod(row));
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), "salary") == 0)
		{
			salary_type = att->atttypid;
			break;
		}
	}
	ReleaseTupleDesc(tupdesc);

	if (!OidIsValid(salary_type))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"salary\" not found in data type %s",
						format_type_be(rowtype))));
	if (getBaseType(salary_type) != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"salary\" of data type %s has type %s, not integer",
						format_type_be(rowtype), format_type_be(salary_type))));
}
/* ANCHOR_END: check_salary */

/* ANCHOR: c_overpaid */
/*
 * The employee's salary, read with GetAttributeByName once check_salary_column has made sure
 * the row type has an integer column "salary". *isnull says whether the salary is NULL.
 */
static int32
salary_of(HeapTupleHeader emp, bool *isnull)
{
	Datum		salary;

	check_salary_column(emp);
	salary = GetAttributeByName(emp, "salary", isnull);
	return *isnull ? 0 : DatumGetInt32(salary);
}

/*
 * c_overpaid(emp, integer) RETURNS boolean
 *
 * Is the employee's salary above the limit? The manual's example, with the row type checked
 * first (salary_of); a NULL salary is "not overpaid", as in the manual.
 */
PG_FUNCTION_INFO_V1(c_overpaid);

Datum
c_overpaid(PG_FUNCTION_ARGS)
{
	HeapTupleHeader emp = PG_GETARG_HEAPTUPLEHEADER(0);
	int32		limit = PG_GETARG_INT32(1);
	bool		isnull;
	int32		salary = salary_of(emp, &isnull);

	if (isnull)
		PG_RETURN_BOOL(false);
	/* Alternatively, we might prefer to do PG_RETURN_NULL() for a null salary. */

	PG_RETURN_BOOL(salary > limit);
}
/* ANCHOR_END: c_overpaid */

/* ANCHOR: overpaid_by */
/*
 * overpaid_by(emp, integer) RETURNS integer
 *
 * The chapter's exercise: by how much is the salary above the limit? salary - limit, negative
 * below it, NULL for a NULL salary. The row access is c_overpaid's salary_of; the subtraction
 * is checked: it can overflow int4.
 */
PG_FUNCTION_INFO_V1(overpaid_by);

Datum
overpaid_by(PG_FUNCTION_ARGS)
{
	int32		limit = PG_GETARG_INT32(1);
	bool		isnull;
	int32		salary = salary_of(PG_GETARG_HEAPTUPLEHEADER(0), &isnull);
	int32		result;

	if (isnull)
		PG_RETURN_NULL();
	if (pg_sub_s32_overflow(salary, limit, &result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	PG_RETURN_INT32(result);
}
/* ANCHOR_END: overpaid_by */

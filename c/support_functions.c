/*
 * support_functions.c
 *		Function optimization information: a planner support function for multiples(count,
 *		base), the set-returning function of chapter 10 (returning_sets.c).
 *
 * The C twin of src/support_functions.rs. Same SQL contract: see c/support_functions.sql and
 * the regression test sql/support_functions.sql, which both builds must pass with the same
 * output.
 *
 * Without help, the planner knows of a set-returning function only what its pg_proc row says:
 * prorows (1000 unless ROWS says otherwise) rows per call, procost (1 unless COST says
 * otherwise) times cpu_operator_cost per evaluation. A support function (pg_proc.prosupport)
 * is asked instead, with a request node that names the call and says what the planner wants
 * to know (nodes/supportnodes.h); it answers by filling in the request and returning it, or
 * declines by returning NULL, and the planner falls back on prorows and procost.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"

/* ANCHOR: count_estimate */
/*
 * What the planner can know of multiples' count before the query runs: COUNT_UNKNOWN when the
 * argument is not a constant even after estimate_expression_value (a column, a volatile
 * function), COUNT_NULL when count or base is a constant NULL (multiples is STRICT, so it is
 * not called and returns no rows), else COUNT_KNOWN with the value in *count. node is the
 * call; a FuncExpr is all we expect, but the request only promises "the parse node invoking
 * the function", so anything else is COUNT_UNKNOWN.
 */
typedef enum CountEstimate
{
	COUNT_UNKNOWN,
	COUNT_NULL,
	COUNT_KNOWN
} CountEstimate;

static CountEstimate
estimate_count(PlannerInfo *root, Node *node, int32 *count)
{
	List	   *args;
	Node	   *arg_count;
	Node	   *arg_base;

	/*
	 * A request may come with no planner (supportnodes.h: root "could be NULL";
	 * cost_qual_eval with a NULL root asks for a cost), and
	 * estimate_expression_value reads root->glob.
	 */
	if (root == NULL)
		return COUNT_UNKNOWN;
	if (node == NULL || !is_funcclause(node))
		return COUNT_UNKNOWN;
	args = ((FuncExpr *) node)->args;
	if (list_length(args) != 2)
		return COUNT_UNKNOWN;

	/* Folds constant subexpressions, and takes a bound parameter's current value. */
	arg_count = estimate_expression_value(root, linitial(args));
	arg_base = estimate_expression_value(root, lsecond(args));

	if ((IsA(arg_count, Const) && ((Const *) arg_count)->constisnull) ||
		(IsA(arg_base, Const) && ((Const *) arg_base)->constisnull))
		return COUNT_NULL;
	/* An int4 constant, as multiples is declared; anything else we do not estimate. */
	if (!IsA(arg_count, Const) || ((Const *) arg_count)->consttype != INT4OID)
		return COUNT_UNKNOWN;
	*count = DatumGetInt32(((Const *) arg_count)->constvalue);
	return COUNT_KNOWN;
}
/* ANCHOR_END: count_estimate */

/* ANCHOR: multiples_support */
/*
 * multiples_support(request internal) RETURNS internal
 *
 * The planner support function of multiples(count, base), attached by ALTER FUNCTION ...
 * SUPPORT (c/support_functions.sql). It answers two requests and declines every other:
 *
 * SupportRequestRows: the number of rows. A constant count is the answer (a negative one
 * raises an ERROR before any row, so 0), a constant NULL argument means 0; otherwise decline,
 * and the planner uses prorows.
 *
 * SupportRequestCost: the cost of one evaluation, which for a set-returning function is the
 * work of all its rows. procost would be scaled by cpu_operator_cost for us; an answer here is
 * not, so we scale it ourselves: one cpu_operator_cost per row, as if each row were one
 * operator call (the multiplication), and one for the call itself.
 */
PG_FUNCTION_INFO_V1(multiples_support);

Datum
multiples_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	Node	   *ret = NULL;
	int32		count = 0;

	if (IsA(rawreq, SupportRequestRows))
	{
		SupportRequestRows *req = (SupportRequestRows *) rawreq;

		switch (estimate_count(req->root, req->node, &count))
		{
			case COUNT_NULL:
				req->rows = 0;
				ret = (Node *) req;
				break;
			case COUNT_KNOWN:
				req->rows = Max(count, 0);
				ret = (Node *) req;
				break;
			case COUNT_UNKNOWN:
				break;
		}
	}
	else if (IsA(rawreq, SupportRequestCost))
	{
		SupportRequestCost *req = (SupportRequestCost *) rawreq;

		/* node is NULL when the planner cannot tie the arguments to the call: decline. */
		if (estimate_count(req->root, req->node, &count) == COUNT_KNOWN)
		{
			req->startup = 0;
			req->per_tuple = cpu_operator_cost * (1.0 + Max(count, 0));
			ret = (Node *) req;
		}
	}

	PG_RETURN_POINTER(ret);
}
/* ANCHOR_END: multiples_support */

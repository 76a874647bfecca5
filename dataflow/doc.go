// Package dataflow is Arbor's incremental dataflow engine: a pure library
// (no actors, goroutines, clocks or I/O) that maintains the output of a
// relational plan as its inputs change, keeps that output in an
// arrangement readable at any time since its since, and answers peeks.
// The pool's workers hold one Dataflow per flow.
//
// # What it owns
//
//   - Rows and datums (datum.go, row.go, schema.go): null, bool, int64,
//     float64, string, bytes and timestamp; Row is a []Datum with a total
//     order (Compare), Equal and a deterministic Hash. A Datum is two
//     words: nil (int64 and null), a type tag or a string's bytes, and the
//     value's bits or the string's length (datum.go); it is not
//     comparable with ==. wire.go converts to
//     and from messages.Datum / messages.Row / messages.Schema; malformed
//     input wraps messages.ErrMalformed.
//   - Scalar expressions (expr*.go): columns, literals, + - * / %,
//     comparisons, AND / OR / NOT with SQL's three-valued logic, IS NULL,
//     unary minus, CASE, COALESCE, abs, lower, upper, length, substring,
//     CAST between scalar types, and timestamp ± int64 milliseconds and
//     timestamp - timestamp (expr_cast.go). CompileExpr type checks a
//     messages.Expr against a Schema.
//   - Plans (plan.go, validate.go): Get, Constant, Filter, Map, Project,
//     Reduce (count, sum, min, max, avg), Join (equi-join of two or more
//     inputs), Union, Distinct, Negate, TopK, ArrangeBy and TemporalFilter
//     (rows valid while the read time is in a range), written as
//     messages.Plan (messages/plan.proto). Compile validates a plan against
//     its sources' schemas and names the operator, column and problem in
//     every error (all wrap ErrInvalidPlan).
//   - Append-only sources (monotonic.go): a Get may declare its source
//     append-only (insertions only, like an event stream). Compile derives
//     which collections only gain rows, and operators over them keep less
//     state: a TopK with a limit keeps per group only the rows that reach
//     its window (topk_monotonic.go, with a Map under it fused in), a
//     Reduce of min/max or of counts, integer sums and averages keeps its
//     output or accumulators and not the group's rows, and a Join side is
//     an unsorted append-only index (join_append.go: pointer-free slots
//     and records, int keys held in the slot, a Project under the join
//     read through its projection; a batch's chains are walked 32 at a
//     time so their cache misses overlap). A Reduce of counts
//     and integer sums and averages also arranges nothing when its input is
//     non-negative by construction (the output of a Reduce, TopK or
//     Distinct, and what Filter, Map, Project, Union and Join make of it).
//   - Incremental evaluation (dataflow.go and one file per operator: Push
//     type checks a batch, a column at a time, before keeping any of it, a batch whose updates
//     are all ready reaches the operators without being copied, and a
//     filter of int comparisons runs a batch at a time, expr_vec.go) and
//     arrangements (arrangement.go: traces indexed by key hash in an
//     open-addressing table, trace_table.go; a key's long history is kept
//     in sorted chunks, chunks.go, whose entries carry an abbreviation of
//     their value so searches rarely follow a row pointer); a dataflow's
//     output arrangement is instead a spine of sorted batches of entries in
//     pooled chunks, merged geometrically with compaction folded into the
//     merges (spine.go: no table probe per new key, writes sequential);
//     peeks
//     (peek.go; orders sorted by abbreviated keys, sort_order.go); Evaluate
//     and EvaluateAt, the from-scratch reference (evaluate.go).
//
// # Using a Dataflow
//
//	plan, err := dataflow.Compile(wirePlan, map[timely.GlobalId]dataflow.Schema{src: schema})
//	df := dataflow.NewDataflow(plan, dataflow.Config{AsOf: asOf})
//	err = df.Push(src, []dataflow.Update{{Row: row, Time: t, Diff: +1}})
//	err = df.AdvanceInput(src, timely.At(t+1))   // computes every time now complete
//	out, errs := df.TakeOutput()                   // output updates, times < df.OutputFrontier()
//	rows, err := df.Peek(dataflow.PeekSpec{Time: t}) // since <= t < output frontier
//	err = df.Compact(timely.At(t))                 // forget history before t
//
// # Invariants
//
//   - Times are totally ordered (timely.Timestamp). A source's updates must
//     be at or after its frontier (else ErrNotAdmitted); its frontier never
//     goes back. The output frontier is the meet of the input frontiers and
//     never less than AsOf; every output update has AsOf <= time < output
//     frontier, and once the output frontier passes t the output at t is
//     final.
//   - Times are processed in increasing order, once every input has passed
//     them, so each operator sees its inputs complete up to t before it
//     computes the change at t. The times processed are those of input
//     updates and those a temporal filter scheduled a row's appearance or
//     expiry for. Batches between operators need not be consolidated: each
//     operator applies a row's updates one at a time. The output at every time t equals
//     Evaluate over the sources' contents at t (the property test checks
//     this on random plans, also after compaction).
//   - Evaluation errors (division by zero, overflow, a negative substring
//     length, a negative multiplicity reaching Reduce, Distinct or TopK) are
//     data: each collection has an error stream next to its rows, errors
//     flow through every operator unchanged (Negate does not negate them),
//     and a peek at a time with errors fails with ErrEval naming the first.
//     Nothing in this package panics on bad input.
//   - A retraction that reaches an operator relying on an append-only
//     declaration (one that nothing at its time cancels) is an evaluation
//     error that stays in that operator's error stream from its time on:
//     every later peek fails with ErrEval rather than return a result
//     computed without the rows the operator no longer keeps.
//   - Stateful operators (Reduce, Join, Distinct, TopK) keep arrangements
//     compacted to the time they are processing, so their memory follows
//     their live input; a key with more than 128 entries is compacted a
//     chunk at a time as its chunks fill, so the cost of an update does not
//     grow with the key's history. The output arrangement keeps history
//     from its since on; Compact advances the since, and its merges
//     consolidate (a merge advances every time it passes to the since; a
//     full read or Len merges and consolidates everything first).
//   - Peeks return rows in row order unless asked otherwise. The output
//     arrangement is always in key order, so a peek in row order sorts
//     nothing when the arrangement key is a leading run of columns (else
//     it sorts what it read). Other orders sort what was read, and a limit keeps
//     only the rows that can reach the window.
//
// # Writing plans by hand (protojson)
//
// Columns are referred to by position ({"index": 0}) or by name
// ({"name": "amount"}); a name must be unique in the operator's input.
// 64-bit integers are JSON strings ("100"), enums are their names. With
// sources u1 = orders(id int64, customer string, amount int64) and
// u2 = customers(name string, region string):
//
// Orders over 100:
//
//	{"filter": {
//	  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	  "predicates": [{"binary": {"op": "BINARY_OP_GT",
//	    "left": {"column": {"name": "amount"}},
//	    "right": {"literal": {"value": {"int64": "100"}}}}}]}}
//
// Count and total per customer (output: customer, orders, total):
//
//	{"reduce": {
//	  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	  "groupKey": [{"name": "customer"}],
//	  "aggregates": [{"func": "AGGREGATE_FUNC_COUNT", "name": "orders"},
//	                 {"func": "AGGREGATE_FUNC_SUM", "column": {"name": "amount"}, "name": "total"}]}}
//
// Orders joined with their customer's region, arranged (indexed) by customer:
//
//	{"arrangeBy": {
//	  "key": [{"index": 1}],
//	  "input": {"join": {
//	    "inputs": [{"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	               {"get": {"source": {"kind": "ID_KIND_USER", "value": "2"}}}],
//	    "equivalences": [{"columns": [{"input": 0, "column": {"name": "customer"}},
//	                                  {"input": 1, "column": {"name": "name"}}]}]}}}}
//
// The three largest orders per customer:
//
//	{"topK": {
//	  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	  "groupKey": [{"name": "customer"}],
//	  "order": [{"column": {"name": "amount"}, "desc": true}],
//	  "limit": "3"}}
//
// A computed column with CASE:
//
//	{"map": {
//	  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	  "exprs": [{"name": "size", "expr": {"case": {
//	    "whens": [{"cond": {"binary": {"op": "BINARY_OP_GE", "left": {"column": {"name": "amount"}},
//	                                   "right": {"literal": {"value": {"int64": "1000"}}}}},
//	               "then": {"literal": {"value": {"string": "large"}}}}],
//	    "else": {"literal": {"value": {"string": "small"}}}}}}]}}
//
// Orders of the last day, in a sliding window: an order is shown while the
// time the output is read at lies within a day (86,400,000 ms) of its id,
// read as its creation time in milliseconds (a cast to timestamp, then
// timestamp arithmetic):
//
//	{"temporalFilter": {
//	  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
//	  "validFrom": {"cast": {"arg": {"column": {"name": "id"}}, "type": "SCALAR_TYPE_TIMESTAMP"}},
//	  "validUntil": {"binary": {"op": "BINARY_OP_ADD",
//	    "left": {"cast": {"arg": {"column": {"name": "id"}}, "type": "SCALAR_TYPE_TIMESTAMP"}},
//	    "right": {"literal": {"value": {"int64": "86400000"}}}}}}}
//
// These examples are compiled by TestDocExamples; keep the two in step.
//
// # Semantics worth knowing
//
//   - NULL never joins (equi-join columns must be non-null and equal);
//     Reduce groups NULL keys together. A Reduce over an empty input has no
//     rows, also without a group key (unlike SQL's global aggregate).
//   - count(column) counts non-null values; sum, min, max and avg ignore
//     nulls and are NULL when a group has no non-null value. Integer sums
//     are exact (128-bit) and fail with "int64 overflow in sum" only when
//     the result does not fit; avg is float64.
//   - Arithmetic mixes int64 and float64 by promoting to float64; other
//     operators need equal types. Float division by zero is an error, not
//     infinity.
//   - TopK and finishing break ties by the whole row, so results are
//     deterministic; nulls sort first unless nulls_last.
package dataflow

package dataflow

import (
	"fmt"
	"math"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// MapFilterProject is a compiled map-filter-project: append the map
// expressions' columns, keep rows for which every filter is true, then
// keep the projected columns.
type MapFilterProject struct {
	arity   int // of the input
	exprs   []*Expr
	filters []*Expr
	project []int
	schema  Schema
}

// CompileMapFilterProject type checks w against the input schema. A nil w
// is the identity.
func CompileMapFilterProject(w *messages.MapFilterProject, input Schema) (*MapFilterProject, error) {
	m := &MapFilterProject{arity: len(input)}
	schema := append(Schema(nil), input...)
	for i, ne := range w.GetMap() {
		e, err := compileExpr(ne.GetExpr(), schema)
		if err != nil {
			return nil, fmt.Errorf("peek map expression %d (%q): %w", i, ne.GetName(), err)
		}
		m.exprs = append(m.exprs, e)
		schema = append(schema, Column{Name: ne.GetName(), Type: e.typ, Nullable: e.nullable})
	}
	for i, w := range w.GetFilter() {
		e, err := compileExpr(w, schema)
		if err != nil {
			return nil, fmt.Errorf("peek filter %d: %w", i, err)
		}
		if e.typ != TypeBool {
			return nil, invalidf("peek filter %d: type mismatch: %s has type %s, want bool", i, e, e.typ)
		}
		m.filters = append(m.filters, e)
	}
	if len(w.GetProject()) == 0 {
		m.schema = schema
		return m, nil
	}
	cols, err := resolveColumns(w.GetProject(), schema, "peek projection column")
	if err != nil {
		return nil, err
	}
	m.project = cols
	for _, c := range cols {
		m.schema = append(m.schema, schema[c])
	}
	return m, nil
}

// Schema returns the schema of the rows Apply produces.
func (m *MapFilterProject) Schema() Schema { return m.schema }

// Apply runs the map-filter-project on one row of the input schema: the
// output row and true, or false when a filter drops it, or an evaluation
// error.
func (m *MapFilterProject) Apply(row Row) (Row, bool, error) {
	if len(row) != m.arity {
		return nil, false, fmt.Errorf("%w: row %s has %d columns, the map-filter-project expects %d", ErrInvalidRow, row, len(row), m.arity)
	}
	if len(m.exprs) > 0 {
		var err error
		if row, err = mapRow(m.exprs, row); err != nil {
			return nil, false, err
		}
	}
	ok, err := filterRow(m.filters, row)
	if err != nil || !ok {
		return nil, false, err
	}
	if m.project != nil {
		row = row.project(m.project)
	}
	return row, true, nil
}

// Finishing orders a result and keeps the rows at [offset, offset+limit).
type Finishing struct {
	order  []orderColumn
	limit  int64 // -1: no limit
	offset int64
}

// CompileFinishing type checks w against the schema of the rows it will
// finish. A nil w keeps every row, in row order.
func CompileFinishing(w *messages.Finishing, schema Schema) (*Finishing, error) {
	order, err := compileOrder(w.GetOrderBy(), schema)
	if err != nil {
		return nil, fmt.Errorf("peek finishing: %w", err)
	}
	f := &Finishing{order: order, limit: -1, offset: clampInt64(w.GetOffset())}
	if w != nil && w.Limit != nil {
		f.limit = clampInt64(w.GetLimit())
	}
	return f, nil
}

// Apply sorts rows by the order (then by the whole row) and cuts them to
// the window. It sorts rows in place.
func (f *Finishing) Apply(rows []Row) []Row {
	if len(f.order) > 0 && len(rows) > 1 {
		rds := make([]rowDiff, len(rows))
		for i, r := range rows {
			rds[i] = rowDiff{row: r, diff: 1}
		}
		sortRowDiffs(rds, f.order) // rows that compare equal are equal
		for i, rd := range rds {
			rows[i] = rd.row
		}
	}
	if f.offset >= int64(len(rows)) {
		return rows[:0]
	}
	rows = rows[f.offset:]
	if f.limit >= 0 && f.limit < int64(len(rows)) {
		rows = rows[:f.limit]
	}
	return rows
}

// applyDiffs is Apply on rows with multiplicities: it sorts them by the
// order, if there is one and they are not already in it (else it keeps them
// as they are), and expands only the copies inside the window, refusing to
// build more than maxRows rows.
func (f *Finishing) applyDiffs(rds []rowDiff, maxRows int64, inOrder bool) ([]Row, error) {
	var s *orderSorter
	if len(f.order) > 0 && !inOrder {
		s = newOrderSorter(f.order, rds)
	}
	return f.finish(rds, s, maxRows)
}

// finish is applyDiffs on rows that s (when not nil) has collected and
// will order; with a limit s orders only the rows that can reach the
// window. Rows that compare equal are equal (the order ends with the whole
// row), so the order is deterministic.
func (f *Finishing) finish(rds []rowDiff, s *orderSorter, maxRows int64) ([]Row, error) {
	each := func(fn func(rowDiff) bool) {
		for _, rd := range rds {
			if !fn(rd) {
				return
			}
		}
	}
	if s != nil {
		if f.limit >= 0 {
			s.first(satAdd(f.offset, f.limit))
		} else {
			s.sort()
		}
		each = s.each
	}
	skip := f.offset
	var room int64 = math.MaxInt64
	if f.limit >= 0 {
		room = f.limit
	}
	var total int64
	ones := true
	for _, r := range rds {
		total += r.diff
		ones = ones && r.diff == 1
	}
	if s != nil && ones && skip == 0 && room >= total && total <= maxRows {
		// Every row once, all of them: copy them out in order in tight
		// loops, no call per row.
		return s.appendRows(make([]Row, 0, total)), nil
	}
	// Size the result for the common case of multiplicity one; larger
	// multiplicities grow it (and a result over maxRows fails first).
	out := make([]Row, 0, min(total-min(skip, total), room, maxRows, int64(len(rds))+1024))
	var err error
	each(func(r rowDiff) bool {
		n := r.diff
		if skip > 0 {
			d := min(skip, n)
			skip, n = skip-d, n-d
		}
		n = min(n, room)
		if n == 0 {
			return room != 0
		}
		if int64(len(out))+n > maxRows {
			err = fmt.Errorf("%w: the peek result has more than %d rows", ErrTooLarge, maxRows)
			return false
		}
		for i := int64(0); i < n; i++ {
			out = append(out, r.row)
		}
		room -= n
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// satAdd adds two non-negative int64s, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// DefaultPeekMaxRows bounds a peek's result when PeekSpec.MaxRows is 0.
const DefaultPeekMaxRows = 1 << 22

// PeekSpec says what a peek reads from a dataflow's output arrangement.
type PeekSpec struct {
	// Time is the time to read at: since <= Time < output frontier.
	Time timely.Timestamp
	// Key, when not nil, restricts the read to one key of the arrangement
	// (a fast-path lookup); it has the arity of the arrangement key.
	Key Row
	// MFP is applied to every row read; nil is the identity.
	MFP *MapFilterProject
	// Finishing orders and cuts the result; nil keeps every row in row order.
	Finishing *Finishing
	// MaxRows bounds the number of rows returned (after finishing); a
	// larger result fails with ErrTooLarge. 0 means DefaultPeekMaxRows.
	MaxRows int64
	// Unordered says the caller does not need rows in row order: without a
	// finishing order, limit or offset, the rows come in the arrangement's
	// order, which differs from peek to peek, and the peek does not sort.
	Unordered bool
}

// Peek reads the output at spec.Time. A row with multiplicity n appears n
// times. Rows come in the finishing's order, else in row order (unless
// spec.Unordered). It fails with ErrCompacted when the time is before the since, with
// ErrNotReady when the output frontier has not passed the time yet, with
// an error wrapping ErrEval when the collection holds an evaluation error
// at that time (the first error in message order) or the MFP fails on a
// row, and with ErrTooLarge when the result has more than MaxRows rows.
//
// Peek is not a pure read: it merges the output arrangement's batches into
// one (compacting them to the since) before reading it whole.
// Like every Dataflow method it must not run concurrently with another.
func (d *Dataflow) Peek(spec PeekSpec) ([]Row, error) {
	t := spec.Time
	if !d.output.Since().Admits(t) {
		return nil, fmt.Errorf("%w: peek at %d, since is %s: that history has been compacted", ErrCompacted, t, d.output.Since())
	}
	if d.upper.Admits(t) {
		return nil, fmt.Errorf("%w: peek at %d, output frontier is %s", ErrNotReady, t, d.upper)
	}
	var firstErr string
	if err := d.errors.Read(t, func(key, _ Row, mult int64) {
		if mult > 0 && (firstErr == "" || key[0].AsString() < firstErr) {
			firstErr = key[0].AsString()
		}
	}); err != nil {
		return nil, err
	}
	if firstErr != "" {
		return nil, fmt.Errorf("%w: %s", ErrEval, firstErr)
	}
	if spec.Key != nil && len(spec.Key) != len(d.key) {
		return nil, fmt.Errorf("%w: peek key %s has %d columns, the arrangement key has %d", ErrInvalidRow, spec.Key, len(spec.Key), len(d.key))
	}
	maxRows := spec.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultPeekMaxRows
	}
	fin := spec.Finishing
	plain := fin == nil || (len(fin.order) == 0 && fin.limit < 0 && fin.offset == 0)
	if spec.Key == nil && spec.MFP == nil && plain && (spec.Unordered || d.keyIsPrefix) {
		// Nothing to sort, map or cut: copy the rows out in one pass, in
		// key order (row order, the key being leading columns) unless the
		// caller does not care. On a negative multiplicity or too many
		// rows, fall through to the general path, which names the error.
		if rows, ok := d.output.appendRows(nil, t, maxRows, !spec.Unordered); ok {
			return rows, nil
		}
	}
	// Rows must come in row order when there is no finishing order (unless
	// the caller says it does not care and there is no window to cut), and
	// when the finishing order is the row order on a prefix of the columns.
	ordered := fin != nil && len(fin.order) > 0
	windowed := fin != nil && (fin.limit >= 0 || fin.offset > 0)
	byPrefix := ordered && d.orderIsRowOrder(fin.order, spec.MFP)
	rowOrder := (!ordered && (!spec.Unordered || windowed)) || byPrefix
	// Read with the buffer sized to what the arrangement holds. The values
	// of one key, and the whole arrangement read in key order when the key
	// is a prefix of the row, come in row order and need no sort.
	// A peek in another order hands the rows to a sorter once they are
	// read. A full read walks the key order when there is one (a slice
	// walk, cheaper than the hash table's).
	entries := d.output.sizeHint()
	if spec.Key != nil {
		entries = 0
	}
	read := make([]rowDiff, 0, entries)
	collect := func(val Row, mult int64) { read = append(read, rowDiff{row: val, diff: mult}) }
	collectKV := func(_, val Row, mult int64) { read = append(read, rowDiff{row: val, diff: mult}) }
	var err error
	sorted := false
	switch {
	case spec.Key != nil:
		err = d.output.ReadKey(spec.Key, t, collect)
		sorted = true
	case rowOrder && d.keyIsPrefix, d.output.keyOrdered():
		err = d.output.readOrderedValues(t, collect)
		sorted = d.keyIsPrefix // key order is row order
	default:
		err = d.output.Read(t, collectKV)
	}
	if err != nil {
		return nil, err
	}
	// A peek in another order hands the rows to a sorter once read.
	var sorter *orderSorter
	if ordered && !byPrefix && spec.MFP == nil {
		sorter = newOrderSorter(fin.order, read)
	}
	if rowOrder && !sorted && len(d.Schema()) > 0 {
		sortRowDiffs(read, rowOrderColumns) // rows are distinct
		sorted = true
	}
	// An error names the smallest row that fails, whatever the order the
	// rows were read in.
	var bad Row
	for _, r := range read {
		if r.diff < 0 && (bad == nil || r.row.Compare(bad) < 0) {
			bad = r.row
			if sorted {
				break
			}
		}
	}
	if bad != nil {
		var n int64
		for _, r := range read {
			if r.row.Equal(bad) {
				n = r.diff
			}
		}
		return nil, fmt.Errorf("%w: peek at %d: row %s has a negative multiplicity %d", ErrEval, t, bad, n)
	}
	if spec.MFP != nil {
		kept := read[:0]
		var badErr error
		for _, r := range read {
			if bad != nil && (sorted || r.row.Compare(bad) > 0) {
				continue // only a smaller row's error can replace the one found
			}
			out, ok, err := spec.MFP.Apply(r.row)
			if err != nil {
				bad, badErr = r.row, err
				continue
			}
			if ok && bad == nil {
				kept = append(kept, rowDiff{row: out, diff: r.diff})
			}
		}
		if badErr != nil {
			return nil, fmt.Errorf("%w: %v", ErrEval, badErr)
		}
		read = kept
	}
	if fin == nil {
		fin = &Finishing{limit: -1}
	}
	if sorter != nil {
		return fin.finish(read, sorter, maxRows)
	}
	return fin.applyDiffs(read, maxRows, byPrefix)
}

// rowOrderColumns is the row order as a finishing order: column 0, then
// (as every order) the whole row.
var rowOrderColumns = []orderColumn{{col: 0}}

// orderIsRowOrder reports whether rows in row order are in the order ord
// after mfp: ord is ascending, nulls first, on the columns 0, 1, ... of the
// output, and mfp (if any) keeps the input's columns in place (it only
// filters and appends), so the input's row order is the output's.
func (d *Dataflow) orderIsRowOrder(ord []orderColumn, mfp *MapFilterProject) bool {
	arity := len(d.Schema())
	if mfp != nil && mfp.project != nil {
		return false
	}
	if len(ord) > arity {
		return false
	}
	for i, o := range ord {
		if o.col != i || o.desc || o.nullsLast {
			return false
		}
	}
	return true
}

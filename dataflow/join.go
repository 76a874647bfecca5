package dataflow

import (
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// joinOp is the equi-join of n inputs, run as a left-deep chain of binary
// joins: stage k joins the result of inputs 0..k-1 with input k on the
// stage's key. Every stage arranges both its sides by the key.
type joinOp struct {
	spec   *joinSpec
	stages []*binaryJoin
	fin    *joinFinish // a Filter and Project fused into the join, or nil
	// broken is -1, or the input an append-only side of which received a
	// retraction: the error is out and the join emits no more rows.
	broken int

	// sources are the nodes whose rows the join's inputs receive: its
	// inputs, but for a monotonic Project the Project's input, which the
	// join projects itself (projs[i]; nil for an input read as it is).
	sources []*node
	projs   [][]int
	filters [][][2]int // spec.filters over the rows the join receives
}

// joinFinish is a Filter and/or Project that follows a join, applied to
// each joined row before it is built: the pair is concatenated into a
// scratch row, the predicates evaluated on it, and only a kept row is
// copied out (projected, when cols is set). It saves building every joined
// row twice, or at all when the filter drops it.
type joinFinish struct {
	preds   []*Expr
	project bool // keep only cols
	cols    []int
	scratch Row
	errs    []errDiff

	// transient: the consumer of the join's rows keeps none of them past
	// its step (see keepsNoRows), so rows are carved out of arena, reused
	// from step to step, instead of allocated one by one.
	transient bool
	arena     []Datum
}

// newRow returns room for a row of n datums: from the arena when the rows
// are transient, else a new row.
func (f *joinFinish) newRow(n int) Row {
	if !f.transient {
		return make(Row, n)
	}
	if len(f.arena)+n > cap(f.arena) {
		// Rows already handed out keep the old array; the next step reuses
		// the new one.
		f.arena = make([]Datum, 0, max(2*cap(f.arena), 1024, n))
	}
	start := len(f.arena)
	f.arena = f.arena[:start+n]
	return f.arena[start : start+n : start+n]
}

// reset starts a step: the rows of the previous step are no longer read.
func (f *joinFinish) reset() {
	if f != nil && f.transient {
		clear(f.arena) // do not keep the last batch's strings alive
		f.arena = f.arena[:0]
	}
}

// begin returns room for a joined row of n datums, which the join fills
// and hands to finish: with a fused Filter or Project, the scratch row;
// without, the output row itself.
func (f *joinFinish) begin(n int) Row {
	if f == nil {
		return make(Row, n)
	}
	if cap(f.scratch) < n {
		f.scratch = make(Row, n)
	}
	f.scratch = f.scratch[:n]
	return f.scratch
}

// finish appends the joined row (from begin) with diff to out, or records
// the error a predicate fails with.
func (f *joinFinish) finish(out []rowDiff, row Row, diff int64) []rowDiff {
	if f == nil {
		return append(out, rowDiff{row: row, diff: diff})
	}
	keep, err := filterRow(f.preds, row)
	switch {
	case err != nil:
		f.errs = append(f.errs, errDiff{err: err.Error(), diff: diff})
		return out
	case !keep:
		return out
	case f.project:
		p := f.newRow(len(f.cols))
		for i, c := range f.cols {
			p[i] = row[c]
		}
		return append(out, rowDiff{row: p, diff: diff})
	}
	p := f.newRow(len(row))
	copy(p, row)
	return append(out, rowDiff{row: p, diff: diff})
}

// binaryJoin is one stage of a join. A side over a monotonic input keeps
// its rows in an append-only index (leftApp, rightApp) instead of an
// arrangement; the other of the pair is nil.
//
// A side whose input is a Project over a monotonic collection reads that
// collection's rows, projected by leftProj or rightProj (see
// joinOp.sources): the key columns are those of the unprojected row, and
// only the projected columns reach the index and the joined rows, so no
// projected row is built per update.
type binaryJoin struct {
	leftKey, rightKey     []int
	left, right           *Arrangement
	leftApp, rightApp     *appendIndex
	leftProj, rightProj   []int // nil: the side's rows as they are
	leftWidth, rightWidth int   // columns of each side as joined
	stored                Row   // scratch: a projected row for a packed index
	out                   []rowDiff
	hashes                []uint64 // probeAll's: the keys' hashes
	heads                 []uint32 // probeAll's: the keys' newest records in the other side
	slots                 []int32  // probeAll's: the keys' slots in the other side's table, or -1
	tableLen              int32    // probeAll's: that table's length when probed
	sink                  int64    // keeps probeAll's touches from being optimised away
}

// newJoinOp builds a join over inputs; an input that is monotonic (and,
// for the left side of stage k, every input before k) is kept in an
// append-only index. A monotonic input that is a Project is read through
// its projection: sources lists the nodes that feed the join.
func newJoinOp(spec *joinSpec, inputs []*node) *joinOp {
	o := &joinOp{spec: spec, broken: -1, filters: spec.filters}
	projs := make([][]int, len(inputs))
	for i, in := range inputs {
		if in.kind == kindProject && in.monotonic {
			projs[i] = in.cols
			in = in.inputs[0]
		}
		o.sources = append(o.sources, in)
	}
	o.projs = projs
	copied := false
	for i, p := range projs {
		if p == nil || len(spec.filters[i]) == 0 {
			continue
		}
		if !copied {
			o.filters, copied = append([][][2]int(nil), spec.filters...), true // the plan's spec is shared
		}
		o.filters[i] = mapPairs(spec.filters[i], p)
	}
	prefixMono := inputs[0].monotonic
	prefix := append(Schema(nil), inputs[0].schema...)
	for k, st := range spec.steps {
		in := inputs[k+1]
		s := &binaryJoin{leftKey: st.prefixKey, rightKey: st.inputKey, leftWidth: len(prefix), rightWidth: len(in.schema)}
		var keys *appendTable // shared by the stage's append-only sides
		if prefixMono || in.monotonic {
			keys = newAppendTable(in.schema, st.inputKey)
		}
		if prefixMono {
			s.leftApp = newAppendSide(keys, 0, prefix)
		} else {
			s.left = NewArrangement()
		}
		if in.monotonic {
			s.rightApp = newAppendSide(keys, 1, in.schema)
		} else {
			s.right = NewArrangement()
		}
		if k == 0 && projs[0] != nil {
			s.leftProj, s.leftKey = projs[0], mapCols(st.prefixKey, projs[0])
		}
		if projs[k+1] != nil {
			s.rightProj, s.rightKey = projs[k+1], mapCols(st.inputKey, projs[k+1])
		}
		prefixMono = prefixMono && in.monotonic
		prefix = append(prefix, in.schema...)
		o.stages = append(o.stages, s)
	}
	return o
}

// mapCols returns the columns of an unprojected row that cols of its
// projection by proj are.
func mapCols(cols, proj []int) []int {
	out := make([]int, len(cols))
	for i, c := range cols {
		out[i] = proj[c]
	}
	return out
}

func mapPairs(pairs [][2]int, proj []int) [][2]int {
	out := make([][2]int, len(pairs))
	for i, p := range pairs {
		out[i] = [2]int{proj[p[0]], proj[p[1]]}
	}
	return out
}

func (o *joinOp) compact(t timely.Timestamp) {
	for _, s := range o.stages {
		if s.left != nil {
			s.left.advanceSince(t)
		}
		if s.right != nil {
			s.right.advanceSince(t)
		}
	}
}

// joinFilter drops rows of input i whose constrained columns are null or
// unequal.
func (o *joinOp) joinFilter(i int, rows []rowDiff) []rowDiff {
	pairs := o.filters[i]
	if len(pairs) == 0 {
		return rows
	}
	out := make([]rowDiff, 0, len(rows))
	for _, r := range rows {
		if pairsHold(pairs, r.row) {
			out = append(out, r)
		}
	}
	return out
}

func pairsHold(pairs [][2]int, row Row) bool {
	for _, p := range pairs {
		a, b := row[p[0]], row[p[1]]
		if a.IsNull() || b.IsNull() || !a.Equal(b) {
			return false
		}
	}
	return true
}

func (o *joinOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	var out batch
	for _, b := range in {
		out.errs = append(out.errs, b.errs...)
	}
	if o.broken < 0 {
		o.checkAppendOnly(in, &out)
	}
	if o.broken >= 0 {
		out.errs = consolidateErrs(out.errs)
		return out
	}
	o.fin.reset()
	acc := o.joinFilter(0, in[0].rows)
	for k, st := range o.stages {
		var fin *joinFinish
		if k == len(o.stages)-1 {
			fin = o.fin
		}
		acc = st.step(t, acc, o.joinFilter(k+1, in[k+1].rows), fin)
	}
	out.rows = acc // not consolidated: see batch
	if o.fin != nil {
		out.errs = append(out.errs, o.fin.errs...)
		o.fin.errs = o.fin.errs[:0]
		clear(o.fin.scratch) // do not keep the last row's strings alive
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

// checkAppendOnly breaks the join when an input kept in an append-only
// index receives a retraction that nothing at its time cancels.
func (o *joinOp) checkAppendOnly(in []batch, out *batch) {
	for i, b := range in {
		appendOnly := (i == 0 && o.stages[0].leftApp != nil) || (i > 0 && o.stages[i-1].rightApp != nil)
		if !appendOnly || allInsertions(b.rows) {
			continue
		}
		if _, bad, ok := insertions(b.rows); !ok {
			if o.projs[i] != nil {
				bad = bad.project(o.projs[i])
			}
			o.broken = i
			out.errs = append(out.errs, errDiff{err: retractionError("Join", bad), diff: 1})
			return
		}
	}
}

// hasNull reports whether a key column of row is null (a null never joins).
func hasNull(row Row, cols []int) bool {
	for _, c := range cols {
		if row[c].IsNull() {
			return true
		}
	}
	return false
}

// step returns the change of left ⋈ right given the changes dl and dr at t:
// dl ⋈ right(before t) + left(through t) ⋈ dr.
// fin, when not nil, filters and projects each joined row.
func (s *binaryJoin) step(t timely.Timestamp, dl, dr []rowDiff, fin *joinFinish) []rowDiff {
	// Room for one joined row per update, the common case of a key join
	// (a fact joined to its dimension): growing row by row copied the
	// batch's rows log2(n) times. The buffer is the last step's: no
	// operator keeps a batch's slice past its step.
	clear(s.out) // do not keep the last step's rows alive
	out := slices.Grow(s.out[:0], len(dl)+len(dr))
	defer func() {
		s.out = out
		if cap(out) > 1<<16 {
			s.out = nil // do not hold on to a huge step's buffer
		}
	}()
	lw, n := s.leftWidth, s.leftWidth+s.rightWidth
	s.probeAll(s.rightApp, dl, s.leftKey)
	for i, l := range dl {
		if s.rightApp != nil && i%chainWindow == 0 {
			s.touchChains(s.rightApp, s.heads[i:min(i+chainWindow, len(dl))])
		}
		if hasNull(l.row, s.leftKey) {
			continue
		}
		k := keyRef{hash: s.hashes[i], src: l.row, cols: s.leftKey} // hashed once for both sides
		if x := s.rightApp; x != nil {
			for a := s.heads[i]; a != 0; a = x.next(a) {
				row := fin.begin(n)
				fillProjected(row[:lw], l.row, s.leftProj)
				x.fill(row[lw:], a)
				out = fin.finish(out, row, l.diff*x.diff(a))
			}
		} else if tr := s.right.lookupAt(k); tr != nil {
			tr.read(timely.MaxTimestamp, func(r Row, m int64) {
				row := fin.begin(n)
				fillProjected(row[:lw], l.row, s.leftProj)
				copy(row[lw:], r)
				out = fin.finish(out, row, l.diff*m)
			})
		}
		if s.leftApp != nil {
			s.leftApp.insertHint(k, s.store(s.leftApp, l.row, s.leftProj), l.diff, s.hint(s.rightApp, s.leftApp, i))
		} else {
			s.left.updateAt(k, l.row, t, l.diff) // no projection: the side is not monotonic
		}
	}
	s.probeAll(s.leftApp, dr, s.rightKey) // the left side is complete through t
	for i, r := range dr {
		if s.leftApp != nil && i%chainWindow == 0 {
			s.touchChains(s.leftApp, s.heads[i:min(i+chainWindow, len(dr))])
		}
		if hasNull(r.row, s.rightKey) {
			continue
		}
		k := keyRef{hash: s.hashes[i], src: r.row, cols: s.rightKey}
		if x := s.leftApp; x != nil {
			for a := s.heads[i]; a != 0; a = x.next(a) {
				row := fin.begin(n)
				x.fill(row[:lw], a)
				fillProjected(row[lw:], r.row, s.rightProj)
				out = fin.finish(out, row, x.diff(a)*r.diff)
			}
		} else if tr := s.left.lookupAt(k); tr != nil {
			tr.read(timely.MaxTimestamp, func(l Row, m int64) {
				row := fin.begin(n)
				copy(row, l)
				fillProjected(row[lw:], r.row, s.rightProj)
				out = fin.finish(out, row, m*r.diff)
			})
		}
		if s.rightApp != nil {
			s.rightApp.insertHint(k, s.store(s.rightApp, r.row, s.rightProj), r.diff, s.hint(s.leftApp, s.rightApp, i))
		} else {
			s.right.updateAt(k, r.row, t, r.diff)
		}
	}
	return out
}

// probeAll hashes the keys cols of rows into s.hashes (with keyHash when
// both sides are append-only indexes, else as arrangements do) and, when x is not
// nil, finds each key's newest record in x (s.heads, 0 for none or for a
// null key) and touches it, before any row is joined: the loops' iterations
// do not wait on one another, so the cache misses of a batch's probes
// overlap instead of coming one after another. The records stay valid
// while rows are inserted into the other side.
func (s *binaryJoin) probeAll(x *appendIndex, rows []rowDiff, cols []int) {
	s.hashes = slices.Grow(s.hashes[:0], len(rows))[:len(rows)]
	if s.leftApp != nil && s.rightApp != nil { // no arrangement reads the hashes
		for i, r := range rows {
			s.hashes[i] = keyHash(r.row, cols)
		}
	} else {
		for i, r := range rows {
			s.hashes[i] = r.row.hashCols(cols)
		}
	}
	if x == nil {
		return
	}
	s.heads = slices.Grow(s.heads[:0], len(rows))[:len(rows)]
	s.slots = slices.Grow(s.slots[:0], len(rows))[:len(rows)]
	s.tableLen = int32(len(x.t.table))
	for i, r := range rows {
		s.heads[i], s.slots[i] = 0, -1
		if !hasNull(r.row, cols) {
			if j, ok := x.t.find(keyRef{hash: s.hashes[i], src: r.row, cols: cols}); ok {
				s.heads[i], s.slots[i] = x.t.table[j].head[x.side], int32(j)
			}
		}
	}
	var sink int64
	for _, a := range s.heads {
		if a != 0 {
			sink += x.diff(a)
		}
	}
	s.sink = sink
}

// hint returns where probeAll found row i's key in probed, for its insert
// into x: usable when the two share their table (both sides of the stage
// are append-only).
func (s *binaryJoin) hint(probed, x *appendIndex, i int) probeHint {
	if probed == nil || probed.t != x.t {
		return probeHint{slot: -1}
	}
	return probeHint{slot: s.slots[i], tableLen: s.tableLen}
}

// chainWindow is how many probing rows' chains touchChains walks at once:
// enough for their cache misses to overlap, few enough that the records
// it brings in are still cached when the rows are joined.
const chainWindow = 32

// touchChains walks the record chains that start at heads (in x, 0 for
// none) side by side, one record of each chain per round, reading each
// record's first and last word, before the rows are joined. A chain is
// a dependent walk (a record's address is in the record before it), so
// walking one chain waits on every miss in turn; walking many in rounds
// keeps one miss per chain in flight. It is what makes an auction that
// closes after its bids arrived (q4 over closed auctions) cheap to join:
// its bids' records are scattered over the arena.
func (s *binaryJoin) touchChains(x *appendIndex, heads []uint32) {
	var cur [chainWindow]uint32
	n := copy(cur[:], heads)
	live := cur[:n]
	var sink int64
	for len(live) > 0 {
		k := 0
		for _, a := range live {
			if a == 0 {
				continue
			}
			w := x.record(a)
			sink += int64(w[len(w)-1])
			live[k] = uint32(w[0]) // next
			k++
		}
		live = live[:k]
	}
	s.sink += sink
}

// fillProjected writes row projected by proj (nil: all of row) into dst.
func fillProjected(dst []Datum, row Row, proj []int) {
	if proj == nil {
		copy(dst, row)
		return
	}
	for i, c := range proj {
		dst[i] = row[c]
	}
}

// store returns the row to insert into x for an input row read through
// proj: row itself, else its projection, built in scratch when x copies
// it (packed) and allocated when x keeps it.
func (s *binaryJoin) store(x *appendIndex, row Row, proj []int) Row {
	switch {
	case proj == nil:
		return row
	case !x.packed:
		return row.project(proj)
	}
	if cap(s.stored) < len(proj) {
		s.stored = make(Row, len(proj))
	}
	p := s.stored[:len(proj)]
	fillProjected(p, row, proj)
	return p
}

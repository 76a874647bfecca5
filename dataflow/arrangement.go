package dataflow

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// Arrangement is an indexed collection with history: key → values, each
// value with the (time, diff) updates it received. It answers "what are the
// values of key k at time t" and "what is the whole collection at time t"
// for any t at or after its since.
//
// Compaction: Compact(since) lets the arrangement forget history before
// since. Logically every time t < since becomes since, and updates that then
// share (key, value, time) are summed; values whose diffs sum to zero are
// dropped. So memory stays proportional to the live contents plus the
// updates at times >= since. Keys touched by Update are compacted as they
// are touched; Compact compacts every key that holds more than one time
// (the others cannot shrink).
//
// A dataflow's output arrangement is stored as a spine of sorted batches
// (spine.go) rather than as traces; the contract above is the same.
//
// An Arrangement is not safe for concurrent use.
type Arrangement struct {
	since   timely.Frontier
	table   traceTable
	keys    int // number of traces
	entries int // number of (value, time, diff) entries over all traces
	// pending lists the traces holding more than one distinct time: only
	// they can shrink when the since advances. A trace whose entries share
	// one time is already as small as compaction would make it.
	pending []*trace
	// oneValue says most keys hold a single value (the key is the whole
	// row): a new trace is allocated with room for its first entry, one
	// allocation instead of two, and no more memory (the pair fills the
	// same size class as the two did).
	oneValue bool
	// order keeps the traces in key order once something has read the
	// arrangement in order (readOrdered); nil until then.
	order *keyOrder
	// spine, when not nil, holds the arrangement instead of the traces
	// above (spine.go): for an arrangement whose key is always the same
	// columns of the value and that nobody looks up while updating it.
	spine *spine
}

// traceWithEntry is a trace and the backing of its first entry.
type traceWithEntry struct {
	trace
	first [1]entry
}

// trace is the history of one key: entries sorted by (value, time), with
// at most one entry per (value, time) and no zero diffs. A small trace
// keeps them in one slice (entries); a trace that outgrows chunkMax keeps
// them in a chunked list (big), so that an insert costs a search and a
// move within one chunk however long the key's history is.
type trace struct {
	key     Row
	hash    uint64
	next    *trace // the next trace whose key has the same hash
	entries []entry
	big     *chunkList // when not nil, the entries are here (entries is nil)
	// lo and hi bound the entries' times (lo <= every time <= hi).
	lo, hi  timely.Timestamp
	queued  bool // on the arrangement's pending list
	removed bool // no longer in the arrangement
}

type entry struct {
	// abbr abbreviates val (rowAbbr) so that searches and merges compare
	// one integer held in the entry and follow val only on a tie.
	abbr uint64
	val  Row
	time timely.Timestamp
	diff int64
}

// rowAbbr maps a row to a uint64 that orders like it on its first two
// datums: rowAbbr(r) < rowAbbr(s) implies r < s (Row.Compare), and equal
// rows have equal abbreviations. The first datum takes the high 32 bits
// (abbrField); the second takes the low 32 only when the first is held
// exactly, so that rows sharing a first datum (a join's state keyed by
// its first column) still differ in their abbreviations.
func rowAbbr(r Row) uint64 {
	if len(r) == 0 {
		return 0
	}
	hi, exact := abbrField(r[0])
	if !exact || len(r) == 1 {
		return uint64(hi) << 32
	}
	lo, _ := abbrField(r[1])
	return uint64(hi)<<32 | uint64(lo)
}

// abbrField maps a datum to 32 bits that order like it: the type in the
// top three bits (Datum.Compare orders types first, null before all) and
// the value below. exact says the field stands for this one datum: null, a
// bool, or an int64 within ±2^27 (ids, counts, prices); other values keep
// the high bits of abbrev, which several values share.
func abbrField(d Datum) (field uint32, exact bool) {
	const low, high = 0, 1<<29 - 1 // the int64 buckets below and above the exact range
	t := uint32(d.Type()) << 29
	switch d.Type() {
	case 0:
		return 0, true
	case TypeBool:
		return t | uint32(d.word()), true
	case TypeInt64:
		switch v := int64(d.word()); {
		case v < -1<<27:
			return t | low, false
		case v >= 1<<27:
			return t | high, false
		default:
			return t | uint32(v+1<<27+1), true
		}
	}
	return t | uint32(abbrev(d)>>35), false
}

// NewArrangement returns an empty arrangement with since {0}.
func NewArrangement() *Arrangement {
	return &Arrangement{}
}

// keyedBy makes an empty arrangement a spine (spine.go) whose key is the
// cols of every value (the whole value when whole): from now on each update
// must have that key, and the operator lookups (lookupAt, updateMult) are
// not available. A dataflow's output arrangement is one.
func (a *Arrangement) keyedBy(cols []int, whole bool) {
	if a.keys != 0 || a.spine != nil {
		panic("dataflow: keyedBy on a used arrangement")
	}
	a.spine = newSpine(cols, whole)
}

// sizeHint returns about how many entries the arrangement holds, without
// compacting or merging anything: a buffer size for a full read.
func (a *Arrangement) sizeHint() int {
	if a.spine != nil {
		return a.spine.size()
	}
	return a.entries
}

// keyOrdered says a full read in key order costs no sort.
func (a *Arrangement) keyOrdered() bool { return a.spine != nil || a.order != nil }

// Since returns the arrangement's since: reads are exact at times t with
// since <= t.
func (a *Arrangement) Since() timely.Frontier { return a.since }

// Len returns the number of keys and of (value, time, diff) entries held.
//
// On a spine this compacts and merges what updates and the since's advances
// left, so it costs a pass over the arrangement when there were any.
func (a *Arrangement) Len() (keys, entries int) {
	if a.spine != nil {
		s, ok := a.since.Time()
		if !ok {
			return 0, 0
		}
		return a.spine.len(s)
	}
	return a.keys, a.entries
}

// Update adds diff to the multiplicity of val under key at time t. A time
// before the since is advanced to the since (reads cannot tell the
// difference). Update on a closed since is ignored: the arrangement has
// been dropped.
func (a *Arrangement) Update(key, val Row, t timely.Timestamp, diff int64) {
	if a.spine != nil {
		a.updateAt(keyRef{}, val, t, diff) // a spine derives the key from val
		return
	}
	a.updateAt(wholeKey(key), val, t, diff)
}

// keyRef names a key without building it: the whole of src, or the cols of
// src (possibly none), with its hash.
type keyRef struct {
	hash  uint64
	src   Row
	cols  []int
	whole bool
}

// wholeKey refers to key itself.
func wholeKey(key Row) keyRef { return keyRef{hash: key.Hash(), src: key, whole: true} }

// colsKey refers to the cols of row as a key.
func colsKey(row Row, cols []int) keyRef {
	return keyRef{hash: row.hashCols(cols), src: row, cols: cols}
}

func (k keyRef) matches(key Row) bool {
	if k.whole {
		return k.src.Equal(key)
	}
	return k.src.equalCols(k.cols, key)
}

func (k keyRef) row() Row {
	if k.whole {
		return k.src
	}
	return k.src.project(k.cols)
}

// updateAt is Update with the key given by reference; the key row is built
// only for a new key. It returns the diff the entry (val, t) held before,
// which is val's multiplicity when every entry of the key is at t.
func (a *Arrangement) updateAt(k keyRef, val Row, t timely.Timestamp, diff int64) int64 {
	if diff == 0 {
		return 0
	}
	s, ok := a.since.Time()
	if !ok {
		return 0
	}
	if t < s {
		t = s
	}
	if a.spine != nil {
		a.spine.push(val, t, diff, s)
		return 0
	}
	// One probe sequence finds the key's slot, and its place if it is new.
	slot := a.table.slot(k.hash)
	tr := slot.tr
	for ; tr != nil && !k.matches(tr.key); tr = tr.next {
	}
	if tr == nil {
		if a.oneValue {
			tw := &traceWithEntry{}
			tr = &tw.trace
			tr.entries = tw.first[:0:1]
		} else {
			tr = &trace{}
		}
		tr.key, tr.hash, tr.lo, tr.hi = k.row(), k.hash, t, t
		a.table.push(slot, tr)
		a.keys++
		if a.order != nil {
			a.orderAdd(tr)
		}
	} else if tr.big == nil && tr.lo < s {
		// Bring a small key's history up to the since first, so the new
		// update merges with the entries it is logically equal to. (A big
		// key compacts chunk by chunk as its chunks fill up.)
		a.entries += tr.compact(s)
	}
	added, before := tr.insert(val, t, diff, s)
	a.entries += added
	if tr.empty() {
		a.remove(tr)
		return before
	}
	if tr.lo < tr.hi && !tr.queued {
		tr.queued = true
		a.pending = append(a.pending, tr)
	}
	return before
}

// updateMult is Update for operator state that is compacted to the time
// being processed (since == t), with the key given by reference: it also
// returns the multiplicity of val under key before and after the update.
func (a *Arrangement) updateMult(k keyRef, val Row, t timely.Timestamp, diff int64) (before, after int64) {
	before = a.updateAt(k, val, t, diff)
	return before, before + diff
}

// insert merges one update into the sorted entries. It returns the change
// in the number of entries and val's multiplicity before: in a small trace
// the diff the entry (val, t) held, in a big one the sum over all of val's
// times (the same when, as in operator state, no entry is after t and the
// key has been compacted to t).
func (tr *trace) insert(val Row, t timely.Timestamp, diff int64, since timely.Timestamp) (added int, before int64) {
	if tr.big == nil && len(tr.entries) == 0 {
		tr.lo, tr.hi = t, t
	}
	tr.lo, tr.hi = min(tr.lo, t), max(tr.hi, t)
	if tr.big != nil {
		return tr.big.insert(rowAbbr(val), val, t, diff, since)
	}
	es := tr.entries
	abbr := rowAbbr(val)
	i := searchEntries(es, abbr, val, t)
	if i < len(es) && es[i].time == t && es[i].abbr == abbr && es[i].val.Equal(val) {
		before = es[i].diff
		es[i].diff += diff
		if es[i].diff == 0 {
			copy(es[i:], es[i+1:])
			es[len(es)-1] = entry{}
			tr.entries = es[:len(es)-1]
			return -1, before
		}
		return 0, before
	}
	es = append(es, entry{})
	copy(es[i+1:], es[i:])
	es[i] = entry{abbr: abbr, val: val, time: t, diff: diff}
	tr.entries = es
	if len(es) > chunkMax {
		tr.big = newChunkList(es)
		tr.entries = nil
	}
	return 1, 0
}

func (tr *trace) empty() bool {
	if tr.big != nil {
		return tr.big.n == 0
	}
	return len(tr.entries) == 0
}

// compact advances the times of the trace to at least s and consolidates.
// It returns the change in the number of entries.
func (tr *trace) compact(s timely.Timestamp) int {
	if tr.big != nil {
		return tr.compactBig(s)
	}
	if tr.lo == tr.hi {
		// One time: values are distinct, so relabelling is all there is.
		if tr.lo < s {
			for i := range tr.entries {
				tr.entries[i].time = s
			}
			tr.lo, tr.hi = s, s
		}
		return 0
	}
	before := len(tr.entries)
	out := tr.entries[:0]
	for _, e := range tr.entries {
		if e.time < s {
			e.time = s
		}
		if n := len(out); n > 0 && out[n-1].time == e.time && out[n-1].abbr == e.abbr && out[n-1].val.Equal(e.val) {
			out[n-1].diff += e.diff
			if out[n-1].diff == 0 {
				out = out[:n-1]
			}
			continue
		}
		out = append(out, e)
	}
	for i := len(out); i < before; i++ {
		tr.entries[i] = entry{} // release rows for the collector
	}
	tr.entries = out
	if len(out) > 0 {
		tr.lo, tr.hi = out[0].time, out[0].time
		for _, e := range out[1:] {
			tr.lo, tr.hi = min(tr.lo, e.time), max(tr.hi, e.time)
		}
	}
	return len(out) - before
}

// compactBig compacts a big trace fully: it flattens the chunks, sorts and
// sums equal (value, time) entries, and chunks the result again (or makes
// the trace small).
func (tr *trace) compactBig(s timely.Timestamp) int {
	before := tr.big.n
	all := tr.big.flatten(s)
	if len(all) <= chunkMax {
		tr.entries, tr.big = slices.Clone(all), nil
	} else {
		tr.big = newChunkList(all)
	}
	if len(all) > 0 {
		tr.lo, tr.hi = all[0].time, all[0].time
		for _, e := range all[1:] {
			tr.lo, tr.hi = min(tr.lo, e.time), max(tr.hi, e.time)
		}
	}
	return len(all) - before
}

func (a *Arrangement) remove(tr *trace) {
	tr.removed = true
	a.table.remove(tr)
	a.keys--
	if a.order != nil {
		a.order.dead++
	}
}

// Compact advances the since to since and compacts every key that holds
// more than one time. A since that does not advance is ignored; a closed
// since drops all contents.
func (a *Arrangement) Compact(since timely.Frontier) { a.compactTo(since, true) }

// advanceSince compacts to t. Operators use it for state they only read at
// the latest time. It compacts the small keys touched since the last call
// and leaves big keys to the amortized compaction of their chunks, so it
// costs as much as the small keys touched, not as the big keys' history.
func (a *Arrangement) advanceSince(t timely.Timestamp) { a.compactTo(timely.At(t), false) }

func (a *Arrangement) compactTo(since timely.Frontier, full bool) {
	if !a.since.LessThan(since) {
		return
	}
	a.since = since
	s, ok := since.Time()
	if a.spine != nil {
		if !ok {
			a.spine.drop()
		} else {
			a.spine.compacted()
		}
		return
	}
	if !ok {
		a.table = traceTable{}
		a.keys, a.entries, a.pending, a.order = 0, 0, nil, nil
		return
	}
	keep := a.pending[:0]
	for _, tr := range a.pending {
		if tr.removed {
			continue
		}
		if tr.big != nil && !full {
			keep = append(keep, tr)
			continue
		}
		if tr.lo < s {
			a.entries += tr.compact(s)
			if tr.empty() {
				a.remove(tr)
				continue
			}
		}
		if tr.lo < tr.hi {
			keep = append(keep, tr)
		} else {
			tr.queued = false
		}
	}
	for i := len(keep); i < len(a.pending); i++ {
		a.pending[i] = nil
	}
	a.pending = keep
}

func (a *Arrangement) checkRead(t timely.Timestamp) error {
	if !a.since.Admits(t) {
		return fmt.Errorf("%w: read at %d, since is %s", ErrCompacted, t, a.since)
	}
	return nil
}

// ReadKey calls fn for each value of key with a non-zero multiplicity at
// time t, in value order. It fails with ErrCompacted when t is before the
// since.
func (a *Arrangement) ReadKey(key Row, t timely.Timestamp, fn func(val Row, mult int64)) error {
	if err := a.checkRead(t); err != nil {
		return err
	}
	if a.spine != nil {
		s, _ := a.since.Time()
		a.spine.readKey(key, t, s, fn)
		return nil
	}
	if tr := a.lookup(key); tr != nil {
		tr.read(t, fn)
	}
	return nil
}

// Read calls fn for each (key, value) with a non-zero multiplicity at time
// t. Keys come in no particular order. It fails with ErrCompacted when t is
// before the since.
func (a *Arrangement) Read(t timely.Timestamp, fn func(key, val Row, mult int64)) error {
	if err := a.checkRead(t); err != nil {
		return err
	}
	if a.spine != nil {
		a.spineRead(t, fn)
		return nil
	}
	for i := range a.table.slots {
		for tr := a.table.slots[i].tr; tr != nil; tr = tr.next {
			key := tr.key
			tr.read(t, func(val Row, mult int64) { fn(key, val, mult) })
		}
	}
	return nil
}

// appendRows appends every value at time t to buf, each as many times as
// its multiplicity, for a peek that needs no more: in key order (and within
// a key in value order) when ordered, else in no particular order. It
// returns false, having stopped early, when a multiplicity is negative or
// there would be more than maxRows rows. The caller checks t against the
// since.
func (a *Arrangement) appendRows(buf []Row, t timely.Timestamp, maxRows int64, ordered bool) ([]Row, bool) {
	if buf == nil {
		buf = make([]Row, 0, min(int64(a.sizeHint()), maxRows))
	}
	if a.spine != nil {
		// Key order is the only order a spine has, so ordered or not.
		ok := true
		s, _ := a.since.Time()
		a.spine.read(t, s, func(val Row, mult int64) bool {
			if mult < 0 || int64(len(buf))+mult > maxRows {
				ok = false
				return false
			}
			for ; mult > 0; mult-- {
				buf = append(buf, val)
			}
			return true
		})
		if !ok {
			return nil, false
		}
		return buf, true
	}
	ok := true
	add := func(val Row, mult int64) {
		if mult < 0 || int64(len(buf))+mult > maxRows {
			ok = false
			return
		}
		for ; mult > 0; mult-- {
			buf = append(buf, val)
		}
	}
	visit := func(tr *trace) {
		if tr.big == nil && tr.lo == tr.hi {
			if tr.lo > t {
				return
			}
			for i := range tr.entries { // one time: each value once
				if add(tr.entries[i].val, tr.entries[i].diff); !ok {
					return
				}
			}
			return
		}
		tr.read(t, add)
	}
	if ordered {
		for _, tr := range a.ordered() {
			if !tr.removed {
				if visit(tr); !ok {
					return nil, false
				}
			}
		}
		return buf, true
	}
	for i := range a.table.slots {
		for tr := a.table.slots[i].tr; tr != nil && ok; tr = tr.next {
			visit(tr)
		}
		if !ok {
			return nil, false
		}
	}
	return buf, true
}

func (a *Arrangement) lookup(key Row) *trace {
	return a.lookupAt(wholeKey(key))
}

// lookupAt finds the trace of a key given by reference.
func (a *Arrangement) lookupAt(k keyRef) *trace {
	if a.spine != nil {
		panic("dataflow: lookupAt on a spine arrangement")
	}
	for tr := a.table.find(k.hash); tr != nil; tr = tr.next {
		if k.matches(tr.key) {
			return tr
		}
	}
	return nil
}

func (tr *trace) read(t timely.Timestamp, fn func(val Row, mult int64)) {
	if tr.big != nil {
		tr.big.read(t, fn)
		return
	}
	es := tr.entries
	if tr.lo == tr.hi {
		// One time: every value appears once.
		if tr.lo <= t {
			for _, e := range es {
				fn(e.val, e.diff)
			}
		}
		return
	}
	for i := 0; i < len(es); {
		j := i
		var sum int64
		for j < len(es) && es[j].abbr == es[i].abbr && es[j].val.Equal(es[i].val) {
			if es[j].time <= t {
				sum += es[j].diff
			}
			j++
		}
		if sum != 0 {
			fn(es[i].val, sum)
		}
		i = j
	}
}

// spineRead is Read on a spine: values in key order, each with its key
// (the value itself, or its key columns projected).
func (a *Arrangement) spineRead(t timely.Timestamp, fn func(key, val Row, mult int64)) {
	s, _ := a.since.Time()
	cols := a.spine.cols
	a.spine.read(t, s, func(val Row, mult int64) bool {
		key := val
		if cols != nil {
			key = val.project(cols)
		}
		fn(key, val, mult)
		return true
	})
}

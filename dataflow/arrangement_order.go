package dataflow

import (
	"slices"
	"sort"

	"github.com/arbor-db/arbor/timely"
)

// keyOrder keeps an arrangement's traces in key order, for reads in order
// (a peek in row order) that then need no sort. It is built on the first
// such read, so an arrangement nobody reads in order pays nothing; after
// that, a new key costs an append, and a read sorts only the keys added
// since the previous read and merges them in (a copy of the sorted pointers
// and one binary search per new key), in the way a spine merges a small
// batch into a large one.
//
// Removed traces stay in the lists until a merge or a prune drops them;
// readers skip them. A key removed and added again has two traces here, the
// old one marked removed.
type keyOrder struct {
	sorted []*trace // in key order (Row.Compare); may hold removed traces
	fresh  []*trace // traces created since the last merge, in no order
	dead   int      // removed traces in sorted (an upper bound)
}

// orderAdd records a new trace in the key order.
func (a *Arrangement) orderAdd(tr *trace) {
	o := a.order
	o.fresh = append(o.fresh, tr)
	// Keep the lists proportional to the live keys when reads stop: each
	// live trace is in one list, so after a prune they hold at most
	// a.keys, and the next prune is a.keys+1024 additions away.
	if len(o.fresh)+len(o.sorted) > 2*a.keys+1024 {
		o.fresh = dropRemoved(o.fresh)
		o.sorted = dropRemoved(o.sorted)
		o.dead = 0
	}
}

// dropRemoved filters removed traces out of ts in place, keeping the order.
func dropRemoved(ts []*trace) []*trace {
	out := ts[:0]
	for _, tr := range ts {
		if !tr.removed {
			out = append(out, tr)
		}
	}
	clear(ts[len(out):])
	return out
}

func compareTraceKeys(a, b *trace) int { return a.key.Compare(b.key) }

// ordered returns every trace in key order (removed ones included, for the
// caller to skip), building or refreshing the order first.
func (a *Arrangement) ordered() []*trace {
	if a.order == nil {
		all := make([]*trace, 0, a.keys)
		a.table.each(func(tr *trace) { all = append(all, tr) })
		slices.SortFunc(all, compareTraceKeys)
		a.order = &keyOrder{sorted: all}
		return all
	}
	o := a.order
	if len(o.fresh) == 0 {
		return o.sorted
	}
	fresh := dropRemoved(o.fresh)
	slices.SortFunc(fresh, compareTraceKeys)
	s := o.sorted
	if o.dead > len(s)/4 {
		s, o.dead = dropRemoved(s), 0
	}
	// Merge by binary search: a few new keys cost a search each and a copy
	// of the sorted pointers, not a comparison per old key.
	out := make([]*trace, 0, len(s)+len(fresh))
	i := 0
	for _, tr := range fresh {
		j := i + sort.Search(len(s)-i, func(k int) bool { return s[i+k].key.Compare(tr.key) > 0 })
		out = append(out, s[i:j]...)
		out = append(out, tr)
		i = j
	}
	out = append(out, s[i:]...)
	clear(o.fresh)
	o.sorted, o.fresh = out, o.fresh[:0]
	return out
}

// readOrdered calls fn for each (key, value) with a non-zero multiplicity at
// time t, in key order and within a key in value order. It fails with
// ErrCompacted when t is before the since.
func (a *Arrangement) readOrdered(t timely.Timestamp, fn func(key, val Row, mult int64)) error {
	if err := a.checkRead(t); err != nil {
		return err
	}
	if a.spine != nil {
		a.spineRead(t, fn) // a spine is in key order
		return nil
	}
	for _, tr := range a.ordered() {
		if tr.removed {
			continue
		}
		if tr.big == nil && tr.lo == tr.hi {
			if tr.lo <= t {
				for i := range tr.entries { // one time: each value once
					fn(tr.key, tr.entries[i].val, tr.entries[i].diff)
				}
			}
			continue
		}
		key := tr.key
		tr.read(t, func(val Row, mult int64) { fn(key, val, mult) })
	}
	return nil
}

// readOrderedValues is readOrdered for a caller that needs only the values:
// a spine then builds no key rows.
func (a *Arrangement) readOrderedValues(t timely.Timestamp, fn func(val Row, mult int64)) error {
	if a.spine == nil {
		return a.readOrdered(t, func(_, val Row, mult int64) { fn(val, mult) })
	}
	if err := a.checkRead(t); err != nil {
		return err
	}
	s, _ := a.since.Time()
	a.spine.read(t, s, func(val Row, mult int64) bool { fn(val, mult); return true })
	return nil
}

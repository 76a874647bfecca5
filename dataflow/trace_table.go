package dataflow

// traceTable is an arrangement's index from a key's hash to its traces:
// open addressing with linear probing over a power-of-two array of (hash,
// first trace) slots; traces whose keys share a 64-bit hash are chained
// through trace.next. It replaces a Go map so that a new key costs one
// probe sequence (find the slot, then fill it) rather than a lookup and an
// assignment, and so that probing compares hashes stored in the slot
// array, not in the traces.
type traceTable struct {
	slots []traceSlot // len is 0 or a power of two; tr == nil marks an empty slot
	used  int         // slots in use
	shift uint        // 64 - log2(len(slots))
}

type traceSlot struct {
	hash uint64
	tr   *trace
}

// home is the slot a hash probes first: Fibonacci hashing takes the high
// bits of the product, so keys whose hashes differ only in high bits
// spread too.
func (t *traceTable) home(h uint64) int {
	return int((h * 0x9E3779B97F4A7C15) >> t.shift)
}

// find returns the first trace of hash h, or nil.
func (t *traceTable) find(h uint64) *trace {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tr == nil {
			return nil
		}
		if s.hash == h {
			return s.tr
		}
	}
}

// slot returns the slot of hash h: the one holding it, or the empty slot
// it would take (then fill sets it). The pointer is valid until the next
// fill or remove.
func (t *traceTable) slot(h uint64) *traceSlot {
	if len(t.slots) == 0 {
		t.resize(8)
	}
	mask := len(t.slots) - 1
	for i := t.home(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tr == nil || s.hash == h {
			return s
		}
	}
}

// push makes tr the first trace of its hash in slot s (from slot(tr.hash)),
// chaining the traces already there, and grows the table past 3/4 full.
func (t *traceTable) push(s *traceSlot, tr *trace) {
	tr.next = s.tr
	if s.tr == nil {
		s.hash = tr.hash
		t.used++
	}
	s.tr = tr
	if t.used*4 > len(t.slots)*3 {
		t.resize(2 * len(t.slots))
	}
}

func (t *traceTable) resize(n int) {
	old := t.slots
	t.slots = make([]traceSlot, n)
	t.shift = 64
	for m := n; m > 1; m >>= 1 {
		t.shift--
	}
	mask := n - 1
	for _, s := range old {
		if s.tr == nil {
			continue
		}
		i := t.home(s.hash)
		for t.slots[i].tr != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// remove unlinks tr, which must be in the table.
func (t *traceTable) remove(tr *trace) {
	mask := len(t.slots) - 1
	i := t.home(tr.hash)
	for t.slots[i].hash != tr.hash || t.slots[i].tr == nil {
		i = (i + 1) & mask
	}
	s := &t.slots[i]
	if s.tr != tr {
		p := s.tr
		for p.next != tr {
			p = p.next
		}
		p.next = tr.next
		return
	}
	if tr.next != nil {
		s.tr = tr.next
		return
	}
	// Empty the slot, shifting back the slots after it that probed past
	// it (backward-shift deletion: no tombstones).
	for j := (i + 1) & mask; t.slots[j].tr != nil; j = (j + 1) & mask {
		k := t.home(t.slots[j].hash)
		// The slot at j may move to i unless its home lies cyclically in
		// (i, j].
		if i <= j && (k <= i || k > j) || i > j && k <= i && k > j {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = traceSlot{}
	t.used--
}

// each calls fn for every trace.
func (t *traceTable) each(fn func(tr *trace)) {
	for i := range t.slots {
		for tr := t.slots[i].tr; tr != nil; tr = tr.next {
			fn(tr)
		}
	}
}

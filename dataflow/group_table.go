package dataflow

import "slices"

// groupTable maps group keys to per-group operator state S (the output a
// Reduce or TopK currently shows for the group). Lookups by the key
// columns of a row build no key.
//
// Groups live in fixed-size slabs (a *group stays valid until the group
// is removed, and growing the table copies no group) and are found
// through an open-addressing table (linear probing) of pointer-free
// slots, which the collector does not scan. A key of at most two datums
// that are null, bool, int64 or timestamp is held in its slot (its types
// and bits: equality there is equality of the datums), so a probe finds
// or rejects such a key without reading the group; other keys are
// compared with the group's key row.
type groupTable[S any] struct {
	table []groupSlot // a power of two long, at most half full
	slabs [][]group[S]
	free  []int32 // indices of removed groups, reused first
	used  int32   // groups ever allocated in the slabs
	n     int
	sink  uint64 // keeps findBatch's touches from being optimised away
}

// group is one entry of a groupTable.
type group[S any] struct {
	hash  uint64 // first: findBatch touches it, and the state follows
	state S
	key   Row
}

// groupSlot is a slot of the table: the key's hash, its datums when the
// key is exact (types in typs, one byte each), and the group's index + 1,
// zero for an empty slot.
type groupSlot struct {
	hash   uint64
	k0, k1 uint64
	idx    int32
	typs   uint16 // the key's datum types, when exact
	exact  bool
}

const groupSlab = 128

func newGroupTable[S any]() *groupTable[S] {
	return &groupTable[S]{table: make([]groupSlot, 16)}
}

// ref refers to the group's key, with its hash, as an Arrangement key.
func (g *group[S]) ref() keyRef { return keyRef{hash: g.hash, src: g.key, whole: true} }

func (t *groupTable[S]) at(idx int32) *group[S] { return &t.slabs[idx/groupSlab][idx%groupSlab] }

// exactKey returns the slot form of the key k refers to: its datums' bits
// and types, when it is at most two datums of types whose equality is
// that of their bits.
func exactKey(k keyRef) (k0, k1 uint64, typs uint16, ok bool) {
	n := len(k.cols)
	if k.whole {
		n = len(k.src)
	}
	if n > 2 {
		return 0, 0, 0, false
	}
	var w [2]uint64
	for i := 0; i < n; i++ {
		var d Datum
		if k.whole {
			d = k.src[i]
		} else {
			d = k.src[k.cols[i]]
		}
		t := d.Type()
		switch t {
		case 0, TypeBool, TypeInt64, TypeTimestamp:
		default:
			return 0, 0, 0, false
		}
		w[i] = d.word()
		typs |= uint16(t) << (4 * i)
	}
	typs |= uint16(n) << 8 // keys of different lengths differ
	return w[0], w[1], typs, true
}

// findSlot returns the slot of the key k refers to and whether it holds
// that key; when not, the empty slot where it would go.
func (t *groupTable[S]) findSlot(k keyRef) (int, bool) {
	k0, k1, typs, exact := exactKey(k)
	mask := len(t.table) - 1
	for i := slotOf(k.hash, mask); ; i = (i + 1) & mask {
		s := &t.table[i]
		if s.idx == 0 {
			return i, false
		}
		if s.hash != k.hash || s.exact != exact {
			continue
		}
		if exact {
			if s.k0 == k0 && s.k1 == k1 && s.typs == typs {
				return i, true
			}
		} else if k.matches(t.at(s.idx - 1).key) {
			return i, true
		}
	}
}

// find returns the group of k, or nil.
func (t *groupTable[S]) find(k keyRef) *group[S] {
	if i, ok := t.findSlot(k); ok {
		return t.at(t.table[i].idx - 1)
	}
	return nil
}

// findOrAdd returns the group of k, adding an empty one if needed. It
// builds the key row only when it adds the group.
func (t *groupTable[S]) findOrAdd(k keyRef) *group[S] {
	i, ok := t.findSlot(k)
	if ok {
		return t.at(t.table[i].idx - 1)
	}
	return t.addAt(i, k)
}

func (t *groupTable[S]) add(k keyRef) *group[S] {
	i, _ := t.findSlot(k)
	return t.addAt(i, k)
}

// addAt adds the group of k in the empty slot i.
func (t *groupTable[S]) addAt(i int, k keyRef) *group[S] {
	var idx int32
	if n := len(t.free); n > 0 {
		idx, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if t.used%groupSlab == 0 {
			t.slabs = append(t.slabs, make([]group[S], groupSlab))
		}
		idx = t.used
		t.used++
	}
	g := t.at(idx)
	*g = group[S]{key: k.row(), hash: k.hash}
	s := groupSlot{hash: k.hash, idx: idx + 1}
	s.k0, s.k1, s.typs, s.exact = exactKey(k)
	t.table[i] = s
	t.n++
	if 2*t.n > len(t.table) {
		t.grow()
	}
	return g
}

// grow doubles the table.
func (t *groupTable[S]) grow() {
	old := t.table
	t.table = make([]groupSlot, 2*len(old))
	mask := len(t.table) - 1
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		i := slotOf(s.hash, mask)
		for t.table[i].idx != 0 {
			i = (i + 1) & mask
		}
		t.table[i] = s
	}
}

// remove drops g from the table. Other groups stay where they are.
func (t *groupTable[S]) remove(g *group[S]) {
	mask := len(t.table) - 1
	i := slotOf(g.hash, mask)
	for t.at(t.table[i].idx-1) != g {
		i = (i + 1) & mask
	}
	idx := t.table[i].idx - 1
	// Backward-shift deletion: move later slots of the probe run into the
	// hole when their home slot does not lie between the hole and them.
	hole := i
	for j := (i + 1) & mask; t.table[j].idx != 0; j = (j + 1) & mask {
		home := slotOf(t.table[j].hash, mask)
		if (j-home)&mask >= (j-hole)&mask {
			t.table[hole] = t.table[j]
			hole = j
		}
	}
	t.table[hole] = groupSlot{}
	*g = group[S]{} // do not keep its key and state alive
	t.free = append(t.free, idx)
	t.n--
}

// len returns the number of groups.
func (t *groupTable[S]) len() int { return t.n }

// findBatch finds the groups of the keys cols of rows, whose hashes are
// hashes, before any is used: probing every row's slot, then touching
// every found group, in loops whose iterations do not wait on one
// another, lets the cache misses of many rows overlap instead of come one
// after another. It fills idx[i] with the index + 1 of row i's group, or
// 0 when the table has no such group yet. The indices stay valid while no
// group is removed. A row with the key of the row before it (a join emits
// a key's matches one after another) takes that row's index without a
// probe.
func (t *groupTable[S]) findBatch(rows []rowDiff, cols []int, hashes []uint64, idx []int32) {
	for i, r := range rows {
		if i > 0 && hashes[i] == hashes[i-1] && r.row.sameCols(cols, rows[i-1].row) {
			idx[i] = idx[i-1]
			continue
		}
		idx[i] = 0
		if s, ok := t.findSlot(keyRef{hash: hashes[i], src: r.row, cols: cols}); ok {
			idx[i] = t.table[s].idx
		}
	}
	var sink uint64
	for _, x := range idx {
		if x != 0 {
			sink += t.at(x - 1).hash
		}
	}
	t.sink = sink
}

// keyHashes returns keyHash of the keys cols of rows, in buf's memory.
func keyHashes(buf []uint64, rows []rowDiff, cols []int) []uint64 {
	buf = slices.Grow(buf[:0], len(rows))[:len(rows)]
	for i, r := range rows {
		buf[i] = keyHash(r.row, cols)
	}
	return buf
}

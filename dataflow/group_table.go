package dataflow

// groupTable maps group keys to per-group operator state S (the output a
// Reduce or TopK currently shows for the group). Keys are found by hash,
// then by equality; lookups by the key columns of a row build no key.
type groupTable[S any] struct {
	buckets map[uint64][]*group[S]
	n       int
}

// group is one entry of a groupTable.
type group[S any] struct {
	key   Row
	hash  uint64
	state S
}

func newGroupTable[S any]() *groupTable[S] {
	return &groupTable[S]{buckets: map[uint64][]*group[S]{}}
}

// find returns the group of key, or nil.
func (t *groupTable[S]) find(key Row) *group[S] {
	for _, g := range t.buckets[key.Hash()] {
		if g.key.Equal(key) {
			return g
		}
	}
	return nil
}

// findOrAdd returns the group of key, adding an empty one if needed.
func (t *groupTable[S]) findOrAdd(key Row) *group[S] {
	if g := t.find(key); g != nil {
		return g
	}
	return t.add(key, key.Hash())
}

// forRow returns the group of row's key columns, adding it if needed. It
// builds the key row only when it adds the group.
func (t *groupTable[S]) forRow(row Row, cols []int) *group[S] {
	h := row.hashCols(cols)
	for _, g := range t.buckets[h] {
		if row.equalCols(cols, g.key) {
			return g
		}
	}
	return t.add(row.project(cols), h)
}

func (t *groupTable[S]) add(key Row, h uint64) *group[S] {
	g := &group[S]{key: key, hash: h}
	t.buckets[h] = append(t.buckets[h], g)
	t.n++
	return g
}

// remove drops g from the table.
func (t *groupTable[S]) remove(g *group[S]) {
	list := t.buckets[g.hash]
	for i, x := range list {
		if x == g {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			t.n--
			break
		}
	}
	if len(list) == 0 {
		delete(t.buckets, g.hash)
	} else {
		t.buckets[g.hash] = list
	}
}

// len returns the number of groups.
func (t *groupTable[S]) len() int { return t.n }

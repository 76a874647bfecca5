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

// ref refers to the group's key, with its hash, as an Arrangement key.
func (g *group[S]) ref() keyRef { return keyRef{hash: g.hash, src: g.key, whole: true} }

// find returns the group of k, or nil.
func (t *groupTable[S]) find(k keyRef) *group[S] {
	for _, g := range t.buckets[k.hash] {
		if k.matches(g.key) {
			return g
		}
	}
	return nil
}

// findOrAdd returns the group of k, adding an empty one if needed. It
// builds the key row only when it adds the group.
func (t *groupTable[S]) findOrAdd(k keyRef) *group[S] {
	if g := t.find(k); g != nil {
		return g
	}
	return t.add(k)
}

func (t *groupTable[S]) add(k keyRef) *group[S] {
	g := &group[S]{key: k.row(), hash: k.hash}
	t.buckets[k.hash] = append(t.buckets[k.hash], g)
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

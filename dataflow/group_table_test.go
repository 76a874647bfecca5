package dataflow

import (
	"math"
	"math/rand"
	"testing"
)

// The group table against a map from key strings, through random adds,
// finds and removals, with hashes forced to collide (a handful of distinct
// hashes), the table growing, and keys of every kind: held in the slot
// (up to two null, bool, int64 or timestamp datums) or compared with the
// group's row (strings, floats, where 0 and -0 are one key, three datums).
func TestGroupTableMatchesMap(t *testing.T) {
	seed := int64(1)
	r := rand.New(rand.NewSource(seed))
	keys := []func(i int) Row{
		func(i int) Row { return Row{Int64(int64(i))} },
		func(i int) Row { return Row{Int64(int64(i)), Int64(int64(i % 7))} },
		func(i int) Row { return Row{Null(), Bool(i%2 == 0)} },
		func(i int) Row { return Row{Timestamp(1), Int64(int64(i))} },
		func(i int) Row { return Row{String(Int64(int64(i)).String())} },
		func(i int) Row { return Row{Int64(int64(i)), Int64(0), Int64(1)} },
		func(i int) Row { return Row{Float64(float64(i % 3))} },
		func(i int) Row { return Row{Float64(math.Copysign(0, -1))} }, // the key of Float64(0)
		func(int) Row { return Row{} },
	}
	tab := newGroupTable[int]()
	model := map[string]int{}
	ref := func(key Row) keyRef {
		cols := make([]int, len(key))
		for i := range cols {
			cols[i] = i
		}
		return keyRef{hash: uint64(len(key)) % 3, src: key, cols: cols} // three hashes in all
	}
	name := func(key Row) string { // types and values: Int64(2) and Float64(2) print alike
		if len(key) == 1 && key[0].Type() == TypeFloat64 && key[0].AsFloat64() == 0 {
			key = Row{Float64(0)}
		}
		s := key.String()
		for _, d := range key {
			s += " " + d.Type().String()
		}
		return s
	}
	for step := 0; step < 20000; step++ {
		key := keys[r.Intn(len(keys))](r.Intn(300))
		k, want := ref(key), model[name(key)]
		g := tab.find(k)
		switch {
		case want == 0 && g != nil:
			t.Fatalf("seed %d step %d: found %v, which is not in the table", seed, step, key)
		case want != 0 && (g == nil || g.state != want):
			t.Fatalf("seed %d step %d: key %v has %v, want state %d", seed, step, key, g, want)
		}
		if g != nil && r.Intn(3) == 0 {
			tab.remove(g)
			delete(model, name(key))
			continue
		}
		g = tab.findOrAdd(k)
		g.state = step + 1
		model[name(key)] = step + 1
		if tab.len() != len(model) {
			t.Fatalf("seed %d step %d: %d groups, want %d", seed, step, tab.len(), len(model))
		}
	}
	if len(tab.table) < 256 {
		t.Fatalf("the table has %d slots: it never grew much", len(tab.table))
	}
}

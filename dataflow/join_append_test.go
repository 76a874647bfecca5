package dataflow

import (
	"math/rand"
	"testing"
)

// The append-only index against a map, with hashes forced to collide (a
// handful of distinct hashes for thousands of keys) and the table growing
// many times.
func TestAppendIndexMatchesMap(t *testing.T) {
	seed := int64(1)
	r := rand.New(rand.NewSource(seed))
	x := newAppendIndex()
	model := map[int64][]rowDiff{}
	ref := func(k int64, row Row) keyRef {
		return keyRef{hash: uint64(k % 5), src: row, cols: []int{0}} // five hashes in all
	}
	for i := 0; i < 20000; i++ {
		k := int64(r.Intn(3000))
		row := Row{Int64(k), Int64(int64(i))}
		diff := int64(1 + r.Intn(3))
		x.insert(ref(k, row), diff)
		model[k] = append(model[k], rowDiff{row: row, diff: diff})
	}
	if int(x.n) != len(model) || x.rows != 20000 {
		t.Fatalf("seed %d: %d keys and %d rows, want %d and 20000", seed, x.n, x.rows, len(model))
	}
	for k := int64(-5); k < 3005; k++ {
		got := x.lookup(ref(k, Row{Int64(k)}))
		want := model[k]
		if len(got) != len(want) {
			t.Fatalf("seed %d: key %d has %d rows, want %d", seed, k, len(got), len(want))
		}
		for i := range got {
			if !got[i].row.Equal(want[i].row) || got[i].diff != want[i].diff {
				t.Fatalf("seed %d: key %d row %d is %v, want %v", seed, k, i, got[i], want[i])
			}
		}
	}
}

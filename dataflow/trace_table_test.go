package dataflow

import (
	"math/rand"
	"testing"
)

// The trace table agrees with a map through random inserts and removals,
// with hashes drawn from a small set (so traces share full hashes and are
// chained) or from a wide one (so probe sequences cross and wrap around,
// and backward-shift deletion has to move slots).
func TestTraceTableMatchesMap(t *testing.T) {
	seed := baseSeed()
	for iter := int64(0); iter < 300; iter++ {
		r := rand.New(rand.NewSource(seed + iter))
		space := []uint64{4, 64, 1 << 20, 1 << 63}[r.Intn(4)]
		var tab traceTable
		model := map[*trace]bool{}
		var live []*trace
		for step := 0; step < 2000; step++ {
			if len(live) > 0 && r.Intn(2) == 0 {
				i := r.Intn(len(live))
				tr := live[i]
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
				delete(model, tr)
				tab.remove(tr)
			} else {
				tr := &trace{hash: r.Uint64() % space}
				tab.push(tab.slot(tr.hash), tr)
				model[tr] = true
				live = append(live, tr)
			}
			if step%97 != 0 {
				continue
			}
			seen := map[*trace]bool{}
			tab.each(func(tr *trace) {
				if seen[tr] || !model[tr] {
					t.Fatalf("seed %d step %d: trace %p (hash %x) listed twice or not live (replay with -dataflow.seed=%d)", seed+iter, step, tr, tr.hash, seed+iter)
				}
				seen[tr] = true
			})
			if len(seen) != len(model) {
				t.Fatalf("seed %d step %d: %d traces listed, %d live (replay with -dataflow.seed=%d)", seed+iter, step, len(seen), len(model), seed+iter)
			}
			for tr := range model {
				found := false
				for c := tab.find(tr.hash); c != nil; c = c.next {
					found = found || c == tr
				}
				if !found {
					t.Fatalf("seed %d step %d: trace with hash %x not found (replay with -dataflow.seed=%d)", seed+iter, step, tr.hash, seed+iter)
				}
			}
		}
	}
}

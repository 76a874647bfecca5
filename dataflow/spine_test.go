package dataflow

import (
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/timely"
)

var flagSpineSeed = flag.Int64("spine.seed", 0, "TestSpineMatchesTraces: replay this seed (0: a new one)")

type spineRead struct {
	key, val Row
	mult     int64
}

func (r spineRead) String() string { return fmt.Sprintf("%s:%s×%d", r.key, r.val, r.mult) }

func readAllOf(t *testing.T, a *Arrangement, at timely.Timestamp, ordered bool) []spineRead {
	t.Helper()
	var out []spineRead
	read := a.Read
	if ordered {
		read = a.readOrdered
	}
	if err := read(at, func(key, val Row, mult int64) { out = append(out, spineRead{key, val, mult}) }); err != nil {
		t.Fatalf("read at %d: %v", at, err)
	}
	return out
}

func sortReads(rs []spineRead) {
	slices.SortFunc(rs, func(a, b spineRead) int {
		if c := a.key.Compare(b.key); c != 0 {
			return c
		}
		return a.val.Compare(b.val)
	})
}

// checkSpine checks the spine's invariants: every batch sorted by cmp with
// no two adjacent entries of one (value, time), no zero diff, no empty
// chunk, n the number of entries, each batch's level above the next's, and
// the pool bounded.
func checkSpine(t *testing.T, s *spine) {
	t.Helper()
	for bi, b := range s.batches {
		n := 0
		var prev *entry
		for _, c := range b.chunks {
			if len(c) == 0 {
				t.Fatalf("batch %d has an empty chunk", bi)
			}
			for i := range c {
				e := &c[i]
				if e.diff == 0 {
					t.Fatalf("batch %d holds a zero diff: %s at %d", bi, e.val, e.time)
				}
				if e.abbr != s.abbr(e.val) {
					t.Fatalf("batch %d: abbreviation of %s is %x, want %x", bi, e.val, e.abbr, s.abbr(e.val))
				}
				if prev != nil && s.cmp(prev, e) >= 0 {
					t.Fatalf("batch %d out of order: %s@%d then %s@%d", bi, prev.val, prev.time, e.val, e.time)
				}
				prev = e
				n++
			}
		}
		if n != b.n {
			t.Fatalf("batch %d counts %d entries, holds %d", bi, b.n, n)
		}
		if bi > 0 && spineLevel(b.n) >= spineLevel(s.batches[bi-1].n) {
			t.Fatalf("batch %d (%d entries) not merged into the one before (%d)", bi, b.n, s.batches[bi-1].n)
		}
	}
	if len(s.batches) > bits.Len(uint(s.size())) {
		t.Fatalf("%d batches for %d entries", len(s.batches), s.size())
	}
	if len(s.pool) > spinePoolMax {
		t.Fatalf("pool holds %d chunks", len(s.pool))
	}
}

// TestSpineMatchesTraces feeds the same random updates to a spine
// arrangement and to one of hash-indexed traces (the oracle: the store
// operators use, with its own tests) and compares every read, at random
// times at or after the since, as the since advances. Keys are the whole
// row or its first column; values repeat, updates cancel, times arrive out
// of order within a window, and there are enough entries for several chunks
// per batch.
func TestSpineMatchesTraces(t *testing.T) {
	seed := *flagSpineSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -spine.seed=%d)", seed, seed)
	r := rand.New(rand.NewSource(seed))
	for round := 0; round < 6; round++ {
		whole := round%2 == 0
		keys := []int{10, 300, 5000}[round/2]
		name := fmt.Sprintf("whole=%v/keys=%d", whole, keys)
		sp, tr := NewArrangement(), NewArrangement()
		if whole {
			sp.keyedBy(nil, true)
		} else {
			sp.keyedBy([]int{0}, false)
		}
		var live []Row
		var since timely.Timestamp
		for step := 0; step < 6000; step++ {
			// A few updates at times in [since, since+3].
			for i := 0; i < 1+r.Intn(8); i++ {
				t := since + timely.Timestamp(r.Intn(4))
				if r.Intn(20) == 0 && since > 0 {
					t = since - 1 // before the since: advanced to it
				}
				var row Row
				diff := int64(1)
				if len(live) > 0 && r.Intn(3) == 0 {
					j := r.Intn(len(live))
					row, diff = live[j], -1
					live[j] = live[len(live)-1]
					live = live[:len(live)-1]
				} else {
					row = Row{Int64(int64(r.Intn(keys))), Int64(int64(r.Intn(4))), String([]string{"a", "b"}[r.Intn(2)])}
					live = append(live, row)
				}
				key := row
				if !whole {
					key = row[:1]
				}
				sp.Update(key, row, t, diff)
				tr.Update(key, row, t, diff)
			}
			if r.Intn(4) == 0 {
				since += timely.Timestamp(r.Intn(3))
				sp.Compact(timely.At(since))
				tr.Compact(timely.At(since))
				checkSpine(t, sp.spine)
			}
			if r.Intn(200) == 0 || step == 5999 {
				at := since + timely.Timestamp(r.Intn(5))
				want := readAllOf(t, tr, at, false)
				sortReads(want)
				got := readAllOf(t, sp, at, true)
				if !slices.IsSortedFunc(got, func(a, b spineRead) int {
					if c := a.key.Compare(b.key); c != 0 {
						return c
					}
					return a.val.Compare(b.val)
				}) {
					t.Fatalf("%s step %d: readOrdered not in key, value order", name, step)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s step %d: read at %d (since %d)\n got %v\nwant %v", name, step, at, since, got, want)
				}
				unordered := readAllOf(t, sp, at, false)
				sortReads(unordered)
				if fmt.Sprint(unordered) != fmt.Sprint(want) {
					t.Fatalf("%s step %d: Read differs from readOrdered", name, step)
				}
				var rows []Row
				for _, w := range want {
					for m := w.mult; m > 0; m-- {
						rows = append(rows, w.val)
					}
				}
				appended, ok := sp.appendRows(nil, at, 1<<40, true)
				negative := slices.ContainsFunc(want, func(w spineRead) bool { return w.mult < 0 })
				if ok == negative || ok && fmt.Sprint(appended) != fmt.Sprint(rows) {
					t.Fatalf("%s step %d: appendRows = %v, %v; want %v (negative %v)", name, step, appended, ok, rows, negative)
				}
				// Every key read alone gives what the oracle gives.
				for i := 0; i < 20 && len(want) > 0; i++ {
					key := want[r.Intn(len(want))].key
					var g, w []string
					collect := func(out *[]string) func(Row, int64) {
						return func(v Row, m int64) { *out = append(*out, fmt.Sprintf("%s×%d", v, m)) }
					}
					if err := sp.ReadKey(key, at, collect(&g)); err != nil {
						t.Fatal(err)
					}
					if err := tr.ReadKey(key, at, collect(&w)); err != nil {
						t.Fatal(err)
					}
					if strings.Join(g, " ") != strings.Join(w, " ") {
						t.Fatalf("%s step %d: ReadKey(%s) at %d\n got %v\nwant %v", name, step, key, at, g, w)
					}
				}
				gk, ge := sp.Len()
				wk, we := tr.Len()
				if gk != wk || ge != we {
					t.Fatalf("%s step %d: Len = %d keys %d entries, want %d and %d", name, step, gk, ge, wk, we)
				}
				checkSpine(t, sp.spine)
			}
		}
	}
}

// TestSpineEdges covers what a spine refuses or drops: a read before the
// since, a key of the wrong width, a closed since, and updates that cancel
// across chunks and batches.
func TestSpineEdges(t *testing.T) {
	a := NewArrangement()
	a.keyedBy([]int{0}, false)
	row := func(k, v int) Row { return Row{Int64(int64(k)), Int64(int64(v))} }
	n := 3*spineChunk + 17
	for i := 0; i < n; i++ {
		a.Update(row(i, 0)[:1], row(i, 0), 1, 1)
	}
	a.Compact(timely.At(2))
	if keys, entries := a.Len(); keys != n || entries != n {
		t.Fatalf("Len = %d, %d; want %d, %d", keys, entries, n, n)
	}
	if err := a.Read(1, func(_, _ Row, _ int64) {}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("read before the since: %v", err)
	}
	var got []string
	if err := a.ReadKey(row(1, 0), 2, func(v Row, _ int64) { got = append(got, v.String()) }); err != nil || got != nil {
		t.Fatalf("ReadKey with a key of two columns on a one-column key: %v, %v", got, err)
	}
	// Retract every other row, one at a time in separate batches, then
	// the rest in one: everything cancels.
	for i := 0; i < n; i += 2 {
		a.Update(row(i, 0)[:1], row(i, 0), 3, -1)
		if i%512 == 0 {
			a.Compact(timely.At(3))
			checkSpine(t, a.spine)
		}
	}
	a.Compact(timely.At(4))
	if keys, entries := a.Len(); keys != n/2 || entries != n/2 {
		t.Fatalf("after retracting half: Len = %d, %d; want %d", keys, entries, n/2)
	}
	checkSpine(t, a.spine)
	for i := 1; i < n; i += 2 {
		a.Update(row(i, 0)[:1], row(i, 0), 4, -1)
	}
	a.Compact(timely.At(5))
	if keys, entries := a.Len(); keys != 0 || entries != 0 {
		t.Fatalf("after retracting all: Len = %d, %d", keys, entries)
	}
	if len(a.spine.batches) != 0 {
		t.Fatalf("%d batches left after everything cancelled", len(a.spine.batches))
	}
	a.Update(row(1, 0)[:1], row(1, 0), 5, 1)
	a.Compact(timely.Closed())
	a.Update(row(2, 0)[:1], row(2, 0), 6, 1)
	if keys, entries := a.Len(); keys != 0 || entries != 0 || a.spine.size() != 0 {
		t.Fatalf("closed: Len = %d, %d, size %d", keys, entries, a.spine.size())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("lookupAt on a spine must panic")
		}
	}()
	a.lookupAt(wholeKey(row(1, 0)[:1]))
}

// TestSpineShrinkingBatches seals batches that each come out shorter than
// the one before (fresh updates that cancel among themselves): they must
// still be merged, so that the batches stay logarithmic in number.
func TestSpineShrinkingBatches(t *testing.T) {
	a := NewArrangement()
	a.keyedBy(nil, true)
	next, live := int64(0), 0
	for round := 0; round < 100; round++ {
		kept := freshMax - 2*(round+1) // the rest are pairs that cancel
		for i := 0; i < kept; i++ {
			next++
			a.Update(nil, Row{Int64(next)}, 1, 1)
		}
		live += kept
		for i := 0; i < round+1; i++ {
			next++
			a.Update(nil, Row{Int64(next)}, 1, 1)
			a.Update(nil, Row{Int64(next)}, 1, -1)
		}
		if len(a.spine.fresh) != 0 {
			t.Fatalf("round %d: fresh not sealed at %d updates", round, freshMax)
		}
		checkSpine(t, a.spine)
	}
	if keys, entries := a.Len(); keys != live || entries != live {
		t.Fatalf("Len = %d, %d; want %d", keys, entries, live)
	}
}

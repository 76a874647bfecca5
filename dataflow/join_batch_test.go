package dataflow

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A join of two append-only inputs, alone and under a max Reduce, fed
// batches that exercise what a stage does per batch: rows probing more
// chains than touchChains walks at once, chains of many records, keys a
// probe found whose insert comes after the shared table grew within the
// batch (the probe's slot is then stale), and runs of rows of one key
// (the Reduce reuses the group of the row before). The results equal
// Evaluate's at every time. Rows are shuffled with a logged seed.
func TestJoinBatchesMatchEvaluate(t *testing.T) {
	a, b := appendOnlyP(srcA), appendOnlyP(srcB)
	join := joinP([]*messages.Plan{a, b}, eqv(0, 0, 1, 0))
	plans := map[string]*messages.Plan{
		"join":              projectP(join, 0, 1, 4),
		"max over the join": reduceP(projectP(join, 0, 1), []int{0}, agg(aggMaxW, 1)),
	}
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			seed := int64(1)
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewSource(seed))
			plan, err := Compile(p, testSources)
			if err != nil {
				t.Fatal(err)
			}
			df := NewDataflow(plan, Config{})
			all := map[timely.GlobalId][]Update{}
			step := func(tm timely.Timestamp, as, bs []Update, shuffle bool) {
				t.Helper()
				for _, us := range [][]Update{as, bs} {
					for i := range us {
						us[i].Time = tm
					}
					if shuffle {
						r.Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
					}
				}
				for id, us := range map[timely.GlobalId][]Update{srcA: as, srcB: bs} {
					if err := df.Push(id, us); err != nil {
						t.Fatal(err)
					}
					all[id] = append(all[id], us...)
				}
				for _, id := range plan.Sources() {
					if err := df.AdvanceInput(id, timely.At(tm+1)); err != nil {
						t.Fatal(err)
					}
				}
				want, err := EvaluateAt(plan, all, tm)
				if err != nil || len(want.Errors) > 0 {
					t.Fatal(err, want.Errors)
				}
				var wantRows []Row
				for i, row := range want.Rows {
					for range want.Diffs[i] {
						wantRows = append(wantRows, row)
					}
				}
				got, err := df.Peek(PeekSpec{Time: tm})
				if err != nil || !rowsMatch(got, wantRows) {
					t.Fatalf("seed %d, at %d: got %d rows (%v), want %d", seed, tm, len(got), err, len(wantRows))
				}
			}
			var as, bs []Update
			// 1: three B rows for each of keys 0..999.
			for k := range 1000 {
				for j := range 3 {
					bs = append(bs, ins(rowB(iv(int64(k)), fmt.Sprint("b", j))))
				}
			}
			step(1, nil, bs, true)
			// 2: A rows in runs of one key (as a join emits them), for the
			// keys of B and 3000 new ones first: the table grows several
			// times before the inserts of the keys the probe found.
			as = nil
			for k := 1000; k < 4000; k++ {
				as = append(as, ins(rowA(int64(k), iv(int64(k%7)), "new")))
			}
			for k := range 1000 {
				for j := range 2 {
					as = append(as, ins(rowA(int64(k), iv(int64(r.Intn(100))), fmt.Sprint("a", j))))
				}
			}
			step(2, as, nil, false)
			// 3: B rows for every key, shuffled: chains of A records to
			// walk, 32 probing rows at a time.
			bs = nil
			for k := range 4000 {
				bs = append(bs, ins(rowB(iv(int64(k)), "late")))
			}
			step(3, nil, bs, true)
			// 4: more A rows for every key, shuffled, with larger values.
			as = nil
			for k := range 4000 {
				as = append(as, ins(rowA(int64(k), iv(int64(100+r.Intn(100))), "more")))
			}
			step(4, as, nil, true)
		})
	}
}

// A monotonic max Reduce changes a row it built in the same step in place:
// the retraction it emits for a group is still the row it showed before
// the step, and a group's maximum rising several times within one batch
// (each row larger than the last) ends at the last.
func TestMonotonicMaxOwnsItsStepRows(t *testing.T) {
	plan, err := Compile(reduceP(appendOnlyP(srcA), []int{0}, agg(aggMaxW, 1)), testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{})
	var want []Update
	for tm := timely.Timestamp(1); tm <= 3; tm++ {
		var us []Update
		for v := range 5 { // rising: each row a new maximum
			us = append(us, Update{Row: rowA(1, iv(int64(10*tm)+int64(v)), "x"), Time: tm, Diff: 1})
		}
		if err := df.Push(srcA, us); err != nil {
			t.Fatal(err)
		}
		if err := df.AdvanceInput(srcA, timely.At(tm+1)); err != nil {
			t.Fatal(err)
		}
		if tm > 1 {
			want = append(want, Update{Row: Row{Int64(1), iv(int64(10*(tm-1)) + 4)}, Time: tm, Diff: -1})
		}
		want = append(want, Update{Row: Row{Int64(1), iv(int64(10*tm) + 4)}, Time: tm, Diff: 1})
	}
	got, _ := df.TakeOutput()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i].Time != want[i].Time || got[i].Diff != want[i].Diff || !got[i].Row.Equal(want[i].Row) {
			t.Fatalf("update %d: got %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

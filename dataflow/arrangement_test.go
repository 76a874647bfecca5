package dataflow

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// An arrangement read at any time at or after its since equals the sum of
// all updates at or before that time, through random updates, compactions
// and reads; and after compaction it holds no more entries than there are
// live (key, value) pairs plus updates at times after the since.
func TestArrangementMatchesModel(t *testing.T) {
	seed := baseSeed()
	for iter := int64(0); iter < 200; iter++ {
		if err := arrangementRun(seed+iter, 4, 4, 300); err != nil {
			t.Fatalf("seed %d: %v (replay with -dataflow.seed=%d)", seed+iter, err, seed+iter)
		}
	}
}

// Keys with histories longer than a chunk: big traces, their chunk
// overflows and splits, and their full compaction.
func TestArrangementBigKeysMatchModel(t *testing.T) {
	seed := baseSeed()
	for iter := int64(0); iter < 4; iter++ {
		if err := arrangementRun(seed+iter, 2, 2*chunkMax, 1500); err != nil {
			t.Fatalf("seed %d: %v (replay with -dataflow.seed=%d)", seed+iter, err, seed+iter)
		}
	}
}

// arrangementRun runs random steps over the given numbers of keys and
// values per key.
func arrangementRun(seed int64, keys, vals, steps int) error {
	r := rand.New(rand.NewSource(seed))
	a := NewArrangement()
	type upd struct {
		key, val int64
		t        timely.Timestamp
		diff     int64
	}
	var log []upd
	since := timely.Timestamp(0)
	now := timely.Timestamp(0)
	model := func(at timely.Timestamp) map[[2]int64]int64 {
		m := map[[2]int64]int64{}
		for _, u := range log {
			if u.t <= at {
				m[[2]int64{u.key, u.val}] += u.diff
			}
		}
		for k, v := range m {
			if v == 0 {
				delete(m, k)
			}
		}
		return m
	}
	for step := 0; step < steps; step++ {
		switch op := r.Intn(10); {
		case op < 6:
			u := upd{key: int64(r.Intn(keys)), val: int64(r.Intn(vals)), t: now + timely.Timestamp(r.Intn(3)), diff: int64(r.Intn(5) - 2)}
			log = append(log, u)
			a.Update(Row{Int64(u.key)}, Row{Int64(u.key), Int64(u.val)}, u.t, u.diff)
		case op < 7:
			now += timely.Timestamp(r.Intn(3))
		case op < 8:
			if s := since + timely.Timestamp(r.Intn(3)); s <= now {
				since = s
				a.Compact(timely.At(since))
				live := len(model(since))
				later := 0
				for _, u := range log {
					if u.t > since && u.diff != 0 {
						later++
					}
				}
				if _, n := a.Len(); n > live+later {
					return fmt.Errorf("after compaction to %d: %d entries, but %d live pairs and %d later updates", since, n, live, later)
				}
			}
		default:
			at := since + timely.Timestamp(r.Intn(int(now-since)+3))
			got := map[[2]int64]int64{}
			if err := a.Read(at, func(k, v Row, m int64) { got[[2]int64{k[0].AsInt64(), v[1].AsInt64()}] += m }); err != nil {
				return err
			}
			want := model(at)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("read at %d (since %d): got %v, want %v", at, since, got, want)
			}
			// In key order: the same contents, keys ascending, values
			// ascending within a key.
			got = map[[2]int64]int64{}
			var prev Row
			var orderErr error
			if err := a.readOrdered(at, func(k, v Row, m int64) {
				got[[2]int64{k[0].AsInt64(), v[1].AsInt64()}] += m
				if prev != nil && prev.Compare(v) >= 0 && orderErr == nil {
					orderErr = fmt.Errorf("ordered read at %d: %s after %s", at, v, prev)
				}
				prev = v
			}); err != nil {
				return err
			}
			if orderErr != nil {
				return orderErr
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("ordered read at %d (since %d): got %v, want %v", at, since, got, want)
			}
			if since > 0 {
				if err := a.ReadKey(Row{Int64(0)}, since-1, func(Row, int64) {}); !errors.Is(err, ErrCompacted) {
					return fmt.Errorf("read before since: %v", err)
				}
			}
		}
	}
	return nil
}

// One key with a long history, used as operator state is (compacted to
// each time as it is processed): multiplicities reported by updateMult,
// reads and a final full compaction agree with a model, through chunk
// overflows and splits and group splits.
func TestArrangementHugeKeyMatchesModel(t *testing.T) {
	r := rand.New(rand.NewSource(baseSeed()))
	a := NewArrangement()
	key := Row{Int64(7)}
	model := map[int64]int64{}
	const steps, vals = 60000, 40000
	for i := 0; i < steps; i++ {
		now := timely.Timestamp(i / 100)
		a.advanceSince(now)
		v := int64(r.Intn(vals))
		diff := int64(r.Intn(3) + 1)
		if model[v] > 0 && r.Intn(3) == 0 {
			diff = -int64(r.Intn(int(model[v])) + 1)
		}
		before, after := a.updateMult(wholeKey(key), Row{Int64(v)}, now, diff)
		if before != model[v] || after != model[v]+diff {
			t.Fatalf("step %d: value %d: updateMult gave (%d, %d), model has %d then %d", i, v, before, after, model[v], model[v]+diff)
		}
		model[v] += diff
		if model[v] == 0 {
			delete(model, v)
		}
	}
	if tr := a.lookup(key); tr == nil || tr.big == nil || len(tr.big.groups) < 2 {
		t.Fatalf("the key should be big with more than one group of chunks")
	}
	got := map[int64]int64{}
	if err := a.ReadKey(key, timely.MaxTimestamp, func(v Row, m int64) { got[v[0].AsInt64()] += m }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(model) {
		t.Fatalf("read: %d values, model %d", len(got), len(model))
	}
	a.Compact(timely.At(steps))
	if _, n := a.Len(); n != len(model) {
		t.Fatalf("after full compaction: %d entries, %d live values", n, len(model))
	}
}

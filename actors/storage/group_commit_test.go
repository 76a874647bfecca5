package storage_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// With a commit interval, every write staged before a tick commits in one
// group at one timestamp, deterministically under the manual clock.
func TestGroupCommitOnTick(t *testing.T) {
	h := newHarness(t, storage.Config{CommitInterval: time.Second})
	for _, id := range []timely.GlobalId{u1, u2, u3} {
		h.createTable(id, accounts)
	}
	writers := []*testkit.Probe{testkit.NewProbe(t, h.sys), testkit.NewProbe(t, h.sys), testkit.NewProbe(t, h.sys)}
	for round := 1; round <= 3; round++ {
		writers[0].Send(h.pid, write(rows(u1, row(i64(int64(round)), str("a"))), rows(u2, row(i64(int64(round)), str("a")))))
		writers[1].Send(h.pid, write(rows(u2, row(i64(int64(10+round)), str("b")))))
		writers[2].Send(h.pid, write(rows(u1, row(i64(int64(20+round)), str("c")))))
		// A request behind each write: its answer comes first, so every
		// write is staged and none is committed yet.
		for _, w := range writers {
			w.Send(h.pid, &messages.StorageFrontiers{})
			testkit.ExpectMsg[*messages.StorageFrontiersResponse](w, timeout)
		}
		h.clk.Advance(time.Second)
		var ts uint64
		for i, w := range writers {
			r := testkit.ExpectMsg[*messages.StorageWriteResponse](w, timeout)
			if r.Error != nil {
				t.Fatal(r.Error)
			}
			if i > 0 && r.Timestamp != ts {
				t.Fatalf("round %d: writer %d committed at %d, writer 0 at %d", round, i, r.Timestamp, ts)
			}
			ts = r.Timestamp
		}
		want := uint64(testkit.ManualEpoch.Add(time.Duration(round) * time.Second).UnixMilli())
		if ts != want {
			t.Fatalf("round %d: timestamp %d, want the clock's %d", round, ts, want)
		}
		// Every table, written or not, is at the new upper.
		for _, tf := range h.frontiers().Tables {
			if up, _ := tf.Upper.ToTimely(); up != timely.At(timely.Timestamp(ts+1)) {
				t.Fatalf("round %d: table %v upper %s, want [%d]", round, tf.Table, up, ts+1)
			}
		}
	}
	if n := counterValue(t, h.reg, "arbor_storage_group_commit_size"); n != 3 {
		t.Fatalf("%v group commits observed, want 3", n)
	}
	if n := counterValue(t, h.reg, "arbor_storage_writes_total"); n != 9 {
		t.Fatalf("writes metric %v, want 9", n)
	}
	if n := counterValue(t, h.reg, "arbor_storage_rows_total"); n != 12 {
		t.Fatalf("rows metric %v, want 12", n)
	}
	// A tick with nothing staged commits nothing.
	before := h.upper()
	h.clk.Advance(time.Second)
	if after := h.upper(); after != before {
		t.Fatalf("an empty tick moved the upper %s -> %s", before, after)
	}
}

// committedWrite is a write and the timestamp it was committed at.
type committedWrite struct {
	ts     timely.Timestamp
	writer int
	change map[timely.GlobalId]map[string]int64 // row string -> diff
}

// Concurrent writers to several tables: each group commit has one
// timestamp, all uppers move together, and a snapshot across tables at any
// time is exactly the sum of the writes committed at or before it.
func TestGroupCommitConcurrentWriters(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	h := newHarness(t, storage.Config{})
	tables := []timely.GlobalId{u1, u2, u3, timely.UserId(4)}
	for _, id := range tables {
		h.createTable(id, accounts)
	}
	// A subscriber sees every group as it commits.
	cdc := testkit.NewProbe(t, h.sys)
	start, _ := h.upper().Time()
	if r := subscribe(h, cdc, &messages.StorageSubscribe{SubscriptionId: "all", From: uint64(start)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, cdc, "all")

	const writers, perWriter = 8, 40
	results := make([][]committedWrite, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			var mine []dataflow.Row // rows this writer inserted and may delete
			for k := range perWriter {
				cw := committedWrite{writer: g, change: map[timely.GlobalId]map[string]int64{}}
				var tws []*messages.StorageTableWrite
				for _, ti := range r.Perm(len(tables))[:1+r.IntN(2)] {
					id := tables[ti]
					tw := &messages.StorageTableWrite{Table: messages.FromGlobalId(id)}
					cw.change[id] = map[string]int64{}
					for range 1 + r.IntN(3) {
						rw, diff := row(i64(int64(g*10000+k)), str(fmt.Sprint(r.IntN(3)))), int64(1)
						if len(mine) > 0 && r.IntN(4) == 0 {
							rw, diff = mine[r.IntN(len(mine))], -1
						} else {
							mine = append(mine, rw)
						}
						tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(rw), Diff: proto.Int64(diff)})
						cw.change[id][rw.String()] += diff
					}
					tws = append(tws, tw)
				}
				res, err := h.sys.Root.RequestFuture(h.pid, write(tws...), timeout).Result()
				if err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
				resp := res.(*messages.StorageWriteResponse)
				if resp.Error != nil {
					t.Errorf("writer %d: %v", g, resp.Error)
					return
				}
				cw.ts = timely.Timestamp(resp.Timestamp)
				results[g] = append(results[g], cw)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Group the writes by timestamp; a writer's own writes are ordered.
	groups := map[timely.Timestamp][]committedWrite{}
	for g, ws := range results {
		for i, w := range ws {
			if i > 0 && w.ts <= ws[i-1].ts {
				t.Fatalf("writer %d: write %d at %d after %d", g, i, w.ts, ws[i-1].ts)
			}
			groups[w.ts] = append(groups[w.ts], w)
		}
	}
	times := slices.Sorted(maps.Keys(groups))
	t.Logf("%d writes in %d group commits", writers*perWriter, len(times))
	if got := counterValue(t, h.reg, "arbor_storage_group_commit_size"); got != float64(len(times)) {
		t.Fatalf("%v group commits observed, %d distinct timestamps", got, len(times))
	}

	// All uppers together, just past the last commit.
	last := times[len(times)-1]
	for _, tf := range h.frontiers().Tables {
		if up, _ := tf.Upper.ToTimely(); up != timely.At(last+1) {
			t.Fatalf("table %v upper %s, want [%d]", tf.Table, up, last+1)
		}
	}

	// Each version in the shards holds exactly its group's changes.
	rr := ask[*messages.StorageReadRangeResponse](h, &messages.StorageReadRange{Lo: 0, Hi: uint64(last + 1)})
	if rr.Error != nil {
		t.Fatal(rr.Error)
	}
	got := map[timely.Timestamp]map[timely.GlobalId]map[string]int64{}
	for _, v := range rr.Versions {
		got[timely.Timestamp(v.Version)] = changesOf(t, v.Tables)
	}
	for _, ts := range times {
		want := map[timely.GlobalId]map[string]int64{}
		for _, w := range groups[ts] {
			for id, ch := range w.change {
				for r, d := range ch {
					add(want, id, r, d)
				}
			}
		}
		prune(want)
		if fmt.Sprint(got[ts]) != fmt.Sprint(want) {
			t.Fatalf("version %d: got %v, want %v", ts, got[ts], want)
		}
	}

	// The subscriber got the same versions, in order, each followed by
	// progress past it.
	var streamed []timely.Timestamp
	for done := false; !done; {
		switch m := cdc.Next(timeout).Message.(type) {
		case *messages.StorageCdcBatch:
			v := timely.Timestamp(m.Batch.Version)
			if changes := fmt.Sprint(changesOf(t, m.Batch.Tables)); fmt.Sprint(got[v]) != changes {
				t.Fatalf("streamed version %d: %s, shards have %v", v, changes, got[v])
			}
			if p := expectProgress(t, cdc, "all"); p != timely.At(v+1) {
				t.Fatalf("progress %s after version %d", p, v)
			}
			streamed = append(streamed, v)
			done = v == last
		case *messages.StorageCdcProgress: // a group whose changes cancelled out
			p, _ := m.Upper.ToTimely()
			done = p == timely.At(last+1)
		default:
			t.Fatalf("unexpected %T", m)
		}
	}
	var nonEmpty []timely.Timestamp
	for _, ts := range times {
		if len(got[ts]) > 0 {
			nonEmpty = append(nonEmpty, ts)
		}
	}
	if fmt.Sprint(streamed) != fmt.Sprint(nonEmpty) {
		t.Fatalf("streamed versions %v, committed %v", streamed, nonEmpty)
	}

	// A snapshot across all tables at any time is the running sum.
	total := map[timely.GlobalId]map[string]int64{}
	for _, ts := range times {
		for id, ch := range got[ts] {
			for r, d := range ch {
				add(total, id, r, d)
			}
		}
		prune(total)
		asOf := uint64(ts)
		snap := h.snapshot(&asOf)
		if snap.Error != nil {
			t.Fatal(snap.Error)
		}
		if s := changesOf(t, snap.Tables); fmt.Sprint(s) != fmt.Sprint(total) {
			t.Fatalf("snapshot at %d: got %v, want %v", ts, s, total)
		}
	}
}

func add(m map[timely.GlobalId]map[string]int64, id timely.GlobalId, r string, d int64) {
	if m[id] == nil {
		m[id] = map[string]int64{}
	}
	m[id][r] += d
}

// prune drops zero diffs and empty tables.
func prune(m map[timely.GlobalId]map[string]int64) {
	for id, rs := range m {
		for r, d := range rs {
			if d == 0 {
				delete(rs, r)
			}
		}
		if len(rs) == 0 {
			delete(m, id)
		}
	}
}

// changesOf turns wire table changes into maps (fmt prints maps sorted).
func changesOf(t *testing.T, tcs []*messages.StorageTableChanges) map[timely.GlobalId]map[string]int64 {
	t.Helper()
	out := map[timely.GlobalId]map[string]int64{}
	for _, tc := range tcs {
		id, err := tc.Table.ToTimely()
		if err != nil {
			t.Fatal(err)
		}
		var prev dataflow.Row
		for _, rd := range tc.Rows {
			r, err := dataflow.RowFromWire(rd.Row)
			if err != nil {
				t.Fatal(err)
			}
			if prev != nil && prev.Compare(r) >= 0 {
				t.Fatalf("table %s rows not in row order: %s then %s", id, prev, r)
			}
			prev = r
			if rd.GetDiff() == 0 {
				t.Fatalf("table %s: zero diff for %s", id, r)
			}
			add(out, id, r.String(), rd.GetDiff())
		}
	}
	return out
}

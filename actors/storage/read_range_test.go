package storage_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

func readRange(h *harness, lo, hi timely.Timestamp, ids ...timely.GlobalId) *messages.StorageReadRangeResponse {
	h.t.Helper()
	return ask[*messages.StorageReadRangeResponse](h, &messages.StorageReadRange{Tables: wireIds(ids), Lo: uint64(lo), Hi: uint64(hi)})
}

// versionStrings prints each version as "t:changes".
func versionStrings(t *testing.T, vs []*messages.StorageVersion) []string {
	t.Helper()
	out := make([]string, len(vs))
	for i, v := range vs {
		if i > 0 && v.Version <= vs[i-1].Version {
			t.Fatalf("versions out of order: %d after %d", v.Version, vs[i-1].Version)
		}
		out[i] = fmt.Sprintf("%d:%v", v.Version, changesOf(t, v.Tables))
	}
	return out
}

func TestReadRangeChunksMatchTheWholeRange(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	var first timely.Timestamp
	for i := range 30 {
		w := write(rows(u1, row(i64(int64(i)), str("a"))))
		if i%3 == 0 {
			w.Tables = append(w.Tables, rows(u2, row(i64(int64(i)), str("b"))))
		}
		if i%5 == 4 {
			w.Tables = append(w.Tables, retract(u1, row(i64(int64(i-1)), str("a"))))
		}
		ts := h.mustWrite(w)
		if i == 0 {
			first = ts
		}
		h.clk.Advance(time.Duration(i%2) * time.Millisecond)
	}
	upper := h.upperTime()

	whole := readRange(h, 0, upper)
	if whole.Error != nil {
		t.Fatal(whole.Error)
	}
	if whole.CompleteTo != uint64(upper) || len(whole.Versions) != 30 || whole.Versions[0].Version != uint64(first) {
		t.Fatalf("whole range: complete_to %d, %d versions from %d", whole.CompleteTo, len(whole.Versions), whole.Versions[0].Version)
	}
	want := versionStrings(t, whole.Versions)

	// Chunks of 7 versions starting anywhere below the first write cover
	// the same versions, each exactly once.
	var got []string
	for lo := first - 3; lo < upper; lo += 7 {
		r := readRange(h, lo, lo+7)
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		if r.CompleteTo != uint64(min(lo+7, upper)) {
			t.Fatalf("chunk [%d,%d): complete_to %d", lo, lo+7, r.CompleteTo)
		}
		for _, v := range r.Versions {
			if v.Version < uint64(lo) || v.Version >= uint64(lo+7) {
				t.Fatalf("chunk [%d,%d) has version %d", lo, lo+7, v.Version)
			}
		}
		got = append(got, versionStrings(t, r.Versions)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("chunks:\n%v\nwhole:\n%v", got, want)
	}

	// One table only.
	u2only := readRange(h, 0, upper, u2)
	for _, v := range u2only.Versions {
		if len(v.Tables) != 1 {
			t.Fatalf("version %d of a u2 range has %d tables", v.Version, len(v.Tables))
		}
	}
	if len(u2only.Versions) != 10 {
		t.Fatalf("u2 range has %d versions, want 10", len(u2only.Versions))
	}
	// hi past the upper is clamped.
	if r := readRange(h, first, upper+1000); r.CompleteTo != uint64(upper) || len(r.Versions) != 30 {
		t.Fatalf("clamped range: complete_to %d, %d versions", r.CompleteTo, len(r.Versions))
	}
}

func TestReadRangeConsolidatesPerVersion(t *testing.T) {
	h := newHarness(t, storage.Config{CommitInterval: time.Second})
	h.createTable(u1, accounts)
	// Two writes in one group: an insert, the same row again, and an
	// insert that the second write deletes.
	h.probe.Send(h.pid, write(rows(u1, row(i64(1), str("a")), row(i64(2), str("gone")))))
	h.probe.Send(h.pid, write(rows(u1, row(i64(1), str("a"))), retract(u1, row(i64(2), str("gone")))))
	h.frontiers() // both staged
	h.clk.Advance(time.Second)
	ts := timely.Timestamp(testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout).Timestamp)
	testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	r := readRange(h, 0, ts+1)
	if got := versionStrings(t, r.Versions); fmt.Sprint(got) != fmt.Sprintf(`[%d:map[u1:map[(1, "a"):2]]]`, ts) {
		t.Fatalf("versions %v", got)
	}
}

func TestReadRangeBelowSince(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	ts := writeVersions(h, 4)
	h.clk.Advance(storage.DefaultMaintenance)
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == ts[3] }, timeout)
	// Starting below the since: the history is reported at the since.
	r := readRange(h, 0, ts[3]+1)
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	want := fmt.Sprintf(`[%d:map[u1:map[(0, "v"):1 (1, "v"):1 (2, "v"):1 (3, "v"):1]]]`, ts[3])
	if got := versionStrings(t, r.Versions); fmt.Sprint(got) != want {
		t.Fatalf("range below since: %v, want %s", got, want)
	}
	if since, _ := r.Frontiers[0].Since.ToTimely(); since != timely.At(ts[3]) {
		t.Fatalf("response since %s", since)
	}
	// A range that ends at or before the since is gone.
	if r := readRange(h, 0, ts[2]); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrCompacted) {
		t.Fatalf("range below since: %v", r.Error)
	}
}

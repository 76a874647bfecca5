package storage_test

import (
	"fmt"
	"testing"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/timely"
)

func TestSnapshotAtEachTime(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	t1 := h.mustWrite(write(rows(u1, row(i64(1), str("a")), row(i64(2), str("b")))))
	t2 := h.mustWrite(write(retract(u1, row(i64(1), str("a"))), rows(u2, row(i64(3), str("c")))))
	t3 := h.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	for _, c := range []struct {
		at     *uint64
		u1, u2 string
	}{
		{ptr(t1), `[(1, "a")x1 (2, "b")x1]`, `[]`},
		{ptr(t2), `[(2, "b")x1]`, `[(3, "c")x1]`},
		{ptr(t3), `[(2, "b")x2]`, `[(3, "c")x1]`},
		{nil, `[(2, "b")x2]`, `[(3, "c")x1]`}, // latest
	} {
		r := h.snapshot(c.at)
		if got := fmt.Sprint(tableRows(t, r, u1)); got != c.u1 {
			t.Errorf("u1 at %v: %s, want %s", r.AsOf, got, c.u1)
		}
		if got := fmt.Sprint(tableRows(t, r, u2)); got != c.u2 {
			t.Errorf("u2 at %v: %s, want %s", r.AsOf, got, c.u2)
		}
	}
	if r := h.snapshot(nil); r.AsOf != uint64(t3) {
		t.Fatalf("default as_of %d, want the latest complete time %d", r.AsOf, t3)
	}
}

func ptr(t timely.Timestamp) *uint64 {
	v := uint64(t)
	return &v
}

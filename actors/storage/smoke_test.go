package storage_test

import (
	"testing"

	"github.com/arbor-db/arbor/actors/storage"
)

func TestWriteThenSnapshot(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	ts := h.mustWrite(write(rows(u1, row(i64(1), str("a")), row(i64(2), str("b")))))
	got := tableRows(t, h.snapshot(nil, u1), u1)
	t.Logf("ts %d rows %v upper %v", ts, got, h.upper())
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

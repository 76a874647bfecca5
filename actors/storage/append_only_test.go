package storage_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// createAppendOnly creates an append-only table.
func (h *harness) createAppendOnly(id timely.GlobalId, schema dataflow.Schema) {
	h.t.Helper()
	r := ask[*messages.StorageCreateTableResponse](h, &messages.StorageCreateTable{Table: messages.FromGlobalId(id),
		Schema: dataflow.SchemaToWire(schema), AppendOnly: true})
	if r.Error != nil {
		h.t.Fatalf("create %s: %v", id, r.Error)
	}
}

// expectAppendOnlyRefusal checks that w is refused with ErrAppendOnly
// (INVALID_ARGUMENT) naming every string in names, and that the tables'
// contents are what they were.
func expectAppendOnlyRefusal(t *testing.T, h *harness, w *messages.StorageWrite, names ...string) {
	t.Helper()
	before := contents(h)
	err := messages.ErrorFromWire(h.write(w).Error)
	if !errors.Is(err, storage.ErrAppendOnly) || !errors.Is(err, messages.ErrInvalidArgument) {
		t.Fatalf("error %v, want %v (INVALID_ARGUMENT)", err, storage.ErrAppendOnly)
	}
	for _, s := range names {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	if after := contents(h); after != before {
		t.Fatalf("a refused write changed the tables: %s, before %s", after, before)
	}
}

func TestAppendOnlyTableRefusesRetractions(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createAppendOnly(u1, accounts)
	h.createTable(u2, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")), row(i64(2), str("b"))), rows(u2, row(i64(9), str("z")))))

	t.Run("delete", func(t *testing.T) {
		expectAppendOnlyRefusal(t, h, write(retract(u1, row(i64(1), str("a")))), "table u1 row 0", `(1, "a")`, "append-only")
	})
	t.Run("negative diff below -1", func(t *testing.T) {
		tw := rows(u1, row(i64(2), str("b")))
		tw.Rows[0].Diff = proto.Int64(-2)
		expectAppendOnlyRefusal(t, h, write(tw), "table u1 row 0", "diff -2")
	})
	t.Run("retraction cancelled by an insertion in the same write", func(t *testing.T) {
		tw := rows(u1, row(i64(3), str("c")), row(i64(3), str("c")))
		tw.Rows[1].Diff = proto.Int64(-1)
		expectAppendOnlyRefusal(t, h, write(tw), "table u1 row 1", `(3, "c")`)
	})
	t.Run("several tables, one bad part", func(t *testing.T) {
		// The good parts come first and touch both tables: nothing applies.
		expectAppendOnlyRefusal(t, h, write(
			rows(u2, row(i64(10), str("y"))),
			rows(u1, row(i64(4), str("d"))),
			retract(u2, row(i64(9), str("z"))),
			retract(u1, row(i64(2), str("b"))),
		), "table u1", `(2, "b")`)
	})

	// Insertions still go in, and the ordinary table still takes
	// retractions, also in one write with the append-only one.
	h.mustWrite(write(rows(u1, row(i64(5), str("e"))), retract(u2, row(i64(9), str("z")))))
	if got, want := contents(h), `u1:(1, "a")x1,(2, "b")x1,(5, "e")x1 u2:`; !strings.HasSuffix(got, want) {
		t.Fatalf("contents %s, want ...%s", got, want)
	}
}

func TestAppendOnlySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, storage.Config{Store: openPebble(t, dir)})
	t.Cleanup(func() { _ = h.store.Close() })
	h.createAppendOnly(u1, accounts)
	h.createTable(u2, accounts)
	h.createAppendOnly(u3, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a"))), rows(u2, row(i64(2), str("b")))))
	if r := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u3)}); r.Error != nil {
		t.Fatal(r.Error)
	}

	h.restartPebble(dir)

	expectAppendOnlyRefusal(t, h, write(retract(u1, row(i64(1), str("a")))), "table u1 row 0")
	// The ordinary table stayed ordinary; the dropped one stayed dropped.
	h.mustWrite(write(retract(u2, row(i64(2), str("b")))))
	if r := h.write(write(rows(u3, row(i64(5), str("e"))))); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrTableDropped) {
		t.Fatalf("write to dropped table after restart: %v", r.Error)
	}
}

//go:build !race

package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
)

// A table created with TableSpec.AppendOnly is described as such, takes
// inserts, and refuses deletes and updates with ErrInvalidArgument naming
// the table and the row, applying nothing of the write (another table's
// part included).
func TestAppendOnlyTable(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{CompactionWindow: 1 << 20})
	c := dial(t, addr)
	ctx := ctxT(t)
	o, err := c.CreateTable(ctx, client.TableSpec{Name: "events", Columns: ordersColumns, Key: []string{"id"}, AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !o.AppendOnly {
		t.Fatalf("created %+v, not append-only", o)
	}
	createOrders(t, c)
	if _, err := c.Insert(ctx, "events", orderRow(1, "a", 10), orderRow(2, "b", 20)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		writes []client.TableWrite
		words  []string
	}{
		{"delete", []client.TableWrite{{Table: "events", Deletes: []client.Row{orderRow(1, "a", 10)}}}, []string{`table "events" delete 0`, `(1, "a", 10)`}},
		{"update", []client.TableWrite{{Table: "events", Updates: []client.Row{orderRow(3, "c", 30)}}}, []string{`table "events" update 0`, `(3, "c", 30)`}},
		{"delete beside another table's insert", []client.TableWrite{{Table: "orders", Inserts: []client.Row{orderRow(9, "z", 9)}},
			{Table: "events", Inserts: []client.Row{orderRow(4, "d", 40)}, Deletes: []client.Row{orderRow(2, "b", 20)}}}, []string{`table "events" delete 0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Write(ctx, tc.writes...)
			if !errors.Is(err, client.ErrInvalidArgument) {
				t.Fatalf("got %v, want %v", err, client.ErrInvalidArgument)
			}
			for _, w := range append(tc.words, "append-only") {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	for table, want := range map[string]int{"events": 2, "orders": 0} {
		if res, err := c.Peek(ctx, table); err != nil || len(res.Rows) != want {
			t.Fatalf("%s after refused writes: %v %v, want %d rows", table, res, err, want)
		}
	}

	tables, err := c.List(ctx, client.Table)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range tables {
		got[o.Name] = o.AppendOnly
	}
	if !got["events"] || got["orders"] || len(got) != 2 {
		t.Fatalf("listed (append-only): %v", got)
	}
}

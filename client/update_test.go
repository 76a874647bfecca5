//go:build !race

package client_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
)

func peekAll(t *testing.T, c *client.Client, table string) string {
	t.Helper()
	res, err := c.Peek(ctxT(t), table)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Rows {
		out = append(out, strings.TrimSpace(fmt.Sprintln(r...)))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestUpdateByKey: an update replaces the row holding its key, or inserts
// when none does; bad updates are refused with nothing written; concurrent
// updates of one key leave exactly one row for it.
func TestUpdateByKey(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{CompactionWindow: 1 << 20})
	c := dial(t, addr)
	ctx := ctxT(t)
	createOrders(t, c)
	if _, err := c.Insert(ctx, "orders", orderRow(1, "ann", 10), orderRow(2, "bob", 20)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "orders", orderRow(1, "ann", 11), orderRow(3, "cid", 30)); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, want := peekAll(t, c, "orders"), "1 ann 11; 2 bob 20; 3 cid 30"; got != want {
		t.Fatalf("after the update: %s, want %s", got, want)
	}

	// Bad updates: nothing is written.
	if _, err := c.Update(ctx, "orders", orderRow(2, "bob", 21), orderRow(2, "bob", 22)); !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("two updates of one key: %v", err)
	}
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "notes", Columns: ordersColumns}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "notes", orderRow(1, "x", 1)); !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "no key columns") {
		t.Fatalf("update of a table without a key: %v", err)
	}
	if _, err := c.Write(ctx, client.TableWrite{Table: "orders", Inserts: []client.Row{orderRow(9, "z", 9)}, Updates: []client.Row{{"x", "bad", 1}}}); err == nil {
		t.Fatal("an update row that does not fit was accepted")
	}
	if got, want := peekAll(t, c, "orders"), "1 ann 11; 2 bob 20; 3 cid 30"; got != want {
		t.Fatalf("after refused updates: %s, want %s", got, want)
	}

	// Concurrent updates of one key: one row remains, from one of them.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Update(ctx, "orders", orderRow(2, "bob", int64(100+i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Peek(ctx, "orders", client.Where("id", int64(2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][2].(int64) < 100 {
		t.Fatalf("key 2 after concurrent updates: %v", res.Rows)
	}
}

//go:build !race

package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestAgainstANodeProcess drives a node process (real Pebble, the binary
// make run starts) through the client library: a table, a view with an
// index and a materialized view, checked against the rows written, across
// a SIGTERM and a SIGKILL restart; a subscribe sees a later insert.
func TestAgainstANodeProcess(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 1})
	node := c.Node(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dialNode := func() *client.Client {
		t.Helper()
		cl, err := client.Dial(ctx, node.Addr())
		if err != nil {
			t.Fatalf("dial %s: %v", node.Addr(), err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}
	cl := dialNode()
	if _, err := cl.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns, Key: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	var rows []client.Row
	for i := range 40 {
		rows = append(rows, orderRow(int64(i), []string{"ann", "bob", "cid"}[i%3], int64(i*5)))
	}
	if _, err := cl.Insert(ctx, "orders", rows...); err != nil {
		t.Fatal(err)
	}
	big := client.Get("orders").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GE, client.Col("amount"), client.Lit(int64(100))))
	if _, err := cl.CreateView(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateIndex(ctx, "big_idx", "big", []string{"id"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateMaterializedView(ctx, "big_mv", big, ""); err != nil {
		t.Fatal(err)
	}

	// The oracle: the rows with amount >= 100, as "id customer amount".
	oracle := func(rows []client.Row) []string {
		var out []string
		for _, r := range rows {
			if r[2].(int64) >= 100 {
				out = append(out, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
			}
		}
		slices.Sort(out)
		return out
	}
	// check peeks each collection until it matches (a new index hydrates
	// first) or the deadline passes.
	check := func(cl *client.Client, what string) {
		t.Helper()
		want := strings.Join(oracle(rows), "\n")
		for _, name := range []string{"big", "big_mv"} {
			deadline := time.Now().Add(30 * time.Second)
			for {
				res, err := cl.Peek(ctx, name)
				var got []string
				if err == nil {
					for _, r := range res.Rows {
						got = append(got, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
					}
					slices.Sort(got)
				}
				if err == nil && strings.Join(got, "\n") == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: peek %s: %v\n got %v\nwant %v", what, name, err, got, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	check(cl, "first start")

	sub, err := cl.Subscribe(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	more := orderRow(100, "dee", 500)
	if _, err := cl.Insert(ctx, "orders", more); err != nil {
		t.Fatal(err)
	}
	rows = append(rows, more)
	for seen := false; !seen; {
		b, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		for _, u := range b.Updates {
			if u.Row[0].(int64) == 100 && u.Diff == 1 {
				seen = true
			}
		}
	}
	_ = sub.Close()
	check(cl, "after the subscribe")

	for _, restart := range []string{"SIGTERM", "SIGKILL"} {
		if restart == "SIGTERM" {
			if code := node.Stop(); code != 0 {
				t.Fatalf("node exited %d on SIGTERM", code)
			}
		} else {
			node.Kill()
		}
		node.Start()
		check(dialNode(), "after "+restart)
	}

	// Peeks that wait on the index (at a time an hour ahead) end canceled,
	// naming the index, when it is dropped; none hangs.
	cl = dialNode()
	future := uint64(time.Now().Add(time.Hour).UnixMilli())
	const waiting = 3
	errs := make(chan error, waiting)
	for range waiting {
		go func() {
			_, err := cl.Peek(ctx, "big", client.AsOf(future))
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // let the peeks reach the instance
	if _, err := cl.Drop(ctx, client.Index, "big_idx", false); err != nil {
		t.Fatal(err)
	}
	for range waiting {
		select {
		case err := <-errs:
			if !errors.Is(err, client.ErrCanceled) || !strings.Contains(err.Error(), "big_idx") {
				t.Fatalf("a peek of the dropped index ended with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a peek of the dropped index hangs")
		}
	}
	check(cl, "after the index was dropped") // now through a transient dataflow
}

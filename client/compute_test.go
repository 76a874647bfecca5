//go:build !race

package client_test

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
)

// rowsOf renders a peek's rows sorted, for comparison.
func rowsOf(res *client.Result) []string {
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = fmt.Sprint(r)
	}
	sort.Strings(out)
	return out
}

// The compute path through the client library, over loopback: a view
// with an index, a materialized view and a subscribe on a node whose
// environment runs replica runtimes; the answers match what the rows
// written imply, and again after a restart on the same directory.
func TestComputeThroughTheClient(t *testing.T) {
	dir := t.TempDir()
	opts := environmenttest.Options{Compute: true, CompactionWindow: 1 << 40}
	node, addr := startNode(t, dir, opts)
	c := dial(t, addr)
	ctx := ctxT(t)
	createOrders(t, c)

	big := client.Get("orders").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GT, client.Col("amount"), client.Lit(int64(50))))
	if _, err := c.CreateView(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateIndex(ctx, "big_idx", "big", []string{"id"}, ""); err != nil {
		t.Fatal(err)
	}
	perCustomer := client.Get("orders").Reduce([]string{"customer"}, client.Sum("amount"), client.Count())
	if _, err := c.CreateMaterializedView(ctx, "per_customer", perCustomer, ""); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, "big", client.Window(2))
	if err != nil {
		t.Fatal(err)
	}
	amounts := []int64{10, 60, 70, 20, 90}
	for i, a := range amounts {
		if _, err := c.Insert(ctx, "orders", orderRow(int64(i+1), fmt.Sprintf("c%d", i%2), a)); err != nil {
			t.Fatal(err)
		}
	}
	wantBig := []string{"[2 c1 60]", "[3 c0 70]", "[5 c0 90]"}
	wantPer := []string{"[c0 170 3]", "[c1 80 2]"}
	check := func(c *client.Client) {
		t.Helper()
		res, err := c.Peek(ctx, "big")
		if err != nil || strings.Join(rowsOf(res), " ") != strings.Join(wantBig, " ") {
			t.Fatalf("peek big: %v %v, want %v", rowsOf(res), err, wantBig)
		}
		res, err = c.Peek(ctx, "per_customer")
		if err != nil || strings.Join(rowsOf(res), " ") != strings.Join(wantPer, " ") {
			t.Fatalf("peek per_customer: %v %v, want %v", rowsOf(res), err, wantPer)
		}
	}
	check(c)

	// The subscribe sees the three big orders, each once.
	seen := map[string]int64{}
	for len(seen) < len(wantBig) {
		b, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range b.Updates {
			seen[fmt.Sprint(u.Row)] += u.Diff
		}
	}
	for _, w := range wantBig {
		if seen[w] != 1 {
			t.Fatalf("subscribe saw %v, want each of %v once", seen, wantBig)
		}
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := sub.Next(ctx); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}

	// Clusters and replicas are listed; bad input is typed.
	objs, err := c.List(ctx, client.Replica)
	if err != nil || len(objs) != 1 || objs[0].Cluster != "default" || objs[0].Name != "r1" {
		t.Fatalf("replicas: %v %v", objs, err)
	}
	if _, err := c.CreateView(ctx, "bad", client.Get("nope")); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("view of an unknown source: %v", err)
	}
	if _, err := c.CreateIndex(ctx, "big_idx", "big", nil, ""); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("duplicate index: %v", err)
	}

	// A restart on the same directory answers the same.
	_ = c.Close()
	node.Stop()
	_, addr = startNode(t, dir, opts)
	c = dial(t, addr)
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.Peek(ctx, "big")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(c)
}

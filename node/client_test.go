//go:build !race

package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
)

// TestClientThroughTheNode is the front door end to end: a client program
// dials a node, creates a table, inserts and peeks; the node restarts on
// its data dir and answers the same peek. (Two protoactor remotes in one
// process: built without -race, see the Makefile.)
func TestClientThroughTheNode(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	peekAlice := func(n *Node) []string {
		t.Helper()
		c, err := client.Dial(ctx, n.RemoteAddr())
		if err != nil {
			t.Fatalf("dial %s: %v", n.RemoteAddr(), err)
		}
		defer c.Close()
		res, err := c.Peek(ctx, "orders", client.Where("customer", "alice"), client.OrderBy("amount", true))
		if err != nil {
			t.Fatalf("peek: %v", err)
		}
		var out []string
		for _, r := range res.Rows {
			out = append(out, strings.TrimSpace(fmt.Sprintln(r...)))
		}
		return out
	}
	want := []string{"1 alice 30", "3 alice 25"}

	n := startTestNode(t, cfg)
	c, err := client.Dial(ctx, n.RemoteAddr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	cols, err := client.ParseColumns("id int64 not null, customer string, amount int64")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: cols, Key: []string{"id"}}); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: cols}); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	if _, err := c.Insert(ctx, "orders", client.Row{1, "alice", 30}, client.Row{2, "bob", 10}, client.Row{3, "alice", 25}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if _, err := c.Insert(ctx, "orders", client.Row{"four", "carol", 1}); !errors.Is(err, client.ErrInvalidRow) {
		t.Fatalf("bad row: %v, want ErrInvalidRow", err)
	}
	c.Close()
	if got := peekAlice(n); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("peek: %v, want %v", got, want)
	}

	// Restart on the same data dir: the table and its rows are back.
	n.Stop()
	n2 := startTestNode(t, cfg)
	if got := peekAlice(n2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("peek after restart: %v, want %v", got, want)
	}
}

//go:build !race

package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/client"
)

// exampleNode starts an in-process node for the examples and returns its
// address and a function that stops it. A real program dials a node
// started with `make run` at 127.0.0.1:6880.
func exampleNode() (string, func()) {
	return startExampleNode(environmenttest.Options{CompactionWindow: 1000})
}

// exampleComputeNode is exampleNode with replica runtimes in process, so
// that views, indexes, materialized views and subscribes work.
func exampleComputeNode() (string, func()) {
	return startExampleNode(environmenttest.Options{Compute: true, CompactionWindow: 1 << 40})
}

func startExampleNode(opts environmenttest.Options) (string, func()) {
	dir, err := os.MkdirTemp("", "arbor-example")
	if err != nil {
		panic(err)
	}
	sys := actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(10 * time.Millisecond))
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0))
	r.Start()
	node, err := environmenttest.Launch(sys, dir, opts)
	if err != nil {
		panic(err)
	}
	return sys.Address(), func() {
		node.Stop()
		surface.ShutdownRemote(r)
		sys.Shutdown()
		_ = os.RemoveAll(dir)
	}
}

func Example() {
	addr, stop := exampleNode()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	cols, _ := client.ParseColumns("id int64 not null, customer string, amount int64")
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: cols, Key: []string{"id"}}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Insert(ctx, "orders",
		client.Row{1, "alice", 30}, client.Row{2, "bob", 10}, client.Row{3, "alice", 25}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Peek(ctx, "orders", client.Where("customer", "alice"), client.OrderBy("amount", true))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r...)
	}
	// Output:
	// 1 alice 30
	// 3 alice 25
}

func ExampleClient_Peek_asOf() {
	addr, stop := exampleNode()
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	cols, _ := client.ParseColumns("id int64 not null, note string")
	_, _ = c.CreateTable(ctx, client.TableSpec{Name: "notes", Columns: cols})
	first, _ := c.Insert(ctx, "notes", client.Row{1, "first"})
	_, _ = c.Insert(ctx, "notes", client.Row{2, "second"})

	now, _ := c.Peek(ctx, "notes")
	then, _ := c.Peek(ctx, "notes", client.AsOf(first))
	fmt.Println(len(now.Rows), "rows now,", len(then.Rows), "row as of the first insert")
	// Output: 2 rows now, 1 row as of the first insert
}

func ExampleErrNotFound() {
	addr, stop := exampleNode()
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, err = c.Peek(ctx, "missing")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	_, err = c.CreateView(ctx, "v", client.Get("missing"))
	fmt.Println(errors.Is(err, client.ErrUnavailable))
	// Output:
	// true
	// true
}

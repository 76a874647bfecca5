//go:build !race

package client_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
)

// A view with an index, read through the index, and a materialized view.
func ExampleClient_CreateIndex() {
	addr, stop := exampleComputeNode()
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
	big := client.Get("orders").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GT, client.Col("amount"), client.Lit(int64(20))))
	if _, err := c.CreateView(ctx, "big_orders", big); err != nil {
		fmt.Println(err)
		return
	}
	// On the default cluster, which the node created at its first start.
	if _, err := c.CreateIndex(ctx, "big_orders_idx", "big_orders", []string{"id"}, ""); err != nil {
		fmt.Println(err)
		return
	}
	perCustomer := client.Get("orders").Reduce([]string{"customer"}, client.Sum("amount"))
	if _, err := c.CreateMaterializedView(ctx, "per_customer", perCustomer, ""); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Insert(ctx, "orders", client.Row{1, "alice", 30}, client.Row{2, "bob", 10}, client.Row{3, "alice", 25}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Peek(ctx, "big_orders", client.OrderBy("id", false))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r...)
	}
	res, err = c.Peek(ctx, "per_customer", client.OrderBy("customer", false))
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
	// alice 55
	// bob 10
}

// A subscribe: the contents at its start, then every change, with
// progress.
func ExampleClient_Subscribe() {
	addr, stop := exampleComputeNode()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	cols, _ := client.ParseColumns("id int64 not null, customer string")
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "customers", Columns: cols}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Insert(ctx, "customers", client.Row{1, "alice"}); err != nil {
		fmt.Println(err)
		return
	}
	sub, err := c.Subscribe(ctx, "customers")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	if _, err := c.Insert(ctx, "customers", client.Row{2, "bob"}); err != nil {
		fmt.Println(err)
		return
	}
	var seen []string
	for len(seen) < 2 {
		b, err := sub.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, u := range b.Updates {
			seen = append(seen, fmt.Sprint(u.Diff, u.Row))
		}
	}
	sort.Strings(seen)
	for _, s := range seen {
		fmt.Println(s)
	}
	// Output:
	// 1 [1 alice]
	// 1 [2 bob]
}

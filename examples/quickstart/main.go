// Command quickstart is the README's quickstart as a Go program: it dials a
// node (make run), creates a table, a view over it and an index on the
// view, inserts rows and peeks the view through the index.
//
//	go run ./examples/quickstart --addr 127.0.0.1:6880
//
// Against a node that requires mutual TLS, add --cacert, --cert and --key
// (docs/cluster.md, "Mutual TLS, clients included").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6880", "the node's remote address")
	var tlsFiles mtls.Files
	tlsFiles.RegisterFlags(flag.CommandLine)
	flag.Parse()
	if err := tlsFiles.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	}
	if err := run(*addr, tlsFiles); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(addr string, tlsFiles mtls.Files) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.WithApplicationName("quickstart"), client.WithTLS(tlsFiles))
	if err != nil {
		return err
	}
	defer c.Close()

	cols, err := client.ParseColumns("id int64 not null, customer string, amount int64")
	if err != nil {
		return err
	}
	// Running it twice is fine: what exists already is kept, and the rows
	// are inserted only with the table (keys are recorded, not enforced, so
	// a second insert would add the rows again).
	_, err = c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: cols, Key: []string{"id"}})
	created := err == nil
	if err != nil && !errors.Is(err, client.ErrAlreadyExists) {
		return err
	}
	big := client.Get("orders").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GE, client.Col("amount"), client.Lit(int64(20))))
	if _, err := c.CreateView(ctx, "big_orders", big); err != nil && !errors.Is(err, client.ErrAlreadyExists) {
		return err
	}
	if _, err := c.CreateIndex(ctx, "big_orders_idx", "big_orders", []string{"id"}, ""); err != nil && !errors.Is(err, client.ErrAlreadyExists) {
		return err
	}
	if created {
		at, err := c.Insert(ctx, "orders", client.Row{1, "alice", 30}, client.Row{2, "bob", 10}, client.Row{3, "alice", 25})
		if err != nil {
			return err
		}
		fmt.Printf("inserted 3 rows at %d\n", at)
	}
	res, err := c.Peek(ctx, "big_orders", client.OrderBy("amount", false))
	if err != nil {
		return err
	}
	fmt.Printf("big_orders as of %d:\n", res.AsOf)
	for _, row := range res.Rows {
		fmt.Println(row...)
	}
	return nil
}

//go:build !race

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// computeBench starts a node with compute, a table of 100 orders, a view
// over it and an index on the view, and a client.
func computeBench(b *testing.B) (*client.Client, context.Context) {
	b.Helper()
	sys, _ := testkit.NewRemoteSystem(b)
	environmenttest.Start(b, sys, b.TempDir(), environmenttest.Options{Compute: true, CompactionWindow: 1 << 40})
	ctx := context.Background()
	c, err := client.Dial(ctx, sys.Address())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns}); err != nil {
		b.Fatal(err)
	}
	var rows []client.Row
	for i := range 100 {
		rows = append(rows, orderRow(int64(i), "c", int64(i)))
	}
	if _, err := c.Insert(ctx, "orders", rows...); err != nil {
		b.Fatal(err)
	}
	big := client.Get("orders").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GE, client.Col("amount"), client.Lit(int64(0))))
	if _, err := c.CreateView(ctx, "all_orders", big); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateIndex(ctx, "all_orders_idx", "all_orders", []string{"id"}, ""); err != nil {
		b.Fatal(err)
	}
	// Wait until the index answers (hydrated).
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := c.Peek(ctx, "all_orders", client.Where("id", int64(1)))
		if err == nil && len(res.Rows) == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the index never answered: %v %v", res, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c, ctx
}

// BenchmarkIndexPeek measures a client peek answered by the index fast
// path (client -> remote -> environment -> instance -> replica -> worker
// arrangement -> back), interleaved with its baseline: the persist fast
// path peek of the same row from the table in the same run.
func BenchmarkIndexPeek(b *testing.B) {
	c, ctx := computeBench(b)
	index, table := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Peek(ctx, "all_orders", client.Where("id", int64(i%100)))
		if err != nil || len(res.Rows) != 1 {
			b.Fatalf("index peek: %v %v", res, err)
		}
		index = append(index, time.Since(start))
		start = time.Now()
		res, err = c.Peek(ctx, "orders", client.Where("id", int64(i%100)))
		if err != nil || len(res.Rows) != 1 {
			b.Fatalf("table peek: %v %v", res, err)
		}
		table = append(table, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(quantile(index, 0.5), "index-peek-p50-µs")
	b.ReportMetric(quantile(index, 0.99), "index-peek-p99-µs")
	b.ReportMetric(quantile(table, 0.5), "table-peek-p50-µs")
	b.ReportMetric(quantile(table, 0.99), "table-peek-p99-µs")
}

// BenchmarkFreshness measures the time from an acknowledged insert to the
// first index peek that sees it (strict serializable peeks: the first one
// already waits for the index to reach the insert), beside the time of
// the insert alone.
func BenchmarkFreshness(b *testing.B) {
	c, ctx := computeBench(b)
	fresh, insert := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(1000 + i)
		start := time.Now()
		if _, err := c.Insert(ctx, "orders", orderRow(id, "f", 1)); err != nil {
			b.Fatal(err)
		}
		acked := time.Now()
		insert = append(insert, acked.Sub(start))
		for {
			res, err := c.Peek(ctx, "all_orders", client.Where("id", id))
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Rows) == 1 {
				break
			}
		}
		fresh = append(fresh, time.Since(acked))
	}
	b.StopTimer()
	b.ReportMetric(quantile(fresh, 0.5), "fresh-p50-µs")
	b.ReportMetric(quantile(fresh, 0.99), "fresh-p99-µs")
	b.ReportMetric(quantile(insert, 0.5), "insert-p50-µs")
	b.ReportMetric(quantile(insert, 0.99), "insert-p99-µs")
}

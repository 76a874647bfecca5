//go:build !race

package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

func quantile(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	return float64(ds[int(q*float64(len(ds)-1))].Microseconds())
}

// BenchmarkPeek measures a client peek over loopback (client actor system
// -> remote -> environment -> storage snapshot -> filter -> back),
// interleaved with its baseline: the same storage snapshot requested
// in-process, without the environment and the network.
func BenchmarkPeek(b *testing.B) {
	sys, _ := testkit.NewRemoteSystem(b)
	node := environmenttest.Start(b, sys, b.TempDir(), environmenttest.Options{})
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
	objs, err := c.List(ctx, client.Table)
	if err != nil {
		b.Fatal(err)
	}
	id := objs[0].Id
	gid := &messages.GlobalId{Kind: messages.IdKind_ID_KIND_USER}
	if _, err := fmtSscan(id, &gid.Value); err != nil {
		b.Fatal(err)
	}
	peek, base := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Peek(ctx, "orders", client.Where("id", int64(i%100)))
		if err != nil || len(res.Rows) != 1 {
			b.Fatalf("peek: %v %v", res, err)
		}
		peek = append(peek, time.Since(start))
		start = time.Now()
		r, err := sys.Root.RequestFuture(node.Storage, &messages.StorageSnapshot{Tables: []*messages.GlobalId{gid}}, 10*time.Second).Result()
		if err != nil || r.(*messages.StorageSnapshotResponse).GetError() != nil {
			b.Fatalf("snapshot: %v %v", r, err)
		}
		base = append(base, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(quantile(peek, 0.5), "peek-p50-µs")
	b.ReportMetric(quantile(peek, 0.99), "peek-p99-µs")
	b.ReportMetric(quantile(base, 0.5), "storage-snapshot-p50-µs")
	b.ReportMetric(quantile(base, 0.99), "storage-snapshot-p99-µs")
}

// BenchmarkInsert measures rows/s of inserts through the client, in
// batches of 1 and 1000 rows, interleaved with the same writes sent to
// storage in-process.
func BenchmarkInsert(b *testing.B) {
	for _, batch := range []int{1, 1000} {
		b.Run(map[int]string{1: "batch=1", 1000: "batch=1000"}[batch], func(b *testing.B) {
			sys, _ := testkit.NewRemoteSystem(b)
			node := environmenttest.Start(b, sys, b.TempDir(), environmenttest.Options{})
			ctx := context.Background()
			c, err := client.Dial(ctx, sys.Address())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close() })
			o, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns})
			if err != nil {
				b.Fatal(err)
			}
			gid := &messages.GlobalId{Kind: messages.IdKind_ID_KIND_USER}
			if _, err := fmtSscan(o.Id, &gid.Value); err != nil {
				b.Fatal(err)
			}
			var viaClient, direct time.Duration
			next := int64(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rows := make([]client.Row, batch)
				sw := &messages.StorageTableWrite{Table: gid}
				for j := range rows {
					next++
					rows[j] = orderRow(next, "c", 1)
					wr, _ := client.RowToWire(orderRow(-next, "c", 1))
					sw.Rows = append(sw.Rows, &messages.StorageRowDiff{Row: wr})
				}
				start := time.Now()
				if _, err := c.Insert(ctx, "orders", rows...); err != nil {
					b.Fatal(err)
				}
				viaClient += time.Since(start)
				start = time.Now()
				r, err := sys.Root.RequestFuture(node.Storage, &messages.StorageWrite{Tables: []*messages.StorageTableWrite{sw}}, 10*time.Second).Result()
				if err != nil || r.(*messages.StorageWriteResponse).GetError() != nil {
					b.Fatalf("storage write: %v %v", r, err)
				}
				direct += time.Since(start)
			}
			b.StopTimer()
			rowsTotal := float64(b.N * batch)
			b.ReportMetric(rowsTotal/viaClient.Seconds(), "client-rows/s")
			b.ReportMetric(rowsTotal/direct.Seconds(), "storage-rows/s")
		})
	}
}

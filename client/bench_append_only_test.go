//go:build !race

package client_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// processCPU returns the process's user plus system CPU time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// top10 is the ten highest prices of a table (one group), highest first.
func top10(table string) *client.Plan {
	p := client.Get(table)
	ten := uint64(10)
	p.Plan = &messages.Plan{Node: &messages.Plan_TopK{TopK: &messages.TopKPlan{Input: p.Plan, Limit: &ten,
		Order: []*messages.OrderColumn{{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: "price"}}, Desc: true},
			{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: "id"}}}}}}}
	return p
}

// BenchmarkAppendOnlyViews measures what declaring a table append-only
// buys a user, end to end: an indexed view fed by writes of 1,000 rows
// through the client, each followed by a strict serializable peek of the
// index (so the index has caught up). The same rows go, in the same
// iteration, to an ordinary table with the same view and index: the
// baseline. The views: a max per key (10 keys; over an append-only input
// the Reduce keeps each key's output row, else it arranges every row) and
// a global top 10 (over an append-only input the TopK keeps its window,
// else every row). Reported: CPU time of the whole process per row
// written (each phase includes the client, the environment, storage on
// Pebble and the replica), and the ratio. The tables grow by 1,000 rows
// per iteration: -benchtime=Nx sets the size.
func BenchmarkAppendOnlyViews(b *testing.B) {
	for _, v := range appendOnlyViews {
		b.Run(v.name, func(b *testing.B) {
			c, ctx := appendOnlyNode(b, v.plan, v.key)
			tables := []string{"bids_ao", "bids"}
			const batch = 1000
			var id, maxPrice int64
			var cpu [2]time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rows := bidRows(&id, &maxPrice, batch)
				for n := range 2 {
					// Alternate which table goes first, so that work one
					// phase leaves behind does not always land on one side.
					k := (n + i) % 2
					start := processCPU(b)
					if _, err := c.Insert(ctx, tables[k], rows...); err != nil {
						b.Fatal(err)
					}
					res, err := c.Peek(ctx, tables[k]+"_v")
					cpu[k] += processCPU(b) - start
					if err != nil || len(res.Rows) != v.rows {
						b.Fatalf("peek %s_v: %v %v", tables[k], res, err)
					}
					best := int64(0)
					for _, r := range res.Rows {
						best = max(best, r[v.price].(int64))
					}
					if best != maxPrice {
						b.Fatalf("%s_v says %d, the rows written %d", tables[k], best, maxPrice)
					}
				}
			}
			b.StopTimer()
			n := float64(b.N * batch)
			b.ReportMetric(float64(cpu[0].Nanoseconds())/n, "appendonly-cpu-ns/row")
			b.ReportMetric(float64(cpu[1].Nanoseconds())/n, "general-cpu-ns/row")
			b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "general/appendonly")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAppendOnlyState measures the memory a declared append-only
// table saves: b.N writes of 1,000 rows go to the append-only table (each
// followed by a peek of its view, so the view has caught up), then the
// same rows to the ordinary one. The live heap after a GC is read before,
// between and after: the growth per row of each phase is what that table's
// rows cost the process (storage on Pebble, the index, the view's
// operator state), the ordinary table's phase being the baseline.
func BenchmarkAppendOnlyState(b *testing.B) {
	for _, v := range appendOnlyViews {
		b.Run(v.name, func(b *testing.B) {
			c, ctx := appendOnlyNode(b, v.plan, v.key)
			const batch = 1000
			var heap [3]uint64
			heap[0] = liveHeap()
			b.ResetTimer()
			for k, table := range []string{"bids_ao", "bids"} {
				var id, maxPrice int64
				for i := 0; i < b.N; i++ {
					if _, err := c.Insert(ctx, table, bidRows(&id, &maxPrice, batch)...); err != nil {
						b.Fatal(err)
					}
					if res, err := c.Peek(ctx, table+"_v"); err != nil || len(res.Rows) != v.rows {
						b.Fatalf("peek %s_v: %v %v", table, res, err)
					}
				}
				heap[k+1] = liveHeap()
			}
			b.StopTimer()
			n := float64(b.N * batch)
			ao, general := float64(heap[1])-float64(heap[0]), float64(heap[2])-float64(heap[1])
			b.ReportMetric(ao/n, "appendonly-heap-B/row")
			b.ReportMetric(general/n, "general-heap-B/row")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// liveHeap returns the bytes of live heap objects after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// appendOnlyViews are the views the append-only benchmarks index: a max
// per key (10 keys; over an append-only input the Reduce keeps each key's
// output row, else it arranges every row) and a global top 10 (over an
// append-only input the TopK keeps its window, else every row).
var appendOnlyViews = []struct {
	name string
	plan func(table string) *client.Plan
	key  []string
	// rows the peek returns and the column holding the price
	rows, price int
}{
	{"max-per-key", func(t string) *client.Plan { return client.Get(t).Reduce([]string{"auction"}, client.Max("price")) }, []string{"auction"}, 10, 1},
	{"top10", top10, []string{"id"}, 10, 2},
}

// appendOnlyNode starts a node with compute and two tables of bids,
// "bids_ao" append-only and "bids" not, each with the view plan(table)
// as "<table>_v" indexed by key, and a client.
func appendOnlyNode(b *testing.B, plan func(string) *client.Plan, key []string) (*client.Client, context.Context) {
	b.Helper()
	sys, _ := testkit.NewRemoteSystem(b)
	environmenttest.Start(b, sys, b.TempDir(), environmenttest.Options{Compute: true})
	ctx := context.Background()
	c, err := client.Dial(ctx, sys.Address())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	cols := []client.Column{{Name: "id", Type: client.Int64}, {Name: "auction", Type: client.Int64}, {Name: "price", Type: client.Int64}}
	for _, name := range []string{"bids_ao", "bids"} {
		if _, err := c.CreateTable(ctx, client.TableSpec{Name: name, Columns: cols, AppendOnly: name == "bids_ao"}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.CreateView(ctx, name+"_v", plan(name)); err != nil {
			b.Fatal(err)
		}
		if _, err := c.CreateIndex(ctx, name+"_v_idx", name+"_v", key, ""); err != nil {
			b.Fatal(err)
		}
	}
	return c, ctx
}

// bidRows returns n new bids after *id, with a price that rises slowly
// with noise (the top moves now and then), and keeps *maxPrice.
func bidRows(id, maxPrice *int64, n int) []client.Row {
	rows := make([]client.Row, n)
	for j := range rows {
		*id++
		price := *id/7 + (*id*7919)%1000
		*maxPrice = max(*maxPrice, price)
		rows[j] = client.Row{*id, *id % 10, price}
	}
	return rows
}

package runtime_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// BenchmarkReadMaterializedView measures how fast an index over
// materialized view perCustomer (an aggregate of orders) follows writes
// to orders when it reads the view's storage collection (the view's sink
// appends, the index reads the appends), beside the same index computed by
// recomputing the view from orders (the plan inlined, as the environment
// did before), in the same run and on the same workload:
//
//	go test ./actors/replica/runtime -run '^$' -bench ReadMaterializedView -benchtime 2x
//
// rows/s is orders rows written per second until the index's frontier
// passed the last write, reading the collection; recompute-rows/s the
// same with the view recomputed.
func BenchmarkReadMaterializedView(b *testing.B) {
	_, batches := benchData()
	total := float64(benchWrites * benchRowsPerWrite)
	mv := perCustomerPlan()
	run := func(b *testing.B, fromCollection bool) time.Duration {
		b.Helper()
		h := newHarness(b, options{workers: 2})
		defer h.stopAll()
		h.createTable(orders, ordersSchema)
		h.createTable(customers, customersSchema)
		h.createCollection(perCustomer, mv, tableSrc(h, orders))
		h.mustInstall(perCustomer, mv, true, tableSrc(h, orders))
		h.send(allowWrites(perCustomer))
		if fromCollection {
			in := tableSrc(h, perCustomer)
			require.NoError(b, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
		} else {
			inlined := filterP(mv, binE(opGt, colE(2), litE(dataflow.Int64(1))))
			h.mustInstall(overMV, inlined, false, tableSrc(h, orders))
		}
		start := time.Now()
		futures := make([]*actor.Future, len(batches))
		for j, rows := range batches {
			futures[j] = h.sys.Root.RequestFuture(h.storage, writeMsg(orders, rows), wait)
		}
		var last timely.Timestamp
		for _, f := range futures {
			res, err := f.Result()
			require.NoError(b, err)
			last = max(last, timely.Timestamp(res.(*messages.StorageWriteResponse).GetTimestamp()))
		}
		testkitWaitFrontier(h, overMV, last)
		return time.Since(start)
	}
	var collection, recompute time.Duration
	for i := 0; i < b.N; i++ {
		collection += run(b, true)
		b.StopTimer()
		recompute += run(b, false)
		b.StartTimer()
	}
	b.ReportMetric(total*float64(b.N)/collection.Seconds(), "rows/s")
	b.ReportMetric(total*float64(b.N)/recompute.Seconds(), "recompute-rows/s")
}

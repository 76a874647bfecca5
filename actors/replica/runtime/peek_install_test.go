package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// TestPeekRightAfterInstall: a peek sent right behind the CreateDataflow
// and Schedule of its index, while the coordinator is busy backfilling
// another flow, waits until the flow is registered with the pool and is
// answered with the index's rows, never with the pool's "unknown flow".
// (The coordinator accepts an install before the pool has registered the
// flow; a peek dispatched on the acceptance could overtake the
// registration.)
func TestPeekRightAfterInstall(t *testing.T) {
	h := newHarness(t, options{workers: 2, chunk: 50})
	h.createTable(orders, ordersSchema)
	var last timely.Timestamp
	for i := 0; i < 1000; i++ {
		last = h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(int64(i)), dataflow.Int64(int64(i % 7)), dataflow.Int64(int64(i % 100))}, diff: 1})
	}
	for round := 0; round < 5; round++ {
		busy := timely.UserId(uint64(40 + 2*round))
		id := timely.UserId(uint64(41 + 2*round))
		// A flow whose chunked backfill keeps the coordinator busy.
		h.createAndSchedule(dataflowOf(busy, reduceP(getP(orders), []int{1}, agg(sumW, 2)), false, 0, tableSrc(h, orders)))
		plan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(int64(90+round)))))
		h.createAndSchedule(dataflowOf(id, plan, false, 0, tableSrc(h, orders)))
		h.record(id, plan, tableSrc(h, orders))
		rows, err := h.peek(id, last)
		require.NoError(t, err, "round %d", round)
		require.Equal(t, rowStrings(h.oracle(id, last)), rowStrings(sortRows(rows)), "round %d", round)
	}
}

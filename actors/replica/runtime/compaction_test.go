package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestReadHoldBoundsCompaction: with storage keeping no history beyond
// read holds, the runtime's hold lets a table compact up to the least
// as_of (and checkpoint) of its flows and no further; the flows stay
// exact, and a flow installed later at the since backfills from compacted
// history correctly.
func TestReadHoldBoundsCompaction(t *testing.T) {
	h := newHarness(t, options{workers: 2, compact: true})
	h.createTable(orders, ordersSchema)
	frontiers := func() (since, upper timely.Timestamp) {
		res := h.request(h.storage, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(orders)}}).(*messages.StorageFrontiersResponse)
		require.Nil(t, res.GetError())
		s, err := res.GetTables()[0].GetSince().ToTimely()
		require.NoError(t, err)
		u, err := res.GetTables()[0].GetUpper().ToTimely()
		require.NoError(t, err)
		st, _ := s.Time()
		ut, _ := u.Time()
		return st, ut
	}
	// A flow pins the history from the current upper on.
	_, pin := frontiers()
	pinned := timely.UserId(30)
	require.NoError(t, h.install(pinned, getP(orders), false, pin, tableSrc(h, orders)))
	var ts []timely.Timestamp
	for i := int64(0); i < 10; i++ {
		ts = append(ts, h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(i), dataflow.Int64(i % 2), dataflow.Int64(i * 20)}, diff: 1}))
	}
	h.waitFrontier(pinned, ts[9])
	asOf := ts[4]
	require.NoError(t, h.install(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, asOf, tableSrc(h, orders)))
	h.waitFrontier(bigOrders, ts[9])
	since, _ := frontiers()
	require.LessOrEqual(t, since, pin, "the pinning flow holds the since")

	// Dropping the pin lets the since advance to the other flow's as_of,
	// and no further.
	h.drop(pinned)
	ts = append(ts, h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(10), dataflow.Int64(0), dataflow.Int64(70)}, diff: 1}))
	h.waitFrontier(bigOrders, ts[10])
	testkit.Eventually(t, func() bool { s, _ := frontiers(); return s == asOf }, wait, "since at the flow's as_of %d", asOf)
	for _, at := range ts[4:] {
		h.checkAt(bigOrders, at)
	}
	_, err := h.peek(bigOrders, ts[3])
	require.ErrorContains(t, err, "since")

	// Without flows the hold follows the consumed upper; a flow installed
	// at the new since backfills from the compacted history.
	h.drop(bigOrders)
	last := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(99), dataflow.Int64(1), dataflow.Int64(99)}, diff: 1})
	testkit.Eventually(t, func() bool { s, _ := frontiers(); return s > asOf }, wait, "since advanced after the drop")
	s, _ := frontiers()
	require.NoError(t, h.install(perCustomer, reduceP(getP(orders), []int{1}, agg(sumW, 2), agg(cntW, -1)), true, s, tableSrc(h, orders)))
	h.waitFrontier(perCustomer, last)
	h.checkAt(perCustomer, last)
}

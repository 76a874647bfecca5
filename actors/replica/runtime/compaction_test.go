package runtime_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
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
	frontiers := func() (since, upper timely.Timestamp) { return h.tableFrontiers(orders) }
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
	require.NoError(t, h.install(perCustomer, perCustomerPlan(), true, s, tableSrc(h, orders)))
	h.waitFrontier(perCustomer, last)
	h.checkAt(perCustomer, last)
}

// tableFrontiers returns a table's since and upper from storage.
func (h *harness) tableFrontiers(id timely.GlobalId) (since, upper timely.Timestamp) {
	res := h.request(h.storage, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}}).(*messages.StorageFrontiersResponse)
	require.Nil(h.t, res.GetError())
	s, err := res.GetTables()[0].GetSince().ToTimely()
	require.NoError(h.t, err)
	u, err := res.GetTables()[0].GetUpper().ToTimely()
	require.NoError(h.t, err)
	since, _ = s.Time()
	upper, _ = u.Time()
	return since, upper
}

// TestReadHoldSurvivesRestart: the runtime's named read hold on storage
// outlives a restart of the runtime actor. With storage keeping no
// history beyond read holds, a flow compacted to t pins the since at t;
// the coordinator fails, the runtime restarts empty, writes go on while
// no flow runs, and the since stays at t (the CDC subscription's hold
// ended with the old incarnation). The controller reconnects and replays
// the flow at t: it continues from its committed checkpoint and is exact
// at every time from t on.
func TestReadHoldSurvivesRestart(t *testing.T) {
	h := newHarness(t, options{workers: 1, compact: true})
	h.createTable(orders, ordersSchema)
	_, pin := h.tableFrontiers(orders)
	require.NoError(t, h.install(bigOrders, getP(orders), false, pin, tableSrc(h, orders)))
	var ts []timely.Timestamp
	row := func(i int64) change {
		return change{table: orders, row: dataflow.Row{dataflow.Int64(i), dataflow.Int64(i % 3), dataflow.Int64(i * 7)}, diff: 1}
	}
	for i := int64(0); i < 10; i++ {
		ts = append(ts, h.mustWrite(row(i)))
	}
	h.waitFrontier(bigOrders, ts[9])
	h.send(allowCompaction(bigOrders, timely.At(ts[5])))
	testkit.Eventually(t, func() bool { s, _ := h.tableFrontiers(orders); return s == ts[5] }, wait, "since at the compaction frontier %d", ts[5])
	_, err := h.peek(bigOrders, ts[4])
	require.True(t, errors.Is(err, messages.ErrCompacted), "peek below the compaction frontier: %v", err)

	coord := actor.NewPID(h.runtime.Address, h.runtime.Id+"/coordinator")
	h.sys.Root.Send(coord, &pool.TickReply{}) // no tick is in flight: illegal
	testkit.Eventually(t, func() bool {
		for _, e := range h.events.errs() {
			if strings.Contains(e, "restarted") {
				return true
			}
		}
		return false
	}, wait, "runtime restart reported")
	for i := int64(10); i < 15; i++ {
		ts = append(ts, h.mustWrite(row(i)))
	}
	since, _ := h.tableFrontiers(orders)
	require.Equal(t, ts[5], since, "the read hold survived the restart")

	h.connect(func() { require.NoError(t, h.install(bigOrders, getP(orders), false, ts[5], tableSrc(h, orders))) })
	ts = append(ts, h.mustWrite(row(15)))
	h.waitFrontier(bigOrders, ts[len(ts)-1])
	for _, at := range ts[5:] {
		h.checkAt(bigOrders, at)
	}
	since, _ = h.tableFrontiers(orders)
	require.Equal(t, ts[5], since, "the replayed flow holds its as_of")
}

// TestRuntimeHoldSparesUnrelatedCollection: the runtime's main read hold
// and CDC subscription cover the tables only. A flow over tables pins
// their since at its compaction frontier, while a storage collection that
// no flow of the runtime reads (another cluster's materialized view)
// compacts to its own latest complete time.
func TestRuntimeHoldSparesUnrelatedCollection(t *testing.T) {
	h := newHarness(t, options{workers: 1, compact: true})
	h.foreignPerCustomer() // no flow of this runtime reads it
	_, pin := h.tableFrontiers(orders)
	require.NoError(t, h.install(bigOrders, getP(orders), false, pin, tableSrc(h, orders)))
	r := rand.New(rand.NewSource(15))
	var id int64
	ts := workload(h, r, 5, &id)
	last := ts[len(ts)-1]
	h.waitFrontier(bigOrders, last)
	h.send(allowCompaction(bigOrders, timely.At(ts[1])))

	appendView(h, perCustomer, 0, ts)
	// Storage compacts when a hold is released: a probe takes and releases
	// one, so compaction runs now rather than at storage's next tick.
	poker := testkit.NewProbe(t, h.sys)
	poke := func() {
		_, up := h.tableFrontiers(customers)
		poker.Send(h.storage, &messages.StorageAcquireReadHold{HoldId: "poke", Tables: []*messages.GlobalId{messages.FromGlobalId(customers)}, At: uint64(up)})
		require.Nil(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](poker, wait).GetError())
		poker.Send(h.storage, &messages.StorageReleaseReadHold{HoldId: "poke"})
		require.Nil(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](poker, wait).GetError())
	}
	testkit.Eventually(t, func() bool { poke(); s, _ := h.tableFrontiers(orders); return s == ts[1] }, wait, "tables held at the flow's compaction frontier %d", ts[1])
	testkit.Eventually(t, func() bool {
		poke()
		s, _ := h.tableFrontiers(perCustomer)
		return s == last
	}, wait, "the unread collection compacts to its last complete time %d, not to the runtime's hold %d", last, ts[1])
}

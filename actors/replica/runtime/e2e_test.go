package runtime_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// Flows of the end-to-end tests.
var (
	bigOrders   = timely.UserId(10) // filter: amount > 50 (index)
	perCustomer = timely.UserId(11) // reduce: customer, sum(amount), count (materialized)
	withNames   = timely.UserId(12) // join orders ⋈ customers (index)
	bigSpenders = timely.UserId(13) // filter over the view perCustomer: sum > 100 (index)
)

func installAll(h *harness) {
	h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	h.mustInstall(perCustomer, perCustomerPlan(), true, tableSrc(h, orders))
	h.mustInstall(withNames, joinP(getP(orders), getP(customers), 1, 0), false, tableSrc(h, orders), tableSrc(h, customers))
	h.mustInstall(bigSpenders, filterP(getP(perCustomer), binE(opGt, colE(1), litE(dataflow.Int64(100)))), false, viewSrc(h, perCustomer))
}

var allFlows = []timely.GlobalId{bigOrders, perCustomer, withNames, bigSpenders}

// workload writes n transactions of random inserts and deletes to orders
// (and now and then customers); it returns the commit timestamps.
func workload(h *harness, r *rand.Rand, n int, nextId *int64) []timely.Timestamp {
	var live []dataflow.Row
	var ts []timely.Timestamp
	for i := 0; i < n; i++ {
		var cs []change
		for k := 0; k < 1+r.Intn(3); k++ {
			if len(live) > 0 && r.Intn(4) == 0 {
				j := r.Intn(len(live))
				cs = append(cs, change{table: orders, row: live[j], diff: -1})
				live = append(live[:j], live[j+1:]...)
				continue
			}
			*nextId++
			row := dataflow.Row{dataflow.Int64(*nextId), dataflow.Int64(int64(r.Intn(8))), dataflow.Int64(int64(r.Intn(100)))}
			live = append(live, row)
			cs = append(cs, change{table: orders, row: row, diff: 1})
		}
		if r.Intn(10) == 0 {
			*nextId++
			c := *nextId % 8
			cs = append(cs, change{table: customers, row: dataflow.Row{dataflow.Int64(c), dataflow.String("c")}, diff: 1})
		}
		ts = append(ts, h.mustWrite(cs...))
	}
	return ts
}

func checkAll(h *harness, ts []timely.Timestamp, every int) {
	last := ts[len(ts)-1]
	for _, id := range allFlows {
		h.waitFrontier(id, last)
	}
	for i := 0; i < len(ts); i += every {
		for _, id := range allFlows {
			h.checkAt(id, ts[i])
		}
	}
	for _, id := range allFlows {
		h.checkAt(id, last)
	}
}

// TestEndToEnd writes in many transactions to tables read by a filter, a
// reduce, a join and a view over a view, and checks every index against
// the from-scratch oracle at every timestamp; several seeds and pool sizes.
// A failure names its seed: rerun with -run 'TestEndToEnd/seed=N'.
func TestEndToEnd(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			h := newHarness(t, options{workers: int(seed)})
			h.createTable(orders, ordersSchema)
			h.createTable(customers, customersSchema)
			installAll(h)
			var id int64
			ts := workload(h, rand.New(rand.NewSource(seed)), 150, &id)
			checkAll(h, ts, 1)
			require.Empty(t, h.events.errs())
			checkMetrics(t, h)
		})
	}
}

func checkMetrics(t *testing.T, h *harness) {
	// Metrics: every flow active, changes routed, no checkpoint lag once
	// everything is consumed and committed.
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_flows", "active") == float64(len(allFlows)) &&
			counterValue(t, h.reg, "arbor_coordinator_flows", "backfilling") == 0
	}, wait, "every flow active")
	require.Positive(t, counterValue(t, h.reg, "arbor_coordinator_changes_routed_total", "consume"))
	require.Positive(t, counterValue(t, h.reg, "arbor_coordinator_batches_total", "consume"))
	require.Zero(t, counterValue(t, h.reg, "arbor_pool_worker_restarts_total", ""))
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_checkpoint_lag", "") == 0
	}, wait, "checkpoint lag back to zero")
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	require.Zero(t, h.events.regressions, "write frontiers never regress")
}

// TestTickSchedule: a flow with a tick interval is ticked on the
// runtime's clock.
func TestTickSchedule(t *testing.T) {
	clk := testkit.NewManualClock()
	h := newHarness(t, options{workers: 1, clock: clk, tick: 100 * time.Millisecond})
	h.createTable(orders, ordersSchema)
	h.mustInstall(bigOrders, getP(orders), false, tableSrc(h, orders))
	testkitHydrated(t, h, bigOrders)
	require.True(t, clk.WaitForTimers(1, wait))
	clk.Advance(100 * time.Millisecond)
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_flow_ticks_total", "") >= 1
	}, wait, "flow ticked")
}

// TestBackfillInChunks installs a flow after 10,000 versions: it backfills
// in chunks of the configured size and then matches the oracle.
func TestBackfillInChunks(t *testing.T) {
	const versions = 10000
	h := newHarness(t, options{workers: 2, chunk: 1000})
	h.createTable(orders, ordersSchema)
	var ts []timely.Timestamp
	for i := 0; i < versions; i++ {
		ts = append(ts, h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(int64(i)), dataflow.Int64(int64(i % 7)), dataflow.Int64(int64(i % 100))}, diff: 1}))
	}
	h.mustInstall(perCustomer, perCustomerPlan(), true, tableSrc(h, orders))
	h.waitFrontier(perCustomer, ts[len(ts)-1])
	chunks := counterValue(t, h.reg, "arbor_coordinator_batches_total", "backfill")
	require.GreaterOrEqual(t, chunks, float64(versions/1000), "backfill rounds")
	for _, i := range []int{0, 999, 1000, 4321, 9998, 9999} {
		h.checkAt(perCustomer, ts[i])
	}
	// Caught up: new writes flow through Consume.
	last := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(-1), dataflow.Int64(3), dataflow.Int64(5)}, diff: 1})
	h.waitFrontier(perCustomer, last)
	h.checkAt(perCustomer, last)
	testkitHydrated(t, h, perCustomer)
}

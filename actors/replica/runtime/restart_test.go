package runtime_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/timely"
)

// TestMaterializedViewSurvivesRestart runs a materialized view and a flow
// over it on Pebble, restarts the node (storage, runtime, output shard),
// reinstalls the flows, writes more, and checks that the view's committed
// output equals the oracle at every timestamp: no duplicate, no lost row.
func TestMaterializedViewSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() persistence.Store {
		s, err := pebble.Open(dir)
		require.NoError(t, err)
		return s
	}
	h := newHarness(t, options{workers: 2, store: open()})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	install := func() {
		h.mustInstall(perCustomer, perCustomerPlan(), true, tableSrc(h, orders))
		h.mustInstall(bigSpenders, filterP(getP(perCustomer), binE(opGt, colE(1), litE(dataflow.Int64(100)))), false, viewSrc(h, perCustomer))
	}
	install()
	r := rand.New(rand.NewSource(4))
	var id int64
	before := workload(h, r, 40, &id)
	h.waitFrontier(perCustomer, before[len(before)-1])
	h.waitFrontier(bigSpenders, before[len(before)-1])

	h.restart(open)
	install()
	// Written while the flows restore: part backfill, part Consume.
	after := workload(h, r, 40, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last := all[len(all)-1]
	h.waitFrontier(perCustomer, last)
	h.waitFrontier(bigSpenders, last)
	for i := 0; i < len(all); i += 4 {
		h.checkAt(perCustomer, all[i])
		h.checkAt(bigSpenders, all[i])
	}
	h.checkAt(perCustomer, last)
	checkOutputShard(t, h, perCustomer, all)
}

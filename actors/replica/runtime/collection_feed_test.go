package runtime_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// overMV is an index over the collection of materialized view perCustomer:
// the customers whose orders count more than one.
var overMV = timely.UserId(40)

func overMVPlan() *messages.Plan {
	return filterP(getP(perCustomer), binE(opGt, colE(2), litE(dataflow.Int64(1))))
}

// collectionImport describes a one-object dataflow whose sources are
// storage collections (collection set on each import).
func collectionImport(export timely.GlobalId, plan *messages.Plan, sources ...src) *messages.ComputeDataflowDescription {
	d := dataflowOf(export, plan, false, 0, sources...)
	for _, s := range d.SourceImports {
		s.Collection = true
	}
	return d
}

// TestFlowReadsMaterializedViewCollection: one runtime computes
// materialized view perCustomer (its sink appends to its storage
// collection) and an index over that collection, imported as a storage
// collection. The index waits for the collection's appends, which wait for
// the view's flow: nothing waits in a circle, and at every closed time the
// index equals the oracle. After a node restart (Pebble reopened) both
// continue from their checkpoints, the reader through its carried read
// hold, with no update doubled or lost.
func TestFlowReadsMaterializedViewCollection(t *testing.T) {
	dir := t.TempDir()
	open := func() persistence.Store {
		s, err := pebble.Open(dir)
		require.NoError(t, err)
		return s
	}
	h := newHarness(t, options{workers: 2, store: open()})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	mv := perCustomerPlan()
	h.createCollection(perCustomer, mv, tableSrc(h, orders))
	install := func() {
		h.mustInstall(perCustomer, mv, true, tableSrc(h, orders))
		h.send(allowWrites(perCustomer))
		in := tableSrc(h, perCustomer)
		require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
	}
	install()
	r := rand.New(rand.NewSource(11))
	var id int64
	before := workload(h, r, 25, &id)
	last := before[len(before)-1]
	h.waitCollection(perCustomer, last)
	h.waitFrontier(overMV, last)
	for _, ts := range before {
		h.checkAt(overMV, ts)
	}

	h.restart(open)
	install()
	after := workload(h, r, 25, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last = all[len(all)-1]
	h.waitCollection(perCustomer, last)
	h.waitFrontier(overMV, last)
	h.checkCollection(perCustomer, all)
	for _, ts := range after {
		h.checkAt(overMV, ts)
	}
}

// TestFlowReadsCollectionAlone: a flow over a storage collection another
// cluster writes (here: the test appends) follows the collection's own
// upper, not the tables'; a flow over tables on the same runtime does not
// wait for the collection.
func TestFlowReadsCollectionAlone(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	// perCustomer is not computed here: the test stands for its cluster.
	h.foreignPerCustomer()
	in := tableSrc(h, perCustomer)
	require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
	h.mustInstall(bigOrders, getP(orders), false, tableSrc(h, orders))

	r := rand.New(rand.NewSource(12))
	var id int64
	ts := workload(h, r, 10, &id)
	last := ts[len(ts)-1]
	// The tables' flow advances while the collection has nothing.
	h.waitFrontier(bigOrders, last)
	require.Equal(t, timely.Timestamp(0), h.events.frontier(overMV))

	// "The other cluster" appends the view's changes up to last+1.
	appendView(h, perCustomer, 0, ts)
	h.waitFrontier(overMV, last)
	for _, at := range ts {
		h.checkAt(overMV, at)
	}
}

// TestCollectionImportBadInput: an import naming an unknown collection, a
// collection whose schema differs from the import's, a table imported as
// a collection and a collection imported as a table are each refused whole
// with a coded error naming the collection.
func TestCollectionImportBadInput(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.foreignPerCustomer()

	refused := func(t *testing.T, d *messages.ComputeDataflowDescription, export timely.GlobalId, plan *messages.Plan, want error, contains ...string) {
		t.Helper()
		h.events.forget(export)
		h.createAndSchedule(d)
		var err error
		require.Eventually(t, func() bool { e, done := h.events.outcome(export); err = e; return done }, wait, time.Millisecond, "outcome of %s", export)
		require.Error(t, err)
		require.True(t, errors.Is(err, want), "%v is not %v", err, want)
		for _, c := range contains {
			require.ErrorContains(t, err, c)
		}
	}
	t.Run("unknown collection", func(t *testing.T) {
		missing := timely.UserId(77)
		d := collectionImport(timely.UserId(60), getP(missing), src{id: missing, schema: ordersSchema})
		refused(t, d, timely.UserId(60), getP(missing), messages.ErrInvalidArgument, "u77", "does not exist")
	})
	t.Run("schema differs", func(t *testing.T) {
		wrong := src{id: perCustomer, schema: ordersSchema}
		d := collectionImport(timely.UserId(61), getP(perCustomer), wrong)
		refused(t, d, timely.UserId(61), getP(perCustomer), messages.ErrInvalidArgument, "u11", "schema")
	})
	t.Run("a table imported as a collection", func(t *testing.T) {
		d := collectionImport(timely.UserId(62), getP(orders), tableSrc(h, orders))
		refused(t, d, timely.UserId(62), getP(orders), messages.ErrInvalidArgument, "u1", "is a table")
	})
	t.Run("a collection imported as a table", func(t *testing.T) {
		d := dataflowOf(timely.UserId(63), getP(perCustomer), false, 0, tableSrc(h, perCustomer))
		refused(t, d, timely.UserId(63), getP(perCustomer), messages.ErrInvalidArgument, "u11", "storage collection")
	})
	// The runtime still works: a good import installs.
	in := tableSrc(h, perCustomer)
	require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
}

// appendView appends to collection id (standing for the cluster that
// computes view id) the view's changes at the times ts, as [from,
// last(ts)+1), computed from the oracle.
func appendView(h *harness, id timely.GlobalId, from timely.Timestamp, ts []timely.Timestamp) {
	h.t.Helper()
	var ups []*messages.StorageUpdate
	prev := map[string]dataflow.Row{}
	if from > 0 {
		for _, row := range h.oracle(id, from-1) {
			prev[row.String()] = row
		}
	}
	for _, at := range ts {
		cur := map[string]dataflow.Row{}
		for _, row := range h.oracle(id, at) {
			cur[row.String()] = row
		}
		for k, row := range prev {
			if _, ok := cur[k]; !ok {
				ups = append(ups, &messages.StorageUpdate{Row: dataflow.RowToWire(row), Time: uint64(at), Diff: -1})
			}
		}
		for k, row := range cur {
			if _, ok := prev[k]; !ok {
				ups = append(ups, &messages.StorageUpdate{Row: dataflow.RowToWire(row), Time: uint64(at), Diff: 1})
			}
		}
		prev = cur
	}
	last := ts[len(ts)-1]
	res := h.request(h.storage, &messages.StorageAppend{Collection: messages.FromGlobalId(id), ExpectedUpper: uint64(from), NewUpper: uint64(last + 1), Updates: ups}).(*messages.StorageAppendResponse)
	require.Nil(h.t, res.GetError())
}

// TestImportedCollectionDropped: when storage drops a collection a flow
// reads, the runtime reports a status error for that flow with code
// DROPPED naming the collection; the flow keeps what it had.
func TestImportedCollectionDropped(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.foreignPerCustomer()
	in := tableSrc(h, perCustomer)
	require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
	r := rand.New(rand.NewSource(13))
	var id int64
	ts := workload(h, r, 5, &id)
	appendView(h, perCustomer, 0, ts)
	last := ts[len(ts)-1]
	h.waitFrontier(overMV, last)

	res := h.request(h.storage, &messages.StorageDropTable{Table: messages.FromGlobalId(perCustomer)}).(*messages.StorageDropTableResponse)
	require.Nil(t, res.GetError())
	var err error
	require.Eventually(t, func() bool { e, done := h.events.outcome(overMV); err = e; return done && e != nil }, wait, time.Millisecond, "a status error for %s", overMV)
	require.True(t, errors.Is(err, messages.ErrDropped), "%v is not DROPPED", err)
	require.ErrorContains(t, err, perCustomer.String())
	h.checkAt(overMV, last)
}

// TestImportHoldBoundsCollectionCompaction: with storage keeping no
// history beyond read holds, a flow over a storage collection holds the
// collection at what it needs (its as_of advanced by AllowCompaction, and
// its checkpoint): the collection's since stays there while the collection
// moves on, across a restart of the runtime actor (the hold is carried),
// and moves on once the flow is dropped. The flow stays exact throughout.
func TestImportHoldBoundsCollectionCompaction(t *testing.T) {
	h := newHarness(t, options{workers: 1, compact: true})
	h.foreignPerCustomer()
	in := tableSrc(h, perCustomer)
	install := func() {
		require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
	}
	install()
	r := rand.New(rand.NewSource(14))
	var id int64
	ts1 := workload(h, r, 5, &id)
	appendView(h, perCustomer, 0, ts1)
	pin := ts1[len(ts1)-1]
	h.waitFrontier(overMV, pin)
	h.send(allowCompaction(overMV, timely.At(pin)))

	ts2 := workload(h, r, 5, &id)
	appendView(h, perCustomer, pin+1, ts2)
	last := ts2[len(ts2)-1]
	h.waitFrontier(overMV, last)
	h.mustWrite(change{table: customers, row: dataflow.Row{dataflow.Int64(1000), dataflow.String("z")}, diff: 1}) // compaction runs after commits
	testkit.Eventually(t, func() bool { s, _ := h.tableFrontiers(perCustomer); return s == pin }, wait, "collection since at the flow's compaction frontier %d", pin)
	for _, at := range ts2 {
		h.checkAt(overMV, at)
	}

	// The runtime actor restarts (its coordinator breaks an invariant);
	// the carried hold keeps the collection at pin until the flow is back.
	coord := actor.NewPID(h.runtime.Address, h.runtime.Id+"/coordinator")
	h.sys.Root.Send(coord, &pool.TickReply{})
	testkit.Eventually(t, func() bool {
		for _, e := range h.events.errs() {
			if strings.Contains(e, "restarted") {
				return true
			}
		}
		return false
	}, wait, "runtime restart reported")
	h.mustWrite(change{table: customers, row: dataflow.Row{dataflow.Int64(1001), dataflow.String("y")}, diff: 1})
	if s, _ := h.tableFrontiers(perCustomer); s > pin {
		t.Fatalf("the collection compacted to %d past the flow's need %d while the runtime restarted", s, pin)
	}
	h.connect(func() {
		install()
		h.send(allowCompaction(overMV, timely.At(pin)))
	})
	ts3 := workload(h, r, 5, &id)
	appendView(h, perCustomer, last+1, ts3)
	last = ts3[len(ts3)-1]
	h.waitFrontier(overMV, last)
	for _, at := range append(ts2, ts3...) {
		h.checkAt(overMV, at)
	}

	// Dropped, the flow holds nothing: the collection compacts.
	h.drop(overMV)
	testkit.Eventually(t, func() bool {
		h.mustWrite(change{table: customers, row: dataflow.Row{dataflow.Int64(int64(2000 + r.Intn(1000))), dataflow.String("x")}, diff: 1})
		s, _ := h.tableFrontiers(perCustomer)
		return s == last
	}, wait, "collection since at its last complete time %d once no flow reads it", last)
}

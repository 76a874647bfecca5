package runtime_test

import (
	"crypto/rand"
	"errors"
	mrand "math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestReconcileOnReconnect: a controller reconnects with a newer epoch
// and replays. A dataflow replayed with the same description is kept (not
// installed again), one replayed with another plan is rebuilt, one not
// replayed is dropped at InitializationComplete; responses carry the new
// epoch, and every index still answers like the oracle.
func TestReconcileOnReconnect(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	bigPlan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50))))
	h.mustInstall(bigOrders, bigPlan, false, tableSrc(h, orders))
	h.mustInstall(withNames, joinP(getP(orders), getP(customers), 1, 0), false, tableSrc(h, orders), tableSrc(h, customers))
	h.mustInstall(perCustomer, perCustomerPlan(), true, tableSrc(h, orders))
	var id int64
	r := mrand.New(mrand.NewSource(7))
	ts := workload(h, r, 20, &id)
	last := ts[len(ts)-1]
	for _, f := range []timely.GlobalId{bigOrders, withNames, perCustomer} {
		h.waitFrontier(f, last)
	}

	otherPlan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(90))))
	h.events.forget(bigOrders)
	h.connect(func() {
		// Kept: the same description.
		h.createAndSchedule(dataflowOf(bigOrders, bigPlan, false, 0, tableSrc(h, orders)))
		// Rebuilt: the same export with another plan.
		require.NoError(t, h.install(withNames, otherPlan, false, 0, tableSrc(h, orders)))
		// perCustomer is not replayed: dropped.
	})
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_runtime_reconcile_dataflows_total", "dropped") == 1
	}, wait, "reconciliation done")
	require.EqualValues(t, 1, counterValue(t, h.reg, "arbor_runtime_reconcile_dataflows_total", "kept"))
	require.EqualValues(t, 1, counterValue(t, h.reg, "arbor_runtime_reconcile_dataflows_total", "rebuilt"))
	_, accepted := h.events.outcome(bigOrders)
	require.False(t, accepted, "a kept dataflow is not installed again")

	more := workload(h, r, 10, &id)
	last = more[len(more)-1]
	h.waitFrontier(bigOrders, last)
	h.waitFrontier(withNames, last)
	h.checkAt(bigOrders, ts[0])
	h.checkAt(bigOrders, last)
	h.checkAt(withNames, last)
	_, err := h.peek(perCustomer, last)
	require.True(t, errors.Is(err, messages.ErrNotFound), "peek of a dropped view: %v", err)

	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	require.EqualValues(t, 2, h.events.epochs[len(h.events.epochs)-1].GetIncarnation(), "responses carry the new epoch")
	require.Zero(t, h.events.regressions)
}

// TestStaleAndOutOfStageCommands: a command of an older epoch is counted
// and not answered; one its stage does not accept is answered with a
// coded status error; neither changes anything.
func TestStaleAndOutOfStageCommands(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	old := h.epoch
	h.connect()
	h.sys.Root.Send(h.runtime, cmdAt(old, createDataflow(dataflowOf(bigOrders, getP(orders), false, 0, tableSrc(h, orders)))))
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_runtime_stale_commands_total", "") == 1
	}, wait, "stale command counted")

	h.send(&messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{}})
	testkit.Eventually(t, func() bool {
		for _, e := range h.events.errs() {
			if e == "runtime: command out of stage: create instance in the computation stage" {
				return true
			}
		}
		return false
	}, wait, "out-of-stage answer")
	require.Len(t, h.events.errs(), 1, "the stale command was not answered")

	// The stale CreateDataflow installed nothing.
	_, err := h.peek(bigOrders, 1)
	require.True(t, errors.Is(err, runtime.ErrUnknownCollection), "%v", err)
}

// TestStorageTimeout: storage (a stand-in that drops table checks) does
// not answer a CreateDataflow's check. The runtime keeps answering peeks
// meanwhile; at the deadline the CreateDataflow fails with a TIMEOUT
// error naming it, and the peek that waited for it gets that error too.
func TestStorageTimeout(t *testing.T) {
	clk := testkit.NewManualClock()
	dropChecks := func(m any) bool {
		fr, ok := m.(*messages.StorageFrontiers)
		return ok && len(fr.GetTables()) > 0
	}
	h := newHarness(t, options{workers: 1, clock: clk, drop: dropChecks, storageTimeout: 5 * time.Second})
	h.createTable(orders, ordersSchema)
	h.createAndSchedule(dataflowOf(bigOrders, getP(orders), false, 0, tableSrc(h, orders)))
	waiting := h.peekAsync(indexPeek(bigOrders, 1))

	_, err := h.peek(timely.UserId(77), 1)
	require.True(t, errors.Is(err, messages.ErrNotFound), "the runtime answers while storage is silent: %v", err)
	select {
	case res := <-waiting:
		t.Fatalf("the peek of a dataflow being installed was answered early: %v", res)
	default:
	}

	testkit.Eventually(t, func() bool {
		clk.Advance(5 * time.Second)
		err, done := h.events.outcome(bigOrders)
		return done && err != nil
	}, wait, "install timed out")
	err, _ = h.events.outcome(bigOrders)
	require.True(t, errors.Is(err, messages.ErrTimeout), "%v", err)
	require.ErrorContains(t, err, "u10")
	res := <-waiting
	require.Equal(t, messages.ErrorCode_ERROR_CODE_TIMEOUT, res.GetError().GetCode(), "%v", res)
	require.GreaterOrEqual(t, counterValue(t, h.reg, "arbor_runtime_storage_timeouts_total", ""), 1.0)
}

// TestSubscribe: a subscribe sink streams its changes as batches whose
// bounds follow each other from the as_of on; summed up to any time they
// equal the oracle; a drop ends it with dropped_at at the last upper.
func TestSubscribe(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	var id int64
	r := mrand.New(mrand.NewSource(3))
	before := workload(h, r, 10, &id)
	asOf := before[len(before)-1]
	sub := timely.UserId(40)
	plan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(30))))
	d := &messages.ComputeDataflowDescription{
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(sub), Plan: plan}},
		SinkExports: []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sub), From: messages.FromGlobalId(sub),
			Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}},
		AsOf: messages.FromFrontier(timely.At(asOf)),
	}
	require.NoError(t, h.installDesc(d, sub, plan, tableSrc(h, orders)))
	after := workload(h, r, 20, &id)
	last := after[len(after)-1]
	h.waitFrontier(sub, last)
	testkit.Eventually(t, func() bool {
		h.events.mu.Lock()
		defer h.events.mu.Unlock()
		rs := h.events.subs[sub]
		if len(rs) == 0 {
			return false
		}
		u, _ := frontierOf(rs[len(rs)-1].GetBatch().GetUpper())
		return u > last
	}, wait, "subscribe caught up")
	h.drop(sub)
	testkit.Eventually(t, func() bool {
		h.events.mu.Lock()
		defer h.events.mu.Unlock()
		rs := h.events.subs[sub]
		return rs[len(rs)-1].GetDroppedAt() != nil && h.events.closed[sub]
	}, wait, "subscribe dropped, its write frontier empty")

	h.events.mu.Lock()
	rs := append([]*messages.ComputeSubscribeResponse(nil), h.events.subs[sub]...)
	h.events.mu.Unlock()
	var updates []*messages.ComputeUpdate
	next := asOf
	for _, r := range rs[:len(rs)-1] {
		b := r.GetBatch()
		require.NotNil(t, b, "only the last response is dropped_at")
		lo, _ := frontierOf(b.GetLower())
		hi, _ := frontierOf(b.GetUpper())
		require.Equal(t, next, lo, "batches follow each other")
		require.Greater(t, hi, lo)
		require.Nil(t, b.GetError())
		for _, u := range b.GetUpdates().GetUpdates() {
			require.True(t, u.GetTime() >= uint64(lo) && u.GetTime() < uint64(hi), "update at %d outside [%d, %d)", u.GetTime(), lo, hi)
		}
		updates = append(updates, b.GetUpdates().GetUpdates()...)
		next = hi
	}
	dropped, _ := frontierOf(rs[len(rs)-1].GetDroppedAt())
	require.Equal(t, next, dropped)
	for _, at := range append([]timely.Timestamp{asOf}, after...) {
		counts := map[string]int64{}
		for _, u := range updates {
			if u.GetTime() <= uint64(at) {
				row, err := dataflow.RowFromWire(u.GetRow())
				require.NoError(t, err)
				counts[row.String()] += u.GetDiff()
			}
		}
		for k, v := range counts {
			if v == 0 {
				delete(counts, k)
			}
		}
		want := map[string]int64{}
		for _, row := range h.oracle(sub, at) {
			want[row.String()]++
		}
		require.Equal(t, want, counts, "subscribe summed to %d", at)
	}
}

// TestPersistPeekAndCancel: a peek of a storage collection reads it
// directly and applies the map-filter-project and finishing; a canceled
// peek is answered canceled once, and nothing more comes when its time is
// reached.
func TestPersistPeekAndCancel(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	h.mustInstall(bigOrders, getP(orders), false, tableSrc(h, orders))
	var cs []change
	for i := int64(1); i <= 10; i++ {
		cs = append(cs, change{table: orders, row: dataflow.Row{dataflow.Int64(i), dataflow.Int64(i % 2), dataflow.Int64(i * 10)}, diff: 1})
	}
	at := h.mustWrite(cs...)
	limit := uint64(2)
	rows, err := h.peekMsg(&messages.ComputePeek{
		Target:    &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		Timestamp: uint64(at),
		Mfp:       &messages.MapFilterProject{Filter: []*messages.Expr{binE(opEq, colE(1), litE(dataflow.Int64(1)))}, Project: []*messages.ColumnRef{ref(2)}},
		Finishing: &messages.Finishing{OrderBy: []*messages.OrderColumn{{Column: ref(0), Desc: true}}, Limit: &limit},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"(90)", "(70)"}, rowStrings(rows))

	// A persist peek ahead of storage's upper waits for it.
	ahead := h.peekAsync(&messages.ComputePeek{
		Target:    &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		Timestamp: uint64(at + 2),
	})
	var next timely.Timestamp
	for next <= at+2 {
		next = h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(50 + int64(next%100)), dataflow.Int64(5), dataflow.Int64(5)}, diff: 1})
	}
	res := <-ahead
	require.Nil(t, res.GetError(), "%v", res)
	require.Len(t, res.GetRows().GetRows(), len(h.oracle(orders, at+2)))

	_, err = h.peekMsg(&messages.ComputePeek{
		Target:    &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(timely.UserId(66)), Schema: dataflow.SchemaToWire(ordersSchema)}},
		Timestamp: uint64(at),
	})
	require.ErrorContains(t, err, "u66")

	// Cancel a peek that waits for a later time; then reach that time. The
	// time is well past every write so far (timestamps follow the clock,
	// so the index may already be past next+1).
	target := next + 50
	u, err := timely.NewUuid(rand.Reader)
	require.NoError(t, err)
	ch := make(chan *messages.ComputePeekResponse, 1)
	h.events.mu.Lock()
	h.events.peeks[u] = ch
	h.events.mu.Unlock()
	p := indexPeek(bigOrders, target)
	p.Uuid = messages.FromUuid(u)
	h.send(&messages.ComputeCommand_Peek{Peek: p})
	h.send(&messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{Uuid: messages.FromUuid(u)}})
	res = <-ch
	require.NotNil(t, res.GetCanceled(), "%v", res)
	var later timely.Timestamp
	for later <= target {
		later = h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(100 + int64(later%100)), dataflow.Int64(0), dataflow.Int64(1)}, diff: 1})
	}
	h.waitFrontier(bigOrders, later)
	h.checkAt(bigOrders, later) // a later peek's answer has come back
	h.send(&messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{Uuid: messages.FromUuid(u)}})
	h.checkAt(bigOrders, later)
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	require.Equal(t, 1, h.events.answers[u], "exactly one answer per peek")
}

func frontierOf(w *messages.Frontier) (timely.Timestamp, bool) {
	f, err := w.ToTimely()
	if err != nil {
		return 0, false
	}
	return f.Time()
}

// TestScheduleGatesComputation: a created but unscheduled collection does
// not compute: no hydration, no frontier, and a peek of it waits; once
// scheduled it installs, backfills and answers the peek.
func TestScheduleGatesComputation(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	at := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(60)}, diff: 1})
	h.send(createDataflow(dataflowOf(bigOrders, getP(orders), false, 0, tableSrc(h, orders))))
	waiting := h.peekAsync(indexPeek(bigOrders, at))
	// A peek of another collection is answered: the runtime has handled
	// the CreateDataflow and the peek before it.
	_, err := h.peek(timely.UserId(77), at)
	require.Error(t, err)
	_, accepted := h.events.outcome(bigOrders)
	require.False(t, accepted, "installed before Schedule")
	require.Zero(t, h.events.frontier(bigOrders))
	select {
	case res := <-waiting:
		t.Fatalf("a peek of an unscheduled collection was answered: %v", res)
	default:
	}
	h.send(scheduleCmd(messages.FromGlobalId(bigOrders)))
	res := <-waiting
	require.Len(t, res.GetRows().GetRows(), 1, "%v", res)
	h.record(bigOrders, getP(orders), tableSrc(h, orders))
	h.checkAt(bigOrders, at)
}

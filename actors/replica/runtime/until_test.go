package runtime_test

import (
	mrand "math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// withUntil sets a description's until.
func withUntil(d *messages.ComputeDataflowDescription, until timely.Timestamp) *messages.ComputeDataflowDescription {
	d.Until = messages.FromFrontier(timely.At(until))
	return d
}

// reportsOf returns the frontier reports of id so far.
func (h *harness) reportsOf(id timely.GlobalId) []*messages.ComputeFrontiers {
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	return append([]*messages.ComputeFrontiers(nil), h.events.reports[id]...)
}

// latest returns the last reported write, input and output frontiers of
// id (Minimum for one never reported), and checks that none regressed.
func (h *harness) latest(id timely.GlobalId) runtime.Frontiers {
	h.t.Helper()
	var out runtime.Frontiers
	for _, r := range h.reportsOf(id) {
		for _, fl := range []struct {
			name string
			w    *messages.Frontier
			dst  *timely.Frontier
		}{{"write", r.GetWrite(), &out.Write}, {"input", r.GetInput(), &out.Input}, {"output", r.GetOutput(), &out.Output}} {
			if fl.w == nil {
				continue
			}
			f, err := fl.w.ToTimely()
			require.NoError(h.t, err)
			require.True(h.t, fl.dst.LessThan(f), "%s: %s frontier %s reported after %s", id, fl.name, f, *fl.dst)
			*fl.dst = f
		}
	}
	return out
}

// TestUntilBoundsAnIndex: an index whose dataflow has an until reports its
// write and output frontiers up to the until and never past it, answers
// peeks before it with the oracle's rows and refuses peeks at or after it
// with ErrBeyondUntil.
func TestUntilBoundsAnIndex(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	var id int64
	r := mrand.New(mrand.NewSource(11))
	before := workload(h, r, 10, &id)
	until := before[len(before)-1] + 1
	plan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(30))))
	require.NoError(t, h.installDesc(withUntil(dataflowOf(bigOrders, plan, false, 0, tableSrc(h, orders)), until), bigOrders, plan, tableSrc(h, orders)))
	after := workload(h, r, 10, &id)
	// The inputs move on past the until; the index stops there.
	testkit.Eventually(t, func() bool {
		f := h.latest(bigOrders)
		in, _ := f.Input.Time()
		return f.Write == timely.At(until) && f.Output == timely.At(until) && in > after[len(after)-1]
	}, wait, "write and output at the until %d, input past the last write", until)
	for _, at := range before {
		h.checkAt(bigOrders, at)
	}
	_, err := h.peek(bigOrders, until)
	require.ErrorIs(t, err, runtime.ErrBeyondUntil)
	require.ErrorIs(t, err, messages.ErrInvalidArgument)
	require.Contains(t, err.Error(), bigOrders.String())
	_, err = h.peek(bigOrders, after[len(after)-1])
	require.ErrorIs(t, err, runtime.ErrBeyondUntil)
	f := h.latest(bigOrders)
	require.Equal(t, timely.At(until), f.Write, "the write frontier never passes the until")
}

// TestUntilBoundsASubscribe: a subscribe's batches never carry an update
// at or after its until; the batch reaching the until has the empty upper
// (the subscribe is complete) and nothing follows it.
func TestUntilBoundsASubscribe(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	var id int64
	r := mrand.New(mrand.NewSource(12))
	first := workload(h, r, 5, &id)
	asOf := first[len(first)-1]
	sub := timely.UserId(41)
	plan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(20))))
	d := &messages.ComputeDataflowDescription{
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(sub), Plan: plan}},
		SinkExports: []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sub), From: messages.FromGlobalId(sub),
			Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}},
		AsOf: messages.FromFrontier(timely.At(asOf)),
	}
	middle := workload(h, r, 8, &id)
	until := middle[3]
	require.NoError(t, h.installDesc(withUntil(d, until), sub, plan, tableSrc(h, orders)))
	last := workload(h, r, 8, &id)
	h.waitFrontier(bigOrdersOf(h, last))
	testkit.Eventually(t, func() bool {
		h.events.mu.Lock()
		defer h.events.mu.Unlock()
		rs := h.events.subs[sub]
		return len(rs) > 0 && rs[len(rs)-1].GetBatch().GetUpper() != nil && len(rs[len(rs)-1].GetBatch().GetUpper().GetElements()) == 0
	}, wait, "the subscribe completed")
	// More input, more consumes: still nothing after the final batch.
	more := workload(h, r, 5, &id)
	h.waitFrontier(bigOrdersOf(h, more))

	h.events.mu.Lock()
	rs := append([]*messages.ComputeSubscribeResponse(nil), h.events.subs[sub]...)
	h.events.mu.Unlock()
	next := asOf
	var updates []*messages.ComputeUpdate
	for i, resp := range rs {
		b := resp.GetBatch()
		require.NotNil(t, b)
		require.Nil(t, b.GetError())
		lo, _ := frontierOf(b.GetLower())
		require.Equal(t, next, lo, "batches follow each other")
		hi, open := frontierOf(b.GetUpper())
		if !open {
			require.Equal(t, len(rs)-1, i, "nothing follows the batch with the empty upper")
			hi = until
		}
		require.LessOrEqual(t, hi, until)
		for _, u := range b.GetUpdates().GetUpdates() {
			require.Less(t, u.GetTime(), uint64(until), "an update at or after the until %d", until)
			require.GreaterOrEqual(t, u.GetTime(), uint64(lo))
		}
		updates = append(updates, b.GetUpdates().GetUpdates()...)
		next = hi
	}
	require.Equal(t, until, next)
	// The updates sum to the oracle at every time before the until.
	for _, at := range append([]timely.Timestamp{asOf}, middle[:3]...) {
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

// bigOrdersOf installs (once) an unbounded index over orders, the witness
// that the runtime consumed everything written: it returns the index and
// the last time of ts, for waitFrontier.
func bigOrdersOf(h *harness, ts []timely.Timestamp) (timely.GlobalId, timely.Timestamp) {
	if _, ok := h.flows[bigOrders]; !ok {
		h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	}
	return bigOrders, ts[len(ts)-1]
}

// TestUntilBoundsAMaterializedView: a materialized view's sink appends
// nothing at or after its until: the storage collection's upper ends at
// the until, its contents equal the oracle before it, and the export's
// write and output frontiers stop there.
func TestUntilBoundsAMaterializedView(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	plan := perCustomerPlan()
	h.createCollection(perCustomer, plan, tableSrc(h, orders))
	var id int64
	r := mrand.New(mrand.NewSource(13))
	before := workload(h, r, 12, &id)
	until := before[7]
	require.NoError(t, h.installDesc(withUntil(dataflowOf(perCustomer, plan, true, 0, tableSrc(h, orders)), until), perCustomer, plan, tableSrc(h, orders)))
	h.send(allowWrites(perCustomer))
	after := workload(h, r, 6, &id)
	h.waitFrontier(bigOrdersOf(h, after))
	testkit.Eventually(t, func() bool {
		f := h.latest(perCustomer)
		return f.Write == timely.At(until) && f.Output == timely.At(until)
	}, wait, "write and output frontiers at the until %d", until)
	require.Equal(t, until, h.collectionUpper(perCustomer), "the collection ends at the until")
	h.checkCollection(perCustomer, before[:7])
}

// TestUntilNotAfterAsOf: a dataflow whose until is at or before its as_of
// (a reduced history may replay one) produces nothing and is complete at
// once: its write frontier is its until, and every peek at a time it could
// be read at is beyond it. A malformed until is refused.
func TestUntilNotAfterAsOf(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	ts := workload(h, mrand.New(mrand.NewSource(15)), 6, new(int64))
	plan := getP(orders)
	asOf := ts[3]
	for i, until := range []timely.Timestamp{asOf, asOf - 1} {
		id := timely.UserId(uint64(60 + i))
		require.NoError(t, h.installDesc(withUntil(dataflowOf(id, plan, false, asOf, tableSrc(h, orders)), until), id, plan, tableSrc(h, orders)))
		testkit.Eventually(t, func() bool { return h.latest(id).Write == timely.At(until) }, wait, "%s complete at its until %d", id, until)
		_, err := h.peek(id, asOf)
		require.ErrorIs(t, err, runtime.ErrBeyondUntil, "until %d", until)
	}
	d := dataflowOf(timely.UserId(62), plan, false, 0, tableSrc(h, orders))
	d.Until = &messages.Frontier{Elements: []uint64{1, 2}}
	err := h.installDesc(d, timely.UserId(62), plan, tableSrc(h, orders))
	require.ErrorIs(t, err, runtime.ErrInvalidCommand)
	require.ErrorIs(t, err, messages.ErrInvalidArgument)
	require.Contains(t, err.Error(), "until")
}

// TestInputAndOutputFrontiers: an index reports its input frontier (how
// far its table input was consumed) and its output frontier (its write
// frontier); a materialized view's output frontier is its storage
// collection's upper, reached only once writes are allowed. None of the
// three ever regresses (latest checks each report).
func TestInputAndOutputFrontiers(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	plan := perCustomerPlan()
	h.createCollection(perCustomer, plan, tableSrc(h, orders))
	h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	h.mustInstall(perCustomer, plan, true, tableSrc(h, orders))
	var id int64
	r := mrand.New(mrand.NewSource(14))
	ts := workload(h, r, 15, &id)
	last := ts[len(ts)-1]
	h.waitFrontier(perCustomer, last)
	testkit.Eventually(t, func() bool {
		f := h.latest(bigOrders)
		return f.Input.LessThan(timely.Closed()) && timely.At(last).LessThan(f.Input) && f.Output == f.Write && timely.At(last).LessThan(f.Write)
	}, wait, "index input and output past %d", last)
	mv := h.latest(perCustomer)
	require.True(t, timely.At(last).LessThan(mv.Input), "view input %s", mv.Input)
	require.True(t, mv.Output.LessThan(timely.At(last)), "no output before AllowWrites: %s", mv.Output)
	h.send(allowWrites(perCustomer))
	testkit.Eventually(t, func() bool {
		f := h.latest(perCustomer)
		return timely.At(last).LessThan(f.Output) && f.Output.LessEqual(f.Write)
	}, wait, "view output past %d once writes are allowed", last)
	require.Greater(t, h.collectionUpper(perCustomer), last)
}

// TestInputFrontierOfAnImportedCollection: a flow over an imported storage
// collection reports as its input frontier that collection's own upper,
// not the tables': after "another cluster" appended the view up to a time
// and the tables moved on, the index over the collection reports the
// collection's upper while an index over the tables reports theirs.
func TestInputFrontierOfAnImportedCollection(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.foreignPerCustomer()
	in := tableSrc(h, perCustomer)
	require.NoError(t, h.installDesc(collectionImport(overMV, overMVPlan(), in), overMV, overMVPlan(), in))
	h.mustInstall(bigOrders, getP(orders), false, tableSrc(h, orders))
	r := mrand.New(mrand.NewSource(16))
	var id int64
	ts := workload(h, r, 8, &id)
	appendView(h, perCustomer, 0, ts)
	collectionUpper := timely.At(ts[len(ts)-1] + 1)
	more := workload(h, r, 5, &id)
	testkit.Eventually(t, func() bool {
		return h.latest(overMV).Input == collectionUpper && timely.At(more[len(more)-1]).LessThan(h.latest(bigOrders).Input)
	}, wait, "the collection's index reports its upper %s as input; the tables' index theirs", collectionUpper)
	require.Equal(t, collectionUpper, h.latest(overMV).Input)
}

package runtime_test

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestOutputCompactionSurvivesRestart runs a materialized view (with its
// storage collection, writes allowed) and an index over it on Pebble; the
// controller allows compaction of both at a time in the middle of the
// writes, so the view's committed output is folded there (the index reads
// the view from the output shard, so its checkpoint bounds the fold, and
// so does the sink's next append). After a node restart and the replay of the
// dataflows and of the AllowCompaction, more writes: peeks of both and
// the view's committed output equal the oracle at every time from the
// compaction frontier on, and a peek before it is refused COMPACTED.
func TestOutputCompactionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() persistence.Store {
		s, err := pebble.Open(dir)
		require.NoError(t, err)
		return s
	}
	h := newHarness(t, options{workers: 2, store: open(), outputCompactionMin: 4})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	mv := perCustomerPlan()
	h.createCollection(perCustomer, mv, tableSrc(h, orders))
	install := func() {
		h.mustInstall(perCustomer, mv, true, tableSrc(h, orders))
		h.send(allowWrites(perCustomer))
		h.mustInstall(bigSpenders, filterP(getP(perCustomer), binE(opGt, colE(1), litE(dataflow.Int64(100)))), false, viewSrc(h, perCustomer))
	}
	install()
	r := rand.New(rand.NewSource(7))
	var id int64
	before := workload(h, r, 40, &id)
	since := before[len(before)/2]
	allow := func() {
		h.send(allowCompaction(perCustomer, timely.At(since)))
		h.send(allowCompaction(bigSpenders, timely.At(since)))
	}
	allow()
	// More writes: the commits that carry them fold the view.
	more := workload(h, r, 20, &id)
	before = append(before, more...)
	h.waitFrontier(perCustomer, before[len(before)-1])
	h.waitFrontier(bigSpenders, before[len(before)-1])
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", perCustomer.String()) > 0
	}, wait, "the view's output was folded")
	folded := timely.Timestamp(counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", perCustomer.String()))
	require.LessOrEqual(t, folded, since)
	require.Positive(t, counterValue(t, h.reg, "arbor_coordinator_output_compacted_updates_total", perCustomer.String()))

	h.restart(open)
	install()
	allow()
	after := workload(h, r, 30, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last := all[len(all)-1]
	h.waitFrontier(perCustomer, last)
	h.waitFrontier(bigSpenders, last)
	var from []timely.Timestamp
	for _, at := range all {
		if at >= since {
			from = append(from, at)
		}
	}
	for i := 0; i < len(from); i += 3 {
		h.checkAt(perCustomer, from[i])
		h.checkAt(bigSpenders, from[i])
	}
	h.checkAt(perCustomer, last)
	h.checkAt(bigSpenders, last)
	checkOutputShard(t, h, perCustomer, from)
	h.waitCollection(perCustomer, last)
	h.checkCollection(perCustomer, all) // the sink appended every range once
	_, err := h.peek(perCustomer, since-1)
	require.True(t, errors.Is(err, messages.ErrCompacted), "a peek before the compaction frontier: %v", err)
}

// TestIndexImportOutputCompacted: an index whose committed output another
// dataflow imports (read as a view, not recomputed) is folded like a
// materialized view's once the controller allows compaction, bounded by
// the importer's checkpoint; after a node restart the importer rebuilds
// from the folded output, and peeks of both equal the oracle from the
// compaction frontier on, as does the index's committed output.
func TestIndexImportOutputCompacted(t *testing.T) {
	const seed = 12
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	open := func() persistence.Store {
		s, err := pebble.Open(dir)
		require.NoError(t, err)
		return s
	}
	h := newHarness(t, options{workers: 2, chunk: 7, store: open(), outputCompactionMin: 4})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)

	big, bigIdx := timely.UserId(60), timely.UserId(70)
	top, topIdx := timely.UserId(62), timely.UserId(72)
	bigPlan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(40))))
	topPlan := reduceP(filterP(getP(big), binE(opGt, colE(2), litE(dataflow.Int64(70)))), []int{1}, agg(sumW, 2), agg(cntW, -1))
	exporter := &messages.ComputeDataflowDescription{
		DebugName:      "exports an index",
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(big), Plan: bigPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Key: []uint32{1}}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}
	importer := &messages.ComputeDataflowDescription{
		DebugName:      "imports the index",
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Key: []uint32{1}}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(top), Plan: topPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(topIdx), On: messages.FromGlobalId(top), Key: []uint32{0}}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}
	install := func() {
		require.NoError(t, h.installDesc(exporter, bigIdx, bigPlan, tableSrc(h, orders)))
		h.record(big, bigPlan, tableSrc(h, orders))
		require.NoError(t, h.installDesc(importer, topIdx, topPlan, src{id: big, schema: h.schemaOf(big)}))
	}
	install()
	r := rand.New(rand.NewSource(seed))
	var id int64
	before := workload(h, r, 40, &id)
	since := before[len(before)/2]
	allow := func() {
		h.send(allowCompaction(bigIdx, timely.At(since)))
		h.send(allowCompaction(topIdx, timely.At(since)))
	}
	allow()
	before = append(before, workload(h, r, 20, &id)...)
	h.waitFrontier(bigIdx, before[len(before)-1])
	h.waitFrontier(topIdx, before[len(before)-1])
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", bigIdx.String()) > 0
	}, wait, "the index's output was folded")
	require.LessOrEqual(t, timely.Timestamp(counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", bigIdx.String())), since)
	require.Positive(t, counterValue(t, h.reg, "arbor_coordinator_output_compacted_updates_total", bigIdx.String()))

	h.restart(open)
	install()
	allow()
	after := workload(h, r, 30, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last := all[len(all)-1]
	h.waitFrontier(bigIdx, last)
	h.waitFrontier(topIdx, last)
	var from []timely.Timestamp
	for _, at := range all {
		if at >= since {
			from = append(from, at)
		}
	}
	for _, at := range from {
		h.checkAt(topIdx, at)
	}
	h.checkAt(bigIdx, last)
	checkOutputShard(t, h, bigIdx, from)
}

// TestSubscribeOutputCompacted: a subscribe's committed output is folded
// once the controller allows compaction, never past the subscribe's next
// batch; when the controller reconnects and replays the subscribe at the
// compaction frontier, the kept subscribe starts over there and reads the
// folded output from the start: its batches sum to the oracle at every
// time from the frontier on.
func TestSubscribeOutputCompacted(t *testing.T) {
	h := newHarness(t, options{workers: 2, outputCompactionMin: 4})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	var id int64
	r := rand.New(rand.NewSource(5))
	before := workload(h, r, 5, &id)
	asOf := before[len(before)-1]
	sub := timely.UserId(40)
	plan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(30))))
	desc := func(asOf timely.Timestamp) *messages.ComputeDataflowDescription {
		return &messages.ComputeDataflowDescription{
			SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
			ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(sub), Plan: plan}},
			SinkExports: []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sub), From: messages.FromGlobalId(sub),
				Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}},
			AsOf: messages.FromFrontier(timely.At(asOf)),
		}
	}
	require.NoError(t, h.installDesc(desc(asOf), sub, plan, tableSrc(h, orders)))
	caughtUp := func(last timely.Timestamp) {
		t.Helper()
		testkit.Eventually(t, func() bool {
			h.events.mu.Lock()
			defer h.events.mu.Unlock()
			rs := h.events.subs[sub]
			if len(rs) == 0 {
				return false
			}
			u, _ := frontierOf(rs[len(rs)-1].GetBatch().GetUpper())
			return u > last
		}, wait, "subscribe caught up past %d", last)
	}
	first := workload(h, r, 30, &id)
	since := first[len(first)/2]
	caughtUp(first[len(first)-1])
	h.send(allowCompaction(sub, timely.At(since)))
	second := workload(h, r, 20, &id)
	caughtUp(second[len(second)-1])
	testkit.Eventually(t, func() bool {
		return counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", sub.String()) > 0
	}, wait, "the subscribe's output was folded")
	require.LessOrEqual(t, timely.Timestamp(counterValue(t, h.reg, "arbor_coordinator_output_compaction_frontier", sub.String())), since)

	h.events.mu.Lock()
	seen := len(h.events.subs[sub])
	h.events.mu.Unlock()
	h.connect(func() {
		h.createAndSchedule(desc(since))
		h.send(allowCompaction(sub, timely.At(since)))
	})
	third := workload(h, r, 10, &id)
	last := third[len(third)-1]
	caughtUp(last)

	h.events.mu.Lock()
	rs := append([]*messages.ComputeSubscribeResponse(nil), h.events.subs[sub][seen:]...)
	h.events.mu.Unlock()
	var updates []*messages.ComputeUpdate
	next := since
	for _, r := range rs {
		b := r.GetBatch()
		require.NotNil(t, b)
		require.Nil(t, b.GetError())
		lo, _ := frontierOf(b.GetLower())
		hi, _ := frontierOf(b.GetUpper())
		require.Equal(t, next, lo, "batches follow each other from the replayed as_of")
		updates = append(updates, b.GetUpdates().GetUpdates()...)
		next = hi
	}
	all := append(append(append([]timely.Timestamp(nil), first...), second...), third...)
	for _, at := range all {
		if at < since {
			continue
		}
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

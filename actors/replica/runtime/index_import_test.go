package runtime_test

import (
	"math/rand"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// sourcesSeen records, per flow, the ids of the sources whose updates
// reached it in a batch (Consume or backfill).
type sourcesSeen struct {
	mu   sync.Mutex
	seen map[pool.FlowId]map[timely.GlobalId]int
}

func (s *sourcesSeen) hook(_ int, b pool.FlowBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, us := range b.Updates {
		if len(us) == 0 {
			continue
		}
		if s.seen[b.Flow] == nil {
			s.seen[b.Flow] = map[timely.GlobalId]int{}
		}
		s.seen[b.Flow][id] += len(us)
	}
}

func (s *sourcesSeen) of(f pool.FlowId) map[timely.GlobalId]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[timely.GlobalId]int{}
	for id, n := range s.seen[f] {
		out[id] = n
	}
	return out
}

func (s *sourcesSeen) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = map[pool.FlowId]map[timely.GlobalId]int{}
}

// TestIndexImportReadsTheExportingFlow: a dataflow imports another's index
// on Pebble. The importing flow's rows equal the oracle at every closed
// time, before and after a node restart; its batches carry only the
// index's committed output, never the table under it (the import is read,
// not recomputed), also while it rebuilds after the restart; and the index
// cannot be dropped while the importer reads it.
func TestIndexImportReadsTheExportingFlow(t *testing.T) {
	const seed = 10
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	open := func() persistence.Store {
		s, err := pebble.Open(dir)
		require.NoError(t, err)
		return s
	}
	seen := &sourcesSeen{seen: map[pool.FlowId]map[timely.GlobalId]int{}}
	h := newHarness(t, options{workers: 2, chunk: 7, store: open(), beforeApply: seen.hook})
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
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Schema: dataflow.SchemaToWire(ordersSchema), Key: []uint32{1}}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(top), Plan: topPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(topIdx), On: messages.FromGlobalId(top), Key: []uint32{0}}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}
	install := func() {
		require.NoError(t, h.installDesc(exporter, bigIdx, bigPlan, tableSrc(h, orders)))
		h.record(big, bigPlan, tableSrc(h, orders))
		require.NoError(t, h.installDesc(importer, topIdx, topPlan, src{id: big, schema: h.schemaOf(big)}))
	}
	readsOnlyTheIndex := func() {
		t.Helper()
		got := seen.of(runtime.FlowIdOf(topIdx))
		require.Zero(t, got[orders], "the importing flow read the table under the index: %v", got)
		require.Positive(t, got[bigIdx], "the importing flow read nothing of the index: %v", got)
		require.Len(t, got, 1, "the importing flow read %v", got)
	}

	r := rand.New(rand.NewSource(seed))
	var id int64
	// Written before the importer exists: it backfills them from the
	// index's committed output.
	early := workload(h, r, 15, &id)
	install()
	before := append(early, workload(h, r, 25, &id)...)
	last := before[len(before)-1]
	h.waitFrontier(bigIdx, last)
	h.waitFrontier(topIdx, last)
	for _, at := range before {
		h.checkAt(topIdx, at)
	}
	readsOnlyTheIndex()

	// The index cannot be dropped while the importer reads it; both
	// stay and keep answering.
	h.events.forget(bigIdx)
	h.drop(bigIdx)
	testkit.Eventually(t, func() bool { err, _ := h.events.outcome(bigIdx); return err != nil }, wait, "drop refused")
	err, _ := h.events.outcome(bigIdx)
	require.ErrorContains(t, err, "read by")
	require.ErrorContains(t, err, topIdx.String())
	h.checkAt(bigIdx, last)
	h.checkAt(topIdx, last)

	// A node restart: the importer rebuilds from the index's committed
	// output, never from the table.
	h.restart(open)
	seen.reset()
	install()
	after := workload(h, r, 30, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last = all[len(all)-1]
	h.waitFrontier(bigIdx, last)
	h.waitFrontier(topIdx, last)
	for _, at := range all {
		h.checkAt(topIdx, at)
	}
	h.checkAt(bigIdx, last)
	readsOnlyTheIndex()
}

// TestIndexImportBadInput: an index import whose schema does not match the
// index's rows is refused whole, naming the index; one without a schema
// reads the index's own.
func TestIndexImportBadInput(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	big, bigIdx := timely.UserId(60), timely.UserId(70)
	bigPlan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(40))))
	require.NoError(t, h.installDesc(&messages.ComputeDataflowDescription{
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(big), Plan: bigPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big)}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}, bigIdx, bigPlan, tableSrc(h, orders)))
	h.record(big, bigPlan, tableSrc(h, orders))
	importing := func(export timely.GlobalId, schema *messages.Schema) *messages.ComputeDataflowDescription {
		obj := timely.UserId(export.Value + 100)
		return &messages.ComputeDataflowDescription{
			IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Schema: schema}},
			ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(obj), Plan: getP(big)}},
			IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(export), On: messages.FromGlobalId(obj)}},
			AsOf:           messages.FromFrontier(timely.At(0)),
		}
	}
	t.Run("schema of other types", func(t *testing.T) {
		err := h.installDesc(importing(timely.UserId(80), dataflow.SchemaToWire(customersSchema)), timely.UserId(80), nil)
		require.ErrorContains(t, err, "schema")
		require.ErrorContains(t, err, bigIdx.String())
		require.Equal(t, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, messages.ErrorToWire(err).GetCode())
	})
	// Nothing was half-applied: a good importer with the same export ids
	// installs afterwards, and one without a schema too.
	require.NoError(t, h.installDesc(importing(timely.UserId(80), dataflow.SchemaToWire(ordersSchema)), timely.UserId(80), getP(big), src{id: big, schema: h.schemaOf(big)}))
	require.NoError(t, h.installDesc(importing(timely.UserId(81), nil), timely.UserId(81), getP(big), src{id: big, schema: h.schemaOf(big)}))
	at := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(2), dataflow.Int64(50)}, diff: 1})
	h.waitFrontier(timely.UserId(81), at)
	h.checkAt(timely.UserId(81), at)
}

// TestIndexImportReconcileRebuildsTheReader: a controller reconnects and
// replays the exporting dataflow with another plan of the same meaning
// (incompatible: the description differs) and the importer unchanged.
// The importer is dropped before the exporter and built again over the
// new index: no drop is refused, no export is installed twice, and both
// equal the oracle at every closed time; the rebuilt importer still reads
// only the index. (An id keeps its meaning across rebuilds, as for every
// flow that resumes from its committed checkpoint: see describe.go.)
func TestIndexImportReconcileRebuildsTheReader(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	seen := &sourcesSeen{seen: map[pool.FlowId]map[timely.GlobalId]int{}}
	h := newHarness(t, options{workers: 2, beforeApply: seen.hook})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	big, bigIdx := timely.UserId(60), timely.UserId(70)
	top, topIdx := timely.UserId(62), timely.UserId(72)
	// The same rows, written two ways: amount > 40, or 40 < amount.
	bigPlan := func(flipped bool) *messages.Plan {
		if flipped {
			return filterP(getP(orders), binE(messages.BinaryOp_BINARY_OP_LT, litE(dataflow.Int64(40)), colE(2)))
		}
		return filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(40))))
	}
	topPlan := filterP(getP(big), binE(messages.BinaryOp_BINARY_OP_LT, colE(2), litE(dataflow.Int64(90))))
	exporter := func(over bool) *messages.ComputeDataflowDescription {
		return &messages.ComputeDataflowDescription{
			DebugName:      "exports an index",
			SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
			ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(big), Plan: bigPlan(over)}},
			IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big)}},
			AsOf:           messages.FromFrontier(timely.At(0)),
		}
	}
	importer := &messages.ComputeDataflowDescription{
		DebugName:      "imports the index",
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(top), Plan: topPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(topIdx), On: messages.FromGlobalId(top)}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}
	install := func(over bool) {
		require.NoError(t, h.installDesc(exporter(over), bigIdx, bigPlan(over), tableSrc(h, orders)))
		h.record(big, bigPlan(over), tableSrc(h, orders))
		require.NoError(t, h.installDesc(importer, topIdx, topPlan, src{id: big, schema: h.schemaOf(big)}))
	}
	install(false)
	r := rand.New(rand.NewSource(seed))
	var id int64
	before := workload(h, r, 20, &id)
	h.waitFrontier(topIdx, before[len(before)-1])
	h.checkAt(topIdx, before[len(before)-1])

	seen.reset()
	h.connect(func() { install(true) })
	after := workload(h, r, 20, &id)
	all := append(append([]timely.Timestamp(nil), before...), after...)
	last := all[len(all)-1]
	h.waitFrontier(bigIdx, last)
	h.waitFrontier(topIdx, last)
	for _, at := range all {
		h.checkAt(bigIdx, at)
		h.checkAt(topIdx, at)
	}
	require.Empty(t, h.events.errs(), "the rebuild reported errors")
	require.EqualValues(t, 2, counterValue(t, h.reg, "arbor_runtime_reconcile_dataflows_total", "rebuilt"))
	got := seen.of(runtime.FlowIdOf(topIdx))
	require.Zero(t, got[orders], "the rebuilt importer read the table: %v", got)
	require.Positive(t, got[bigIdx], "the rebuilt importer read nothing of the index: %v", got)
}

package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestDataflowWithImportsAndSeveralObjects: a dataflow that builds two
// objects (the second reads the first) and exports an index on each, and
// a second dataflow that imports one of those indexes and arranges its
// own object by a key; keyed peeks read the arrangement; every index
// equals the oracle.
func TestDataflowWithImportsAndSeveralObjects(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	big, perCust := timely.UserId(60), timely.UserId(61)
	bigIdx, perCustIdx := timely.UserId(70), timely.UserId(71)
	bigPlan := filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(40))))
	perCustPlan := reduceP(getP(big), []int{1}, agg(sumW, 2), agg(cntW, -1))
	first := &messages.ComputeDataflowDescription{
		DebugName:     "two objects",
		SourceImports: []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{
			{Id: messages.FromGlobalId(big), Plan: bigPlan},
			{Id: messages.FromGlobalId(perCust), Plan: perCustPlan},
		},
		IndexExports: []*messages.ComputeIndexExport{
			{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big)},
			{Id: messages.FromGlobalId(perCustIdx), On: messages.FromGlobalId(perCust), Key: []uint32{0}},
		},
		AsOf: messages.FromFrontier(timely.At(0)),
	}
	h.createAndSchedule(first)
	h.record(bigIdx, bigPlan, tableSrc(h, orders))
	h.record(big, bigPlan, tableSrc(h, orders))
	h.record(perCustIdx, perCustPlan, src{id: big, schema: h.schemaOf(big)})

	// The second dataflow reads the first's index on big.
	top, topIdx := timely.UserId(62), timely.UserId(72)
	topPlan := filterP(getP(big), binE(opGt, colE(2), litE(dataflow.Int64(80))))
	second := &messages.ComputeDataflowDescription{
		DebugName:      "imports an index",
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(bigIdx), On: messages.FromGlobalId(big), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(top), Plan: topPlan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(topIdx), On: messages.FromGlobalId(top), Key: []uint32{1}}},
		AsOf:           messages.FromFrontier(timely.At(0)),
	}
	require.NoError(t, h.installDesc(second, topIdx, topPlan, src{id: big, schema: h.schemaOf(big)}))

	var cs []change
	for i := int64(1); i <= 30; i++ {
		cs = append(cs, change{table: orders, row: dataflow.Row{dataflow.Int64(i), dataflow.Int64(i % 4), dataflow.Int64(i * 3)}, diff: 1})
	}
	at := h.mustWrite(cs...)
	for _, id := range []timely.GlobalId{bigIdx, perCustIdx, topIdx} {
		h.waitFrontier(id, at)
		h.checkAt(id, at)
	}
	// Keyed peeks: customer 2 in perCustIdx (keyed by customer), and
	// customer 3 in topIdx (keyed by its customer column).
	p := indexPeek(perCustIdx, at)
	p.Key = dataflow.RowToWire(dataflow.Row{dataflow.Int64(2)})
	rows, err := h.peekMsg(p)
	require.NoError(t, err)
	var want []string
	for _, r := range h.oracle(perCustIdx, at) {
		if r[0].Equal(dataflow.Int64(2)) {
			want = append(want, r.String())
		}
	}
	require.Equal(t, want, rowStrings(rows))
	p = indexPeek(topIdx, at)
	p.Key = dataflow.RowToWire(dataflow.Row{dataflow.Int64(3)})
	rows, err = h.peekMsg(p)
	require.NoError(t, err)
	want = nil
	for _, r := range h.oracle(topIdx, at) {
		if r[1].Equal(dataflow.Int64(3)) {
			want = append(want, r.String())
		}
	}
	require.Equal(t, want, rowStrings(sortRows(rows)))

	// A dataflow importing an index nobody exports is refused, naming it.
	bad := &messages.ComputeDataflowDescription{
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(timely.UserId(99)), On: messages.FromGlobalId(big)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(timely.UserId(63)), Plan: getP(big)}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(timely.UserId(73)), On: messages.FromGlobalId(timely.UserId(63))}},
	}
	require.ErrorContains(t, h.installDesc(bad, timely.UserId(73), nil), "u99")
}

package runtime_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestPeekOptions: a peek's key, map-filter-project and finishing are
// applied by the worker to the index at the peek time; a peek at a time
// the index has not reached waits for it; a peek before the as_of fails.
func TestPeekOptions(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	var cs []change
	for i := int64(1); i <= 20; i++ {
		cs = append(cs, change{table: orders, row: dataflow.Row{dataflow.Int64(i), dataflow.Int64(i % 3), dataflow.Int64(40 + i*3)}, diff: 1})
	}
	at := h.mustWrite(cs...)

	// Top 3 by amount (descending) of customer 1, projected to (id, amount).
	limit := uint64(3)
	m := indexPeek(bigOrders, at)
	*m = messages.ComputePeek{
		Target: m.Target, Timestamp: uint64(at),
		Mfp: &messages.MapFilterProject{
			Filter:  []*messages.Expr{binE(opEq, colE(1), litE(dataflow.Int64(1)))},
			Project: []*messages.ColumnRef{ref(0), ref(2)},
		},
		Finishing: &messages.Finishing{OrderBy: []*messages.OrderColumn{{Column: ref(1), Desc: true}}, Limit: &limit},
	}
	rows, err := h.peekMsg(m)
	require.NoError(t, err)
	require.Equal(t, []string{"(19, 97)", "(16, 88)", "(13, 79)"}, rowStrings(rows))

	// A key lookup (the index is keyed by the whole row).
	m = indexPeek(bigOrders, at)
	m.Key = dataflow.RowToWire(dataflow.Row{dataflow.Int64(20), dataflow.Int64(2), dataflow.Int64(100)})
	rows, err = h.peekMsg(m)
	require.NoError(t, err)
	require.Len(t, rows, 1)

	// A peek ahead of the frontier waits for the write that completes it.
	ch := h.peekAsync(indexPeek(bigOrders, at+5))
	var later timely.Timestamp
	for later <= at+5 {
		later = h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(100 + int64(later%100)), dataflow.Int64(0), dataflow.Int64(99)}, diff: 1})
	}
	res := <-ch
	require.NotNil(t, res.GetRows())

	// A bad MFP is refused with the reason.
	m = indexPeek(bigOrders, at)
	m.Mfp = &messages.MapFilterProject{Filter: []*messages.Expr{colE(0)}}
	_, err = h.peekMsg(m)
	require.ErrorContains(t, err, "bool")
}

// TestPeekBeforeAsOfFails: the index of a flow installed with an as_of
// answers at and after it and fails before it.
func TestPeekBeforeAsOfFails(t *testing.T) {
	h := newHarness(t, options{workers: 1})
	h.createTable(orders, ordersSchema)
	first := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(60)}, diff: 1})
	second := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(2), dataflow.Int64(1), dataflow.Int64(70)}, diff: 1})
	require.NoError(t, h.install(bigOrders, getP(orders), false, second, tableSrc(h, orders)))
	h.waitFrontier(bigOrders, second)
	_, err := h.peek(bigOrders, first)
	require.ErrorContains(t, err, "since")
	h.checkAt(bigOrders, second)
}

// peekAsync sends a peek (its uuid is set here) and returns the channel
// its one response arrives on.
func (h *harness) peekAsync(m *messages.ComputePeek) chan *messages.ComputePeekResponse {
	u, err := timely.NewUuid(rand.Reader)
	require.NoError(h.t, err)
	ch := make(chan *messages.ComputePeekResponse, 1)
	h.events.mu.Lock()
	h.events.peeks[u] = ch
	h.events.mu.Unlock()
	m.Uuid = messages.FromUuid(u)
	h.send(&messages.ComputeCommand_Peek{Peek: m})
	return ch
}

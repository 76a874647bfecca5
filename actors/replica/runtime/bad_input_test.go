package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestBadInput: wrong column types, unknown tables, writes to a dropped
// table and malformed commands are rejected with clear errors, and the
// flows stay exactly right.
func TestBadInput(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	good := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(70)}, diff: 1})

	t.Run("wrong column type", func(t *testing.T) {
		_, err := h.write(
			change{table: orders, row: dataflow.Row{dataflow.Int64(2), dataflow.Int64(1), dataflow.Int64(80)}, diff: 1},
			change{table: orders, row: dataflow.Row{dataflow.Int64(3), dataflow.Int64(1), dataflow.String("lots")}, diff: 1},
		)
		require.ErrorContains(t, err, "amount")
		h.mu.Lock()
		h.log = h.log[:1] // the rejected write recorded nothing durable
		h.mu.Unlock()
	})
	t.Run("write to unknown table", func(t *testing.T) {
		_, err := h.write(change{table: timely.UserId(99), row: dataflow.Row{dataflow.Int64(1)}, diff: 1})
		require.ErrorContains(t, err, "u99")
	})
	t.Run("flow over unknown table", func(t *testing.T) {
		err := h.install(timely.UserId(50), getP(timely.UserId(98)), false, 0, src{id: timely.UserId(98), schema: ordersSchema})
		require.ErrorContains(t, err, "u98")
	})
	t.Run("flow over unknown view", func(t *testing.T) {
		err := h.install(timely.UserId(51), getP(timely.UserId(97)), false, 0, src{id: timely.UserId(97), view: true, schema: ordersSchema})
		require.ErrorContains(t, err, "u97")
	})
	t.Run("plan with a type error", func(t *testing.T) {
		err := h.install(timely.UserId(52), filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.String("x")))), false, 0, tableSrc(h, orders))
		require.ErrorContains(t, err, "type")
	})
	t.Run("export installed twice", func(t *testing.T) {
		err := h.install(bigOrders, getP(orders), false, 0, tableSrc(h, orders))
		require.ErrorContains(t, err, "already")
	})
	t.Run("drop a view that is read", func(t *testing.T) {
		h.events.forget(perCustomer)
		h.drop(perCustomer)
		testkit.Eventually(t, func() bool { err, _ := h.events.outcome(perCustomer); return err != nil }, wait, "drop refused")
		err, _ := h.events.outcome(perCustomer)
		require.ErrorContains(t, err, "read by")
	})
	t.Run("peek of unknown collection", func(t *testing.T) {
		_, err := h.peek(timely.UserId(96), good)
		require.ErrorContains(t, err, "u96")
	})
	t.Run("a message of another protocol", func(t *testing.T) {
		res := h.request(h.runtime, &messages.StorageFrontiers{})
		reply, ok := res.(*messages.UnknownMessageReply)
		require.True(t, ok, "%T", res)
		require.Contains(t, reply.String(), "StorageFrontiers")
	})
	t.Run("a persist peek of an unknown collection", func(t *testing.T) {
		_, err := h.peekMsg(&messages.ComputePeek{
			Target:    &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(timely.UserId(95)), Schema: dataflow.SchemaToWire(ordersSchema)}},
			Timestamp: uint64(good),
		})
		require.ErrorContains(t, err, "u95")
	})
	t.Run("writes to a dropped table", func(t *testing.T) {
		extra := timely.UserId(3)
		h.createTable(extra, customersSchema)
		h.mustInstall(timely.UserId(20), getP(extra), false, tableSrc(h, extra))
		at := h.mustWrite(change{table: extra, row: dataflow.Row{dataflow.Int64(1), dataflow.String("a")}, diff: 1})
		h.waitFrontier(timely.UserId(20), at)
		res := h.request(h.storage, &messages.StorageDropTable{Table: messages.FromGlobalId(extra)}).(*messages.StorageDropTableResponse)
		require.Nil(t, res.GetError())
		_, err := h.write(change{table: extra, row: dataflow.Row{dataflow.Int64(2), dataflow.String("b")}, diff: 1})
		require.ErrorContains(t, err, "dropped")
		h.checkAt(timely.UserId(20), at)
		h.drop(timely.UserId(20))
	})
	// Everything else still works and is exact.
	last := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(4), dataflow.Int64(2), dataflow.Int64(90)}, diff: 1})
	for _, id := range allFlows {
		h.waitFrontier(id, last)
		h.checkAt(id, good)
		h.checkAt(id, last)
	}
}

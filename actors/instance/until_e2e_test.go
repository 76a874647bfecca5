package instance_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// subscribeBox collects the batches of subscribes sent to its pid.
type subscribeBox struct {
	pid *actor.PID
	mu  sync.Mutex
	got []*messages.ComputeSubscribeResponse
}

func newSubscribeBox(r *rig) *subscribeBox {
	b := &subscribeBox{}
	b.pid = r.sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.ComputeSubscribeResponse); ok {
			b.mu.Lock()
			b.got = append(b.got, m)
			b.mu.Unlock()
		}
	}))
	r.t.Cleanup(func() { require.NoError(r.t, r.sys.Root.StopFuture(b.pid).Wait()) })
	return b
}

func (b *subscribeBox) responses() []*messages.ComputeSubscribeResponse {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*messages.ComputeSubscribeResponse(nil), b.got...)
}

func (r *rig) storageUpper(id timely.GlobalId) timely.Frontier {
	res, err := r.sys.Root.RequestFuture(r.storage, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}}, wait).Result()
	require.NoError(r.t, err)
	fr := res.(*messages.StorageFrontiersResponse)
	require.Nil(r.t, fr.GetError())
	require.Len(r.t, fr.GetTables(), 1)
	f, err := fr.GetTables()[0].GetUpper().ToTimely()
	require.NoError(r.t, err)
	return f
}

func (r *rig) collectionDump(id timely.GlobalId) instance.CollectionDump {
	for _, c := range r.dump().Collections {
		if c.Id == id.String() {
			return c
		}
	}
	r.t.Fatalf("collection %s not in dump", id)
	return instance.CollectionDump{}
}

// TestUntilThroughTheInstance: with two real replicas, a materialized view
// and a subscribe whose dataflows have an until stop there: the view's
// storage collection ends at the until, the instance's upper of both
// collections stops at it, the subscribe's last batch has the empty upper
// and no batch carries an update at or after the until, and a peek at the
// until is refused while one before it answers the oracle's rows.
func TestUntilThroughTheInstance(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(21, 12)
	until := ts[6]

	mv := timely.UserId(30)
	mvPlan := reduceP(getP(orders), []int{1}, agg(cntW, -1))
	compiled, err := dataflow.Compile(mvPlan, map[timely.GlobalId]dataflow.Schema{orders: ordersSchema})
	require.NoError(t, err)
	r.createCollection(mv, compiled.Schema())
	d := dataflowOf(mv, mvPlan, true, 0, []timely.GlobalId{orders}, map[timely.GlobalId]dataflow.Schema{orders: ordersSchema})
	d.Until = messages.FromFrontier(timely.At(until))
	r.ok(instance.CreateDataflow{Dataflow: d})
	r.flows[mv] = oracleFlow{plan: compiled, sources: []timely.GlobalId{orders}}

	sub := timely.TransientId(1)
	box := newSubscribeBox(r)
	plan := filterP(getP(orders), gtE(colE(2), litE(dataflow.Int64(20))))
	sd := &messages.ComputeDataflowDescription{
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(sub), Plan: plan}},
		SinkExports: []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sub), From: messages.FromGlobalId(sub),
			Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}},
		AsOf:  messages.FromFrontier(timely.At(ts[2])),
		Until: messages.FromFrontier(timely.At(until)),
	}
	r.ok(instance.Subscribe{Dataflow: sd, Client: box.pid})
	subPlan, err := dataflow.Compile(plan, map[timely.GlobalId]dataflow.Schema{orders: ordersSchema})
	require.NoError(t, err)
	r.flows[sub] = oracleFlow{plan: subPlan, sources: []timely.GlobalId{orders}}

	more := r.workload(22, 8)
	last := more[len(more)-1]
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	r.eventually(func() bool {
		rs := box.responses()
		return len(rs) > 0 && rs[len(rs)-1].GetBatch().GetUpper() != nil && len(rs[len(rs)-1].GetBatch().GetUpper().GetElements()) == 0
	}, "the subscribe completed at its until")
	r.eventually(func() bool {
		return r.storageUpper(mv) == timely.At(until) && r.collectionDump(mv).Upper == timely.At(until).String()
	},
		"the view's collection ends at the until %d", until)
	// Everything written later has been consumed (an unbounded index is
	// past it), and the view still stops at the until.
	_, err = r.peek(bigOrders, last, nil)
	require.NoError(t, err)
	require.Equal(t, timely.At(until), r.storageUpper(mv))
	cd := r.collectionDump(mv)
	require.Equal(t, timely.At(until).String(), cd.Upper)
	require.Equal(t, timely.At(until).String(), cd.Until)

	// Peeks: before the until, the oracle; at it, refused.
	got, err := r.peek(mv, until-1, nil)
	require.NoError(t, err)
	require.Equal(t, r.oracle(mv, until-1), got)
	_, err = r.peek(mv, until, nil)
	require.ErrorIs(t, err, instance.ErrPeekBeyondUntil)
	require.ErrorIs(t, err, messages.ErrInvalidArgument)

	// The subscribe: batches in order, nothing at or after the until,
	// and they sum to the oracle at every time before it.
	rs := box.responses()
	next := timely.At(ts[2])
	counts := map[string]int64{}
	for i, resp := range rs {
		b := resp.GetBatch()
		require.NotNil(t, b, "response %d", i)
		require.Nil(t, b.GetError())
		lo, err := b.GetLower().ToTimely()
		require.NoError(t, err)
		require.Equal(t, next, lo, "batch %d follows the last", i)
		hi, err := b.GetUpper().ToTimely()
		require.NoError(t, err)
		for _, u := range b.GetUpdates().GetUpdates() {
			require.Less(t, u.GetTime(), uint64(until), "an update at or after the until")
			row, err := dataflow.RowFromWire(u.GetRow())
			require.NoError(t, err)
			counts[row.String()] += u.GetDiff()
		}
		next = hi
	}
	require.True(t, next.IsEmpty(), "the last batch closes the subscribe")
	want := map[string]int64{}
	for _, row := range r.oracle(sub, until-1) {
		want[row]++
	}
	for k, v := range counts {
		if v == 0 {
			delete(counts, k)
		}
	}
	require.Equal(t, want, counts)
}

// TestFrontiersInTheDump: the instance records the write, input and output
// frontiers each replica reports per collection: with real runtimes (the
// view's writes are allowed at its creation), every one of them passes the
// last write on both replicas.
func TestFrontiersInTheDump(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(23, 10)
	last := timely.At(ts[len(ts)-1])
	past := func() bool {
		for _, rd := range r.dump().Replicas {
			if len(rd.Collections) != len(allFlows) {
				return false
			}
			for _, c := range rd.Collections {
				for _, s := range []string{c.Write, c.Input, c.Output} {
					if !last.LessThan(parseFrontier(t, s)) {
						return false
					}
				}
			}
		}
		return true
	}
	r.eventually(past, "write, input and output of every collection past %s on both replicas", last)
}

func parseFrontier(t *testing.T, s string) timely.Frontier {
	t.Helper()
	if s == "[]" {
		return timely.Closed()
	}
	var n uint64
	_, err := fmt.Sscanf(s, "[%d]", &n)
	require.NoError(t, err, "frontier %q", s)
	return timely.At(timely.Timestamp(n))
}

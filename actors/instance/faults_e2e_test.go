package instance_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// gate holds a runtime's workers before each batch while closed: the
// replica stays behind (slow) until the gate opens. Only the incarnations
// it was built for are held.
type gate struct {
	open chan struct{}
	done atomic.Bool
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() {
	if g.done.CompareAndSwap(false, true) {
		close(g.open)
	}
}

// holding returns a Configure that holds replica id's incarnation inc.
func (g *gate) holding(id timely.ReplicaId, inc uint64) func(timely.ReplicaId, uint64, *runtime.Config) {
	return func(r timely.ReplicaId, i uint64, cfg *runtime.Config) {
		if r == id && i == inc {
			cfg.BeforeApply = func(int, pool.FlowBatch) { <-g.open }
		}
	}
}

// slowBy returns a Configure that delays every batch of replica id's
// incarnation inc by d (bounded, so the runtime can still be stopped).
func slowBy(id timely.ReplicaId, inc uint64, d time.Duration) func(timely.ReplicaId, uint64, *runtime.Config) {
	return func(r timely.ReplicaId, i uint64, cfg *runtime.Config) {
		if r == id && i == inc {
			cfg.BeforeApply = func(int, pool.FlowBatch) { time.Sleep(d) }
		}
	}
}

// TestPeekAnsweredByTheFastReplica: r2's workers are held, so it never
// gets past the first batch; every peek through the instance is answered
// (by r1, the only replica that can) with the oracle's rows, while r2 is
// still not hydrated. Released, r2 catches up and answers targeted peeks.
func TestPeekAnsweredByTheFastReplica(t *testing.T) {
	r := newRig(t, rigOptions{})
	g := newGate()
	t.Cleanup(g.release) // runs before the rig stops
	r.addLocal(r1, nil)
	r.addLocal(r2, g.holding(r2, 1))
	r.installAll()
	ts := r.workload(6, 20)
	r.waitHydrated(r1, 1)
	last := ts[len(ts)-1]
	r.check(nil, ts[0], last)
	require.False(t, r.hydrated(r2, 1), "the slow replica is still behind")
	g.release()
	r.waitHydrated(r2, 1)
	r.check(&r2, last)
}

// TestRuntimeKilledDuringHydration: r2's first runtime is slow and is
// stopped before it hydrated; its second incarnation hydrates and every
// index it serves equals the oracle.
func TestRuntimeKilledDuringHydration(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.installAll()
	ts := r.workload(7, 20)
	r.waitHydrated(r1, 1)
	r.addLocal(r2, slowBy(r2, 1, 100*time.Millisecond))
	r.eventually(func() bool { return r.l.current(r2).pid != nil }, "r2 launched")
	require.False(t, r.hydrated(r2, 1))
	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r2).pid).Wait())
	r.waitHydrated(r2, 2)
	r.check(&r2, ts[0], ts[len(ts)-1])
}

// TestRuntimeKilledDuringPeek: a peek pending on a runtime (at a time not
// yet written) when that runtime stops gets exactly one answer: targeted
// at it, "target replica failed"; untargeted, rows once the time is
// written, from whichever replica answers first. The replica comes back
// as a new incarnation and matches the oracle.
func TestRuntimeKilledDuringPeek(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(8, 10)
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	future := ts[len(ts)-1] + 3

	targeted, any := newUuid(t), newUuid(t)
	tch, ach := r.answers.expect(targeted), r.answers.expect(any)
	r.sys.Root.Send(r.inst, instance.Peek{Uuid: targeted, Collection: perCustomer, Timestamp: future, Target: &r1, ReplyTo: r.answers.pid})
	r.sys.Root.Send(r.inst, instance.Peek{Uuid: any, Collection: perCustomer, Timestamp: future, ReplyTo: r.answers.pid})
	r.eventually(func() bool { return len(r.dump().Peeks) == 2 }, "both peeks pending")

	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r1).pid).Wait())
	select {
	case res := <-tch:
		_, err := peekRows(t, res)
		require.ErrorIs(t, err, instance.ErrReplicaFailed)
	case <-time.After(wait):
		t.Fatal("the targeted peek was not answered")
	}
	more := r.workload(9, 5)
	require.Greater(t, more[len(more)-1], future)
	var res *messages.ComputePeekResponse
	r.eventually(func() bool {
		select {
		case res = <-ach:
			return true
		default:
			return false
		}
	}, "the untargeted peek answered")
	got, err := peekRows(t, res)
	require.NoError(t, err)
	require.Equal(t, r.oracle(perCustomer, future), got)

	r.waitHydrated(r1, 2)
	r.check(&r1, ts[0], more[len(more)-1])
	require.Equal(t, 1, r.answers.answers(targeted))
	require.Equal(t, 1, r.answers.answers(any))
}

// TestLauncherFailingEveryStart: a replica whose runtime never launches
// ends failing after its restart budget, with the launch error in the
// dump, and is not launched again; the other replica serves meanwhile.
func TestLauncherFailingEveryStart(t *testing.T) {
	r := newRig(t, rigOptions{maxRestarts: 3})
	boom := errors.New("no capacity on the node")
	r.l.fail = func(id timely.ReplicaId, _ uint64) error {
		if id == r2 {
			return boom
		}
		return nil
	}
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(10, 5)
	r.eventually(func() bool { return r.replicaDump(r2).Status == "failing" }, "r2 failing")
	rd := r.replicaDump(r2)
	require.Contains(t, rd.LastError, boom.Error())
	require.True(t, rd.Restarts.Failing)
	attempts := r.l.attemptsOf(r2)
	require.Equal(t, 4, attempts, "one launch and three restarts")
	for i := 0; i < 10; i++ {
		r.maintain()
	}
	r.waitHydrated(r1, 1)
	require.Equal(t, attempts, r.l.attemptsOf(r2), "a failing replica is not relaunched")
	r.check(nil, ts[len(ts)-1])
}

// TestBadInputWithRuntimes: requests the instance must refuse, with real
// runtimes behind it (unknown collection, peek before the since, as_of
// before an input's since, a materialized view imported as an index, an
// existing collection, a duplicate replica): each gets a coded error naming the object, and
// nothing is half-applied (the collections and the history are unchanged,
// and every index still answers the oracle).
func TestBadInputWithRuntimes(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.installAll()
	ts := r.workload(11, 10)
	r.waitHydrated(r1, 1)
	last := ts[len(ts)-1]

	// The read policy lets bigOrders' since move to last (bigPerCust,
	// which imports it, holds it at its own since: it moves too).
	r.ok(instance.SetReadPolicy{Ids: []timely.GlobalId{bigOrders, bigPerCust}, Policy: instance.ValidFrom(timely.At(last))})
	r.eventually(func() bool {
		for _, c := range r.dump().Collections {
			if c.Id == bigOrders.String() {
				return c.Since == timely.At(last).String()
			}
		}
		return false
	}, "bigOrders' since at %d", last)
	before := r.dump()

	unknown := timely.UserId(99)
	// A dataflow reading an unknown collection.
	err := r.try(instance.CreateDataflow{Dataflow: dataflowOf(timely.UserId(20), getP(unknown), false, 0, []timely.GlobalId{orders, unknown},
		map[timely.GlobalId]dataflow.Schema{orders: ordersSchema, unknown: ordersSchema})})
	require.Error(t, err)
	require.ErrorIs(t, err, instance.ErrUnknownCollection)
	require.ErrorIs(t, err, messages.ErrNotFound)
	require.Contains(t, err.Error(), unknown.String())
	// A peek of an unknown collection.
	_, err = r.peek(unknown, last, nil)
	require.ErrorIs(t, err, instance.ErrUnknownCollection)
	require.Contains(t, err.Error(), unknown.String())
	// A peek before the since.
	_, err = r.peek(bigOrders, last-1, nil)
	require.ErrorIs(t, err, instance.ErrPeekCompacted)
	require.ErrorIs(t, err, messages.ErrCompacted)
	require.Contains(t, err.Error(), bigOrders.String())
	// A dataflow whose as_of is before an input's since.
	err = r.tryDataflow(timely.UserId(21), reduceP(getP(bigOrders), []int{1}, agg(sumW, 2)), false, last-1, nil, bigOrders)
	require.ErrorIs(t, err, instance.ErrAsOfCompacted)
	require.Contains(t, err.Error(), bigOrders.String())
	// A dataflow importing a materialized view as an index (the replicas
	// would refuse it: they serve index imports from indexes only).
	err = r.tryDataflow(timely.UserId(22), getP(perCustomer), false, last, nil, perCustomer)
	require.ErrorIs(t, err, instance.ErrInvalidDataflow)
	require.Contains(t, err.Error(), perCustomer.String())
	// A dataflow exporting a collection that exists.
	err = r.tryDataflow(bigOrders, getP(orders), false, last, []timely.GlobalId{orders})
	require.ErrorIs(t, err, instance.ErrCollectionExists)
	// A replica added twice.
	err = r.try(instance.AddReplica{Id: r1, Name: "again"})
	require.ErrorIs(t, err, instance.ErrReplicaExists)

	after := r.dump()
	require.Equal(t, before.HistoryCommands, after.HistoryCommands, "no command sent for a refused request")
	require.Equal(t, len(before.Collections), len(after.Collections))
	require.Len(t, after.Replicas, 1)
	require.Equal(t, uint64(1), after.Replicas[0].Incarnation)
	require.Equal(t, "active", after.Replicas[0].Status)
	for _, id := range []timely.GlobalId{perCustomer, withNames, bigPerCust, bigOrders} {
		got, err := r.peek(id, last, nil)
		require.NoError(t, err)
		require.Equal(t, r.oracle(id, last), got, "%s", id)
	}
}

// TestPeeksInFlightAcrossKill: sixty peeks of every collection are sent
// while one replica's runtime is stopped among them; each gets exactly one
// answer, the oracle's rows (the surviving replica answers what the
// stopped one had pending), and the stopped replica comes back.
func TestPeeksInFlightAcrossKill(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(13, 20)
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	last := ts[len(ts)-1]
	type inFlight struct {
		uuid timely.Uuid
		id   timely.GlobalId
		ch   chan *messages.ComputePeekResponse
	}
	var peeks []inFlight
	for i := 0; i < 60; i++ {
		p := inFlight{uuid: newUuid(t), id: allFlows[i%len(allFlows)]}
		p.ch = r.answers.expect(p.uuid)
		peeks = append(peeks, p)
		r.sys.Root.Send(r.inst, instance.Peek{Uuid: p.uuid, Collection: p.id, Timestamp: last, ReplyTo: r.answers.pid})
		if i == 20 {
			r.sys.Root.Stop(r.l.current(r1).pid)
		}
	}
	for _, p := range peeks {
		select {
		case res := <-p.ch:
			got, err := peekRows(t, res)
			require.NoError(t, err, "%s", p.id)
			require.Equal(t, r.oracle(p.id, last), got, "%s", p.id)
		case <-time.After(wait):
			t.Fatalf("peek of %s not answered", p.id)
		}
	}
	r.waitHydrated(r1, 2)
	for _, p := range peeks {
		require.Equal(t, 1, r.answers.answers(p.uuid))
	}
}

// TestRepeatedKills: the runtimes of both replicas are stopped in turn
// while rows are written; after each comes back, every collection on each
// replica equals the oracle at old and new times.
func TestRepeatedKills(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(14, 20)
	for k, victim := range []timely.ReplicaId{r1, r2, r1} {
		cur := r.l.current(victim)
		r.sys.Root.Stop(cur.pid)
		ts = append(ts, r.workload(int64(15+k), 15)...)
		r.waitHydrated(victim, cur.incarnation+1)
	}
	last := ts[len(ts)-1]
	r.check(nil, ts[0], ts[len(ts)/3], last)
	r.check(&r1, ts[len(ts)/2], last)
	r.check(&r2, ts[len(ts)/2], last)
}

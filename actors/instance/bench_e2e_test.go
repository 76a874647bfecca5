package instance_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The compute controller's benchmarks. Each reports its figure beside a
// baseline measured in the same run; none asserts a time. Figures and the
// commands that produce them: docs/benchmarks.md, "Compute controller".

// seqUuid is the n-th peek id of a benchmark (no randomness needed).
func seqUuid(n uint64) timely.Uuid {
	var u timely.Uuid
	binary.BigEndian.PutUint64(u[8:], n)
	u[0] = 0xbe
	return u
}

// latencies collects durations and reports their p50 and p99 in µs.
type latencies []time.Duration

func (l latencies) report(b *testing.B, prefix string) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(q float64) float64 {
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), prefix+"p50-µs")
	b.ReportMetric(at(0.99), prefix+"p99-µs")
}

// direct is a runtime driven straight through the compute protocol, with
// no instance in between: the baseline of the peek benchmarks. Its
// responses come to a collector actor, the sender of its Hello.
type direct struct {
	r       *rig
	runtime *actor.PID
	col     *actor.PID
	epoch   *messages.ComputeEpoch

	mu       sync.Mutex
	hydrated map[timely.GlobalId]bool
	peek     chan *messages.ComputePeekResponse
}

// newDirect connects to a runtime at pid (spawned by the caller) and
// installs desc on it (created, scheduled, initialization complete).
func newDirect(r *rig, pid *actor.PID, descs ...*messages.ComputeDataflowDescription) *direct {
	d := &direct{r: r, runtime: pid, epoch: &messages.ComputeEpoch{Environment: 9, Incarnation: 1},
		hydrated: map[timely.GlobalId]bool{}, peek: make(chan *messages.ComputePeekResponse, 1)}
	d.col = r.sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		m, ok := ctx.Message().(*messages.ComputeResponse)
		if !ok {
			return
		}
		switch e := m.Response.(type) {
		case *messages.ComputeResponse_PeekResponse:
			d.peek <- e.PeekResponse
		case *messages.ComputeResponse_Status:
			d.mu.Lock()
			for _, h := range e.Status.GetHydration() {
				if h.GetHydrated() {
					id, _ := h.GetId().ToTimely()
					d.hydrated[id] = true
				}
			}
			d.mu.Unlock()
		}
	}))
	r.t.Cleanup(func() { _ = r.sys.Root.StopFuture(d.col).Wait() })
	r.sys.Root.RequestWithCustomSender(pid, d.cmd(&messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}), d.col)
	d.send(&messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{Config: &messages.ComputeInstanceConfig{Replica: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 99}), ReplicaName: "direct"}}})
	for _, desc := range descs {
		d.send(&messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: desc}})
		for _, e := range desc.GetIndexExports() {
			d.send(&messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: e.GetId()}})
		}
	}
	d.send(&messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}})
	return d
}

func (d *direct) cmd(c any) *messages.ComputeCommand {
	m := &messages.ComputeCommand{Epoch: d.epoch}
	switch c := c.(type) {
	case *messages.ComputeCommand_Hello:
		m.Command = c
	case *messages.ComputeCommand_CreateInstance:
		m.Command = c
	case *messages.ComputeCommand_CreateDataflow:
		m.Command = c
	case *messages.ComputeCommand_Schedule:
		m.Command = c
	case *messages.ComputeCommand_InitializationComplete:
		m.Command = c
	case *messages.ComputeCommand_Peek:
		m.Command = c
	default:
		panic(fmt.Sprintf("not a command: %T", c))
	}
	return m
}

func (d *direct) send(c any) { d.r.sys.Root.Send(d.runtime, d.cmd(c)) }

func (d *direct) isHydrated(ids ...timely.GlobalId) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if !d.hydrated[id] {
			return false
		}
	}
	return true
}

// peekOnce peeks id at t straight at the runtime and returns the latency.
func (d *direct) peekOnce(b *testing.B, u timely.Uuid, id timely.GlobalId, t timely.Timestamp) time.Duration {
	start := time.Now()
	d.send(&messages.ComputeCommand_Peek{Peek: &messages.ComputePeek{Uuid: messages.FromUuid(u),
		Target: &messages.ComputePeek_Index{Index: messages.FromGlobalId(id)}, Timestamp: uint64(t)}})
	select {
	case res := <-d.peek:
		el := time.Since(start)
		if res.GetRows() == nil {
			b.Fatalf("direct peek: %v", res)
		}
		return el
	case <-time.After(wait):
		b.Fatal("direct peek: no answer")
	}
	return 0
}

// instancePeekOnce peeks id at t through the instance and returns the
// latency.
func (r *rig) instancePeekOnce(b *testing.B, u timely.Uuid, id timely.GlobalId, t timely.Timestamp) time.Duration {
	ch := r.answers.expect(u)
	start := time.Now()
	r.sys.Root.Send(r.inst, instance.Peek{Uuid: u, Collection: id, Timestamp: t, ReplyTo: r.answers.pid})
	select {
	case res := <-ch:
		el := time.Since(start)
		if res.GetRows() == nil {
			b.Fatalf("instance peek: %v", res)
		}
		return el
	case <-time.After(wait):
		b.Fatal("instance peek: no answer")
	}
	return 0
}

// peekBenchData creates the tables and dataflows of the tests and writes
// some rows; it returns the last timestamp.
func peekBenchData(r *rig) timely.Timestamp {
	r.installAll()
	ts := r.workload(12, 40)
	return ts[len(ts)-1]
}

// benchPeeks measures b.N peeks through the instance and b.N straight at a
// runtime (the baseline), interleaved.
func benchPeeks(b *testing.B, r *rig, d *direct, last timely.Timestamp) {
	for i := 0; i < 200; i++ { // warm up both paths
		r.instancePeekOnce(b, seqUuid(uint64(1<<40+i)), bigOrders, last)
		d.peekOnce(b, seqUuid(uint64(1<<41+i)), bigOrders, last)
	}
	inst, dir := make(latencies, 0, b.N), make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inst = append(inst, r.instancePeekOnce(b, seqUuid(uint64(2*i)), bigOrders, last))
		dir = append(dir, d.peekOnce(b, seqUuid(uint64(2*i+1)), bigOrders, last))
	}
	b.StopTimer()
	inst.report(b, "instance-")
	dir.report(b, "runtime-")
}

// BenchmarkPeekLatency: a peek of an index through the instance (1 and 2
// in-process replicas; the first answer wins) beside the same peek sent
// straight to a runtime over the same storage. Targets: instance p50 <=
// 100 µs, p99 <= 1 ms.
func BenchmarkPeekLatency(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			r := newRig(b, rigOptions{})
			r.addLocal(r1, nil)
			if replicas == 2 {
				r.addLocal(r2, nil)
			}
			last := peekBenchData(r)
			r.waitHydrated(r1, 1)
			if replicas == 2 {
				r.waitHydrated(r2, 1)
			}
			d := r.startDirect(b)
			benchPeeks(b, r, d, last)
		})
	}
}

// startDirect spawns the baseline runtime in this process (its own
// outputs shard and subscription) and waits until it hydrated.
func (r *rig) startDirect(b *testing.B) *direct {
	id := timely.ReplicaId{Kind: timely.User, Value: 99}
	props, err := r.runtimes(r.localOutputs, nil).Props(id, 1)
	require.NoError(b, err)
	pid := r.sys.Root.Spawn(props)
	b.Cleanup(func() { _ = r.sys.Root.StopFuture(pid).Wait() })
	return r.connectDirect(b, pid)
}

// connectDirect installs the benchmark's index on the runtime at pid and
// waits until it hydrated.
func (r *rig) connectDirect(b *testing.B, pid *actor.PID) *direct {
	desc := dataflowOf(bigOrders, filterP(getP(orders), gtE(colE(2), litE(dataflow.Int64(50)))), false, 0,
		[]timely.GlobalId{orders}, map[timely.GlobalId]dataflow.Schema{orders: ordersSchema})
	d := newDirect(r, pid, desc)
	deadline := time.Now().Add(wait)
	for !d.isHydrated(bigOrders) {
		if time.Now().After(deadline) {
			b.Fatal("the baseline runtime did not hydrate")
		}
		time.Sleep(time.Millisecond)
	}
	return d
}

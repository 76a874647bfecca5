package instance_test

import (
	"fmt"
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

// rehydrateData writes rows writes of 100 orders and creates n filter
// indexes over them through the instance (no replica yet).
func rehydrateData(r *rig, n, writes int) timely.Timestamp {
	r.createTable(orders, ordersSchema)
	var last timely.Timestamp
	next := int64(0)
	for w := 0; w < writes; w++ {
		cs := make([]change, 100)
		for i := range cs {
			next++
			cs[i] = change{table: orders, row: dataflow.Row{dataflow.Int64(next), dataflow.Int64(next % 17), dataflow.Int64((next * 37) % 100)}, diff: 1}
		}
		last = r.write(cs...)
	}
	for i := 0; i < n; i++ {
		r.createDataflow(timely.UserId(uint64(100+i)), filterP(getP(orders), gtE(colE(2), litE(dataflow.Int64(int64(i%100))))), false, []timely.GlobalId{orders})
	}
	return last
}

// timeUntilHydrated drives Maintain until replica id reports every
// collection hydrated at an incarnation of at least inc; it returns the
// time from start.
func (r *rig) timeUntilHydrated(b *testing.B, start time.Time, id timely.ReplicaId, inc uint64) time.Duration {
	deadline := start.Add(wait)
	for !r.hydrated(id, inc) {
		if time.Now().After(deadline) {
			b.Fatalf("replica %s not hydrated at incarnation %d within %s", id, inc, wait)
		}
		r.maintain()
		time.Sleep(500 * time.Microsecond)
	}
	return time.Since(start)
}

// timeUntilRelaunched drives Maintain until replica id's runtime of
// incarnation inc is launched; it returns the time from start.
func (r *rig) timeUntilRelaunched(b *testing.B, start time.Time, id timely.ReplicaId, inc uint64) time.Duration {
	for r.l.current(id).incarnation < inc {
		if time.Since(start) > wait {
			b.Fatalf("replica %s not relaunched at incarnation %d within %s", id, inc, wait)
		}
		r.maintain()
		time.Sleep(100 * time.Microsecond)
	}
	return time.Since(start)
}

// BenchmarkRehydration: the time from a runtime's stop to every collection
// hydrated again on its next incarnation (failure detected, Maintain
// relaunches it, the reduced history replayed, flows rebuilt from
// storage), beside the time a new replica takes to build the same
// dataflows fresh; restart-ms is the part until the next runtime is
// launched (detection and relaunch). Maintain is driven as fast as the test polls, so the
// figure leaves out the up-to-one-second wait for the next tick. Target:
// rehydrate <= 2x fresh.
func BenchmarkRehydration(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("dataflows=%d", n), func(b *testing.B) {
			r := newRig(b, rigOptions{})
			rehydrateData(r, n, 20)
			var fresh, restart, rehydrate time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := timely.ReplicaId{Kind: timely.User, Value: uint64(10 + i)}
				start := time.Now()
				r.addLocal(id, nil)
				fresh += r.timeUntilHydrated(b, start, id, 1)
				pid := r.l.current(id).pid
				start = time.Now()
				r.sys.Root.Stop(pid)
				restart += r.timeUntilRelaunched(b, start, id, 2)
				rehydrate += r.timeUntilHydrated(b, start, id, 2)
				r.ok(instance.RemoveReplica{Id: id})
			}
			b.StopTimer()
			b.ReportMetric(float64(fresh.Microseconds())/1e3/float64(b.N), "fresh-ms")
			b.ReportMetric(float64(restart.Microseconds())/1e3/float64(b.N), "restart-ms")
			b.ReportMetric(float64(rehydrate.Microseconds())/1e3/float64(b.N), "rehydrate-ms")
			b.ReportMetric(float64(rehydrate)/float64(fresh), "rehydrate/fresh")
		})
	}
}

// replaySink is the controller side of the replay benchmark: it counts
// hydrated collections and signals when the last peek is answered.
type replaySink struct {
	mu       sync.Mutex
	hydrated map[timely.GlobalId]bool
	last     timely.Uuid
	done     chan struct{}
}

func (s *replaySink) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*messages.ComputeResponse)
	if !ok {
		return
	}
	switch e := m.Response.(type) {
	case *messages.ComputeResponse_Status:
		s.mu.Lock()
		for _, h := range e.Status.GetHydration() {
			if h.GetHydrated() {
				id, _ := h.GetId().ToTimely()
				s.hydrated[id] = true
			}
		}
		s.mu.Unlock()
	case *messages.ComputeResponse_PeekResponse:
		if u, _ := e.PeekResponse.GetUuid().ToTimely(); u == s.last {
			close(s.done)
		}
	}
}

func (s *replaySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hydrated)
}

// replayHistory is a history of about n commands: Hello, CreateInstance,
// dataflows indexes over orders with their Schedules, then peeks with their
// CancelPeeks and AllowCompactions moving forward to last, and
// InitializationComplete.
func replayHistory(n, dataflows int, last timely.Timestamp) []*messages.ComputeCommand {
	wrap := func(c any) *messages.ComputeCommand {
		m := &messages.ComputeCommand{}
		switch c := c.(type) {
		case *messages.ComputeCommand_Hello:
			m.Command = c
		case *messages.ComputeCommand_CreateInstance:
			m.Command = c
		case *messages.ComputeCommand_CreateDataflow:
			m.Command = c
		case *messages.ComputeCommand_Schedule:
			m.Command = c
		case *messages.ComputeCommand_Peek:
			m.Command = c
		case *messages.ComputeCommand_CancelPeek:
			m.Command = c
		case *messages.ComputeCommand_AllowCompaction:
			m.Command = c
		case *messages.ComputeCommand_InitializationComplete:
			m.Command = c
		}
		return m
	}
	cmds := []*messages.ComputeCommand{
		wrap(&messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}),
		wrap(&messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{Config: &messages.ComputeInstanceConfig{Replica: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 98}), ReplicaName: "replay"}}}),
	}
	ids := make([]timely.GlobalId, dataflows)
	for i := range ids {
		ids[i] = timely.UserId(uint64(100 + i))
		desc := dataflowOf(ids[i], filterP(getP(orders), gtE(colE(2), litE(dataflow.Int64(int64(i%100))))), false, 0,
			[]timely.GlobalId{orders}, map[timely.GlobalId]dataflow.Schema{orders: ordersSchema})
		cmds = append(cmds, wrap(&messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: desc}}))
	}
	for _, id := range ids {
		cmds = append(cmds, wrap(&messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: messages.FromGlobalId(id)}}))
	}
	rest := n - len(cmds) - 1
	for k := 0; k < rest/3; k++ {
		id := ids[k%len(ids)]
		at := last - timely.Timestamp(rest/3-k)/timely.Timestamp(len(ids))
		u := messages.FromUuid(seqUuid(uint64(k)))
		cmds = append(cmds,
			wrap(&messages.ComputeCommand_Peek{Peek: &messages.ComputePeek{Uuid: u, Target: &messages.ComputePeek_Index{Index: messages.FromGlobalId(id)}, Timestamp: uint64(at)}}),
			wrap(&messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{Uuid: u}}),
			wrap(&messages.ComputeCommand_AllowCompaction{AllowCompaction: &messages.ComputeAllowCompaction{Id: messages.FromGlobalId(id), Frontier: messages.FromFrontier(timely.At(at))}}))
	}
	return append(cmds, wrap(&messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}}))
}

// BenchmarkReplay: a fresh runtime brought up to date from a history of
// 1e4 commands (10 dataflows, then peeks, cancels and compactions), sent
// as recorded (unreduced) beside the instance's reduced replay of the
// same history; each measured from the Hello to every dataflow hydrated
// and a last peek answered.
func BenchmarkReplay(b *testing.B) {
	const commands, dataflows = 10000, 10
	r := newRig(b, rigOptions{})
	last := rehydrateData(r, 0, 20)
	full := replayHistory(commands, dataflows, last)
	h := instance.NewHistory()
	for _, c := range full {
		h.Push(c)
	}
	epoch := &messages.ComputeEpoch{Environment: 7, Incarnation: 1}
	reduced := h.Replay(epoch)
	for _, c := range full {
		c.Epoch = epoch
	}

	run := func(cmds []*messages.ComputeCommand, n int) time.Duration {
		id := timely.ReplicaId{Kind: timely.User, Value: uint64(1000 + n)}
		props, err := r.runtimes(r.localOutputs, nil).Props(id, 1)
		require.NoError(b, err)
		pid := r.sys.Root.Spawn(props)
		sink := &replaySink{hydrated: map[timely.GlobalId]bool{}, last: seqUuid(1 << 50), done: make(chan struct{})}
		col := r.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return sink }))
		start := time.Now()
		r.sys.Root.RequestWithCustomSender(pid, cmds[0], col)
		for _, c := range cmds[1:] {
			r.sys.Root.Send(pid, c)
		}
		r.sys.Root.Send(pid, &messages.ComputeCommand{Epoch: epoch, Command: &messages.ComputeCommand_Peek{Peek: &messages.ComputePeek{
			Uuid: messages.FromUuid(sink.last), Target: &messages.ComputePeek_Index{Index: messages.FromGlobalId(timely.UserId(100))}, Timestamp: uint64(last)}}})
		select {
		case <-sink.done:
		case <-time.After(wait):
			b.Fatal("replay: the last peek was not answered")
		}
		for sink.count() < dataflows {
			if time.Since(start) > wait {
				b.Fatal("replay: not hydrated")
			}
			time.Sleep(100 * time.Microsecond)
		}
		el := time.Since(start)
		require.NoError(b, r.sys.Root.StopFuture(pid).Wait())
		require.NoError(b, r.sys.Root.StopFuture(col).Wait())
		return el
	}
	var tFull, tReduced time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tFull += run(full, 2*i)
		tReduced += run(reduced, 2*i+1)
	}
	b.StopTimer()
	b.ReportMetric(float64(tFull.Microseconds())/1e3/float64(b.N), "unreduced-ms")
	b.ReportMetric(float64(tReduced.Microseconds())/1e3/float64(b.N), "reduced-ms")
	b.ReportMetric(float64(len(full)), "unreduced-commands")
	b.ReportMetric(float64(len(reduced)), "reduced-commands")
}

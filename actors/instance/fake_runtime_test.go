package instance

import (
	"context"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// behavior is how one incarnation of a fake runtime acts.
type behavior struct {
	// holdPeeks keeps peeks unanswered until releasePeeks (a slow replica).
	holdPeeks bool
	// dieOnHello stops the runtime when it receives its Hello.
	dieOnHello bool
	// statusErr, when set, is reported after each CreateDataflow: about
	// its first export when statusOn, about the runtime otherwise.
	statusErr *messages.Error
	statusOn  bool
}

// observed reports a command a fake runtime accepted, to the test's probe.
type observed struct {
	replica     timely.ReplicaId
	incarnation uint64
	command     string
}

// releasePeeks makes a fake runtime answer the peeks it holds.
type releasePeeks struct{}

// fakeRuntime speaks the compute protocol: it serves one epoch at a time
// (a newer Hello resets it, older commands are dropped), reports every
// export hydrated at as_of+1, answers peeks from an in-memory model (an
// index's rows, at every time) and reports a dropped collection's write
// frontier empty.
type fakeRuntime struct {
	id       timely.ReplicaId
	inc      uint64
	behavior behavior
	model    map[timely.GlobalId][]*messages.Row
	observer *actor.PID

	epoch      *messages.ComputeEpoch
	controller *actor.PID
	held       []*messages.ComputePeek
}

func newer(a, b *messages.ComputeEpoch) bool {
	if a.GetEnvironment() != b.GetEnvironment() {
		return a.GetEnvironment() > b.GetEnvironment()
	}
	return a.GetIncarnation() > b.GetIncarnation()
}

func (f *fakeRuntime) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.ComputeCommand:
		if _, hello := m.Command.(*messages.ComputeCommand_Hello); hello {
			if f.epoch != nil && !newer(m.Epoch, f.epoch) {
				return
			}
			f.epoch, f.controller = m.Epoch, ctx.Sender()
			f.observe(ctx, m)
			if f.behavior.dieOnHello {
				ctx.Stop(ctx.Self())
			}
			return
		}
		if f.epoch == nil || newer(f.epoch, m.Epoch) || newer(m.Epoch, f.epoch) {
			return // not the current connection
		}
		f.observe(ctx, m)
		f.handle(ctx, m)
	case releasePeeks:
		held := f.held
		f.held = nil
		for _, p := range held {
			f.answer(ctx, p)
		}
	}
}

func (f *fakeRuntime) observe(ctx actor.Context, cmd *messages.ComputeCommand) {
	if f.observer != nil {
		ctx.Send(f.observer, observed{replica: f.id, incarnation: f.inc, command: DescribeCommand(cmd)})
	}
}

func (f *fakeRuntime) respond(ctx actor.Context, r *messages.ComputeResponse) {
	r.Epoch, r.Replica = f.epoch, messages.FromReplicaId(f.id)
	ctx.Send(f.controller, r)
}

func (f *fakeRuntime) handle(ctx actor.Context, cmd *messages.ComputeCommand) {
	switch c := cmd.Command.(type) {
	case *messages.ComputeCommand_CreateDataflow:
		df := c.CreateDataflow.GetDataflow()
		asOf, _ := df.GetAsOf().ToTimely()
		upper := timely.Closed()
		if t, ok := asOf.Time(); ok {
			upper = timely.At(t + 1)
		}
		var ids []*messages.GlobalId
		for _, x := range df.GetIndexExports() {
			ids = append(ids, x.GetId())
		}
		for _, x := range df.GetSinkExports() {
			ids = append(ids, x.GetId())
		}
		status := &messages.ComputeStatus{}
		for _, id := range ids {
			f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Frontiers{Frontiers: &messages.ComputeFrontiers{
				Id: id, Write: messages.FromFrontier(upper), Input: messages.FromFrontier(upper), Output: messages.FromFrontier(upper)}}})
			status.Hydration = append(status.Hydration, &messages.ComputeHydration{Id: id, Hydrated: true})
		}
		f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: status}})
		if e := f.behavior.statusErr; e != nil {
			st := &messages.ComputeStatus{Error: e}
			if f.behavior.statusOn && len(ids) > 0 {
				st.Failed = ids[0]
			}
			f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: st}})
		}
		// A subscribe sends one batch: one update at as_of and one after.
		for _, x := range df.GetSinkExports() {
			t, ok := asOf.Time()
			if x.GetSubscribe() == nil || !ok {
				continue
			}
			f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
				Id: x.GetId(), Response: &messages.ComputeSubscribeResponse_Batch{Batch: &messages.ComputeSubscribeBatch{
					Lower: messages.FromFrontier(asOf), Upper: messages.FromFrontier(timely.At(t + 2)),
					Result: &messages.ComputeSubscribeBatch_Updates{Updates: &messages.ComputeUpdates{Updates: []*messages.ComputeUpdate{
						{Row: row(1), Time: uint64(t), Diff: 1}, {Row: row(2), Time: uint64(t + 1), Diff: 1}}}}}}}}})
		}
	case *messages.ComputeCommand_Peek:
		if f.behavior.holdPeeks {
			f.held = append(f.held, c.Peek)
			return
		}
		f.answer(ctx, c.Peek)
	case *messages.ComputeCommand_CancelPeek:
		for i, p := range f.held {
			if p.GetUuid().GetLo() == c.CancelPeek.GetUuid().GetLo() && p.GetUuid().GetHi() == c.CancelPeek.GetUuid().GetHi() {
				f.held = append(f.held[:i], f.held[i+1:]...)
				f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_PeekResponse{PeekResponse: &messages.ComputePeekResponse{
					Uuid: p.GetUuid(), Result: &messages.ComputePeekResponse_Canceled{Canceled: &messages.ComputePeekCanceled{}}}}})
				break
			}
		}
	case *messages.ComputeCommand_AllowCompaction:
		if fr, _ := c.AllowCompaction.GetFrontier().ToTimely(); !fr.IsEmpty() {
			return
		}
		f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Frontiers{Frontiers: &messages.ComputeFrontiers{
			Id: c.AllowCompaction.GetId(), Write: messages.FromFrontier(timely.Closed())}}})
	}
}

func (f *fakeRuntime) answer(ctx actor.Context, p *messages.ComputePeek) {
	id, _ := p.GetIndex().ToTimely()
	f.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_PeekResponse{PeekResponse: &messages.ComputePeekResponse{
		Uuid: p.GetUuid(), Result: &messages.ComputePeekResponse_Rows{Rows: &messages.ComputePeekRows{Rows: f.model[id]}}}}})
}

// fakeLauncher spawns fake runtimes in the test's actor system and
// remembers them, so a test can kill one.
type fakeLauncher struct {
	sys      *actor.ActorSystem
	model    map[timely.GlobalId][]*messages.Row
	observer *actor.PID
	behave   func(timely.ReplicaId, uint64) behavior

	mu       sync.Mutex
	runtimes map[timely.ReplicaId]map[uint64]*actor.PID
}

func (l *fakeLauncher) Launch(_ context.Context, id timely.ReplicaId, inc uint64) (*actor.PID, error) {
	f := &fakeRuntime{id: id, inc: inc, behavior: l.behave(id, inc), model: l.model, observer: l.observer}
	pid := l.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return f }))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runtimes[id] == nil {
		l.runtimes[id] = map[uint64]*actor.PID{}
	}
	l.runtimes[id][inc] = pid
	return pid, nil
}

func (l *fakeLauncher) runtime(id timely.ReplicaId, inc uint64) *actor.PID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runtimes[id][inc]
}

func (l *fakeLauncher) launches(id timely.ReplicaId) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.runtimes[id])
}

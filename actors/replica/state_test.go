package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const wait = 3 * time.Second

var rid = timely.ReplicaId{Kind: timely.User, Value: 1}

// parent spawns a ReplicaState and forwards what it reports to a probe;
// it forwards anything else it receives to the child.
type parent struct {
	props *actor.Props
	probe *actor.PID
	child *actor.PID
}

func (p *parent) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.child = ctx.Spawn(p.props)
	case Response, Failed:
		ctx.Send(p.probe, m)
	case Connect, Send:
		ctx.Send(p.child, m)
	}
}

// echoRuntime forwards each command to a probe with the sender it saw.
type echoRuntime struct{ probe *actor.PID }

type seen struct {
	cmd    *messages.ComputeCommand
	sender *actor.PID
}

func (e *echoRuntime) Receive(ctx actor.Context) {
	if cmd, ok := ctx.Message().(*messages.ComputeCommand); ok {
		if e.probe != nil {
			ctx.Send(e.probe, seen{cmd: cmd, sender: ctx.Sender()})
		}
		if cmd.GetCreateDataflow() != nil {
			ctx.Send(ctx.Sender(), &messages.ComputeResponse{Epoch: cmd.GetEpoch(), Response: &messages.ComputeResponse_Status{
				Status: &messages.ComputeStatus{Hydration: []*messages.ComputeHydration{{Id: messages.FromGlobalId(timely.UserId(10)), Hydrated: true}}}}})
		}
	}
}

func cmd(inc uint64, c *messages.ComputeCommand) *messages.ComputeCommand {
	c.Epoch = &messages.ComputeEpoch{Environment: 1, Incarnation: inc}
	return c
}

func hello(inc uint64) *messages.ComputeCommand {
	return cmd(inc, &messages.ComputeCommand{Command: &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}})
}

func schedule(inc uint64, n uint64) *messages.ComputeCommand {
	return cmd(inc, &messages.ComputeCommand{Command: &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: messages.FromGlobalId(timely.UserId(n))}}})
}

func start(t *testing.T, l Launcher) (*actor.ActorSystem, *actor.PID, *testkit.Probe) {
	t.Helper()
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	props, err := NewState(StateConfig{Replica: rid, Launcher: l, Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	p := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &parent{props: props, probe: probe.PID()} }))
	t.Cleanup(func() { _ = sys.Root.StopFuture(p).Wait() })
	return sys, p, probe
}

func TestConnectReplaysThenForwardsInOrder(t *testing.T) {
	var runtime *actor.PID
	var runtimeProbe *testkit.Probe
	var sysOf *actor.ActorSystem
	sys, p, probe := start(t, LauncherFunc(func(_ context.Context, _ timely.ReplicaId, _ uint64) (*actor.PID, error) {
		runtime = sysOf.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &echoRuntime{probe: runtimeProbe.PID()} }))
		return runtime, nil
	}))
	sysOf, runtimeProbe = sys, testkit.NewProbe(t, sys)
	create := cmd(1, &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{}}})
	sys.Root.Send(p, Connect{Incarnation: 1, Commands: []*messages.ComputeCommand{hello(1), create}})
	sys.Root.Send(p, Send{Command: schedule(1, 10)})
	sys.Root.Send(p, Send{Command: schedule(7, 11)}) // another incarnation: dropped
	sys.Root.Send(p, Send{Command: schedule(1, 12)})
	var got []string
	for i := 0; i < 4; i++ {
		s := testkit.ExpectMsg[seen](runtimeProbe, wait)
		if s.sender == nil {
			t.Fatal("command sent without a sender: the runtime could not answer")
		}
		got = append(got, s.cmd.String())
	}
	want := []string{hello(1).String(), create.String(), schedule(1, 10).String(), schedule(1, 12).String()}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("command %d: got %s, want %s", i, got[i], want[i])
		}
	}
	resp := testkit.ExpectMsg[Response](probe, wait)
	if resp.Replica != rid || resp.Response.GetStatus() == nil {
		t.Fatalf("forwarded %+v", resp)
	}

	// The runtime dies: Failed, once, for incarnation 1.
	sys.Root.Stop(runtime)
	f := testkit.ExpectMsg[Failed](probe, wait)
	if f.Incarnation != 1 || !errors.Is(f.Err, ErrRuntimeTerminated) {
		t.Fatalf("failed %+v", f)
	}
	probe.ExpectNoMsg(50 * time.Millisecond)
}

func TestLaunchErrorReportsFailed(t *testing.T) {
	sys, p, probe := start(t, LauncherFunc(func(context.Context, timely.ReplicaId, uint64) (*actor.PID, error) {
		return nil, errors.New("no capacity")
	}))
	sys.Root.Send(p, Connect{Incarnation: 1, Commands: []*messages.ComputeCommand{hello(1)}})
	f := testkit.ExpectMsg[Failed](probe, wait)
	if f.Incarnation != 1 || !errors.Is(f.Err, ErrLaunchFailed) {
		t.Fatalf("failed %+v", f)
	}
}

func TestFixedRestartsGivesUpAfterBudget(t *testing.T) {
	now := time.Unix(0, 0)
	f := &FixedRestarts{Backoff: time.Second, MaxRestarts: 2, Window: time.Minute}
	boom := errors.New("boom")
	for i := 0; i < 2; i++ {
		if d := f.Failed(now, boom); !d.Restart || d.After != time.Second {
			t.Fatalf("failure %d: %+v", i, d)
		}
	}
	if d := f.Failed(now, boom); d.Restart || !errors.Is(d.Err, boom) || !f.Status(now).Failing {
		t.Fatalf("third failure: %+v, %+v", d, f.Status(now))
	}
	// Outside the window a fresh tracker would restart again.
	g := &FixedRestarts{Backoff: time.Second, MaxRestarts: 1, Window: time.Minute}
	g.Failed(now, boom)
	if d := g.Failed(now.Add(2*time.Minute), boom); !d.Restart {
		t.Fatalf("failure outside the window: %+v", d)
	}
}

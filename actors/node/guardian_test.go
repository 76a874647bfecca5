package node_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.LeakOptions()...) }

type crash struct{}
type ping struct{}
type started struct{}

// flaky panics on crash and reports each start to the probe.
func flakyProps(probe *testkit.Probe) *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *actor.Started:
			ctx.Send(probe.PID(), &started{})
		case *crash:
			panic("boom")
		case *ping:
			ctx.Respond(&ping{})
		}
	})
}

type events struct {
	mu       sync.Mutex
	restarts []string
	stopped  []string
}

func (e *events) config(policy node.Policy) node.Config {
	return node.Config{
		Policy:             policy,
		Logger:             testkit.QuietLogger(),
		OnRestart:          func(name string, _ any) { e.mu.Lock(); e.restarts = append(e.restarts, name); e.mu.Unlock() },
		OnSubsystemStopped: func(name string) { e.mu.Lock(); e.stopped = append(e.stopped, name); e.mu.Unlock() },
	}
}

func newGuardian(t *testing.T, cfg node.Config) *actor.Props {
	t.Helper()
	props, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return props
}

func spawn(t *testing.T, sys *actor.ActorSystem, g *actor.PID, name string, props *actor.Props) *actor.PID {
	t.Helper()
	res, err := sys.Root.RequestFuture(g, &node.SpawnSubsystem{Name: name, Props: props}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	ok, isOk := res.(*node.SubsystemSpawned)
	if !isOk {
		t.Fatalf("spawn %s: %#v", name, res)
	}
	return ok.PID
}

func TestGuardianRestartsFailingSubsystem(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	ev := &events{}
	g := sys.Root.Spawn(newGuardian(t, ev.config(node.DefaultPolicy)))
	pid := spawn(t, sys, g, "storage", flakyProps(probe))
	testkit.ExpectMsg[*started](probe, testkit.DefaultTimeout)

	sys.Root.Send(pid, &crash{})
	testkit.ExpectMsg[*started](probe, testkit.DefaultTimeout) // restarted
	if _, err := sys.Root.RequestFuture(pid, &ping{}, time.Second).Result(); err != nil {
		t.Fatalf("restarted subsystem does not answer: %v", err)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.restarts) != 1 || ev.restarts[0] != "storage" || len(ev.stopped) != 0 {
		t.Fatalf("restarts %v stopped %v", ev.restarts, ev.stopped)
	}
}

func TestGuardianStopsSubsystemThatKeepsFailing(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	ev := &events{}
	g := sys.Root.Spawn(newGuardian(t, ev.config(node.Policy{MaxRestarts: 2, Within: time.Minute})))
	pid := spawn(t, sys, g, "replica", flakyProps(probe))
	testkit.ExpectMsg[*started](probe, testkit.DefaultTimeout)
	probe.Watch(pid)
	for i := 0; i < 2; i++ {
		sys.Root.Send(pid, &crash{})
		testkit.ExpectMsg[*started](probe, testkit.DefaultTimeout)
	}
	sys.Root.Send(pid, &crash{}) // third failure within the window: stopped
	testkit.ExpectMsg[*actor.Terminated](probe, testkit.DefaultTimeout)
	testkit.Eventually(t, func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return len(ev.stopped) == 1 && ev.stopped[0] == "replica"
	}, testkit.DefaultTimeout, "stop not reported")
	res, _ := sys.Root.RequestFuture(g, &node.ListSubsystems{}, time.Second).Result()
	if names := res.(*node.SubsystemList).Names; len(names) != 0 {
		t.Fatalf("stopped subsystem still listed: %v", names)
	}
}

func TestGuardianRejectsDuplicateNames(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	g := sys.Root.Spawn(newGuardian(t, node.Config{Logger: testkit.QuietLogger()}))
	spawn(t, sys, g, "catalog", flakyProps(probe))
	res, err := sys.Root.RequestFuture(g, &node.SpawnSubsystem{Name: "catalog", Props: flakyProps(probe)}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	failed, ok := res.(*node.SpawnFailed)
	if !ok || !errors.Is(failed.Err, node.ErrDuplicateSubsystem) {
		t.Fatalf("duplicate spawn: %#v", res)
	}
	spawn(t, sys, g, "storage", flakyProps(probe))
	res, _ = sys.Root.RequestFuture(g, &node.ListSubsystems{}, time.Second).Result()
	if names := res.(*node.SubsystemList).Names; len(names) != 2 || names[0] != "catalog" || names[1] != "storage" {
		t.Fatalf("names %v", names)
	}
}

func TestStoppingGuardianStopsSubsystemsQuietly(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	ev := &events{}
	g := sys.Root.Spawn(newGuardian(t, ev.config(node.DefaultPolicy)))
	pid := spawn(t, sys, g, "storage", flakyProps(probe))
	probe.Watch(pid)
	if err := sys.Root.StopFuture(g).Wait(); err != nil {
		t.Fatal(err)
	}
	probe.FishFor(func(m any) bool { term, ok := m.(*actor.Terminated); return ok && term.Who.Equal(pid) }, testkit.DefaultTimeout)
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.stopped) != 0 {
		t.Fatalf("an orderly stop was reported as a failure: %v", ev.stopped)
	}
}

func TestGuardianAnswersUnknownRequestsWithADecodableError(t *testing.T) {
	sys := testkit.NewSystem(t)
	g := sys.Root.Spawn(newGuardian(t, node.Config{Logger: testkit.QuietLogger()}))
	res, err := sys.Root.RequestFuture(g, &messages.Row{}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	reply, ok := res.(*messages.UnknownMessageReply)
	if !ok || !errors.Is(messages.ErrorFromWire(reply.GetError()), messages.ErrUnknownMessage) {
		t.Fatalf("unknown request answered with %#v", res)
	}
}

func TestGuardianServesNothingToRemoteSenders(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	g := sys.Root.Spawn(newGuardian(t, node.Config{Logger: testkit.QuietLogger()}))
	f := actor.NewFuture(sys, 5*time.Second)
	env := &actor.MessageEnvelope{Message: &node.SpawnSubsystem{Name: "intruder", Props: flakyProps(probe)}, Sender: f.PID()}
	env.SetHeader(surface.RemoteHeader, "10.0.0.9:4000")
	sys.Root.Send(g, env)
	res, err := f.Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.(*messages.UnknownMessageReply); !ok {
		t.Fatalf("a remote spawn request was answered with %#v", res)
	}
	res, _ = sys.Root.RequestFuture(g, &node.ListSubsystems{}, time.Second).Result()
	if names := res.(*node.SubsystemList).Names; len(names) != 0 {
		t.Fatalf("a remote sender spawned a subsystem: %v", names)
	}
}

func TestStopSubsystemIsNotReportedAsAFailure(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	ev := &events{}
	g := sys.Root.Spawn(newGuardian(t, ev.config(node.DefaultPolicy)))
	pid := spawn(t, sys, g, "storage", flakyProps(probe))
	testkit.ExpectMsg[*started](probe, testkit.DefaultTimeout)

	probe.Send(g, &node.StopSubsystem{Name: "storage"})
	if got := testkit.ExpectMsg[*node.SubsystemStopped](probe, testkit.DefaultTimeout); got.Name != "storage" {
		t.Fatalf("answer names %q", got.Name)
	}
	// The answer comes only after the subsystem terminated.
	if _, err := sys.Root.RequestFuture(pid, &ping{}, 100*time.Millisecond).Result(); err == nil {
		t.Fatal("the subsystem still answers after SubsystemStopped")
	}
	// Unknown (and already stopped) names are answered at once.
	probe.Send(g, &node.StopSubsystem{Name: "storage"})
	testkit.ExpectMsg[*node.SubsystemStopped](probe, testkit.DefaultTimeout)

	res, err := sys.Root.RequestFuture(g, &node.ListSubsystems{}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if names := res.(*node.SubsystemList).Names; len(names) != 0 {
		t.Fatalf("subsystems after the stop: %v", names)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.stopped) != 0 {
		t.Fatalf("a requested stop was reported as a subsystem stopping on its own: %v", ev.stopped)
	}
}

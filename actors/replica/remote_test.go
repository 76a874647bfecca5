//go:build !race

package replica

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestRemoteRuntimeLostEndpoint runs the runtime on a second actor system
// over remote loopback: the ReplicaState talks to it through its remote
// PID, and when that system shuts down the replica is reported failed.
func TestRemoteRuntimeLostEndpoint(t *testing.T) {
	local, _ := testkit.NewRemoteSystem(t)
	probe := testkit.NewProbe(t, local)

	// The node the runtime lives on; shut down by the test.
	node := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return testkit.QuietLogger() }))
	nodeRemote := remote.NewRemote(node, remote.Configure("127.0.0.1", 0))
	nodeRemote.Start()
	stopped := false
	stopNode := func() {
		if !stopped {
			stopped = true
			surface.ShutdownRemote(nodeRemote)
			node.Shutdown()
		}
	}
	t.Cleanup(stopNode)

	launcher := LauncherFunc(func(context.Context, timely.ReplicaId, uint64) (*actor.PID, error) {
		pid := node.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &echoRuntime{} }))
		return actor.NewPID(node.Address(), pid.Id), nil
	})
	props, err := NewState(StateConfig{Replica: rid, Launcher: launcher, Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	p := local.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &parent{props: props, probe: probe.PID()} }))
	t.Cleanup(func() { _ = local.Root.StopFuture(p).Wait() })

	create := cmd(1, &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{}}})
	local.Root.Send(p, Connect{Incarnation: 1, Commands: []*messages.ComputeCommand{hello(1), create}})
	// The runtime answered across the network: the ReplicaState was the
	// sender it saw.
	resp := testkit.ExpectMsg[Response](probe, wait)
	if resp.Response.GetStatus() == nil {
		t.Fatalf("forwarded %+v", resp)
	}

	stopNode()
	f := testkit.ExpectMsg[Failed](probe, wait)
	if f.Incarnation != 1 || !errors.Is(f.Err, ErrRuntimeTerminated) {
		t.Fatalf("failed %+v", f)
	}
}

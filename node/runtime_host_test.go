package node

import (
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const hostWait = 5 * time.Second

// hostFixture is a runtime host in a test system: outputs under a
// temporary directory, a probe standing in for the storage actor and one
// for the membership actor, and the manual clock.
type hostFixture struct {
	t          *testing.T
	sys        *actor.ActorSystem
	clk        *testkit.ManualClock
	storage    *testkit.Probe
	membership *testkit.Probe
	outputs    *outputStores
	props      *actor.Props
}

func newHostFixture(t *testing.T) *hostFixture {
	t.Helper()
	f := &hostFixture{t: t, sys: testkit.NewSystem(t), clk: testkit.NewManualClock()}
	f.storage = testkit.NewProbe(t, f.sys)
	f.membership = testkit.NewProbe(t, f.sys)
	f.outputs = &outputStores{dir: t.TempDir(), open: map[timely.ReplicaId]*outputStore{}}
	t.Cleanup(func() { require.NoError(t, f.outputs.close()) })
	var err error
	f.props, err = newRuntimeHostProps(runtimeHostConfig{
		outputs: f.outputs, membership: f.membership.PID, hosts: &hostSet{pids: map[string]*actor.PID{}},
		clock: f.clk, logger: testkit.QuietLogger(), idle: time.Minute,
	})
	require.NoError(t, err)
	return f
}

// spawn starts a host watched by a new probe, which it returns.
func (f *hostFixture) spawn() (*actor.PID, *testkit.Probe) {
	pid := f.sys.Root.Spawn(f.props)
	w := testkit.NewProbe(f.t, f.sys)
	w.Watch(pid)
	f.t.Cleanup(func() { _ = f.sys.Root.StopFuture(pid).Wait() })
	return pid, w
}

func (f *hostFixture) setup(incarnation uint64) *messages.ClusterRuntimeSetup {
	return &messages.ClusterRuntimeSetup{
		Cluster: messages.FromClusterId(timely.ClusterId{Kind: timely.User, Value: 1}), Replica: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 2}),
		Incarnation: incarnation, StorageAddress: f.storage.PID().Address, StorageId: f.storage.PID().Id,
	}
}

// ask sends m to the host (from a remote peer at from, when not empty)
// and returns the setup answer.
func (f *hostFixture) ask(pid *actor.PID, m proto.Message, from string) error {
	f.t.Helper()
	fut := actor.NewFuture(f.sys, hostWait)
	env := &actor.MessageEnvelope{Message: m, Sender: fut.PID()}
	if from != "" {
		env.SetHeader(surface.RemoteHeader, from)
	}
	f.sys.Root.Send(pid, env)
	res, err := fut.Result()
	require.NoError(f.t, err)
	r, ok := res.(*messages.ClusterRuntimeSetupResponse)
	require.True(f.t, ok, "answer %T", res)
	if r.GetError() == nil {
		return nil
	}
	return messages.ErrorFromWire(r.GetError())
}

func expectTerminated(t *testing.T, w *testkit.Probe, pid *actor.PID) {
	t.Helper()
	term := testkit.ExpectMsg[*actor.Terminated](w, hostWait)
	require.True(t, term.GetWho().Equal(pid), "terminated %v, want %v", term.GetWho(), pid)
}

// TestRuntimeHostRefusesBadSetups: each malformed setup is answered with
// ErrBadSetup naming the field, nothing is opened, and the host still
// takes a good setup afterwards.
func TestRuntimeHostRefusesBadSetups(t *testing.T) {
	f := newHostFixture(t)
	pid, _ := f.spawn()
	for name, mutate := range map[string]func(*messages.ClusterRuntimeSetup){
		"replica":     func(m *messages.ClusterRuntimeSetup) { m.Replica = nil },
		"cluster":     func(m *messages.ClusterRuntimeSetup) { m.Cluster = &messages.ClusterId{} },
		"incarnation": func(m *messages.ClusterRuntimeSetup) { m.Incarnation = 0 },
		"storage":     func(m *messages.ClusterRuntimeSetup) { m.StorageId = "" },
	} {
		m := f.setup(1)
		mutate(m)
		err := f.ask(pid, m, "")
		require.ErrorIs(t, err, ErrBadSetup, name)
		require.Contains(t, err.Error(), name)
		require.Equal(t, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, messages.CodeOf(err), name)
	}
	require.Empty(t, f.outputs.open, "a refused setup opens nothing")
	require.NoError(t, f.ask(pid, f.setup(1), ""))
	require.NoError(t, f.ask(pid, f.setup(1), ""), "the same setup again is answered as the first")
	err := f.ask(pid, f.setup(2), "")
	require.ErrorIs(t, err, ErrBadSetup, "a setup for another incarnation")
	require.Contains(t, err.Error(), "incarnation 1")
	require.Len(t, f.outputs.open, 1)
}

// TestRuntimeHostRefusesSetupFromOutside: a setup from another process is
// checked against the membership view: from a node that is not an
// environment member up, it is refused with ErrSetupNotMember; from one
// that is, accepted.
func TestRuntimeHostRefusesSetupFromOutside(t *testing.T) {
	f := newHostFixture(t)
	pid, _ := f.spawn()
	// The sender (a future here) and the storage probe share this
	// system's address.
	addr := f.sys.Address()
	view := func(members ...cluster.Node) {
		testkit.ExpectMsg[cluster.GetMembers](f.membership, hostWait)
		f.membership.Reply(cluster.Nodes{Members: members})
	}
	done := make(chan error, 1)
	for name, members := range map[string][]cluster.Node{
		"a compute-only sender":    {{Address: addr, State: "up", Roles: []string{cluster.RoleCompute}}},
		"a sender not in the view": {{Address: "10.0.0.1:1", State: "up", Roles: []string{cluster.RoleEnvironment}}},
		"a sender that left":       {{Address: addr, State: "left", Roles: []string{cluster.RoleEnvironment}}},
	} {
		go func() { done <- f.ask(pid, f.setup(1), "10.0.0.9:4000") }()
		view(members...)
		err := <-done
		require.ErrorIs(t, err, ErrSetupNotMember, name)
		require.Contains(t, err.Error(), addr, name)
	}
	require.Empty(t, f.outputs.open, "a refused setup opens nothing")
	go func() { done <- f.ask(pid, f.setup(1), "10.0.0.9:4000") }()
	view(cluster.Node{Address: addr, State: "up", Roles: []string{cluster.RoleEnvironment, cluster.RoleCompute}})
	require.NoError(t, <-done)
}

// TestRuntimeHostLivesAsLongAsItsController: the sender of the compute
// commands is the controller; when it stops, the host and its runtime
// stop.
func TestRuntimeHostLivesAsLongAsItsController(t *testing.T) {
	f := newHostFixture(t)
	pid, w := f.spawn()
	require.NoError(t, f.ask(pid, f.setup(1), ""))
	controller := testkit.NewProbe(t, f.sys)
	controller.Send(pid, &messages.ComputeCommand{Epoch: &messages.ComputeEpoch{Environment: 1, Incarnation: 1},
		Command: &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{Nonce: &messages.Uuid{Hi: 1, Lo: 1}}}})
	w.ExpectNoMsg(100 * time.Millisecond)
	require.NoError(t, f.sys.Root.StopFuture(controller.PID()).Wait())
	expectTerminated(t, w, pid)
}

// TestRuntimeHostRetire: a retire naming another incarnation is ignored;
// one naming the host's stops it.
func TestRuntimeHostRetire(t *testing.T) {
	f := newHostFixture(t)
	pid, w := f.spawn()
	require.NoError(t, f.ask(pid, f.setup(3), ""))
	s := f.setup(3)
	f.sys.Root.Send(pid, &messages.ClusterRuntimeRetire{Cluster: s.Cluster, Replica: s.Replica, Incarnation: 2})
	f.sys.Root.Send(pid, &messages.ClusterRuntimeRetire{Cluster: s.Cluster, Replica: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 9}), Incarnation: 3})
	w.ExpectNoMsg(200 * time.Millisecond)
	f.sys.Root.Send(pid, &messages.ClusterRuntimeRetire{Cluster: s.Cluster, Replica: s.Replica, Incarnation: 3})
	expectTerminated(t, w, pid)
}

// TestRuntimeHostIdleExpires: a host nobody sets up, and one set up but
// never sent a command, stop when the idle timeout passes on the clock.
func TestRuntimeHostIdleExpires(t *testing.T) {
	f := newHostFixture(t)
	idle, wIdle := f.spawn()
	setUp, wSetUp := f.spawn()
	require.NoError(t, f.ask(setUp, f.setup(1), ""))
	require.True(t, f.clk.WaitForTimers(2, hostWait))
	f.clk.Advance(time.Minute)
	expectTerminated(t, wIdle, idle)
	expectTerminated(t, wSetUp, setUp)
}

// TestRuntimeHostStopsWhenItsRuntimeStops: a runtime that fails (here:
// stopped under the host) takes its host with it, so the controller
// watching the host sees Terminated.
func TestRuntimeHostStopsWhenItsRuntimeStops(t *testing.T) {
	f := newHostFixture(t)
	pid, w := f.spawn()
	require.NoError(t, f.ask(pid, f.setup(1), ""))
	f.sys.Root.Stop(actor.NewPID(pid.Address, pid.Id+"/"+runtimeChildName))
	expectTerminated(t, w, pid)
}

func TestSetupAllowed(t *testing.T) {
	env := cluster.Node{Address: "a:1", State: "up", Roles: []string{cluster.RoleEnvironment}}
	compute := cluster.Node{Address: "b:1", State: "up", Roles: []string{cluster.RoleCompute}}
	nodes := cluster.Nodes{Members: []cluster.Node{env, compute}}
	require.NoError(t, setupAllowed(nodes, "a:1", "a:1"))
	for _, addrs := range [][]string{{"b:1"}, {"a:1", "c:1"}, {"c:1"}} {
		err := setupAllowed(nodes, addrs...)
		require.True(t, errors.Is(err, ErrSetupNotMember), "%v: %v", addrs, err)
	}
}

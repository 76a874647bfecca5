package cluster

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// echoRuntime answers a StringValue with the same value, and panics on
// "boom".
type echoRuntime struct{}

func (echoRuntime) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*wrapperspb.StringValue); ok {
		if m.GetValue() == "boom" {
			panic("runtime failed")
		}
		ctx.Respond(m)
	}
}

// TestRuntimeFailureTerminates checks that a runtime registered as the
// runtime kind stops when it fails instead of being restarted in place,
// so its watcher sees Terminated.
func TestRuntimeFailureTerminates(t *testing.T) {
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	pid := sys.Root.Spawn(runtimeKindProps(actor.PropsFromProducer(func() actor.Actor { return echoRuntime{} })))
	probe.Watch(pid)
	sys.Root.Send(pid, wrapperspb.String("boom"))
	if term := testkit.ExpectMsg[*actor.Terminated](probe, 5*time.Second); !term.Who.Equal(pid) {
		t.Fatalf("terminated %v, want %v", term.Who, pid)
	}
}

// TestLaunchAvoidsDeadMember plays the membership actor with a probe: the
// first member it names is gone (nothing listens at its address), so the
// spawn fails; the launcher releases that placement and asks again,
// avoiding the dead member, and spawns on the live one (this process).
func TestLaunchAvoidsDeadMember(t *testing.T) {
	const timeout = 5 * time.Second
	sys := testkit.NewSystem(t)
	rc := remote.Configure("127.0.0.1", 0)
	rc.MaxRetryCount = 1
	r := remote.NewRemote(sys, rc)
	r.Register(DefaultRuntimeKind, runtimeKindProps(actor.PropsFromProducer(func() actor.Actor { return echoRuntime{} })))
	r.Start()
	t.Cleanup(func() { surface.ShutdownRemote(r) })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	membership := testkit.NewProbe(t, sys)
	l, err := NewPlacementLauncher(LauncherConfig{
		Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, System: sys, Membership: membership.PID(),
		Remote: r, Timeout: 300 * time.Millisecond, Logger: testkit.QuietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	rid := timely.ReplicaId{Kind: timely.User, Value: 7}
	type launched struct {
		pid *actor.PID
		err error
	}
	done := make(chan launched, 1)
	go func() {
		pid, err := l.Launch(context.Background(), rid, 3)
		done <- launched{pid, err}
	}()

	p := testkit.ExpectMsg[Place](membership, timeout)
	if p.Replica.Replica != rid || p.Incarnation != 3 || len(p.Avoid) != 0 {
		t.Fatalf("first place %+v", p)
	}
	membership.Reply(PlaceResult{Placement: Placement{Replica: p.Replica, Incarnation: 3, Member: "dead", Address: dead}})
	if rel := testkit.ExpectMsg[Release](membership, timeout); rel.Replica != p.Replica || rel.Incarnation != 3 {
		t.Fatalf("release %+v", rel)
	}
	p = testkit.ExpectMsg[Place](membership, timeout)
	if len(p.Avoid) != 1 || p.Avoid[0] != "dead" {
		t.Fatalf("second place %+v, want dead avoided", p)
	}
	membership.Reply(PlaceResult{Placement: Placement{Replica: p.Replica, Incarnation: 3, Member: "self", Address: sys.Address()}})

	var res launched
	select {
	case res = <-done:
	case <-time.After(timeout):
		t.Fatal("launch did not return")
	}
	if res.err != nil {
		t.Fatalf("launch: %v", res.err)
	}
	if !strings.HasSuffix(res.pid.Id, "Remote$"+RuntimeName(p.Replica, 3)) {
		t.Fatalf("runtime named %q", res.pid.Id)
	}
	got, err := sys.Root.RequestFuture(res.pid, wrapperspb.String("hi"), timeout).Result()
	if err != nil || got.(*wrapperspb.StringValue).GetValue() != "hi" {
		t.Fatalf("runtime answered %v, %v", got, err)
	}
	sys.Root.Stop(res.pid)

	// Both members dead: the spawn error is what the caller sees.
	go func() {
		pid, err := l.Launch(context.Background(), rid, 4)
		done <- launched{pid, err}
	}()
	p = testkit.ExpectMsg[Place](membership, timeout)
	membership.Reply(PlaceResult{Placement: Placement{Replica: p.Replica, Incarnation: 4, Member: "dead", Address: dead}})
	testkit.ExpectMsg[Release](membership, timeout)
	testkit.ExpectMsg[Place](membership, timeout)
	membership.Reply(PlaceResult{Err: ErrNoComputeMember})
	select {
	case res = <-done:
	case <-time.After(timeout):
		t.Fatal("launch did not return")
	}
	if !errors.Is(res.err, ErrSpawn) || !errors.Is(res.err, replica.ErrLaunchFailed) {
		t.Fatalf("launch with no live member: %v", res.err)
	}
}

// setupRuntime plays a runtime host: it refuses the setup of incarnation
// 1 and accepts others, and reports every setup and retire it gets.
type setupRuntime struct{ seen chan<- proto.Message }

func (s setupRuntime) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.ClusterRuntimeSetup:
		s.seen <- m
		var err error
		if m.GetIncarnation() == 1 {
			err = messages.ErrInvalidArgument
		}
		ctx.Respond(&messages.ClusterRuntimeSetupResponse{Error: messages.ErrorToWire(err)})
	case *messages.ClusterRuntimeRetire:
		s.seen <- m
	}
}

// TestLaunchSetsUpTheRuntime: with LauncherConfig.Setup, a spawned runtime
// gets the setup with its cluster, replica and incarnation filled in
// before the launch returns; a refused setup retires that runtime,
// releases the placement and tries another member, and the refusal is
// what the caller sees when there is none.
func TestLaunchSetsUpTheRuntime(t *testing.T) {
	const timeout = 5 * time.Second
	sys := testkit.NewSystem(t)
	seen := make(chan proto.Message, 8)
	rc := remote.Configure("127.0.0.1", 0)
	rc.MaxRetryCount = 1
	r := remote.NewRemote(sys, rc)
	r.Register(DefaultRuntimeKind, runtimeKindProps(actor.PropsFromProducer(func() actor.Actor { return setupRuntime{seen: seen} })))
	r.Start()
	t.Cleanup(func() { surface.ShutdownRemote(r) })

	membership := testkit.NewProbe(t, sys)
	cid := timely.ClusterId{Kind: timely.User, Value: 2}
	l, err := NewPlacementLauncher(LauncherConfig{
		Cluster: cid, System: sys, Membership: membership.PID(), Remote: r, Timeout: timeout, Logger: testkit.QuietLogger(),
		Setup: &messages.ClusterRuntimeSetup{StorageAddress: "10.0.0.1:1", StorageId: "node/storage"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rid := timely.ReplicaId{Kind: timely.User, Value: 5}
	type launched struct {
		pid *actor.PID
		err error
	}
	done := make(chan launched, 1)
	launch := func(inc uint64) {
		go func() {
			pid, err := l.Launch(context.Background(), rid, inc)
			done <- launched{pid, err}
		}()
		p := testkit.ExpectMsg[Place](membership, timeout)
		membership.Reply(PlaceResult{Placement: Placement{Replica: p.Replica, Incarnation: inc, Member: "self", Address: sys.Address()}})
	}
	result := func() launched {
		t.Helper()
		select {
		case res := <-done:
			return res
		case <-time.After(timeout):
			t.Fatal("launch did not return")
			return launched{}
		}
	}

	launch(1)
	setup := (<-seen).(*messages.ClusterRuntimeSetup)
	if got, _ := setup.GetReplica().ToTimely(); got != rid || setup.GetIncarnation() != 1 || setup.GetStorageId() != "node/storage" {
		t.Fatalf("setup %v", setup)
	}
	if retire := (<-seen).(*messages.ClusterRuntimeRetire); retire.GetIncarnation() != 1 {
		t.Fatalf("retire %v", retire)
	}
	testkit.ExpectMsg[Release](membership, timeout)
	if p := testkit.ExpectMsg[Place](membership, timeout); len(p.Avoid) != 1 || p.Avoid[0] != "self" {
		t.Fatalf("second place %+v, want self avoided", p)
	}
	membership.Reply(PlaceResult{Err: ErrNoComputeMember})
	if res := result(); !errors.Is(res.err, ErrSpawn) || !strings.Contains(res.err.Error(), "setup refused") {
		t.Fatalf("launch with its setup refused: %v", res.err)
	}

	launch(2)
	if s := (<-seen).(*messages.ClusterRuntimeSetup); s.GetIncarnation() != 2 {
		t.Fatalf("setup %v", s)
	}
	res := result()
	if res.err != nil || !strings.HasSuffix(res.pid.Id, RuntimeName(ReplicaKey{Cluster: cid, Replica: rid}, 2)) {
		t.Fatalf("launch: %v, %v", res.pid, res.err)
	}
	l.Retire(rid, 2, res.pid)
	if retire := (<-seen).(*messages.ClusterRuntimeRetire); retire.GetIncarnation() != 2 {
		t.Fatalf("retire %v", retire)
	}
	sys.Root.Stop(res.pid)
}

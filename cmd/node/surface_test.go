//go:build !race

// This file runs a protoactor remote in the test process that peers
// connect to; protoactor's Remote.Shutdown races its own endpoint reader
// when such a connection closes, which -race reports now and then. The
// Makefile runs these tests without -race.

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"

	"github.com/arbor-db/arbor/actors/surface/surfacetest"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/node"
	"github.com/arbor-db/arbor/testkit"
)

// TestRemoteSurfaceHolds attacks a node process through its remote port:
// the five frames that used to kill it, a PoisonPill to its catalog
// guardian and a Stop to its root guardian from another actor system, and
// requests of a type nobody handles. After each the node still serves and
// is ready, and /metrics shows what was refused.
func TestRemoteSurfaceHolds(t *testing.T) {
	p := runNode(t)
	guardian := &actor.PID{Address: p.listen, Id: "node"}
	catalogPID := &actor.PID{Address: p.listen, Id: "node/" + node.SubsystemCatalog}

	for _, f := range surfacetest.CrashFrames(guardian) {
		peer := surfacetest.Dial(t, p.listen)
		if err := peer.Send(f.Batch); err != nil {
			t.Fatalf("%s: send: %v", f.Name, err)
		}
		if f.Name != "unregistered type name" { // that one is dropped; the stream goes on
			if code := peer.WaitClosed(); code != codes.InvalidArgument {
				t.Fatalf("%s: the stream ended with %v, want InvalidArgument", f.Name, code)
			}
		}
		peer.Close()
		p.requireServing(t, f.Name)
	}

	// A Watch that names no watcher would panic inside the catalog guardian
	// and have it restarted; a peer could do that at will.
	peer := surfacetest.Dial(t, p.listen)
	if err := peer.Send(surfacetest.Message(catalogPID, nil, &actor.Watch{})); err != nil {
		t.Fatal(err)
	}
	if code := peer.WaitClosed(); code != codes.InvalidArgument {
		t.Fatalf("a Watch without a watcher: the stream ended with %v, want InvalidArgument", code)
	}
	peer.Close()
	p.requireServing(t, "a Watch without a watcher")

	sys, _ := testkit.NewRemoteSystem(t)
	sys.Root.Send(catalogPID, &actor.PoisonPill{})
	sys.Root.Stop(guardian)
	// Same connection, so these arrive after the two above: a reply proves
	// the guardians outlived them.
	for _, target := range []*actor.PID{guardian, catalogPID} {
		res, err := sys.Root.RequestFuture(target, &messages.Row{}, 5*time.Second).Result()
		if err != nil {
			t.Fatalf("unknown request to %s: %v", target.Id, err)
		}
		reply, ok := res.(*messages.UnknownMessageReply)
		if !ok || reply.GetType() != "arbor.messages.Row" {
			t.Fatalf("unknown request to %s answered with %#v", target.Id, res)
		}
	}
	p.requireServing(t, "a remote PoisonPill, Stop and unknown requests")

	// Remote watch still passes the guard: watching an actor the node does
	// not have is answered with Terminated.
	probe := testkit.NewProbe(t, sys)
	nowhere := &actor.PID{Address: p.listen, Id: "node/nowhere"}
	probe.Watch(nowhere)
	probe.FishFor(func(m any) bool {
		term, ok := m.(*actor.Terminated)
		return ok && term.Who.Equal(nowhere)
	}, testkit.DefaultTimeout)

	want := []string{
		`arbor_remote_frames_rejected_total{reason="target"} 1`,
		`arbor_remote_frames_rejected_total{reason="type_id"} 1`,
		`arbor_remote_frames_rejected_total{reason="serializer"} 1`,
		`arbor_remote_frames_rejected_total{reason="sender"} 1`,
		`arbor_remote_frames_rejected_total{reason="unknown_type"} 1`,
		`arbor_remote_frames_rejected_total{reason="malformed"} 1`,
		`arbor_remote_messages_dropped_total{type="actor.PoisonPill"} 1`,
		`arbor_remote_messages_dropped_total{type="actor.Stop"} 1`,
		`arbor_remote_messages_dropped_total{type="arbor.messages.Row"} 2`,
		`arbor_remote_frame_panics_total 0`,
	}
	_, body := p.tryGet("/metrics")
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	for _, m := range []string{"arbor_node_subsystem_stops_total{", "arbor_node_subsystem_failures_total{"} {
		if strings.Contains(body, m) {
			t.Errorf("a subsystem failed or stopped:\n%s", body)
		}
	}
}

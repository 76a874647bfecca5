//go:build !race

// A protoactor remote in the test process that peers connect to; see
// guard_test.go on why these tests skip -race.

package surface_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/actors/surface/surfacetest"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// watchFrom is a batch of Watch (or Unwatch) envelopes of target, one per
// watcher.
func watchFrom(target *actor.PID, watch bool, watchers ...*actor.PID) *remote.MessageBatch {
	name := "actor.Unwatch"
	if watch {
		name = "actor.Watch"
	}
	b := &remote.MessageBatch{TypeNames: []string{name}, Targets: []*actor.PID{target}}
	for _, w := range watchers {
		var m proto.Message = &actor.Unwatch{Watcher: w}
		if watch {
			m = &actor.Watch{Watcher: w}
		}
		data, _ := proto.Marshal(m)
		b.Envelopes = append(b.Envelopes, &remote.MessageEnvelope{MessageData: data})
	}
	return b
}

// TestGuardCapsRemoteWatchesAndDropsThemWithTheirConnection: a peer's
// Watches beyond the cap do not reach the target (its watcher is not told
// when the target stops); an Unwatch frees a place; the watches a peer
// holds when its connection ends are removed from the targets. The
// watchers are probes in the node's own system, so a Terminated that the
// target sends them shows that the watch reached it.
func TestGuardCapsRemoteWatchesAndDropsThemWithTheirConnection(t *testing.T) {
	sys := testkit.NewSystem(t)
	reg := prometheus.NewRegistry()
	g, err := surface.NewRemoteGuard(surface.GuardConfig{System: sys, Logger: testkit.QuietLogger(), Registerer: reg, MaxRemoteWatches: 2})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", port, remote.WithServerOptions(g.ServerOptions()...)))
	r.Start()
	t.Cleanup(func() { r.Shutdown(false) })
	addr := "127.0.0.1:" + strconv.Itoa(port)

	spawn := func(name string) *actor.PID {
		pid, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(actor.Context) {}), name)
		require.NoError(t, err)
		return pid
	}
	watched, other := spawn("watched"), spawn("other")
	probes := make([]*testkit.Probe, 5)
	for i := range probes {
		probes[i] = testkit.NewProbe(t, sys)
	}
	held := func() float64 { return gather(t, reg, "arbor_remote_watches", nil) }
	wait := func(what string, cond func() bool) {
		t.Helper()
		testkit.Eventually(t, cond, testkit.DefaultTimeout, what)
	}

	a := surfacetest.Dial(t, addr)
	require.NoError(t, a.Send(watchFrom(watched, true, probes[0].PID(), probes[1].PID(), probes[3].PID())))
	wait("the third watch refused", func() bool {
		return gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": surface.ReasonWatchLimit}) == 1
	})
	require.Equal(t, 2.0, held())
	require.NoError(t, a.Send(watchFrom(watched, false, probes[1].PID())))
	require.NoError(t, a.Send(watchFrom(watched, true, probes[2].PID())))
	wait("probe 2's watch held in probe 1's place", func() bool {
		return held() == 2 &&
			gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": surface.ReasonWatchLimit}) == 1
	})

	// Another connection's watch goes with it.
	b := surfacetest.Dial(t, addr)
	require.NoError(t, b.Send(watchFrom(other, true, probes[4].PID())))
	wait("the second connection's watch held", func() bool { return held() == 3 })
	b.Close()
	wait("the second connection's watch released", func() bool { return held() == 2 })
	require.NoError(t, sys.Root.StopFuture(other).Wait())
	probes[4].ExpectNoMsg(300 * time.Millisecond)

	// The first connection's watches are in place: probes 0 and 2 hear
	// of the target's end; 1 (unwatched) and 3 (refused) do not.
	require.NoError(t, sys.Root.StopFuture(watched).Wait())
	for _, i := range []int{0, 2} {
		got := testkit.ExpectMsg[*actor.Terminated](probes[i], testkit.DefaultTimeout)
		require.Equal(t, watched.Id, got.Who.Id)
	}
	for _, i := range []int{1, 3} {
		probes[i].ExpectNoMsg(300 * time.Millisecond)
	}
	a.Close()
	wait("the first connection's watches released", func() bool { return held() == 0 })
}

// TestGuardKeepsPeersFromCompletingFuturesWithSystemMessages: a node's
// request waits on a future; a peer's Watch of that future (which would
// complete it with a *actor.Watch) is dropped, and the reply after it
// completes it. A reply to a future that does not exist is dropped and
// counted.
func TestGuardKeepsPeersFromCompletingFuturesWithSystemMessages(t *testing.T) {
	sys := testkit.NewSystem(t)
	reg := prometheus.NewRegistry()
	g, err := surface.NewRemoteGuard(surface.GuardConfig{System: sys, Logger: testkit.QuietLogger(), Registerer: reg})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", port, remote.WithServerOptions(g.ServerOptions()...)))
	r.Start()
	t.Cleanup(func() { r.Shutdown(false) })

	probe := testkit.NewProbe(t, sys)
	f := sys.Root.RequestFuture(probe.PID(), &messages.Row{}, testkit.DefaultTimeout)
	testkit.ExpectMsg[*messages.Row](probe, testkit.DefaultTimeout)
	future := f.PID()

	p := surfacetest.Dial(t, "127.0.0.1:"+strconv.Itoa(port))
	require.NoError(t, p.Send(watchFrom(future, true, probe.PID())))
	require.NoError(t, p.Send(surfacetest.Message(future, nil, &messages.Row{Datums: []*messages.Datum{{}}})))
	res, err := f.Result()
	require.NoError(t, err)
	row, ok := res.(*messages.Row)
	require.True(t, ok, "the future completed with %T", res)
	require.Len(t, row.Datums, 1, "the peer's reply")

	require.NoError(t, p.Send(surfacetest.Message(&actor.PID{Address: future.Address, Id: "future$never"}, nil, &messages.Row{})))
	testkit.Eventually(t, func() bool {
		return gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": surface.ReasonFuture}) == 2
	}, testkit.DefaultTimeout, "the Watch of the future and the reply to no future were not both refused")
}

//go:build !race

package replica

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// remoteNode starts a second actor system with remote on loopback whose
// runtimes get their outputs shard from outputs; shut down at cleanup.
func remoteNode(t *testing.T, cfg RuntimeConfig) *actor.ActorSystem {
	node := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return testkit.QuietLogger() }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	r := remote.NewRemote(node, remote.Configure("127.0.0.1", 0))
	RegisterRuntimeKind(r, cfg)
	r.Start()
	t.Cleanup(func() { surface.ShutdownRemote(r); node.Shutdown() })
	return node
}

// TestRemoteLauncher: a runtime spawned on another node under its
// runtime name; a spawn the node refuses (its outputs shard cannot be
// opened) is a launch error and the node keeps serving; a launch canceled
// while the node is slow returns at once, and the runtime spawned after
// all is stopped by the launcher.
func TestRemoteLauncher(t *testing.T) {
	sys, rem := testkit.NewRemoteSystem(t)
	store := mem.New()
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	var shards []persistence.Shard
	t.Cleanup(func() {
		for _, s := range shards {
			require.NoError(t, s.Close())
		}
	})
	slow := make(chan struct{})
	refuse := timely.ReplicaId{Kind: timely.User, Value: 7}
	lagging := timely.ReplicaId{Kind: timely.User, Value: 8}
	outputs := func(id timely.ReplicaId) (persistence.Shard, error) {
		switch id {
		case refuse:
			return nil, errors.New("disk full")
		case lagging:
			<-slow
		}
		s, err := store.OpenShard(context.Background(), "outputs-"+id.String()+"-"+time.Now().Format("150405.000000000"))
		if err == nil {
			shards = append(shards, s)
		}
		return s, err
	}
	node := remoteNode(t, RuntimeConfig{Storage: actor.NewPID(sys.Address(), "no-storage"), Outputs: outputs, Workers: 1, Logger: testkit.QuietLogger()})
	l := &RemoteLauncher{System: sys, Remote: rem, Address: func(timely.ReplicaId) string { return node.Address() }}
	t.Cleanup(l.Close)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	_, err := l.Launch(ctx, refuse, 1)
	require.Error(t, err)

	pid, err := l.Launch(ctx, rid, 2)
	require.NoError(t, err)
	require.Equal(t, node.Address(), pid.Address)
	require.Equal(t, "activator/Remote$"+RuntimeName(rid, 2), pid.Id)
	_, ok := node.ProcessRegistry.GetLocal(pid.Id)
	require.True(t, ok, "the runtime lives on the node")
	require.NoError(t, node.Root.StopFuture(actor.NewPID(node.Address(), pid.Id)).Wait())

	cctx, ccancel := context.WithCancel(context.Background())
	returned := make(chan error, 1)
	go func() {
		_, err := l.Launch(cctx, lagging, 1)
		returned <- err
	}()
	ccancel()
	select {
	case err := <-returned:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(wait):
		t.Fatal("a canceled launch did not return")
	}
	close(slow)
	l.Close()
	orphan := "activator/Remote$" + RuntimeName(lagging, 1)
	testkit.Eventually(t, func() bool { _, ok := node.ProcessRegistry.GetLocal(orphan); return !ok }, wait, "the orphan runtime stopped")
}

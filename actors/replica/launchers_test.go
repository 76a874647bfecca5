package replica

import (
	"context"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

func TestRuntimeNameRoundTrip(t *testing.T) {
	for _, c := range []struct {
		id  timely.ReplicaId
		inc uint64
	}{{rid, 1}, {timely.ReplicaId{Kind: timely.System, Value: 42}, 1 << 40}} {
		name := RuntimeName(c.id, c.inc)
		for _, id := range []string{name, "activator/Remote$" + name, "host/" + name} {
			got, inc, err := ParseRuntimeName(id)
			require.NoError(t, err, id)
			require.Equal(t, c.id, got, id)
			require.Equal(t, c.inc, inc, id)
		}
	}
	for _, bad := range []string{"", "runtime", "runtime-u1", "runtime-u1-x", "runtime-x1-2", "activator/Remote$other-u1-2"} {
		_, _, err := ParseRuntimeName(bad)
		require.Error(t, err, bad)
	}
}

func TestRuntimeConfigSubscriptionIds(t *testing.T) {
	c := RuntimeConfig{}
	require.Equal(t, "runtime/u1/1", c.SubscriptionId(rid, 1))
	require.NotEqual(t, c.SubscriptionId(rid, 1), c.SubscriptionId(rid, 2), "incarnations never share a subscription")
	require.NotEqual(t, c.SubscriptionId(rid, 1), c.SubscriptionId(timely.ReplicaId{Kind: timely.User, Value: 2}, 1))
	c.SubscriptionPrefix = "env7"
	require.Equal(t, "env7/u1/3", c.SubscriptionId(rid, 3))
	_, err := RuntimeConfig{}.Props(rid, 1)
	require.Error(t, err, "Storage and Outputs are required")
}

// TestLocalLauncherUnderHost: runtimes spawned under a Host are its
// children: stopping the host stops them.
func TestLocalLauncherUnderHost(t *testing.T) {
	sys := testkit.NewSystem(t)
	store := mem.New()
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	shards := map[timely.ReplicaId]persistence.Shard{}
	outputs := func(id timely.ReplicaId) (persistence.Shard, error) {
		if s, ok := shards[id]; ok {
			return s, nil
		}
		s, err := store.OpenShard(context.Background(), "outputs-"+id.String())
		shards[id] = s
		return s, err
	}
	// Storage is a PID nobody answers at: the runtime waits for it, which
	// is all this test needs.
	host := sys.Root.Spawn(NewHost())
	l := &LocalLauncher{System: sys, Parent: host, Runtimes: RuntimeConfig{Storage: actor.NewPID(sys.Address(), "no-storage"), Outputs: outputs, Workers: 1, Logger: testkit.QuietLogger()}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pid, err := l.Launch(ctx, rid, 3)
	require.NoError(t, err)
	require.Equal(t, host.Id+"/"+RuntimeName(rid, 3), pid.Id)
	probe := testkit.NewProbe(t, sys)
	probe.Watch(pid)
	require.NoError(t, sys.Root.StopFuture(host).Wait())
	testkit.ExpectMsg[*actor.Terminated](probe, wait)
	for _, s := range shards {
		require.NoError(t, s.Close())
	}
}

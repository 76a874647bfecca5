//go:build !race

package instance_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/timely"
)

// BenchmarkPeekLatencyRemote: a peek through the instance whose one
// replica runs on a second actor system over remote loopback, beside the
// same peek sent straight to a runtime on that node from this one.
// Target: instance p50 <= 300 µs.
func BenchmarkPeekLatencyRemote(b *testing.B) {
	r := newRig(b, rigOptions{remote: true})
	node := startNode(b, r)
	r.addRemote(r1, func() *computeNode { return node })
	last := peekBenchData(r)
	r.waitHydrated(r1, 1)
	launcher := &replica.RemoteLauncher{System: r.sys, Remote: r.rem, Address: func(timely.ReplicaId) string { return node.sys.Address() }}
	pid, err := launcher.Launch(context.Background(), timely.ReplicaId{Kind: timely.User, Value: 99}, 1)
	require.NoError(b, err)
	b.Cleanup(func() { _ = node.sys.Root.StopFuture(pid).Wait(); launcher.Close() })
	d := r.connectDirect(b, pid)
	benchPeeks(b, r, d, last)
}

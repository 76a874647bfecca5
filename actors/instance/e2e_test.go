package instance_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEndToEndLocal is the end-to-end test with both runtimes in
// this process (so it runs under -race): storage, an instance and two
// replicas; tables, an index, a materialized view, a join and an index
// over an imported index, created through the instance; rows written
// through storage; every collection peeked through the instance (from
// either replica, and from each one) and compared with the oracle; then
// one runtime is stopped, and after it came back as a new incarnation and
// hydrated again the answers are the same.
func TestEndToEndLocal(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, nil)
	r.installAll()
	ts := r.workload(1, 30)
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	last := ts[len(ts)-1]
	for _, id := range allFlows {
		require.NotEmpty(t, r.oracle(id, last), "the workload gives %s rows", id)
	}
	r.check(nil, ts[0], ts[len(ts)/2], last)
	r.check(&r1, last)
	r.check(&r2, last)

	// Kill r1's runtime: the ReplicaState sees it terminate, the instance
	// relaunches it as incarnation 2 with the history replayed.
	killed := r.l.current(r1)
	require.Equal(t, uint64(1), killed.incarnation)
	require.NoError(t, r.sys.Root.StopFuture(killed.pid).Wait())
	more := r.workload(2, 10)
	r.waitHydrated(r1, 2)
	require.Equal(t, uint64(2), r.l.current(r1).incarnation)
	last = more[len(more)-1]
	r.check(&r1, ts[0], last)
	r.check(&r2, last)
	r.check(nil, ts[len(ts)/2], last)
}

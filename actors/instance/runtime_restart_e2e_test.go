package instance_test

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
)

// TestRuntimeThatRestartsEmptyIsReplaced: a runtime whose coordinator
// breaks an invariant restarts empty (same PID, no dataflows) and says so
// with ErrRestarted. The replica does not stay "active" over an empty
// runtime: it is failed and relaunched as a new incarnation with the
// history replayed, hydrates again, and answers the oracle's rows.
func TestRuntimeThatRestartsEmptyIsReplaced(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.installAll()
	ts := r.workload(31, 10)
	r.waitHydrated(r1, 1)
	cur := r.l.current(r1)
	coord := actor.NewPID(cur.pid.Address, cur.pid.Id+"/coordinator")
	r.sys.Root.Send(coord, &pool.TickReply{}) // no tick is in flight: a broken invariant
	ts = append(ts, r.workload(32, 5)...)
	r.waitHydrated(r1, cur.incarnation+1)
	require.NotEqual(t, cur.pid.String(), r.l.current(r1).pid.String(), "a new runtime")
	r.check(&r1, ts[len(ts)/2], ts[len(ts)-1])
}

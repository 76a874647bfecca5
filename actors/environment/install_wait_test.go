package environment_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// TestPeekWaitsForLateInstall: after a restart, an index on the cluster of
// the materialized view it reads is installed after that cluster's other
// dataflows (it holds the view at the instance first). A peek of it sent
// at once waits for its install instead of failing "unknown collection",
// and equals the oracle; so does one of a view it indexes.
func TestPeekWaitsForLateInstall(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv_a", Plan: overMV})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_a_idx", On: "over_mv_a", Cluster: "a"})
	want := repeatCustomers(perCustomer())
	r.insert(9)
	r.check("over_mv_a", want)

	for range 3 {
		r.restart()
		for _, name := range []string{"over_mv_a_idx", "over_mv_a"} {
			resp := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Collection: name})
			if resp.GetError() != nil {
				t.Fatalf("peek of %s right after a restart: %v", name, messages.ErrorFromWire(resp.GetError()))
			}
		}
		r.check("over_mv_a", want)
		r.insert(2)
	}
}

// TestPeekOfFailedLateInstall: when the late install of such an index
// fails (here: storage refuses the hold on the view's collection that its
// creation needs), a peek that waited for it fails with that error, naming
// the index, and a later one UNAVAILABLE with it; never "unknown
// collection".
func TestPeekOfFailedLateInstall(t *testing.T) {
	var refuse atomic.Bool
	answer := func(msg any) any {
		if m, ok := msg.(*messages.StorageAcquireReadHold); ok && refuse.Load() && strings.Contains(m.GetHoldId(), "/import/") {
			err := fmt.Errorf("%w: injected", storage.ErrBackend)
			return &messages.StorageReadHoldResponse{HoldId: m.GetHoldId(), Error: messages.ErrorToWire(err)}
		}
		return nil
	}
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	start := func() {
		r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40, StorageAnswer: answer})
		r.s = connect(t, r.sys, r.node.Env, 0)
	}
	start()
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv_a", Plan: overMV})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_a_idx", On: "over_mv_a", Cluster: "a"})
	r.insert(4)
	r.check("over_mv_a", repeatCustomers(perCustomer()))

	refuse.Store(true)
	r.node.Stop()
	start()
	resp := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Collection: "over_mv_a_idx"})
	err := messages.ErrorFromWire(resp.GetError())
	if err == nil || !strings.Contains(err.Error(), `"over_mv_a_idx" could not be installed`) || strings.Contains(err.Error(), "unknown collection") ||
		messages.CodeOf(err) != messages.ErrorCode_ERROR_CODE_BACKEND {
		t.Fatalf("peek of an index whose install failed: %v; want BACKEND naming the index", err)
	}
	// A later peek, with no install in flight, is UNAVAILABLE naming the
	// index and why.
	resp = expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Collection: "over_mv_a_idx"})
	err = messages.ErrorFromWire(resp.GetError())
	if err == nil || !strings.Contains(err.Error(), `"over_mv_a_idx" could not be installed`) || strings.Contains(err.Error(), "unknown collection") ||
		messages.CodeOf(err) != messages.ErrorCode_ERROR_CODE_UNAVAILABLE {
		t.Fatalf("peek after the failed install: %v; want UNAVAILABLE naming the index", err)
	}
	// The other dataflows of the cluster are unaffected.
	r.check("mv", perCustomer())
}

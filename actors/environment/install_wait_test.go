package environment_test

import (
	"testing"

	"github.com/arbor-db/arbor/messages"
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

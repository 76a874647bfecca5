package environment_test

import (
	"strings"
	"testing"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// mvPlaceholder is the transient id a client plan's Get of "mv" uses.
var mvPlaceholder = timely.TransientId(2)

// repeatCustomers keeps the rows of in (customer, sum, count) whose count
// is more than 1.
func repeatCustomers(in *messages.Plan) *messages.Plan {
	gt := &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: messages.BinaryOp_BINARY_OP_GT,
		Left:  &messages.Expr{Kind: &messages.Expr_Column{Column: colRef(2)}},
		Right: &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: dataflow.DatumToWire(dataflow.Int64(1))}}}}}}
	return &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: in, Predicates: []*messages.Expr{gt}}}}
}

// TestViewsOverMaterializedViewAcrossClusters: materialized view mv is
// computed on cluster "a"; an index on a view over mv lives on the default
// cluster (another cluster) and a second one on "a" itself. Both read mv's
// storage collection (not a recomputation) and every peek equals the
// oracle, before and after more writes and after a restart. Dropping mv
// while views read it is refused, naming the dependent.
func TestViewsOverMaterializedViewAcrossClusters(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv", Plan: overMV})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_idx", On: "over_mv"}) // default cluster
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv_a", Plan: overMV})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_a_idx", On: "over_mv_a", Cluster: "a"})
	// Unindexed views over materialized views: a transient dataflow per
	// peek on the default cluster, over mv (cluster a) and over
	// per_customer (the default cluster's own materialized view).
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv_plain", Plan: overMV})
	overLocal := &messages.ClientPlan{Plan: overMV.GetPlan(), Sources: map[uint64]string{mvPlaceholder.Value: "per_customer"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_local_plain", Plan: overLocal})

	// The oracle of the views: mv's plan, then the filter.
	want := repeatCustomers(perCustomer())
	r.insert(10)
	r.check("mv", perCustomer())
	r.check("over_mv", want)
	r.check("over_mv_a", want)
	r.insert(7)
	r.insert(5)
	r.check("over_mv", want)
	r.check("over_mv_a", want)
	r.check("mv", perCustomer())
	r.check("over_mv_plain", want)
	r.check("over_local_plain", want)

	d := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW, Name: "mv"})
	err := messages.ErrorFromWire(d.GetError())
	if err == nil || d.GetDropped() || !strings.Contains(err.Error(), "over_mv") || messages.CodeOf(err) != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
		t.Fatalf("drop of a materialized view that views read: %v (dropped %t); want INVALID_ARGUMENT naming over_mv", err, d.GetDropped())
	}

	r.restart()
	r.check("over_mv", want)
	// over_mv_a_idx holds mv on cluster a before its dataflow is created
	// again, so it comes back a little after the others; the peek waits
	// for it (TestPeekWaitsForLateInstall).
	r.check("over_mv_a", want)
	r.insert(4)
	r.check("over_mv", want)
	r.check("over_mv_a", want)
	r.check("mv", perCustomer())
}

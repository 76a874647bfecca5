package environment_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// instanceDump returns the dump of cluster name's instance.
func (r *computeRig) instanceDump(name string) instance.Dump {
	r.t.Helper()
	d := expect[*messages.ClientDumpResponse](r.s, &messages.ClientDump{Conn: r.s.conn})
	var state struct {
		Clusters []struct {
			Name     string `json:"name"`
			Instance string `json:"instance"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal(d.GetJson(), &state); err != nil {
		r.t.Fatal(err)
	}
	for _, cl := range state.Clusters {
		if cl.Name != name || cl.Instance == "" {
			continue
		}
		res, err := r.sys.Root.RequestFuture(actor.NewPID(r.sys.Address(), cl.Instance), instance.GetDump{}, timeout).Result()
		if err != nil {
			r.t.Fatal(err)
		}
		var dump instance.Dump
		if err := json.Unmarshal(res.(instance.DumpReply).JSON, &dump); err != nil {
			r.t.Fatal(err)
		}
		return dump
	}
	r.t.Fatalf("no running instance of cluster %q in %s", name, d.GetJson())
	return instance.Dump{}
}

func dumpHas(d instance.Dump, id timely.GlobalId) bool {
	return slices.ContainsFunc(d.Collections, func(c instance.CollectionDump) bool { return c.Id == id.String() })
}

// TestDroppedMaterializedViewUnregistered: a materialized view computed on
// cluster "a" is registered as a storage collection with the default
// cluster's instance, which reads it through an index. Once the index, its
// view and the materialized view are dropped, the default cluster's
// instance no longer lists the collection (its holds on it went with it:
// TestUnregisterStorage in actors/instance), also after a restart.
func TestDroppedMaterializedViewUnregistered(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	mv := r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	mvId, err := timely.ParseGlobalId(mv.GetId())
	if err != nil {
		t.Fatal(err)
	}
	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv", Plan: overMV})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_idx", On: "over_mv"})
	r.insert(8)
	r.check("over_mv", repeatCustomers(perCustomer()))
	if !dumpHas(r.instanceDump("default"), mvId) {
		t.Fatalf("the default cluster's instance does not know %s", mvId)
	}

	for _, d := range []struct {
		typ  messages.ClientObjectType
		name string
	}{
		{messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX, "over_mv_idx"},
		{messages.ClientObjectType_CLIENT_OBJECT_TYPE_VIEW, "over_mv"},
		{messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW, "mv"},
	} {
		resp := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: d.typ, Name: d.name})
		if resp.GetError() != nil || !resp.GetDropped() {
			t.Fatalf("drop %s: %v", d.name, messages.ErrorFromWire(resp.GetError()))
		}
	}
	testkit.Eventually(t, func() bool { return !dumpHas(r.instanceDump("default"), mvId) }, timeout,
		"the default cluster's instance forgets the dropped view's collection")
	r.insert(3)
	r.check("per_customer", perCustomer())

	r.restart()
	r.check("per_customer", perCustomer())
	if dumpHas(r.instanceDump("default"), mvId) {
		t.Fatalf("after a restart the default cluster's instance knows the dropped %s", mvId)
	}
}

package environment_test

import (
	"testing"
	"time"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// Dropping a table unregisters it from every cluster's instance, as a
// dropped materialized view's collection is: their dumps stop listing
// it, and no storage hold names it any more (the instances' holds on it
// were released, those of an index that read it included).
func TestDropTableUnregistersItFromInstances(t *testing.T) {
	r := newComputeRig(t)
	resp := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: "sales", Schema: dataflow.SchemaToWire(salesSchema)})
	if resp.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(resp.GetError()))
	}
	table, err := timely.ParseGlobalId(resp.GetObject().GetId())
	if err != nil {
		t.Fatal(err)
	}
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "b", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "big", Plan: clientPlan(bigSales())})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "big_idx", On: "big", Cluster: "b"})
	r.insert(4)
	r.check("big_idx", bigSales())
	registered := func(cluster string) bool {
		for _, c := range r.instanceDump(cluster).Collections {
			if c.Id == table.String() {
				return true
			}
		}
		return false
	}
	for _, cl := range []string{"default", "b"} {
		if !registered(cl) {
			t.Fatalf("cluster %s's instance does not list table %s before the drop", cl, table)
		}
	}
	if !heldBy(storageHolds(t, r.sys, r.node.Storage, "env"), table.String()) {
		t.Fatal("no storage hold on the table while an index reads it")
	}

	for _, drop := range []*messages.ClientDrop{
		{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_VIEW, Name: "big"},
		{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE, Name: "sales"},
	} {
		if drop.Type == messages.ClientObjectType_CLIENT_OBJECT_TYPE_VIEW {
			d := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX, Name: "big_idx"})
			if d.GetError() != nil {
				t.Fatal(messages.ErrorFromWire(d.GetError()))
			}
		}
		if d := expect[*messages.ClientDropResponse](r.s, drop); d.GetError() != nil {
			t.Fatal(messages.ErrorFromWire(d.GetError()))
		}
	}
	for _, cl := range []string{"default", "b"} {
		testkit.Eventually(t, func() bool { return !registered(cl) }, timeout, "cluster "+cl+"'s instance forgets the dropped table")
	}
	for deadline := time.Now().Add(timeout); heldBy(storageHolds(t, r.sys, r.node.Storage, ""), table.String()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("storage holds on the dropped table remain: %v", storageHolds(t, r.sys, r.node.Storage, ""))
		}
	}
	requireLiveOwners(t, r.sys, storageHolds(t, r.sys, r.node.Storage, ""))
}

package environment_test

import (
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// objectId returns the id of the catalog object name of type typ.
func (r *computeRig) objectId(typ messages.ClientObjectType, name string) timely.GlobalId {
	r.t.Helper()
	l := expect[*messages.ClientListObjectsResponse](r.s, &messages.ClientListObjects{Conn: r.s.conn, Type: typ})
	for _, o := range l.GetObjects() {
		if o.GetName() == name {
			id, err := timely.ParseGlobalId(o.GetId())
			if err != nil {
				r.t.Fatal(err)
			}
			return id
		}
	}
	r.t.Fatalf("no object %s in %v", name, l.GetObjects())
	return timely.GlobalId{}
}

// A read-only environment (a new deploy generation) computes its
// materialized views but does not write their storage collections, which
// the serving generation writes; once promoted, its instances get
// AllowWrites and the views' collections catch up with what was written
// meanwhile.
func TestReadOnlyEnvironmentWritesViewsOnlyAfterPromote(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(6)
	mv := r.objectId(messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW, "per_customer")
	sales := r.objectId(messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE, "sales")
	before := strings.Join(r.oracle(perCustomer()), "\n")
	testkit.Eventually(t, func() bool { return strings.Join(r.collectionRows(mv), "\n") == before }, testkit.DefaultTimeout,
		"the view's collection never held the oracle's rows")
	r.node.Stop()

	r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40,
		Env: func(c *environment.Config) { c.ReadOnly = true }})
	// The serving generation writes the table meanwhile (here: straight
	// to storage, as the read-only environment takes no writes).
	w := &messages.StorageTableWrite{Table: messages.FromGlobalId(sales)}
	for range 5 {
		r.nextId++
		row := dataflow.Row{dataflow.Int64(r.nextId), dataflow.Int64(r.nextId % 4), dataflow.Int64(r.nextId * 37 % 100)}
		w.Rows = append(w.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(row)})
		r.written = append(r.written, dataflow.Update{Row: row, Diff: 1})
	}
	res, err := r.sys.Root.RequestFuture(r.node.Storage, &messages.StorageWrite{Tables: []*messages.StorageTableWrite{w}}, testkit.DefaultTimeout).Result()
	if err != nil || res.(*messages.StorageWriteResponse).GetError() != nil {
		t.Fatalf("write: %v %v", err, res)
	}
	testkit.Eventually(t, func() bool {
		res, err := r.sys.Root.RequestFuture(r.node.Env, &environment.PromotionStatus{}, testkit.DefaultTimeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*environment.PromotionStatusResult).ReadyToPromote()
	}, testkit.DefaultTimeout, "the read-only environment never became ready to promote")
	if got := strings.Join(r.collectionRows(mv), "\n"); got != before {
		t.Fatalf("a read-only environment wrote its view's collection:\n%s\nwant still\n%s", got, before)
	}

	res, err = r.sys.Root.RequestFuture(r.node.Env, &environment.Promote{}, testkit.DefaultTimeout).Result()
	if err != nil || res.(*environment.PromoteResult).Err != nil {
		t.Fatalf("promote: %v %v", err, res)
	}
	after := strings.Join(r.oracle(perCustomer()), "\n")
	if after == before {
		t.Fatal("the writes changed nothing the view shows; the test proves nothing")
	}
	testkit.Eventually(t, func() bool { return strings.Join(r.collectionRows(mv), "\n") == after }, testkit.DefaultTimeout,
		"after promotion the view's collection never caught up with the writes")
}

package environment_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// The compute tests run a node with replica runtimes in process (the
// default cluster's r1), write through the environment and compare every
// peek of a view, an index and a materialized view with dataflow.Evaluate
// over the rows written.

var salesSchema = dataflow.Schema{
	{Name: "id", Type: dataflow.TypeInt64},
	{Name: "customer", Type: dataflow.TypeInt64},
	{Name: "amount", Type: dataflow.TypeInt64},
}

// placeholder is the transient id a client plan's Get of "sales" uses.
var placeholder = timely.TransientId(1)

func colRef(i int) *messages.ColumnRef {
	return &messages.ColumnRef{Ref: &messages.ColumnRef_Index{Index: uint32(i)}}
}

func getSales() *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(placeholder)}}}
}

// bigSales keeps the sales with amount > 50.
func bigSales() *messages.Plan {
	gt := &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: messages.BinaryOp_BINARY_OP_GT,
		Left:  &messages.Expr{Kind: &messages.Expr_Column{Column: colRef(2)}},
		Right: &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: dataflow.DatumToWire(dataflow.Int64(50))}}}}}}
	return &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: getSales(), Predicates: []*messages.Expr{gt}}}}
}

// perCustomer sums and counts the sales per customer.
func perCustomer() *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Reduce{Reduce: &messages.ReducePlan{Input: getSales(), GroupKey: []*messages.ColumnRef{colRef(1)},
		Aggregates: []*messages.Aggregate{{Func: messages.AggregateFunc_AGGREGATE_FUNC_SUM, Column: colRef(2)}, {Func: messages.AggregateFunc_AGGREGATE_FUNC_COUNT}}}}}
}

func clientPlan(p *messages.Plan) *messages.ClientPlan {
	return &messages.ClientPlan{Plan: p, Sources: map[uint64]string{placeholder.Value: "sales"}}
}

// computeRig is a node with compute, a session and the rows written.
type computeRig struct {
	t    *testing.T
	sys  *actor.ActorSystem
	dir  string
	node *environmenttest.Node
	s    *session
	// written are the sales rows with their multiplicity changes.
	written []dataflow.Update
	nextId  int64
	deleted int64 // rows 1..deleted have been deleted
}

func newComputeRig(t *testing.T) *computeRig {
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	r.start()
	return r
}

func (r *computeRig) start() {
	r.node = environmenttest.Start(r.t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40})
	r.s = connect(r.t, r.sys, r.node.Env, 0)
}

func (r *computeRig) restart() {
	r.node.Stop()
	r.start()
}

func (r *computeRig) create(req any) *messages.ClientObject {
	r.t.Helper()
	resp := expect[*messages.ClientCreateResponse](r.s, req)
	if resp.GetError() != nil {
		r.t.Fatalf("%T: %v", req, messages.ErrorFromWire(resp.GetError()))
	}
	return resp.GetObject()
}

// insert writes n sales, deleting one earlier sale now and then.
func (r *computeRig) insert(n int) {
	r.t.Helper()
	rows := &messages.ClientTableRows{Table: "sales"}
	for range n {
		r.nextId++
		row := dataflow.Row{dataflow.Int64(r.nextId), dataflow.Int64(r.nextId % 4), dataflow.Int64(r.nextId * 37 % 100)}
		rows.Inserts = append(rows.Inserts, dataflow.RowToWire(row))
		r.written = append(r.written, dataflow.Update{Row: row, Diff: 1})
	}
	if r.nextId%3 == 0 {
		// The oldest row still there (each is deleted once at most).
		r.deleted++
		id := r.deleted
		victim := dataflow.Row{dataflow.Int64(id), dataflow.Int64(id % 4), dataflow.Int64(id * 37 % 100)}
		rows.Deletes = append(rows.Deletes, dataflow.RowToWire(victim))
		r.written = append(r.written, dataflow.Update{Row: victim, Diff: -1})
	}
	w := expect[*messages.ClientWriteResponse](r.s, &messages.ClientWrite{Conn: r.s.conn, Tables: []*messages.ClientTableRows{rows}})
	if w.GetError() != nil {
		r.t.Fatal(messages.ErrorFromWire(w.GetError()))
	}
}

// oracle evaluates plan over the rows written.
func (r *computeRig) oracle(plan *messages.Plan) []string {
	r.t.Helper()
	compiled, err := dataflow.Compile(plan, map[timely.GlobalId]dataflow.Schema{placeholder: salesSchema})
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := dataflow.Evaluate(compiled, map[timely.GlobalId][]dataflow.Update{placeholder: r.written})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for i, row := range c.Rows {
		for range c.Diffs[i] {
			out = append(out, row.String())
		}
	}
	sort.Strings(out)
	return out
}

func (r *computeRig) peek(name string) []string {
	r.t.Helper()
	resp := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Collection: name})
	if resp.GetError() != nil {
		r.t.Fatalf("peek %s: %v", name, messages.ErrorFromWire(resp.GetError()))
	}
	var out []string
	for _, w := range resp.GetRows() {
		row, err := dataflow.RowFromWire(w)
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, row.String())
	}
	sort.Strings(out)
	return out
}

func (r *computeRig) check(name string, plan *messages.Plan) {
	r.t.Helper()
	want := r.oracle(plan)
	if got := r.peek(name); strings.Join(got, "\n") != strings.Join(want, "\n") {
		r.t.Fatalf("peek %s:\n got %v\nwant %v", name, got, want)
	}
}

func (r *computeRig) list(typ messages.ClientObjectType) []string {
	r.t.Helper()
	l := expect[*messages.ClientListObjectsResponse](r.s, &messages.ClientListObjects{Conn: r.s.conn, Type: typ})
	if l.GetError() != nil {
		r.t.Fatal(messages.ErrorFromWire(l.GetError()))
	}
	var out []string
	for _, o := range l.GetObjects() {
		n := o.GetName()
		if o.GetCluster() != "" {
			n = o.GetCluster() + "." + n
		}
		out = append(out, n)
	}
	return out
}

func (r *computeRig) setup() {
	r.t.Helper()
	resp := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: "sales", Schema: dataflow.SchemaToWire(salesSchema)})
	if resp.GetError() != nil {
		r.t.Fatal(messages.ErrorFromWire(resp.GetError()))
	}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "big", Plan: clientPlan(bigSales())})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "big_idx", On: "big", KeyColumns: []string{"id"}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "per_customer", Plan: clientPlan(perCustomer())})
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "per_customer_view", Plan: clientPlan(perCustomer())})
}

// Bootstrap creates the default cluster; a view with an index, a
// materialized view and an unindexed view (a transient dataflow per peek)
// answer what the oracle computes from the rows written, before and after
// more writes and after a restart on the same directory.
func TestComputeViewsIndexesMaterializedViews(t *testing.T) {
	r := newComputeRig(t)
	if got := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA); fmt.Sprint(got) != "[default.r1]" {
		t.Fatalf("replicas after bootstrap: %v", got)
	}
	r.setup()
	r.insert(10)
	r.check("big", bigSales())
	r.check("per_customer", perCustomer())
	r.check("per_customer_view", perCustomer())
	r.insert(7)
	r.insert(5)
	r.check("big", bigSales())
	r.check("big_idx", bigSales())
	r.check("per_customer", perCustomer())
	r.check("per_customer_view", perCustomer())

	r.restart()
	r.check("big", bigSales())
	r.check("per_customer", perCustomer())
	r.insert(4)
	r.check("big", bigSales())
	r.check("per_customer", perCustomer())
	r.check("per_customer_view", perCustomer())
	if got := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX); fmt.Sprint(got) != "[default.big_idx]" {
		t.Fatalf("indexes after restart: %v", got)
	}
}

// Peeks of an index that wait (at a time the index has not reached) end
// CANCELED naming the index when it is dropped; none hangs.
func TestDropIndexCancelsItsPeeks(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(3)
	r.check("big", bigSales())
	future := uint64(time.Now().Add(time.Hour).UnixMilli())
	const n = 5
	for range n {
		r.s.p.Send(r.node.Env, &messages.ClientPeek{Conn: r.s.conn, Collection: "big", AsOf: &future})
	}
	r.s.p.ExpectNoMsg(100 * time.Millisecond)
	d := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX, Name: "big_idx"})
	canceled := 0
	if d.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(d.GetError()))
	}
	for canceled < n {
		p := testkit.ExpectMsg[*messages.ClientPeekResponse](r.s.p, timeout)
		requireCode(t, "peek of a dropped index", p.GetError(), messages.ErrCanceled, `index "big_idx"`)
		canceled++
	}
	// The view is still readable, now through a transient dataflow.
	r.check("big", bigSales())
}

// Bad input gets a typed error naming the problem, and nothing is created.
func TestComputeBadInput(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	before := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED)
	bad := func(what string, req any, sentinel error, words ...string) {
		t.Helper()
		requireCode(t, what, expect[*messages.ClientCreateResponse](r.s, req).GetError(), sentinel, words...)
	}
	bad("unknown source", &messages.ClientCreateView{Conn: r.s.conn, Name: "v", Plan: &messages.ClientPlan{Plan: getSales(), Sources: map[uint64]string{1: "nope"}}},
		messages.ErrNotFound, `"nope"`)
	bad("unbound placeholder", &messages.ClientCreateView{Conn: r.s.conn, Name: "v", Plan: &messages.ClientPlan{Plan: getSales()}},
		messages.ErrInvalidArgument, "t1")
	badFilter := &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: getSales(),
		Predicates: []*messages.Expr{{Kind: &messages.Expr_Column{Column: colRef(9)}}}}}}
	bad("plan that does not type-check", &messages.ClientCreateView{Conn: r.s.conn, Name: "v", Plan: clientPlan(badFilter)}, messages.ErrInvalidArgument, `create view "v"`)
	bad("index on an unknown view", &messages.ClientCreateIndex{Conn: r.s.conn, Name: "i", On: "nope"}, messages.ErrNotFound, `"nope"`)
	bad("index on an unknown column", &messages.ClientCreateIndex{Conn: r.s.conn, Name: "i", On: "big", KeyColumns: []string{"zip"}}, messages.ErrInvalidArgument, `"zip"`)
	bad("index on an unknown cluster", &messages.ClientCreateIndex{Conn: r.s.conn, Name: "i", On: "big", Cluster: "nope"}, messages.ErrNotFound, `"nope"`)
	bad("duplicate view", &messages.ClientCreateView{Conn: r.s.conn, Name: "big", Plan: clientPlan(bigSales())}, messages.ErrAlreadyExists, `"big"`)
	bad("duplicate cluster", &messages.ClientCreateCluster{Conn: r.s.conn, Name: "default"}, messages.ErrAlreadyExists, `"default"`)
	bad("duplicate replica", &messages.ClientCreateReplica{Conn: r.s.conn, Cluster: "default", Replica: &messages.ClientReplicaSpec{Name: "r1"}}, messages.ErrAlreadyExists, `"r1"`)
	requireCode(t, "drop a table a view reads", expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn,
		Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE, Name: "sales"}).GetError(), messages.ErrInvalidArgument, `"big"`)
	requireCode(t, "drop a cluster in use", expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn,
		Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER, Name: "default"}).GetError(), messages.ErrInvalidArgument, `"big_idx"`)
	if after := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("objects changed by refused statements:\n%v\n%v", before, after)
	}
}

// Clusters and replicas: a second cluster with two replicas computes an
// index; dropping a replica keeps it served by the other.
func TestClustersAndReplicas(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "c2", Replicas: []*messages.ClientReplicaSpec{{Name: "a"}, {Name: "b"}}})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "sales_idx", On: "sales", Cluster: "c2"})
	r.insert(6)
	r.check("sales_idx", getSales())
	if got := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA); fmt.Sprint(got) != "[c2.a c2.b default.r1]" {
		t.Fatalf("replicas: %v", got)
	}
	d := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA, Name: "c2.a"})
	if d.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(d.GetError()))
	}
	r.insert(2)
	r.check("sales_idx", getSales())
	for _, drop := range []struct {
		typ  messages.ClientObjectType
		name string
	}{{messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX, "sales_idx"}, {messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER, "c2"}} {
		d := expect[*messages.ClientDropResponse](r.s, &messages.ClientDrop{Conn: r.s.conn, Type: drop.typ, Name: drop.name})
		if d.GetError() != nil || !d.GetDropped() {
			t.Fatalf("drop %s: %v", drop.name, messages.ErrorFromWire(d.GetError()))
		}
	}
	if got := r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER); fmt.Sprint(got) != "[default]" {
		t.Fatalf("clusters: %v", got)
	}
}

// subscribeTo subscribes r's session to name from a probe of its own,
// which receives the batches; it returns the probe and the subscription's
// id.
func (r *computeRig) subscribeTo(name string, window uint32) (*testkit.Probe, uint64) {
	r.t.Helper()
	p := testkit.NewProbe(r.t, r.sys)
	p.Send(r.node.Env, &messages.ClientSubscribe{Conn: r.s.conn, Collection: name, Window: window})
	resp := testkit.ExpectMsg[*messages.ClientSubscribeResponse](p, timeout)
	if resp.GetError() != nil {
		r.t.Fatalf("subscribe %s: %v", name, messages.ErrorFromWire(resp.GetError()))
	}
	return p, resp.GetSubscription()
}

// A subscribe of a view sees every change once, in seq order, with
// progress that never goes back; the changes up to each upper add up to
// the oracle's contents. Unsubscribing ends it with a finished batch.
func TestSubscribeSeesEveryChangeOnce(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(4)
	sp, id := r.subscribeTo("big", 2)
	for range 4 {
		r.insert(3)
	}
	want := strings.Join(r.oracle(bigSales()), "\n")
	acc := map[string]int64{}
	var seq, upper uint64
	for {
		b := testkit.ExpectMsg[*messages.ClientSubscribeBatch](sp, timeout)
		if b.GetError() != nil || b.GetFinished() {
			t.Fatalf("subscribe ended early: %v", messages.ErrorFromWire(b.GetError()))
		}
		if b.GetSubscription() != id || b.GetSeq() != seq+1 {
			t.Fatalf("batch %d of %d after %d", b.GetSeq(), b.GetSubscription(), seq)
		}
		seq = b.GetSeq()
		if b.GetUpper() < upper {
			t.Fatalf("progress went back from %d to %d", upper, b.GetUpper())
		}
		upper = b.GetUpper()
		for _, u := range b.GetUpdates() {
			if u.GetTime() >= upper {
				t.Fatalf("update at %d in a batch up to %d", u.GetTime(), upper)
			}
			row, err := dataflow.RowFromWire(u.GetRow())
			if err != nil {
				t.Fatal(err)
			}
			acc[row.String()] += u.GetDiff()
		}
		r.s.p.Send(r.node.Env, &messages.ClientSubscribeAck{Conn: r.s.conn, Subscription: id, Seq: seq})
		var got []string
		for row, n := range acc {
			if n < 0 {
				t.Fatalf("row %s at multiplicity %d", row, n)
			}
			for range n {
				got = append(got, row)
			}
		}
		sort.Strings(got)
		if strings.Join(got, "\n") == want {
			break
		}
	}
	u := expect[*messages.ClientUnsubscribeResponse](r.s, &messages.ClientUnsubscribe{Conn: r.s.conn, Subscription: id})
	if u.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(u.GetError()))
	}
	for {
		b := testkit.ExpectMsg[*messages.ClientSubscribeBatch](sp, timeout)
		if b.GetFinished() {
			if b.GetError() != nil {
				t.Fatalf("unsubscribe ended with %v", messages.ErrorFromWire(b.GetError()))
			}
			break
		}
	}
}

// A client that never acknowledges gets its window of batches, then an
// error batch once the backlog passes its bound: the node keeps a bounded
// amount for it.
func TestSubscribeSlowClientIsBounded(t *testing.T) {
	sys := testkit.NewSystem(t)
	r := &computeRig{t: t, sys: sys, dir: t.TempDir()}
	r.node = environmenttest.Start(t, sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40,
		Env: func(c *environment.Config) { c.MaxSubscribeBacklog = 20 }})
	r.s = connect(t, sys, r.node.Env, 0)
	r.setup()
	sp, _ := r.subscribeTo("sales", 1)
	for range 10 {
		r.insert(5)
	}
	var last *messages.ClientSubscribeBatch
	for last == nil || !last.GetFinished() {
		last = testkit.ExpectMsg[*messages.ClientSubscribeBatch](sp, timeout)
	}
	requireCode(t, "a slow subscriber", last.GetError(), messages.ErrInvalidArgument, "fell behind", `"sales"`)
}

// An instance that stops without the environment asking (here: poisoned)
// is replaced: a new one gets the cluster's replicas and dataflows, and
// the view is served again; a subscribe it served ends UNAVAILABLE.
func TestInstanceReplacedWhenItStops(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(5)
	r.check("big", bigSales())
	sp, _ := r.subscribeTo("sales", 4)
	instance := func() string {
		d := expect[*messages.ClientDumpResponse](r.s, &messages.ClientDump{Conn: r.s.conn})
		var state struct {
			Clusters []struct {
				Instance string `json:"instance"`
			} `json:"clusters"`
		}
		if err := json.Unmarshal(d.GetJson(), &state); err != nil || len(state.Clusters) != 1 {
			t.Fatalf("dump %s: %v", d.GetJson(), err)
		}
		return state.Clusters[0].Instance
	}
	old := instance()
	if old == "" {
		t.Fatal("no instance in the dump")
	}
	r.sys.Root.Poison(actor.NewPID(r.sys.Address(), old))
	testkit.Eventually(t, func() bool { id := instance(); return id != "" && id != old }, timeout, "a new instance started")
	for {
		b := testkit.ExpectMsg[*messages.ClientSubscribeBatch](sp, timeout)
		if b.GetFinished() {
			if b.GetError() == nil {
				t.Fatal("the subscribe of a stopped instance ended without an error")
			}
			break
		}
	}
	r.insert(3)
	r.check("big", bigSales())
	r.check("per_customer", perCustomer())
}

// A peek of a plan (no catalog object) is computed like an unindexed view;
// a plan naming an unknown source is NOT_FOUND.
func TestPeekOfAPlan(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(6)
	resp := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Plan: clientPlan(perCustomer())})
	if resp.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(resp.GetError()))
	}
	var got []string
	for _, w := range resp.GetRows() {
		row, err := dataflow.RowFromWire(w)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row.String())
	}
	sort.Strings(got)
	if want := r.oracle(perCustomer()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("peek of a plan: %v, want %v", got, want)
	}
	bad := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Plan: &messages.ClientPlan{Plan: getSales(), Sources: map[uint64]string{1: "nope"}}})
	requireCode(t, "peek of a plan over an unknown source", bad.GetError(), messages.ErrNotFound, `"nope"`)
}

// Writers and index peeks at once: every peek of the view through its
// index reads at a time no earlier than any write acknowledged before it
// was sent, and its rows are the view of exactly the writes at or before
// that time.
func TestConcurrentWritesAndIndexPeeks(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	const writers, peekers, rounds = 3, 3, 8
	type write struct {
		ts  uint64
		row dataflow.Row
	}
	var mu sync.Mutex
	var writes []write
	var acked uint64 // the highest acknowledged write timestamp
	type observed struct {
		asOf, ackedBefore uint64
		rows              []string
	}
	var peeks []observed
	var wg sync.WaitGroup
	errs := make(chan error, writers+peekers)
	for w := range writers {
		s := connect(t, r.sys, r.node.Env, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				id := int64(1000*(w+1) + i)
				row := dataflow.Row{dataflow.Int64(id), dataflow.Int64(id % 3), dataflow.Int64(id * 13 % 100)}
				s.p.Send(s.env, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "sales", Inserts: []*messages.Row{dataflow.RowToWire(row)}}}})
				resp := testkit.ExpectMsg[*messages.ClientWriteResponse](s.p, timeout)
				if resp.GetError() != nil {
					errs <- messages.ErrorFromWire(resp.GetError())
					return
				}
				mu.Lock()
				writes = append(writes, write{ts: resp.GetTimestamp(), row: row})
				acked = max(acked, resp.GetTimestamp())
				mu.Unlock()
			}
		}()
	}
	for range peekers {
		s := connect(t, r.sys, r.node.Env, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				mu.Lock()
				before := acked
				mu.Unlock()
				s.p.Send(s.env, &messages.ClientPeek{Conn: s.conn, Collection: "big"})
				resp := testkit.ExpectMsg[*messages.ClientPeekResponse](s.p, timeout)
				if resp.GetError() != nil {
					errs <- messages.ErrorFromWire(resp.GetError())
					return
				}
				o := observed{asOf: resp.GetAsOf(), ackedBefore: before}
				for _, w := range resp.GetRows() {
					row, err := dataflow.RowFromWire(w)
					if err != nil {
						errs <- err
						return
					}
					o.rows = append(o.rows, row.String())
				}
				sort.Strings(o.rows)
				mu.Lock()
				peeks = append(peeks, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, p := range peeks {
		if p.asOf < p.ackedBefore {
			t.Fatalf("a peek read at %d, before a write acknowledged at %d", p.asOf, p.ackedBefore)
		}
		r.written = r.written[:0]
		for _, w := range writes {
			if w.ts <= p.asOf {
				r.written = append(r.written, dataflow.Update{Row: w.row, Diff: 1})
			}
		}
		if want := r.oracle(bigSales()); strings.Join(p.rows, " ") != strings.Join(want, " ") {
			t.Fatalf("peek at %d: %v, want %v", p.asOf, p.rows, want)
		}
	}
}

// A session's cancel ends its subscribes CANCELED, as it does its peeks.
func TestCancelEndsSubscribes(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	sp, _ := r.subscribeTo("big", 0)
	c := expect[*messages.ClientCancelResponse](r.s, &messages.ClientCancel{Conn: r.s.conn})
	if c.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(c.GetError()))
	}
	for {
		b := testkit.ExpectMsg[*messages.ClientSubscribeBatch](sp, timeout)
		if b.GetFinished() {
			requireCode(t, "a canceled subscribe", b.GetError(), messages.ErrCanceled, "user request", `"big"`)
			break
		}
	}
}

// collectionRows reads a materialized view's storage collection at its
// latest complete time, as sorted row strings (a row n times when its
// multiplicity is n); nil while the collection has nothing readable.
func (r *computeRig) collectionRows(id timely.GlobalId) []string {
	r.t.Helper()
	res, err := r.sys.Root.RequestFuture(r.node.Storage, &messages.StorageSnapshot{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}}, testkit.DefaultTimeout).Result()
	if err != nil {
		r.t.Fatal(err)
	}
	snap := res.(*messages.StorageSnapshotResponse)
	if snap.GetError() != nil {
		return nil
	}
	var out []string
	for _, tc := range snap.GetTables() {
		for _, rd := range tc.GetRows() {
			row, err := dataflow.RowFromWire(rd.GetRow())
			if err != nil {
				r.t.Fatal(err)
			}
			for range rd.GetDiff() {
				out = append(out, row.String())
			}
		}
	}
	sort.Strings(out)
	return out
}

// A materialized view's output reaches its storage collection (created by
// the environment with the view's id), equal to the oracle's rows.
func TestMaterializedViewWritesItsStorageCollection(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(10)
	r.insert(3)
	var id timely.GlobalId
	l := expect[*messages.ClientListObjectsResponse](r.s, &messages.ClientListObjects{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW})
	for _, o := range l.GetObjects() {
		if o.GetName() == "per_customer" {
			var err error
			if id, err = timely.ParseGlobalId(o.GetId()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if id == (timely.GlobalId{}) {
		t.Fatalf("no materialized view per_customer in %v", l.GetObjects())
	}
	want := strings.Join(r.oracle(perCustomer()), "\n")
	testkit.Eventually(t, func() bool {
		return strings.Join(r.collectionRows(id), "\n") == want
	}, testkit.DefaultTimeout, "the materialized view's storage collection never held the oracle's rows")
}

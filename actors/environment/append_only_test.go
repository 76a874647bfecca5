package environment_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

var appendOnlySeed = flag.Int64("append-only.seed", 0, "seed of TestAppendOnlyTableEndToEnd (0: derive from the time)")

// maxPerCustomer is the largest sale amount per customer: over an
// append-only input the engine keeps only each customer's output row.
func maxPerCustomer() *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Reduce{Reduce: &messages.ReducePlan{Input: getSales(), GroupKey: []*messages.ColumnRef{colRef(1)},
		Aggregates: []*messages.Aggregate{{Func: messages.AggregateFunc_AGGREGATE_FUNC_MAX, Column: colRef(2)}}}}}
}

// topSalePerCustomer is each customer's largest sale (the lowest id among
// equal amounts): over an append-only input a monotonic top 1.
func topSalePerCustomer() *messages.Plan {
	one := uint64(1)
	return &messages.Plan{Node: &messages.Plan_TopK{TopK: &messages.TopKPlan{Input: getSales(), GroupKey: []*messages.ColumnRef{colRef(1)},
		Order: []*messages.OrderColumn{{Column: colRef(2), Desc: true}, {Column: colRef(0)}}, Limit: &one}}}
}

// descRecorder keeps the dataflow descriptions the replicas of a node are
// asked to install: each runtime is reached through a proxy actor that
// notes every ComputeCreateDataflow and forwards every message, sender
// kept, to the runtime (it stops when the runtime does).
type descRecorder struct {
	mu    sync.Mutex
	descs []*messages.ComputeDataflowDescription
}

func (rec *descRecorder) installed() []*messages.ComputeDataflowDescription {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*messages.ComputeDataflowDescription(nil), rec.descs...)
}

func (rec *descRecorder) configure(sys *actor.ActorSystem) func(*environment.Config) {
	return func(cfg *environment.Config) {
		inner := cfg.Launcher
		cfg.Launcher = func(c timely.ClusterId, r timely.ReplicaId) replica.Launcher {
			l := inner(c, r)
			return replica.LauncherFunc(func(ctx context.Context, id timely.ReplicaId, inc uint64) (*actor.PID, error) {
				runtime, err := l.Launch(ctx, id, inc)
				if err != nil {
					return nil, err
				}
				return sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
					switch m := c.Message().(type) {
					case *actor.Started:
						c.Watch(runtime)
					case *actor.Terminated:
						c.Stop(c.Self())
					case actor.SystemMessage, actor.AutoReceiveMessage:
					default:
						if cmd, ok := m.(*messages.ComputeCommand); ok && cmd.GetCreateDataflow() != nil {
							rec.mu.Lock()
							rec.descs = append(rec.descs, cmd.GetCreateDataflow().GetDataflow())
							rec.mu.Unlock()
						}
						c.Forward(runtime)
					}
				})), nil
			})
		}
	}
}

// appendOnlyRig is a computeRig whose "sales" table is append-only, with
// an ordinary table "plain" of the same schema beside it.
type appendOnlyRig struct {
	*computeRig
	rec *descRecorder
	rnd *rand.Rand
	// ids of the two tables
	sales, plain string
}

func (r *appendOnlyRig) start() {
	r.rec = &descRecorder{}
	r.node = environmenttest.Start(r.t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40,
		Env: r.rec.configure(r.sys)})
	r.s = connect(r.t, r.sys, r.node.Env, 0)
}

func (r *appendOnlyRig) restart() {
	r.node.Stop()
	r.start()
}

// insertSales writes n new sales in one write (amounts drawn from r.rnd,
// so equal amounts occur).
func (r *appendOnlyRig) insertSales(n int) {
	r.t.Helper()
	rows := &messages.ClientTableRows{Table: "sales"}
	for range n {
		r.nextId++
		row := dataflow.Row{dataflow.Int64(r.nextId), dataflow.Int64(r.rnd.Int63n(5)), dataflow.Int64(r.rnd.Int63n(50))}
		rows.Inserts = append(rows.Inserts, dataflow.RowToWire(row))
		r.written = append(r.written, dataflow.Update{Row: row, Diff: 1})
	}
	w := expect[*messages.ClientWriteResponse](r.s, &messages.ClientWrite{Conn: r.s.conn, Tables: []*messages.ClientTableRows{rows}})
	if w.GetError() != nil {
		r.t.Fatal(messages.ErrorFromWire(w.GetError()))
	}
}

// checkAll compares every view of sales with the oracle.
func (r *appendOnlyRig) checkAll() {
	r.t.Helper()
	r.check("max_idx", maxPerCustomer())
	r.check("top_idx", topSalePerCustomer())
	r.check("top", topSalePerCustomer()) // through its index
	r.check("sales", getSales())         // the persist fast path
}

// checkInstalled checks the descriptions installed so far: every Get of
// sales is append-only, every Get of plain is not, and both were seen.
func (r *appendOnlyRig) checkInstalled() {
	r.t.Helper()
	seen := map[string]int{}
	for _, d := range r.rec.installed() {
		for _, b := range d.GetObjectsToBuild() {
			var bad error
			visitGets(b.GetPlan(), func(g *messages.GetPlan) {
				id, _ := g.GetSource().ToTimely()
				seen[id.String()]++
				if want := id.String() == r.sales; g.GetAppendOnly() != want && bad == nil {
					bad = fmt.Errorf("dataflow %q reads %s with append_only=%v, want %v", d.GetDebugName(), id, g.GetAppendOnly(), want)
				}
			})
			if bad != nil {
				r.t.Fatal(bad)
			}
		}
	}
	if seen[r.sales] == 0 || seen[r.plain] == 0 {
		r.t.Fatalf("installed dataflows read %v; want both %s (sales) and %s (plain)", seen, r.sales, r.plain)
	}
}

// visitGets calls f on every Get of p (the plan kinds these tests use).
func visitGets(p *messages.Plan, f func(*messages.GetPlan)) {
	switch n := p.GetNode().(type) {
	case *messages.Plan_Get:
		f(n.Get)
	case *messages.Plan_Reduce:
		visitGets(n.Reduce.GetInput(), f)
	case *messages.Plan_TopK:
		visitGets(n.TopK.GetInput(), f)
	case *messages.Plan_Filter:
		visitGets(n.Filter.GetInput(), f)
	case *messages.Plan_ArrangeBy:
		visitGets(n.ArrangeBy.GetInput(), f)
	}
}

// An append-only table, end to end: declared at creation (kept in the
// catalog across a restart, shown in lists and the dump), its dataflows
// lowered with append_only (an ordinary table's without), its views (a
// max per key and a top 1 per key, both indexed) equal to the oracle
// after every write, and its deletes and updates refused whole, after
// which every peek still sees every row.
func TestAppendOnlyTableEndToEnd(t *testing.T) {
	seed := *appendOnlySeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -append-only.seed=%d)", seed, seed)
	r := &appendOnlyRig{computeRig: &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}, rnd: rand.New(rand.NewSource(seed))}
	r.start()

	sales := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: "sales",
		Schema: dataflow.SchemaToWire(salesSchema), KeyColumns: []string{"id"}, AppendOnly: true})
	plain := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: "plain",
		Schema: dataflow.SchemaToWire(salesSchema), KeyColumns: []string{"id"}})
	if sales.GetError() != nil || plain.GetError() != nil {
		t.Fatalf("create tables: %v, %v", sales.GetError(), plain.GetError())
	}
	if !sales.GetObject().GetAppendOnly() || plain.GetObject().GetAppendOnly() {
		t.Fatalf("created objects: %v, %v", sales.GetObject(), plain.GetObject())
	}
	r.sales, r.plain = sales.GetObject().GetId(), plain.GetObject().GetId()

	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "max", Plan: clientPlan(maxPerCustomer())})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "max_idx", On: "max", KeyColumns: []string{"customer"}})
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "top", Plan: clientPlan(topSalePerCustomer())})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "top_idx", On: "top", KeyColumns: []string{"customer"}})
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "plain_max",
		Plan: &messages.ClientPlan{Plan: maxPerCustomer(), Sources: map[uint64]string{placeholder.Value: "plain"}}})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "plain_max_idx", On: "plain_max"})

	for range 4 {
		r.insertSales(1 + r.rnd.Intn(12))
		r.checkAll()
	}
	r.checkInstalled()

	// Deletes and updates are refused, alone or beside a good part for
	// another table, and nothing of the write applies.
	victim := dataflow.RowToWire(r.written[0].Row)
	other := dataflow.RowToWire(dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(1)})
	refused := func(what string, tables ...*messages.ClientTableRows) {
		t.Helper()
		w := expect[*messages.ClientWriteResponse](r.s, &messages.ClientWrite{Conn: r.s.conn, Tables: tables})
		requireCode(t, what, w.GetError(), messages.ErrInvalidArgument, `table "sales"`, "append-only", r.written[0].Row.String())
		requireCode(t, what, w.GetError(), environment.ErrAppendOnly)
	}
	refused("a delete", &messages.ClientTableRows{Table: "sales", Deletes: []*messages.Row{victim}})
	refused("an update", &messages.ClientTableRows{Table: "sales", Updates: []*messages.Row{victim}})
	refused("a delete beside good parts",
		&messages.ClientTableRows{Table: "plain", Inserts: []*messages.Row{other}},
		&messages.ClientTableRows{Table: "sales", Inserts: []*messages.Row{other}, Deletes: []*messages.Row{victim}})
	if got := r.peek("plain"); len(got) != 0 {
		t.Fatalf("a refused write inserted into plain: %v", got)
	}
	r.checkAll()

	// Listed and dumped as append-only.
	l := expect[*messages.ClientListObjectsResponse](r.s, &messages.ClientListObjects{Conn: r.s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE})
	flags := map[string]bool{}
	for _, o := range l.GetObjects() {
		flags[o.GetName()] = o.GetAppendOnly()
	}
	if fmt.Sprint(flags) != "map[plain:false sales:true]" {
		t.Fatalf("listed tables (append-only): %v", flags)
	}
	var dump struct {
		Objects []struct {
			Name       string `json:"name"`
			AppendOnly bool   `json:"append_only"`
		} `json:"objects"`
	}
	d := expect[*messages.ClientDumpResponse](r.s, &messages.ClientDump{Conn: r.s.conn})
	if err := json.Unmarshal(d.GetJson(), &dump); err != nil {
		t.Fatal(err)
	}
	var dumped []string
	for _, o := range dump.Objects {
		if o.AppendOnly {
			dumped = append(dumped, o.Name)
		}
	}
	if strings.Join(dumped, ",") != "sales" {
		t.Fatalf("dump marks %v append-only", dumped)
	}

	// After a restart the catalog still says so: storage still refuses,
	// the rebuilt dataflows are still lowered the same way, and the
	// views still agree with the oracle.
	r.restart()
	r.checkAll()
	refused("a delete after a restart", &messages.ClientTableRows{Table: "sales", Deletes: []*messages.Row{victim}})
	r.insertSales(5)
	r.checkAll()
	r.checkInstalled()
}

// A catalog table that storage lacks is created by bootstrap with its
// declaration: storage itself then refuses a retraction of its rows, and
// the environment lists it append-only.
func TestBootstrapCreatesAppendOnlyTables(t *testing.T) {
	sys := testkit.NewSystem(t)
	dir := t.TempDir()
	node := environmenttest.Start(t, sys, dir, environmenttest.Options{})
	s := connect(t, sys, node.Env, 0)
	// Written to the catalog behind the environment's back, as if its
	// storage create had been lost.
	def, _ := proto.Marshal(&messages.ClientTableDefinition{Schema: ordersSchema, AppendOnly: true})
	var id timely.GlobalId
	s.p.Send(node.Catalog, &catalog.Transact{Apply: func(tx *durable.Transaction) error {
		first, err := tx.AllocateIds(environment.IdAllocator, 1)
		if err != nil {
			return err
		}
		id = timely.UserId(first)
		return tx.CreateItem(&messages.CatalogItem{Id: messages.FromGlobalId(id), Name: "events",
			Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, Definition: def})
	}})
	if r := testkit.ExpectMsg[*catalog.TransactResult](s.p, timeout); r.Err != nil {
		t.Fatal(r.Err)
	}

	node.Stop()
	node = environmenttest.Start(t, sys, dir, environmenttest.Options{})
	s = connect(t, sys, node.Env, 0)
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "events", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatalf("insert into the recreated table: %v", messages.ErrorFromWire(w.GetError()))
	}
	minus := int64(-1)
	s.p.Send(node.Storage, &messages.StorageWrite{Tables: []*messages.StorageTableWrite{{Table: messages.FromGlobalId(id),
		Rows: []*messages.StorageRowDiff{{Row: row(1, "a"), Diff: &minus}}}}})
	sw := testkit.ExpectMsg[*messages.StorageWriteResponse](s.p, timeout)
	requireCode(t, "a retraction sent to storage", sw.GetError(), storage.ErrAppendOnly, id.String())
	l := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn})
	if len(l.GetObjects()) != 1 || !l.GetObjects()[0].GetAppendOnly() {
		t.Fatalf("listed %v", l.GetObjects())
	}
}

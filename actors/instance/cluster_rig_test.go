package instance_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/pprof"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// The rig of the end-to-end tests: storage, an Instance and real replica
// runtimes, launched by replica.LocalLauncher (in this actor system) or
// replica.RemoteLauncher (on a second actor system over remote loopback).
// The instance runs on a manual clock: the test advances it to send
// Maintain (scheduling, restarts); runtimes and storage use real time only
// where their I/O needs it.

// wait bounds every wait of these tests.
const wait = 20 * time.Second

var (
	orders    = timely.UserId(1) // (id, customer, amount)
	customers = timely.UserId(2) // (id, name)

	bigOrders   = timely.UserId(10) // index: orders with amount > 50
	perCustomer = timely.UserId(11) // materialized view: customer, sum(amount), count
	withNames   = timely.UserId(12) // index: orders ⋈ customers
	bigPerCust  = timely.UserId(13) // index over the imported index u10: customer, count

	r1 = timely.ReplicaId{Kind: timely.User, Value: 1}
	r2 = timely.ReplicaId{Kind: timely.User, Value: 2}

	ordersSchema = dataflow.Schema{
		{Name: "id", Type: dataflow.TypeInt64},
		{Name: "customer", Type: dataflow.TypeInt64},
		{Name: "amount", Type: dataflow.TypeInt64},
	}
	customersSchema = dataflow.Schema{
		{Name: "id", Type: dataflow.TypeInt64},
		{Name: "name", Type: dataflow.TypeString},
	}
)

// written is one row change the test wrote, for the oracle.
type written struct {
	table timely.GlobalId
	row   dataflow.Row
	ts    timely.Timestamp
	diff  int64
}

// oracleFlow is what the oracle needs of a compute collection.
type oracleFlow struct {
	plan    *dataflow.Plan
	sources []timely.GlobalId
}

// launchRecord is one runtime a launcher started.
type launchRecord struct {
	replica     timely.ReplicaId
	incarnation uint64
	pid         *actor.PID
}

// rigLauncher wraps the real launchers: it records each runtime, and may
// refuse or delay a launch.
type rigLauncher struct {
	mu       sync.Mutex
	by       map[timely.ReplicaId]replica.Launcher
	launched []launchRecord
	attempts map[timely.ReplicaId]int
	// fail, when set, refuses a launch with its error.
	fail func(timely.ReplicaId, uint64) error
}

func (l *rigLauncher) Launch(ctx context.Context, id timely.ReplicaId, inc uint64) (*actor.PID, error) {
	l.mu.Lock()
	l.attempts[id]++
	inner, fail := l.by[id], l.fail
	l.mu.Unlock()
	if fail != nil {
		if err := fail(id, inc); err != nil {
			return nil, err
		}
	}
	if inner == nil {
		return nil, fmt.Errorf("no launcher for %s", id)
	}
	pid, err := inner.Launch(ctx, id, inc)
	if err == nil {
		l.mu.Lock()
		l.launched = append(l.launched, launchRecord{id, inc, pid})
		l.mu.Unlock()
	}
	return pid, err
}

// current returns the runtime of a replica's latest incarnation.
func (l *rigLauncher) current(id timely.ReplicaId) launchRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.launched) - 1; i >= 0; i-- {
		if l.launched[i].replica == id {
			return l.launched[i]
		}
	}
	return launchRecord{}
}

func (l *rigLauncher) attemptsOf(id timely.ReplicaId) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts[id]
}

type rig struct {
	t       testing.TB
	sys     *actor.ActorSystem
	rem     *remote.Remote
	clk     *testkit.ManualClock
	store   persistence.Store
	storage *actor.PID
	inst    *actor.PID
	l       *rigLauncher
	answers *answerBox
	// closers run once the instance stopped (launchers' Close).
	closers []func()

	// outputs: one shard per replica, shared by its incarnations.
	outMu   sync.Mutex
	outputs map[timely.ReplicaId]persistence.Shard

	upper  timely.Timestamp
	log    []written
	live   []dataflow.Row // orders not deleted
	flows  map[timely.GlobalId]oracleFlow
	tables map[timely.GlobalId]dataflow.Schema
}

type rigOptions struct {
	// remote starts the controller's system with remote (for a
	// RemoteLauncher).
	remote bool
	// maxRestarts is the restart budget of each replica (0: 100).
	maxRestarts int
	// configure adjusts each local runtime's config.
	configure func(timely.ReplicaId, uint64, *runtime.Config)
}

// newRig starts storage and an instance with no replica.
func newRig(t testing.TB, o rigOptions) *rig {
	r := &rig{t: t, clk: testkit.NewManualClock(), outputs: map[timely.ReplicaId]persistence.Shard{},
		flows: map[timely.GlobalId]oracleFlow{}, tables: map[timely.GlobalId]dataflow.Schema{}}
	if o.remote {
		r.sys, r.rem = testkit.NewRemoteSystem(t)
	} else {
		r.sys = testkit.NewSystem(t)
	}
	r.store = mem.New()
	props, err := storage.New(storage.Config{Store: r.store, Clock: testkit.NewManualClock(), CompactionWindow: 1 << 40, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	r.storage = r.sys.Root.Spawn(props)
	r.answers = newAnswerBox(r.sys)

	r.l = &rigLauncher{by: map[timely.ReplicaId]replica.Launcher{}, attempts: map[timely.ReplicaId]int{}}
	maxRestarts := o.maxRestarts
	if maxRestarts == 0 {
		maxRestarts = 100
	}
	ip, err := instance.New(instance.Config{
		Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, ClusterName: "e2e", EnvironmentEpoch: 1,
		Launcher: r.l,
		Restarts: func(timely.ReplicaId) replica.RestartTracker {
			return &replica.FixedRestarts{MaxRestarts: maxRestarts}
		},
		Clock: r.clk, LaunchTimeout: wait, Logger: testkit.QuietLogger(),
	})
	require.NoError(t, err)
	r.inst = r.sys.Root.Spawn(ip)
	require.True(t, r.clk.WaitForTimers(1, wait), "the maintain loop started")
	t.Cleanup(r.stop)
	return r
}

// stop stops the instance (and so every ReplicaState and runtime), then
// storage, then closes the shards.
func (r *rig) stop() {
	require.NoError(r.t, r.sys.Root.StopFuture(r.inst).Wait())
	for _, c := range r.closers {
		c()
	}
	r.stopRuntimes()
	require.NoError(r.t, r.sys.Root.StopFuture(r.answers.pid).Wait())
	require.NoError(r.t, r.sys.Root.StopFuture(r.storage).Wait())
	r.outMu.Lock()
	for _, s := range r.outputs {
		require.NoError(r.t, s.Close())
	}
	r.outMu.Unlock()
	require.NoError(r.t, r.store.Close())
}

// stopRuntimes waits until every local runtime launched has stopped (the
// ReplicaStates poison theirs when they stop).
func (r *rig) stopRuntimes() {
	r.l.mu.Lock()
	launched := append([]launchRecord(nil), r.l.launched...)
	r.l.mu.Unlock()
	for _, rec := range launched {
		if rec.pid.Address == r.sys.Address() {
			require.NoError(r.t, r.sys.Root.StopFuture(rec.pid).Wait())
		}
	}
}

// runtimes returns the RuntimeConfig of the runtimes of this rig, on the
// node whose outputs shards outputs returns.
func (r *rig) runtimes(outputs func(timely.ReplicaId) (persistence.Shard, error), configure func(timely.ReplicaId, uint64, *runtime.Config)) replica.RuntimeConfig {
	return replica.RuntimeConfig{Storage: r.storage, Outputs: outputs, Workers: 2, Logger: testkit.QuietLogger(), Configure: configure}
}

// localOutputs opens (once per replica) the replica's outputs shard in the
// rig's store.
func (r *rig) localOutputs(id timely.ReplicaId) (persistence.Shard, error) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	if s, ok := r.outputs[id]; ok {
		return s, nil
	}
	s, err := r.store.OpenShard(context.Background(), "outputs-"+id.String())
	if err != nil {
		return nil, err
	}
	r.outputs[id] = s
	return s, nil
}

// addLocal adds a replica whose runtimes run in the rig's actor system.
func (r *rig) addLocal(id timely.ReplicaId, configure func(timely.ReplicaId, uint64, *runtime.Config)) {
	r.l.mu.Lock()
	r.l.by[id] = &replica.LocalLauncher{System: r.sys, Runtimes: r.runtimes(r.localOutputs, configure)}
	r.l.mu.Unlock()
	r.ok(instance.AddReplica{Id: id, Name: id.String()})
}

func (r *rig) call(msg any) any {
	r.t.Helper()
	res, err := r.sys.Root.RequestFuture(r.inst, msg, wait).Result()
	require.NoError(r.t, err, "%T", msg)
	return res
}

func (r *rig) try(msg any) error {
	r.t.Helper()
	return r.call(msg).(instance.Reply).Error()
}

func (r *rig) ok(msg any) {
	r.t.Helper()
	require.NoError(r.t, r.try(msg), "%T", msg)
}

func (r *rig) dump() instance.Dump {
	r.t.Helper()
	var d instance.Dump
	require.NoError(r.t, json.Unmarshal(r.call(instance.GetDump{}).(instance.DumpReply).JSON, &d))
	return d
}

func (r *rig) replicaDump(id timely.ReplicaId) instance.ReplicaDump {
	for _, rd := range r.dump().Replicas {
		if rd.Id == id.String() {
			return rd
		}
	}
	r.t.Fatalf("replica %s not in dump", id)
	return instance.ReplicaDump{}
}

// maintain advances the instance's clock by a second, which sends it a
// Maintain.
func (r *rig) maintain() {
	r.clk.Advance(time.Second)
}

// eventually advances the instance's clock until cond holds.
func (r *rig) eventually(cond func() bool, msg string, args ...any) {
	r.t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			d, _ := json.MarshalIndent(r.dump(), "", " ")
			// The goroutines say which actor is stuck (a runtime that never
			// reported a frontier, a stop that never completed).
			var g bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&g, 1)
			stacks := g.String()
			if len(stacks) > 200_000 {
				stacks = stacks[:200_000] + "\n... (cut)"
			}
			r.t.Fatalf("%s: not within %s; dump:\n%s\ngoroutines:\n%s", fmt.Sprintf(msg, args...), wait, d, stacks)
		}
		r.maintain()
		time.Sleep(2 * time.Millisecond)
	}
}

// hydrated reports whether replica id is active at an incarnation of at
// least minInc and reports every live compute collection hydrated.
func (r *rig) hydrated(id timely.ReplicaId, minInc uint64) bool {
	d := r.dump()
	want := 0
	for _, c := range d.Collections {
		if !c.Storage && !c.Dropped {
			want++
		}
	}
	for _, rd := range d.Replicas {
		if rd.Id != id.String() {
			continue
		}
		if rd.Status != "active" || rd.Incarnation < minInc {
			return false
		}
		n := 0
		for _, c := range rd.Collections {
			if c.Hydrated {
				n++
			}
		}
		return n >= want
	}
	return false
}

func (r *rig) waitHydrated(id timely.ReplicaId, minInc uint64) {
	r.t.Helper()
	r.eventually(func() bool { return r.hydrated(id, minInc) }, "replica %s hydrated at incarnation >= %d", id, minInc)
}

// createTable creates a table in storage and registers it with the
// instance.
func (r *rig) createTable(id timely.GlobalId, schema dataflow.Schema) {
	res, err := r.sys.Root.RequestFuture(r.storage, &messages.StorageCreateTable{Table: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema)}, wait).Result()
	require.NoError(r.t, err)
	require.Nil(r.t, res.(*messages.StorageCreateTableResponse).GetError())
	r.tables[id] = schema
	r.ok(instance.RegisterStorage{Collection: instance.StorageCollection{Id: id, Schema: dataflow.SchemaToWire(schema), Since: timely.At(0), Upper: timely.At(r.upper)}})
}

type change struct {
	table timely.GlobalId
	row   dataflow.Row
	diff  int64
}

// write commits one transaction, records it for the oracle and tells the
// instance the tables' new upper.
func (r *rig) write(cs ...change) timely.Timestamp {
	byTable := map[timely.GlobalId]*messages.StorageTableWrite{}
	w := &messages.StorageWrite{}
	for _, c := range cs {
		tw, ok := byTable[c.table]
		if !ok {
			tw = &messages.StorageTableWrite{Table: messages.FromGlobalId(c.table)}
			byTable[c.table] = tw
			w.Tables = append(w.Tables, tw)
		}
		d := c.diff
		tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(c.row), Diff: &d})
	}
	res, err := r.sys.Root.RequestFuture(r.storage, w, wait).Result()
	require.NoError(r.t, err)
	wr := res.(*messages.StorageWriteResponse)
	require.Nil(r.t, wr.GetError())
	ts := timely.Timestamp(wr.GetTimestamp())
	for _, c := range cs {
		r.log = append(r.log, written{table: c.table, row: c.row, ts: ts, diff: c.diff})
	}
	r.upper = ts + 1
	for id := range r.tables {
		r.sys.Root.Send(r.inst, instance.UpdateStorageFrontiers{Id: id, Since: timely.At(0), Upper: timely.At(r.upper)})
	}
	return ts
}

// workload writes n transactions to orders (and now and then customers);
// it returns their timestamps.
func (r *rig) workload(seed int64, n int) []timely.Timestamp {
	var ts []timely.Timestamp
	next := int64(len(r.log)) * 1000
	for i := 0; i < n; i++ {
		next++
		cs := []change{{table: orders, row: dataflow.Row{dataflow.Int64(next), dataflow.Int64((next + seed) % 5), dataflow.Int64((next * 37) % 100)}, diff: 1}}
		if i%3 == 2 && len(r.live) > 0 {
			// delete the oldest live order
			cs = append(cs, change{table: orders, row: r.live[0], diff: -1})
			r.live = r.live[1:]
		}
		r.live = append(r.live, cs[0].row)
		if i%7 == 0 {
			c := next % 5
			cs = append(cs, change{table: customers, row: dataflow.Row{dataflow.Int64(c), dataflow.String(fmt.Sprintf("c%d-%d", c, next))}, diff: 1})
		}
		ts = append(ts, r.write(cs...))
	}
	return ts
}

// Wire plan constructors.

func ref(i int) *messages.ColumnRef {
	return &messages.ColumnRef{Ref: &messages.ColumnRef_Index{Index: uint32(i)}}
}

func colE(i int) *messages.Expr { return &messages.Expr{Kind: &messages.Expr_Column{Column: ref(i)}} }

func litE(d dataflow.Datum) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: dataflow.DatumToWire(d)}}}
}

func gtE(l, r *messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: messages.BinaryOp_BINARY_OP_GT, Left: l, Right: r}}}
}

func getP(id timely.GlobalId) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id)}}}
}

func filterP(in *messages.Plan, preds ...*messages.Expr) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: in, Predicates: preds}}}
}

func reduceP(in *messages.Plan, key []int, aggs ...*messages.Aggregate) *messages.Plan {
	r := &messages.ReducePlan{Input: in}
	for _, k := range key {
		r.GroupKey = append(r.GroupKey, ref(k))
	}
	r.Aggregates = aggs
	return &messages.Plan{Node: &messages.Plan_Reduce{Reduce: r}}
}

func agg(fn messages.AggregateFunc, col int) *messages.Aggregate {
	a := &messages.Aggregate{Func: fn}
	if col >= 0 {
		a.Column = ref(col)
	}
	return a
}

func joinP(l, r *messages.Plan, lcol, rcol int) *messages.Plan {
	eq := &messages.Equivalence{Columns: []*messages.JoinColumn{{Input: 0, Column: ref(lcol)}, {Input: 1, Column: ref(rcol)}}}
	return &messages.Plan{Node: &messages.Plan_Join{Join: &messages.JoinPlan{Inputs: []*messages.Plan{l, r}, Equivalences: []*messages.Equivalence{eq}}}}
}

var (
	sumW = messages.AggregateFunc_AGGREGATE_FUNC_SUM
	cntW = messages.AggregateFunc_AGGREGATE_FUNC_COUNT
)

// dataflowOf describes a one-object dataflow exporting id (an index on the
// whole row, or a materialized view) over storage sources and imported
// indexes.
func dataflowOf(id timely.GlobalId, plan *messages.Plan, materialized bool, asOf timely.Timestamp, sources []timely.GlobalId, schemas map[timely.GlobalId]dataflow.Schema, indexImports ...timely.GlobalId) *messages.ComputeDataflowDescription {
	d := &messages.ComputeDataflowDescription{
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(id), Plan: plan}},
		AsOf:           messages.FromFrontier(timely.At(asOf)),
		DebugName:      id.String(),
	}
	for _, s := range sources {
		d.SourceImports = append(d.SourceImports, &messages.ComputeSourceImport{Id: messages.FromGlobalId(s), Schema: dataflow.SchemaToWire(schemas[s])})
	}
	for _, ix := range indexImports {
		d.IndexImports = append(d.IndexImports, &messages.ComputeIndexImport{Id: messages.FromGlobalId(ix), On: messages.FromGlobalId(ix)})
	}
	if materialized {
		d.SinkExports = []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(id), From: messages.FromGlobalId(id),
			Connection: &messages.ComputeSinkExport_MaterializedView{MaterializedView: &messages.ComputeMaterializedViewSink{StorageCollection: messages.FromGlobalId(id)}}}}
	} else {
		d.IndexExports = []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(id), On: messages.FromGlobalId(id)}}
	}
	return d
}

// createDataflow installs a one-object dataflow through the instance and
// records it for the oracle.
func (r *rig) createDataflow(id timely.GlobalId, plan *messages.Plan, materialized bool, sources []timely.GlobalId, indexImports ...timely.GlobalId) {
	r.t.Helper()
	require.NoError(r.t, r.tryDataflow(id, plan, materialized, 0, sources, indexImports...))
}

func (r *rig) tryDataflow(id timely.GlobalId, plan *messages.Plan, materialized bool, asOf timely.Timestamp, sources []timely.GlobalId, indexImports ...timely.GlobalId) error {
	schemas := map[timely.GlobalId]dataflow.Schema{}
	for _, s := range sources {
		schemas[s] = r.schemaOf(s)
	}
	for _, s := range indexImports {
		schemas[s] = r.schemaOf(s)
	}
	compiled, err := dataflow.Compile(plan, schemas)
	if err != nil {
		return err
	}
	if materialized {
		r.createCollection(id, compiled.Schema())
	}
	if err := r.try(instance.CreateDataflow{Dataflow: dataflowOf(id, plan, materialized, asOf, sources, schemas, indexImports...)}); err != nil {
		return err
	}
	r.flows[id] = oracleFlow{plan: compiled, sources: append(append([]timely.GlobalId(nil), sources...), indexImports...)}
	return nil
}

// createCollection creates a materialized view's storage collection in
// storage (the environment's job in a deployment); one that exists (from
// an earlier attempt of the same test) is fine.
func (r *rig) createCollection(id timely.GlobalId, schema dataflow.Schema) {
	res, err := r.sys.Root.RequestFuture(r.storage, &messages.StorageCreateCollection{Collection: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema)}, wait).Result()
	require.NoError(r.t, err)
	if e := res.(*messages.StorageCreateCollectionResponse).GetError(); e != nil {
		require.ErrorIs(r.t, messages.ErrorFromWire(e), messages.ErrAlreadyExists)
	}
}

func (r *rig) schemaOf(id timely.GlobalId) dataflow.Schema {
	if s, ok := r.tables[id]; ok {
		return s
	}
	return r.flows[id].plan.Schema()
}

// installAll creates the two tables and the four dataflows of the tests:
// a filter index, a materialized view (reduce), a join index and an index
// over the filter index (imported).
func (r *rig) installAll() {
	r.createTable(orders, ordersSchema)
	r.createTable(customers, customersSchema)
	r.createDataflow(bigOrders, filterP(getP(orders), gtE(colE(2), litE(dataflow.Int64(50)))), false, []timely.GlobalId{orders})
	r.createDataflow(perCustomer, reduceP(getP(orders), []int{1}, agg(sumW, 2), agg(cntW, -1)), true, []timely.GlobalId{orders})
	r.createDataflow(withNames, joinP(getP(orders), getP(customers), 1, 0), false, []timely.GlobalId{orders, customers})
	r.createDataflow(bigPerCust, reduceP(getP(bigOrders), []int{1}, agg(cntW, -1)), false, nil, bigOrders)
}

var allFlows = []timely.GlobalId{bigOrders, perCustomer, withNames, bigPerCust}

// contents is a collection's contents at t per the oracle: tables from the
// write log, compute collections evaluated from scratch over their
// sources.
func (r *rig) contents(id timely.GlobalId, t timely.Timestamp) []dataflow.Update {
	if _, ok := r.tables[id]; ok {
		var out []dataflow.Update
		for _, w := range r.log {
			if w.table == id && w.ts <= t {
				out = append(out, dataflow.Update{Row: w.row, Time: t, Diff: w.diff})
			}
		}
		return out
	}
	f := r.flows[id]
	in := map[timely.GlobalId][]dataflow.Update{}
	for _, s := range f.sources {
		in[s] = r.contents(s, t)
	}
	c, err := dataflow.Evaluate(f.plan, in)
	require.NoError(r.t, err)
	out := make([]dataflow.Update, len(c.Rows))
	for i, row := range c.Rows {
		out[i] = dataflow.Update{Row: row, Time: t, Diff: c.Diffs[i]}
	}
	return out
}

// oracle returns the rows of id at t, sorted, each as often as its
// multiplicity.
func (r *rig) oracle(id timely.GlobalId, t timely.Timestamp) []string {
	var rows []dataflow.Row
	for _, u := range r.contents(id, t) {
		require.Positive(r.t, u.Diff, "oracle of %s at %d: negative multiplicity for %s", id, t, u.Row)
		for i := int64(0); i < u.Diff; i++ {
			rows = append(rows, u.Row)
		}
	}
	return rowStrings(rows)
}

func rowStrings(rows []dataflow.Row) []string {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Compare(rows[j]) < 0 })
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = row.String()
	}
	return out
}

// newUuid returns a random peek id (crypto/rand: ids only, no logic
// depends on them).
func newUuid(t testing.TB) timely.Uuid {
	u, err := timely.NewUuid(rand.Reader)
	require.NoError(t, err)
	return u
}

// peek reads id at t through the instance and returns its sorted rows.
func (r *rig) peek(id timely.GlobalId, t timely.Timestamp, target *timely.ReplicaId) ([]string, error) {
	r.t.Helper()
	u := newUuid(r.t)
	ch := r.answers.expect(u)
	r.sys.Root.Send(r.inst, instance.Peek{Uuid: u, Collection: id, Timestamp: t, Target: target, ReplyTo: r.answers.pid})
	var res *messages.ComputePeekResponse
	deadline := time.After(wait)
	for res == nil {
		select {
		case res = <-ch:
		case <-deadline:
			r.t.Fatalf("peek of %s at %d: no answer within %s", id, t, wait)
		case <-time.After(100 * time.Millisecond):
			// A peek waits for the collection's upper to pass t; the
			// scheduling that lets it do so happens at Maintain.
			r.maintain()
		}
	}
	return peekRows(r.t, res)
}

func peekRows(t testing.TB, res *messages.ComputePeekResponse) ([]string, error) {
	switch p := res.Result.(type) {
	case *messages.ComputePeekResponse_Error:
		return nil, messages.ErrorFromWire(p.Error)
	case *messages.ComputePeekResponse_Canceled:
		return nil, errors.New("canceled")
	}
	var rows []dataflow.Row
	for _, w := range res.GetRows().GetRows() {
		row, err := dataflow.RowFromWire(w)
		require.NoError(t, err)
		rows = append(rows, row)
	}
	return rowStrings(rows), nil
}

// check peeks every flow at each of ts (through target, or any replica)
// and compares with the oracle.
func (r *rig) check(target *timely.ReplicaId, ts ...timely.Timestamp) {
	r.t.Helper()
	for _, t := range ts {
		for _, id := range allFlows {
			got, err := r.peek(id, t, target)
			require.NoError(r.t, err, "peek %s at %d", id, t)
			require.Equal(r.t, r.oracle(id, t), got, "%s at %d", id, t)
		}
	}
}

// answerBox is the peek client: it hands each answer to the channel the
// test registered for its uuid, and counts answers per uuid.
type answerBox struct {
	pid *actor.PID

	mu      sync.Mutex
	waiting map[timely.Uuid]chan *messages.ComputePeekResponse
	count   map[timely.Uuid]int
}

func newAnswerBox(sys *actor.ActorSystem) *answerBox {
	b := &answerBox{waiting: map[timely.Uuid]chan *messages.ComputePeekResponse{}, count: map[timely.Uuid]int{}}
	b.pid = sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		res, ok := ctx.Message().(*messages.ComputePeekResponse)
		if !ok {
			return
		}
		u, _ := res.GetUuid().ToTimely()
		b.mu.Lock()
		b.count[u]++
		ch := b.waiting[u]
		delete(b.waiting, u)
		b.mu.Unlock()
		if ch != nil {
			ch <- res
		}
	}))
	return b
}

func (b *answerBox) expect(u timely.Uuid) chan *messages.ComputePeekResponse {
	ch := make(chan *messages.ComputePeekResponse, 1)
	b.mu.Lock()
	b.waiting[u] = ch
	b.mu.Unlock()
	return ch
}

func (b *answerBox) answers(u timely.Uuid) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count[u]
}

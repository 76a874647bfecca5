package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const wait = 60 * time.Second

// collector is the controller side of the tests: it receives a
// runtime's ComputeResponses and records them.
type collector struct {
	mu        sync.Mutex
	frontiers map[timely.GlobalId]timely.Timestamp
	hydrated  map[timely.GlobalId]int
	accepted  map[timely.GlobalId]bool  // a hydration status (false) arrived
	failed    map[timely.GlobalId]error // a status error naming it arrived
	errors    []string
	// runtimeErrs are the status errors that name no collection.
	runtimeErrs []error
	peeks       map[timely.Uuid]chan *messages.ComputePeekResponse
	subs        map[timely.GlobalId][]*messages.ComputeSubscribeResponse
	epochs      []*messages.ComputeEpoch
	answers     map[timely.Uuid]int      // peek responses per uuid
	closed      map[timely.GlobalId]bool // the empty write frontier arrived
	// reports are the frontier reports per collection, in arrival order.
	reports map[timely.GlobalId][]*messages.ComputeFrontiers
	// regressions counts write frontiers reported below an earlier one.
	regressions int
}

func newCollector() *collector {
	return &collector{
		frontiers: map[timely.GlobalId]timely.Timestamp{}, hydrated: map[timely.GlobalId]int{},
		accepted: map[timely.GlobalId]bool{}, failed: map[timely.GlobalId]error{},
		peeks: map[timely.Uuid]chan *messages.ComputePeekResponse{}, subs: map[timely.GlobalId][]*messages.ComputeSubscribeResponse{},
		answers: map[timely.Uuid]int{}, closed: map[timely.GlobalId]bool{},
		reports: map[timely.GlobalId][]*messages.ComputeFrontiers{},
	}
}

func (c *collector) Receive(ctx actor.Context) {
	r, ok := ctx.Message().(*messages.ComputeResponse)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epochs = append(c.epochs, r.GetEpoch())
	switch e := r.Response.(type) {
	case *messages.ComputeResponse_Frontiers:
		id, _ := e.Frontiers.GetId().ToTimely()
		c.reports[id] = append(c.reports[id], e.Frontiers)
		if e.Frontiers.GetWrite() == nil {
			break // an input or output frontier only
		}
		f, _ := e.Frontiers.GetWrite().ToTimely()
		if t, ok := f.Time(); ok {
			if t < c.frontiers[id] || c.closed[id] {
				c.regressions++
			}
			c.frontiers[id] = max(c.frontiers[id], t)
		} else {
			c.closed[id] = true
		}
	case *messages.ComputeResponse_Status:
		for _, h := range e.Status.GetHydration() {
			id, _ := h.GetId().ToTimely()
			if h.GetHydrated() {
				c.hydrated[id]++
			} else {
				c.accepted[id] = true
			}
		}
		if w := e.Status.GetError(); w != nil {
			c.errors = append(c.errors, w.GetMessage())
			if e.Status.GetFailed() == nil && !e.Status.GetRestarted() {
				c.runtimeErrs = append(c.runtimeErrs, messages.ErrorFromWire(w))
			}
			if e.Status.GetFailed() != nil {
				// The first failure is the one that refused the dataflow
				// (a Schedule sent after a refused CreateDataflow fails too).
				id, _ := e.Status.GetFailed().ToTimely()
				if _, ok := c.failed[id]; !ok {
					c.failed[id] = messages.ErrorFromWire(w)
				}
			}
		}
	case *messages.ComputeResponse_PeekResponse:
		u, _ := e.PeekResponse.GetUuid().ToTimely()
		c.answers[u]++
		if ch, ok := c.peeks[u]; ok {
			ch <- e.PeekResponse
			delete(c.peeks, u)
		}
	case *messages.ComputeResponse_SubscribeResponse:
		id, _ := e.SubscribeResponse.GetId().ToTimely()
		c.subs[id] = append(c.subs[id], e.SubscribeResponse)
	}
}

func (c *collector) frontier(id timely.GlobalId) timely.Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frontiers[id]
}

func (c *collector) errs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errors...)
}

func (c *collector) runtimeErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.runtimeErrs...)
}

// outcome says whether the CreateDataflow exporting id was accepted (nil)
// or refused, once one of them is known.
func (c *collector) outcome(id timely.GlobalId) (error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err, ok := c.failed[id]; ok {
		return err, true
	}
	return nil, c.accepted[id]
}

func (c *collector) forget(id timely.GlobalId) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.failed, id)
	delete(c.accepted, id)
}

// written is one row change the test wrote, for the oracle.
type written struct {
	table timely.GlobalId
	row   dataflow.Row
	ts    timely.Timestamp
	diff  int64
}

// testFlow is what the oracle needs to know of a flow.
type testFlow struct {
	plan    *dataflow.Plan
	sources []src
}

type src struct {
	id     timely.GlobalId
	view   bool
	schema dataflow.Schema
}

type options struct {
	workers     int
	chunk       int
	beforeApply func(int, pool.FlowBatch)
	store       persistence.Store
	wrapOutputs func(persistence.Shard) persistence.Shard
	clock       clock.Clock
	tick        time.Duration
	compact     bool // storage keeps no history beyond read holds
	// proxy, when set, stands between the runtime and storage: it gets
	// every message for storage and forwards those it does not drop.
	drop func(msg any) bool
	// intercept, when set, also stands in the proxy: it sees every
	// message for storage first (it may answer it) and says whether it
	// took it.
	intercept      func(ctx actor.Context) bool
	subscribeRetry int
	storageTimeout time.Duration
	// outputs names the runtime's output shard ("runtime-outputs"); a new
	// name is a fresh replica's.
	outputs string
	// logger, when set, is the runtime's logger (quiet otherwise).
	logger *slog.Logger
	// noConnect: startRuntime spawns the runtime and sends no Hello; the
	// test calls connect.
	noConnect bool
	// outputCompactionMin is Config.OutputCompactionMin.
	outputCompactionMin int
}

func (h *harness) logger() *slog.Logger {
	if h.opts.logger != nil {
		return h.opts.logger
	}
	return testkit.QuietLogger()
}

type harness struct {
	t       testing.TB
	opts    options
	sys     *actor.ActorSystem
	store   persistence.Store
	storage *actor.PID
	outputs persistence.Shard
	runtime *actor.PID
	proxy   *actor.PID
	events  *collector
	evPID   *actor.PID
	reg     *prometheus.Registry
	// epoch of the connection the tests drive; incarnation grows with
	// every reconnect.
	epoch *messages.ComputeEpoch

	mu     sync.Mutex
	log    []written
	flows  map[timely.GlobalId]testFlow
	tables map[timely.GlobalId]dataflow.Schema
}

func newHarness(t testing.TB, opts options) *harness {
	h := &harness{t: t, opts: opts, sys: testkit.NewSystem(t), flows: map[timely.GlobalId]testFlow{}, tables: map[timely.GlobalId]dataflow.Schema{}}
	h.store = opts.store
	if h.store == nil {
		h.store = mem.New()
	}
	h.startStorage()
	h.startRuntime()
	t.Cleanup(func() {
		if h.runtime != nil {
			h.stopAll()
		}
	})
	return h
}

func (h *harness) startStorage() {
	window := uint64(1 << 40)
	if h.opts.compact {
		window = 0
	}
	props, err := storage.New(storage.Config{Store: h.store, Clock: testkit.NewManualClock(), CompactionWindow: window, Logger: testkit.QuietLogger()})
	require.NoError(h.t, err)
	h.storage = h.sys.Root.Spawn(props)
}

// proxyActor forwards to storage what drop does not drop, keeping the
// sender, so storage answers the runtime.
type proxyActor struct {
	storage   *actor.PID
	drop      func(any) bool
	intercept func(actor.Context) bool
}

func (p *proxyActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		if p.intercept != nil && p.intercept(ctx) {
			return
		}
		if p.drop == nil || !p.drop(m) {
			ctx.Forward(p.storage)
		}
	}
}

func (h *harness) startRuntime() {
	name := h.opts.outputs
	if name == "" {
		name = "runtime-outputs"
	}
	out, err := h.store.OpenShard(context.Background(), name)
	require.NoError(h.t, err)
	h.outputs = out
	if h.opts.wrapOutputs != nil {
		out = h.opts.wrapOutputs(out)
	}
	h.events = newCollector()
	h.evPID = h.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return h.events }))
	h.reg = prometheus.NewRegistry()
	storagePID := h.storage
	if h.opts.drop != nil || h.opts.intercept != nil {
		h.proxy = h.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
			return &proxyActor{storage: h.storage, drop: h.opts.drop, intercept: h.opts.intercept}
		}))
		storagePID = h.proxy
	}
	props, err := runtime.New(runtime.Config{
		Storage: storagePID, Outputs: out, Workers: h.opts.workers,
		BackfillChunk: h.opts.chunk, Registerer: h.reg, Logger: h.logger(),
		BeforeApply: h.opts.beforeApply, Clock: h.opts.clock, TickInterval: h.opts.tick,
		StorageTimeout: h.opts.storageTimeout, SubscribeRetries: h.opts.subscribeRetry,
		OutputCompactionMin: h.opts.outputCompactionMin,
	})
	require.NoError(h.t, err)
	h.runtime = h.sys.Root.Spawn(props)
	if !h.opts.noConnect {
		h.connect()
	}
}

// connect opens a connection at the next incarnation: Hello (sent with
// the collector as its sender, so responses go there), CreateInstance,
// then the commands of replay, then InitializationComplete.
func (h *harness) connect(replay ...func()) {
	inc := uint64(1)
	if h.epoch != nil {
		inc = h.epoch.GetIncarnation() + 1
	}
	h.epoch = &messages.ComputeEpoch{Environment: 1, Incarnation: inc}
	h.sys.Root.RequestWithCustomSender(h.runtime, h.cmd(&messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}), h.evPID)
	h.send(&messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{Config: &messages.ComputeInstanceConfig{Replica: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 1}), ReplicaName: "r1"}}})
	for _, f := range replay {
		f()
	}
	h.send(&messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}})
}

// cmd wraps a command in an envelope at the harness's epoch.
func (h *harness) cmd(c isCommand) *messages.ComputeCommand {
	return cmdAt(h.epoch, c)
}

type isCommand = any

func cmdAt(epoch *messages.ComputeEpoch, c isCommand) *messages.ComputeCommand {
	m := &messages.ComputeCommand{Epoch: epoch}
	switch c := c.(type) {
	case *messages.ComputeCommand_Hello:
		m.Command = c
	case *messages.ComputeCommand_CreateInstance:
		m.Command = c
	case *messages.ComputeCommand_InitializationComplete:
		m.Command = c
	case *messages.ComputeCommand_UpdateConfiguration:
		m.Command = c
	case *messages.ComputeCommand_CreateDataflow:
		m.Command = c
	case *messages.ComputeCommand_Schedule:
		m.Command = c
	case *messages.ComputeCommand_AllowWrites:
		m.Command = c
	case *messages.ComputeCommand_AllowCompaction:
		m.Command = c
	case *messages.ComputeCommand_Peek:
		m.Command = c
	case *messages.ComputeCommand_CancelPeek:
		m.Command = c
	default:
		panic(fmt.Sprintf("not a command: %T", c))
	}
	return m
}

// send sends a command at the harness's epoch.
func (h *harness) send(c isCommand) { h.sys.Root.Send(h.runtime, h.cmd(c)) }

// stopAll stops the runtime and storage and closes the output shard.
func (h *harness) stopAll() {
	require.NoError(h.t, h.sys.Root.StopFuture(h.runtime).Wait())
	require.NoError(h.t, h.sys.Root.StopFuture(h.evPID).Wait())
	if h.proxy != nil {
		require.NoError(h.t, h.sys.Root.StopFuture(h.proxy).Wait())
		h.proxy = nil
	}
	require.NoError(h.t, h.sys.Root.StopFuture(h.storage).Wait())
	require.NoError(h.t, h.outputs.Close())
	require.NoError(h.t, h.store.Close())
	h.runtime = nil
}

// restart stops everything and starts storage and the runtime again on
// the store reopen returns (a node restart).
func (h *harness) restart(reopen func() persistence.Store) {
	h.stopAll()
	h.store = reopen()
	h.startStorage()
	h.startRuntime()
}

func (h *harness) request(pid *actor.PID, msg any) any {
	res, err := h.sys.Root.RequestFuture(pid, msg, wait).Result()
	require.NoError(h.t, err)
	return res
}

func (h *harness) createTable(id timely.GlobalId, schema dataflow.Schema) {
	res := h.request(h.storage, &messages.StorageCreateTable{Table: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema)}).(*messages.StorageCreateTableResponse)
	require.Nil(h.t, res.GetError())
	h.tables[id] = schema
}

type change struct {
	table timely.GlobalId
	row   dataflow.Row
	diff  int64
}

// write commits one transaction and records it for the oracle.
func (h *harness) write(cs ...change) (timely.Timestamp, error) {
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
	res := h.request(h.storage, w).(*messages.StorageWriteResponse)
	if res.GetError() != nil {
		return 0, fmt.Errorf("%s", res.GetError().GetMessage())
	}
	ts := timely.Timestamp(res.GetTimestamp())
	h.mu.Lock()
	for _, c := range cs {
		h.log = append(h.log, written{table: c.table, row: c.row, ts: ts, diff: c.diff})
	}
	h.mu.Unlock()
	return ts, nil
}

func (h *harness) mustWrite(cs ...change) timely.Timestamp {
	ts, err := h.write(cs...)
	require.NoError(h.t, err)
	return ts
}

// dataflowOf describes a one-object dataflow: export computes plan over
// sources and is exported as an index (on the whole row) or, when
// materialized, as a materialized view whose storage collection is itself.
func dataflowOf(export timely.GlobalId, plan *messages.Plan, materialized bool, asOf timely.Timestamp, sources ...src) *messages.ComputeDataflowDescription {
	d := &messages.ComputeDataflowDescription{
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(export), Plan: plan}},
		AsOf:           messages.FromFrontier(timely.At(asOf)),
		DebugName:      export.String(),
	}
	for _, s := range sources {
		d.SourceImports = append(d.SourceImports, &messages.ComputeSourceImport{Id: messages.FromGlobalId(s.id), Schema: dataflow.SchemaToWire(s.schema)})
	}
	if materialized {
		d.SinkExports = []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(export), From: messages.FromGlobalId(export),
			Connection: &messages.ComputeSinkExport_MaterializedView{MaterializedView: &messages.ComputeMaterializedViewSink{StorageCollection: messages.FromGlobalId(export)}}}}
	} else {
		d.IndexExports = []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(export), On: messages.FromGlobalId(export)}}
	}
	return d
}

// createAndSchedule sends a CreateDataflow and a Schedule for each of its
// exports.
func (h *harness) createAndSchedule(d *messages.ComputeDataflowDescription) {
	h.send(createDataflow(d))
	for _, e := range d.GetIndexExports() {
		h.send(scheduleCmd(e.GetId()))
	}
	for _, e := range d.GetSinkExports() {
		h.send(scheduleCmd(e.GetId()))
	}
}

func scheduleCmd(id *messages.GlobalId) *messages.ComputeCommand_Schedule {
	return &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: id}}
}

func createDataflow(d *messages.ComputeDataflowDescription) *messages.ComputeCommand_CreateDataflow {
	return &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: d}}
}

func allowCompaction(id timely.GlobalId, f timely.Frontier) *messages.ComputeCommand_AllowCompaction {
	return &messages.ComputeCommand_AllowCompaction{AllowCompaction: &messages.ComputeAllowCompaction{Id: messages.FromGlobalId(id), Frontier: messages.FromFrontier(f)}}
}

// install creates a one-object dataflow, waits until the runtime accepted
// or refused it, and records it for the oracle.
func (h *harness) install(export timely.GlobalId, plan *messages.Plan, materialized bool, asOf timely.Timestamp, sources ...src) error {
	return h.installDesc(dataflowOf(export, plan, materialized, asOf, sources...), export, plan, sources...)
}

func (h *harness) installDesc(d *messages.ComputeDataflowDescription, export timely.GlobalId, plan *messages.Plan, sources ...src) error {
	h.events.forget(export)
	h.createAndSchedule(d)
	var err error
	testkit.Eventually(h.t, func() bool {
		var done bool
		err, done = h.events.outcome(export)
		return done
	}, wait, "dataflow %s accepted or refused", export)
	if err != nil {
		return err
	}
	h.record(export, plan, sources...)
	return nil
}

// compile compiles plan over sources.
func (h *harness) compile(plan *messages.Plan, sources ...src) *dataflow.Plan {
	schemas := map[timely.GlobalId]dataflow.Schema{}
	for _, s := range sources {
		schemas[s.id] = s.schema
	}
	compiled, err := dataflow.Compile(plan, schemas)
	require.NoError(h.t, err)
	return compiled
}

// record compiles a flow's plan for the oracle.
func (h *harness) record(export timely.GlobalId, plan *messages.Plan, sources ...src) {
	h.flows[export] = testFlow{plan: h.compile(plan, sources...), sources: sources}
}

// perCustomerPlan is the materialized view most collection tests use:
// per customer of orders, the sum of amounts and the count.
func perCustomerPlan() *messages.Plan {
	return reduceP(getP(orders), []int{1}, agg(sumW, 2), agg(cntW, -1))
}

// foreignPerCustomer creates the orders and customers tables and the
// storage collection of perCustomer, recorded for the oracle but computed
// by no flow of this runtime: the test appends to it, standing for the
// cluster that computes it.
func (h *harness) foreignPerCustomer() {
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	mv := perCustomerPlan()
	h.createCollection(perCustomer, mv, tableSrc(h, orders))
	h.record(perCustomer, mv, tableSrc(h, orders))
}

// drop drops a collection: AllowCompaction to the empty frontier.
func (h *harness) drop(id timely.GlobalId) { h.send(allowCompaction(id, timely.Closed())) }

func (h *harness) mustInstall(export timely.GlobalId, plan *messages.Plan, materialized bool, sources ...src) {
	require.NoError(h.t, h.install(export, plan, materialized, 0, sources...))
}

func (h *harness) schemaOf(id timely.GlobalId) dataflow.Schema {
	if s, ok := h.tables[id]; ok {
		return s
	}
	return h.flows[id].plan.Schema()
}

func tableSrc(h *harness, id timely.GlobalId) src { return src{id: id, schema: h.schemaOf(id)} }
func viewSrc(h *harness, id timely.GlobalId) src {
	return src{id: id, view: true, schema: h.schemaOf(id)}
}

// waitFrontier waits until the flow exporting id has committed its
// checkpoint past t; on timeout it reports the runtime's errors so far.
func (h *harness) waitFrontier(id timely.GlobalId, t timely.Timestamp) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for h.events.frontier(id) <= t {
		if time.Now().After(deadline) {
			h.t.Fatalf("frontier of %s did not pass %d (at %d); runtime errors: %v", id, t, h.events.frontier(id), h.events.errs())
		}
		time.Sleep(time.Millisecond)
	}
}

// peek reads the index of id at t through the runtime.
func (h *harness) peek(id timely.GlobalId, t timely.Timestamp) ([]dataflow.Row, error) {
	return h.peekMsg(indexPeek(id, t))
}

func indexPeek(id timely.GlobalId, t timely.Timestamp) *messages.ComputePeek {
	return &messages.ComputePeek{Target: &messages.ComputePeek_Index{Index: messages.FromGlobalId(id)}, Timestamp: uint64(t)}
}

// peekMsg sends a peek (its uuid is set here) and waits for the answer.
func (h *harness) peekMsg(m *messages.ComputePeek) ([]dataflow.Row, error) {
	var res *messages.ComputePeekResponse
	select {
	case res = <-h.peekAsync(m):
	case <-time.After(wait):
		h.t.Fatalf("peek of %v at %d: no answer", m.GetTarget(), m.GetTimestamp())
	}
	switch r := res.Result.(type) {
	case *messages.ComputePeekResponse_Error:
		return nil, messages.ErrorFromWire(r.Error)
	case *messages.ComputePeekResponse_Canceled:
		return nil, fmt.Errorf("canceled")
	}
	var rows []dataflow.Row
	for _, w := range res.GetRows().GetRows() {
		r, err := dataflow.RowFromWire(w)
		require.NoError(h.t, err)
		rows = append(rows, r)
	}
	return rows, nil
}

// contents returns a collection's contents at t per the oracle: tables
// from the write log, flows evaluated from scratch over their sources.
func (h *harness) contents(id timely.GlobalId, t timely.Timestamp) []dataflow.Update {
	if _, ok := h.tables[id]; ok {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []dataflow.Update
		for _, w := range h.log {
			if w.table == id && w.ts <= t {
				out = append(out, dataflow.Update{Row: w.row, Time: t, Diff: w.diff})
			}
		}
		return out
	}
	f := h.flows[id]
	in := map[timely.GlobalId][]dataflow.Update{}
	for _, s := range f.sources {
		in[s.id] = h.contents(s.id, t)
	}
	c, err := dataflow.Evaluate(f.plan, in)
	require.NoError(h.t, err)
	out := make([]dataflow.Update, len(c.Rows))
	for i, r := range c.Rows {
		out[i] = dataflow.Update{Row: r, Time: t, Diff: c.Diffs[i]}
	}
	return out
}

// oracle returns the rows of id at t, a row with multiplicity n n times.
func (h *harness) oracle(id timely.GlobalId, t timely.Timestamp) []dataflow.Row {
	var rows []dataflow.Row
	for _, u := range h.contents(id, t) {
		require.Positive(h.t, u.Diff, "oracle of %s at %d has a negative multiplicity for %s", id, t, u.Row)
		for i := int64(0); i < u.Diff; i++ {
			rows = append(rows, u.Row)
		}
	}
	return sortRows(rows)
}

func sortRows(rows []dataflow.Row) []dataflow.Row {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Compare(rows[j]) < 0 })
	return rows
}

// checkAt peeks id at t and compares with the oracle.
func (h *harness) checkAt(id timely.GlobalId, t timely.Timestamp) {
	got, err := h.peek(id, t)
	require.NoError(h.t, err, "peek %s at %d", id, t)
	want := h.oracle(id, t)
	require.Equal(h.t, rowStrings(want), rowStrings(sortRows(got)), "%s at %d", id, t)
}

func rowStrings(rows []dataflow.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.String()
	}
	return out
}

package runtime_test

import (
	"context"
	"fmt"
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

// collector records a runtime's events.
type collector struct {
	mu        sync.Mutex
	frontiers map[timely.GlobalId]timely.Timestamp
	hydrated  map[timely.GlobalId]int
	errors    []string
	peeks     map[timely.Uuid]chan *messages.RtPeekResponse
}

func newCollector() *collector {
	return &collector{frontiers: map[timely.GlobalId]timely.Timestamp{}, hydrated: map[timely.GlobalId]int{}, peeks: map[timely.Uuid]chan *messages.RtPeekResponse{}}
}

func (c *collector) Receive(ctx actor.Context) {
	ev, ok := ctx.Message().(*messages.RtEvent)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.Event.(type) {
	case *messages.RtEvent_Frontier:
		id, _ := e.Frontier.GetCollection().ToTimely()
		f, _ := e.Frontier.GetUpper().ToTimely()
		if t, ok := f.Time(); ok && t > c.frontiers[id] {
			c.frontiers[id] = t
		}
	case *messages.RtEvent_Hydrated:
		id, _ := e.Hydrated.GetCollection().ToTimely()
		c.hydrated[id]++
	case *messages.RtEvent_Error:
		c.errors = append(c.errors, e.Error.GetMessage())
	case *messages.RtEvent_Peek:
		u, _ := e.Peek.GetUuid().ToTimely()
		if ch, ok := c.peeks[u]; ok {
			ch <- e.Peek
		}
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
}

type harness struct {
	t       testing.TB
	opts    options
	sys     *actor.ActorSystem
	store   persistence.Store
	storage *actor.PID
	outputs persistence.Shard
	runtime *actor.PID
	events  *collector
	evPID   *actor.PID
	reg     *prometheus.Registry

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

func (h *harness) startRuntime() {
	out, err := h.store.OpenShard(context.Background(), "runtime-outputs")
	require.NoError(h.t, err)
	h.outputs = out
	if h.opts.wrapOutputs != nil {
		out = h.opts.wrapOutputs(out)
	}
	h.events = newCollector()
	h.evPID = h.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return h.events }))
	h.reg = prometheus.NewRegistry()
	props, err := runtime.New(runtime.Config{
		Storage: h.storage, Outputs: out, Events: h.evPID, Workers: h.opts.workers,
		BackfillChunk: h.opts.chunk, Registerer: h.reg, Logger: testkit.QuietLogger(),
		BeforeApply: h.opts.beforeApply, Clock: h.opts.clock, TickInterval: h.opts.tick,
	})
	require.NoError(h.t, err)
	h.runtime = h.sys.Root.Spawn(props)
}

// stopAll stops the runtime and storage and closes the output shard.
func (h *harness) stopAll() {
	require.NoError(h.t, h.sys.Root.StopFuture(h.runtime).Wait())
	require.NoError(h.t, h.sys.Root.StopFuture(h.evPID).Wait())
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

// install installs a flow and records it for the oracle.
func (h *harness) install(export timely.GlobalId, plan *messages.Plan, materialized bool, asOf timely.Timestamp, sources ...src) error {
	m := &messages.RtInstallFlow{Export: messages.FromGlobalId(export), Plan: plan, AsOf: uint64(asOf), Materialized: materialized}
	schemas := map[timely.GlobalId]dataflow.Schema{}
	for _, s := range sources {
		kind := messages.RtSourceKind_RT_SOURCE_KIND_TABLE
		if s.view {
			kind = messages.RtSourceKind_RT_SOURCE_KIND_VIEW
		}
		m.Sources = append(m.Sources, &messages.RtSource{Id: messages.FromGlobalId(s.id), Kind: kind, Schema: dataflow.SchemaToWire(s.schema)})
		schemas[s.id] = s.schema
	}
	res := h.request(h.runtime, m).(*messages.RtInstallFlowResponse)
	if res.GetError() != "" {
		return fmt.Errorf("%s", res.GetError())
	}
	compiled, err := dataflow.Compile(plan, schemas)
	require.NoError(h.t, err)
	h.flows[export] = testFlow{plan: compiled, sources: sources}
	return nil
}

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
	return h.peekMsg(&messages.RtPeek{Collection: messages.FromGlobalId(id), Timestamp: uint64(t)})
}

// peekMsg sends a peek (its uuid is set here) and waits for the answer.
func (h *harness) peekMsg(m *messages.RtPeek) ([]dataflow.Row, error) {
	var res *messages.RtPeekResponse
	select {
	case res = <-h.peekAsync(m):
	case <-time.After(wait):
		h.t.Fatalf("peek of %v at %d: no answer", m.GetCollection(), m.GetTimestamp())
	}
	if e, ok := res.Result.(*messages.RtPeekResponse_Error); ok {
		return nil, fmt.Errorf("%s", e.Error)
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

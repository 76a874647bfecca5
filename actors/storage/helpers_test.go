package storage_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const timeout = testkit.DefaultTimeout

// harness is one storage actor over a store, with a probe to talk to it.
type harness struct {
	t     *testing.T
	sys   *actor.ActorSystem
	clk   *testkit.ManualClock
	store persistence.Store
	reg   *prometheus.Registry
	cfg   storage.Config
	pid   *actor.PID
	probe *testkit.Probe
}

// newHarness starts a storage actor over a fresh mem store (unless cfg
// names a store) with a manual clock.
func newHarness(t *testing.T, cfg storage.Config) *harness {
	t.Helper()
	h := &harness{t: t, sys: testkit.NewSystem(t), clk: testkit.NewManualClock(), reg: prometheus.NewRegistry()}
	if cfg.Store == nil {
		cfg.Store = mem.New()
		t.Cleanup(func() { _ = cfg.Store.Close() })
	}
	cfg.Clock = h.clk
	cfg.Registerer = h.reg
	cfg.Logger = testkit.QuietLogger()
	h.cfg, h.store = cfg, cfg.Store
	h.probe = testkit.NewProbe(t, h.sys)
	h.start()
	return h
}

// start spawns the storage actor and waits until it answers.
func (h *harness) start() {
	h.t.Helper()
	props, err := storage.New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.pid = h.sys.Root.Spawn(props)
	pid := h.pid
	h.t.Cleanup(func() { _ = h.sys.Root.StopFuture(pid).Wait() })
	h.frontiers()
}

// stop stops the storage actor and waits.
func (h *harness) stop() {
	h.t.Helper()
	if err := h.sys.Root.StopFuture(h.pid).Wait(); err != nil {
		h.t.Fatal(err)
	}
}

// ask sends msg from the probe and returns the reply of type T.
func ask[T proto.Message](h *harness, msg proto.Message) T {
	h.t.Helper()
	h.probe.Send(h.pid, msg)
	return testkit.ExpectMsg[T](h.probe, timeout)
}

func (h *harness) frontiers(ids ...timely.GlobalId) *messages.StorageFrontiersResponse {
	h.t.Helper()
	r := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{Tables: wireIds(ids)})
	if r.Error != nil {
		h.t.Fatalf("frontiers: %v", r.Error)
	}
	return r
}

func (h *harness) upper() timely.Frontier {
	h.t.Helper()
	f, err := h.frontiers().Upper.ToTimely()
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

func (h *harness) createTable(id timely.GlobalId, schema dataflow.Schema) {
	h.t.Helper()
	r := ask[*messages.StorageCreateTableResponse](h, &messages.StorageCreateTable{Table: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema)})
	if r.Error != nil {
		h.t.Fatalf("create %s: %v", id, r.Error)
	}
}

// write sends a write and returns its response.
func (h *harness) write(w *messages.StorageWrite) *messages.StorageWriteResponse {
	h.t.Helper()
	return ask[*messages.StorageWriteResponse](h, w)
}

// mustWrite writes and returns the commit timestamp.
func (h *harness) mustWrite(w *messages.StorageWrite) timely.Timestamp {
	h.t.Helper()
	r := h.write(w)
	if r.Error != nil {
		h.t.Fatalf("write: %v", r.Error)
	}
	return timely.Timestamp(r.Timestamp)
}

func (h *harness) snapshot(asOf *uint64, ids ...timely.GlobalId) *messages.StorageSnapshotResponse {
	h.t.Helper()
	return ask[*messages.StorageSnapshotResponse](h, &messages.StorageSnapshot{Tables: wireIds(ids), AsOf: asOf})
}

// tableRows returns one table's rows of a snapshot as "row×diff" strings.
func tableRows(t *testing.T, r *messages.StorageSnapshotResponse, id timely.GlobalId) []string {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("snapshot: %v", r.Error)
	}
	for _, tc := range r.Tables {
		if got, _ := tc.Table.ToTimely(); got == id {
			return rowStrings(t, tc.Rows)
		}
	}
	t.Fatalf("snapshot has no table %s", id)
	return nil
}

func rowStrings(t *testing.T, rows []*messages.StorageRowDiff) []string {
	t.Helper()
	out := make([]string, 0, len(rows))
	for _, rd := range rows {
		row, err := dataflow.RowFromWire(rd.Row)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row.String()+"x"+itoa(rd.GetDiff()))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func wireIds(ids []timely.GlobalId) []*messages.GlobalId {
	out := make([]*messages.GlobalId, len(ids))
	for i, id := range ids {
		out[i] = messages.FromGlobalId(id)
	}
	return out
}

// rows builds a table write of the given rows, each inserted once.
func rows(id timely.GlobalId, rs ...dataflow.Row) *messages.StorageTableWrite {
	tw := &messages.StorageTableWrite{Table: messages.FromGlobalId(id)}
	for _, r := range rs {
		tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(r)})
	}
	return tw
}

// retract builds a table write deleting the given rows once.
func retract(id timely.GlobalId, rs ...dataflow.Row) *messages.StorageTableWrite {
	tw := rows(id, rs...)
	for _, rd := range tw.Rows {
		rd.Diff = proto.Int64(-1)
	}
	return tw
}

func write(tws ...*messages.StorageTableWrite) *messages.StorageWrite {
	return &messages.StorageWrite{Tables: tws}
}

func row(ds ...dataflow.Datum) dataflow.Row { return dataflow.Row(ds) }

var (
	i64 = dataflow.Int64
	str = dataflow.String
)

// accounts is a two-column schema: id int64, name string null.
var accounts = dataflow.Schema{
	{Name: "id", Type: dataflow.TypeInt64},
	{Name: "name", Type: dataflow.TypeString, Nullable: true},
}

var (
	u1 = timely.UserId(1)
	u2 = timely.UserId(2)
	u3 = timely.UserId(3)
)

// tick lets a short real-time wait pass: only for ExpectNoMsg.
const quiet = 50 * time.Millisecond

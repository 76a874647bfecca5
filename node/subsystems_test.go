package node

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/actors/environment"
	rootguardian "github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// ask sends msg to pid from a future and returns the answer, which must be
// a T.
func ask[T any](t *testing.T, n *Node, pid *actor.PID, msg any) T {
	t.Helper()
	res, err := n.System().Root.RequestFuture(pid, msg, testkit.DefaultTimeout).Result()
	if err != nil {
		t.Fatalf("%T to %s: %v", msg, pid.Id, err)
	}
	answer, ok := res.(T)
	if !ok {
		t.Fatalf("%T to %s answered with %#v", msg, pid.Id, res)
	}
	return answer
}

func TestNodeStartsEverySubsystem(t *testing.T) {
	cfg := testConfig(t)
	n := startTestNode(t, cfg)

	list := ask[*rootguardian.SubsystemList](t, n, n.Guardian(), &rootguardian.ListSubsystems{})
	want := []string{"catalog", "environment", "querytracker", "replicas", "storage"}
	if !slices.Equal(list.Names, want) {
		t.Fatalf("subsystems %v, want %v", list.Names, want)
	}
	for name, pid := range map[string]*actor.PID{
		"node/catalog": n.Catalog(), "node/storage": n.Storage(), "node/querytracker": n.QueryTracker(),
		environment.Path: n.Environment(),
	} {
		if pid == nil || pid.Id != name {
			t.Errorf("accessor for %s gives %v", name, pid)
		}
	}
	if code, body := readyz(t, n); code != 200 {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if ready, why := n.Ready(); !ready {
		t.Fatalf("Ready: %s", why)
	}

	// The environment's default cluster has its replica launched: its
	// runtime runs under the replicas host, with its outputs on Pebble in
	// the data dir.
	testkit.Eventually(t, func() bool {
		dirs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "compute", "*"))
		return len(dirs) == 1
	}, testkit.DefaultTimeout, "the default replica's outputs store was not opened")

	// Stopping subsystems in order is not mistaken for losing them: nothing
	// is counted as stopped and the node does not halt.
	n.Stop()
	if stops := testutil.CollectAndCount(n.metrics.subsystemStops); stops != 0 {
		t.Fatalf("%d subsystems counted as stopped on their own during Stop", stops)
	}
	select {
	case reason := <-n.Halted():
		t.Fatalf("Stop halted the node: %s", reason)
	default:
	}
}

var orders = dataflow.Schema{
	{Name: "id", Type: dataflow.TypeInt64},
	{Name: "customer", Type: dataflow.TypeString, Nullable: true},
}

func orderRows(id timely.GlobalId, rows ...dataflow.Row) *messages.StorageTableWrite {
	w := &messages.StorageTableWrite{Table: messages.FromGlobalId(id)}
	for _, r := range rows {
		w.Rows = append(w.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(r)})
	}
	return w
}

// snapshotRows reads table id through the node's storage, as "row×diff".
func snapshotRows(t *testing.T, n *Node, id timely.GlobalId) []string {
	t.Helper()
	snap := ask[*messages.StorageSnapshotResponse](t, n, n.Storage(), &messages.StorageSnapshot{
		Tables: []*messages.GlobalId{messages.FromGlobalId(id)},
	})
	if snap.GetError() != nil {
		t.Fatalf("snapshot: %v", snap.GetError())
	}
	var out []string
	for _, tc := range snap.GetTables() {
		for _, rd := range tc.GetRows() {
			row, err := dataflow.RowFromWire(rd.GetRow())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, row.String()+"x"+strconv.FormatInt(rd.GetDiff(), 10))
		}
	}
	slices.Sort(out)
	return out
}

func TestStorageKeepsTablesAndRowsAcrossARestart(t *testing.T) {
	cfg := testConfig(t)
	n, err := Start(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err != nil {
		t.Fatal(err)
	}
	// Tables are created through the environment: it keeps storage to the
	// catalog's tables at every start, so a table made in storage alone
	// would be dropped as an orphan.
	client := n.System().Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer n.System().Root.Stop(client)
	conn := ask[*messages.ClientConnectResponse](t, n, n.Environment(), &messages.ClientConnect{
		ClientAddress: client.Address, ClientId: client.Id, ApplicationName: "node-test",
	})
	if conn.GetError() != nil {
		n.Stop()
		t.Fatalf("connect: %v", conn.GetError())
	}
	created := ask[*messages.ClientCreateTableResponse](t, n, n.Environment(), &messages.ClientCreateTable{
		Conn: conn.GetConn(), Name: "orders", Schema: dataflow.SchemaToWire(orders),
	})
	if created.GetError() != nil {
		n.Stop()
		t.Fatalf("create table: %v", created.GetError())
	}
	id, err := timely.ParseGlobalId(created.GetObject().GetId())
	if err != nil {
		n.Stop()
		t.Fatalf("table id %q: %v", created.GetObject().GetId(), err)
	}
	wrote := ask[*messages.StorageWriteResponse](t, n, n.Storage(), &messages.StorageWrite{Tables: []*messages.StorageTableWrite{
		orderRows(id, dataflow.Row{dataflow.Int64(1), dataflow.String("ada")}, dataflow.Row{dataflow.Int64(2), dataflow.Null()}),
	}})
	if wrote.GetError() != nil {
		n.Stop()
		t.Fatalf("write: %v", wrote.GetError())
	}
	before := snapshotRows(t, n, id)
	if len(before) != 2 {
		n.Stop()
		t.Fatalf("before the restart: %v", before)
	}
	n.Stop()

	again := startTestNode(t, cfg)
	if after := snapshotRows(t, again, id); !slices.Equal(after, before) {
		t.Fatalf("after the restart: %v, want %v", after, before)
	}
	if code, body := readyz(t, again); code != 200 {
		t.Fatalf("/readyz after the restart: %d %q", code, body)
	}
}

// TestReadyzNamesEachStoppedSubsystem stops each subsystem but the catalog
// (whose loss halts the node, see node_test.go) as if it had failed for
// good: /readyz names it, and the node keeps running.
func TestReadyzNamesEachStoppedSubsystem(t *testing.T) {
	for _, name := range []string{SubsystemStorage, SubsystemQueryTracker, SubsystemReplicas, SubsystemEnvironment} {
		t.Run(name, func(t *testing.T) {
			n := startTestNode(t, testConfig(t))
			pid := actor.NewPID(n.System().Address(), "node/"+name)
			if err := n.System().Root.StopFuture(pid).Wait(); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, func() bool {
				code, body := readyz(t, n)
				return code == 503 && strings.Contains(body, name+": stopped")
			}, testkit.DefaultTimeout, "/readyz does not name the stopped subsystem")
			select {
			case reason := <-n.Halted():
				t.Fatalf("losing %s halted the node: %s", name, reason)
			default:
			}
		})
	}
}

func TestJudgeStorageFrontiers(t *testing.T) {
	if healthy, _, ok := judgeStorageFrontiers(&messages.StorageFrontiersResponse{}); !healthy || !ok {
		t.Fatal("a frontiers answer without an error is not healthy")
	}
	// The error is set through reflection: storage's wire error type is
	// changing (StorageError to messages.Error), and both have a message.
	failed := &messages.StorageFrontiersResponse{}
	field := failed.ProtoReflect().Descriptor().Fields().ByName("error")
	e := failed.ProtoReflect().NewField(field)
	e.Message().Set(e.Message().Descriptor().Fields().ByName("message"), protoreflect.ValueOfString("storage: backend unavailable"))
	failed.ProtoReflect().Set(field, e)
	if healthy, detail, ok := judgeStorageFrontiers(failed); healthy || !ok || detail != "storage: backend unavailable" {
		t.Fatalf("an error answer: healthy %v, detail %q, ok %v", healthy, detail, ok)
	}
	if _, _, ok := judgeStorageFrontiers(&messages.ClientListObjectsResponse{}); ok {
		t.Fatal("the storage judge claims an environment answer")
	}
}

package environment_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const timeout = 10 * time.Second

var ordersSchema = dataflow.SchemaToWire(dataflow.Schema{
	{Name: "id", Type: dataflow.TypeInt64},
	{Name: "customer", Type: dataflow.TypeString, Nullable: true},
})

// session is a client made of probes: owner is the client actor the
// environment watches, p sends requests and receives answers.
type session struct {
	t     *testing.T
	p     *testkit.Probe
	owner *testkit.Probe
	env   *actor.PID
	conn  *messages.ConnectionId
}

func connect(t *testing.T, sys *actor.ActorSystem, env *actor.PID, timeoutMs uint64) *session {
	s := &session{t: t, p: testkit.NewProbe(t, sys), owner: testkit.NewProbe(t, sys), env: env}
	s.p.Send(env, &messages.ClientConnect{ClientAddress: s.owner.PID().GetAddress(), ClientId: s.owner.PID().GetId(), StatementTimeoutMs: timeoutMs})
	r := testkit.ExpectMsg[*messages.ClientConnectResponse](s.p, timeout)
	if r.GetError() != nil {
		t.Fatalf("connect: %v", r.GetError())
	}
	s.conn = r.GetConn()
	return s
}

func expect[T interface{ GetError() *messages.Error }](s *session, req any) T {
	s.t.Helper()
	s.p.Send(s.env, req)
	return testkit.ExpectMsg[T](s.p, timeout)
}

func (s *session) createOrders() {
	s.t.Helper()
	r := expect[*messages.ClientCreateTableResponse](s, &messages.ClientCreateTable{Conn: s.conn, Name: "orders", Schema: ordersSchema, KeyColumns: []string{"id"}})
	if r.GetError() != nil {
		s.t.Fatalf("create table: %v", r.GetError())
	}
}

func row(id int64, customer string) *messages.Row {
	return dataflow.RowToWire(dataflow.Row{dataflow.Int64(id), dataflow.String(customer)})
}

func requireCode(t *testing.T, what string, w *messages.Error, sentinel error, words ...string) {
	t.Helper()
	err := messages.ErrorFromWire(w)
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want %v", what, err, sentinel)
	}
	for _, word := range words {
		if !strings.Contains(err.Error(), word) {
			t.Fatalf("%s: %q does not mention %q", what, err, word)
		}
	}
}

// The statement timeout runs on the environment's clock: a peek whose
// storage read never answers is answered TIMEOUT once the clock passes its
// deadline, and its execution ends in the tracker.
func TestStatementTimeoutOnManualClock(t *testing.T) {
	sys := testkit.NewSystem(t)
	clk := testkit.NewManualClock()
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{HoldSnapshots: true,
		Env: func(c *environment.Config) { c.Clock = clk }})
	s := connect(t, sys, node.Env, 1000)
	s.createOrders()
	s.p.Send(node.Env, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	s.p.ExpectNoMsg(50 * time.Millisecond)
	clk.Advance(999 * time.Millisecond)
	s.p.ExpectNoMsg(50 * time.Millisecond)
	clk.Advance(time.Second)
	r := testkit.ExpectMsg[*messages.ClientPeekResponse](s.p, timeout)
	requireCode(t, "peek past its timeout", r.GetError(), messages.ErrTimeout, "statement timeout", `"orders"`)
	testkit.Eventually(t, func() bool {
		d := trackerDump(t, node)
		return len(d.Peeks) == 0 && len(d.Unretired) == 0 && len(d.Recent) == 1
	}, timeout, "the tracker ended the peek's execution")
	if d := trackerDump(t, node); d.Recent[0].Reason.Kind != "canceled" {
		t.Fatalf("execution ended %+v, want canceled", d.Recent[0].Reason)
	}
}

// trackerState is the part of the tracker's dump these tests read.
type trackerState struct {
	Peeks     []json.RawMessage `json:"peeks"`
	Unretired []json.RawMessage `json:"unretired"`
	Recent    []struct {
		Reason struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"reason"`
	} `json:"recent"`
}

func trackerDump(t *testing.T, node *environmenttest.Node) trackerState {
	t.Helper()
	b, err := node.Tracker.Dump(timeout)
	if err != nil {
		t.Fatal(err)
	}
	var d trackerState
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("tracker dump %s: %v", b, err)
	}
	return d
}

// When the client actor stops, its session ends: the pending peek is
// answered CANCELED and the tracker cancels it for its connection.
func TestClientStopEndsSession(t *testing.T) {
	sys := testkit.NewSystem(t)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{HoldSnapshots: true})
	s := connect(t, sys, node.Env, 0)
	s.createOrders()
	s.p.Send(node.Env, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	s.p.ExpectNoMsg(50 * time.Millisecond)
	_ = sys.Root.StopFuture(s.owner.PID()).Wait()
	r := testkit.ExpectMsg[*messages.ClientPeekResponse](s.p, timeout)
	requireCode(t, "peek of a stopped client", r.GetError(), messages.ErrCanceled, `"orders"`)
	testkit.Eventually(t, func() bool { return node.Effects.Canceled(querytracker.ReasonConnection) == 1 }, timeout,
		"the tracker canceled the peek for its connection")
	l := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn})
	requireCode(t, "request of an ended session", l.GetError(), messages.ErrNotFound, "connection")
}

// A create whose storage step fails leaves nothing in the catalog: the
// name is free again and a restart does not bring the table back.
func TestCreateTableRollsBackWhenStorageFails(t *testing.T) {
	sys := testkit.NewSystem(t)
	dir := t.TempDir()
	var refuse atomic.Bool
	refuse.Store(true)
	opts := environmenttest.Options{StorageAnswer: func(m any) any {
		if _, ok := m.(*messages.StorageCreateTable); ok && refuse.Load() {
			return &messages.StorageCreateTableResponse{Error: &messages.Error{
				Code: messages.ErrorCode_ERROR_CODE_BACKEND, Message: "storage: backend failure: injected"}}
		}
		return nil
	}}
	node := environmenttest.Start(t, sys, dir, opts)
	s := connect(t, sys, node.Env, 0)
	r := expect[*messages.ClientCreateTableResponse](s, &messages.ClientCreateTable{Conn: s.conn, Name: "orders", Schema: ordersSchema})
	requireCode(t, "create with storage failing", r.GetError(), messages.ErrBackend, `"orders"`, "injected")
	l := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn})
	if len(l.GetObjects()) != 0 {
		t.Fatalf("objects after a failed create: %v", l.GetObjects())
	}
	node.Stop()
	node = environmenttest.Start(t, sys, dir, opts)
	s = connect(t, sys, node.Env, 0)
	if l := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn}); len(l.GetObjects()) != 0 {
		t.Fatalf("objects after a restart: %v", l.GetObjects())
	}
	refuse.Store(false)
	s.createOrders()
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "orders", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatal(w.GetError())
	}
}

// Requests of unknown sessions, unknown request types and the compute
// operations are answered at once with coded errors.
func TestRequestsAnsweredWithCodes(t *testing.T) {
	sys := testkit.NewSystem(t)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{})
	s := connect(t, sys, node.Env, 0)
	bad := &session{t: t, p: s.p, env: node.Env, conn: &messages.ConnectionId{Value: 999}}
	requireCode(t, "unknown session", expect[*messages.ClientPeekResponse](bad, &messages.ClientPeek{Conn: bad.conn, Collection: "x"}).GetError(), messages.ErrNotFound, "999")
	requireCode(t, "no client actor", expect[*messages.ClientConnectResponse](s, &messages.ClientConnect{}).GetError(), messages.ErrInvalidArgument)
	requireCode(t, "index", expect[*messages.ClientCreateResponse](s, &messages.ClientCreateIndex{Conn: s.conn, Name: "i", On: "orders"}).GetError(),
		messages.ErrUnavailable, `create index "i"`, "compute controller")
	requireCode(t, "peek of a plan", expect[*messages.ClientPeekResponse](s, &messages.ClientPeek{Conn: s.conn, Plan: &messages.ClientPlan{}}).GetError(),
		messages.ErrUnavailable, "peek of a plan")
	s.p.Send(node.Env, &messages.StorageFrontiers{})
	u := testkit.ExpectMsg[*messages.UnknownMessageReply](s.p, timeout)
	requireCode(t, "a storage request sent to the environment", u.GetError(), messages.ErrUnknownMessage)
	d := expect[*messages.ClientDumpResponse](s, &messages.ClientDump{Conn: s.conn})
	if d.GetError() != nil || !strings.Contains(string(d.GetJson()), `"ready": true`) {
		t.Fatalf("dump: %s %v", d.GetJson(), d.GetError())
	}
}

// Dropping a table cancels the peeks reading it, with the drop's name; the
// name is free again at once.
func TestDropCancelsPendingPeeks(t *testing.T) {
	sys := testkit.NewSystem(t)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{HoldSnapshots: true})
	s := connect(t, sys, node.Env, 0)
	s.createOrders()
	reader := &session{t: t, p: testkit.NewProbe(t, sys), env: node.Env, conn: s.conn}
	reader.p.Send(node.Env, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	reader.p.ExpectNoMsg(50 * time.Millisecond)
	d := expect[*messages.ClientDropResponse](s, &messages.ClientDrop{Conn: s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE, Name: "orders"})
	if d.GetError() != nil || !d.GetDropped() {
		t.Fatalf("drop: %v", d)
	}
	r := testkit.ExpectMsg[*messages.ClientPeekResponse](reader.p, timeout)
	requireCode(t, "peek of a dropped table", r.GetError(), messages.ErrCanceled, `table "orders" was dropped`)
	s.createOrders()
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "orders", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatal(w.GetError())
	}
}

// Bootstrap makes storage hold exactly the catalog's tables: a table the
// catalog holds but storage lacks is created, and a storage table whose
// drop did not reach storage is dropped.
func TestBootstrapReconcilesStorage(t *testing.T) {
	sys := testkit.NewSystem(t)
	dir := t.TempDir()
	var refuseDrop atomic.Bool
	refuseDrop.Store(true)
	opts := environmenttest.Options{StorageAnswer: func(m any) any {
		if _, ok := m.(*messages.StorageDropTable); ok && refuseDrop.Load() {
			return &messages.StorageDropTableResponse{Error: &messages.Error{
				Code: messages.ErrorCode_ERROR_CODE_BACKEND, Message: "storage: backend failure: injected"}}
		}
		return nil
	}}
	node := environmenttest.Start(t, sys, dir, opts)
	s := connect(t, sys, node.Env, 0)
	s.createOrders()
	// The drop commits in the catalog; storage refuses it.
	d := expect[*messages.ClientDropResponse](s, &messages.ClientDrop{Conn: s.conn, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE, Name: "orders"})
	if d.GetError() != nil || !d.GetDropped() {
		t.Fatalf("drop: %v", d)
	}
	// A table written to the catalog behind the environment's back, as if
	// its storage create had been lost.
	def, _ := proto.Marshal(&messages.ClientTableDefinition{Schema: ordersSchema})
	s.p.Send(node.Catalog, &catalog.Transact{Apply: func(tx *durable.Transaction) error {
		first, err := tx.AllocateIds(environment.IdAllocator, 1)
		if err != nil {
			return err
		}
		return tx.CreateItem(&messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(first)), Name: "lost",
			Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, Definition: def})
	}})
	if r := testkit.ExpectMsg[*catalog.TransactResult](s.p, timeout); r.Err != nil {
		t.Fatal(r.Err)
	}
	liveTables := func() int {
		s.p.Send(node.Storage, &messages.StorageFrontiers{})
		return len(testkit.ExpectMsg[*messages.StorageFrontiersResponse](s.p, timeout).GetTables())
	}
	if n := liveTables(); n != 1 {
		t.Fatalf("storage holds %d tables before the restart, want the orphan only", n)
	}

	node.Stop()
	refuseDrop.Store(false)
	node = environmenttest.Start(t, sys, dir, opts)
	s = connect(t, sys, node.Env, 0)
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "lost", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatalf("write to the recreated table: %v", w.GetError())
	}
	if n := liveTables(); n != 1 {
		t.Fatalf("storage holds %d tables after bootstrap, want only the catalog's", n)
	}
	p := expect[*messages.ClientPeekResponse](s, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	requireCode(t, "peek of the dropped table", p.GetError(), messages.ErrNotFound, `"orders"`)
}

// A catalog commit whose outcome is unknown (here: committed, but answered
// as a backend failure) makes the environment reload the catalog, so it
// serves what the catalog holds, and bootstrap brings storage in line.
func TestUnknownCatalogOutcomeResyncs(t *testing.T) {
	sys := testkit.NewSystem(t)
	var lie atomic.Bool
	lie.Store(true)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{CatalogAnswer: func(req, resp any) any {
		if _, ok := req.(*catalog.Transact); ok && lie.CompareAndSwap(true, false) {
			return &catalog.TransactResult{Err: fmt.Errorf("%w: injected: connection lost after the commit", durable.ErrBackend)}
		}
		return resp
	}})
	s := connect(t, sys, node.Env, 0)
	r := expect[*messages.ClientCreateTableResponse](s, &messages.ClientCreateTable{Conn: s.conn, Name: "orders", Schema: ordersSchema})
	requireCode(t, "create with an unknown outcome", r.GetError(), messages.ErrBackend, "injected")
	// The reload finds the table the catalog did commit, and storage has it.
	l := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn})
	if len(l.GetObjects()) != 1 || l.GetObjects()[0].GetName() != "orders" {
		t.Fatalf("objects after the resync: %v", l.GetObjects())
	}
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "orders", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatalf("write after the resync: %v", w.GetError())
	}
}

// A peek whose result is over the configured rows or bytes fails with a
// clear INVALID_ARGUMENT instead of an answer the transport would refuse.
func TestOversizedPeekResults(t *testing.T) {
	sys := testkit.NewSystem(t)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{Env: func(c *environment.Config) {
		c.MaxResultRows = 3
		c.MaxResponseBytes = 150
	}})
	s := connect(t, sys, node.Env, 0)
	s.createOrders()
	var rows []*messages.Row
	for i := range 4 {
		rows = append(rows, row(int64(i), strings.Repeat("x", 40)))
	}
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "orders", Inserts: rows}}})
	if w.GetError() != nil {
		t.Fatal(w.GetError())
	}
	p := expect[*messages.ClientPeekResponse](s, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	requireCode(t, "too many rows", p.GetError(), messages.ErrInvalidArgument, "more than 3 rows")
	three := uint64(3)
	p = expect[*messages.ClientPeekResponse](s, &messages.ClientPeek{Conn: s.conn, Collection: "orders",
		Mfp: &messages.MapFilterProject{Filter: []*messages.Expr{{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{
			Op:    messages.BinaryOp_BINARY_OP_LT,
			Left:  &messages.Expr{Kind: &messages.Expr_Column{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: "id"}}}},
			Right: &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: &messages.Datum{Value: &messages.Datum_Int64{Int64: 3}}}}},
		}}}}},
		Finishing: &messages.Finishing{Limit: &three}})
	requireCode(t, "too many bytes", p.GetError(), messages.ErrInvalidArgument, "bytes", "limit")
	one := uint64(1)
	p = expect[*messages.ClientPeekResponse](s, &messages.ClientPeek{Conn: s.conn, Collection: "orders", Finishing: &messages.Finishing{Limit: &one},
		Mfp: &messages.MapFilterProject{Filter: []*messages.Expr{{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{
			Op:    messages.BinaryOp_BINARY_OP_EQ,
			Left:  &messages.Expr{Kind: &messages.Expr_Column{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: "id"}}}},
			Right: &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: &messages.Datum{Value: &messages.Datum_Int64{Int64: 2}}}}},
		}}}}}})
	if p.GetError() != nil || len(p.GetRows()) != 1 {
		t.Fatalf("a small peek: %v", p)
	}
}

// A restart of the environment by its supervisor keeps the sessions and
// the objects; a peek pending at the time is answered UNAVAILABLE.
func TestRestartKeepsSessions(t *testing.T) {
	sys := testkit.NewSystem(t)
	node := environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{HoldSnapshots: true})
	s := connect(t, sys, node.Env, 0)
	s.createOrders()
	reader := &session{t: t, p: testkit.NewProbe(t, sys), env: node.Env, conn: s.conn}
	reader.p.Send(node.Env, &messages.ClientPeek{Conn: s.conn, Collection: "orders"})
	reader.p.ExpectNoMsg(50 * time.Millisecond)

	proc, ok := sys.ProcessRegistry.Get(node.Env)
	if !ok {
		t.Fatal("no environment process")
	}
	proc.SendSystemMessage(node.Env, &actor.Restart{})

	r := testkit.ExpectMsg[*messages.ClientPeekResponse](reader.p, timeout)
	requireCode(t, "peek pending across a restart", r.GetError(), messages.ErrUnavailable, "restarted")
	w := expect[*messages.ClientWriteResponse](s, &messages.ClientWrite{Conn: s.conn, Tables: []*messages.ClientTableRows{{Table: "orders", Inserts: []*messages.Row{row(1, "a")}}}})
	if w.GetError() != nil {
		t.Fatalf("write on the session after the restart: %v", w.GetError())
	}
}

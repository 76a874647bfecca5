package environment_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// importHoldLog records the environment's storage holds that bridge a
// reader's creation, as the gate in front of storage sees them.
type importHoldLog struct {
	mu       sync.Mutex
	acquired []string // "<hold id>@<at>", in order
	released []string
	atLeast  bool // every acquire asked at_least
}

func (l *importHoldLog) answer(msg any) any {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch m := msg.(type) {
	case *messages.StorageAcquireReadHold:
		if !strings.Contains(m.GetHoldId(), "/import/") {
			return nil
		}
		l.acquired = append(l.acquired, fmt.Sprintf("%s@%d", m.GetHoldId(), m.GetAt()))
		l.atLeast = l.atLeast && m.GetAtLeast()
	case *messages.StorageReleaseReadHold:
		if strings.Contains(m.GetHoldId(), "/import/") {
			l.released = append(l.released, m.GetHoldId())
		}
	}
	return nil
}

func (l *importHoldLog) allAtLeast() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.atLeast
}

func (l *importHoldLog) snapshot() (acquired, released []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acquired...), append([]string(nil), l.released...)
}

// TestSameClusterReaderHeldInStorage: with storage keeping no history
// (CompactionWindow 0) and writes going on all the time, so that a
// materialized view's collection compacts at every commit, an index on
// the view's own cluster is created over it. Before its dataflow is
// created the environment holds the view's collection in storage with one
// at_least hold (storage holds at its since if it compacted past the
// polled one), chooses the as_of at or after where storage held, and
// releases that hold once the reader has caught up past its as_of. The
// reader builds and its peeks equal the oracle.
func TestSameClusterReaderHeldInStorage(t *testing.T) {
	log := &importHoldLog{atLeast: true}
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 0, StorageAnswer: log.answer})
	r.s = connect(t, r.sys, r.node.Env, 0)
	for _, name := range []string{"sales", "noise"} {
		resp := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: name, Schema: dataflow.SchemaToWire(salesSchema)})
		if resp.GetError() != nil {
			t.Fatal(messages.ErrorFromWire(resp.GetError()))
		}
	}
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	r.insert(9)
	r.check("mv", perCustomer())

	// Writes to another table move every table's upper, and with it the
	// view's collection (its frontier follows its input's) and its since.
	writer := connect(t, r.sys, r.node.Env, 0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			row := dataflow.RowToWire(dataflow.Row{dataflow.Int64(i), dataflow.Int64(i), dataflow.Int64(i)})
			_, _ = r.sys.Root.RequestFuture(r.node.Env, &messages.ClientWrite{Conn: writer.conn,
				Tables: []*messages.ClientTableRows{{Table: "noise", Inserts: []*messages.Row{row}}}}, timeout).Result()
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv", Plan: overMV})
	idx := r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_idx", On: "over_mv", Cluster: "a"})
	idxId, err := timely.ParseGlobalId(idx.GetId())
	if err != nil {
		t.Fatal(err)
	}

	acquired, _ := log.snapshot()
	if len(acquired) != 1 || !log.allAtLeast() {
		t.Fatalf("storage holds taken for the reader: %v (at_least %t); want one, at_least", acquired, log.allAtLeast())
	}
	var asOf string
	for _, c := range r.instanceDump("a").Collections {
		if c.Id == idxId.String() {
			asOf = c.AsOf
		}
	}
	held := acquired[len(acquired)-1]
	// Storage may have held later than asked (at its since, after a
	// compaction the poll had not seen): the as_of is at or after the ask.
	var asked, chosen uint64
	if _, err := fmt.Sscanf(held[strings.LastIndex(held, "@")+1:], "%d", &asked); err != nil || !strings.Contains(held, "/import/"+idxId.String()+"/") {
		t.Fatalf("held %s; want a hold for %s", held, idxId)
	}
	if _, err := fmt.Sscanf(asOf, "[%d]", &chosen); err != nil || chosen < asked {
		t.Fatalf("reader's as_of %s before the hold asked at %d", asOf, asked)
	}
	holdId := held[:strings.LastIndex(held, "@")]
	testkit.Eventually(t, func() bool {
		_, released := log.snapshot()
		for _, h := range released {
			if h == holdId {
				return true
			}
		}
		return false
	}, timeout, "the bridge hold %s is released once the reader caught up", holdId)

	want := repeatCustomers(perCustomer())
	r.check("over_mv", want)
	r.insert(3)
	r.check("over_mv", want)
}

// TestBridgeHoldUnanswered: when storage never answers the bridge hold
// (the gate swallows it), creating an index over a materialized view of
// its own cluster fails with TIMEOUT naming the hold once CallTimeout
// passes, instead of waiting forever, and the catalog does not keep it.
func TestBridgeHoldUnanswered(t *testing.T) {
	var swallow atomic.Bool
	answer := func(msg any) any {
		if m, ok := msg.(*messages.StorageAcquireReadHold); ok && swallow.Load() && strings.Contains(m.GetHoldId(), "/import/") {
			return &messages.StorageReadHoldResponse{HoldId: "swallowed"} // the real one never comes
		}
		return nil
	}
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40, StorageAnswer: answer,
		Env: func(c *environment.Config) { c.CallTimeout = 500 * time.Millisecond }})
	r.s = connect(t, r.sys, r.node.Env, 0)
	r.setup()
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "a", Replicas: []*messages.ClientReplicaSpec{{Name: "r1"}}})
	r.create(&messages.ClientCreateMaterializedView{Conn: r.s.conn, Name: "mv", Plan: clientPlan(perCustomer()), Cluster: "a"})
	overMV := &messages.ClientPlan{Plan: repeatCustomers(&messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(mvPlaceholder)}}}),
		Sources: map[uint64]string{mvPlaceholder.Value: "mv"}}
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "over_mv", Plan: overMV})

	swallow.Store(true)
	resp := expect[*messages.ClientCreateResponse](r.s, &messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_idx", On: "over_mv", Cluster: "a"})
	err := messages.ErrorFromWire(resp.GetError())
	if err == nil || messages.CodeOf(err) != messages.ErrorCode_ERROR_CODE_TIMEOUT || !strings.Contains(err.Error(), "/import/") {
		t.Fatalf("create over an unanswered bridge hold: %v; want TIMEOUT naming the hold", err)
	}
	if slices.Contains(r.list(messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX), "over_mv_idx") {
		t.Fatal("the index stayed in the catalog")
	}
	swallow.Store(false)
	r.insert(3)
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "over_mv_idx", On: "over_mv", Cluster: "a"})
	r.check("over_mv", repeatCustomers(perCustomer()))
}

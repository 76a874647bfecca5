package environment_test

import (
	"encoding/json"
	"errors"
	"slices"
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
)

// checkAfterRestart is check once the restarted environment answers: a
// peek that reached it before the restart is answered UNAVAILABLE.
func (r *computeRig) checkAfterRestart(name string, plan *messages.Plan) {
	r.t.Helper()
	testkit.Eventually(r.t, func() bool {
		resp := expect[*messages.ClientPeekResponse](r.s, &messages.ClientPeek{Conn: r.s.conn, Collection: name})
		return !errors.Is(messages.ErrorFromWire(resp.GetError()), messages.ErrUnavailable)
	}, timeout, "the restarted environment answers peeks")
	r.check(name, plan)
}

// storageHold is a read hold as storage lists it.
type storageHold struct {
	id, owner string
	tables    []string
}

// incarnation is the "env<epoch>" part of an environment hold's id.
func (h storageHold) incarnation() string {
	inc, _, _ := strings.Cut(h.id, "/")
	return inc
}

// storageHolds lists storage's read holds whose id starts with prefix.
func storageHolds(t *testing.T, sys *actor.ActorSystem, storagePID *actor.PID, prefix string) []storageHold {
	t.Helper()
	p := testkit.NewProbe(t, sys)
	p.Send(storagePID, &messages.StorageListReadHolds{Prefix: prefix})
	r := testkit.ExpectMsg[*messages.StorageListReadHoldsResponse](p, timeout)
	if r.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(r.GetError()))
	}
	var out []storageHold
	for _, h := range r.GetHolds() {
		sh := storageHold{id: h.GetHoldId(), owner: h.GetOwner()}
		for _, id := range h.GetTables() {
			g, err := id.ToTimely()
			if err != nil {
				t.Fatal(err)
			}
			sh.tables = append(sh.tables, g.String())
		}
		out = append(out, sh)
	}
	return out
}

// incarnations returns the distinct "env<epoch>" prefixes of holds.
func incarnations(holds []storageHold) []string {
	var out []string
	for _, h := range holds {
		if inc := h.incarnation(); !slices.Contains(out, inc) {
			out = append(out, inc)
		}
	}
	slices.Sort(out)
	return out
}

// requireLiveOwners fails unless every hold storage lists belongs to an
// actor that still runs in sys: a hold of a stopped holder is one nobody
// needs.
func requireLiveOwners(t *testing.T, sys *actor.ActorSystem, holds []storageHold) {
	t.Helper()
	for _, h := range holds {
		addr, id, ok := strings.Cut(h.owner, "/")
		if !ok {
			t.Fatalf("hold %s: owner %q", h.id, h.owner)
		}
		if _, found := sys.ProcessRegistry.Get(actor.NewPID(addr, id)); !found {
			t.Fatalf("hold %s is owned by %s, which no longer runs", h.id, h.owner)
		}
	}
}

// heldBy reports whether one of holds names table id.
func heldBy(holds []storageHold, id string) bool {
	for _, h := range holds {
		if slices.Contains(h.tables, id) {
			return true
		}
	}
	return false
}

// A restart of the environment by its supervisor stops its instances
// and starts new ones, which take their own storage holds under the new
// incarnation's prefix. The old incarnation's holds must go once the new
// ones are in place: storage keeps a hold until its owner terminates, and
// the environment's PID survives the restart. (Released before, they let
// storage compact past the as_ofs the new instances chose, and the new
// holds were refused: none was left.) After a
// restart of the whole node on the same directory the holds are again one
// incarnation's, all owned by running actors; the answers stay the
// oracle's throughout.
func TestRestartReleasesTheLastIncarnationsHolds(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(5) // (the rig deletes its first row at every third row: once only)
	r.check("big", bigSales())
	r.check("per_customer_view", perCustomer())
	var before []storageHold
	testkit.Eventually(t, func() bool {
		before = storageHolds(t, r.sys, r.node.Storage, "env")
		return len(before) > 0
	}, timeout, "the instance's holds reach storage")
	old := incarnations(before)
	if len(old) != 1 {
		t.Fatalf("holds of one environment incarnation expected: %v", before)
	}

	proc, ok := r.sys.ProcessRegistry.Get(r.node.Env)
	if !ok {
		t.Fatal("no environment process")
	}
	proc.SendSystemMessage(r.node.Env, &actor.Restart{})
	r.checkAfterRestart("big", bigSales())
	r.insert(2)
	r.check("per_customer", perCustomer())
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		after := storageHolds(t, r.sys, r.node.Storage, "env")
		if incs := incarnations(after); len(incs) == 1 && incs[0] != old[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holds in storage after the restart: %v; want only the new incarnation's (before: %v)", after, before)
		}
	}
	requireLiveOwners(t, r.sys, storageHolds(t, r.sys, r.node.Storage, ""))

	r.restart()
	r.check("big", bigSales())
	r.check("per_customer_view", perCustomer())
	testkit.Eventually(t, func() bool {
		return len(incarnations(storageHolds(t, r.sys, r.node.Storage, "env"))) == 1
	}, timeout, "one incarnation's holds after a node restart")
	requireLiveOwners(t, r.sys, storageHolds(t, r.sys, r.node.Storage, ""))
}

// A cluster without replicas never catches up past its dataflows'
// as_ofs, so the restarted environment cannot wait for that before it
// releases the last incarnation's holds: it waits at most HoldTakeover.
func TestRestartReleasesOldHoldsWithinHoldTakeover(t *testing.T) {
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40,
		Env: func(c *environment.Config) { c.HoldTakeover = 300 * time.Millisecond }})
	r.s = connect(t, r.sys, r.node.Env, 0)
	resp := expect[*messages.ClientCreateTableResponse](r.s, &messages.ClientCreateTable{Conn: r.s.conn, Name: "sales", Schema: dataflow.SchemaToWire(salesSchema)})
	if resp.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(resp.GetError()))
	}
	r.create(&messages.ClientCreateCluster{Conn: r.s.conn, Name: "idle"})
	r.create(&messages.ClientCreateView{Conn: r.s.conn, Name: "big", Plan: clientPlan(bigSales())})
	r.create(&messages.ClientCreateIndex{Conn: r.s.conn, Name: "big_idx", On: "big", Cluster: "idle"})
	var before []storageHold
	testkit.Eventually(t, func() bool {
		before = storageHolds(t, r.sys, r.node.Storage, "env")
		return len(before) > 0
	}, timeout, "the idle cluster's index holds its table in storage")
	old := incarnations(before)

	proc, _ := r.sys.ProcessRegistry.Get(r.node.Env)
	proc.SendSystemMessage(r.node.Env, &actor.Restart{})
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		after := storageHolds(t, r.sys, r.node.Storage, "env")
		if incs := incarnations(after); len(incs) == 1 && incs[0] != old[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holds in storage after the restart: %v; want only the new incarnation's (before: %v)", after, before)
		}
	}
}

// A cluster's instance that fails is replaced; the replacement's holds
// are named by its own generation, and the failed one's are released
// once the replacement caught up: none of them stays.
func TestReplacedInstanceHoldsGo(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(4)
	r.check("big", bigSales())
	gens := func(holds []storageHold) []string {
		var out []string
		for _, h := range holds {
			parts := strings.Split(h.id, "/")
			if len(parts) == 4 && !slices.Contains(out, parts[2]) {
				out = append(out, parts[2])
			}
		}
		slices.Sort(out)
		return out
	}
	var before []storageHold
	testkit.Eventually(t, func() bool {
		before = storageHolds(t, r.sys, r.node.Storage, "env")
		return len(gens(before)) == 1
	}, timeout, "the instance's holds reach storage")
	r.sys.Root.Stop(r.instancePID("default"))
	r.checkAfterRestart("big", bigSales())
	r.insert(1)
	r.check("per_customer", perCustomer())
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		after := storageHolds(t, r.sys, r.node.Storage, "env")
		if g := gens(after); len(g) == 1 && g[0] != gens(before)[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holds in storage after the instance was replaced: %v; want only the new instance's (before: %v)", after, before)
		}
	}
	requireLiveOwners(t, r.sys, storageHolds(t, r.sys, r.node.Storage, ""))
}

// instancePID is the PID of cluster name's running instance, from the
// environment's dump.
func (r *computeRig) instancePID(name string) *actor.PID {
	r.t.Helper()
	d := expect[*messages.ClientDumpResponse](r.s, &messages.ClientDump{Conn: r.s.conn})
	var state struct {
		Clusters []struct {
			Name     string `json:"name"`
			Instance string `json:"instance"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal(d.GetJson(), &state); err != nil {
		r.t.Fatal(err)
	}
	for _, cl := range state.Clusters {
		if cl.Name == name && cl.Instance != "" {
			return actor.NewPID(r.sys.Address(), cl.Instance)
		}
	}
	r.t.Fatalf("no running instance of cluster %q in %s", name, d.GetJson())
	return nil
}

// A transient peek's storage hold whose answer comes after the peek timed
// out is neither leaked nor released before storage took it: the acquire
// is a request from the environment itself (the hold's owner), and the
// release the timeout sends reaches storage behind it. Here storage's
// gate stalls the acquire past the statement timeout.
func TestPeekHoldAnsweredAfterItsPeekTimedOut(t *testing.T) {
	var mu sync.Mutex
	stall := false
	stalled := 0
	answer := func(msg any) any {
		if m, ok := msg.(*messages.StorageAcquireReadHold); ok && strings.Contains(m.GetHoldId(), "/peek/") {
			mu.Lock()
			s := stall
			if s {
				stalled++
			}
			mu.Unlock()
			if s {
				time.Sleep(700 * time.Millisecond) // the gate forwards it late
			}
		}
		return nil
	}
	r := &computeRig{t: t, sys: testkit.NewSystem(t), dir: t.TempDir()}
	r.node = environmenttest.Start(t, r.sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40, StorageAnswer: answer})
	r.s = connect(t, r.sys, r.node.Env, 0)
	r.setup()
	r.insert(4)
	r.check("per_customer_view", perCustomer()) // a transient dataflow, held in storage while it runs

	mu.Lock()
	stall = true
	mu.Unlock()
	short := connect(t, r.sys, r.node.Env, 200)
	p := expect[*messages.ClientPeekResponse](short, &messages.ClientPeek{Conn: short.conn, Collection: "per_customer_view"})
	requireCode(t, "peek whose storage hold is answered late", p.GetError(), environment.ErrStatementTimeout)
	mu.Lock()
	stall = false
	n := stalled
	mu.Unlock()
	if n != 1 {
		t.Fatalf("%d peek holds stalled; want 1", n)
	}
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		var peeks []storageHold
		for _, h := range storageHolds(t, r.sys, r.node.Storage, "env") {
			if strings.Contains(h.id, "/peek/") {
				peeks = append(peeks, h)
			}
		}
		if len(peeks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("peek holds left in storage: %v", peeks)
		}
	}
	r.check("per_customer_view", perCustomer())
}

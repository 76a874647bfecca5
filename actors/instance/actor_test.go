package instance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const wait = 3 * time.Second

var (
	table = timely.UserId(1)
	index = timely.UserId(10)
	r1    = timely.ReplicaId{Kind: timely.User, Value: 1}
	r2    = timely.ReplicaId{Kind: timely.User, Value: 2}
)

type rig struct {
	t        *testing.T
	sys      *actor.ActorSystem
	clk      *testkit.ManualClock
	inst     *actor.PID
	launcher *fakeLauncher
	observer *testkit.Probe
	reg      *prometheus.Registry
}

// newRig starts an instance over fake runtimes whose behavior per
// incarnation behave decides, with a table u1 (since 0, upper 10).
func newRig(t *testing.T, behave func(timely.ReplicaId, uint64) behavior, maxRestarts int) *rig {
	t.Helper()
	sys := testkit.NewSystem(t)
	r := &rig{t: t, sys: sys, clk: testkit.NewManualClock(), observer: testkit.NewProbe(t, sys), reg: prometheus.NewRegistry()}
	rows := []*messages.Row{row(1), row(2), row(3)}
	r.launcher = &fakeLauncher{sys: sys, model: map[timely.GlobalId][]*messages.Row{index: rows}, observer: r.observer.PID(),
		behave: behave, runtimes: map[timely.ReplicaId]map[uint64]*actor.PID{}}
	props, err := New(Config{
		Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, ClusterName: "c1", EnvironmentEpoch: 1,
		Launcher: r.launcher,
		Restarts: func(timely.ReplicaId) replica.RestartTracker {
			return &replica.FixedRestarts{Backoff: time.Second, MaxRestarts: maxRestarts}
		},
		Clock: r.clk, Logger: testkit.QuietLogger(), Registerer: r.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.inst = sys.Root.Spawn(props)
	t.Cleanup(func() { _ = sys.Root.StopFuture(r.inst).Wait() })
	if !r.clk.WaitForTimers(1, wait) {
		t.Fatal("the maintain loop did not start")
	}
	r.ok(RegisterStorage{Collection: StorageCollection{Id: table, Since: timely.At(0), Upper: timely.At(10)}})
	return r
}

func row(n int64) *messages.Row {
	return &messages.Row{Datums: []*messages.Datum{{Value: &messages.Datum_Int64{Int64: n}}}}
}

func (r *rig) call(msg any) any {
	r.t.Helper()
	res, err := r.sys.Root.RequestFuture(r.inst, msg, wait).Result()
	if err != nil {
		r.t.Fatalf("%T: %v", msg, err)
	}
	return res
}

func (r *rig) ok(msg any) {
	r.t.Helper()
	if err := r.call(msg).(Reply).Error(); err != nil {
		r.t.Fatalf("%T: %v", msg, err)
	}
}

func (r *rig) dump() Dump {
	r.t.Helper()
	var d Dump
	if err := json.Unmarshal(r.call(GetDump{}).(DumpReply).JSON, &d); err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *rig) replica(id timely.ReplicaId) ReplicaDump {
	for _, rd := range r.dump().Replicas {
		if rd.Id == id.String() {
			return rd
		}
	}
	r.t.Fatalf("replica %s not in dump", id)
	return ReplicaDump{}
}

// createIndex installs index u10 over the table at as_of 5.
func (r *rig) createIndex() {
	r.ok(CreateDataflow{Dataflow: &messages.ComputeDataflowDescription{
		SourceImports: []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(table)}},
		IndexExports:  []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(index), On: messages.FromGlobalId(index)}},
		AsOf:          messages.FromFrontier(timely.At(5)),
		DebugName:     "idx",
	}})
}

// expectCommand waits until a runtime of replica id at incarnation inc
// accepted a command starting with prefix.
func (r *rig) expectCommand(id timely.ReplicaId, inc uint64, prefix string) {
	r.t.Helper()
	r.observer.FishFor(func(m any) bool {
		o, ok := m.(observed)
		return ok && o.replica == id && o.incarnation == inc && strings.HasPrefix(o.command, prefix)
	}, wait)
}

func uuid(n byte) timely.Uuid {
	var u timely.Uuid
	u[15] = n
	return u
}

func TestTwoReplicasSlowOneFastAnswers(t *testing.T) {
	r := newRig(t, func(id timely.ReplicaId, _ uint64) behavior { return behavior{holdPeeks: id == r1} }, 3)
	r.ok(AddReplica{Id: r1, Name: "slow"})
	r.ok(AddReplica{Id: r2, Name: "fast"})
	r.createIndex()
	client := testkit.NewProbe(t, r.sys)

	r.sys.Root.Send(r.inst, Peek{Uuid: uuid(1), Collection: index, Timestamp: 6, ReplyTo: client.PID()})
	got := testkit.ExpectMsg[*messages.ComputePeekResponse](client, wait)
	if n := len(got.GetRows().GetRows()); n != 3 {
		t.Fatalf("peek answered with %v, want 3 rows", got)
	}
	// The slow replica was told to cancel; its late answer is dropped.
	r.expectCommand(r1, 1, "cancel_peek")
	r.sys.Root.Send(r.launcher.runtime(r1, 1), releasePeeks{})
	d := r.dump()
	if len(d.Peeks) != 0 || d.PeekResults["rows"] != 1 {
		t.Fatalf("peeks pending %v, results %v", d.Peeks, d.PeekResults)
	}
	client.ExpectNoMsg(50 * time.Millisecond)

	// Metrics after a maintenance.
	r.clk.Advance(time.Second)
	// The lag is refreshed last: once it is there, the rest is too.
	testkit.Eventually(t, func() bool {
		_, ok := metricValue(r.reg, "arbor_compute_wallclock_lag_seconds", "u10")
		return ok
	}, wait, "metrics refreshed")
	if v, _ := metricValue(r.reg, "arbor_compute_replica_count", ""); v != 2 {
		t.Fatalf("replica_count = %v", v)
	}
	if v, _ := metricValue(r.reg, "arbor_compute_peeks_total", "rows"); v != 1 {
		t.Fatalf("peeks_total{rows} = %v", v)
	}
	if v, _ := metricValue(r.reg, "arbor_compute_history_command_count", "create_dataflow"); v != 1 {
		t.Fatalf("history_command_count{create_dataflow} = %v", v)
	}
}

func TestRuntimeKilledDuringPeek(t *testing.T) {
	// The first incarnation holds its peeks; later ones answer.
	r := newRig(t, func(_ timely.ReplicaId, inc uint64) behavior { return behavior{holdPeeks: inc == 1} }, 3)
	r.ok(AddReplica{Id: r1, Name: "r1"})
	r.createIndex()
	client := testkit.NewProbe(t, r.sys)

	r.sys.Root.Send(r.inst, Peek{Uuid: uuid(1), Collection: index, Timestamp: 6, ReplyTo: client.PID()})
	r.sys.Root.Send(r.inst, Peek{Uuid: uuid(2), Collection: index, Timestamp: 6, Target: &r1, ReplyTo: client.PID()})
	r.expectCommand(r1, 1, "peek p2")
	r.sys.Root.Stop(r.launcher.runtime(r1, 1))

	// The targeted peek ends at once, with the replica's failure.
	got := testkit.ExpectMsg[*messages.ComputePeekResponse](client, wait)
	u, _ := got.GetUuid().ToTimely()
	if err := messages.ErrorFromWire(got.GetError()); u != uuid(2) || !errors.Is(err, ErrReplicaFailed) {
		t.Fatalf("targeted peek answered %v", got)
	}
	testkit.Eventually(t, func() bool { return r.replica(r1).Status == "failed" }, wait, "replica failed")

	// After the backoff, incarnation 2 gets the history, with p1 still in
	// it, and answers it.
	r.clk.Advance(time.Second)
	r.expectCommand(r1, 2, "hello epoch=(1,2)")
	r.expectCommand(r1, 2, "create_dataflow (u10)")
	r.expectCommand(r1, 2, "peek p1")
	got = testkit.ExpectMsg[*messages.ComputePeekResponse](client, wait)
	u, _ = got.GetUuid().ToTimely()
	if u != uuid(1) || len(got.GetRows().GetRows()) != 3 {
		t.Fatalf("untargeted peek answered %v", got)
	}
	client.ExpectNoMsg(50 * time.Millisecond)
	testkit.Eventually(t, func() bool {
		rd := r.replica(r1)
		return rd.Incarnation == 2 && rd.Status == "active" && len(rd.Collections) == 1 && rd.Collections[0].Hydrated
	}, wait, "replica back at incarnation 2, hydrated")
}

func TestReplicaFailingAtEveryStartEndsFailing(t *testing.T) {
	r := newRig(t, func(timely.ReplicaId, uint64) behavior { return behavior{dieOnHello: true} }, 2)
	r.ok(AddReplica{Id: r1, Name: "doomed"})
	for inc := uint64(1); inc <= 10; inc++ {
		// Incarnation inc fails (its runtime stops at Hello) ...
		var rd ReplicaDump
		testkit.Eventually(t, func() bool {
			rd = r.replica(r1)
			return rd.Incarnation == inc && rd.Status != "active"
		}, wait, "incarnation failed")
		if rd.Status == "failing" {
			break
		}
		// ... and the next one starts once the backoff passed.
		r.clk.Advance(time.Second)
		testkit.Eventually(t, func() bool { return r.replica(r1).Incarnation > inc }, wait, "restarted")
	}
	rd := r.replica(r1)
	if rd.Status != "failing" || rd.Incarnation != 3 || !strings.Contains(rd.LastError, "restarts exhausted") || !rd.Restarts.Failing {
		t.Fatalf("replica %+v, want failing after 3 incarnations", rd)
	}
	// No hot loop: time passes, nothing is launched.
	r.clk.Advance(5 * time.Second)
	_ = r.dump()
	if n := r.launcher.launches(r1); n != 3 {
		t.Fatalf("%d launches, want 3", n)
	}
	// A peek targeting it is answered at once.
	r.createIndex()
	client := testkit.NewProbe(t, r.sys)
	r.sys.Root.Send(r.inst, Peek{Uuid: uuid(1), Collection: index, Timestamp: 6, Target: &r1, ReplyTo: client.PID()})
	got := testkit.ExpectMsg[*messages.ComputePeekResponse](client, wait)
	if !errors.Is(messages.ErrorFromWire(got.GetError()), ErrReplicaFailed) {
		t.Fatalf("peek answered %v", got)
	}
}

func TestBadRequestsAreCodedReplies(t *testing.T) {
	r := newRig(t, func(timely.ReplicaId, uint64) behavior { return behavior{} }, 1)
	r.ok(AddReplica{Id: r1})
	if err := r.call(AddReplica{Id: r1}).(Reply).Error(); !errors.Is(err, ErrReplicaExists) {
		t.Fatalf("duplicate replica: %v", err)
	}
	r.createIndex()
	err := r.call(CreateDataflow{Dataflow: &messages.ComputeDataflowDescription{
		IndexImports: []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(index)}},
		IndexExports: []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(timely.UserId(11))}},
		AsOf:         messages.FromFrontier(timely.At(2)),
	}}).(Reply).Error()
	if !errors.Is(err, ErrAsOfCompacted) || !errors.Is(err, messages.ErrCompacted) {
		t.Fatalf("as_of before since: %v", err)
	}
	if err := r.call(DropCollections{Ids: []timely.GlobalId{timely.UserId(99)}}).(Reply).Error(); !errors.Is(err, ErrUnknownCollection) {
		t.Fatalf("drop unknown: %v", err)
	}
	// A refused peek is still answered exactly once.
	got := r.call(Peek{Uuid: uuid(1), Collection: index, Timestamp: 1}).(*messages.ComputePeekResponse)
	if !errors.Is(messages.ErrorFromWire(got.GetError()), ErrPeekCompacted) {
		t.Fatalf("peek at a compacted time: %v", got)
	}
}

func TestSubscribeDeliversEachUpdateOnce(t *testing.T) {
	r := newRig(t, func(timely.ReplicaId, uint64) behavior { return behavior{} }, 1)
	r.ok(AddReplica{Id: r1})
	r.ok(AddReplica{Id: r2})
	r.createIndex()
	client := testkit.NewProbe(t, r.sys)
	sub := timely.TransientId(1)
	r.ok(Subscribe{Client: client.PID(), Dataflow: &messages.ComputeDataflowDescription{
		IndexImports: []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(index)}},
		SinkExports: []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sub), From: messages.FromGlobalId(index),
			Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}},
		AsOf: messages.FromFrontier(timely.At(5)),
	}})
	// Both replicas send the same batch; the client gets it once.
	got := testkit.ExpectMsg[*messages.ComputeSubscribeResponse](client, wait)
	if n := len(got.GetBatch().GetUpdates().GetUpdates()); n != 2 {
		t.Fatalf("batch %v, want 2 updates", got)
	}
	client.ExpectNoMsg(100 * time.Millisecond) // the second replica's copy
	r.ok(DropCollections{Ids: []timely.GlobalId{sub}})
	got = testkit.ExpectMsg[*messages.ComputeSubscribeResponse](client, wait)
	if f, _ := got.GetDroppedAt().ToTimely(); f != timely.At(7) {
		t.Fatalf("end %v, want dropped_at [7]", got)
	}
	client.ExpectNoMsg(50 * time.Millisecond)
}

func TestStopAnswersPendingPeeks(t *testing.T) {
	r := newRig(t, func(timely.ReplicaId, uint64) behavior { return behavior{holdPeeks: true} }, 1)
	r.ok(AddReplica{Id: r1})
	r.createIndex()
	client := testkit.NewProbe(t, r.sys)
	r.sys.Root.Send(r.inst, Peek{Uuid: uuid(1), Collection: index, Timestamp: 6, ReplyTo: client.PID()})
	r.expectCommand(r1, 1, "peek p1")
	if err := r.sys.Root.StopFuture(r.inst).Wait(); err != nil {
		t.Fatal(err)
	}
	got := testkit.ExpectMsg[*messages.ComputePeekResponse](client, wait)
	if !errors.Is(messages.ErrorFromWire(got.GetError()), ErrStopped) {
		t.Fatalf("peek answered %v", got)
	}
}

// metricValue returns the value of the series of name (with a label of
// value label, when given) in reg, and whether it exists.
func metricValue(reg *prometheus.Registry, name, label string) (float64, bool) {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetValue() == label
			}
			if match {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

package catalog_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

const timeout = 5 * time.Second

// flakyShard fails the next n compare-and-appends with an injected error
// whose outcome is "unknown" (nothing is written). While frozen, its
// compare-and-appends block until their context ends, like a SIGSTOPped
// etcd.
type flakyShard struct {
	persistence.Shard
	failures atomic.Int32
	frozen   atomic.Bool
}

var errInjected = errors.New("injected backend failure")

func (f *flakyShard) CompareAndAppend(ctx context.Context, us []persistence.Update, expected, newUpper timely.Frontier) error {
	if f.frozen.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.failures.Add(-1) >= 0 {
		return errInjected
	}
	return f.Shard.CompareAndAppend(ctx, us, expected, newUpper)
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	sys     *actor.ActorSystem
	clk     *testkit.ManualClock
	store   persistence.Store
	catalog *flakyShard
	probe   *testkit.Probe
	pid     *actor.PID
	halts   chan string
	fenced  chan *catalog.Fenced
	reg     *prometheus.Registry
	metrics *catalog.Metrics
	opens   atomic.Int32
	build   uint64
	// callTimeout is Config.CallTimeout (the default when 0).
	callTimeout time.Duration
	// props, if set, spawns the guardian (default: at the root).
	props  func(*actor.Props) *actor.PID
	parent *actor.PID
}

func newFixture(t *testing.T) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, sys: testkit.NewSystem(t), clk: testkit.NewManualClock(), store: mem.New(),
		halts: make(chan string, 4), fenced: make(chan *catalog.Fenced, 4), reg: prometheus.NewRegistry()}
	t.Cleanup(func() { _ = f.store.Close() })
	cat, err := f.store.OpenShard(ctx, "catalog")
	require.NoError(t, err)
	f.catalog = &flakyShard{Shard: cat}
	t.Cleanup(func() { _ = cat.Close() })
	f.probe = testkit.NewProbe(t, f.sys)
	f.metrics, err = catalog.NewMetrics(f.reg)
	require.NoError(t, err)
	sub := f.sys.EventStream.Subscribe(func(evt any) {
		if e, ok := evt.(*catalog.Fenced); ok {
			f.fenced <- e
		}
	})
	t.Cleanup(func() { f.sys.EventStream.Unsubscribe(sub) })
	return f
}

// openDurable opens a handle on the fixture's catalog as another process.
func (f *fixture) openDurable(mode durable.Mode, generation uint64) (*durable.Handle, error) {
	cat, err := f.store.OpenShard(f.ctx, "catalog")
	require.NoError(f.t, err)
	ver, err := f.store.OpenShard(f.ctx, "catalog_version")
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = cat.Close(); _ = ver.Close() })
	return durable.Open(f.ctx, durable.Config{Catalog: cat, Version: ver, Mode: mode, DeployGeneration: generation, Clock: f.clk})
}

func (f *fixture) start() {
	ver, err := f.store.OpenShard(f.ctx, "catalog_version")
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = ver.Close() })
	cfg := catalog.Config{
		Open: func(ctx context.Context) (*durable.Handle, error) {
			f.opens.Add(1)
			return durable.Open(ctx, durable.Config{Catalog: f.catalog, Version: ver, Mode: durable.Writable, DeployGeneration: 1, Clock: f.clk, BuildVersion: f.build})
		},
		Halt:        func(reason string) { f.halts <- reason },
		CallTimeout: f.callTimeout,
		Clock:       f.clk,
		Metrics:     f.metrics,
		Logger:      testkit.QuietLogger(),
	}
	props, err := catalog.New(cfg)
	require.NoError(f.t, err)
	if f.props != nil {
		f.pid = f.props(props)
		return
	}
	f.pid = f.sys.Root.Spawn(props.Configure(actor.WithGuardian(catalog.SupervisorStrategy())))
	f.t.Cleanup(func() { _ = f.sys.Root.StopFuture(f.pid).Wait() })
}

func (f *fixture) status() *catalog.Status {
	f.probe.Send(f.pid, &catalog.GetStatus{})
	return testkit.ExpectMsg[*catalog.Status](f.probe, timeout)
}

func (f *fixture) transact(apply func(tx *durable.Transaction) error) *catalog.TransactResult {
	f.probe.Send(f.pid, &catalog.Transact{Apply: apply})
	return testkit.ExpectMsg[*catalog.TransactResult](f.probe, timeout)
}

func createCluster(n uint64, name string) func(tx *durable.Transaction) error {
	return func(tx *durable.Transaction) error {
		return tx.CreateCluster(&messages.CatalogCluster{Id: messages.FromClusterId(timely.ClusterId{Kind: timely.User, Value: n}), Name: name})
	}
}

func TestGuardianServesRequests(t *testing.T) {
	f := newFixture(t)
	f.start()
	res := f.transact(createCluster(1, "c1"))
	require.NoError(t, res.Err)
	require.Equal(t, timely.At(2), res.Upper)

	f.probe.Send(f.pid, &catalog.GetSnapshot{})
	snap := testkit.ExpectMsg[*catalog.SnapshotResult](f.probe, timeout)
	require.NoError(t, snap.Err)
	require.Len(t, snap.Snapshot.Clusters(), 1)

	f.probe.Send(f.pid, &catalog.AllocateIds{Allocator: "user", Count: 10})
	ids := testkit.ExpectMsg[*catalog.IdsAllocated](f.probe, timeout)
	require.NoError(t, ids.Err)
	require.Equal(t, uint64(1), ids.First)
	f.probe.Send(f.pid, &catalog.AllocateIds{Allocator: "user", Count: 1})
	require.Equal(t, uint64(11), testkit.ExpectMsg[*catalog.IdsAllocated](f.probe, timeout).First)

	// A client error aborts the transaction and is answered as such.
	res = f.transact(createCluster(1, "c1"))
	require.ErrorIs(t, res.Err, durable.ErrAlreadyExists)

	st := f.status()
	require.Equal(t, catalog.PhaseReady, st.Phase)
	require.Equal(t, durable.FenceToken{DeployGeneration: 1, Epoch: 1}, st.Token)

	require.Equal(t, 3.0, metricValue(t, f.reg, "arbor_catalog_commits_total", "result", "ok"))
	require.Equal(t, 0.0, metricValue(t, f.reg, "arbor_catalog_commits_total", "result", "error"), "a transaction its Apply rejected is no commit")
	require.Equal(t, 3.0, metricValue(t, f.reg, "arbor_catalog_commit_duration_seconds"))
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_catalog_entries", "kind", "cluster"))
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_catalog_entries", "kind", "fence_token"))
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_catalog_opens_total"))
	require.Empty(t, f.halts)
}

func TestGuardianNoticesFenceWithoutWriting(t *testing.T) {
	f := newFixture(t)
	f.start()
	require.Equal(t, catalog.PhaseReady, f.status().Phase)

	newer, err := f.openDurable(durable.Writable, 1)
	require.NoError(t, err)
	require.True(t, f.clk.WaitForTimers(1, timeout), "the guardian arms its leadership check")
	f.clk.Advance(catalog.DefaultConfirmInterval - time.Millisecond)
	select {
	case reason := <-f.halts:
		t.Fatalf("halted before the leadership check was due: %s", reason)
	case <-time.After(50 * time.Millisecond):
	}
	f.clk.Advance(time.Millisecond)

	var reason string
	select {
	case reason = <-f.halts:
	case <-time.After(timeout):
		t.Fatal("the fenced guardian did not halt the node")
	}
	require.Contains(t, reason, "(generation 1, epoch 1)")
	require.Contains(t, reason, "(generation 1, epoch 2)")
	ev := <-f.fenced
	require.Equal(t, durable.FenceToken{DeployGeneration: 1, Epoch: 1}, ev.Current)
	require.Equal(t, durable.FenceToken{DeployGeneration: 1, Epoch: 2}, ev.Fence)
	require.Equal(t, durable.FenceEpoch, ev.Err.Kind)

	// Every later request gets the fence error; nothing is written.
	res := f.transact(createCluster(1, "late"))
	require.ErrorIs(t, res.Err, durable.ErrFenced)
	f.probe.Send(f.pid, &catalog.GetSnapshot{})
	require.ErrorIs(t, testkit.ExpectMsg[*catalog.SnapshotResult](f.probe, timeout).Err, durable.ErrFenced)
	f.probe.Send(f.pid, &catalog.AllocateIds{Allocator: "user", Count: 1})
	require.ErrorIs(t, testkit.ExpectMsg[*catalog.IdsAllocated](f.probe, timeout).Err, durable.ErrFenced)
	st := f.status()
	require.Equal(t, catalog.PhaseFenced, st.Phase)
	require.ErrorIs(t, st.Err, durable.ErrFenced)

	snap, err := newer.Snapshot(f.ctx)
	require.NoError(t, err)
	require.Empty(t, snap.Clusters())
	require.Equal(t, int32(1), f.opens.Load(), "never reopened once fenced")
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_catalog_fence_events_total"))
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_catalog_syncs_total"), "the sync that found the fence")
	require.Equal(t, 0, f.clk.PendingTimers(), "no more leadership checks once fenced")
	require.Empty(t, f.halts, "halt is asked once")
}

func TestGuardianFencedOnCommit(t *testing.T) {
	f := newFixture(t)
	f.start()
	require.Equal(t, catalog.PhaseReady, f.status().Phase)
	_, err := f.openDurable(durable.Writable, 2)
	require.NoError(t, err)

	res := f.transact(createCluster(1, "c1"))
	var fe *durable.FenceError
	require.ErrorAs(t, res.Err, &fe)
	require.Equal(t, durable.FenceDeployGeneration, fe.Kind)
	reason := <-f.halts
	require.Contains(t, reason, "(generation 1, epoch 1)")
	require.Contains(t, reason, "(generation 2, epoch 2)")
	require.Equal(t, durable.FenceToken{DeployGeneration: 2, Epoch: 2}, (<-f.fenced).Fence)
}

func TestGuardianRestartsWithBackoffOnTransientErrors(t *testing.T) {
	f := newFixture(t)
	f.start()
	require.Equal(t, catalog.PhaseReady, f.status().Phase)

	f.catalog.failures.Store(1)
	res := f.transact(createCluster(1, "c1"))
	require.ErrorIs(t, res.Err, durable.ErrBackend)
	require.ErrorIs(t, res.Err, errInjected)

	// The restarted guardian waits for its backoff before reopening;
	// requests wait with it.
	require.True(t, f.clk.WaitForTimers(1, timeout))
	require.Equal(t, catalog.PhaseBackoff, f.status().Phase)
	f.probe.Send(f.pid, &catalog.Transact{Apply: createCluster(1, "c1")})
	f.probe.ExpectNoMsg(50 * time.Millisecond)
	require.Equal(t, int32(1), f.opens.Load())

	// Fail the reopen too: the next backoff doubles.
	f.catalog.failures.Store(1)
	f.clk.Advance(catalog.DefaultInitialBackoff)
	testkit.Eventually(t, func() bool { return f.opens.Load() == 2 }, timeout)
	require.True(t, f.clk.WaitForTimers(1, timeout))
	f.clk.Advance(catalog.DefaultInitialBackoff)
	f.probe.ExpectNoMsg(50 * time.Millisecond)
	f.clk.Advance(catalog.DefaultInitialBackoff)

	res = testkit.ExpectMsg[*catalog.TransactResult](f.probe, timeout)
	require.NoError(t, res.Err, "the waiting request is served after reopening")
	st := f.status()
	require.Equal(t, catalog.PhaseReady, st.Phase)
	require.Equal(t, int64(2), st.Token.Epoch, "the new incarnation took over with a new epoch")
	require.Equal(t, 3, st.Incarnation)
	require.Equal(t, int32(3), f.opens.Load())
	require.Empty(t, f.halts)
	require.Empty(t, f.fenced)
}

func TestGuardianHaltsOnNewerCatalogVersion(t *testing.T) {
	f := newFixture(t)
	ver, err := f.store.OpenShard(f.ctx, "catalog_version")
	require.NoError(t, err)
	defer ver.Close()
	_, err = durable.Open(f.ctx, durable.Config{Catalog: f.catalog, Version: ver, Mode: durable.Writable, DeployGeneration: 1, BuildVersion: durable.CurrentVersion + 1})
	require.NoError(t, err)

	f.start()
	reason := <-f.halts
	require.Contains(t, reason, "newer catalog version")
	st := f.status()
	require.Equal(t, catalog.PhaseHalted, st.Phase)
	require.ErrorIs(t, st.Err, durable.ErrIncompatibleVersion)
	res := f.transact(createCluster(1, "c1"))
	require.ErrorIs(t, res.Err, catalog.ErrHalted)
	require.Empty(t, f.fenced)
}

func TestDecider(t *testing.T) {
	require.Equal(t, actor.StopDirective, catalog.Decider(&durable.FenceError{Kind: durable.FenceEpoch}))
	require.Equal(t, actor.RestartDirective, catalog.Decider(&catalog.TransientFailure{Err: errInjected}))
}

func TestGuardianRetriesAnOptimisticTransactionOnceAfterAForeignWrite(t *testing.T) {
	f := newFixture(t)
	f.start()
	require.NoError(t, f.transact(createCluster(1, "c1")).Err)

	// A foreign write that is no fence (the token stays) moves the upper.
	upper, err := f.catalog.Upper(f.ctx)
	require.NoError(t, err)
	ts, _ := upper.Time()
	key, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.CatalogKey{Kind: &messages.CatalogKey_Setting{Setting: &messages.CatalogSettingKey{Name: "foreign"}}})
	value, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.CatalogValue{Kind: &messages.CatalogValue_Setting{Setting: &messages.CatalogSetting{Name: "foreign", Value: "x"}}})
	require.NoError(t, f.catalog.CompareAndAppend(f.ctx, []persistence.Update{{Key: key, Value: value, Ts: ts, Diff: 1}}, upper, timely.At(ts+1)))

	runs := 0
	res := f.transact(func(tx *durable.Transaction) error {
		runs++
		return createCluster(2, "c2")(tx)
	})
	require.NoError(t, res.Err)
	require.Equal(t, 2, runs, "the stale attempt is re-run once on synced state")
	require.Equal(t, timely.At(ts+2), res.Upper)
	require.Equal(t, catalog.PhaseReady, f.status().Phase)
	require.Empty(t, f.halts)
}

func TestGuardianSurvivesAPanickingTransactionFunction(t *testing.T) {
	f := newFixture(t)
	f.start()
	res := f.transact(func(tx *durable.Transaction) error {
		if err := createCluster(1, "c1")(tx); err != nil {
			return err
		}
		panic("caller bug")
	})
	require.ErrorIs(t, res.Err, catalog.ErrApplyPanicked)
	require.NoError(t, f.transact(createCluster(2, "c2")).Err)
	f.probe.Send(f.pid, &catalog.GetSnapshot{})
	snap := testkit.ExpectMsg[*catalog.SnapshotResult](f.probe, timeout)
	require.Len(t, snap.Snapshot.Clusters(), 1, "the panicking transaction was aborted")
	require.Equal(t, int32(1), f.opens.Load())
}

// restartingParent spawns the guardian as its child and restarts it on
// request, as a restart-always parent would after any failure.
type restartingParent struct {
	props *actor.Props
	child *actor.PID
}

type restartChild struct{}
type getChild struct{}

func (p *restartingParent) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		p.child = ctx.Spawn(p.props)
	case *restartChild:
		ctx.(actor.Supervisor).RestartChildren(p.child)
		ctx.Respond(p.child)
	case *getChild:
		ctx.Respond(p.child)
	}
}

func TestFencedGuardianStaysFencedWhenRestarted(t *testing.T) {
	f := newFixture(t)
	f.props = func(props *actor.Props) *actor.PID {
		parent := f.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &restartingParent{props: props} }))
		f.t.Cleanup(func() { _ = f.sys.Root.StopFuture(parent).Wait() })
		f.parent = parent
		res, err := f.sys.Root.RequestFuture(parent, &getChild{}, timeout).Result()
		require.NoError(t, err)
		return res.(*actor.PID)
	}
	f.start()
	require.Equal(t, catalog.PhaseReady, f.status().Phase)
	_, err := f.openDurable(durable.Writable, 1)
	require.NoError(t, err)
	require.ErrorIs(t, f.transact(createCluster(1, "c1")).Err, durable.ErrFenced)
	<-f.halts

	_, err = f.sys.Root.RequestFuture(f.parent, &restartChild{}, timeout).Result()
	require.NoError(t, err)
	st := f.status()
	require.Equal(t, 2, st.Incarnation, "the guardian was restarted")
	require.Equal(t, catalog.PhaseFenced, st.Phase)
	require.ErrorIs(t, st.Err, durable.ErrFenced)
	require.ErrorIs(t, f.transact(createCluster(1, "c1")).Err, durable.ErrFenced)
	require.Equal(t, int32(1), f.opens.Load(), "a fenced guardian never reopens the catalog")
	require.Empty(t, f.halts)
}

// A protobuf request the guardian does not serve gets a decodable
// UNKNOWN_MESSAGE reply at once (not a Go error value, which cannot cross
// the wire), and the guardian keeps serving.
func TestGuardianAnswersUnknownRequests(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.probe.Send(f.pid, &messages.Timestamp{Millis: 1})
	r := testkit.ExpectMsg[*messages.UnknownMessageReply](f.probe, timeout)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, r.GetError().GetCode())
	require.Equal(t, "arbor.messages.Timestamp", r.GetType())
	require.Equal(t, catalog.PhaseReady, f.status().Phase)
	require.Equal(t, 1.0, metricValue(t, f.reg, "arbor_actor_unknown_messages_total", "actor", "catalog"))
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	_, err := catalog.New(catalog.Config{})
	require.ErrorIs(t, err, catalog.ErrInvalidConfig)
}

// With the catalog's backend frozen, a commit is answered once
// CallTimeout passes, with a backend error whose outcome is unknown; the
// guardian restarts, keeps answering while it backs off, and serves again
// once the backend answers.
func TestGuardianAnswersWhenTheBackendFreezes(t *testing.T) {
	f := newFixture(t)
	f.callTimeout = 100 * time.Millisecond
	f.start()
	require.Equal(t, catalog.PhaseReady, f.status().Phase)

	f.catalog.frozen.Store(true)
	res := f.transact(createCluster(1, "c1"))
	require.ErrorIs(t, res.Err, durable.ErrBackend)
	require.ErrorIs(t, res.Err, context.DeadlineExceeded)
	require.Contains(t, res.Err.Error(), "commit")

	require.True(t, f.clk.WaitForTimers(1, timeout), "the restarted guardian arms its backoff")
	st := f.status()
	require.Equal(t, catalog.PhaseBackoff, st.Phase)
	require.ErrorIs(t, st.LastFailure, context.DeadlineExceeded)

	f.catalog.frozen.Store(false)
	f.clk.Advance(catalog.DefaultInitialBackoff)
	testkit.Eventually(t, func() bool { return f.status().Phase == catalog.PhaseReady }, timeout)
	require.NoError(t, f.transact(createCluster(1, "c1")).Err)
	require.Empty(t, f.halts)
}

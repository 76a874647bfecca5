package coordinator

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// frozenTimeout is the store timeout of the frozen-backend tests: long
// enough for the requests the tests send while the store is frozen to be
// answered first on a loaded machine, short enough to keep them quick.
// The tests assert no timings; they only wait for what must happen.
const frozenTimeout = 500 * time.Millisecond

// TestFrozenStoreCommit freezes the store under a commit: the coordinator
// keeps answering (a Consume gets busy, a Status names the commit in
// flight, a DropFlow is answered; an InstallFlow is answered once the
// commit's outcome is known), the commit fails after the deadline
// with a TIMEOUT-coded error naming it, and once the store thaws the
// coordinator recovers: the flow backfills from its checkpoint, commits
// and the next Consume goes through.
func TestFrozenStoreCommit(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	events := testkit.NewProbe(t, sys)
	first := testkit.NewProbe(t, sys)
	second := testkit.NewProbe(t, sys)
	store := &memStore{}
	reg := prometheus.NewRegistry()
	props, err := New(Config{Pool: poolProbe.PID(), Store: store, Events: events.PID(), StoreTimeout: frozenTimeout, Registerer: reg, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	first.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](first, testkit.DefaultTimeout).Err)
	fish[*pool.RegisterFlow](poolProbe)
	poolProbe.Reply(&pool.RegisterFlowReply{Flow: 10})

	store.freeze()
	changes := map[timely.GlobalId][]dataflow.Update{table: {{Row: dataflow.Row{dataflow.Int64(1)}, Time: 0, Diff: 1}}}
	first.Send(coord, &Consume{From: 0, Upper: 1, Changes: changes})
	fish[*pool.Submit](poolProbe)
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 1}}})
	require.Equal(t, "commit", <-store.entered, "the commit is with the frozen store")

	// While the commit waits, the coordinator answers.
	second.Send(coord, &Consume{From: 1, Upper: 2})
	busy := testkit.ExpectMsg[*ConsumeReply](second, testkit.DefaultTimeout)
	require.ErrorIs(t, busy.Err, ErrBusy)
	second.Send(coord, &Status{})
	st := testkit.ExpectMsg[*StatusReply](second, testkit.DefaultTimeout)
	require.Equal(t, Committing, st.Phase)
	require.Equal(t, []string{"commit of 0 output changes and 1 checkpoints"}, st.StoreOps)
	second.Send(coord, &DropFlow{Flow: 99})
	require.ErrorIs(t, testkit.ExpectMsg[*DropFlowReply](second, testkit.DefaultTimeout).Err, ErrUnknownFlow)
	// An install waits for the commit's outcome (its checkpoint must be
	// the durable one), then is answered.
	second.Send(coord, &InstallFlow{Spec: tableSpec(t, 11)})

	// After the deadline: the commit fails with a timeout naming it; the
	// flow is rebuilt and backfills from its checkpoint.
	failed := fishEvent(events, FlowFailed)
	require.ErrorIs(t, failed.Err, messages.ErrTimeout)
	store.thaw()
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](second, testkit.DefaultTimeout).Err)
	fish[*pool.Rebuild](poolProbe)
	backfill := fish[*pool.Submit](poolProbe)
	require.EqualValues(t, 0, backfill.Batches[0].From, "the checkpoint stayed at 0")
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 1}}})

	reply := testkit.ExpectMsg[*ConsumeReply](first, testkit.DefaultTimeout)
	require.ErrorIs(t, reply.Err, ErrCommit)
	require.ErrorIs(t, reply.Err, messages.ErrTimeout)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_TIMEOUT, messages.CodeOf(reply.Err))
	require.Contains(t, reply.Err.Error(), "commit of 0 output changes and 1 checkpoints: timed out after 500ms")
	require.Equal(t, messages.ErrorCode_ERROR_CODE_TIMEOUT, messages.ErrorToWire(reply.Err).GetCode())
	require.Equal(t, 1.0, testutil.ToFloat64(storeTimeouts(t, reg).WithLabelValues("commit")))

	// Recovered: flow 10 committed its backfill; flow 11 registers and
	// hydrates; then the busy sender is told Ready and its retry commits.
	committed := fish[*pool.Committed](poolProbe)
	require.EqualValues(t, 1, committed.Checkpoints[10])
	require.EqualValues(t, 11, fish[*pool.RegisterFlow](poolProbe).Spec.Id)
	poolProbe.Reply(&pool.RegisterFlowReply{Flow: 11})
	require.EqualValues(t, 11, fish[*pool.Submit](poolProbe).Batches[0].Flow)
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 11, Upper: 1}}})
	testkit.ExpectMsg[*Ready](second, testkit.DefaultTimeout)
	second.Send(coord, &Consume{From: 1, Upper: 2})
	fish[*pool.Submit](poolProbe)
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 2}, {Flow: 11, Upper: 2}}})
	ok := testkit.ExpectMsg[*ConsumeReply](second, testkit.DefaultTimeout)
	require.NoError(t, ok.Err)
	require.EqualValues(t, 2, ok.Upper)
}

// TestFrozenStoreRead freezes the store under a backfill read: the
// coordinator answers a Status and a Consume meanwhile, the read fails
// after the deadline with a TIMEOUT-coded error naming the table and the
// range, and the next round, with the store thawed, hydrates the flow.
func TestFrozenStoreRead(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	events := testkit.NewProbe(t, sys)
	client := testkit.NewProbe(t, sys)
	store := &memStore{}
	props, err := New(Config{Pool: poolProbe.PID(), Store: store, Events: events.PID(), Upper: 5, StoreTimeout: frozenTimeout, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	store.freeze()
	client.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](client, testkit.DefaultTimeout).Err)
	fish[*pool.RegisterFlow](poolProbe)
	poolProbe.Reply(&pool.RegisterFlowReply{Flow: 10})
	require.Equal(t, "read", <-store.entered, "the backfill read is with the frozen store")

	client.Send(coord, &Status{})
	st := testkit.ExpectMsg[*StatusReply](client, testkit.DefaultTimeout)
	require.Equal(t, ReadingBackfill, st.Phase)
	require.Equal(t, []string{"backfill read of flow 10 [0, 5)"}, st.StoreOps)
	client.Send(coord, &Consume{From: 5, Upper: 6})
	require.ErrorIs(t, testkit.ExpectMsg[*ConsumeReply](client, testkit.DefaultTimeout).Err, ErrBusy)

	err = fishEvent(events, FlowFailed).Err
	require.ErrorIs(t, err, messages.ErrTimeout)
	require.Equal(t, "backfill flow 10: read of table u1 [0, 5): timed out after 500ms", err.Error())
	store.thaw()

	// The next round reads again (at once: the flow failed once) and
	// hydrates the flow.
	testkit.ExpectMsg[*Ready](client, testkit.DefaultTimeout)
	b := fish[*pool.Submit](poolProbe)
	require.EqualValues(t, 0, b.Batches[0].From)
	require.EqualValues(t, 5, b.Batches[0].Upper)
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 5}}})
	require.EqualValues(t, 10, fishEvent(events, Hydrated).Flow)
}

// fishEvent returns the first flow event of kind k, dropping the others.
func fishEvent(events *testkit.Probe, k FlowEventKind) FlowEvent {
	var found FlowEvent
	events.FishFor(func(m any) bool {
		for _, e := range m.(*FlowEvents).Events {
			if e.Kind == k {
				found = e
				return true
			}
		}
		return false
	}, testkit.DefaultTimeout)
	return found
}

func storeTimeouts(t *testing.T, reg *prometheus.Registry) *prometheus.CounterVec {
	t.Helper()
	m, err := newMetrics(reg) // the same description: the registered collectors
	require.NoError(t, err)
	return m.storeTimeouts
}

// TestStopWhileStoreFrozen: stopping the coordinator while a commit waits
// on a frozen store (with a deadline far away) cancels the call and waits
// for the runner's goroutine, so the stop completes and nothing leaks
// (the package's goleak check runs after the tests).
func TestStopWhileStoreFrozen(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	client := testkit.NewProbe(t, sys)
	store := &memStore{}
	props, err := New(Config{Pool: poolProbe.PID(), Store: store, StoreTimeout: time.Hour, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	client.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](client, testkit.DefaultTimeout).Err)
	fish[*pool.RegisterFlow](poolProbe)
	poolProbe.Reply(&pool.RegisterFlowReply{Flow: 10})
	store.freeze()
	client.Send(coord, &Consume{From: 0, Upper: 1})
	fish[*pool.Submit](poolProbe)
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 1}}})
	require.Equal(t, "commit", <-store.entered)

	require.NoError(t, sys.Root.StopFuture(coord).Wait())
	store.mu.Lock()
	defer store.mu.Unlock()
	require.Empty(t, store.commits, "the canceled commit wrote nothing")
}

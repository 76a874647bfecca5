package querytracker

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// Effects as messages: the actor tests' fake Effects forwards every effect
// to a probe, so tests assert on them with ExpectMsg in arrival order.
type (
	effCancelCompute struct {
		Cluster timely.ClusterId
		Uuid    timely.Uuid
		Reason  CancelReason
	}
	effEndExecution struct {
		Execution ExecutionId
		Reason    EndReason
	}
	effCanceled struct {
		Reason CancelReason
		N      int
	}
	effWatchSet struct {
		Execution ExecutionId
	}
)

// probeEffects implements Effects by sending to a probe. InstallWatchSet
// fails for executions in fail and panics for executions in panics (to
// exercise supervision).
type probeEffects struct {
	root   *actor.RootContext
	probe  *actor.PID
	fail   map[ExecutionId]bool
	panics map[ExecutionId]bool
}

func (e *probeEffects) CancelComputePeek(cluster timely.ClusterId, uuid timely.Uuid, reason CancelReason) {
	e.root.Send(e.probe, effCancelCompute{cluster, uuid, reason})
}

func (e *probeEffects) InstallWatchSet(execution ExecutionId, ws WatchSet) error {
	if e.panics[execution] {
		panic("fake effects: install watch set exploded")
	}
	e.root.Send(e.probe, effWatchSet{execution})
	if e.fail[execution] {
		return errWatchSetFailed
	}
	return nil
}

func (e *probeEffects) EndExecution(execution ExecutionId, reason EndReason) {
	e.root.Send(e.probe, effEndExecution{execution, reason})
}

func (e *probeEffects) CountCanceledPeeks(reason CancelReason, n int) {
	e.root.Send(e.probe, effCanceled{reason, n})
}

type actorFixture struct {
	t       *testing.T
	sys     *actor.ActorSystem
	clock   *testkit.ManualClock
	probe   *testkit.Probe
	fx      *probeEffects
	metrics *Metrics
	reg     *prometheus.Registry
	h       *Handle
}

func newActorFixture(t *testing.T) *actorFixture {
	t.Helper()
	sys := testkit.NewSystem(t)
	f := &actorFixture{t: t, sys: sys, clock: testkit.NewManualClock(), probe: testkit.NewProbe(t, sys)}
	f.fx = &probeEffects{root: sys.Root, probe: f.probe.PID(), fail: map[ExecutionId]bool{}, panics: map[ExecutionId]bool{}}
	f.reg = prometheus.NewRegistry()
	var err error
	f.h, err = Spawn(sys.Root, Config{Effects: f.fx, Clock: f.clock, Registerer: f.reg, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	f.metrics = f.h.sh.metrics
	t.Cleanup(func() { _ = f.h.Stop() })
	return f
}

// sync waits until the actor processed everything sent so far (a Dump is
// answered after them) and returns the dump.
func (f *actorFixture) sync() DumpState {
	f.t.Helper()
	b, err := f.h.Dump(testkit.DefaultTimeout)
	require.NoError(f.t, err)
	var d struct {
		Peeks      []PeekInfo        `json:"peeks"`
		Tombstones []TombstoneInfo   `json:"tombstones"`
		Unretired  []json.RawMessage `json:"unretired"`
	}
	require.NoError(f.t, json.Unmarshal(b, &d))
	return DumpState{Peeks: d.Peeks, Tombstones: d.Tombstones, Unretired: make([]Execution, len(d.Unretired))}
}

func track(p, e int, conn timely.ConnectionId, cluster uint64, deps ...timely.GlobalId) TrackPeek {
	return TrackPeek{Uuid: peekId(p), Execution: execId(e), Conn: conn, Cluster: timely.ClusterId{Kind: timely.User, Value: cluster},
		DependsOn: deps, Strategy: StrategyFastPath}
}

func TestActorTracksAndEndsPeeks(t *testing.T) {
	f := newActorFixture(t)
	f.h.Send(track(1, 1, 7, 1))
	f.h.Send(track(2, 2, 7, 1))
	require.Len(t, f.sync().Peeks, 2)
	require.Equal(t, 2.0, value(f.metrics.TrackedPeeks))
	require.Equal(t, 2.0, value(f.metrics.UnretiredExecutions))

	f.h.Send(ObservePeekNotification{Uuid: peekId(1), Notification: Success(5, 50)})
	end := testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout)
	require.Equal(t, effEndExecution{execId(1), EndReason{Kind: EndSuccess, Strategy: StrategyFastPath, Rows: 5, ResultSize: 50}}, end)

	// A late duplicate notification is ignored and counted.
	f.h.Send(ObservePeekNotification{Uuid: peekId(1), Notification: Success(5, 50)})
	f.h.Send(CancelConn{Conn: 7})
	require.Equal(t, effCancelCompute{timely.ClusterId{Kind: timely.User, Value: 1}, peekId(2), ReasonConnection},
		testkit.ExpectMsg[effCancelCompute](f.probe, testkit.DefaultTimeout))
	require.Equal(t, EndCanceled, testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout).Reason.Kind)
	require.Equal(t, effCanceled{ReasonConnection, 1}, testkit.ExpectMsg[effCanceled](f.probe, testkit.DefaultTimeout))
	f.h.Send(ObservePeekNotification{Uuid: peekId(2), Notification: Failure("late")})
	require.Empty(t, f.sync().Peeks)
	f.probe.ExpectNoMsg(20 * time.Millisecond)

	require.Equal(t, 0.0, value(f.metrics.TrackedPeeks))
	require.Equal(t, 0.0, value(f.metrics.UnretiredExecutions))
	require.Equal(t, 1.0, value(f.metrics.CanceledPeeks.WithLabelValues("connection")))
	require.Equal(t, 2.0, value(f.metrics.IgnoredCommands.WithLabelValues("unknown_peek")))
}

func TestActorAcceptsProtobufCommands(t *testing.T) {
	f := newActorFixture(t)
	cluster := &messages.ClusterId{Kind: messages.IdKind_ID_KIND_USER, Value: 3}
	f.probe.Send(f.h.PID(), &messages.QtTrackPeek{
		Uuid:      messages.FromUuid(peekId(1)),
		Conn:      &messages.ConnectionId{Value: 4},
		Cluster:   cluster,
		DependsOn: []*messages.GlobalId{messages.FromGlobalId(timely.UserId(9))},
		Execution: messages.FromUuid(timely.Uuid(execId(1))),
		Strategy:  messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_PERSIST_FAST_PATH,
	})
	f.probe.Send(f.h.PID(), &messages.QtSetExecutionTimestamp{Execution: messages.FromUuid(timely.Uuid(execId(1))), Timestamp: &messages.Timestamp{Millis: 42}})
	f.probe.Send(f.h.PID(), &messages.QtDump{})
	dump := testkit.ExpectMsg[*messages.QtDumpResponse](f.probe, testkit.DefaultTimeout)
	require.Contains(t, string(dump.GetJson()), `"strategy": "persist-fast-path"`)
	require.Contains(t, string(dump.GetJson()), `"timestamp": 42`)

	f.probe.Send(f.h.PID(), &messages.QtCancelByDrop{Collections: []*messages.QtDroppedCollection{
		{Id: messages.FromGlobalId(timely.UserId(9)), Name: `materialized view "mv"`},
	}})
	require.Equal(t, ReasonDropped, testkit.ExpectMsg[effCancelCompute](f.probe, testkit.DefaultTimeout).Reason)
	end := testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout)
	require.Equal(t, `query could not complete because materialized view "mv" was dropped`, end.Reason.Message)
	testkit.ExpectMsg[effCanceled](f.probe, testkit.DefaultTimeout)
	require.Equal(t, 1.0, value(f.metrics.Tombstones))
}

func TestActorIgnoresMalformedInput(t *testing.T) {
	f := newActorFixture(t)
	// A TrackPeek whose cluster is missing: ignored, but the handle it
	// carried is retired and the compute peek is not left running.
	f.probe.Send(f.h.PID(), &messages.QtTrackPeek{
		Uuid:      messages.FromUuid(peekId(1)),
		Conn:      &messages.ConnectionId{Value: 4},
		Execution: messages.FromUuid(timely.Uuid(execId(1))),
		Strategy:  messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_STANDARD,
	})
	end := testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout)
	require.Equal(t, EndError, end.Reason.Kind)
	require.Contains(t, end.Reason.Message, "cluster id is missing")
	// Missing uuid, missing outcome: ignored.
	f.probe.Send(f.h.PID(), &messages.QtUntrackPeek{})
	f.probe.Send(f.h.PID(), &messages.QtObservePeekNotification{Uuid: messages.FromUuid(peekId(1)), Notification: &messages.QtPeekNotification{}})
	// A message of a type the tracker does not handle: answered with a
	// coded error (the sender may be waiting) and counted.
	f.probe.Send(f.h.PID(), &messages.Row{})
	unknown := testkit.ExpectMsg[*messages.UnknownMessageReply](f.probe, testkit.DefaultTimeout)
	require.Equal(t, "arbor.messages.Row", unknown.GetType())
	require.ErrorIs(t, messages.ErrorFromWire(unknown.GetError()), messages.ErrUnknownMessage)
	require.Empty(t, f.sync().Peeks)
	f.probe.ExpectNoMsg(20 * time.Millisecond)
	require.Equal(t, 3.0, value(f.metrics.IgnoredCommands.WithLabelValues("invalid")))
}

func TestActorTombstonesExpireUnderManualClock(t *testing.T) {
	f := newActorFixture(t)
	f.h.Send(CancelByDrop{Clusters: map[timely.ClusterId]string{{Kind: timely.User, Value: 1}: `cluster "c1"`}})
	require.Len(t, f.sync().Tombstones, 1)
	f.clock.Advance(DefaultTombstoneTTL - time.Millisecond)
	f.h.Send(track(1, 1, 1, 1))
	testkit.ExpectMsg[effCancelCompute](f.probe, testkit.DefaultTimeout)
	testkit.ExpectMsg[effCanceled](f.probe, testkit.DefaultTimeout)
	end := testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout)
	require.Equal(t, `query could not complete because cluster "c1" was dropped`, end.Reason.Message)

	f.clock.Advance(time.Millisecond)
	f.h.Send(track(2, 2, 1, 1))
	d := f.sync()
	require.Len(t, d.Peeks, 1)
	require.Empty(t, d.Tombstones)
	require.Equal(t, 0.0, value(f.metrics.Tombstones))
	f.probe.ExpectNoMsg(20 * time.Millisecond)
}

func TestActorWatchSetFailure(t *testing.T) {
	f := newActorFixture(t)
	f.fx.fail[execId(1)] = true
	c := track(1, 1, 1, 1, timely.UserId(4))
	c.WatchSet = &WatchSet{Objects: c.DependsOn, Timestamp: 10}
	f.h.Send(c)
	testkit.ExpectMsg[effWatchSet](f.probe, testkit.DefaultTimeout)
	require.Equal(t, ReasonWatchSetFailed, testkit.ExpectMsg[effCancelCompute](f.probe, testkit.DefaultTimeout).Reason)
	testkit.ExpectMsg[effCanceled](f.probe, testkit.DefaultTimeout)
	require.Equal(t, EndError, testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout).Reason.Kind)
	require.Empty(t, f.sync().Peeks)
	require.Equal(t, 1.0, value(f.metrics.CanceledPeeks.WithLabelValues("watch_set_failed")))
}

func TestHandleSendAfterStop(t *testing.T) {
	f := newActorFixture(t)
	f.h.Send(track(1, 1, 1, 1))
	require.NoError(t, f.h.Stop())
	// The peek still tracked at stop is canceled and its handle retired.
	testkit.ExpectMsg[effCancelCompute](f.probe, testkit.DefaultTimeout)
	end := testkit.ExpectMsg[effEndExecution](f.probe, testkit.DefaultTimeout)
	require.Equal(t, EndReason{Kind: EndError, Message: "query tracker stopped"}, end.Reason)

	done := make(chan struct{})
	go func() {
		defer close(done)
		f.h.Send(track(2, 2, 1, 1))
		f.h.Send(CancelConn{Conn: 1})
	}()
	select {
	case <-done:
	case <-time.After(testkit.DefaultTimeout):
		t.Fatal("Send blocked on a stopped tracker")
	}
	require.Equal(t, 2.0, value(f.metrics.SendsAfterStop))
	_, err := f.h.Dump(time.Second)
	require.True(t, errors.Is(err, ErrTrackerStopped), "dump after stop: %v", err)
	require.NoError(t, f.h.Stop(), "stopping twice")
}

func TestActorRestartRetiresWhatItHeld(t *testing.T) {
	f := newActorFixture(t)
	f.h.Send(track(1, 1, 1, 1))
	f.fx.panics[execId(2)] = true
	c := track(2, 2, 1, 1)
	c.WatchSet = &WatchSet{Timestamp: 1}
	f.h.Send(c) // panics inside Receive; the supervisor restarts the actor

	ends := map[ExecutionId]EndReason{}
	for len(ends) < 2 {
		m := f.probe.FishFor(func(m any) bool { _, ok := m.(effEndExecution); return ok }, testkit.DefaultTimeout).(effEndExecution)
		ends[m.Execution] = m.Reason
	}
	require.Equal(t, "query tracker restarted", ends[execId(1)].Message)
	require.Equal(t, "query tracker restarted", ends[execId(2)].Message)

	// The new incarnation works.
	f.h.Send(track(3, 3, 1, 1))
	d := f.sync()
	require.Len(t, d.Peeks, 1)
	require.True(t, strings.HasSuffix(d.Peeks[0].Uuid, "0003"))
}

// value reads a gauge or counter (prometheus/testutil would pull in a
// module go.sum does not have).
func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if g := out.GetGauge(); g != nil {
		return g.GetValue()
	}
	return out.GetCounter().GetValue()
}

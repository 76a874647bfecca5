package coordinator

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// memStore is a Store for actor tests: table reads from nowhere, commits
// recorded, failed on demand, or frozen: a frozen call blocks until its
// context ends (and fails with the context's error) or until thaw.
type memStore struct {
	mu      sync.Mutex
	commits []Commit
	fail    bool
	cps     map[pool.FlowId]timely.Timestamp
	cpErr   error         // returned once by Checkpoints
	frozen  chan struct{} // non-nil while frozen; closed by thaw
	entered chan string   // receives the name of each call that froze
}

func (s *memStore) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = make(chan struct{})
	s.entered = make(chan string, 16)
}

func (s *memStore) thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		close(s.frozen)
		s.frozen = nil
	}
}

// wait blocks a call while the store is frozen.
func (s *memStore) wait(ctx context.Context, call string) error {
	s.mu.Lock()
	frozen, entered := s.frozen, s.entered
	s.mu.Unlock()
	if frozen == nil {
		return nil
	}
	entered <- call
	select {
	case <-frozen:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *memStore) Read(ctx context.Context, _ pool.Source, _, _ timely.Timestamp) ([]dataflow.Update, error) {
	return nil, s.wait(ctx, "read")
}

func (s *memStore) Commit(ctx context.Context, c Commit) error {
	if err := s.wait(ctx, "commit"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("injected")
	}
	s.commits = append(s.commits, c)
	return nil
}

func (s *memStore) Checkpoints(context.Context) (map[pool.FlowId]timely.Timestamp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cpErr; err != nil {
		s.cpErr = nil
		return nil, err
	}
	return s.cps, nil
}

var table = timely.UserId(1)

func tableSpec(t *testing.T, id pool.FlowId) pool.FlowSpec {
	w := &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(table)}}}
	plan, err := dataflow.Compile(w, map[timely.GlobalId]dataflow.Schema{table: {{Name: "x", Type: dataflow.TypeInt64}}})
	require.NoError(t, err)
	return pool.FlowSpec{Id: id, Export: timely.UserId(uint64(id)), Plan: plan, Sources: []pool.Source{{Id: table, Kind: pool.SourceTable}}}
}

// fish takes the next message of type T from p, dropping others.
func fish[T any](p *testkit.Probe) T {
	return p.FishFor(func(m any) bool { _, ok := m.(T); return ok }, testkit.DefaultTimeout).(T)
}

// TestConsumeWhileBusy drives the actor with a probe as its pool: a
// Consume that arrives while a batch is with the pool is answered busy,
// the first is answered once committed, and the busy sender is told Ready.
func TestConsumeWhileBusy(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	first := testkit.NewProbe(t, sys)
	second := testkit.NewProbe(t, sys)
	store := &memStore{}
	props, err := New(Config{Pool: poolProbe.PID(), Store: store, Registerer: prometheus.NewRegistry(), Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	first.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](first, testkit.DefaultTimeout).Err)
	reg1 := testkit.ExpectMsg[*pool.RegisterFlow](poolProbe, testkit.DefaultTimeout)
	require.EqualValues(t, 10, reg1.Spec.Id)
	poolProbe.Reply(&pool.RegisterFlowReply{Flow: 10})

	changes := map[timely.GlobalId][]dataflow.Update{table: {{Row: dataflow.Row{dataflow.Int64(1)}, Time: 0, Diff: 1}}}
	first.Send(coord, &Consume{From: 0, Upper: 1, Changes: changes})
	sub := testkit.ExpectMsg[*pool.Submit](poolProbe, testkit.DefaultTimeout)
	require.Len(t, sub.Batches, 1)

	second.Send(coord, &Consume{From: 1, Upper: 2})
	busy := testkit.ExpectMsg[*ConsumeReply](second, testkit.DefaultTimeout)
	require.ErrorIs(t, busy.Err, ErrBusy)
	require.Contains(t, busy.Err.Error(), "coordinator busy")

	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 1}}})
	ok := testkit.ExpectMsg[*ConsumeReply](first, testkit.DefaultTimeout)
	require.NoError(t, ok.Err)
	require.EqualValues(t, 1, ok.Upper)
	testkit.ExpectMsg[*Ready](second, testkit.DefaultTimeout)
	committed := testkit.ExpectMsg[*pool.Committed](poolProbe, testkit.DefaultTimeout)
	require.EqualValues(t, 1, committed.Checkpoints[10])

	// The retry goes through.
	second.Send(coord, &Consume{From: 1, Upper: 2})
	testkit.ExpectMsg[*pool.Submit](poolProbe, testkit.DefaultTimeout)
	store.mu.Lock()
	store.fail = true
	store.mu.Unlock()
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 2}}})
	// A failed commit: the flow is rebuilt and backfills from checkpoint 1
	// in the same cycle; then the reply carries the commit's error.
	testkit.ExpectMsg[*pool.Rebuild](poolProbe, testkit.DefaultTimeout)
	backfill := testkit.ExpectMsg[*pool.Submit](poolProbe, testkit.DefaultTimeout)
	require.EqualValues(t, 1, backfill.Batches[0].From)
	store.mu.Lock()
	store.fail = false
	store.mu.Unlock()
	poolProbe.Reply(&pool.SubmitReply{Results: []pool.FlowResult{{Flow: 10, Upper: 2}}})
	failed := testkit.ExpectMsg[*ConsumeReply](second, testkit.DefaultTimeout)
	require.ErrorIs(t, failed.Err, ErrCommit)
	store.mu.Lock()
	require.Len(t, store.commits, 2)
	require.EqualValues(t, 2, store.commits[1].Checkpoints[10])
	store.mu.Unlock()
}

// TestInstallAfterCheckpointsFail: when the committed checkpoints cannot
// be read, the install waiting for them fails with ErrCheckpoints naming
// the flow; the next install reads them again and starts from the
// durable checkpoint.
func TestInstallAfterCheckpointsFail(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	client := testkit.NewProbe(t, sys)
	store := &memStore{cpErr: errors.New("injected"), cps: map[pool.FlowId]timely.Timestamp{10: 4}}
	props, err := New(Config{Pool: poolProbe.PID(), Store: store, Upper: 4, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	client.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	r := testkit.ExpectMsg[*InstallFlowReply](client, testkit.DefaultTimeout)
	require.ErrorIs(t, r.Err, ErrCheckpoints)
	require.Equal(t, "coordinator: committed checkpoints unavailable for flow 10: injected", r.Err.Error())

	client.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	r = testkit.ExpectMsg[*InstallFlowReply](client, testkit.DefaultTimeout)
	require.NoError(t, r.Err)
	require.EqualValues(t, 4, r.Checkpoint)
	require.EqualValues(t, 4, testkit.ExpectMsg[*pool.RegisterFlow](poolProbe, testkit.DefaultTimeout).Checkpoint)
}

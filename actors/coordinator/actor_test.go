package coordinator

import (
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
// recorded (or failed on demand).
type memStore struct {
	mu      sync.Mutex
	commits []Commit
	fail    bool
	cps     map[pool.FlowId]timely.Timestamp
}

func (s *memStore) Read(pool.Source, timely.Timestamp, timely.Timestamp) ([]dataflow.Update, error) {
	return nil, nil
}

func (s *memStore) Commit(c Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("injected")
	}
	s.commits = append(s.commits, c)
	return nil
}

func (s *memStore) Checkpoints() (map[pool.FlowId]timely.Timestamp, error) {
	return s.cps, nil
}

// TestConsumeWhileBusy drives the actor with a probe as its pool: a
// Consume that arrives while a batch is with the pool is answered busy,
// the first is answered once committed, and the busy sender is told Ready.
func TestConsumeWhileBusy(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	first := testkit.NewProbe(t, sys)
	second := testkit.NewProbe(t, sys)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	store := &memStore{}
	props, err := Props(Options{Pool: poolProbe.PID(), Store: store, Metrics: m, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)

	table := timely.UserId(1)
	w := &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(table)}}}
	plan, err := dataflow.Compile(w, map[timely.GlobalId]dataflow.Schema{table: {{Name: "x", Type: dataflow.TypeInt64}}})
	require.NoError(t, err)
	spec := pool.FlowSpec{Id: 10, Export: timely.UserId(10), Plan: plan, Sources: []pool.Source{{Id: table, Kind: pool.SourceTable}}}
	first.Send(coord, &InstallFlow{Spec: spec})
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

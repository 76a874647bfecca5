package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Commands for the connection tests, at epoch 1.inc.

func at(inc uint64, c any) *messages.ComputeCommand {
	m := &messages.ComputeCommand{Epoch: &messages.ComputeEpoch{Environment: 1, Incarnation: inc}}
	switch c := c.(type) {
	case *messages.ComputeCommand_Hello:
		m.Command = c
	case *messages.ComputeCommand_CreateInstance:
		m.Command = c
	case *messages.ComputeCommand_InitializationComplete:
		m.Command = c
	case *messages.ComputeCommand_CreateDataflow:
		m.Command = c
	case *messages.ComputeCommand_Schedule:
		m.Command = c
	case *messages.ComputeCommand_AllowCompaction:
		m.Command = c
	case *messages.ComputeCommand_Peek:
		m.Command = c
	case nil:
	default:
		panic(fmt.Sprintf("%T", c))
	}
	return m
}

var (
	hello    = &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}
	create   = &messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{}}
	initDone = &messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}}
	peek     = &messages.ComputeCommand_Peek{Peek: &messages.ComputePeek{}}
)

func schedule(id uint64) *messages.ComputeCommand_Schedule {
	return &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: messages.FromGlobalId(timely.UserId(id))}}
}

func compact(id uint64, f timely.Frontier) *messages.ComputeCommand_AllowCompaction {
	return &messages.ComputeCommand_AllowCompaction{AllowCompaction: &messages.ComputeAllowCompaction{Id: messages.FromGlobalId(timely.UserId(id)), Frontier: messages.FromFrontier(f)}}
}

// df describes a dataflow exporting index u<id> over table u1 at asOf;
// variant changes its plan.
func df(id uint64, asOf timely.Timestamp, variant uint64) *messages.ComputeCommand_CreateDataflow {
	obj := messages.FromGlobalId(timely.UserId(100 + id))
	plan := &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(timely.UserId(1 + variant))}}}
	return &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: &messages.ComputeDataflowDescription{
		SourceImports:  []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(timely.UserId(1 + variant))}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: obj, Plan: plan}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(timely.UserId(id)), On: obj}},
		AsOf:           messages.FromFrontier(timely.At(asOf)),
		DebugName:      fmt.Sprintf("df%d", id),
	}}}
}

// summary prints effects in one line for the tables.
func summary(e Effects) string {
	var parts []string
	if e.Connected {
		parts = append(parts, "connected")
	}
	if e.Stale {
		parts = append(parts, "stale")
	}
	if e.Err != nil {
		code := messages.CodeOf(e.Err)
		parts = append(parts, "err="+strings.TrimPrefix(code.String(), "ERROR_CODE_"))
	}
	for _, id := range e.Drop {
		parts = append(parts, "drop="+id.String())
	}
	for _, k := range e.Keep {
		parts = append(parts, fmt.Sprintf("keep=%s@%d", k.Dataflow.Exports[0], k.AsOf))
	}
	for _, d := range e.Build {
		parts = append(parts, "build="+d.Exports[0].String())
	}
	for _, o := range []Outcome{OutcomeKept, OutcomeRebuilt, OutcomeDropped} {
		if n := e.Reconciled[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, n))
		}
	}
	if e.Initialized {
		parts = append(parts, "initialized")
	}
	if e.Apply != nil {
		parts = append(parts, "apply="+strings.ReplaceAll(commandName(e.Apply), " ", "-"))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func TestConnection(t *testing.T) {
	type step struct {
		cmd  *messages.ComputeCommand
		want string
	}
	cases := []struct {
		name  string
		steps []step
		stage Stage
		live  []uint64
	}{
		{"stages in order", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(1, initDone), "initialized"},
			{at(1, schedule(10)), "apply=schedule"},
			{at(1, peek), "apply=peek"},
		}, StageComputation, []uint64{10}},
		{"nothing before hello", []step{
			{at(1, create), "err=INVALID_ARGUMENT"},
			{at(1, df(10, 5, 0)), "err=INVALID_ARGUMENT"},
			{at(0, peek), "err=INVALID_ARGUMENT"},
		}, StageDisconnected, nil},
		{"out of stage", []step{
			{at(1, hello), "connected"},
			{at(1, df(10, 5, 0)), "err=INVALID_ARGUMENT"},
			{at(1, initDone), "err=INVALID_ARGUMENT"},
			{at(1, create), "apply=create-instance"},
			{at(1, create), "err=INVALID_ARGUMENT"},
			{at(1, initDone), "initialized"},
			{at(1, initDone), "err=INVALID_ARGUMENT"},
			{at(1, hello), "err=INVALID_ARGUMENT"},
			{at(1, nil), "err=INVALID_ARGUMENT"},
		}, StageComputation, nil},
		{"stale and future epochs", []step{
			{at(2, hello), "connected"},
			{at(2, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "stale err=STALE_EPOCH"},
			{at(1, hello), "stale err=STALE_EPOCH"},
			{at(3, schedule(10)), "err=INVALID_ARGUMENT"},
			{at(2, initDone), "initialized"},
		}, StageComputation, nil},
		{"unknown and duplicate collections", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, schedule(10)), "err=NOT_FOUND"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(1, df(10, 5, 0)), "err=ALREADY_EXISTS"},
			{at(1, compact(11, timely.At(6))), "err=NOT_FOUND"},
		}, StageInitialization, []uint64{10}},
		{"compaction to the empty frontier drops", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(1, compact(10, timely.At(7))), "apply=allow-compaction"},
			{at(1, compact(10, timely.Closed())), "drop=u10"},
			{at(1, schedule(10)), "err=NOT_FOUND"},
			{at(1, df(10, 5, 0)), "build=u10"},
		}, StageInitialization, []uint64{10}},
		{"reconcile: compatible kept, incompatible rebuilt, unmentioned dropped", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(1, df(11, 5, 0)), "build=u11"},
			{at(1, df(12, 5, 0)), "build=u12"},
			{at(1, df(13, 5, 0)), "build=u13"},
			{at(1, initDone), "initialized"},
			{at(2, hello), "connected"},
			{at(2, create), "apply=create-instance"},
			// a later as_of is served by the installed flows
			{at(2, df(10, 8, 0)), "keep=u10@8 kept=1"},
			// another plan is not
			{at(2, df(11, 5, 1)), "drop=u11 build=u11 rebuilt=1"},
			// nor an earlier as_of
			{at(2, df(12, 4, 0)), "drop=u12 build=u12 rebuilt=1"},
			{at(2, df(14, 5, 0)), "build=u14"},
			{at(2, df(10, 8, 0)), "err=ALREADY_EXISTS"},
			{at(2, initDone), "drop=u13 dropped=1 initialized"},
		}, StageComputation, []uint64{10, 11, 12, 14}},
		{"reconcile: compacted past the replayed as_of rebuilds", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(1, compact(10, timely.At(9))), "apply=allow-compaction"},
			{at(1, initDone), "initialized"},
			{at(2, hello), "connected"},
			{at(2, create), "apply=create-instance"},
			{at(2, df(10, 8, 0)), "drop=u10 build=u10 rebuilt=1"},
			{at(2, initDone), "initialized"},
		}, StageComputation, []uint64{10}},
		{"a newer hello mid-initialization starts over", []step{
			{at(1, hello), "connected"},
			{at(1, create), "apply=create-instance"},
			{at(1, df(10, 5, 0)), "build=u10"},
			{at(2, hello), "connected"},
			{at(1, initDone), "stale err=STALE_EPOCH"},
			{at(2, create), "apply=create-instance"},
			{at(2, initDone), "drop=u10 dropped=1 initialized"},
		}, StageComputation, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConnection()
			for i, s := range tc.steps {
				got := summary(c.Step(s.cmd))
				require.Equal(t, s.want, got, "step %d: %s at %s", i, commandName(s.cmd), EpochOf(s.cmd.GetEpoch()))
			}
			require.Equal(t, tc.stage, c.Stage())
			var live []uint64
			for _, d := range c.Dataflows() {
				for _, id := range d.Exports {
					if d.Live(id) {
						live = append(live, id.Value)
					}
				}
			}
			slices.Sort(live)
			require.Equal(t, tc.live, live)
		})
	}
}

func TestConnectionErrorsAreCoded(t *testing.T) {
	c := NewConnection()
	c.Step(at(2, hello))
	eff := c.Step(at(1, schedule(1)))
	require.True(t, errors.Is(eff.Err, ErrStaleEpoch))
	require.True(t, errors.Is(eff.Err, messages.ErrStaleEpoch))
	require.Contains(t, eff.Err.Error(), "epoch 1.1, the connection is at 1.2")
	c.Step(at(2, create))
	eff = c.Step(at(2, schedule(7)))
	require.Equal(t, "u7", messages.ErrorToWire(eff.Err).GetObject())
}

func TestDataflowSince(t *testing.T) {
	c := NewConnection()
	c.Step(at(1, hello))
	c.Step(at(1, create))
	eff := c.Step(at(1, df(10, 5, 0)))
	d := eff.Build[0]
	require.EqualValues(t, 5, d.Since())
	c.Step(at(1, compact(10, timely.At(3)))) // below the as_of: no effect
	require.EqualValues(t, 5, d.Since())
	c.Step(at(1, compact(10, timely.At(9))))
	require.EqualValues(t, 9, d.Since())
	require.EqualValues(t, 9, d.Compaction(timely.UserId(10)))
}

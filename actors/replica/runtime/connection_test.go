package runtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
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

// TestConnectionScripts runs the scripts in testdata/connection against a
// Connection. Each step prints its effects; state prints the epoch, the
// stage and the installed dataflows. Regenerate with
// `go test ./actors/replica/runtime -run TestConnectionScripts -rewrite`
// and review the diff like code.
//
//	step inc=<n> hello|create-instance|init-complete|peek|empty
//	step inc=<n> create-dataflow id=<n> as_of=<t> [variant=<n>]
//	    a dataflow exporting index u<id> over table u<1+variant>
//	step inc=<n> schedule id=<n>
//	step inc=<n> compact id=<n> (to=<t> | closed)
//	state
func TestConnectionScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/connection", func(t *testing.T, path string) {
		c := NewConnection()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "step":
				return summary(c.Step(scriptCommand(t, d))) + "\n"
			case "state":
				var b strings.Builder
				fmt.Fprintf(&b, "epoch=%s stage=%s\n", c.Epoch(), c.Stage())
				for _, df := range c.Dataflows() {
					fmt.Fprintf(&b, "%s as_of=%d since=%d", df.Desc.GetDebugName(), df.AsOf, df.Since())
					for _, id := range df.Exports {
						if !df.Live(id) {
							fmt.Fprintf(&b, " dropped=%s", id)
						}
					}
					b.WriteString("\n")
				}
				return b.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func scriptCommand(t *testing.T, d *datadriven.TestData) *messages.ComputeCommand {
	var inc, id, asOf, variant, to uint64
	d.ScanArgs(t, "inc", &inc)
	arg := func(key string, v *uint64) {
		if d.HasArg(key) {
			d.ScanArgs(t, key, v)
		}
	}
	arg("id", &id)
	arg("as_of", &asOf)
	arg("variant", &variant)
	arg("to", &to)
	switch {
	case d.HasArg("hello"):
		return at(inc, hello)
	case d.HasArg("create-instance"):
		return at(inc, create)
	case d.HasArg("init-complete"):
		return at(inc, initDone)
	case d.HasArg("peek"):
		return at(inc, peek)
	case d.HasArg("empty"):
		return at(inc, nil)
	case d.HasArg("create-dataflow"):
		return at(inc, df(id, timely.Timestamp(asOf), variant))
	case d.HasArg("schedule"):
		return at(inc, schedule(id))
	case d.HasArg("compact"):
		f := timely.At(timely.Timestamp(to))
		if d.HasArg("closed") {
			f = timely.Closed()
		}
		return at(inc, compact(id, f))
	}
	t.Fatalf("step: no command in %q", d.Input)
	return nil
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

// importing describes a dataflow exporting index u<id> over index u<of>,
// imported.
func importing(id, of uint64) *messages.ComputeCommand_CreateDataflow {
	obj := messages.FromGlobalId(timely.UserId(100 + id))
	on := messages.FromGlobalId(timely.UserId(100 + of))
	return &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: &messages.ComputeDataflowDescription{
		IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(timely.UserId(of)), On: on}},
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: obj, Plan: &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: on}}}}},
		IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(timely.UserId(id)), On: obj}},
		AsOf:           messages.FromFrontier(timely.At(0)),
		DebugName:      fmt.Sprintf("imports%d", of),
	}}}
}

// TestReconcileDropsReadersFirst: a replaced dataflow takes its readers
// (transitively) with it, readers first, and they are built again from
// their own CreateDataflow; InitializationComplete drops the unmentioned
// readers before what they read; a reader kept earlier in the replay makes
// the replacement a refused command, with nothing changed.
func TestReconcileDropsReadersFirst(t *testing.T) {
	c := NewConnection()
	step := func(inc uint64, cmd any) string { return summary(c.Step(at(inc, cmd))) }
	require.Equal(t, "connected", step(1, hello))
	step(1, create)
	require.Equal(t, "build=u10", step(1, df(10, 0, 0)))
	require.Equal(t, "build=u20", step(1, importing(20, 10)))
	require.Equal(t, "build=u30", step(1, importing(30, 20)))
	step(1, initDone)

	// u10 changes: u30 and u20 (readers first) go, then u10.
	step(2, hello)
	step(2, create)
	require.Equal(t, "drop=u30 drop=u20 drop=u10 build=u10 rebuilt=3", step(2, df(10, 0, 1)))
	require.Equal(t, "build=u20", step(2, importing(20, 10)))
	require.Equal(t, "build=u30", step(2, importing(30, 20)))
	require.Equal(t, "initialized", step(2, initDone))

	// Nothing mentioned: dropped latest first.
	step(3, hello)
	step(3, create)
	require.Equal(t, "drop=u30 drop=u20 drop=u10 dropped=3 initialized", step(3, initDone))

	// A reader kept before the dataflow it reads is replaced (a replay
	// out of order): refused, nothing dropped.
	step(4, hello)
	step(4, create)
	step(4, df(10, 0, 0))
	step(4, importing(20, 10))
	step(4, initDone)
	step(5, hello)
	step(5, create)
	require.Equal(t, "keep=u20@0 kept=1", step(5, importing(20, 10)))
	require.Equal(t, "err=INVALID_ARGUMENT", step(5, df(10, 0, 1)))
	require.Equal(t, "keep=u10@0 kept=1", step(5, df(10, 0, 0)))
	require.Equal(t, "initialized", step(5, initDone))
	require.Len(t, c.Dataflows(), 2)
}

package instance

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestHistoryScripts runs the scripted cases in testdata/history*.txt, one
// or more per reduction rule. Regenerate the expected output with
// `go test ./actors/instance -run TestHistoryScripts -rewrite` and review
// the diff like code.
//
// Directives (a fresh history per file; `reset` starts another):
//
//	reset                  a new, empty history
//	push                   push each input line (a command, syntax below); prints len
//	retire-peek p<n>       RetirePeek of peek n
//	reduce                 Reduce, then print the commands
//	commands               print the commands without reducing
//	counts                 print the non-zero counts by kind and the dataflow count
//	replay epoch=<e>.<i>   Replay at that epoch, print the envelopes
//
// Commands, one a line, as parseCommand reads and formatCommand prints them:
//
//	hello <n>                                        nonce n
//	create-instance <name>
//	update-configuration k=v ...
//	create-dataflow <name> as_of=<t|[]> [index=(u1,..)] [sink=(u2,..)] [imports=(u3,..)]
//	schedule <id>
//	allow-writes <id>
//	allow-compaction <id> <t|[]>
//	peek p<n> index=<id> ts=<t>      or   peek p<n> persist=<id> ts=<t>
//	cancel-peek p<n>
//	initialization-complete
func TestHistoryScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/history", func(t *testing.T, path string) {
		if !strings.HasPrefix(path[strings.LastIndex(path, "/")+1:], "history") {
			t.Skip("not a history script")
		}
		h := NewHistory()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "reset":
				h = NewHistory()
				return "ok\n"
			case "push":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					cmd, err := parseCommand(line)
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					h.Push(cmd)
				}
				return fmt.Sprintf("len=%d\n", h.Len())
			case "retire-peek":
				h.RetirePeek(peekUuid(mustAtoi(t, strings.TrimPrefix(d.CmdArgs[0].Key, "p"))))
				return "ok\n"
			case "reduce":
				h.Reduce()
				return formatCommands(h.Commands())
			case "commands":
				return formatCommands(h.Commands())
			case "counts":
				var b strings.Builder
				for _, k := range CommandKinds() {
					if n := h.CommandCount(k); n > 0 {
						fmt.Fprintf(&b, "%s=%d ", k, n)
					}
				}
				fmt.Fprintf(&b, "dataflows=%d\n", h.DataflowCount())
				return b.String()
			case "replay":
				var e string
				d.ScanArgs(t, "epoch", &e)
				env, inc, _ := strings.Cut(e, ".")
				epoch := &messages.ComputeEpoch{Environment: uint64(mustAtoi(t, env)), Incarnation: uint64(mustAtoi(t, inc))}
				return formatCommands(h.Replay(epoch))
			}
			d.Fatalf(t, "unknown directive %q", d.Cmd)
			return ""
		})
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// ---------------------------------------------------------------------------
// Building commands (shared with the property test)

// peekUuid is the uuid of test peek n: p<n> in scripts.
func peekUuid(n int) timely.Uuid {
	var u timely.Uuid
	binary.BigEndian.PutUint64(u[8:], uint64(n))
	return u
}

func peekNumber(x *messages.Uuid) string {
	u, _ := x.ToTimely()
	if binary.BigEndian.Uint64(u[:8]) != 0 {
		return u.String()
	}
	return "p" + strconv.FormatUint(binary.BigEndian.Uint64(u[8:]), 10)
}

func helloCmd(n int) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{Nonce: messages.FromUuid(peekUuid(n))}}}
}

func createInstanceCmd(name string) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{
		Config: &messages.ComputeInstanceConfig{ReplicaName: name},
	}}}
}

func configCmd(params map[string]string) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_UpdateConfiguration{UpdateConfiguration: &messages.ComputeUpdateConfiguration{Params: params}}}
}

// dataflowSpec is what the tests vary in a dataflow description.
type dataflowSpec struct {
	name    string
	asOf    timely.Frontier
	indexes []timely.GlobalId // index exports
	sinks   []timely.GlobalId // materialized-view sink exports
	imports []timely.GlobalId // index imports
}

func dataflowCmd(s dataflowSpec) *messages.ComputeCommand {
	d := &messages.ComputeDataflowDescription{
		AsOf:      messages.FromFrontier(s.asOf),
		Until:     messages.FromFrontier(timely.Closed()),
		DebugName: s.name,
	}
	for _, id := range s.imports {
		d.IndexImports = append(d.IndexImports, &messages.ComputeIndexImport{Id: messages.FromGlobalId(id)})
	}
	built := messages.FromGlobalId(timely.TransientId(uint64(len(s.name))))
	d.ObjectsToBuild = []*messages.ComputeBuildDesc{{Id: built}}
	for _, id := range s.indexes {
		d.IndexExports = append(d.IndexExports, &messages.ComputeIndexExport{Id: messages.FromGlobalId(id), On: built, Key: []uint32{0}})
	}
	for _, id := range s.sinks {
		d.SinkExports = append(d.SinkExports, &messages.ComputeSinkExport{
			Id: messages.FromGlobalId(id), From: built,
			Connection: &messages.ComputeSinkExport_MaterializedView{MaterializedView: &messages.ComputeMaterializedViewSink{
				StorageCollection: messages.FromGlobalId(timely.SystemId(id.Value)),
			}},
		})
	}
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: d}}}
}

func scheduleCmd(id timely.GlobalId) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: messages.FromGlobalId(id)}}}
}

func allowWritesCmd(id timely.GlobalId) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_AllowWrites{AllowWrites: &messages.ComputeAllowWrites{Id: messages.FromGlobalId(id)}}}
}

func compactionCmd(id timely.GlobalId, f timely.Frontier) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_AllowCompaction{AllowCompaction: &messages.ComputeAllowCompaction{
		Id: messages.FromGlobalId(id), Frontier: messages.FromFrontier(f),
	}}}
}

// peekCmd peeks at index target, or at storage collection target when
// persist is set.
func peekCmd(n int, target timely.GlobalId, persist bool, ts timely.Timestamp) *messages.ComputeCommand {
	p := &messages.ComputePeek{Uuid: messages.FromUuid(peekUuid(n)), Timestamp: uint64(ts)}
	if persist {
		p.Target = &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(target)}}
	} else {
		p.Target = &messages.ComputePeek_Index{Index: messages.FromGlobalId(target)}
	}
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_Peek{Peek: p}}
}

func cancelPeekCmd(n int) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{Uuid: messages.FromUuid(peekUuid(n))}}}
}

func initCompleteCmd() *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}}}
}

// ---------------------------------------------------------------------------
// The text form of commands

func formatFrontier(f *messages.Frontier) string {
	tf, err := f.ToTimely()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	if t, ok := tf.Time(); ok {
		return t.String()
	}
	return "[]"
}

func formatId(x *messages.GlobalId) string {
	id, err := x.ToTimely()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return id.String()
}

func formatIds[T any](xs []T, id func(T) *messages.GlobalId) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = formatId(id(x))
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// formatCommand prints cmd in the script syntax, prefixed with its epoch
// ("@2.1 ") when it has one.
func formatCommand(cmd *messages.ComputeCommand) string {
	var b strings.Builder
	if e := cmd.GetEpoch(); e != nil {
		fmt.Fprintf(&b, "@%d.%d ", e.Environment, e.Incarnation)
	}
	switch c := cmd.GetCommand().(type) {
	case *messages.ComputeCommand_Hello:
		b.WriteString("hello " + strings.TrimPrefix(peekNumber(c.Hello.Nonce), "p"))
	case *messages.ComputeCommand_CreateInstance:
		b.WriteString("create-instance " + c.CreateInstance.GetConfig().GetReplicaName())
	case *messages.ComputeCommand_UpdateConfiguration:
		b.WriteString("update-configuration")
		for _, k := range slices.Sorted(maps.Keys(c.UpdateConfiguration.Params)) {
			fmt.Fprintf(&b, " %s=%s", k, c.UpdateConfiguration.Params[k])
		}
	case *messages.ComputeCommand_CreateDataflow:
		d := c.CreateDataflow.Dataflow
		fmt.Fprintf(&b, "create-dataflow %s as_of=%s", d.DebugName, formatFrontier(d.AsOf))
		if len(d.IndexExports) > 0 {
			b.WriteString(" index=" + formatIds(d.IndexExports, (*messages.ComputeIndexExport).GetId))
		}
		if len(d.SinkExports) > 0 {
			b.WriteString(" sink=" + formatIds(d.SinkExports, (*messages.ComputeSinkExport).GetId))
		}
		if len(d.IndexImports) > 0 {
			b.WriteString(" imports=" + formatIds(d.IndexImports, (*messages.ComputeIndexImport).GetId))
		}
	case *messages.ComputeCommand_Schedule:
		b.WriteString("schedule " + formatId(c.Schedule.Id))
	case *messages.ComputeCommand_AllowWrites:
		b.WriteString("allow-writes " + formatId(c.AllowWrites.Id))
	case *messages.ComputeCommand_AllowCompaction:
		b.WriteString("allow-compaction " + formatId(c.AllowCompaction.Id) + " " + formatFrontier(c.AllowCompaction.Frontier))
	case *messages.ComputeCommand_Peek:
		fmt.Fprintf(&b, "peek %s ", peekNumber(c.Peek.Uuid))
		switch tg := c.Peek.Target.(type) {
		case *messages.ComputePeek_Index:
			b.WriteString("index=" + formatId(tg.Index))
		case *messages.ComputePeek_Persist:
			b.WriteString("persist=" + formatId(tg.Persist.Id))
		}
		fmt.Fprintf(&b, " ts=%d", c.Peek.Timestamp)
	case *messages.ComputeCommand_CancelPeek:
		b.WriteString("cancel-peek " + peekNumber(c.CancelPeek.Uuid))
	case *messages.ComputeCommand_InitializationComplete:
		b.WriteString("initialization-complete")
	default:
		b.WriteString("<no command>")
	}
	return b.String()
}

func formatCommands(cmds []*messages.ComputeCommand) string {
	if len(cmds) == 0 {
		return "(empty)\n"
	}
	var b strings.Builder
	for _, cmd := range cmds {
		b.WriteString(formatCommand(cmd) + "\n")
	}
	return b.String()
}

func parseFrontier(s string) (timely.Frontier, error) {
	if s == "[]" {
		return timely.Closed(), nil
	}
	t, err := strconv.ParseUint(s, 10, 64)
	return timely.At(timely.Timestamp(t)), err
}

func parseIdList(s string) ([]timely.GlobalId, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	var ids []timely.GlobalId
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		id, err := timely.ParseGlobalId(p)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// parseCommand reads one command of the script syntax (see
// TestHistoryScripts).
func parseCommand(line string) (*messages.ComputeCommand, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	verb, args := fields[0], fields[1:]
	kv := make(map[string]string)
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	peekN := func(s string) (int, error) { return strconv.Atoi(strings.TrimPrefix(s, "p")) }
	switch verb {
	case "hello":
		n, err := strconv.Atoi(arg(0))
		return helloCmd(n), err
	case "create-instance":
		return createInstanceCmd(arg(0)), nil
	case "update-configuration":
		return configCmd(kv), nil
	case "create-dataflow":
		s := dataflowSpec{name: arg(0)}
		var err error
		if s.asOf, err = parseFrontier(kv["as_of"]); err != nil {
			return nil, fmt.Errorf("%s: as_of: %w", line, err)
		}
		for k, dst := range map[string]*[]timely.GlobalId{"index": &s.indexes, "sink": &s.sinks, "imports": &s.imports} {
			if *dst, err = parseIdList(kv[k]); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", line, k, err)
			}
		}
		return dataflowCmd(s), nil
	case "schedule", "allow-writes", "allow-compaction":
		id, err := timely.ParseGlobalId(arg(0))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", line, err)
		}
		switch verb {
		case "schedule":
			return scheduleCmd(id), nil
		case "allow-writes":
			return allowWritesCmd(id), nil
		}
		f, err := parseFrontier(arg(1))
		return compactionCmd(id, f), err
	case "peek":
		n, err := peekN(arg(0))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", line, err)
		}
		ts, err := strconv.ParseUint(kv["ts"], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: ts: %w", line, err)
		}
		target, persist := kv["index"], false
		if p, ok := kv["persist"]; ok {
			target, persist = p, true
		}
		id, err := timely.ParseGlobalId(target)
		return peekCmd(n, id, persist, timely.Timestamp(ts)), err
	case "cancel-peek":
		n, err := peekN(arg(0))
		return cancelPeekCmd(n), err
	case "initialization-complete":
		return initCompleteCmd(), nil
	}
	return nil, fmt.Errorf("unknown command %q", verb)
}

// ---------------------------------------------------------------------------
// Go tests of what scripts do not show well

// TestFormatParseRoundTrip keeps the script syntax honest: every command
// kind prints back as it was read.
func TestFormatParseRoundTrip(t *testing.T) {
	for _, line := range []string{
		"hello 7",
		"create-instance r1",
		"update-configuration a=1 b=2",
		"create-dataflow df as_of=3 index=(u1,u2) sink=(u3) imports=(u9)",
		"schedule u1",
		"allow-writes u3",
		"allow-compaction u1 5",
		"allow-compaction u1 []",
		"peek p4 index=u1 ts=6",
		"peek p5 persist=u8 ts=6",
		"cancel-peek p4",
		"initialization-complete",
	} {
		cmd, err := parseCommand(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got := formatCommand(cmd); got != line {
			t.Errorf("round trip: got %q, want %q", got, line)
		}
	}
}

// TestPushPanicsOnMalformedCommand: a command the protocol cannot carry is
// a bug of the instance, caught at Push rather than at a later reduction.
func TestPushPanicsOnMalformedCommand(t *testing.T) {
	for name, cmd := range map[string]*messages.ComputeCommand{
		"nil envelope":            nil,
		"empty envelope":          {},
		"dataflow missing":        &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{}}},
		"as_of missing":           &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: &messages.ComputeDataflowDescription{}}}},
		"as_of of two elements":   &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: &messages.ComputeDataflowDescription{AsOf: &messages.Frontier{Elements: []uint64{1, 2}}}}}},
		"export id missing":       &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: &messages.ComputeDataflowDescription{AsOf: &messages.Frontier{}, IndexExports: []*messages.ComputeIndexExport{{}}}}}},
		"schedule id missing":     &messages.ComputeCommand{Command: &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{}}},
		"allow_writes id missing": &messages.ComputeCommand{Command: &messages.ComputeCommand_AllowWrites{AllowWrites: &messages.ComputeAllowWrites{}}},
		"compaction frontier missing": &messages.ComputeCommand{Command: &messages.ComputeCommand_AllowCompaction{AllowCompaction: &messages.ComputeAllowCompaction{
			Id: messages.FromGlobalId(timely.UserId(1)),
		}}},
		"peek uuid missing":        &messages.ComputeCommand{Command: &messages.ComputeCommand_Peek{Peek: &messages.ComputePeek{}}},
		"cancel_peek uuid missing": &messages.ComputeCommand{Command: &messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{}}},
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHistory()
			defer func() {
				if recover() == nil {
					t.Fatalf("Push accepted a malformed command")
				}
				if h.Len() != 0 {
					t.Fatalf("Push recorded a malformed command: len=%d", h.Len())
				}
			}()
			h.Push(cmd)
		})
	}
}

// TestReduceLeavesPushedCommandsAlone: the instance may still hold (or
// have sent in-process) the commands it pushed; advancing an as_of must
// build a new command, not rewrite the pushed one.
func TestReduceLeavesPushedCommandsAlone(t *testing.T) {
	pushed := []*messages.ComputeCommand{
		helloCmd(1),
		createInstanceCmd("r1"),
		configCmd(map[string]string{"a": "1"}),
		configCmd(map[string]string{"a": "2"}),
		dataflowCmd(dataflowSpec{name: "df", asOf: timely.At(1), indexes: []timely.GlobalId{timely.UserId(1)}}),
		compactionCmd(timely.UserId(1), timely.At(4)),
	}
	before := make([]*messages.ComputeCommand, len(pushed))
	for i, cmd := range pushed {
		before[i] = proto.Clone(cmd).(*messages.ComputeCommand)
	}
	h := NewHistory()
	for _, cmd := range pushed {
		h.Push(cmd)
	}
	h.Reduce()
	h.Replay(&messages.ComputeEpoch{Environment: 1, Incarnation: 2})
	for i := range pushed {
		if !proto.Equal(pushed[i], before[i]) {
			t.Errorf("pushed command %d changed: %s, was %s", i, formatCommand(pushed[i]), formatCommand(before[i]))
		}
	}
	if got := formatCommand(h.Commands()[3]); got != "create-dataflow df as_of=4 index=(u1)" {
		t.Errorf("reduced dataflow: %s", got)
	}
}

// TestWithAsOfCopiesEveryField fails when ComputeDataflowDescription gains
// a field: withAsOf copies fields by name and must be taught the new one.
func TestWithAsOfCopiesEveryField(t *testing.T) {
	fields := (&messages.ComputeDataflowDescription{}).ProtoReflect().Descriptor().Fields()
	var names []string
	for i := range fields.Len() {
		names = append(names, string(fields.Get(i).Name()))
	}
	want := []string{"source_imports", "index_imports", "objects_to_build", "index_exports", "sink_exports", "as_of", "until", "debug_name"}
	if !slices.Equal(names, want) {
		t.Fatalf("ComputeDataflowDescription fields are %v; teach withAsOf about the change, then update this list", names)
	}
	// Every field set, then copied: all but as_of must come through.
	orig := dataflowCmd(dataflowSpec{name: "df", asOf: timely.At(1), indexes: []timely.GlobalId{timely.UserId(1)},
		sinks: []timely.GlobalId{timely.UserId(2)}, imports: []timely.GlobalId{timely.UserId(3)}})
	orig.GetCreateDataflow().Dataflow.SourceImports = []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(timely.UserId(4))}}
	orig.GetCreateDataflow().Dataflow.Until = messages.FromFrontier(timely.At(9))
	got := withAsOf(orig, timely.At(5)).GetCreateDataflow().Dataflow
	want2 := proto.Clone(orig.GetCreateDataflow().Dataflow).(*messages.ComputeDataflowDescription)
	want2.AsOf = messages.FromFrontier(timely.At(5))
	if !proto.Equal(got, want2) {
		t.Fatalf("withAsOf lost a field:\n got %v\nwant %v", got, want2)
	}
	if len(orig.GetCreateDataflow().Dataflow.GetAsOf().GetElements()) != 1 || orig.GetCreateDataflow().Dataflow.AsOf.Elements[0] != 1 {
		t.Fatalf("withAsOf changed the original's as_of")
	}
	if fields := (&messages.ComputeCreateDataflow{}).ProtoReflect().Descriptor().Fields(); fields.Len() != 1 {
		t.Fatalf("ComputeCreateDataflow has %d fields; withAsOf copies only the dataflow", fields.Len())
	}
}

// TestCommandKinds: every kind has a metric label, and KindOf agrees with
// the oneof for each.
func TestCommandKinds(t *testing.T) {
	cmds := map[CommandKind]*messages.ComputeCommand{
		KindHello:                  helloCmd(1),
		KindCreateInstance:         createInstanceCmd("r"),
		KindUpdateConfiguration:    configCmd(nil),
		KindCreateDataflow:         dataflowCmd(dataflowSpec{name: "df"}),
		KindSchedule:               scheduleCmd(timely.UserId(1)),
		KindPeek:                   peekCmd(1, timely.UserId(1), false, 0),
		KindCancelPeek:             cancelPeekCmd(1),
		KindAllowCompaction:        compactionCmd(timely.UserId(1), timely.At(1)),
		KindAllowWrites:            allowWritesCmd(timely.UserId(1)),
		KindInitializationComplete: initCompleteCmd(),
	}
	kinds := CommandKinds()
	if len(kinds) != len(cmds) {
		t.Fatalf("CommandKinds has %d kinds, the test knows %d", len(kinds), len(cmds))
	}
	labels := make(map[string]bool)
	for _, k := range kinds {
		if got, ok := KindOf(cmds[k]); !ok || got != k {
			t.Errorf("KindOf(%s) = %v, %v", formatCommand(cmds[k]), got, ok)
		}
		if s := k.String(); s == "" || strings.HasPrefix(s, "CommandKind(") || labels[s] {
			t.Errorf("kind %d has label %q", int(k), s)
		}
		labels[k.String()] = true
	}
	if _, ok := KindOf(&messages.ComputeCommand{}); ok {
		t.Errorf("KindOf of an empty envelope reported a kind")
	}
	if s := CommandKind(99).String(); s != "CommandKind(99)" {
		t.Errorf("String of a bad kind: %q", s)
	}
}

package instance

import (
	"fmt"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// History is the command history of one instance: every command the
// instance sent to its replicas, so that a new replica, or a restarted
// incarnation of one, can be brought to the same state by replaying it.
// It is a plain value owned by the instance's core (no locking, no clock,
// no I/O).
//
// Reduce keeps the history small without changing what a replay yields
// (see its doc). Push reduces by itself when the history has grown past
// twice its length after the last reduction (and past 2*minReduceLen), so
// the history stays within a constant factor of its reduced size however
// long the instance runs, at an amortized constant cost per push.
//
// How a finished peek leaves the history: the instance calls RetirePeek
// with the peek's uuid when the peek gets its one answer, whatever the
// answer is (rows, error, canceled, timeout, replica failure). When it also
// sends a CancelPeek to the replicas (finishing a peek does, so that the
// slower replicas stop working on it), it records that command with Push as
// usual. Either one is enough: a retired peek, and a peek followed by its
// CancelPeek, are both gone after the next reduction, and Replay always
// reduces first, so a finished peek is never replayed.
//
// Preconditions the instance keeps, and on which Reduce relies:
//   - global ids are never reused: a collection dropped by an empty
//     AllowCompaction is never created again;
//   - an AllowCompaction, Schedule or AllowWrites names an export of a
//     dataflow created earlier in the history;
//   - a pending peek on an index, and a live dataflow importing an index,
//     hold that index's compaction at or before the peek's time, resp. the
//     dataflow's since (read holds), so the index is never dropped under them;
//   - configuration parameters apply globally, never only to the commands
//     that follow them, so merging them is invisible to a replica.
type History struct {
	// commands is the record, in push order after the last reduction.
	commands []*messages.ComputeCommand
	// reducedLen is the length after the last reduction (0: never).
	reducedLen int
	// counts is the number of held commands of each kind.
	counts [numCommandKinds]int
	// retired holds the uuids of the peeks retired since the last
	// reduction, which drops them and clears the set (uuids are never
	// reused, so no later peek can match a stale entry).
	retired map[timely.Uuid]struct{}
}

// minReduceLen is the length below which Push never reduces: reducing a
// handful of commands at every push would buy nothing.
const minReduceLen = 8

// NewHistory returns an empty history.
func NewHistory() *History { return &History{retired: make(map[timely.Uuid]struct{})} }

// Push records a command. The envelope's epoch is not part of the history:
// a replay stamps every command with the epoch of its connection (Replay).
// The history keeps cmd itself, never modifies it (a reduction that changes
// a command builds a new one), and the caller must not modify it after
// Push either.
//
// A command that the protocol cannot carry (nil, no command in the
// envelope, a missing id, uuid or dataflow, a malformed frontier) is a bug
// of the instance that built it: Push panics, naming the problem.
func (h *History) Push(cmd *messages.ComputeCommand) {
	kind, err := checkCommand(cmd)
	if err != nil {
		panic(fmt.Sprintf("instance: history: push: %v", err))
	}
	h.commands = append(h.commands, cmd)
	h.counts[kind]++
	if len(h.commands) > 2*max(h.reducedLen, minReduceLen) {
		h.Reduce()
	}
}

// RetirePeek tells the history that the peek uuid has finished (it got its
// answer) and must not be replayed. The peek's command, and a CancelPeek
// for it if one was pushed, leave at the next reduction; until then they
// stay in Commands and in the counts. Retiring a peek that the history does
// not hold, or one already retired, does nothing.
func (h *History) RetirePeek(uuid timely.Uuid) {
	h.retired[uuid] = struct{}{}
}

// Commands returns the history as recorded: the reduced form of the last
// reduction followed by every command pushed since, including peeks retired
// since then. Use Replay to bring a replica up to date. The caller must not
// modify the slice or the commands; the slice is valid until the next Push,
// Reduce or Replay.
func (h *History) Commands() []*messages.ComputeCommand { return h.commands }

// Len returns the number of commands held.
func (h *History) Len() int { return len(h.commands) }

// CommandCount returns the number of commands of kind k that the history
// holds now; it backs the *_history_command_count metric.
func (h *History) CommandCount(k CommandKind) int {
	if k < 0 || k >= numCommandKinds {
		return 0
	}
	return h.counts[k]
}

// DataflowCount returns the number of CreateDataflow commands the history
// holds now (after a reduction: the dataflows a replay installs); it backs
// the *_history_dataflow_count metric.
func (h *History) DataflowCount() int { return h.counts[KindCreateDataflow] }

// Replay reduces the history and returns the commands that bring a fresh
// replica, or a new incarnation of one, to the instance's current state, in
// order, each in a new envelope stamped with epoch. The envelopes are the
// caller's; the commands inside are shared with the history and must not be
// modified.
func (h *History) Replay(epoch *messages.ComputeEpoch) []*messages.ComputeCommand {
	h.Reduce()
	out := make([]*messages.ComputeCommand, len(h.commands))
	for i, cmd := range h.commands {
		out[i] = &messages.ComputeCommand{Epoch: epoch, Command: cmd.Command}
	}
	return out
}

// Reduce rewrites the history into its reduced form, which a replica
// replaying it cannot tell from the full history (ARCHITECTURE.md §7):
//
//   - one Hello and one CreateInstance, the last pushed of each;
//   - one UpdateConfiguration with every parameter at its last value (none
//     if no parameter was ever set);
//   - each dataflow's as_of advanced to the least of its exports'
//     compaction frontiers (an export never compacted counts as the
//     original as_of), never moving it backward; a collection's compaction
//     frontier is the join of every AllowCompaction pushed for it;
//   - a dataflow whose exports are all compacted to the empty frontier is
//     gone, together with its Schedule, AllowWrites and AllowCompaction
//     commands (so is a dataflow with no exports: nothing of it could be
//     observed); so are the Schedule and AllowWrites of a single dropped
//     export of a dataflow that stays, whose AllowCompaction to the empty
//     frontier stays so that a replay drops that export again;
//   - an AllowCompaction at or before its dataflow's new as_of is implied
//     by the as_of and goes;
//   - a Peek followed by a CancelPeek for it, or retired by RetirePeek,
//     goes with the CancelPeek; a CancelPeek of no held peek goes;
//   - Schedule and AllowWrites once per collection.
//
// The result is emitted in a fixed order, which a replica can apply
// without ever reading compacted data: Hello, CreateInstance,
// UpdateConfiguration, CreateDataflow… (in push order, so a dataflow comes
// after the dataflows whose indexes it imports), Schedule…, Peek… (before
// any compaction, so each still reads at its time), AllowCompaction…,
// AllowWrites…, InitializationComplete (if one was pushed). Reduce is
// idempotent; after it, Push reduces again once the history holds more
// than twice as many commands. A CreateDataflow differs from the one pushed in
// its as_of only, which has only advanced: a runtime reconciling a replay
// against its installed dataflows must compare descriptions without it.
func (h *History) Reduce() {
	var (
		hello, createInstance, initComplete *messages.ComputeCommand

		config    map[string]string
		dataflows []dataflowEntry
		// compaction is the join of every AllowCompaction per collection.
		compaction = make(map[timely.GlobalId]timely.Frontier)

		// The first Schedule and AllowWrites of each collection.
		scheduled, writable        []idCommand
		seenSchedule, seenWritable = make(map[timely.GlobalId]bool), make(map[timely.GlobalId]bool)

		peeks    []*messages.ComputeCommand
		canceled = make(map[timely.Uuid]bool)
	)
	for _, cmd := range h.commands {
		switch c := cmd.Command.(type) {
		case *messages.ComputeCommand_Hello:
			hello = cmd
		case *messages.ComputeCommand_CreateInstance:
			createInstance = cmd
		case *messages.ComputeCommand_InitializationComplete:
			if initComplete == nil {
				initComplete = cmd
			}
		case *messages.ComputeCommand_UpdateConfiguration:
			for k, v := range c.UpdateConfiguration.GetParams() {
				if config == nil {
					config = make(map[string]string)
				}
				config[k] = v
			}
		case *messages.ComputeCommand_CreateDataflow:
			d := c.CreateDataflow.Dataflow
			dataflows = append(dataflows, dataflowEntry{cmd: cmd, asOf: mustFrontier(d.AsOf), exports: exportIds(d)})
		case *messages.ComputeCommand_Schedule:
			id := mustId(c.Schedule.Id)
			if !seenSchedule[id] {
				seenSchedule[id] = true
				scheduled = append(scheduled, idCommand{id, cmd})
			}
		case *messages.ComputeCommand_AllowWrites:
			id := mustId(c.AllowWrites.Id)
			if !seenWritable[id] {
				seenWritable[id] = true
				writable = append(writable, idCommand{id, cmd})
			}
		case *messages.ComputeCommand_AllowCompaction:
			id := mustId(c.AllowCompaction.Id)
			f := mustFrontier(c.AllowCompaction.Frontier)
			if prev, ok := compaction[id]; ok {
				f = prev.Join(f)
			}
			compaction[id] = f
		case *messages.ComputeCommand_Peek:
			peeks = append(peeks, cmd)
		case *messages.ComputeCommand_CancelPeek:
			canceled[mustUuid(c.CancelPeek.Uuid)] = true
		}
	}

	// Advance each dataflow's as_of; decide which collections live on and
	// which compactions the new as_of does not already imply.
	live := make(map[timely.GlobalId]bool) // exports a replay leaves installed
	keptCompaction := make([]*messages.ComputeCommand, 0, len(compaction))
	kept := dataflows[:0]
	for _, df := range dataflows {
		least := timely.Closed()
		for _, id := range df.exports {
			f, ok := compaction[id]
			if !ok {
				f = df.asOf
			}
			least = least.Meet(f)
		}
		asOf := df.asOf.Join(least)
		if asOf.IsEmpty() {
			continue // every export dropped: nothing of it remains on a replica
		}
		if asOf != df.asOf {
			df.cmd = withAsOf(df.cmd, asOf)
		}
		kept = append(kept, df)
		for _, id := range df.exports {
			f, ok := compaction[id]
			if !ok || !f.IsEmpty() {
				live[id] = true
			}
			if ok && !f.LessEqual(asOf) {
				keptCompaction = append(keptCompaction, allowCompaction(id, f))
			}
		}
	}

	out := make([]*messages.ComputeCommand, 0, len(h.commands))
	for _, cmd := range []*messages.ComputeCommand{hello, createInstance} {
		if cmd != nil {
			out = append(out, cmd)
		}
	}
	if len(config) > 0 {
		out = append(out, &messages.ComputeCommand{Command: &messages.ComputeCommand_UpdateConfiguration{
			UpdateConfiguration: &messages.ComputeUpdateConfiguration{Params: config},
		}})
	}
	for _, df := range kept {
		out = append(out, df.cmd)
	}
	for _, s := range scheduled {
		if live[s.id] {
			out = append(out, s.cmd)
		}
	}
	for _, cmd := range peeks {
		uuid := mustUuid(cmd.GetPeek().Uuid)
		if _, done := h.retired[uuid]; !done && !canceled[uuid] {
			out = append(out, cmd)
		}
	}
	out = append(out, keptCompaction...)
	for _, w := range writable {
		if live[w.id] {
			out = append(out, w.cmd)
		}
	}
	if initComplete != nil {
		out = append(out, initComplete)
	}

	clear(h.commands) // let the dropped commands be collected
	h.commands = out
	h.reducedLen = len(out)
	h.counts = [numCommandKinds]int{}
	for _, cmd := range out {
		h.counts[kindOf(cmd)]++
	}
	clear(h.retired)
}

// dataflowEntry is one CreateDataflow met by a reduction.
type dataflowEntry struct {
	cmd     *messages.ComputeCommand
	asOf    timely.Frontier
	exports []timely.GlobalId
}

// exportIds returns a dataflow's exports, the collections the controller
// tracks: index exports, then sink exports, in description order.
func exportIds(d *messages.ComputeDataflowDescription) []timely.GlobalId {
	ids := make([]timely.GlobalId, 0, len(d.IndexExports)+len(d.SinkExports))
	for _, e := range d.IndexExports {
		ids = append(ids, mustId(e.GetId()))
	}
	for _, e := range d.SinkExports {
		ids = append(ids, mustId(e.GetId()))
	}
	return ids
}

// withAsOf returns a new CreateDataflow command like cmd but with as_of.
// The description is copied field by field so that cmd, which the caller
// may still hold, is not modified; the nested messages are shared.
// TestWithAsOfCopiesEveryField fails when the description gains a field
// this copy does not know.
func withAsOf(cmd *messages.ComputeCommand, asOf timely.Frontier) *messages.ComputeCommand {
	d := cmd.GetCreateDataflow().GetDataflow()
	nd := &messages.ComputeDataflowDescription{
		SourceImports:  d.SourceImports,
		IndexImports:   d.IndexImports,
		ObjectsToBuild: d.ObjectsToBuild,
		IndexExports:   d.IndexExports,
		SinkExports:    d.SinkExports,
		AsOf:           messages.FromFrontier(asOf),
		Until:          d.Until,
		DebugName:      d.DebugName,
	}
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{
		CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: nd},
	}}
}

// idCommand is a command about one collection.
type idCommand struct {
	id  timely.GlobalId
	cmd *messages.ComputeCommand
}

func allowCompaction(id timely.GlobalId, f timely.Frontier) *messages.ComputeCommand {
	return &messages.ComputeCommand{Command: &messages.ComputeCommand_AllowCompaction{
		AllowCompaction: &messages.ComputeAllowCompaction{Id: messages.FromGlobalId(id), Frontier: messages.FromFrontier(f)},
	}}
}

// The must* decoders are for commands Push has already checked.

func mustId(x *messages.GlobalId) timely.GlobalId {
	id, err := x.ToTimely()
	if err != nil {
		panic(fmt.Sprintf("instance: history: %v", err))
	}
	return id
}

func mustFrontier(x *messages.Frontier) timely.Frontier {
	f, err := x.ToTimely()
	if err != nil {
		panic(fmt.Sprintf("instance: history: %v", err))
	}
	return f
}

func mustUuid(x *messages.Uuid) timely.Uuid {
	u, err := x.ToTimely()
	if err != nil {
		panic(fmt.Sprintf("instance: history: %v", err))
	}
	return u
}

// CommandKind is the kind of a compute command: which field of the
// ComputeCommand envelope's oneof is set. Its String is the label of the
// *_history_command_count metric.
type CommandKind int

// The command kinds, in the order a reduced history emits them (CancelPeek
// never appears in a reduced history).
const (
	KindHello CommandKind = iota
	KindCreateInstance
	KindUpdateConfiguration
	KindCreateDataflow
	KindSchedule
	KindPeek
	KindCancelPeek
	KindAllowCompaction
	KindAllowWrites
	KindInitializationComplete
	numCommandKinds
)

var commandKindNames = [numCommandKinds]string{
	KindHello:                  "hello",
	KindCreateInstance:         "create_instance",
	KindUpdateConfiguration:    "update_configuration",
	KindCreateDataflow:         "create_dataflow",
	KindSchedule:               "schedule",
	KindPeek:                   "peek",
	KindCancelPeek:             "cancel_peek",
	KindAllowCompaction:        "allow_compaction",
	KindAllowWrites:            "allow_writes",
	KindInitializationComplete: "initialization_complete",
}

// CommandKinds returns every command kind, in the order of the constants;
// a metrics refresh ranges over it.
func CommandKinds() []CommandKind {
	ks := make([]CommandKind, numCommandKinds)
	for i := range ks {
		ks[i] = CommandKind(i)
	}
	return ks
}

// String returns the kind's metric label ("create_dataflow"), or
// "CommandKind(n)" for a value that is not a kind.
func (k CommandKind) String() string {
	if k < 0 || k >= numCommandKinds {
		return fmt.Sprintf("CommandKind(%d)", int(k))
	}
	return commandKindNames[k]
}

// KindOf returns the kind of cmd, and false if cmd is nil or carries no
// command.
func KindOf(cmd *messages.ComputeCommand) (CommandKind, bool) {
	switch cmd.GetCommand().(type) {
	case *messages.ComputeCommand_Hello:
		return KindHello, true
	case *messages.ComputeCommand_CreateInstance:
		return KindCreateInstance, true
	case *messages.ComputeCommand_UpdateConfiguration:
		return KindUpdateConfiguration, true
	case *messages.ComputeCommand_CreateDataflow:
		return KindCreateDataflow, true
	case *messages.ComputeCommand_Schedule:
		return KindSchedule, true
	case *messages.ComputeCommand_Peek:
		return KindPeek, true
	case *messages.ComputeCommand_CancelPeek:
		return KindCancelPeek, true
	case *messages.ComputeCommand_AllowCompaction:
		return KindAllowCompaction, true
	case *messages.ComputeCommand_AllowWrites:
		return KindAllowWrites, true
	case *messages.ComputeCommand_InitializationComplete:
		return KindInitializationComplete, true
	}
	return 0, false
}

// kindOf is KindOf for a command Push has already checked.
func kindOf(cmd *messages.ComputeCommand) CommandKind {
	k, _ := KindOf(cmd)
	return k
}

// checkCommand returns cmd's kind, or an error saying why the protocol
// cannot carry it, in the terms a reduction needs: the ids, uuids, frontiers
// and dataflow it reads must be there and decode.
func checkCommand(cmd *messages.ComputeCommand) (CommandKind, error) {
	kind, ok := KindOf(cmd)
	if !ok {
		return 0, fmt.Errorf("command envelope is nil or carries no command")
	}
	var err error
	switch c := cmd.Command.(type) {
	case *messages.ComputeCommand_CreateDataflow:
		d := c.CreateDataflow.GetDataflow()
		if d == nil {
			return kind, fmt.Errorf("create_dataflow has no dataflow")
		}
		if _, err = d.AsOf.ToTimely(); err != nil {
			return kind, fmt.Errorf("create_dataflow %q as_of: %w", d.DebugName, err)
		}
		for _, e := range d.IndexExports {
			if _, err = e.GetId().ToTimely(); err != nil {
				return kind, fmt.Errorf("create_dataflow %q index export: %w", d.DebugName, err)
			}
		}
		for _, e := range d.SinkExports {
			if _, err = e.GetId().ToTimely(); err != nil {
				return kind, fmt.Errorf("create_dataflow %q sink export: %w", d.DebugName, err)
			}
		}
		return kind, nil
	case *messages.ComputeCommand_Schedule:
		_, err = c.Schedule.GetId().ToTimely()
	case *messages.ComputeCommand_AllowWrites:
		_, err = c.AllowWrites.GetId().ToTimely()
	case *messages.ComputeCommand_AllowCompaction:
		if _, err = c.AllowCompaction.GetId().ToTimely(); err == nil {
			_, err = c.AllowCompaction.GetFrontier().ToTimely()
		}
	case *messages.ComputeCommand_Peek:
		_, err = c.Peek.GetUuid().ToTimely()
	case *messages.ComputeCommand_CancelPeek:
		_, err = c.CancelPeek.GetUuid().ToTimely()
	}
	if err != nil {
		return kind, fmt.Errorf("%s: %w", kind, err)
	}
	return kind, nil
}

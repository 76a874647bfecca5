package runtime

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Stage is where the current controller connection stands.
type Stage uint8

const (
	// StageDisconnected: no Hello yet; every other command is refused.
	StageDisconnected Stage = iota
	// StageCreation: a Hello opened the connection; CreateInstance next.
	StageCreation
	// StageInitialization: the controller replays its history; commands
	// are reconciled against the dataflows already installed, until
	// InitializationComplete.
	StageInitialization
	// StageComputation: any command but Hello-less ones of the creation
	// stage.
	StageComputation
)

// String names the stage.
func (s Stage) String() string {
	switch s {
	case StageDisconnected:
		return "disconnected"
	case StageCreation:
		return "creation"
	case StageInitialization:
		return "initialization"
	case StageComputation:
		return "computation"
	}
	return "unknown"
}

// Epoch orders controller connections: the environment's epoch, then the
// incarnation under it.
type Epoch struct{ Environment, Incarnation uint64 }

// EpochOf decodes a wire epoch; unset is the zero epoch.
func EpochOf(e *messages.ComputeEpoch) Epoch {
	return Epoch{Environment: e.GetEnvironment(), Incarnation: e.GetIncarnation()}
}

// Compare orders epochs: -1, 0 or +1.
func (e Epoch) Compare(o Epoch) int {
	if c := compareU64(e.Environment, o.Environment); c != 0 {
		return c
	}
	return compareU64(e.Incarnation, o.Incarnation)
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String prints the epoch as environment.incarnation.
func (e Epoch) String() string { return fmt.Sprintf("%d.%d", e.Environment, e.Incarnation) }

// Dataflow is an installed dataflow as the connection knows it: its
// description, its exports, and per export the compaction frontier the
// controller allowed.
type Dataflow struct {
	// Desc is the description it was installed with; constant.
	Desc *messages.ComputeDataflowDescription
	// Exports are its index and sink ids, in description order; constant.
	Exports []timely.GlobalId
	// AsOf is the installed as_of; constant.
	AsOf timely.Timestamp
	// Until bounds what the dataflow produces: no update at or after it
	// reaches an export's peeks, appends or batches, and an export whose
	// frontier reaches it is complete. Closed (the default) means no
	// bound; constant.
	Until timely.Frontier

	// compaction holds the frontier of the last AllowCompaction per export
	// (absent: the as_of); dropped the exports compacted to the empty
	// frontier.
	compaction map[timely.GlobalId]timely.Timestamp
	dropped    map[timely.GlobalId]bool
	// mentioned: a CreateDataflow of the current connection named it.
	mentioned bool
}

// Since is the earliest time the dataflow's exports can still be read at:
// the as_of, advanced by the least compaction frontier of its live exports.
func (d *Dataflow) Since() timely.Timestamp {
	since, first := d.AsOf, true
	for _, id := range d.Exports {
		if d.dropped[id] {
			continue
		}
		c, ok := d.compaction[id]
		if !ok {
			return d.AsOf
		}
		if first || c < since {
			since, first = c, false
		}
	}
	return max(since, d.AsOf)
}

// Compaction is an export's compaction frontier (its as_of until an
// AllowCompaction moved it).
func (d *Dataflow) Compaction(id timely.GlobalId) timely.Timestamp {
	if c, ok := d.compaction[id]; ok {
		return max(c, d.AsOf)
	}
	return d.AsOf
}

// Live reports whether export id is installed and not dropped.
func (d *Dataflow) Live(id timely.GlobalId) bool {
	return slices.Contains(d.Exports, id) && !d.dropped[id]
}

// Outcome is what reconciliation did with an installed dataflow.
type Outcome uint8

const (
	// OutcomeKept: a compatible CreateDataflow kept the installed flows.
	OutcomeKept Outcome = iota + 1
	// OutcomeRebuilt: an incompatible CreateDataflow replaced them.
	OutcomeRebuilt
	// OutcomeDropped: InitializationComplete found it unmentioned.
	OutcomeDropped
)

// String is the outcome's metric label.
func (o Outcome) String() string {
	switch o {
	case OutcomeKept:
		return "kept"
	case OutcomeRebuilt:
		return "rebuilt"
	case OutcomeDropped:
		return "dropped"
	}
	return "unknown"
}

// Kept is a dataflow reconciliation kept, with the as_of the replayed
// command asked for (at or after the installed one).
type Kept struct {
	Dataflow *Dataflow
	AsOf     timely.Timestamp
}

// Effects is what the actor must do after a command. Drops come before
// builds: a rebuilt dataflow reuses its exports' ids.
type Effects struct {
	// Connected: a Hello opened a new connection; responses go to its
	// sender from now on, and whatever the old connection had pending
	// (peeks) is forgotten.
	Connected bool
	// Stale: the command came from an older epoch; it is logged and
	// counted, not answered.
	Stale bool
	// Err refuses the command; the actor answers with a ComputeStatus
	// error (or, for a peek, its ComputePeekResponse).
	Err error
	// Drop lists exports whose flows to drop.
	Drop []timely.GlobalId
	// Build lists dataflows to build.
	Build []*Dataflow
	// Keep lists dataflows reconciliation kept.
	Keep []Kept
	// Reconciled counts reconciliation outcomes.
	Reconciled map[Outcome]int
	// Initialized: InitializationComplete was applied.
	Initialized bool
	// Apply is a command for the actor to carry out as it is (Peek,
	// CancelPeek, Schedule, AllowWrites, a non-empty AllowCompaction,
	// UpdateConfiguration, CreateInstance), already checked against the
	// stage and the installed collections.
	Apply *messages.ComputeCommand
}

func (e *Effects) count(o Outcome) {
	if e.Reconciled == nil {
		e.Reconciled = map[Outcome]int{}
	}
	e.Reconciled[o]++
}

// Connection is the runtime's pure core for the compute protocol's
// connection rules: epochs, stages and reconciliation. It does no I/O;
// Step returns what the actor must do.
//
//	                Hello(newer)                CreateInstance
//	disconnected ───────────────► creation ─────────────────► initialization
//	                                 ▲                              │
//	                                 │ Hello(newer)                 │ InitializationComplete
//	                                 │  (keeps dataflows,           ▼
//	                                 └── reconciles them) ◄──── computation
//
// A Hello with a newer epoch is accepted in every stage. A command from an
// older epoch is stale; a command of the current epoch that its stage
// does not accept is refused with ErrOutOfStage. While reconciling (after
// a Hello found dataflows installed), a CreateDataflow compatible with an
// installed dataflow keeps it, an incompatible one replaces it, and
// InitializationComplete drops every installed dataflow no CreateDataflow
// mentioned.
type Connection struct {
	epoch       Epoch
	stage       Stage
	reconciling bool
	dataflows   []*Dataflow
	byExport    map[timely.GlobalId]*Dataflow
}

// NewConnection returns a disconnected core with nothing installed.
func NewConnection() *Connection {
	return &Connection{byExport: map[timely.GlobalId]*Dataflow{}}
}

// Epoch is the current connection's epoch.
func (c *Connection) Epoch() Epoch { return c.epoch }

// Stage is the current connection's stage.
func (c *Connection) Stage() Stage { return c.stage }

// Dataflow returns the dataflow exporting id, dropped exports excluded.
func (c *Connection) Dataflow(id timely.GlobalId) (*Dataflow, bool) {
	d, ok := c.byExport[id]
	if !ok || d.dropped[id] {
		return nil, false
	}
	return d, true
}

// Dataflows returns the installed dataflows in installation order.
func (c *Connection) Dataflows() []*Dataflow { return slices.Clone(c.dataflows) }

// Forget removes a dataflow whose build failed.
func (c *Connection) Forget(d *Dataflow) { c.remove(d) }

// Step applies one command.
func (c *Connection) Step(cmd *messages.ComputeCommand) Effects {
	var eff Effects
	epoch := EpochOf(cmd.GetEpoch())
	if h := cmd.GetHello(); h != nil {
		if c.stage != StageDisconnected && epoch.Compare(c.epoch) <= 0 {
			eff.Stale = epoch.Compare(c.epoch) < 0
			eff.Err = fmt.Errorf("%w: hello at epoch %s, the connection is at %s", ErrStaleEpoch, epoch, c.epoch)
			if !eff.Stale {
				eff.Err = fmt.Errorf("%w: a second hello at epoch %s", ErrOutOfStage, epoch)
			}
			return eff
		}
		c.epoch, c.stage = epoch, StageCreation
		c.reconciling = len(c.dataflows) > 0
		for _, d := range c.dataflows {
			d.mentioned = false
		}
		eff.Connected = true
		return eff
	}
	switch cmp := epoch.Compare(c.epoch); {
	case c.stage == StageDisconnected:
		eff.Err = fmt.Errorf("%w: %s before any hello", ErrOutOfStage, commandName(cmd))
		return eff
	case cmp < 0:
		eff.Stale = true
		eff.Err = fmt.Errorf("%w: %s at epoch %s, the connection is at %s", ErrStaleEpoch, commandName(cmd), epoch, c.epoch)
		return eff
	case cmp > 0:
		eff.Err = fmt.Errorf("%w: %s at epoch %s before its hello (the connection is at %s)", ErrOutOfStage, commandName(cmd), epoch, c.epoch)
		return eff
	}
	switch cmd.Command.(type) {
	case *messages.ComputeCommand_CreateInstance:
		if c.stage != StageCreation {
			eff.Err = fmt.Errorf("%w: create instance in the %s stage", ErrOutOfStage, c.stage)
			return eff
		}
		c.stage = StageInitialization
		eff.Apply = cmd
		return eff
	case nil:
		eff.Err = fmt.Errorf("%w: a command envelope without a command", ErrInvalidCommand)
		return eff
	}
	if c.stage == StageCreation {
		eff.Err = fmt.Errorf("%w: %s before create instance", ErrOutOfStage, commandName(cmd))
		return eff
	}
	switch m := cmd.Command.(type) {
	case *messages.ComputeCommand_InitializationComplete:
		if c.stage != StageInitialization {
			eff.Err = fmt.Errorf("%w: initialization complete in the %s stage", ErrOutOfStage, c.stage)
			return eff
		}
		if c.reconciling {
			// Latest first: a dataflow is installed after the ones whose
			// exports it reads, and the coordinator drops a flow only
			// once no flow reads it.
			all := c.Dataflows()
			slices.Reverse(all)
			for _, d := range all {
				if !d.mentioned {
					eff.Drop = append(eff.Drop, d.liveExports()...)
					c.remove(d)
					eff.count(OutcomeDropped)
				}
			}
		}
		c.reconciling = false
		c.stage = StageComputation
		eff.Initialized = true
	case *messages.ComputeCommand_CreateDataflow:
		c.createDataflow(m.CreateDataflow.GetDataflow(), &eff)
	case *messages.ComputeCommand_AllowCompaction:
		id, d, err := c.collection(m.AllowCompaction.GetId(), "allow compaction")
		if err != nil {
			eff.Err = err
			return eff
		}
		f, err := m.AllowCompaction.GetFrontier().ToTimely()
		if err != nil {
			eff.Err = fmt.Errorf("%w: allow compaction of %s: %v", ErrInvalidCommand, id, err)
			return eff
		}
		t, ok := f.Time()
		if !ok {
			d.dropped[id] = true
			eff.Drop = []timely.GlobalId{id}
			if len(d.liveExports()) == 0 {
				c.remove(d)
			}
			return eff
		}
		if t > d.compaction[id] {
			d.compaction[id] = t
		}
		eff.Apply = cmd
	case *messages.ComputeCommand_Schedule:
		if _, _, err := c.collection(m.Schedule.GetId(), "schedule"); err != nil {
			eff.Err = err
			return eff
		}
		eff.Apply = cmd
	case *messages.ComputeCommand_AllowWrites:
		if _, _, err := c.collection(m.AllowWrites.GetId(), "allow writes"); err != nil {
			eff.Err = err
			return eff
		}
		eff.Apply = cmd
	default:
		// Peek, CancelPeek, UpdateConfiguration: the actor checks them.
		eff.Apply = cmd
	}
	return eff
}

func (c *Connection) collection(w *messages.GlobalId, what string) (timely.GlobalId, *Dataflow, error) {
	id, err := w.ToTimely()
	if err != nil {
		return id, nil, fmt.Errorf("%w: %s: %v", ErrInvalidCommand, what, err)
	}
	d, ok := c.Dataflow(id)
	if !ok {
		return id, nil, messages.WithObject(fmt.Errorf("%w: %s: no dataflow exports %s", ErrUnknownCollection, what, id), id.String())
	}
	return id, d, nil
}

func (c *Connection) createDataflow(desc *messages.ComputeDataflowDescription, eff *Effects) {
	exports, asOf, err := exportsOf(desc)
	var until timely.Frontier
	if err == nil {
		if until, err = untilOf(desc); err != nil {
			err = messages.WithObject(err, exports[0].String())
		}
	}
	if err != nil {
		eff.Err = err
		return
	}
	var overlap []*Dataflow
	for _, id := range exports {
		if d, ok := c.byExport[id]; ok && !slices.Contains(overlap, d) {
			overlap = append(overlap, d)
		}
	}
	for _, d := range overlap {
		if !c.reconciling || d.mentioned {
			eff.Err = messages.WithObject(fmt.Errorf("%w: create dataflow %q: %s is already installed", ErrAlreadyInstalled, desc.GetDebugName(), d.Exports[0]), d.Exports[0].String())
			return
		}
	}
	if len(overlap) == 1 && compatible(overlap[0], desc, asOf) {
		overlap[0].mentioned = true
		eff.Keep = append(eff.Keep, Kept{Dataflow: overlap[0], AsOf: asOf})
		eff.count(OutcomeKept)
		return
	}
	// A replaced dataflow's readers (dataflows importing its indexes or
	// reading its views) go with it, readers first; their own
	// CreateDataflow, later in the replay, builds them again over the new
	// exports. One this reconciliation already kept would be lost: the
	// replay is refused instead.
	readers := c.readersOf(overlap)
	for _, r := range readers {
		if r.mentioned {
			eff.Err = messages.WithObject(fmt.Errorf("%w: create dataflow %q replaces %s, which %s, kept earlier in this replay, reads", ErrInvalidCommand, desc.GetDebugName(), overlap[0].Exports[0], r.Exports[0]), r.Exports[0].String())
			return
		}
	}
	for _, r := range readers {
		eff.Drop = append(eff.Drop, r.liveExports()...)
		c.remove(r)
		eff.count(OutcomeRebuilt)
	}
	for _, d := range overlap {
		eff.Drop = append(eff.Drop, d.liveExports()...)
		c.remove(d)
	}
	if len(overlap) > 0 {
		eff.count(OutcomeRebuilt)
	}
	d := &Dataflow{Desc: desc, Exports: exports, AsOf: asOf, Until: until, compaction: map[timely.GlobalId]timely.Timestamp{}, dropped: map[timely.GlobalId]bool{}, mentioned: true}
	c.dataflows = append(c.dataflows, d)
	for _, id := range exports {
		c.byExport[id] = d
	}
	eff.Build = append(eff.Build, d)
}

// readersOf returns the installed dataflows that read an export of ds,
// directly or through other readers, latest installed first (so each
// comes before what it reads).
func (c *Connection) readersOf(ds []*Dataflow) []*Dataflow {
	gone := map[*Dataflow]bool{}
	exports := map[timely.GlobalId]bool{}
	for _, d := range ds {
		gone[d] = true
		for _, id := range d.Exports {
			exports[id] = true
		}
	}
	var out []*Dataflow
	// Installed order puts every reader after what it reads, so one
	// pass finds the transitive readers.
	for _, d := range c.dataflows {
		if gone[d] || !d.reads(exports) {
			continue
		}
		gone[d] = true
		out = append(out, d)
		for _, id := range d.Exports {
			exports[id] = true
		}
	}
	slices.Reverse(out)
	return out
}

// reads reports whether d imports one of exports: an index, or a view
// (a source import without collection naming a flow of this runtime).
func (d *Dataflow) reads(exports map[timely.GlobalId]bool) bool {
	for _, ix := range d.Desc.GetIndexImports() {
		if id, err := ix.GetId().ToTimely(); err == nil && exports[id] {
			return true
		}
	}
	for _, s := range d.Desc.GetSourceImports() {
		if id, err := s.GetId().ToTimely(); err == nil && !s.GetCollection() && exports[id] {
			return true
		}
	}
	return false
}

func (c *Connection) remove(d *Dataflow) {
	c.dataflows = slices.DeleteFunc(c.dataflows, func(o *Dataflow) bool { return o == d })
	for _, id := range d.Exports {
		if c.byExport[id] == d {
			delete(c.byExport, id)
		}
	}
}

func (d *Dataflow) liveExports() []timely.GlobalId {
	var out []timely.GlobalId
	for _, id := range d.Exports {
		if !d.dropped[id] {
			out = append(out, id)
		}
	}
	return out
}

// compatible reports whether installed can serve desc: the same imports,
// objects and exports (as_of and debug name aside), and an as_of the
// installed flows can still be read at.
func compatible(installed *Dataflow, desc *messages.ComputeDataflowDescription, asOf timely.Timestamp) bool {
	if len(installed.liveExports()) != len(installed.Exports) {
		return false
	}
	strip := func(d *messages.ComputeDataflowDescription) *messages.ComputeDataflowDescription {
		c := proto.Clone(d).(*messages.ComputeDataflowDescription)
		c.AsOf, c.DebugName = nil, ""
		return c
	}
	return proto.Equal(strip(installed.Desc), strip(desc)) && installed.Since() <= asOf
}

// exportsOf decodes a description's export ids and as_of; every export
// must be a distinct, valid id.
func exportsOf(desc *messages.ComputeDataflowDescription) ([]timely.GlobalId, timely.Timestamp, error) {
	name := desc.GetDebugName()
	var exports []timely.GlobalId
	add := func(w *messages.GlobalId) error {
		id, err := w.ToTimely()
		if err != nil {
			return fmt.Errorf("%w: create dataflow %q: export: %v", ErrInvalidCommand, name, err)
		}
		if slices.Contains(exports, id) {
			return fmt.Errorf("%w: create dataflow %q exports %s twice", ErrInvalidCommand, name, id)
		}
		exports = append(exports, id)
		return nil
	}
	for _, e := range desc.GetIndexExports() {
		if err := add(e.GetId()); err != nil {
			return nil, 0, err
		}
	}
	for _, e := range desc.GetSinkExports() {
		if err := add(e.GetId()); err != nil {
			return nil, 0, err
		}
	}
	if len(exports) == 0 {
		return nil, 0, fmt.Errorf("%w: create dataflow %q exports nothing", ErrInvalidCommand, name)
	}
	var asOf timely.Timestamp
	if desc.GetAsOf() != nil {
		f, err := desc.GetAsOf().ToTimely()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: create dataflow %q: as_of: %v", ErrInvalidCommand, name, err)
		}
		t, ok := f.Time()
		if !ok {
			return nil, 0, fmt.Errorf("%w: create dataflow %q: the empty as_of", ErrInvalidCommand, name)
		}
		asOf = t
	}
	return exports, asOf, nil
}

// untilOf decodes a description's until: unset is the closed frontier (no
// bound). An until at or before the as_of is valid: such a dataflow
// produces nothing and is complete at once (a reduced history advances a
// dataflow's as_of to its compaction frontier, which may pass its until).
func untilOf(desc *messages.ComputeDataflowDescription) (timely.Frontier, error) {
	if desc.GetUntil() == nil {
		return timely.Closed(), nil
	}
	until, err := desc.GetUntil().ToTimely()
	if err != nil {
		return until, fmt.Errorf("%w: create dataflow %q: until: %v", ErrInvalidCommand, desc.GetDebugName(), err)
	}
	return until, nil
}

// commandName names a command for errors and logs.
func commandName(cmd *messages.ComputeCommand) string {
	switch cmd.Command.(type) {
	case *messages.ComputeCommand_Hello:
		return "hello"
	case *messages.ComputeCommand_CreateInstance:
		return "create instance"
	case *messages.ComputeCommand_InitializationComplete:
		return "initialization complete"
	case *messages.ComputeCommand_UpdateConfiguration:
		return "update configuration"
	case *messages.ComputeCommand_CreateDataflow:
		return "create dataflow"
	case *messages.ComputeCommand_Schedule:
		return "schedule"
	case *messages.ComputeCommand_AllowWrites:
		return "allow writes"
	case *messages.ComputeCommand_AllowCompaction:
		return "allow compaction"
	case *messages.ComputeCommand_Peek:
		return "peek"
	case *messages.ComputeCommand_CancelPeek:
		return "cancel peek"
	}
	return "empty command"
}

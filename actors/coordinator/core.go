package coordinator

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// DefaultBackfillChunk is the number of versions a backfilling flow
// advances per round unless configured otherwise.
const DefaultBackfillChunk = 1000

// CoreConfig configures a Core.
type CoreConfig struct {
	// BackfillChunk is the most versions (distinct timestamps with changes)
	// a backfilling flow advances per round; DefaultBackfillChunk when 0.
	BackfillChunk int
	// Upper is what was consumed before the first Consume: the storage
	// upper when the runtime subscribed. Earlier history is reached by
	// backfill.
	Upper timely.Timestamp
}

// round is the kind of step whose batches or commit are in flight.
type round uint8

const (
	roundConsume round = iota + 1
	roundBackfill
)

// Core is the coordinator's state machine: flows and their states, the
// consumed upper, the phase, and what is in flight. It does no I/O, reads
// no clock and starts no goroutines; every method returns the Effects its
// actor must carry out and is fed the outcome by a later call. It is not
// safe for concurrent use.
type Core struct {
	chunk int

	phase Phase
	round round            // the step whose commit is in flight (set by Submitted)
	upper timely.Timestamp // consumed: storage changes before it are known

	flows    map[pool.FlowId]*flow
	byExport map[timely.GlobalId]pool.FlowId
	// collections: the consumed upper and the recent changes of each
	// storage collection a flow reads (collection.go).
	collections map[timely.GlobalId]*collectionLog
	order       []pool.FlowId // producers before readers
	regQueue    []pool.FlowId // installed, not yet registered; head in flight

	// the Consume in progress
	consuming   bool
	consumeFrom timely.Timestamp
	changes     map[timely.GlobalId][]dataflow.Update

	// the step in flight
	reads    map[pool.FlowId]ReadRequest
	toCommit map[pool.FlowId]timely.Timestamp
	replyErr error
}

// NewCore returns an Idle core with no flows.
func NewCore(cfg CoreConfig) *Core {
	if cfg.BackfillChunk <= 0 {
		cfg.BackfillChunk = DefaultBackfillChunk
	}
	return &Core{
		chunk:       cfg.BackfillChunk,
		phase:       Idle,
		upper:       cfg.Upper,
		flows:       map[pool.FlowId]*flow{},
		byExport:    map[timely.GlobalId]pool.FlowId{},
		collections: map[timely.GlobalId]*collectionLog{},
	}
}

// Phase returns the current phase.
func (c *Core) Phase() Phase { return c.phase }

// Upper returns the consumed upper.
func (c *Core) Upper() timely.Timestamp { return c.upper }

// FlowState returns a flow's state and committed checkpoint.
func (c *Core) FlowState(id pool.FlowId) (FlowState, timely.Timestamp, bool) {
	f, ok := c.flows[id]
	if !ok {
		return 0, 0, false
	}
	return f.state, f.checkpoint, true
}

// Counts returns the number of flows in each state and the least
// committed checkpoint (the consumed upper when there are no flows).
func (c *Core) Counts() (states map[FlowState]int, minCheckpoint timely.Timestamp) {
	states = map[FlowState]int{}
	minCheckpoint = c.upper
	for _, f := range c.flows {
		states[f.state]++
		if f.checkpoint < minCheckpoint {
			minCheckpoint = f.checkpoint
		}
	}
	return states, minCheckpoint
}

// BackfillRemaining sums, over backfilling flows, the timestamps between
// their checkpoint and the consumed upper.
func (c *Core) BackfillRemaining() uint64 {
	var n uint64
	for _, f := range c.flows {
		if f.state != FlowActive && f.checkpoint < c.upper {
			n += uint64(c.upper - f.checkpoint)
		}
	}
	return n
}

func (c *Core) move(ev Event) {
	next, err := transition(c.phase, ev)
	if err != nil {
		panic(err) // a broken invariant of the core; the supervisor decides
	}
	c.phase = next
}

// Install adds a flow, to be registered with the pool at checkpoint
// (zero for a new flow, the committed one when it is reinstalled after a
// restart). It fails with ErrInvalidFlow for a flow id or export already
// installed, a view source no materialized flow produces, or a plan whose
// sources are not the flow's.
func (c *Core) Install(spec pool.FlowSpec, checkpoint timely.Timestamp) (Effects, error) {
	var eff Effects
	if _, ok := c.flows[spec.Id]; ok {
		return eff, fmt.Errorf("%w: flow %d is already installed", ErrInvalidFlow, spec.Id)
	}
	if _, ok := c.byExport[spec.Export]; ok {
		return eff, fmt.Errorf("%w: %s is already exported by flow %d", ErrInvalidFlow, spec.Export, c.byExport[spec.Export])
	}
	if spec.Plan == nil {
		return eff, fmt.Errorf("%w: flow %d has no plan", ErrInvalidFlow, spec.Id)
	}
	planSources := spec.Plan.Sources()
	if len(planSources) != len(spec.Sources) {
		return eff, fmt.Errorf("%w: flow %d: the plan reads %v, the flow declares %d sources", ErrInvalidFlow, spec.Id, planSources, len(spec.Sources))
	}
	f := &flow{spec: spec, state: FlowRegistering, checkpoint: checkpoint, tables: map[timely.GlobalId]bool{}, collections: map[timely.GlobalId]bool{}}
	declared := map[timely.GlobalId]bool{}
	for _, s := range spec.Sources {
		declared[s.Id] = true
		switch s.Kind {
		case pool.SourceTable:
			f.tables[s.Id] = true
			f.direct = true
		case pool.SourceCollection:
			f.collections[s.Id] = true
		case pool.SourceView:
			pid, ok := c.byExport[s.Id]
			if !ok || !c.flows[pid].spec.Materialized {
				return eff, fmt.Errorf("%w: flow %d reads view %s, which no materialized flow of this replica produces", ErrInvalidFlow, spec.Id, s.Id)
			}
			p := c.flows[pid]
			delete(p.heldBy, spec.Id) // the reader's checkpoint bounds it again
			f.producers = append(f.producers, pid)
			for t := range p.tables {
				f.tables[t] = true
			}
			for t := range p.collections {
				f.collections[t] = true
			}
			f.depth = max(f.depth, p.depth+1)
		default:
			return eff, fmt.Errorf("%w: flow %d: source %s has no kind", ErrInvalidFlow, spec.Id, s.Id)
		}
	}
	for _, id := range planSources {
		if !declared[id] {
			return eff, fmt.Errorf("%w: flow %d: the plan reads %s, which is not among the flow's sources", ErrInvalidFlow, spec.Id, id)
		}
	}
	c.flows[spec.Id] = f
	c.byExport[spec.Export] = spec.Id
	for id := range f.collections {
		if _, ok := c.collections[id]; !ok {
			c.collections[id] = &collectionLog{}
		}
	}
	c.order = sortOrder(c.flows)
	c.regQueue = append(c.regQueue, spec.Id)
	if c.phase == Idle {
		c.move(EvInstall{})
		c.registerHead(&eff)
	}
	return eff, nil
}

// Drop removes a flow. It fails with ErrUnknownFlow, or ErrFlowInUse when
// another flow reads its output. Results still in flight for it are
// ignored when they arrive.
func (c *Core) Drop(id pool.FlowId) (Effects, error) {
	var eff Effects
	f, ok := c.flows[id]
	if !ok {
		return eff, fmt.Errorf("%w: flow %d", ErrUnknownFlow, id)
	}
	for _, o := range c.flows {
		for _, p := range o.producers {
			if p == id {
				return eff, fmt.Errorf("%w: flow %d (%s) is read by flow %d", ErrFlowInUse, id, f.spec.Export, o.spec.Id)
			}
		}
	}
	delete(c.flows, id)
	delete(c.byExport, f.spec.Export)
	c.order = sortOrder(c.flows)
	c.holdProducers(f)
	// A queued registration is forgotten; the one in flight (the head)
	// stays queued until its reply.
	for i, q := range c.regQueue {
		if q == id && !(i == 0 && c.phase == RegisteringFlows) {
			c.regQueue = append(c.regQueue[:i], c.regQueue[i+1:]...)
			break
		}
	}
	eff.Drop = []pool.FlowId{id}
	return eff, nil
}

func (c *Core) registerHead(eff *Effects) {
	f := c.flows[c.regQueue[0]]
	eff.Register = &pool.RegisterFlow{Spec: f.spec, Checkpoint: f.checkpoint}
}

// Consume starts processing the storage changes of versions [from, upper).
// Not Idle: ErrBusy, nothing changes. Versions already consumed are
// acknowledged at once (a retried Consume); a gap after the consumed
// upper, or a change outside the range, is ErrInvalidConsume.
func (c *Core) Consume(from, upper timely.Timestamp, changes map[timely.GlobalId][]dataflow.Update) (Effects, error) {
	var eff Effects
	if c.phase != Idle {
		return eff, fmt.Errorf("%w: in phase %s", ErrBusy, c.phase)
	}
	if upper < from {
		return eff, fmt.Errorf("%w: versions [%d, %d) are reversed", ErrInvalidConsume, from, upper)
	}
	if upper <= c.upper {
		eff.Reply = true // already consumed
		return eff, nil
	}
	if from > c.upper {
		return eff, fmt.Errorf("%w: versions [%d, %d) leave a gap after the consumed upper %d", ErrInvalidConsume, from, upper, c.upper)
	}
	// Versions before the consumed upper were applied already (a retried
	// Consume overlapping it); usually there are none, and the changes are
	// kept as they came.
	kept := make(map[timely.GlobalId][]dataflow.Update, len(changes))
	for id, us := range changes {
		stale := 0
		for _, u := range us {
			if u.Time < from || u.Time >= upper {
				return eff, fmt.Errorf("%w: a change of %s is at %d, outside the versions [%d, %d)", ErrInvalidConsume, id, u.Time, from, upper)
			}
			if u.Time < c.upper {
				stale++
			}
		}
		keep := us
		if stale > 0 {
			keep = slices.DeleteFunc(slices.Clone(us), func(u dataflow.Update) bool { return u.Time < c.upper })
		}
		if len(keep) > 0 {
			kept[id] = keep
		}
	}
	for _, f := range c.flows {
		f.stalled = false // new versions: retry failed backfill reads
	}
	c.consuming = true
	c.replyErr = nil
	c.consumeFrom, c.upper, c.changes = c.upper, upper, kept
	if len(c.regQueue) > 0 {
		c.move(EvConsume{Registrations: true})
		c.registerHead(&eff)
		return eff, nil
	}
	c.move(EvConsume{})
	c.submitConsume(&eff)
	return eff, nil
}

// Registered is the pool's answer to the registration in flight.
func (c *Core) Registered(flowId pool.FlowId, err error) Effects {
	var eff Effects
	if c.phase != RegisteringFlows || len(c.regQueue) == 0 || c.regQueue[0] != flowId {
		panic(fmt.Sprintf("coordinator: registration reply for flow %d in phase %s", flowId, c.phase))
	}
	c.regQueue = c.regQueue[1:]
	if f, ok := c.flows[flowId]; ok {
		if err != nil {
			eff.event(FlowFailed, f, fmt.Errorf("register flow %d: %w", flowId, err))
			eff.Events[len(eff.Events)-1].Removed = true
			delete(c.flows, flowId)
			delete(c.byExport, f.spec.Export)
			c.order = sortOrder(c.flows)
			c.holdProducers(f)
		} else {
			f.state = FlowBackfilling
		}
	} // else dropped while registering: Drop already told the pool, after the RegisterFlow

	switch {
	case len(c.regQueue) > 0:
		c.move(EvRegistered{More: true})
		c.registerHead(&eff)
	case c.consuming:
		c.move(EvRegistered{Consuming: true})
		c.submitConsume(&eff)
	default:
		c.move(EvRegistered{})
		c.planBackfill(&eff)
	}
	return eff
}

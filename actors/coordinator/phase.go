package coordinator

import "fmt"

// Phase is what the coordinator is doing. Only Idle accepts a Consume.
type Phase uint8

const (
	// Idle: nothing in flight.
	Idle Phase = iota + 1
	// RegisteringFlows: new flows register with the pool one at a time.
	RegisteringFlows
	// SubmittingBatches: a Consume's changes are with the workers.
	SubmittingBatches
	// ReadingBackfill: the store reads the next chunk of every backfilling
	// flow that can advance (I/O in flight).
	ReadingBackfill
	// AdvancingBackfill: the chunks read are with the workers.
	AdvancingBackfill
	// Committing: the outputs and checkpoints of the step (a Consume or a
	// backfill round) are being committed to the store (I/O in flight).
	Committing
	// Ticking: flows whose tick interval elapsed are being ticked.
	Ticking
)

// String names the phase.
func (p Phase) String() string {
	switch p {
	case Idle:
		return "Idle"
	case RegisteringFlows:
		return "RegisteringFlows"
	case SubmittingBatches:
		return "SubmittingBatches"
	case ReadingBackfill:
		return "ReadingBackfill"
	case AdvancingBackfill:
		return "AdvancingBackfill"
	case Committing:
		return "Committing"
	case Ticking:
		return "Ticking"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Event is an input of the phase machine.
type Event interface {
	event()
	String() string
}

// EvConsume: a Consume was accepted. Registrations says whether new flows
// wait to register first.
type EvConsume struct{ Registrations bool }

// EvInstall: flows wait to register and nothing else is in flight.
type EvInstall struct{}

// EvRegistered: one registration finished. More says another one waits;
// Consuming says a Consume is in progress (its batches go next).
type EvRegistered struct{ More, Consuming bool }

// EvContinueBackfill: backfilling flows can advance and nothing else is in
// flight.
type EvContinueBackfill struct{}

// EvNoReads: a backfill round found nothing to read; it ends at once.
type EvNoReads struct{}

// EvRead: the store answered a backfill round's reads (each one with
// data or an error); the chunks go to the pool.
type EvRead struct{}

// EvSubmitted: the pool answered the batches in flight (of a Consume or a
// backfill round); their outputs and checkpoints are committed next.
type EvSubmitted struct{}

// EvCommitted: the store answered the commit in flight (ok or an error).
// Backfill says a backfill round follows at once (after a Consume's
// commit, when flows are backfilling).
type EvCommitted struct{ Backfill bool }

// EvTick: flows are due for a tick.
type EvTick struct{}

// EvTicked: the pool answered a tick.
type EvTicked struct{}

func (EvConsume) event()          {}
func (EvInstall) event()          {}
func (EvRegistered) event()       {}
func (EvContinueBackfill) event() {}
func (EvNoReads) event()          {}
func (EvRead) event()             {}
func (EvSubmitted) event()        {}
func (EvCommitted) event()        {}
func (EvTick) event()             {}
func (EvTicked) event()           {}

// String names the event.
func (e EvConsume) String() string { return fmt.Sprintf("Consume{registrations=%t}", e.Registrations) }

// String names the event.
func (EvInstall) String() string { return "Install" }

// String names the event.
func (e EvRegistered) String() string {
	return fmt.Sprintf("Registered{more=%t consuming=%t}", e.More, e.Consuming)
}

// String names the event.
func (EvContinueBackfill) String() string { return "ContinueBackfill" }

// String names the event.
func (EvNoReads) String() string { return "NoReads" }

// String names the event.
func (EvRead) String() string { return "Read" }

// String names the event.
func (EvSubmitted) String() string { return "Submitted" }

// String names the event.
func (e EvCommitted) String() string { return fmt.Sprintf("Committed{backfill=%t}", e.Backfill) }

// String names the event.
func (EvTick) String() string { return "Tick" }

// String names the event.
func (EvTicked) String() string { return "Ticked" }

// transition is the coordinator's only way to change phase. The allowed
// paths; * marks the phases that wait for the store (a goroutine of the
// actor does the I/O), the others wait for the pool:
//
//	Idle ──Install───────────────► RegisteringFlows ◄──Registered{more}──┐
//	Idle ──Consume{registrations}─► RegisteringFlows ─────────────────────┘
//	Idle ──Consume────────────────► SubmittingBatches ◄──Registered{consuming}── RegisteringFlows
//	Idle ──ContinueBackfill───────► *ReadingBackfill  ◄──Registered───────────── RegisteringFlows
//	Idle ──Tick───────────────────► Ticking ──Ticked──► Idle
//
//	SubmittingBatches ──Submitted──► *Committing ──Committed──► Idle
//	                                  │        ▲
//	              Committed{backfill} │        └─────Submitted──────────────────────┐
//	                                  ▼                                             │
//	               Idle ◄──NoReads── *ReadingBackfill ──Read──► AdvancingBackfill ──┘
//
// Any other (phase, event) pair is an error naming both; the coordinator
// treats it as a broken invariant.
func transition(from Phase, ev Event) (Phase, error) {
	switch from {
	case Idle:
		switch e := ev.(type) {
		case EvConsume:
			if e.Registrations {
				return RegisteringFlows, nil
			}
			return SubmittingBatches, nil
		case EvInstall:
			return RegisteringFlows, nil
		case EvContinueBackfill:
			return ReadingBackfill, nil
		case EvTick:
			return Ticking, nil
		}
	case RegisteringFlows:
		if e, ok := ev.(EvRegistered); ok {
			switch {
			case e.More:
				return RegisteringFlows, nil
			case e.Consuming:
				return SubmittingBatches, nil
			default:
				return ReadingBackfill, nil
			}
		}
	case SubmittingBatches, AdvancingBackfill:
		if _, ok := ev.(EvSubmitted); ok {
			return Committing, nil
		}
	case ReadingBackfill:
		switch ev.(type) {
		case EvRead:
			return AdvancingBackfill, nil
		case EvNoReads:
			return Idle, nil
		}
	case Committing:
		if e, ok := ev.(EvCommitted); ok {
			if e.Backfill {
				return ReadingBackfill, nil
			}
			return Idle, nil
		}
	case Ticking:
		if _, ok := ev.(EvTicked); ok {
			return Idle, nil
		}
	}
	return from, fmt.Errorf("%w: %s in phase %s", ErrIllegalTransition, ev, from)
}

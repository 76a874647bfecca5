package coordinator

import "fmt"

// Phase is what the coordinator is doing. Only Idle accepts a Consume.
type Phase uint8

const (
	// Idle: nothing in flight.
	Idle Phase = iota + 1
	// RegisteringFlows: new flows register with the pool one at a time.
	RegisteringFlows
	// SubmittingBatches: a Consume's changes are with the workers, then
	// its outputs and checkpoints are being committed.
	SubmittingBatches
	// AdvancingBackfill: backfilling flows advance one chunk each, then
	// commit.
	AdvancingBackfill
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
	case AdvancingBackfill:
		return "AdvancingBackfill"
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

// EvSubmitted: a Consume's batches were applied and committed (or failed).
// Backfill says backfilling flows can advance now.
type EvSubmitted struct{ Backfill bool }

// EvContinueBackfill: backfilling flows can advance and nothing else is in
// flight.
type EvContinueBackfill struct{}

// EvBackfilled: a backfill round was applied and committed.
type EvBackfilled struct{}

// EvTick: flows are due for a tick.
type EvTick struct{}

// EvTicked: the pool answered a tick.
type EvTicked struct{}

func (EvConsume) event()          {}
func (EvInstall) event()          {}
func (EvRegistered) event()       {}
func (EvSubmitted) event()        {}
func (EvContinueBackfill) event() {}
func (EvBackfilled) event()       {}
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
func (e EvSubmitted) String() string { return fmt.Sprintf("Submitted{backfill=%t}", e.Backfill) }

// String names the event.
func (EvContinueBackfill) String() string { return "ContinueBackfill" }

// String names the event.
func (EvBackfilled) String() string { return "Backfilled" }

// String names the event.
func (EvTick) String() string { return "Tick" }

// String names the event.
func (EvTicked) String() string { return "Ticked" }

// transition is the coordinator's only way to change phase. The allowed
// paths:
//
//	        Consume{registrations}        Registered{more}
//	Idle ─────────────────────────► RegisteringFlows ◄──┐
//	 │ │ │        Install                   │  │   └──────┘
//	 │ │ └──────────────────────────────────┘  │ Registered{consuming}
//	 │ │ Consume                                ▼
//	 │ └─────────────────────────────────► SubmittingBatches ──Submitted──► Idle
//	 │                                          │ Submitted{backfill}
//	 │ ContinueBackfill                         ▼
//	 ├─────────────────────────────────► AdvancingBackfill ──Backfilled──► Idle
//	 │                                          ▲
//	 │           RegisteringFlows ──────────────┘ Registered (last, no Consume)
//	 │ Tick
//	 └──► Ticking ──Ticked──► Idle
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
			return AdvancingBackfill, nil
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
				return AdvancingBackfill, nil
			}
		}
	case SubmittingBatches:
		if e, ok := ev.(EvSubmitted); ok {
			if e.Backfill {
				return AdvancingBackfill, nil
			}
			return Idle, nil
		}
	case AdvancingBackfill:
		if _, ok := ev.(EvBackfilled); ok {
			return Idle, nil
		}
	case Ticking:
		if _, ok := ev.(EvTicked); ok {
			return Idle, nil
		}
	}
	return from, fmt.Errorf("%w: %s in phase %s", ErrIllegalTransition, ev, from)
}

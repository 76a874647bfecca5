package catalog

import "fmt"

// Phase is where the guardian is in its life. transition draws the allowed
// paths.
//
// Requests that arrive while Starting, Opening or in Backoff wait (in
// arrival order) and are served once Ready. Fenced and Halted are final:
// every request is answered with the error that caused them, and the
// guardian never reopens the catalog, even if restarted.
type Phase int

const (
	// PhaseOpening: opening the catalog.
	PhaseOpening Phase = iota
	// PhaseBackoff: waiting before reopening after a transient failure.
	PhaseBackoff
	// PhaseReady: serving requests.
	PhaseReady
	// PhaseFenced: a newer writer owns the catalog. Final.
	PhaseFenced
	// PhaseHalted: the catalog cannot be opened by this build. Final.
	PhaseHalted
	// PhaseStarting: an incarnation of the guardian is about to start (a
	// new Core, or a restart by the supervisor).
	PhaseStarting
	// PhaseFailed: a transient backend failure ended this incarnation; its
	// supervisor restarts it.
	PhaseFailed
)

// String returns the phase's name.
func (p Phase) String() string {
	switch p {
	case PhaseOpening:
		return "opening"
	case PhaseBackoff:
		return "backoff"
	case PhaseReady:
		return "ready"
	case PhaseFenced:
		return "fenced"
	case PhaseHalted:
		return "halted"
	case PhaseStarting:
		return "starting"
	case PhaseFailed:
		return "failed"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// final reports whether the phase is Fenced or Halted.
func (p Phase) final() bool { return p == PhaseFenced || p == PhaseHalted }

// Event is an input of the phase machine.
type Event interface {
	event()
	String() string
}

// EvStarted: an incarnation started. Backoff says earlier incarnations
// failed and this one must wait before opening.
type EvStarted struct{ Backoff bool }

// EvBackoffDone: the backoff timer fired.
type EvBackoffDone struct{}

// EvOpened: Config.Open returned a handle.
type EvOpened struct{}

// EvFenced: a newer writer owns the catalog (a *durable.FenceError from
// the open, a request or the leadership check).
type EvFenced struct{}

// EvIncompatible: the catalog's version is one this build cannot open.
type EvIncompatible struct{}

// EvTransient: a backend call failed with an unknown outcome (or the open
// failed for any other reason); the incarnation fails.
type EvTransient struct{}

// EvRestarting: the supervisor is restarting the guardian.
type EvRestarting struct{}

// EvPromote: a read-only guardian is asked to take over the catalog with
// Config.Promote (a writable open that fences the running writer).
type EvPromote struct{}

func (EvStarted) event()      {}
func (EvBackoffDone) event()  {}
func (EvOpened) event()       {}
func (EvFenced) event()       {}
func (EvIncompatible) event() {}
func (EvTransient) event()    {}
func (EvRestarting) event()   {}
func (EvPromote) event()      {}

// String names the event.
func (e EvStarted) String() string { return fmt.Sprintf("Started{backoff=%t}", e.Backoff) }

// String names the event.
func (EvBackoffDone) String() string { return "BackoffDone" }

// String names the event.
func (EvOpened) String() string { return "Opened" }

// String names the event.
func (EvFenced) String() string { return "Fenced" }

// String names the event.
func (EvIncompatible) String() string { return "Incompatible" }

// String names the event.
func (EvTransient) String() string { return "Transient" }

// String names the event.
func (EvRestarting) String() string { return "Restarting" }

// String names the event.
func (EvPromote) String() string { return "Promote" }

// transition is the guardian's only way to change phase. The allowed
// paths:
//
//	        Started{backoff}          BackoffDone
//	     ┌─────────────────► Backoff ─────────────┐
//	     │                                        ▼
//	Starting ───────────── Started ───────────► Opening ──── Opened ────► Ready
//	     ▲                                      │ │ │                      │ │
//	     │                       Incompatible   │ │ │ Transient  Transient │ │
//	     │   Halted ◄───────────────────────────┘ │ └──────► Failed ◄──────┘ │
//	     │                       Fenced           │            │             │ Fenced
//	     │   Fenced ◄─────────────────────────────┴────────────┼─────────────┘
//	     │                                                     │
//	     └────────────────────── Restarting ───────────────────┘
//
//	Ready ── Promote ──► Opening   (once: a read-only guardian reopens
//	                                writable; every later open is writable)
//
// Restarting leads back to Starting from every phase that is not final:
// from Failed after a transient failure, and from Starting, Opening,
// Backoff or Ready when a parent restarts a healthy guardian (or an
// incarnation panicked for another reason). Fenced and Halted are final:
// every event leaves them where they are, so a restarted incarnation of a
// fenced guardian stays fenced. Any other (phase, event) pair is an error
// naming both; the Core panics on it, a broken invariant.
func transition(from Phase, ev Event) (Phase, error) {
	if from.final() {
		return from, nil
	}
	if _, ok := ev.(EvRestarting); ok {
		return PhaseStarting, nil
	}
	switch from {
	case PhaseStarting:
		if e, ok := ev.(EvStarted); ok {
			if e.Backoff {
				return PhaseBackoff, nil
			}
			return PhaseOpening, nil
		}
	case PhaseBackoff:
		if _, ok := ev.(EvBackoffDone); ok {
			return PhaseOpening, nil
		}
	case PhaseOpening:
		switch ev.(type) {
		case EvOpened:
			return PhaseReady, nil
		case EvFenced:
			return PhaseFenced, nil
		case EvIncompatible:
			return PhaseHalted, nil
		case EvTransient:
			return PhaseFailed, nil
		}
	case PhaseReady:
		switch ev.(type) {
		case EvPromote:
			return PhaseOpening, nil
		case EvFenced:
			return PhaseFenced, nil
		case EvTransient:
			return PhaseFailed, nil
		}
	}
	return from, fmt.Errorf("%w: %s in phase %s", ErrIllegalTransition, ev, from)
}

package catalog

import "fmt"

// Phase is where the guardian is in its life.
//
//	            open ok
//	Opening ───────────► Ready ───── FenceError ─────► Fenced
//	   │  ▲                │
//	   │  │ backoff done   │ backend error: fail; the supervisor restarts
//	   │  │                ▼ a new incarnation, which starts in Backoff
//	   │  └─────────── Backoff
//	   │
//	   ├── FenceError ───────────────────────────────► Fenced
//	   └── incompatible version ─────────────────────► Halted
//
// Requests that arrive while Opening or in Backoff wait (in arrival order)
// and are served once Ready. Fenced and Halted are final: every request is
// answered with the error that caused them, and the guardian never reopens
// the catalog, even if restarted.
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
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// final reports whether the phase is Fenced or Halted.
func (p Phase) final() bool { return p == PhaseFenced || p == PhaseHalted }

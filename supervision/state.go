package supervision

import "fmt"

// State is where a supervised child stands.
type State uint8

const (
	// Running: the child runs (or is being started); a failure is decided
	// by Failed.
	Running State = iota + 1
	// BackingOff: the child failed and a restart is scheduled at the
	// Status's NextRestart; at that time the tracker counts it as running.
	BackingOff
	// Failing: the restart budget is spent; the child stays down with its
	// last error until Reset.
	Failing
)

// States lists every state, in order: the label values of a state metric.
var States = []State{Running, BackingOff, Failing}

// String names the state as dumps and metric labels show it.
func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case BackingOff:
		return "backing-off"
	case Failing:
		return "failing"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText makes a State a JSON string ("running", ...).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses what MarshalText writes.
func (s *State) UnmarshalText(b []byte) error {
	for _, v := range States {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("supervision: unknown state %q", b)
}

// transition moves the tracker to state to. The allowed paths:
//
//	            Failed, budget left          NextRestart reached
//	running ───────────────────────► backing-off ──────────────────► running
//	   │                                  │
//	   │ Failed, budget spent             │ Reset
//	   ▼                                  ▼
//	failing ───────── Reset ─────────► running
//
// Failed while backing off is the same failure reported twice (a
// termination and a lost endpoint of one incarnation) and changes no state;
// Failed while failing stays failing. Anything else is a bug in this
// package, and it panics.
func (t *Tracker) transition(to State) {
	ok := false
	switch t.state {
	case Running:
		ok = to == BackingOff || to == Failing
	case BackingOff, Failing:
		ok = to == Running
	}
	if !ok {
		panic(fmt.Sprintf("supervision: illegal transition %s -> %s", t.state, to))
	}
	t.state = to
}

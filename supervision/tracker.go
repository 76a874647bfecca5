package supervision

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Action is what to do about a failure.
type Action uint8

const (
	// Restart the child after the Decision's Delay.
	Restart Action = iota + 1
	// GiveUp: the budget is spent; leave the child down and report it
	// failing.
	GiveUp
)

// String names the action.
func (a Action) String() string {
	switch a {
	case Restart:
		return "restart"
	case GiveUp:
		return "give-up"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Decision is the answer to a failure.
type Decision struct {
	Action Action
	// Delay is how long after the failure's time to restart (Restart only).
	Delay time.Duration
	// At is the failure's time plus Delay: when the restart is due
	// (Restart only).
	At time.Time
}

// Status is what a dump and metrics show about one supervised child. It
// encodes to JSON with the field names below; zero times are left out.
type Status struct {
	State State `json:"state"`
	// RestartsInWindow counts the restarts due within the window that ends
	// at the status's time, a scheduled one included.
	RestartsInWindow int `json:"restarts_in_window"`
	// ConsecutiveFailures counts failures since the last Healthy or Reset.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// LastError is the message of the last failure, empty if none.
	LastError string `json:"last_error,omitempty"`
	// LastFailure is the time of the last failure.
	LastFailure time.Time `json:"last_failure,omitzero"`
	// NextRestart is when the scheduled restart is due (backing-off only).
	NextRestart time.Time `json:"next_restart,omitzero"`
}

// Tracker applies a Policy to one supervised child. It is not safe for
// concurrent use: one actor owns it. Its methods take the current time,
// which must never go back from one call to the next.
type Tracker struct {
	// Constant after NewTracker.
	policy Policy
	rng    *rand.Rand

	state       State
	consecutive int         // failures since the last Healthy or Reset
	restarts    []time.Time // due times of granted restarts, ascending; only the last Window's
	lastErr     error
	lastFailure time.Time
	nextRestart time.Time // BackingOff only
}

// NewTracker returns a tracker in state running that draws its jitter from
// rng (which it does not share with other goroutines; several trackers of
// one actor may share it). It returns an error wrapping ErrInvalidPolicy
// when p is not valid, and panics on a nil rng.
func NewTracker(p Policy, rng *rand.Rand) (*Tracker, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		panic("supervision: NewTracker with a nil rand source")
	}
	return &Tracker{policy: p, rng: rng, state: Running}, nil
}

// Failed records that the child failed at now with err and decides what to
// do. While running: Restart after a backoff delay if the restart would
// keep at most MaxRestarts restarts due within any Window, else GiveUp (the
// tracker is failing from then on). While backing off, before the restart
// is due: the same failure reported again; the scheduled restart stands and
// is returned again (Delay counted from now). While failing: GiveUp. In
// every case err becomes the last error.
func (t *Tracker) Failed(now time.Time, err error) Decision {
	t.settle(now)
	t.lastErr, t.lastFailure = err, now
	switch t.state {
	case BackingOff:
		return Decision{Action: Restart, Delay: t.nextRestart.Sub(now), At: t.nextRestart}
	case Failing:
		return Decision{Action: GiveUp}
	}
	t.consecutive++
	delay := t.policy.delay(t.consecutive, t.rng)
	at := now.Add(delay)
	t.prune(at)
	if len(t.restarts) >= t.policy.MaxRestarts {
		t.transition(Failing)
		return Decision{Action: GiveUp}
	}
	t.restarts = append(t.restarts, at)
	t.nextRestart = at
	t.transition(BackingOff)
	return Decision{Action: Restart, Delay: delay, At: at}
}

// Healthy records that the running child reported healthy (hydrated) at
// now: the next failure backs off from InitialBackoff again. The restart
// budget is not refunded, so a child that fails after every hydration still
// ends failing. A report while backing off or failing comes from an
// incarnation that has already failed and is ignored.
func (t *Tracker) Healthy(now time.Time) {
	t.settle(now)
	if t.state == Running {
		t.consecutive = 0
	}
}

// Reset starts over at now, as an operator asking for another try does:
// the tracker is running, with no consecutive failures and a full budget.
// A scheduled restart is forgotten; the caller starts the child itself.
// The last error is kept for the status.
func (t *Tracker) Reset(now time.Time) {
	t.settle(now)
	if t.state != Running {
		t.transition(Running)
	}
	t.consecutive = 0
	t.restarts = nil
	t.nextRestart = time.Time{}
}

// Status reports the tracker as of now, without changing it.
func (t *Tracker) Status(now time.Time) Status {
	st := Status{
		State:               t.state,
		ConsecutiveFailures: t.consecutive,
		LastFailure:         t.lastFailure,
	}
	if t.lastErr != nil {
		st.LastError = t.lastErr.Error()
	}
	if t.state == BackingOff {
		if now.Before(t.nextRestart) {
			st.NextRestart = t.nextRestart
		} else {
			st.State = Running
		}
	}
	from := now.Add(-t.policy.Window)
	for _, r := range t.restarts {
		if r.After(from) {
			st.RestartsInWindow++
		}
	}
	return st
}

// LastErr returns the error of the last failure, nil if none.
func (t *Tracker) LastErr() error { return t.lastErr }

// settle counts a scheduled restart that is due at now as done.
func (t *Tracker) settle(now time.Time) {
	if t.state == BackingOff && !now.Before(t.nextRestart) {
		t.nextRestart = time.Time{}
		t.transition(Running)
	}
}

// prune forgets the restarts that a window ending at `at` no longer holds.
func (t *Tracker) prune(at time.Time) {
	from := at.Add(-t.policy.Window)
	i := 0
	for i < len(t.restarts) && !t.restarts[i].After(from) {
		i++
	}
	t.restarts = t.restarts[i:]
}

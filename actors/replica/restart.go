package replica

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/arbor-db/arbor/supervision"
)

// Decision is a restart policy's answer to a failure: restart after a
// delay, or give up (the replica is then reported failing with Err).
type Decision struct {
	// Restart says whether to relaunch; After is the delay before doing so.
	Restart bool
	After   time.Duration
	// Err is the error the replica is reported failing with when Restart
	// is false.
	Err error
}

// RestartStatus is what a restart tracker reports for dumps and metrics.
type RestartStatus struct {
	// Failing is true once the tracker gave up.
	Failing bool
	// Restarts counts the restarts it granted in its current window.
	Restarts int
	// LastError is the last failure seen (empty: none).
	LastError string
}

// RestartTracker decides when a failed replica is relaunched. It is the
// shape of supervision.Tracker (the top-level supervision package): one per
// replica, fed the failures and healthy periods of that replica, with time
// as an argument. Implementations are used from one actor at a time and
// need no locking.
type RestartTracker interface {
	// Failed records a failure at now and says whether and when to restart.
	Failed(now time.Time, err error) Decision
	// Healthy records that the replica was healthy at now (it hydrated);
	// a tracker may forget older failures.
	Healthy(now time.Time)
	// Status reports the tracker's state at now.
	Status(now time.Time) RestartStatus
}

// FixedRestarts is a deterministic RestartTracker for tests: it restarts after Backoff, at most
// MaxRestarts times within Window (zero: ever), then gives up.
type FixedRestarts struct {
	Backoff     time.Duration
	MaxRestarts int
	Window      time.Duration

	failures []time.Time
	gaveUp   bool
	lastErr  error
}

// Failed implements RestartTracker.
func (f *FixedRestarts) Failed(now time.Time, err error) Decision {
	f.lastErr = err
	if f.gaveUp {
		return Decision{Err: err}
	}
	if f.Window > 0 {
		kept := f.failures[:0]
		for _, t := range f.failures {
			if now.Sub(t) < f.Window {
				kept = append(kept, t)
			}
		}
		f.failures = kept
	}
	if len(f.failures) >= f.MaxRestarts {
		f.gaveUp = true
		return Decision{Err: fmt.Errorf("replica: %d restarts exhausted: %w", f.MaxRestarts, err)}
	}
	f.failures = append(f.failures, now)
	return Decision{Restart: true, After: f.Backoff}
}

// Healthy implements RestartTracker: it forgets past failures.
func (f *FixedRestarts) Healthy(time.Time) {
	if !f.gaveUp {
		f.failures = f.failures[:0]
	}
}

// Status implements RestartTracker.
func (f *FixedRestarts) Status(time.Time) RestartStatus {
	s := RestartStatus{Failing: f.gaveUp, Restarts: len(f.failures)}
	if f.lastErr != nil {
		s.LastError = f.lastErr.Error()
	}
	return s
}

// Supervised adapts a supervision.Tracker, the restart policy compute
// replicas run with in production, to RestartTracker.
type Supervised struct {
	t *supervision.Tracker
}

// NewSupervised returns a RestartTracker applying policy, with jitter drawn
// from a source seeded with seed (give each replica its own seed, e.g.
// derived from its id, so that runs replay).
func NewSupervised(policy supervision.Policy, seed uint64) (*Supervised, error) {
	t, err := supervision.NewTracker(policy, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	if err != nil {
		return nil, err
	}
	return &Supervised{t: t}, nil
}

// Failed implements RestartTracker.
func (s *Supervised) Failed(now time.Time, err error) Decision {
	d := s.t.Failed(now, err)
	if d.Action == supervision.Restart {
		return Decision{Restart: true, After: d.Delay}
	}
	st := s.t.Status(now)
	return Decision{Err: fmt.Errorf("replica: restart budget spent (%d restarts in the window): %w", st.RestartsInWindow, err)}
}

// Healthy implements RestartTracker.
func (s *Supervised) Healthy(now time.Time) { s.t.Healthy(now) }

// Status implements RestartTracker.
func (s *Supervised) Status(now time.Time) RestartStatus {
	st := s.t.Status(now)
	return RestartStatus{Failing: st.State == supervision.Failing, Restarts: st.RestartsInWindow, LastError: st.LastError}
}

// Supervision returns the status of the underlying tracker (backoff state,
// next restart) for dumps.
func (s *Supervised) Supervision(now time.Time) supervision.Status { return s.t.Status(now) }

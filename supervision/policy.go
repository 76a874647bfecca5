package supervision

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Policy is how a supervised child restarts. The zero value is not valid;
// start from DefaultPolicy.
type Policy struct {
	// InitialBackoff is the base delay before the restart that follows the
	// first of a run of consecutive failures. > 0.
	InitialBackoff time.Duration
	// MaxBackoff caps every delay, jitter included. >= InitialBackoff.
	MaxBackoff time.Duration
	// Multiplier is how much the base delay grows with each further
	// consecutive failure. >= 1 and finite (1 means a constant delay).
	Multiplier float64
	// Jitter is the fraction of the base delay that may be taken off at
	// random: the delay is uniform in (base*(1-Jitter), base]. In [0, 1).
	// Jitter spreads the restarts of replicas that failed together.
	Jitter float64
	// MaxRestarts is how many restarts may fall within any Window. >= 1.
	MaxRestarts int
	// Window is the length of the sliding window of the restart budget. > 0.
	Window time.Duration
}

// DefaultPolicy returns the restart policy of compute replicas: the first
// restart within 100 ms (a fast restart keeps detection plus restart under
// a second), doubling to at most 30 s, and at most 10 restarts in any 5
// minutes, after which the replica is reported failing. It is a function so
// that no caller can change the default for everyone.
func DefaultPolicy() Policy {
	return Policy{
		InitialBackoff: 100 * time.Millisecond,
		MaxBackoff:     30 * time.Second,
		Multiplier:     2,
		Jitter:         0.2,
		MaxRestarts:    10,
		Window:         5 * time.Minute,
	}
}

// Validate returns nil when every field is in its documented range, else an
// error wrapping ErrInvalidPolicy that names the first bad field.
func (p Policy) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s is %v, want %s", ErrInvalidPolicy, field, v, want)
	}
	switch {
	case p.InitialBackoff <= 0:
		return bad("InitialBackoff", p.InitialBackoff, "> 0")
	case p.MaxBackoff < p.InitialBackoff:
		return bad("MaxBackoff", p.MaxBackoff, fmt.Sprintf(">= InitialBackoff (%v)", p.InitialBackoff))
	case math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0) || p.Multiplier < 1:
		return bad("Multiplier", p.Multiplier, ">= 1 and finite")
	case math.IsNaN(p.Jitter) || p.Jitter < 0 || p.Jitter >= 1:
		return bad("Jitter", p.Jitter, "in [0, 1)")
	case p.MaxRestarts < 1:
		return bad("MaxRestarts", p.MaxRestarts, ">= 1")
	case p.Window <= 0:
		return bad("Window", p.Window, "> 0")
	}
	return nil
}

// Base returns the delay before jitter after the n-th consecutive failure
// (n >= 1): min(MaxBackoff, InitialBackoff * Multiplier^(n-1)). It never
// overflows: a product past MaxBackoff is MaxBackoff. p must be valid.
func (p Policy) Base(n int) time.Duration {
	if n <= 1 {
		return p.InitialBackoff
	}
	d := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(n-1))
	if math.IsInf(d, 0) || math.IsNaN(d) || d >= float64(p.MaxBackoff) {
		return p.MaxBackoff
	}
	return time.Duration(d)
}

// delay returns the jittered delay after the n-th consecutive failure,
// drawing one value from rng when Jitter > 0.
func (p Policy) delay(n int, rng *rand.Rand) time.Duration {
	base := p.Base(n)
	if p.Jitter == 0 {
		return base
	}
	// rng.Float64 is in [0, 1), so the cut is in [0, Jitter*base) and the
	// delay in (base*(1-Jitter), base]: never above the cap.
	return base - time.Duration(rng.Float64()*p.Jitter*float64(base))
}

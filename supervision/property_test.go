package supervision

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seedEnv replays one run of TestPropertyRandomHistories.
const seedEnv = "ARBOR_SUPERVISION_SEED"

func seedFor(t *testing.T) uint64 {
	seed := rand.Uint64()
	if s := os.Getenv(seedEnv); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (replay with %s=%d)", seed, seedEnv, seed)
	return seed
}

// randomPolicy returns a valid policy whose growth is visible at nanosecond
// resolution (initial >= 1ms, multiplier >= 1.1 or exactly 1).
func randomPolicy(rng *rand.Rand) Policy {
	p := Policy{
		InitialBackoff: time.Duration(1+rng.IntN(500)) * time.Millisecond,
		Multiplier:     1.1 + rng.Float64()*3,
		MaxRestarts:    1 + rng.IntN(8),
		Window:         time.Duration(1+rng.IntN(120)) * time.Second,
	}
	if rng.IntN(5) == 0 {
		p.Multiplier = 1
	}
	if rng.IntN(4) != 0 {
		p.Jitter = rng.Float64() * 0.9
	}
	p.MaxBackoff = p.InitialBackoff * time.Duration(1+rng.IntN(200))
	return p
}

// TestPropertyRandomHistories drives trackers with random policies through
// random histories of failures, duplicate reports, health reports, resets
// and status reads, and checks every invariant of the package doc against
// an oracle after every step. The seed is printed; set
// ARBOR_SUPERVISION_SEED to replay a run.
func TestPropertyRandomHistories(t *testing.T) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	for run := range 150 {
		p := randomPolicy(rng)
		trackerSeed := rng.Uint64()
		tr, err := NewTracker(p, rand.New(rand.NewPCG(trackerSeed, trackerSeed)))
		require.NoError(t, err)
		// where names the step in a failure message; it formats only then.
		where := func(step int) place { return place{seed, run, step, p} }

		// The oracle.
		now := epoch
		consecutive := 0
		var granted []time.Time // due times of restarts since the last reset
		var pending time.Time   // due time of the scheduled restart, zero if none
		failing := false
		var prevBase time.Duration
		lastErr := ""

		for step := range 200 {
			// Time moves forward: sometimes less than a pending delay (so a
			// report can be a duplicate), sometimes past a whole window.
			switch rng.IntN(4) {
			case 0:
				now = now.Add(time.Duration(rng.Int64N(int64(p.InitialBackoff))))
			case 1:
				now = now.Add(time.Duration(rng.Int64N(int64(2 * p.MaxBackoff))))
			case 2:
				now = now.Add(time.Duration(rng.Int64N(int64(p.Window))))
			}
			if !pending.IsZero() && !now.Before(pending) {
				pending = time.Time{} // the restart happened
			}
			switch op := rng.IntN(20); {
			case op < 14: // a failure
				err := fmt.Errorf("failure %d", step)
				dec := tr.Failed(now, err)
				lastErr = err.Error()
				switch {
				case failing:
					require.Equal(t, GiveUp, dec.Action, where(step))
				case !pending.IsZero():
					require.Equal(t, Decision{Action: Restart, Delay: pending.Sub(now), At: pending}, dec, "%s: a duplicate keeps the restart", where(step))
				default:
					consecutive++
					base := p.Base(consecutive)
					// Grows by the multiplier until the cap, from the initial.
					if consecutive == 1 {
						require.Equal(t, p.InitialBackoff, base, where(step))
					} else if prevBase < p.MaxBackoff && p.Multiplier > 1 {
						require.Greater(t, base, prevBase, "%s: the base grows", where(step))
						// Initial * Multiplier^(n-1) by repeated products, capped.
						f := float64(p.InitialBackoff)
						for range consecutive - 1 {
							f *= p.Multiplier
						}
						want := p.MaxBackoff
						if f < float64(p.MaxBackoff) {
							want = time.Duration(f)
						}
						require.InDelta(t, float64(want), float64(base), float64(base)*1e-12+2, "%s: base", where(step))
					} else {
						require.Equal(t, prevBase, base, where(step))
					}
					prevBase = base
					inWindow := func(from, to time.Time) int {
						n := 0
						for _, r := range granted {
							if r.After(from) && !r.After(to) {
								n++
							}
						}
						return n
					}
					if dec.Action == GiveUp {
						// Needed: the window ending at the restart (after now)
						// already holds MaxRestarts of them.
						require.GreaterOrEqual(t, inWindow(now.Add(-p.Window), now), p.MaxRestarts, "%s: gave up with budget left", where(step))
						failing = true
						break
					}
					require.Equal(t, Restart, dec.Action, where(step))
					require.LessOrEqual(t, dec.Delay, p.MaxBackoff, where(step))
					require.LessOrEqual(t, dec.Delay, base, "%s: jitter only shortens", where(step))
					lowest := time.Duration(float64(base) * (1 - p.Jitter))
					if p.Jitter == 0 {
						require.Equal(t, base, dec.Delay, where(step))
					} else {
						require.Greater(t, dec.Delay, lowest-1, "%s: jitter within bounds", where(step))
					}
					require.Equal(t, now.Add(dec.Delay), dec.At, where(step))
					// Giving up would have been required if even the earliest
					// possible window held the whole budget.
					require.Less(t, inWindow(now.Add(base-p.Window), now), p.MaxRestarts, "%s: restarted past the budget", where(step))
					granted = append(granted, dec.At)
					pending = dec.At
				}
			case op < 17:
				tr.Healthy(now)
				if !failing && pending.IsZero() {
					consecutive = 0
				}
			case op < 18:
				tr.Reset(now)
				failing, pending, consecutive, granted = false, time.Time{}, 0, nil
			default: // only a status read
			}

			// The budget holds in every window. The fullest windows end at a
			// restart, and only the newest restart's window is new.
			if n := len(granted); n > 0 {
				last := granted[n-1]
				in := 0
				for _, q := range granted {
					if q.After(last.Add(-p.Window)) {
						in++
					}
				}
				require.LessOrEqual(t, in, p.MaxRestarts, "%s: window ending at the newest restart", where(step))
			}

			st := tr.Status(now)
			switch {
			case failing:
				require.Equal(t, Failing, st.State, where(step))
				require.Equal(t, lastErr, st.LastError, "%s: failing reports the last error", where(step))
			case !pending.IsZero():
				require.Equal(t, BackingOff, st.State, where(step))
				require.Equal(t, pending, st.NextRestart, where(step))
			default:
				require.Equal(t, Running, st.State, where(step))
				require.True(t, st.NextRestart.IsZero(), where(step))
			}
			require.Equal(t, consecutive, st.ConsecutiveFailures, where(step))
			require.LessOrEqual(t, st.RestartsInWindow, p.MaxRestarts, where(step))
			b, err := json.Marshal(st)
			require.NoError(t, err)
			var back Status
			require.NoError(t, json.Unmarshal(b, &back))
			require.True(t, back.LastFailure.Equal(st.LastFailure) && back.NextRestart.Equal(st.NextRestart), where(step))
			back.LastFailure, back.NextRestart = st.LastFailure, st.NextRestart
			require.Equal(t, st, back, "%s: status survives JSON", where(step))
		}
	}
}

// place is where a property failed, formatted only when one does.
type place struct {
	seed      uint64
	run, step int
	policy    Policy
}

func (w place) String() string {
	return fmt.Sprintf("seed %d run %d step %d policy %+v", w.seed, w.run, w.step, w.policy)
}

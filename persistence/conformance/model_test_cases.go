package conformance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// seedEnv replays one run of a randomized test (see seedFor).
const seedEnv = "ARBOR_PERSISTENCE_SEED"

// seedFor returns the seed of a randomized test: ARBOR_PERSISTENCE_SEED
// when set, else a fresh one. It logs the seed and how to replay it.
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

// testRandomAgainstModel applies a random mix of appends, empty appends and
// since downgrades, and checks every snapshot, a random range read, a
// listener's first event and a long-lived listener against a model that
// never compacts. The seed is printed on failure; set
// ARBOR_PERSISTENCE_SEED to replay it.
func testRandomAgainstModel(t *testing.T, h Harness) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, seed))

	_, s := openShard(t, h)
	var model []persistence.Update // every update ever appended, uncompacted
	var upper, since timely.Timestamp
	l, err := s.Listen(ctxFor(t), timely.Minimum())
	require.NoError(t, err)
	defer l.Close()
	var listened []persistence.Update
	var listenPos timely.Timestamp
	drain := func() { // read the listener up to the upper
		for listenPos < upper {
			ev := next(t, l)
			listened = append(listened, ev.Updates...)
			listenPos, _ = ev.Progress.Time()
		}
	}

	for step := 0; step < 60; step++ {
		switch op := rng.IntN(10); {
		case op < 6: // append
			width := timely.Timestamp(1 + rng.IntN(3))
			var batch []persistence.Update
			for range rng.IntN(5) {
				u := upd(fmt.Sprintf("k%d", rng.IntN(4)), fmt.Sprintf("v%d", rng.IntN(2)),
					upper+timely.Timestamp(rng.IntN(int(width))), int64(rng.IntN(3)-1))
				batch = append(batch, u)
			}
			appendOK(t, s, batch, at(upper), at(upper+width))
			model = append(model, batch...)
			upper += width
		case op < 8: // downgrade since, at most to the listener's position (a read hold)
			if listenPos > since {
				since += timely.Timestamp(rng.IntN(int(listenPos-since) + 1))
				require.NoError(t, s.DowngradeSince(ctxFor(t), at(since)), "seed %d", seed)
			}
		default: // drain the listener
			drain()
		}
		// A random range read and a listener's first event match the model.
		if since < upper {
			lo := since + timely.Timestamp(rng.IntN(int(upper-since)))
			hi := lo + timely.Timestamp(rng.IntN(int(upper-lo)+1))
			require.Equal(t, rangeOf(model, since, lo, hi), readRange(t, s, lo, hi), "seed %d step %d range [%d, %d)", seed, step, lo, hi)
			l, err := s.Listen(ctxFor(t), at(lo))
			require.NoError(t, err)
			ev := next(t, l)
			require.NoError(t, l.Close())
			require.Equal(t, rangeOf(model, since, lo, upper), show(ev.Updates), "seed %d step %d listen from %d", seed, step, lo)
		}
		// Every readable time matches the model.
		for ts := since; ts < upper; ts++ {
			var want []persistence.Update
			for _, u := range model {
				if u.Ts <= ts {
					u.Ts = ts
					want = append(want, u)
				}
			}
			require.Equal(t, show(persistence.Consolidate(want)), snapshot(t, s, ts), "seed %d step %d ts %d", seed, step, ts)
		}
	}
	// The since never passed the listener, so it saw every update exactly.
	drain()
	require.Equal(t, show(persistence.Consolidate(append([]persistence.Update(nil), model...))),
		show(persistence.Consolidate(listened)), "seed %d: listened updates", seed)
}

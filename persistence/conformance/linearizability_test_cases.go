package conformance

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Porcupine model of a shard's upper under CompareAndAppend and Upper.
type (
	appendIn  struct{ expected, new uint64 }
	appendOut struct {
		ok      bool
		current uint64 // the mismatch's current upper
	}
	upperIn  struct{}
	upperOut struct{ upper uint64 }
)

var upperModel = porcupine.Model{
	Init: func() any { return uint64(0) },
	Step: func(state, input, output any) (bool, any) {
		upper := state.(uint64)
		switch in := input.(type) {
		case appendIn:
			out := output.(appendOut)
			if out.ok {
				return upper == in.expected, in.new
			}
			return upper != in.expected && out.current == upper, upper
		case upperIn:
			return output.(upperOut).upper == upper, upper
		}
		return false, upper
	},
}

// testLinearizability records concurrent CompareAndAppend and Upper calls
// from several handles and checks the history with porcupine against a
// single register holding the upper. The seed is printed; set
// ARBOR_PERSISTENCE_SEED to replay the choices (timing still varies).
func testLinearizability(t *testing.T, h Harness) {
	seed := seedFor(t)

	st, _ := openShard(t, h)
	const clients, ops = 4, 25
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }
	var mu sync.Mutex
	var history []porcupine.Operation
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		s, err := st.OpenShard(ctxFor(t), "test")
		require.NoError(t, err)
		defer s.Close()
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		wg.Go(func() {
			ctx := ctxFor(t)
			var known uint64 // the last upper this client saw
			for range ops {
				op := porcupine.Operation{ClientId: c}
				if rng.IntN(4) == 0 {
					op.Input = upperIn{}
					op.Call = now()
					u, err := s.Upper(ctx)
					op.Return = now()
					if err != nil {
						errs <- err
						return
					}
					ts, _ := u.Time()
					known = uint64(ts)
					op.Output = upperOut{known}
				} else {
					expected := known
					if rng.IntN(5) == 0 && expected > 0 {
						expected -= uint64(rng.IntN(int(expected)) + 1) // deliberately stale
					}
					in := appendIn{expected: expected, new: expected + 1 + uint64(rng.IntN(2))}
					op.Input = in
					u := []persistence.Update{{Key: []byte{byte(c)}, Ts: timely.Timestamp(expected), Diff: 1}}
					op.Call = now()
					err := s.CompareAndAppend(ctx, u, timely.At(timely.Timestamp(in.expected)), timely.At(timely.Timestamp(in.new)))
					op.Return = now()
					var m *persistence.UpperMismatchError
					switch {
					case err == nil:
						op.Output = appendOut{ok: true}
						known = in.new
					case errors.As(err, &m):
						cur, _ := m.Current.Time()
						op.Output = appendOut{current: uint64(cur)}
						known = uint64(cur)
					default:
						errs <- err
						return
					}
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	res := porcupine.CheckOperationsTimeout(upperModel, history, 10*time.Second)
	require.Equal(t, porcupine.Ok, res, "seed %d: history of %d operations is not linearizable", seed, len(history))
}

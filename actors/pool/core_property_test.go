package pool

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// coreSeedEnv replays one seed of TestCoreAnswersEveryRequestOnce:
//
//	POOL_SEED=17 go test ./actors/pool -run TestCoreAnswersEveryRequestOnce -v
const coreSeedEnv = "POOL_SEED"

// TestCoreAnswersEveryRequestOnce drives the core with seeded random
// interleavings of requests, worker answers (possibly late, after the
// worker's part was already failed), drops and worker panics, and checks
// the core's invariants after every step and, at the end, once every
// worker still alive has answered what it was asked, that nothing is
// pending and every request got exactly one reply. Seeds are 1..200; a
// failure prints its seed (replay it with POOL_SEED).
func TestCoreAnswersEveryRequestOnce(t *testing.T) {
	if s := os.Getenv(coreSeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", coreSeedEnv, s, err)
		}
		runCoreProperty(t, seed)
		return
	}
	stopped := 0
	for seed := uint64(1); seed <= 200; seed++ {
		stopped += runCoreProperty(t, seed)
	}
	if stopped == 0 {
		t.Fatal("no seed stopped a worker: the MaxRestarts rule went unexercised")
	}
}

// ask is a message the core sent a worker that expects an answer.
type ask struct {
	worker int
	msg    any
}

// runCoreProperty runs one seed and returns how many workers it stopped.
func runCoreProperty(t *testing.T, seed uint64) int {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x51ed2701))
	c := newCore(3, 2)
	replies := map[string]int{} // by request sender
	var issued []string
	var asks []ask
	apply := func(eff effects) {
		for _, s := range eff.Sends {
			switch s.msg.(type) {
			case *workerRegister, *workerSubmit, *workerTick:
				asks = append(asks, ask{worker: s.worker, msg: s.msg})
			}
		}
		for _, r := range eff.Replies {
			replies[r.to.Id]++
		}
		if err := c.check(); err != nil {
			t.Fatalf("seed %d (replay with %s=%d): %v", seed, coreSeedEnv, seed, err)
		}
	}
	sender := func() *actor.PID {
		name := fmt.Sprintf("r%d", len(issued))
		issued = append(issued, name)
		return actor.NewPID("property", name)
	}
	flows := func() []FlowId {
		var fs []FlowId
		for f := range FlowId(9) {
			if rng.IntN(3) == 0 {
				fs = append(fs, f)
			}
		}
		return fs
	}
	answer := func(i int) {
		a := asks[i]
		asks = append(asks[:i], asks[i+1:]...)
		r := &workerReply{worker: a.worker}
		switch m := a.msg.(type) {
		case *workerRegister:
			r.req = m.req
			r.results = []FlowResult{{Flow: m.spec.Id, Upper: m.checkpoint}}
		case *workerSubmit:
			r.req = m.req
			for _, b := range m.batches {
				r.results = append(r.results, FlowResult{Flow: b.Flow, Upper: b.Upper})
			}
		case *workerTick:
			r.req = m.req
		}
		apply(c.WorkerReplied(r))
	}
	for range 200 {
		switch rng.IntN(7) {
		case 0:
			apply(c.Register(sender(), &RegisterFlow{Spec: FlowSpec{Id: FlowId(rng.IntN(9))}}))
		case 1:
			var bs []FlowBatch
			for _, f := range flows() {
				bs = append(bs, FlowBatch{Flow: f, Upper: 1})
			}
			apply(c.Submit(sender(), bs, -1))
		case 2:
			apply(c.Tick(sender(), &Tick{Flows: flows()}))
		case 3, 4:
			if len(asks) > 0 {
				answer(rng.IntN(len(asks)))
			}
		case 5:
			w := rng.IntN(3)
			apply(c.WorkerFailed(w, "property"))
			if c.dead[w] {
				// A stopped worker answers nothing more.
				kept := asks[:0]
				for _, a := range asks {
					if a.worker != w {
						kept = append(kept, a)
					}
				}
				asks = kept
			}
		case 6:
			apply(c.Drop(FlowId(rng.IntN(9))))
		}
	}
	for len(asks) > 0 {
		answer(0)
	}
	if c.Pending() != 0 {
		t.Fatalf("seed %d (replay with %s=%d): %d requests still pending after every live worker answered", seed, coreSeedEnv, seed, c.Pending())
	}
	for _, name := range issued {
		if replies[name] != 1 {
			t.Fatalf("seed %d (replay with %s=%d): request %s got %d replies", seed, coreSeedEnv, seed, name, replies[name])
		}
	}
	n := 0
	for _, d := range c.dead {
		if d {
			n++
		}
	}
	return n
}

package durable_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

var linSeed = flag.Int64("lin.seed", 0, "seed of the catalog linearizability test (0: derive from the time)")

// The linearizability test runs several clients against one catalog. Each
// client owns at most one writable handle at a time and, driven by its own
// seeded source, opens a new handle (fencing everyone), commits an
// increment of the "counter" config, reads through its handle, or opens a
// read-only handle and reads. The model is {epoch, catalog version}: the
// latest writer's epoch and the counter.

type linOpKind int

const (
	linOpen linOpKind = iota
	linCommit
	linRead
	linReadOnly
)

func (k linOpKind) String() string {
	return [...]string{"open", "commit", "read", "read-only"}[k]
}

type linInput struct {
	op linOpKind
	// epoch of the handle used (commit, read).
	epoch int64
}

type linResult int

const (
	linOK linResult = iota
	linFenced
	// linUnknown: a backend error; the outcome may or may not have happened.
	linUnknown
	// linUnexpected: any other error, which the model never allows.
	linUnexpected
)

type linOutput struct {
	result  linResult
	epoch   int64
	version uint64
	err     string
}

type linState struct {
	epoch   int64
	version uint64
}

var linModel = porcupine.NondeterministicModel{
	Init: func() []any { return []any{linState{}} },
	Step: func(st, in, out any) []any {
		s, i, o := st.(linState), in.(linInput), out.(linOutput)
		switch i.op {
		case linOpen:
			switch o.result {
			case linOK:
				if o.epoch == s.epoch+1 {
					return []any{linState{o.epoch, s.version}}
				}
			case linUnknown:
				return []any{s, linState{s.epoch + 1, s.version}}
			}
		case linCommit:
			switch o.result {
			case linOK:
				if s.epoch == i.epoch && o.version == s.version+1 {
					return []any{linState{s.epoch, o.version}}
				}
			case linFenced:
				if s.epoch > i.epoch {
					return []any{s}
				}
			case linUnknown:
				if s.epoch == i.epoch {
					return []any{s, linState{s.epoch, s.version + 1}}
				}
				return []any{s}
			}
		case linRead:
			switch o.result {
			case linOK:
				if s.epoch == i.epoch && o.epoch == s.epoch && o.version == s.version {
					return []any{s}
				}
			case linFenced:
				if s.epoch > i.epoch {
					return []any{s}
				}
			case linUnknown:
				return []any{s}
			}
		case linReadOnly:
			switch o.result {
			case linOK:
				if o.epoch == s.epoch && o.version == s.version {
					return []any{s}
				}
			case linUnknown:
				return []any{s}
			}
		}
		return nil
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(linInput), out.(linOutput)
		switch o.result {
		case linOK:
			return fmt.Sprintf("%s(epoch %d) -> ok(epoch %d, version %d)", i.op, i.epoch, o.epoch, o.version)
		case linFenced:
			return fmt.Sprintf("%s(epoch %d) -> fenced", i.op, i.epoch)
		}
		return fmt.Sprintf("%s(epoch %d) -> error %s", i.op, i.epoch, o.err)
	},
	DescribeState: func(st any) string {
		s := st.(linState)
		return fmt.Sprintf("{epoch %d, version %d}", s.epoch, s.version)
	},
}

func classify(err error) linOutput {
	switch {
	case err == nil:
		return linOutput{result: linOK}
	case errors.Is(err, durable.ErrFenced):
		return linOutput{result: linFenced, err: err.Error()}
	case errors.Is(err, durable.ErrBackend):
		return linOutput{result: linUnknown, err: err.Error()}
	}
	return linOutput{result: linUnexpected, err: err.Error()}
}

type linRun struct {
	t       testing.TB
	e       *env
	faults  float64 // fraction of backend calls that fail
	clock   atomic.Int64
	mu      sync.Mutex
	history []porcupine.Operation
}

func (r *linRun) record(client int, in linInput, call int64, out linOutput) {
	ret := r.clock.Add(1)
	if out.result == linUnknown {
		// An unknown outcome may take effect any time later.
		ret = 1 << 62
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history = append(r.history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// errFault is an injected backend failure.
var errFault = errors.New("injected fault")

// faultyShard fails a fraction of compare-and-appends, half of them before
// appending (nothing written) and half after (written, but the caller is told
// it failed: a lost response), and a fraction of upper reads. Its source is
// seeded and used by one client only.
type faultyShard struct {
	persistence.Shard
	rng *rand.Rand
	p   float64
}

func (f *faultyShard) CompareAndAppend(ctx context.Context, us []persistence.Update, expected, newUpper timely.Frontier) error {
	switch x := f.rng.Float64(); {
	case x < f.p/2:
		return errFault
	case x < f.p:
		if err := f.Shard.CompareAndAppend(ctx, us, expected, newUpper); err != nil {
			return err
		}
		return errFault
	}
	return f.Shard.CompareAndAppend(ctx, us, expected, newUpper)
}

func (f *faultyShard) Upper(ctx context.Context) (timely.Frontier, error) {
	if f.rng.Float64() < f.p/4 {
		return timely.Frontier{}, errFault
	}
	return f.Shard.Upper(ctx)
}

func (r *linRun) client(ctx context.Context, id int, rng, faults *rand.Rand, ops int) {
	config := func(mode durable.Mode) durable.Config {
		cfg := r.e.config(mode, 1)
		if r.faults > 0 {
			cfg.Catalog = &faultyShard{Shard: cfg.Catalog, rng: faults, p: r.faults}
		}
		return cfg
	}
	var h *durable.Handle
	for n := 0; n < ops; n++ {
		kind := linOpen
		if h != nil {
			switch p := rng.Intn(100); {
			case p < 10:
				kind = linOpen
			case p < 60:
				kind = linCommit
			case p < 85:
				kind = linRead
			default:
				kind = linReadOnly
			}
		}
		in := linInput{op: kind}
		if h != nil {
			in.epoch = h.Token().Epoch
		}
		call := r.clock.Add(1)
		var out linOutput
		switch kind {
		case linOpen:
			nh, err := durable.Open(ctx, config(durable.Writable))
			out = classify(err)
			if err == nil {
				h = nh
				out.epoch = nh.Token().Epoch
			}
		case linCommit:
			var v uint64
			var tx *durable.Transaction
			var err error
			if rng.Intn(2) == 0 {
				tx, err = h.Begin() // optimistic, as the guardian commits
			} else {
				tx, err = h.Transaction(ctx)
			}
			if err == nil {
				c, _ := tx.Config("counter")
				v = c + 1
				if err = tx.SetConfig("counter", v); err == nil {
					_, err = tx.Commit(ctx)
				}
			}
			out = classify(err)
			out.version = v
		case linRead:
			snap, err := h.Snapshot(ctx)
			out = classify(err)
			if err == nil {
				out.epoch = snap.FenceToken().Epoch
				out.version, _ = snap.Config("counter")
			}
		case linReadOnly:
			ro, err := durable.Open(ctx, config(durable.ReadOnly))
			var snap *durable.Snapshot
			if err == nil {
				snap, err = ro.Snapshot(ctx)
			}
			out = classify(err)
			if err == nil {
				out.epoch = snap.FenceToken().Epoch
				out.version, _ = snap.Config("counter")
			}
		}
		r.record(id, in, call, out)
		if out.result == linFenced || (out.result == linUnknown && kind == linCommit) {
			// A fenced handle is done; after a commit of unknown outcome
			// the guardian restarts and reopens, and so does the client.
			h = nil
		}
	}
}

// checkLinearizable runs clients×ops random operations from seed against a
// fresh catalog in store and checks the history with porcupine.
func checkLinearizable(t *testing.T, store persistence.Store, seed int64, clients, ops int, faults float64) {
	t.Helper()
	r := &linRun{t: t, e: newEnvOn(t, store), faults: faults}
	var wg sync.WaitGroup
	for c := range clients {
		rng := rand.New(rand.NewSource(seed + int64(c)))
		faults := rand.New(rand.NewSource(seed*31 + int64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.client(r.e.ctx, c, rng, faults, ops)
		}()
	}
	wg.Wait()
	for _, op := range r.history {
		if o := op.Output.(linOutput); o.result == linUnexpected {
			t.Fatalf("seed %d: unexpected error from %s: %s (replay with -lin.seed=%d)", seed, op.Input.(linInput).op, o.err, seed)
		}
	}
	counts := map[linResult]int{}
	for _, op := range r.history {
		counts[op.Output.(linOutput).result]++
	}
	t.Logf("seed %d (faults %.2f): %d ok, %d fenced, %d unknown", seed, faults, counts[linOK], counts[linFenced], counts[linUnknown])
	res, info := porcupine.CheckOperationsVerbose(linModel.ToModel(), r.history, 30*time.Second)
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		for _, part := range info.PartialLinearizationsOperations() {
			for _, lin := range part {
				var desc []string
				for _, op := range lin {
					desc = append(desc, linModel.DescribeOperation(op.Input, op.Output))
				}
				t.Logf("longest linearizable prefix: %v", desc)
			}
		}
		t.Fatalf("seed %d: history of %d operations is not linearizable (replay with -lin.seed=%d)", seed, len(r.history), seed)
	default:
		t.Logf("seed %d: linearizability check timed out (%s)", seed, res)
	}
}

func linSeeds(t *testing.T, n int) []int64 {
	if *linSeed != 0 {
		return []int64{*linSeed}
	}
	base := time.Now().UnixNano()
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = base + int64(i)
	}
	return seeds
}

func TestLinearizability(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			newStore := b.setup(t)
			rounds, clients, ops := 6, 4, 50
			if b.name != "mem" {
				rounds, ops = 3, 30
			}
			for _, seed := range linSeeds(t, rounds) {
				// Odd seeds inject backend faults, so some outcomes are
				// unknown; a replayed seed injects the same ones.
				faults := 0.0
				if seed&1 == 1 {
					faults = 0.1
				}
				checkLinearizable(t, newStore(t), seed, clients, ops, faults)
				if t.Failed() {
					return
				}
			}
		})
	}
}

package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// storeRunner carries out the coordinator's store operations in
// goroutines it owns, one per operation, so that the actor keeps
// answering while the store works. Each store call gets a context with
// Config.StoreTimeout; the outcome comes back to the actor as a
// storeDone message. stop cancels what is in flight and waits for it.
// The actor starts at most two operations at a time: the Core's read or
// commit, and the checkpoints read of the first install.
type storeRunner struct {
	// constant after construction
	root    *actor.RootContext
	self    *actor.PID
	store   Store
	timeout time.Duration
	chunk   int
	metrics *coordMetrics

	ctx    context.Context // canceled by stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newStoreRunner(ctx actor.Context, cfg Config, m *coordMetrics) *storeRunner {
	r := &storeRunner{
		root: ctx.ActorSystem().Root, self: ctx.Self(), store: cfg.Store,
		timeout: cfg.StoreTimeout, chunk: cfg.BackfillChunk, metrics: m,
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// stop cancels the operations in flight and waits for their goroutines.
// Safe on nil and more than once.
func (r *storeRunner) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
}

// opKind says what a store operation does.
type opKind uint8

const (
	opRead opKind = iota + 1
	opCommit
	opCheckpoints
)

// String is the operation's label in metrics.
func (k opKind) String() string {
	switch k {
	case opRead:
		return "read"
	case opCommit:
		return "commit"
	case opCheckpoints:
		return "checkpoints"
	}
	return "unknown"
}

// storeOp is one store operation in flight. The actor compares the op of
// a storeDone with the ones it started, by pointer: an outcome of an
// earlier incarnation's operation matches none.
type storeOp struct {
	kind   opKind
	what   string  // names the operation in errors, logs and Status
	commit *Commit // opCommit: what is being committed
}

// storeDone reports a store operation's outcome to the actor.
type storeDone struct {
	op          *storeOp
	reads       []ReadResult                     // opRead
	checkpoints map[pool.FlowId]timely.Timestamp // opCheckpoints
	err         error                            // opCommit, opCheckpoints
}

func (r *storeRunner) start(op *storeOp, do func(*storeDone)) *storeOp {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		done := &storeDone{op: op}
		do(done)
		r.root.Send(r.self, done)
	}()
	return op
}

// call makes one store call with the timeout. A call that ends because
// the deadline passed fails with an error naming the operation that
// matches messages.ErrTimeout (code TIMEOUT).
func (r *storeRunner) call(kind opKind, what string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.metrics.storeTimeouts.WithLabelValues(kind.String()).Inc()
		return fmt.Errorf("%s: %w after %s", what, messages.ErrTimeout, r.timeout)
	}
	return err
}

// commit commits c.
func (r *storeRunner) commit(c Commit) *storeOp {
	n := 0
	for _, us := range c.Outputs {
		n += len(us)
	}
	op := &storeOp{kind: opCommit, what: fmt.Sprintf("commit of %d output changes and %d checkpoints", n, len(c.Checkpoints)), commit: &c}
	return r.start(op, func(d *storeDone) {
		d.err = r.call(opCommit, op.what, func(ctx context.Context) error { return r.store.Commit(ctx, c) })
	})
}

// checkpoints reads the committed checkpoints.
func (r *storeRunner) checkpoints() *storeOp {
	op := &storeOp{kind: opCheckpoints, what: "checkpoints read"}
	return r.start(op, func(d *storeDone) {
		d.err = r.call(opCheckpoints, op.what, func(ctx context.Context) error {
			cps, err := r.store.Checkpoints(ctx)
			d.checkpoints = cps
			return err
		})
		if d.err == nil && d.checkpoints == nil {
			d.checkpoints = map[pool.FlowId]timely.Timestamp{}
		}
	})
}

// reads performs a backfill round's reads. From a checkpoint above zero it
// reads each flow's range in windows of timestamps that start at the chunk
// size and double, and stops once it holds a chunk's worth of versions, so
// that a round costs about a chunk however far behind the flow is. Each
// window of each source is one store call with its own deadline.
func (r *storeRunner) reads(reqs []ReadRequest) *storeOp {
	what := fmt.Sprintf("backfill reads of %d flows", len(reqs))
	if len(reqs) == 1 {
		what = fmt.Sprintf("backfill read of flow %d [%d, %d)", reqs[0].Flow, reqs[0].From, reqs[0].To)
	}
	op := &storeOp{kind: opRead, what: what}
	return r.start(op, func(d *storeDone) {
		d.reads = make([]ReadResult, 0, len(reqs))
		for _, req := range reqs {
			d.reads = append(d.reads, r.read(req))
		}
	})
}

func (r *storeRunner) read(req ReadRequest) ReadResult {
	res := ReadResult{Flow: req.Flow, Updates: map[timely.GlobalId][]dataflow.Update{}}
	versions := map[timely.Timestamp]bool{}
	width := timely.Timestamp(r.chunk)
	if req.From == 0 {
		// A new flow reads its whole history once: below the sources'
		// since only the whole range is readable (compacted history
		// comes at the since).
		width = req.To
	}
	for lo := req.From; lo < req.To && len(versions) < r.chunk && res.Err == nil; width *= 2 {
		hi := req.To
		if req.To-lo > width {
			hi = lo + width
		}
		for _, s := range req.Sources {
			var us []dataflow.Update
			if have, ok := req.Cached[s.Id]; ok {
				// The coordinator holds these changes (the collection's
				// CDC): no store call.
				for _, u := range have {
					if u.Time >= lo && u.Time < hi {
						versions[u.Time] = true
						res.Updates[s.Id] = append(res.Updates[s.Id], u)
					}
				}
				continue
			}
			what := fmt.Sprintf("read of %s %s [%d, %d)", s.Kind, s.Id, lo, hi)
			err := r.call(opRead, what, func(ctx context.Context) error {
				var err error
				us, err = r.store.Read(ctx, s, lo, hi)
				return err
			})
			if err != nil {
				res.Err = err
				break
			}
			for _, u := range us {
				versions[u.Time] = true
			}
			res.Updates[s.Id] = append(res.Updates[s.Id], us...)
		}
		res.To, lo = hi, hi
	}
	return res
}

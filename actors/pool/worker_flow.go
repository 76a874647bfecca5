package pool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// flowState is one flow inside a worker: its running dataflow, its
// checkpoint (every source update before it has been applied) and the
// peeks waiting for its frontier. It does no I/O except through the
// Reader it is built with.
type flowState struct {
	spec       FlowSpec
	df         *dataflow.Dataflow
	checkpoint timely.Timestamp
	broken     error // set when a batch or rebuild failed half way
	peeks      []Peek
}

// buildFlow instantiates spec and replays its sources up to checkpoint.
// The outputs of the replay were committed by an earlier incarnation, so
// they are dropped. Each source read gets its own deadline, timeout: a
// worker rebuilds inside its Receive (it cannot answer for the flow
// before the rebuild anyway), and the deadline bounds that wait.
func buildFlow(spec FlowSpec, checkpoint timely.Timestamp, r Reader, timeout time.Duration) (*flowState, error) {
	f := &flowState{spec: spec}
	f.df = dataflow.NewDataflow(spec.Plan, dataflow.Config{AsOf: spec.AsOf, DiscardUpdates: !spec.Materialized})
	if checkpoint == 0 {
		return f, nil
	}
	if r == nil {
		return nil, fmt.Errorf("%w: flow %d at %d", ErrNoReader, spec.Id, checkpoint)
	}
	for _, src := range spec.Sources {
		us, err := readWithin(r, timeout, src, checkpoint)
		if err != nil {
			return nil, fmt.Errorf("rebuild flow %d: %w", spec.Id, err)
		}
		if err := f.df.Push(src.Id, us); err != nil {
			return nil, fmt.Errorf("rebuild flow %d: %w", spec.Id, err)
		}
	}
	for _, src := range spec.Sources {
		if err := f.df.AdvanceInput(src.Id, timely.At(checkpoint)); err != nil {
			return nil, fmt.Errorf("rebuild flow %d: %w", spec.Id, err)
		}
	}
	f.df.TakeOutput()
	f.checkpoint = checkpoint
	return f, nil
}

// apply feeds one batch. On an error after the dataflow was touched, the
// flow is marked broken and must be rebuilt.
func (f *flowState) apply(b FlowBatch) FlowResult {
	res := FlowResult{Flow: b.Flow, Upper: f.checkpoint}
	if f.broken != nil {
		res.Err = fmt.Errorf("%w: flow %d: %v", ErrFlowBroken, b.Flow, f.broken)
		return res
	}
	if b.From != f.checkpoint || b.Upper < b.From {
		res.Err = fmt.Errorf("%w: flow %d is at %d, batch covers [%d, %d)", ErrCheckpointMismatch, b.Flow, f.checkpoint, b.From, b.Upper)
		return res
	}
	for id, us := range b.Updates {
		if err := f.df.Push(id, us); err != nil {
			f.broken = err
			res.Err = fmt.Errorf("flow %d: %w", b.Flow, err)
			return res
		}
	}
	if b.Upper > b.From {
		for _, src := range f.spec.Sources {
			if err := f.df.AdvanceInput(src.Id, timely.At(b.Upper)); err != nil {
				f.broken = err
				res.Err = fmt.Errorf("flow %d: %w", b.Flow, err)
				return res
			}
		}
	}
	f.checkpoint = b.Upper
	res.Upper = b.Upper
	res.Output, res.Errors = f.df.TakeOutput()
	return res
}

// answerPeeks answers every waiting peek whose time the frontier passed.
func (f *flowState) answerPeeks(reply func(Peek, []dataflow.Row, error)) {
	if f.df == nil {
		return // broken before it was built: peeks wait for the rebuild
	}
	keep := f.peeks[:0]
	for _, p := range f.peeks {
		rows, err := f.df.Peek(p.Spec)
		if errors.Is(err, dataflow.ErrNotReady) {
			keep = append(keep, p)
			continue
		}
		reply(p, rows, err)
	}
	f.peeks = keep
}

// readWithin reads src below checkpoint with a deadline of timeout. A
// read that runs out of time fails with an error naming the read that
// matches messages.ErrTimeout; other errors are the Reader's, which names
// what it read.
func readWithin(r Reader, timeout time.Duration, src Source, checkpoint timely.Timestamp) ([]dataflow.Update, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	us, err := r.Read(ctx, src, 0, checkpoint)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("read of %s %s below %d: %w after %s", src.Kind, src.Id, checkpoint, messages.ErrTimeout, timeout)
	}
	return us, err
}

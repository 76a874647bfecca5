package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
)

// handleWrite validates a write and stages it for the next group commit;
// an invalid write is answered at once and nothing of it is staged.
func (a *storageActor) handleWrite(ctx actor.Context, m *messages.StorageWrite) {
	w, err := a.state.DecodeWrite(m)
	if err != nil {
		a.rejectWrite(ctx.Sender(), err)
		a.respond(ctx, &messages.StorageWriteResponse{Error: ErrorToWire(err)})
		return
	}
	a.state.Stage(w, ctx.Sender())
	if a.cfg.CommitInterval == 0 && !a.commitQueued {
		// Behind every write already in the mailbox: they join this group.
		ctx.Send(ctx.Self(), commitNow{})
		a.commitQueued = true
	}
}

func (a *storageActor) rejectWrite(sender *actor.PID, err error) {
	a.metrics.RejectedWrites.WithLabelValues(ErrorToWire(err).Code.String()).Inc()
	a.cfg.Logger.Debug("rejected write", "sender", sender, "err", err)
}

// commit runs one group commit of the staged writes, if any: every live
// table's shard is appended at the commit timestamp (in parallel), then
// the writers are answered and the subscriptions get the version. A failed
// append leaves the uppers in an unknown state: the writers are answered
// with ErrBackend (outcome unknown) and the actor panics so that its
// supervisor restarts it, which recovers the uppers from the shards.
func (a *storageActor) commit(ctx actor.Context) {
	c, ok := a.state.PlanCommit(a.now())
	if !ok {
		return
	}
	if err := a.appendAll(c); err != nil {
		werr := fmt.Errorf("%w: group commit at %d: %w (the write may or may not be durable)", ErrBackend, c.Ts, err)
		for _, tok := range c.Tokens {
			a.rejectWrite(nil, werr)
			a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: ErrorToWire(werr)})
		}
		a.cfg.Logger.Error("group commit failed", "ts", c.Ts, "err", err)
		panic(werr)
	}
	ds := a.state.ApplyCommit(c)
	resp := &messages.StorageWriteResponse{Timestamp: uint64(c.Ts)}
	for _, tok := range c.Tokens {
		a.reply(ctx, tok.(*actor.PID), resp)
	}
	a.deliver(ctx, ds)
	a.metrics.Writes.Add(float64(len(c.Tokens)))
	a.metrics.Rows.Add(float64(c.Rows))
	a.metrics.GroupCommitSize.Observe(float64(len(c.Tokens)))
	a.metrics.CdcLag.Set(float64(a.state.CdcLag()))
}

// appendAll performs c's appends in the order commit_log.go explains: a
// group that uses the commit log appends it first; then every table is
// appended concurrently (so a backend that syncs can share the syncs). It
// returns after every append finished; the goroutines do not outlive it.
func (a *storageActor) appendAll(c *Commit) error {
	ctx := context.Background()
	if c.UseLog {
		if err := a.shards.appendLog(ctx, c.Log, c.Upper); err != nil {
			return err
		}
	}
	if len(c.Appends) == 1 {
		return a.appendOne(ctx, c.Appends[0], c)
	}
	errs := make([]error, len(c.Appends))
	var wg sync.WaitGroup
	for i, ap := range c.Appends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.appendOne(ctx, ap, c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (a *storageActor) appendOne(ctx context.Context, ap Append, c *Commit) error {
	s, ok := a.shards.tables[ap.Table]
	if !ok {
		return fmt.Errorf("table %s has no open shard", ap.Table)
	}
	if err := s.CompareAndAppend(ctx, ap.Updates, c.Lower, c.Upper); err != nil {
		return fmt.Errorf("table %s: %w", ap.Table, err)
	}
	return nil
}

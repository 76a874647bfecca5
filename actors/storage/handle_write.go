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
		a.respond(ctx, &messages.StorageWriteResponse{Error: messages.ErrorToWire(err)})
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
	a.metrics.RejectedWrites.WithLabelValues(messages.CodeOf(err).String()).Inc()
	a.cfg.Logger.Debug("rejected write", "sender", sender, "err", err)
}

// commit runs one group commit of the staged writes, if any: every live
// table's shard is appended at the commit timestamp (in parallel), then
// the writers are answered and the subscriptions get the version. A failed
// or timed-out append leaves the uppers in an unknown state: the writers
// are answered with ErrBackend or a *TimeoutError (outcome unknown) and the
// actor panics so that its supervisor restarts it, which recovers the
// uppers from the shards.
//
// The appends run while the actor waits (bounded by Config.CallTimeout):
// the next group must start from this group's upper, and table creation
// and drops must not interleave with a group, so the actor does not take
// other messages meanwhile. See doc.go, "Waits".
func (a *storageActor) commit(ctx actor.Context) {
	c, ok := a.state.PlanCommit(a.now())
	if !ok {
		return
	}
	if err := a.appendAll(c); err != nil {
		werr := fmt.Errorf("%w (the write may or may not be durable)", err)
		for _, tok := range c.Tokens {
			a.rejectWrite(nil, werr)
			a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: messages.ErrorToWire(werr)})
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
// appended concurrently (so a backend that syncs can share the syncs). The
// log append and the table appends each have one call deadline. It
// returns after every append finished; the goroutines do not outlive it.
// Every error it returns is outcomeUnknown and names the group and the
// shard.
func (a *storageActor) appendAll(c *Commit) error {
	op := fmt.Sprintf("group commit at %d", c.Ts)
	if c.UseLog {
		ctx, cancel := a.call()
		err := a.shards.appendLog(ctx, op, c.Log, c.Upper)
		cancel()
		if err != nil {
			return err
		}
	}
	ctx, cancel := a.call()
	defer cancel()
	if len(c.Appends) == 1 {
		return a.appendOne(ctx, op, c.Appends[0], c)
	}
	errs := make([]error, len(c.Appends))
	var wg sync.WaitGroup
	for i, ap := range c.Appends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.appendOne(ctx, op, ap, c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (a *storageActor) appendOne(ctx context.Context, op string, ap Append, c *Commit) error {
	s, ok := a.shards.tables[ap.Table]
	if !ok {
		return fmt.Errorf("%w: %s: table %s has no open shard", ErrBackend, op, ap.Table)
	}
	if err := s.CompareAndAppend(ctx, ap.Updates, c.Lower, c.Upper); err != nil {
		return onTable(ap.Table, backendError(ctx, a.cfg.CallTimeout, fmt.Sprintf("%s: append table %s", op, ap.Table), err))
	}
	return nil
}

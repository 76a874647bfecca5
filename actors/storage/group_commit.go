package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
)

// A group commit's shard appends run in a goroutine the actor owns, so the
// actor keeps answering (frontiers, reads, new writes, read holds) while
// they are in flight. At most one group is in flight: the next group
// starts at this group's upper, and recovery after a crash completes only
// the last group (commit_log.go). While a group is in flight:
//
//   - new writes are staged for the next group, which starts when this one
//     is done;
//   - creating or dropping a table waits (deferred, with every request
//     behind it, in arrival order): a new table must join the common
//     upper, and a drop commits the writes staged before it first;
//   - compaction waits (the commit log's frontiers belong to the
//     goroutine until it is done);
//   - stopping or restarting cancels the appends and waits for them; a
//     restart carries the waiting requests to the next incarnation
//     (carry.go), which serves them first, and stopping fails them with
//     ErrStopping.
//
// The goroutine touches only the shard handles and the commit log's upper
// (shards), which the actor leaves alone while it runs, and reports with a
// commitDone message.

// groupCommit is the group commit in flight.
type groupCommit struct {
	c      *Commit
	cancel context.CancelFunc
	// done closes when the goroutine has finished; err is its outcome,
	// readable after done.
	done chan struct{}
	err  error
}

// commitDone reports that the appends of g finished.
type commitDone struct{ g *groupCommit }

// commit starts a group commit of the staged writes, if any and if none
// is in flight (otherwise the next one starts when it is done).
func (a *storageActor) commit(ctx actor.Context) {
	if a.inflight != nil {
		a.commitWanted = true
		return
	}
	a.commitWanted = false
	if err := a.writer.refusal(); err != nil {
		a.failStaged(ctx, err)
		return
	}
	c, ok := a.state.PlanCommit(a.now())
	if !ok {
		return
	}
	parent, cancel := context.WithCancel(context.Background())
	g := &groupCommit{c: c, cancel: cancel, done: make(chan struct{})}
	a.inflight = g
	sh, timeout := a.shards, a.cfg.CallTimeout
	_, token := a.writer.spec()
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		defer close(g.done)
		g.err = appendAll(parent, sh, timeout, token, c)
		root.Send(self, commitDone{g: g})
	}()
}

// handleCommitDone finishes the group in flight: on success the writers
// are answered and the subscriptions get the version. A failed or
// timed-out append leaves the uppers in an unknown state: the writers are
// answered with ErrBackend or a *TimeoutError (outcome unknown) and the
// actor panics so that its supervisor restarts it, which recovers the
// uppers from the shards. Then what waited for the group runs: compaction,
// the deferred requests, the next group.
func (a *storageActor) handleCommitDone(ctx actor.Context, m commitDone) {
	g := a.inflight
	if g == nil || m.g != g {
		return // from an incarnation that stopped it
	}
	<-g.done
	g.cancel()
	a.inflight = nil
	c := g.c
	var fe *FenceError
	if errors.As(g.err, &fe) {
		// A newer writer owns the storage: nothing of the group was
		// written (its log append, the commit point, failed). Refuse
		// every later write; the node halts.
		for _, tok := range c.Tokens {
			a.rejectWrite(nil, fe)
			a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: messages.ErrorToWire(fe)})
		}
		a.cfg.Logger.Error("group commit fenced", "ts", c.Ts, "err", fe)
		a.writer.fence(fe)
		a.failStaged(ctx, fe)
		a.drain(ctx)
		return
	}
	if g.err != nil {
		werr := fmt.Errorf("%w (the write may or may not be durable)", g.err)
		for _, tok := range c.Tokens {
			a.rejectWrite(nil, werr)
			a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: messages.ErrorToWire(werr)})
		}
		a.cfg.Logger.Error("group commit failed", "ts", c.Ts, "err", g.err)
		panic(werr)
	}
	ds := a.state.ApplyCommit(c)
	// Counted before the writers are answered: a writer holding its
	// answer finds its group in the metrics.
	a.metrics.Writes.Add(float64(len(c.Tokens)))
	a.metrics.Rows.Add(float64(c.Rows))
	a.metrics.GroupCommitSize.Observe(float64(len(c.Tokens)))
	a.metrics.CdcLag.Set(float64(a.state.CdcLag()))
	resp := &messages.StorageWriteResponse{Timestamp: uint64(c.Ts)}
	for _, tok := range c.Tokens {
		a.reply(ctx, tok.(*actor.PID), resp)
	}
	a.deliver(ctx, ds)

	if a.compactWanted {
		a.compactWanted = false
		a.compact(ctx)
	}
	a.drain(ctx)
	if a.commitWanted {
		a.commit(ctx)
	}
}

// abortCommit cancels the group in flight, if any, waits for its
// goroutine and answers its writers: with the timestamp when every append
// had succeeded (the group is durable; the next incarnation recovers it),
// otherwise with an unknown outcome.
func (a *storageActor) abortCommit(ctx actor.Context, why string) {
	g := a.inflight
	if g == nil {
		return
	}
	g.cancel()
	<-g.done
	a.inflight = nil
	resp := &messages.StorageWriteResponse{Timestamp: uint64(g.c.Ts)}
	if g.err != nil {
		err := fmt.Errorf("%w: group commit at %d: the storage actor is %s (the write may or may not be durable)", ErrBackend, g.c.Ts, why)
		resp = &messages.StorageWriteResponse{Error: messages.ErrorToWire(err)}
	}
	for _, tok := range g.c.Tokens {
		a.reply(ctx, tok.(*actor.PID), resp)
	}
}

// appendAll performs c's appends on sh in the order commit_log.go
// explains: a group that uses the commit log appends it first; then every
// table is appended concurrently (so a backend that syncs can share the
// syncs). The log append and the table appends each have a deadline of
// timeout, under parent. It returns after every append finished; the
// goroutines do not outlive it. Every error it returns is outcomeUnknown
// and names the group and the shard.
//
// A fenced writer (token set) whose log append finds another upper was
// fenced: the error is a *FenceError and no table is appended.
func appendAll(parent context.Context, sh *shards, timeout time.Duration, token *durable.FenceToken, c *Commit) error {
	op := fmt.Sprintf("group commit at %d", c.Ts)
	if c.UseLog {
		ctx, cancel := context.WithTimeout(parent, timeout)
		err := sh.appendLog(ctx, c.Log, c.Upper)
		if err != nil {
			err = sh.asFence(ctx, token, op, err)
		}
		cancel()
		if err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	if len(c.Appends) == 1 {
		return appendOne(ctx, sh, op, c.Appends[0], c)
	}
	errs := make([]error, len(c.Appends))
	var wg sync.WaitGroup
	for i, ap := range c.Appends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = appendOne(ctx, sh, op, ap, c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func appendOne(ctx context.Context, sh *shards, op string, ap Append, c *Commit) error {
	s, ok := sh.tables[ap.Table]
	if !ok {
		return fmt.Errorf("%w: %s: table %s has no open shard", ErrBackend, op, ap.Table)
	}
	if err := s.CompareAndAppend(ctx, ap.Updates, c.Lower, c.Upper); err != nil {
		return onTable(ap.Table, backendError(ctx, sh.timeout, fmt.Sprintf("%s: append table %s", op, ap.Table), err))
	}
	return nil
}

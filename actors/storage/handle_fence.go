package storage

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The actor's side of writer fencing and promotion (fence.go).

// handlePromote turns a read-only actor writable as the writer holding
// m.Token. It reopens the shards in its own turn, like a restart: reads in
// flight are requeued, subscriptions, holds and waiting requests carried
// over, and every subscription gets the versions written since it opened
// (by the old writer). The reopen is bounded by Config.OpenTimeout; it is
// the one shard I/O a Promote waits for, and the node sends Promote once.
func (a *storageActor) handlePromote(ctx actor.Context, m *Promote) {
	readOnly, token := a.writer.spec()
	switch {
	case a.writer.fencedErr() != nil:
		a.respondAny(ctx, &PromoteResult{Err: a.writer.fencedErr()})
		return
	case !readOnly && token != nil && *token == m.Token:
		a.respondAny(ctx, &PromoteResult{}) // promoted already
		return
	case !readOnly:
		a.respondAny(ctx, &PromoteResult{Err: errorf(ErrMalformed, "promote with token %s: the actor is writable already", m.Token)})
		return
	}
	a.cfg.Logger.Info("promoting: reopening the shards as the writer", "token", m.Token.String())
	a.writer.promote(m.Token)
	a.requeueReads(ctx)
	a.carry.put(ctx.Self(), a.state.TakeConsumers(), a.deferred)
	a.deferred = nil
	a.maintainLoop.Stop()
	a.commitLoop.Stop()
	a.maintainLoop, a.commitLoop = nil, nil
	a.shards.close()
	a.shards = nil
	a.start(ctx) // panics when the reopen fails: the restart reopens writable
	a.respondAny(ctx, &PromoteResult{Err: a.writer.fencedErr()})
}

// startFenced is start when the commit log holds a newer writer's token:
// the actor serves nothing (every request is answered with fe), ends the
// subscriptions a restart carried and tells the node.
func (a *storageActor) startFenced(ctx actor.Context, fe *FenceError) {
	a.cfg.Logger.Error("cannot open the tables", "err", fe)
	a.writer.fence(fe)
	a.state = NewState(nil, timely.Minimum(), a.cfg.CompactionWindow)
	if cs, deferred, ok := a.carry.take(ctx.Self()); ok {
		a.state.RestoreConsumers(cs)
		a.deliver(ctx, a.state.EndSubscriptions(fe))
		a.deferred = deferred
		a.failDeferred(ctx, fe)
	}
}

// failStaged answers the writes staged for the next group with err
// (fenced: they will never commit).
func (a *storageActor) failStaged(ctx actor.Context, err error) {
	w := messages.ErrorToWire(err)
	for _, tok := range a.state.Unstage() {
		a.rejectWrite(nil, err)
		a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: w})
	}
	a.commitWanted = false
}

// respondAny answers the current request's sender with an in-process
// value.
func (a *storageActor) respondAny(ctx actor.Context, msg any) {
	if ctx.Sender() != nil {
		ctx.Respond(msg)
	}
}

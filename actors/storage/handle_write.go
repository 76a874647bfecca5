package storage

import (
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

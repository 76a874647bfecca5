package runtime

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
)

// The runtime's change-data subscription (its tables; collection_feed.go
// has one per imported collection) is requested when storage answered the
// startup frontiers and again when storage ends it. Storage may refuse
// it (restarting, overloaded, the from time compacted): the runtime then
// reports the refusal to its controller as a ComputeStatus error and asks
// again after a backoff on the clock (Config.SubscribeBackoff, doubling,
// at most Config.StorageTimeout), at most Config.SubscribeRetries times.
// When every attempt was refused it reports ErrSubscriptionLost: without
// change data no flow advances, and the controller treats the replica as
// failed (a new incarnation subscribes anew).

// resubscribe is the backoff timer's message: subscribe again.
type resubscribe struct{ attempt int }

// subscribeNow asks storage for the runtime's subscription from the
// feed's upper, below which every change has arrived.
func (a *runtimeActor) subscribeNow(ctx actor.Context) {
	ctx.Request(a.cfg.Storage, &messages.StorageSubscribe{SubscriptionId: a.cfg.SubscriptionId, From: uint64(a.feed.upper), HoldFollowsProgress: true})
}

// handleSubscribeResponse handles storage's answer to the runtime's
// subscription: an accepted one resets the retry count; a refused one is
// reported and retried, a bounded number of times.
func (a *runtimeActor) handleSubscribeResponse(ctx actor.Context, m *messages.StorageSubscribeResponse) {
	if a.feed == nil || (m.GetSubscriptionId() != "" && m.GetSubscriptionId() != a.cfg.SubscriptionId) {
		return // the previous incarnation's, or not the runtime's own
	}
	refusal := storageErr(ErrStorage, fmt.Sprintf("subscribe %s from %d", a.cfg.SubscriptionId, a.feed.upper), m.GetError())
	if refusal == nil {
		a.subscribeAttempts = 0
		return
	}
	a.subscribeAttempts++
	if a.subscribeAttempts > a.cfg.SubscribeRetries {
		a.status(ctx, nil, fmt.Errorf("%w: refused %d times, last: %w", ErrSubscriptionLost, a.subscribeAttempts, refusal))
		return
	}
	delay := a.cfg.SubscribeBackoff << (a.subscribeAttempts - 1)
	if delay <= 0 || delay > a.cfg.StorageTimeout {
		delay = a.cfg.StorageTimeout
	}
	a.status(ctx, nil, fmt.Errorf("%w (attempt %d of %d; retrying in %s)", refusal, a.subscribeAttempts, a.cfg.SubscribeRetries+1, delay))
	if a.resubscribeTimer != nil {
		a.resubscribeTimer.Stop()
	}
	root, self, attempt := ctx.ActorSystem().Root, ctx.Self(), a.subscribeAttempts
	a.resubscribeTimer = clock.AfterFunc(a.cfg.Clock, delay, func(time.Time) { root.Send(self, &resubscribe{attempt: attempt}) })
}

func (a *runtimeActor) handleResubscribe(ctx actor.Context, m *resubscribe) {
	if a.feed == nil || m.attempt != a.subscribeAttempts {
		return
	}
	a.resubscribeTimer = nil
	ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: a.cfg.SubscriptionId})
	a.subscribeNow(ctx)
}

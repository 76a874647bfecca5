package runtime

import (
	"fmt"
	"reflect"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
)

// Storage requests whose answers the runtime waits for (the startup
// frontiers, the table check of a CreateDataflow, the snapshot of a
// persist peek) are calls: a child actor sends the request, so that the
// answer comes back tagged with the call's id, and a clock timer fails the
// call after Config.StorageTimeout. The runtime keeps handling messages
// meanwhile. Read holds and the CDC subscription are sent by the runtime
// itself: storage ties them to their sender's lifetime.

// storageCall is one call in flight; done runs in the actor's turn with
// the answer or the timeout error.
type storageCall struct {
	what     string
	child    *actor.PID
	deadline *clock.Loop
	done     func(ctx actor.Context, res any, err error)
}

// storageAnswer carries a call's answer from its child to the runtime.
type storageAnswer struct {
	id  uint64
	res any
}

// storageDeadline says a call's time is up.
type storageDeadline struct{ id uint64 }

// caller is the child that makes one storage request and hands the
// answer to its parent.
type caller struct {
	id      uint64
	storage *actor.PID
	req     any
}

func (c *caller) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		ctx.Request(c.storage, c.req)
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		ctx.Send(ctx.Parent(), &storageAnswer{id: c.id, res: ctx.Message()})
		ctx.Stop(ctx.Self())
	}
}

// call sends req to storage; done runs once, with the answer or with an
// ErrStorageTimeout error naming what after the configured deadline.
func (a *runtimeActor) call(ctx actor.Context, what string, req any, done func(ctx actor.Context, res any, err error)) {
	a.nextCall++
	id := a.nextCall
	child := ctx.Spawn(actor.PropsFromProducer(func() actor.Actor { return &caller{id: id, storage: a.cfg.Storage, req: req} }))
	root, self := ctx.ActorSystem().Root, ctx.Self()
	loop := clock.AfterFunc(a.cfg.Clock, a.cfg.StorageTimeout, func(time.Time) { root.Send(self, &storageDeadline{id: id}) })
	a.calls[id] = &storageCall{what: what, child: child, deadline: loop, done: done}
}

func (a *runtimeActor) handleStorageAnswer(ctx actor.Context, m *storageAnswer) {
	c, ok := a.calls[m.id]
	if !ok {
		return
	}
	delete(a.calls, m.id)
	c.deadline.Stop()
	c.done(ctx, m.res, nil)
}

func (a *runtimeActor) handleStorageDeadline(ctx actor.Context, m *storageDeadline) {
	c, ok := a.calls[m.id]
	if !ok {
		return
	}
	delete(a.calls, m.id)
	ctx.Stop(c.child)
	a.metrics.storageTimeouts.Inc()
	c.done(ctx, nil, fmt.Errorf("%w: %s: no answer after %s", ErrStorageTimeout, c.what, a.cfg.StorageTimeout))
}

// stopCalls stops every call's timer (Stopping, Restarting); the children
// stop with the actor.
func (a *runtimeActor) stopCalls() {
	for id, c := range a.calls {
		c.deadline.Stop()
		delete(a.calls, id)
	}
}

// storageErr turns the error field of a storage response into a Go error
// wrapping sentinel, or nil when the field is unset. It accepts the coded
// messages.Error and the older StorageError alike.
func storageErr(sentinel error, what string, e interface{ GetMessage() string }) error {
	if e == nil {
		return nil
	}
	if v := reflect.ValueOf(e); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	if w, ok := e.(*messages.Error); ok {
		return fmt.Errorf("%w: %s: %w", sentinel, what, messages.ErrorFromWire(w))
	}
	return fmt.Errorf("%w: %s: %s", sentinel, what, e.GetMessage())
}

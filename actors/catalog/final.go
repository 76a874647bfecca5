package catalog

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

// after reacts to the outcome of a backend call: a fence is final; a
// backend error fails the guardian so that it restarts with backoff.
func (g *guardian) after(ctx actor.Context, err error) {
	g.observe()
	var fe *durable.FenceError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		g.becomeFinal(ctx, PhaseFenced, fe)
	case errors.Is(err, durable.ErrBackend):
		g.fail(err)
	}
}

// fail records a transient failure and panics, so the supervisor restarts
// the guardian; the next incarnation backs off, then reopens.
func (g *guardian) fail(err error) {
	g.shared.mu.Lock()
	g.shared.failures++
	g.shared.lastErr = err
	g.shared.mu.Unlock()
	g.cfg.Logger.Error("catalog guardian failing after a backend error", "err", err)
	panic(&TransientFailure{Err: err})
}

// becomeFinal enters Fenced or Halted for good: it stops confirming
// leadership, answers everything waiting and everything later with err,
// publishes Fenced and asks the node to halt.
func (g *guardian) becomeFinal(ctx actor.Context, phase Phase, err error) {
	if g.phase.final() {
		return
	}
	g.phase, g.final = phase, err
	g.shared.mu.Lock()
	g.shared.final = err
	g.shared.mu.Unlock()
	g.ticker.Stop()
	g.backoff.Stop()
	for _, r := range g.takePending() {
		g.respond(ctx, r.sender, g.failed(r.msg, err))
	}
	var reason string
	var fe *durable.FenceError
	if errors.As(err, &fe) {
		if m := g.cfg.Metrics; m != nil {
			m.FenceEvents.Inc()
		}
		ctx.ActorSystem().EventStream.Publish(&Fenced{Current: fe.Current, Fence: fe.Fence, Err: fe})
		reason = fmt.Sprintf("catalog fenced by a newer environment: this node's token is %s, the catalog's is %s (%s); halting", fe.Current, fe.Fence, fe.Kind)
		if fe.Kind == durable.FenceMigrationUpper {
			reason = fmt.Sprintf("catalog fenced: %v; halting", fe)
		}
	} else {
		reason = fmt.Sprintf("catalog cannot be opened: %v; halting", err)
	}
	g.cfg.Logger.Error(reason)
	g.cfg.Halt(reason)
}

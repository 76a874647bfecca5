package catalog

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

// Decider is the supervision decision for the guardian: restart it after a
// transient failure (its next incarnation backs off before reopening), stop
// it on anything that says the node no longer owns the catalog. The guardian
// itself never fails once fenced, and an incarnation started after a fence
// stays fenced, so a parent that restarts on every failure is also safe.
func Decider(reason any) actor.Directive {
	if err, ok := reason.(error); ok && errors.Is(err, durable.ErrFenced) {
		return actor.StopDirective
	}
	return actor.RestartDirective
}

// SupervisorStrategy restarts the guardian with Decider, without limit: the
// guardian's own backoff spaces the restarts out.
func SupervisorStrategy() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(1<<30, 0, Decider)
}

package cluster

import "github.com/asynkron/protoactor-go/actor"

// A runtime spawned remotely is a child of protoactor's activator
// (remote/activator_actor.go:110), whose children get the default
// supervision: a runtime that panics is restarted in place, under the same
// PID, with its state gone, and the controller watching that PID never
// hears of it. Arbor's rule is the opposite: a failed runtime terminates,
// its watcher reports the replica failed, and supervision launches a new
// incarnation that replays the history (docs/compute.md). Start therefore
// registers the runtime kind with stopInsteadOfRestart.

// stopInsteadOfRestart is a receiver middleware that turns a restart into
// a stop: when the actor is told it is restarting, it asks to be stopped,
// so the restarted instance stops before its next message and watchers
// get Terminated.
func stopInsteadOfRestart(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if _, ok := env.Message.(*actor.Restarting); ok {
			c.ActorSystem().Root.Stop(c.Self())
		}
		next(c, env)
	}
}

// runtimeKindProps readies a runtime's props for remote spawning.
func runtimeKindProps(p *actor.Props) *actor.Props {
	return p.Configure(actor.WithReceiverMiddleware(stopInsteadOfRestart))
}

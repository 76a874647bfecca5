package pool

import "github.com/asynkron/protoactor-go/actor"

// effects is what the core asks the pool actor to do after a step, in
// this order: apply Supervise to the failed worker; apply Add and Remove
// to the shared registry (before any worker hears of the flow); send
// Sends to the workers; answer PeekFailures; send Replies.
type effects struct {
	Supervise    *supervision
	Add          *registered
	Remove       []FlowId
	Sends        []send
	PeekFailures []peekFailure
	Replies      []reply
}

// send is a message for one worker.
type send struct {
	worker int
	msg    any
}

// reply is a gathered reply for the sender of a request (nil: the
// request had no sender and the reply is dropped).
type reply struct {
	to  *actor.PID
	msg any
}

// peekFailure is a peek the pool fails itself (its worker was stopped).
type peekFailure struct {
	peek Peek
	err  error
}

// supervision is the decision about a worker that failed: restart it, or
// stop it for good.
type supervision struct {
	worker   int
	stop     bool
	failures int    // since the worker last answered, this one included
	reason   string // the panic, for the log
}

func (e *effects) send(w int, msg any) { e.Sends = append(e.Sends, send{worker: w, msg: msg}) }

func (e *effects) reply(g *gather) {
	e.Replies = append(e.Replies, reply{to: g.sender, msg: g.reply()})
}

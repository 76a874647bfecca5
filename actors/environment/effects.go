package environment

import (
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/timely"
)

// TrackerEffects is the query tracker's Effects for a node with an
// environment: what the tracker decides (cancel a peek, end an execution)
// comes back to the environment as a message. Create it before the tracker,
// start the tracker with it, and give it to the environment's Config, which
// attaches the environment when it starts. Effects before that are dropped:
// the environment had no pending peek then. Safe for concurrent use; no
// method blocks.
type TrackerEffects struct {
	mu     sync.Mutex
	sender actor.SenderContext
	target *actor.PID

	canceled [8]atomic.Int64
}

// NewTrackerEffects returns effects with no environment attached.
func NewTrackerEffects() *TrackerEffects { return &TrackerEffects{} }

func (e *TrackerEffects) attach(sender actor.SenderContext, pid *actor.PID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sender, e.target = sender, pid
}

func (e *TrackerEffects) send(msg any) {
	e.mu.Lock()
	sender, target := e.sender, e.target
	e.mu.Unlock()
	if target != nil {
		sender.Send(target, msg)
	}
}

// CancelComputePeek tells the environment to end the peek: on the persist
// fast path the "compute peek" is the environment's own storage read.
func (e *TrackerEffects) CancelComputePeek(_ timely.ClusterId, uuid timely.Uuid, reason querytracker.CancelReason) {
	e.send(&peekCanceled{uuid: uuid, reason: reason})
}

// InstallWatchSet succeeds: persist fast path peeks have no watch sets.
func (e *TrackerEffects) InstallWatchSet(querytracker.ExecutionId, querytracker.WatchSet) error {
	return nil
}

// EndExecution tells the environment an execution ended, so a pending peek
// of it is answered with the reason.
func (e *TrackerEffects) EndExecution(id querytracker.ExecutionId, reason querytracker.EndReason) {
	e.send(&executionEnded{id: id, reason: reason})
}

// CountCanceledPeeks counts canceled peeks by reason.
func (e *TrackerEffects) CountCanceledPeeks(reason querytracker.CancelReason, n int) {
	if int(reason) < len(e.canceled) {
		e.canceled[reason].Add(int64(n))
	}
}

// Canceled returns how many peeks the tracker canceled for reason.
func (e *TrackerEffects) Canceled(reason querytracker.CancelReason) int64 {
	if int(reason) < len(e.canceled) {
		return e.canceled[reason].Load()
	}
	return 0
}

// peekCanceled and executionEnded are the tracker's effects as the
// environment receives them (in-process only).
type peekCanceled struct {
	uuid   timely.Uuid
	reason querytracker.CancelReason
}

type executionEnded struct {
	id     querytracker.ExecutionId
	reason querytracker.EndReason
}

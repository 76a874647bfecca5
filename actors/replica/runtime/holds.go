package runtime

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The runtime's read hold on storage. Its CDC subscription's own hold
// follows the subscription's progress and ends with it; what a flow needs
// after a restart of the runtime (its history from its checkpoint, and
// from its as_of for a rebuild) is held by a separate named hold,
// SubscriptionId + "/hold", acquired once at storage's upper when the
// first incarnation starts. Its position lives in the value New creates,
// so it survives the actor's restarts (storage keeps a hold until its
// sender, whose PID survives a restart, terminates). Both name no table,
// which storage reads as every table and no collection: an imported
// collection is held by its own hold (collection_feed.go), and a
// collection the runtime does not read is not held back by it.
//
// The hold moves forward only while the connection computes (after
// InitializationComplete: during a reconnect the installed flows may still
// be kept), to the least over the flows of their checkpoint and of their
// as_of advanced by the controller's compaction frontier, and to the
// consumed upper without flows.

func (a *runtimeActor) holdId() string { return a.cfg.SubscriptionId + "/hold" }

// downgradeHold moves the read hold forward to what the flows still need.
func (a *runtimeActor) downgradeHold(ctx actor.Context) {
	if !a.ready || !a.carried.holdAcquired || a.conn.Stage() != StageComputation {
		return
	}
	needs := make([]flowNeed, 0, len(a.flows))
	for _, f := range a.flows {
		needs = append(needs, flowNeed{asOf: f.spec.AsOf, compaction: f.compaction, checkpoint: f.checkpoint})
	}
	a.downgradeImportHolds(ctx)
	target := holdTarget(a.consumed, needs)
	if target <= a.carried.holdAt {
		return
	}
	a.carried.holdAt = target
	ctx.Request(a.cfg.Storage, &messages.StorageDowngradeReadHold{HoldId: a.holdId(), At: uint64(target)})
}

func (a *runtimeActor) handleReadHoldResponse(_ actor.Context, m *messages.StorageReadHoldResponse) {
	if err := storageErr(ErrStorage, "read hold "+m.GetHoldId(), m.GetError()); err != nil {
		a.cfg.Logger.Warn("read hold request refused", "hold", m.GetHoldId(), "err", err)
	}
}

// flowNeed is what one flow needs of storage's history.
type flowNeed struct {
	// asOf and compaction: a rebuild replays the history and must be
	// exact from max(asOf, compaction) on, so the since may not pass it.
	asOf, compaction timely.Timestamp
	// checkpoint: a backfill reads from it (zero: not committed yet).
	checkpoint timely.Timestamp
}

// holdTarget is where the read hold may go: the least need of the flows,
// and the consumed upper when there are none.
func holdTarget(consumed timely.Timestamp, needs []flowNeed) timely.Timestamp {
	target := consumed
	for _, n := range needs {
		need := max(n.asOf, n.compaction)
		if n.checkpoint > 0 {
			need = min(need, n.checkpoint)
		}
		target = min(target, need)
	}
	return target
}

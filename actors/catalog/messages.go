package catalog

import (
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
)

// The guardian's requests and responses are Go structs: they carry Go
// closures and snapshots and never cross nodes, because the guardian always
// runs in the same process as the environment that uses it.

// Transact runs Apply on a transaction begun at the catalog's upper and
// commits it. If Apply returns an error the transaction is aborted and the
// error returned. Apply runs inside the guardian: it must not block or keep
// the transaction, and it may run twice (the guardian begins optimistically,
// without reading the shard, and re-runs Apply once on fresh state if the
// commit finds the catalog moved). Answered with *TransactResult.
type Transact struct {
	Apply func(tx *durable.Transaction) error
}

// TransactResult answers Transact: the catalog's new upper, or the error
// (from Apply, or from the commit: *durable.FenceError,
// durable.ErrStaleTransaction, durable.ErrBackend, ...).
type TransactResult struct {
	Upper timely.Frontier
	Err   error
}

// GetSnapshot asks for an immutable snapshot of the catalog at its current
// upper. Answered with *SnapshotResult.
type GetSnapshot struct{}

// SnapshotResult answers GetSnapshot.
type SnapshotResult struct {
	Snapshot *durable.Snapshot
	Err      error
}

// AllocateIds reserves Count ids from the named allocator in a transaction
// of its own. Answered with *IdsAllocated.
type AllocateIds struct {
	Allocator string
	Count     uint64
}

// IdsAllocated answers AllocateIds: ids First .. First+Count-1 are reserved.
type IdsAllocated struct {
	First uint64
	Err   error
}

// Promote asks a read-only guardian (one with Config.Promote) to take
// over the catalog: it reopens with Config.Promote, a writable open with
// the node's newer deploy generation, which fences the running writer
// through the catalog. Requests that arrive meanwhile wait. Answered with
// *PromoteResult once the writable open is done; a guardian promoted
// already answers at once with its token.
type Promote struct{}

// PromoteResult answers Promote: Token is the writable handle's fence
// token, or Err why the guardian could not take over (ErrNotPromotable, a
// *durable.FenceError, or the open's error once it gave up).
type PromoteResult struct {
	Token durable.FenceToken
	Err   error
}

// GetStatus asks for the guardian's phase and token. Answered with *Status.
type GetStatus struct{}

// Status answers GetStatus.
type Status struct {
	Phase Phase
	// Token is the catalog handle's fence token (zero before the first
	// open); Upper the handle's upper.
	Token durable.FenceToken
	Upper timely.Frontier
	// Err is the error every request is answered with once Fenced or
	// Halted.
	Err error
	// Failures counts consecutive transient failures (0 after a good
	// open); LastFailure is the latest one.
	Failures    int
	LastFailure error
	// Incarnation counts the guardian's starts: 1, then one more per
	// restart.
	Incarnation int
	// ReadOnly: the handle is read-only (the node awaits promotion);
	// Promoted: Promote took the catalog over.
	ReadOnly, Promoted bool
}

// Fenced is published on the actor system's event stream, once, when the
// guardian learns that a newer writer owns the catalog. Current is this
// node's token, Fence the newer one.
type Fenced struct {
	Current, Fence durable.FenceToken
	Err            *durable.FenceError
}

// confirmLeadership is the guardian's own tick.
type confirmLeadership struct{}

// reopen asks the guardian to open the catalog (at start, after backoff).
type reopen struct{}

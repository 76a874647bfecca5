package instance

import (
	"log/slog"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Effects is what one or more Core steps ask of the outside world. The
// actor performs them in field order: Connects and Commands first (each
// list in order), then Removed, StorageHolds, Peeks and Subscribes. That
// order is part of the contract: a finished peek's CancelPeek reaches the
// replicas before its read hold is released and an AllowCompaction can
// follow.
type Effects struct {
	// Connects (re)connect a replica at a new incarnation and replay the
	// reduced history to it.
	Connects []Connect
	// Commands go to one replica each, already stamped with its epoch.
	Commands []ReplicaCommand
	// Removed replicas' connections are to be closed.
	Removed []timely.ReplicaId
	// StorageHolds are changes of the instance's read holds on storage
	// collections, for the storage controller.
	StorageHolds []StorageHoldChange
	// Peeks are answers to peek clients; each peek gets exactly one.
	Peeks []PeekAnswer
	// Subscribes are batches and ends for subscribe clients.
	Subscribes []SubscribeEvent
	// StatusErrors are the errors replicas reported in ComputeStatus, for
	// arbor_compute_replica_status_errors_total.
	StatusErrors []StatusErrorReport
	// Logs are lines for the actor's logger.
	Logs []LogLine
}

// StatusErrorReport is one error a replica reported.
type StatusErrorReport struct {
	Replica timely.ReplicaId
	// Collection is the collection it concerns ("" for the runtime
	// itself).
	Collection string
	// Code is the error's code, without its ERROR_CODE_ prefix.
	Code string
}

// Connect asks for a (new) connection to a replica's runtime at
// incarnation, then the replay of Commands (Hello first, stamped).
type Connect struct {
	Replica     timely.ReplicaId
	Incarnation uint64
	Commands    []*messages.ComputeCommand
}

// ReplicaCommand is one command for one replica.
type ReplicaCommand struct {
	Replica timely.ReplicaId
	Command *messages.ComputeCommand
}

// HoldOp is what happens to a storage read hold.
type HoldOp uint8

const (
	// HoldAcquire takes a new hold at Frontier.
	HoldAcquire HoldOp = iota + 1
	// HoldDowngrade moves a hold forward to Frontier.
	HoldDowngrade
	// HoldRelease drops a hold.
	HoldRelease
)

// String names the operation.
func (o HoldOp) String() string {
	switch o {
	case HoldAcquire:
		return "acquire"
	case HoldDowngrade:
		return "downgrade"
	case HoldRelease:
		return "release"
	}
	return "?"
}

// StorageHoldChange is a change of one of the instance's read holds on a
// storage collection.
type StorageHoldChange struct {
	Op         HoldOp
	Hold       HoldId
	Collection timely.GlobalId
	Frontier   timely.Frontier
}

// PeekAnswer is the one answer of a peek: Rows, or Err (a coded error).
type PeekAnswer struct {
	Uuid   timely.Uuid
	Client any
	Rows   []*messages.Row
	Err    error
	// Replica answered (zero when the instance ended the peek itself).
	Replica timely.ReplicaId
	// Result labels arbor_compute_peeks_total: rows, error, canceled,
	// timeout, replica_failed, stopped, refused.
	Result string
}

// SubscribeEvent is a subscribe's batch of updates at times in [Lower,
// Upper), an error batch (Err set; the subscribe ends), or its end by a
// drop (DroppedAt set).
type SubscribeEvent struct {
	Id           timely.GlobalId
	Client       any
	Lower, Upper timely.Frontier
	Updates      []*messages.ComputeUpdate
	Err          error
	DroppedAt    *timely.Frontier
}

// LogLine is a line the core wants logged.
type LogLine struct {
	Level slog.Level
	Msg   string
}

func (e *Effects) empty() bool {
	return len(e.Connects)+len(e.Commands)+len(e.Removed)+len(e.StorageHolds)+len(e.Peeks)+len(e.Subscribes)+len(e.StatusErrors)+len(e.Logs) == 0
}

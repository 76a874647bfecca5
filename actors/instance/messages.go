package instance

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The Instance actor's client messages. They are in-process Go structs:
// the environment that sends them lives in the controller's process. What
// goes to a peek or subscribe client is protobuf (ComputePeekResponse,
// ComputeSubscribeResponse), so a client may be remote.

// Reply answers a request that has no other result; Err is nil on
// success. Read it with Error().
type Reply struct {
	Err *messages.Error
}

// Error returns the reply's error (nil on success); it matches the
// instance's sentinels under errors.Is.
func (r Reply) Error() error { return messages.ErrorFromWire(r.Err) }

// CreateDataflow installs a dataflow on the instance's replicas; answered
// with Reply. ReadPolicy nil holds the exports at the as_of until
// SetReadPolicy.
type CreateDataflow struct {
	Dataflow   *messages.ComputeDataflowDescription
	ReadPolicy *ReadPolicy
}

// Subscribe installs a dataflow with subscribe sink exports; answered with
// Reply. Each export's batches go to Client as ComputeSubscribeResponse,
// each update once; the last message has an empty upper, an error, or
// dropped_at. TargetReplica restricts it to one replica (nil: any).
type Subscribe struct {
	Dataflow      *messages.ComputeDataflowDescription
	TargetReplica *timely.ReplicaId
	Client        *actor.PID
}

// DropCollections drops compute collections; answered with Reply.
type DropCollections struct {
	Ids []timely.GlobalId
}

// SetReadPolicy sets the read policy of compute collections; answered with
// Reply.
type SetReadPolicy struct {
	Ids    []timely.GlobalId
	Policy ReadPolicy
}

// Peek reads a collection at one time. It is answered exactly once, with
// a *messages.ComputePeekResponse sent to ReplyTo (the sender when nil):
// rows, or an error (refused, timed out, target failed, instance stopped),
// or canceled. Timeout zero means none; a timeout is checked at each
// Maintain.
type Peek struct {
	Uuid       timely.Uuid
	Collection timely.GlobalId
	Timestamp  timely.Timestamp
	Key        *messages.Row
	Mfp        *messages.MapFilterProject
	Finishing  *messages.Finishing
	Target     *timely.ReplicaId
	Timeout    time.Duration
	ReplyTo    *actor.PID
}

// CancelPeek cancels a pending peek: its client gets a canceled answer. It
// needs no answer; an unknown uuid (already answered) is ignored.
type CancelPeek struct {
	Uuid timely.Uuid
}

// AddReplica adds a replica; answered with Reply. Its runtime is launched
// through the instance's Launcher.
type AddReplica struct {
	Id   timely.ReplicaId
	Name string
}

// RemoveReplica removes a replica and stops its runtime; answered with
// Reply.
type RemoveReplica struct {
	Id timely.ReplicaId
}

// AllowWrites lifts the instance's read-only mode (Config.ReadOnly) at
// promotion: its materialized views' sinks may append from now on.
// Answered with Reply; an instance already writable answers at once.
type AllowWrites struct{}

// RegisterStorage makes a storage collection known to the instance;
// answered with Reply.
type RegisterStorage struct {
	Collection StorageCollection
}

// UpdateStorageFrontiers reports a storage collection's since and upper.
// It needs no answer.
type UpdateStorageFrontiers struct {
	Id           timely.GlobalId
	Since, Upper timely.Frontier
}

// AcquireReadHold takes a read hold on a collection at its since; answered
// with ReadHoldReply. The holder moves it with DowngradeReadHold and ends
// it with ReleaseReadHold.
type AcquireReadHold struct {
	Id timely.GlobalId
}

// ReadHoldReply answers AcquireReadHold.
type ReadHoldReply struct {
	Hold ReadHold
	Err  *messages.Error
}

// DowngradeReadHold moves a hold forward; answered with Reply.
type DowngradeReadHold struct {
	Hold  HoldId
	Since timely.Frontier
}

// ReleaseReadHold releases a hold; answered with Reply.
type ReleaseReadHold struct {
	Hold HoldId
}

// Maintain is the instance's periodic tick (sent by its own clock loop
// every Config.MaintainInterval; tests may send it too). No answer.
type Maintain struct{}

// GetDump asks for the instance's state; answered with DumpReply.
type GetDump struct{}

// DumpReply is the instance's Dump as JSON.
type DumpReply struct {
	JSON []byte
}

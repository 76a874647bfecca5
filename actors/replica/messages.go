package replica

import (
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Connect (instance → ReplicaState) abandons any current connection and
// launches the runtime of incarnation Incarnation, then sends it Commands
// (Hello first, each stamped with the new epoch). Commands sent with Send
// for that incarnation before the runtime is up are queued behind them.
type Connect struct {
	Incarnation uint64
	Commands    []*messages.ComputeCommand
}

// Send (instance → ReplicaState) sends one command, stamped with its
// epoch, to the runtime. A command for another incarnation than the
// current one, or sent while the runtime is down, is dropped: the next
// incarnation gets the history replayed.
type Send struct {
	Command *messages.ComputeCommand
}

// Response (ReplicaState → instance) is a runtime's response, forwarded
// as received; the instance checks its epoch.
type Response struct {
	Replica  timely.ReplicaId
	Response *messages.ComputeResponse
}

// Failed (ReplicaState → instance) reports that the runtime of
// Incarnation terminated, became unreachable or could not be launched.
// It is sent once per incarnation.
type Failed struct {
	Replica     timely.ReplicaId
	Incarnation uint64
	Err         error
}

// DumpState asks a ReplicaState for a StateDump.
type DumpState struct{}

// StateDump is a ReplicaState's view of its connection.
type StateDump struct {
	Replica     string                `json:"replica"`
	Incarnation uint64                `json:"incarnation"`
	Connection  string                `json:"connection"`
	Runtime     string                `json:"runtime,omitempty"`
	Queued      int                   `json:"queued"`
	Collections []CollectionFrontiers `json:"collections"`
}

// CollectionFrontiers are one collection's frontiers and hydration on the
// replica, as its runtime reported them.
type CollectionFrontiers struct {
	Id       string `json:"id"`
	Write    string `json:"write"`
	Input    string `json:"input"`
	Output   string `json:"output"`
	Hydrated bool   `json:"hydrated"`
}

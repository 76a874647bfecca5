package instance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// CoreConfig is the constant part of a Core.
type CoreConfig struct {
	// Cluster and ClusterName describe the instance to its replicas.
	Cluster     timely.ClusterId
	ClusterName string
	// EnvironmentEpoch is the first half of every connection's epoch; a
	// response answering another environment epoch is stale.
	EnvironmentEpoch uint64
	// Restarts returns the restart tracker of a replica (required).
	Restarts func(timely.ReplicaId) replica.RestartTracker
	// ReadOnly starts the core read-only (an environment awaiting
	// promotion): materialized views compute but get no AllowWrites, so
	// their sinks append nothing, until AllowWrites lifts it.
	ReadOnly bool
}

// Core is the instance's state machine: collections and their read holds,
// replicas and their incarnations, pending peeks, active subscribes and the
// command history. It does no I/O, reads no clock (time is an argument)
// and starts no goroutines; every method records what it wants done in an
// Effects value that Drain hands to the caller.
//
// A method that returns an error changed nothing (it validates first),
// except the handlers of replica responses, which drop a bad response
// whole and return the reason for logging.
type Core struct {
	cfg CoreConfig

	history     *History
	collections map[timely.GlobalId]*collection
	holds       map[HoldId]*ReadHold
	nextHold    HoldId
	// pending read-hold changes, per collection, not yet applied.
	pending    map[timely.GlobalId][]timely.Update
	replicas   map[timely.ReplicaId]*replicaState
	peeks      map[timely.Uuid]*pendingPeek
	subscribes map[timely.GlobalId]*activeSubscribe

	// peekResults counts finished peeks by result label.
	peekResults map[string]int
	stopped     bool
	// readOnly: no AllowWrites goes to the replicas (read_only.go).
	readOnly bool

	fx Effects
}

// NewCore returns an empty core. The history starts with the instance's
// Hello, CreateInstance and InitializationComplete; every replica gets its
// own Hello and CreateInstance on connect.
func NewCore(cfg CoreConfig) (*Core, error) {
	if cfg.Restarts == nil {
		return nil, errors.New("instance: config: Restarts is required")
	}
	c := &Core{
		cfg:         cfg,
		history:     NewHistory(),
		collections: map[timely.GlobalId]*collection{},
		holds:       map[HoldId]*ReadHold{},
		pending:     map[timely.GlobalId][]timely.Update{},
		replicas:    map[timely.ReplicaId]*replicaState{},
		peeks:       map[timely.Uuid]*pendingPeek{},
		subscribes:  map[timely.GlobalId]*activeSubscribe{},
		peekResults: map[string]int{},
		readOnly:    cfg.ReadOnly,
	}
	c.history.Push(&messages.ComputeCommand{Command: &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{}}})
	c.history.Push(&messages.ComputeCommand{Command: &messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{
		Config: &messages.ComputeInstanceConfig{Cluster: messages.FromClusterId(cfg.Cluster), ClusterName: cfg.ClusterName},
	}}})
	c.history.Push(&messages.ComputeCommand{Command: &messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}}})
	return c, nil
}

// Drain returns the effects recorded since the last Drain.
func (c *Core) Drain() Effects {
	fx := c.fx
	c.fx = Effects{}
	return fx
}

// History returns the command history (read only).
func (c *Core) History() *History { return c.history }

func (c *Core) log(level slog.Level, format string, args ...any) {
	c.fx.Logs = append(c.fx.Logs, LogLine{Level: level, Msg: fmt.Sprintf(format, args...)})
}

// live returns collection id if it exists and is not dropped.
func (c *Core) live(id timely.GlobalId) (*collection, error) {
	col := c.collections[id]
	if col == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownCollection, id)
	}
	if col.dropped {
		return nil, fmt.Errorf("%w: %s", ErrCollectionDropped, id)
	}
	return col, nil
}

// epoch returns the epoch of a replica's current connection.
func (c *Core) epoch(r *replicaState) *messages.ComputeEpoch {
	return &messages.ComputeEpoch{Environment: c.cfg.EnvironmentEpoch, Incarnation: r.incarnation}
}

// activeReplicas returns the connected replicas in id order.
func (c *Core) activeReplicas() []*replicaState {
	var out []*replicaState
	for _, r := range c.replicas {
		if r.status == ReplicaActive {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *replicaState) int { return compareReplica(a.id, b.id) })
	return out
}

func compareReplica(a, b timely.ReplicaId) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch {
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

// record pushes a copy of cmd into the history. The history owns its
// commands (Reduce may rewrite them, e.g. advance a dataflow's as_of) while
// the one sent may still be read by a runtime in this process, so they
// must not share memory.
func (c *Core) record(cmd *messages.ComputeCommand) {
	c.history.Push(proto.Clone(cmd).(*messages.ComputeCommand))
}

// broadcast records cmd in the history and sends it to every connected
// replica.
func (c *Core) broadcast(cmd *messages.ComputeCommand) {
	c.record(cmd)
	for _, r := range c.activeReplicas() {
		c.send(r, cmd)
	}
}

// send stamps cmd with r's epoch and sends it to r. The envelope is new;
// the command inside is shared and must not be modified.
func (c *Core) send(r *replicaState, cmd *messages.ComputeCommand) {
	c.fx.Commands = append(c.fx.Commands, ReplicaCommand{
		Replica: r.id,
		Command: &messages.ComputeCommand{Epoch: c.epoch(r), Command: cmd.Command},
	})
}

// replay builds the commands that bring a new connection of r up to date:
// its own Hello and CreateInstance, the reduced history, then
// InitializationComplete, each stamped with r's epoch.
func (c *Core) replay(r *replicaState) []*messages.ComputeCommand {
	c.history.Reduce()
	e := c.epoch(r)
	out := []*messages.ComputeCommand{
		{Epoch: e, Command: &messages.ComputeCommand_Hello{Hello: &messages.ComputeHello{Nonce: nonce(c.cfg.EnvironmentEpoch, r.id, r.incarnation)}}},
		{Epoch: e, Command: &messages.ComputeCommand_CreateInstance{CreateInstance: &messages.ComputeCreateInstance{Config: &messages.ComputeInstanceConfig{
			Cluster: messages.FromClusterId(c.cfg.Cluster), ClusterName: c.cfg.ClusterName,
			Replica: messages.FromReplicaId(r.id), ReplicaName: r.name,
		}}}},
	}
	for _, cmd := range c.history.Commands() {
		switch cmd.Command.(type) {
		case *messages.ComputeCommand_Hello, *messages.ComputeCommand_CreateInstance, *messages.ComputeCommand_InitializationComplete:
			continue
		}
		// A copy: the history may rewrite its commands after this replay
		// was sent (see record).
		cp := proto.Clone(cmd).(*messages.ComputeCommand)
		cp.Epoch = e
		out = append(out, cp)
	}
	out = append(out, &messages.ComputeCommand{Epoch: e, Command: &messages.ComputeCommand_InitializationComplete{InitializationComplete: &messages.ComputeInitializationComplete{}}})
	return out
}

// nonce names a connection in logs: it is derived from the epoch and the
// replica, so it needs no randomness.
func nonce(env uint64, id timely.ReplicaId, incarnation uint64) *messages.Uuid {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], env)
	binary.BigEndian.PutUint64(b[8:], uint64(id.Kind)<<56^id.Value<<16^incarnation)
	return messages.FromUuid(timely.Uuid(b))
}

// Maintain does the instance's periodic work at now: relaunch failed
// replicas whose restart delay passed, time out peeks, downgrade warmup
// holds, apply read-hold changes, schedule collections whose inputs are
// ready, clean up dropped collections and refresh wallclock lag.
func (c *Core) Maintain(now time.Time) {
	if c.stopped {
		return
	}
	c.rehydrateFailed(now)
	c.timeoutPeeks(now)
	c.downgradeWarmup()
	c.applyHoldChanges()
	c.scheduleReady()
	c.cleanupDropped()
	c.refreshLag(now)
}

// Stop ends the instance: every pending peek is answered and every active
// subscribe ended with ErrStopped, and their holds are released. The core
// accepts nothing afterwards but Drain and Dump.
func (c *Core) Stop() {
	if c.stopped {
		return
	}
	for _, p := range c.sortedPeeks() {
		c.finishPeek(p, nil, ErrStopped, timely.ReplicaId{}, "stopped", false)
	}
	for _, s := range c.sortedSubscribes() {
		c.endSubscribe(s, ErrStopped)
	}
	c.applyHoldChanges()
	c.stopped = true
}

func sortReplicas(rs []*replicaState) {
	slices.SortFunc(rs, func(a, b *replicaState) int { return compareReplica(a.id, b.id) })
}

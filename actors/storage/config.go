package storage

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/persistence"
)

// Config configures a storage actor.
type Config struct {
	// Store holds the table shards and the table registry; required. The
	// caller owns it and closes it after the actor stopped.
	Store persistence.Store
	// Clock feeds the timestamp oracle and the tickers; clock.Real() when
	// nil.
	Clock clock.Clock
	// Registerer receives the metrics; they stay unregistered when nil. A
	// restarted actor reuses metrics already registered by its predecessor.
	Registerer prometheus.Registerer
	// Logger receives lifecycle events and ignored messages; slog.Default()
	// when nil.
	Logger *slog.Logger
	// CommitInterval groups writes: zero commits after the writes already
	// in the mailbox; a positive interval commits on each tick of a clock
	// ticker (writes wait up to one interval).
	CommitInterval time.Duration
	// CompactionWindow is how many versions of history a table keeps
	// behind its upper when no read hold asks for more. Zero keeps only the
	// latest complete version.
	CompactionWindow uint64
	// MaintenanceInterval is how often the actor compacts tables whose
	// since may advance (hold changes compact at once); DefaultMaintenance
	// when zero.
	MaintenanceInterval time.Duration
	// CallTimeout bounds every backend call the actor makes while handling
	// a message (an append, a read, a compaction); DefaultCallTimeout when
	// zero. A call that passes it fails with a *TimeoutError naming the
	// operation and the table; a group commit or table change that times
	// out has an unknown outcome and restarts the actor, like any backend
	// failure.
	CallTimeout time.Duration
	// OpenTimeout bounds the recovery at start (opening the registry, the
	// commit log and every table's shard, and completing the last group
	// commit); DefaultOpenTimeout when zero.
	OpenTimeout time.Duration

	// Writer fencing, for a store that two environment processes share
	// (fence.go, docs/deploy.md).

	// Fence, when set, is the token of the node's writable catalog open:
	// every group commits through the commit log, the open records the
	// token there, and a newer writer's token fences this actor (its
	// writes fail with a *FenceError and nothing of them is written).
	Fence *durable.FenceToken
	// ReadOnly opens the store without writing anything (no writes, table
	// changes, collection appends, compaction or recovery appends) until
	// a Promote message makes the actor the writer.
	ReadOnly bool
	// OnFenced is called once, from the actor, when it is fenced; reason
	// names both tokens. A node halts.
	OnFenced func(reason string)
}

// Defaults of Config.
const (
	DefaultMaintenance = time.Second
	DefaultCallTimeout = 10 * time.Second
	DefaultOpenTimeout = time.Minute
)

func (c *Config) fill() error {
	if c.Store == nil {
		return errors.New("storage: Config.Store is required")
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "storage")
	if c.CommitInterval < 0 {
		return errors.New("storage: Config.CommitInterval must not be negative")
	}
	if c.MaintenanceInterval <= 0 {
		c.MaintenanceInterval = DefaultMaintenance
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.OpenTimeout <= 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	return nil
}

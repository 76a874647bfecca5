package storage

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
}

// DefaultMaintenance is the default Config.MaintenanceInterval.
const DefaultMaintenance = time.Second

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
	return nil
}

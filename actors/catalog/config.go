package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/clock"
)

// Defaults of Config.
const (
	DefaultConfirmInterval = time.Second
	DefaultCallTimeout     = 10 * time.Second
	DefaultInitialBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff      = 10 * time.Second
)

// Config configures the guardian.
type Config struct {
	// Open opens the durable catalog; required. A node passes a Writable
	// open of its catalog shards. It is called at start and after every
	// restart, so each incarnation of the guardian takes over the catalog
	// with a new epoch.
	Open func(ctx context.Context) (*durable.Handle, error)
	// Promote, when set, is the writable open a read-only guardian (Open
	// opens ReadOnly) takes the catalog over with when it receives
	// Promote; every open after that (restarts) uses it too.
	Promote func(ctx context.Context) (*durable.Handle, error)
	// Halt is called once, from the guardian, when the node must stop:
	// fenced by a newer writer or unable to open an incompatible catalog.
	// reason names both fence tokens. Required; a node exits non-zero.
	Halt func(reason string)
	// Clock drives leadership confirmation, backoff and commit latency
	// (clock.Real() when nil).
	Clock clock.Clock
	// ConfirmInterval is how often the guardian confirms, without writing,
	// that it still owns the catalog (DefaultConfirmInterval when 0).
	ConfirmInterval time.Duration
	// CallTimeout bounds each backend call (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// InitialBackoff and MaxBackoff bound the wait before reopening after
	// the n-th consecutive transient failure: InitialBackoff·2^(n-1), at
	// most MaxBackoff.
	InitialBackoff, MaxBackoff time.Duration
	// Metrics, if set, are updated by the guardian.
	Metrics *Metrics
	// Registerer receives the guardian's count of unknown messages
	// (arbor_actor_unknown_messages_total); when nil, the registerer
	// Metrics were created on, if any.
	Registerer prometheus.Registerer
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Open == nil || c.Halt == nil {
		return c, fmt.Errorf("%w: Open and Halt are required", ErrInvalidConfig)
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.ConfirmInterval <= 0 {
		c.ConfirmInterval = DefaultConfirmInterval
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = DefaultInitialBackoff
	}
	if c.MaxBackoff < c.InitialBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.InitialBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

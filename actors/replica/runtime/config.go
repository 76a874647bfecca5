package runtime

import (
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/persistence"
)

// Config configures a replica runtime.
type Config struct {
	// Storage is the storage actor whose tables the flows read; required.
	Storage *actor.PID
	// Outputs is the shard holding materialized-view outputs and flow
	// checkpoints; required. The caller owns it and closes it after the
	// runtime stopped.
	Outputs persistence.Shard
	// Workers is the pool size; GOMAXPROCS when zero.
	Workers int
	// BackfillChunk is the coordinator's chunk size in versions; 1000 when
	// zero.
	BackfillChunk int
	// OutputCompactionMin is the least number of a view's updates a fold
	// of the output shard replaces (coordinator.CompactionMin);
	// coordinator.DefaultCompactionMin when zero.
	OutputCompactionMin int
	// Registerer receives the coordinator's and pool's metrics;
	// unregistered when nil.
	Registerer prometheus.Registerer
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// Clock drives the coordinator's ticks and the storage deadlines;
	// clock.Real() when nil.
	Clock clock.Clock
	// TickInterval, when positive, ticks every flow this often.
	TickInterval time.Duration
	// StorageTimeout bounds each storage request the runtime waits for,
	// each store call of the coordinator and each rebuild read of the
	// pool; 30s when zero.
	StorageTimeout time.Duration
	// SubscriptionId names the CDC subscription; "runtime" when empty. The
	// runtime's read hold is named SubscriptionId + "/hold". Runtimes
	// sharing one storage actor need distinct ids.
	SubscriptionId string
	// SubscribeRetries is how many times a refused change-data
	// subscription is asked again before the runtime reports
	// ErrSubscriptionLost (subscription.go); 5 when zero, none when
	// negative.
	SubscribeRetries int
	// SubscribeBackoff is the wait before the first retry, doubling after
	// each, at most StorageTimeout; 1s when zero.
	SubscribeBackoff time.Duration
	// BeforeApply is passed to the pool (fault injection in tests).
	BeforeApply func(worker int, b pool.FlowBatch)
}

func (c *Config) fill() error {
	if c.Storage == nil || c.Outputs == nil {
		return errors.New("runtime: Config.Storage and Config.Outputs are required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "replica-runtime")
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.StorageTimeout <= 0 {
		c.StorageTimeout = 30 * time.Second
	}
	if c.SubscribeRetries == 0 {
		c.SubscribeRetries = 5
	} else if c.SubscribeRetries < 0 {
		c.SubscribeRetries = 0
	}
	if c.SubscribeBackoff <= 0 {
		c.SubscribeBackoff = time.Second
	}
	if c.SubscriptionId == "" {
		c.SubscriptionId = "runtime"
	}
	return nil
}

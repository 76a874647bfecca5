package environment

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/timely"
)

// Name is the environment's subsystem name: a node spawns it under its
// root guardian ("node"), so a client reaches it at
// actor.NewPID(nodeAddress, Path).
const Name = "environment"

// Path is the environment's actor id on a node.
const Path = "node/" + Name

// Defaults of Config.
const (
	DefaultCallTimeout      = 10 * time.Second
	DefaultStatementTimeout = 30 * time.Second
	DefaultTickInterval     = 100 * time.Millisecond
	// DefaultMaxRequestBytes stays under gRPC's default 4 MiB message
	// limit, which protoactor remote keeps, so an oversized request gets a
	// clear error instead of a broken stream.
	DefaultMaxRequestBytes  = 3 << 20
	DefaultMaxResponseBytes = 3 << 20
	DefaultMaxResultRows    = 1 << 20
	DefaultMaxWaiting       = 1024
	// DefaultComputeLag is how far (in timestamp units, milliseconds)
	// behind its upper an index or materialized view stays readable:
	// AS OF within the last minute works, older history is compacted.
	DefaultComputeLag = 60_000
	// DefaultHoldTakeover bounds how long the storage holds of a replaced
	// instance or an earlier incarnation stay once their successors run
	// (holds.go).
	DefaultHoldTakeover = 2 * time.Minute
	// DefaultClusterName and DefaultReplicaName are the cluster and
	// replica bootstrap creates when the catalog has no cluster.
	DefaultClusterName = "default"
	DefaultReplicaName = "r1"
)

// LauncherFactory returns the launcher that starts the runtimes of one
// replica of one cluster. It is called from a replica's launching
// goroutine (not from an actor's Receive), once per replica and
// environment incarnation; it must not block.
type LauncherFactory func(cluster timely.ClusterId, replica timely.ReplicaId) replica.Launcher

// Config configures the environment actor.
type Config struct {
	// Catalog is the catalog guardian (actors/catalog), in this process;
	// required.
	Catalog *actor.PID
	// Storage is the storage actor (actors/storage); required.
	Storage *actor.PID
	// Tracker is the query tracker (actors/querytracker); required.
	Tracker *querytracker.Handle
	// Effects, when set, is the Effects the tracker was started with; the
	// environment attaches itself to it when it starts, so the tracker's
	// cancellations (CancelConn, CancelByDrop) end its pending peeks.
	Effects *TrackerEffects
	// Launcher starts replica runtimes. With it the environment owns
	// compute: it spawns one Instance child per catalog cluster, adds each
	// catalog replica to it (runtimes through Launcher), and serves views,
	// indexes, materialized views, clusters and replicas; when the catalog
	// has no cluster, bootstrap creates DefaultClusterName with one replica
	// DefaultReplicaName. Nil: those operations answer UNAVAILABLE
	// (ErrNeedsCompute) and only tables are served.
	Launcher LauncherFactory
	// Membership is the cluster's membership actor (package cluster,
	// answering GetMembers with cluster.Nodes) in cluster mode; nil for a
	// node alone. ClusterGetNodes shows its view (nodes.go).
	Membership *actor.PID
	// ComputeMaintainInterval is each instance's Maintain interval, which
	// bounds how soon a new dataflow is scheduled and a compute peek's
	// deadline is noticed (TickInterval when 0).
	ComputeMaintainInterval time.Duration
	// ComputeLag is the read policy of indexes and materialized views:
	// they stay readable this far behind their upper (DefaultComputeLag
	// when 0).
	ComputeLag uint64
	// MaxSubscribeBacklog bounds the updates kept for a subscribe whose
	// client does not acknowledge; past it the subscribe ends with an
	// error (DefaultMaxSubscribeBacklog when 0).
	MaxSubscribeBacklog int
	// Clock drives statement timeouts (clock.Real() when nil).
	Clock clock.Clock
	// CallTimeout bounds every catalog and storage request
	// (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// StatementTimeout is a session's statement timeout unless it sets its
	// own (DefaultStatementTimeout when 0).
	StatementTimeout time.Duration
	// TickInterval is how often timeouts are checked and a failed
	// bootstrap is retried (DefaultTickInterval when 0).
	TickInterval time.Duration
	// HoldTakeover bounds how long the storage holds of a replaced
	// instance or of an earlier incarnation are kept waiting for the new
	// dataflows to catch up past their as_ofs (a cluster without a
	// running replica never does): after it they are released anyway
	// (DefaultHoldTakeover when 0; holds.go).
	HoldTakeover time.Duration
	// MaxRequestBytes and MaxResponseBytes bound a request and a peek's
	// answer (encoded); MaxResultRows bounds the rows a peek may read
	// after its filter.
	MaxRequestBytes, MaxResponseBytes, MaxResultRows int
	// MaxWaiting bounds the requests kept while bootstrapping or behind a
	// running DDL statement; more are answered UNAVAILABLE.
	MaxWaiting int
	// ReadOnly starts the environment read-only, awaiting promotion
	// (readonly.go): it bootstraps and hydrates its clusters but changes
	// nothing in storage and answers no client until Promote.
	ReadOnly bool
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
}

func (c *Config) fill() error {
	if c.Catalog == nil || c.Storage == nil || c.Tracker == nil {
		return fmt.Errorf("%w: Catalog, Storage and Tracker are required", ErrInvalidConfig)
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.StatementTimeout <= 0 {
		c.StatementTimeout = DefaultStatementTimeout
	}
	if c.HoldTakeover <= 0 {
		c.HoldTakeover = DefaultHoldTakeover
	}
	if c.TickInterval <= 0 {
		c.TickInterval = DefaultTickInterval
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxResultRows <= 0 {
		c.MaxResultRows = DefaultMaxResultRows
	}
	if c.ComputeMaintainInterval <= 0 {
		c.ComputeMaintainInterval = c.TickInterval
	}
	if c.ComputeLag == 0 {
		c.ComputeLag = DefaultComputeLag
	}
	if c.MaxSubscribeBacklog <= 0 {
		c.MaxSubscribeBacklog = DefaultMaxSubscribeBacklog
	}
	if c.MaxWaiting <= 0 {
		c.MaxWaiting = DefaultMaxWaiting
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "environment")
	return nil
}

package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// The two launchers a node uses: LocalLauncher spawns a replica's runtime
// in the controller's actor system; RemoteLauncher asks another actor
// system (a compute node) to spawn it over protoactor remote, where
// RegisterRuntimeKind has registered how. Both build the runtime from a
// RuntimeConfig, so a runtime is the same wherever it runs.

// RuntimeConfig is what every runtime a launcher (or a compute node) starts
// has in common. Each incarnation of a replica gets a fresh runtime actor
// from a fresh runtime.New.
type RuntimeConfig struct {
	// Storage is the storage actor the runtimes read (required). A
	// runtime on another node reaches it over remote.
	Storage *actor.PID
	// Outputs returns the shard holding the materialized-view outputs and
	// flow checkpoints of replica (required). It is called once per
	// incarnation, from the launching goroutine (or the remote spawn);
	// it may open the shard or return one it already opened: every
	// incarnation of a replica should get the same shard, so that a new
	// incarnation continues from the committed checkpoints, and no two
	// replicas may share one. The caller owns the shards and closes them
	// after the runtimes stopped.
	Outputs func(replica timely.ReplicaId) (persistence.Shard, error)
	// SubscriptionPrefix starts every runtime's CDC subscription id (and
	// so its named read hold); "runtime" when empty. The id is
	// prefix/replica/incarnation: distinct per replica, and distinct per
	// incarnation, so a new incarnation never collides with what storage
	// still keeps of the last one (its subscription ends only when storage
	// learns that the old runtime terminated). Controllers of different
	// environments sharing one storage need different prefixes.
	SubscriptionPrefix string
	// Workers is each runtime's pool size; GOMAXPROCS when zero.
	Workers int
	// StorageTimeout: runtime.Config.StorageTimeout.
	StorageTimeout time.Duration
	// Clock: runtime.Config.Clock (clock.Real() when nil).
	Clock clock.Clock
	// Registerer receives the runtimes' metrics (shared series across
	// runtimes); nil: unregistered.
	Registerer prometheus.Registerer
	// Logger: slog.Default() when nil.
	Logger *slog.Logger
	// Configure, when set, adjusts each runtime's config last (tests
	// inject faults or delays with it, e.g. BeforeApply).
	Configure func(replica timely.ReplicaId, incarnation uint64, cfg *runtime.Config)
}

// SubscriptionId is the CDC subscription id of one incarnation of a
// replica's runtime.
func (c RuntimeConfig) SubscriptionId(replica timely.ReplicaId, incarnation uint64) string {
	prefix := c.SubscriptionPrefix
	if prefix == "" {
		prefix = "runtime"
	}
	return fmt.Sprintf("%s/%s/%d", prefix, replica, incarnation)
}

// Props returns the props of the runtime of one incarnation of replica:
// spawn one actor from them.
func (c RuntimeConfig) Props(replica timely.ReplicaId, incarnation uint64) (*actor.Props, error) {
	if c.Storage == nil || c.Outputs == nil {
		return nil, errors.New("replica: RuntimeConfig: Storage and Outputs are required")
	}
	out, err := c.Outputs(replica)
	if err != nil {
		return nil, fmt.Errorf("outputs shard of replica %s: %w", replica, err)
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cfg := runtime.Config{
		Storage: c.Storage, Outputs: out, Workers: c.Workers, StorageTimeout: c.StorageTimeout,
		Clock: c.Clock, Registerer: c.Registerer, SubscriptionId: c.SubscriptionId(replica, incarnation),
		Logger: logger.With("replica", replica.String(), "incarnation", incarnation),
	}
	if c.Configure != nil {
		c.Configure(replica, incarnation, &cfg)
	}
	return runtime.New(cfg)
}

// RuntimeName is the actor name of one incarnation of a replica's runtime:
// "runtime-<replica>-<incarnation>". A new incarnation gets a new name, so
// it never collides with a runtime of an earlier one still stopping.
func RuntimeName(replica timely.ReplicaId, incarnation uint64) string {
	return fmt.Sprintf("runtime-%s-%d", replica, incarnation)
}

// ParseRuntimeName reads a replica and incarnation back from the last
// path element of an actor id ending in RuntimeName (a remote spawn
// prefixes the name).
func ParseRuntimeName(id string) (timely.ReplicaId, uint64, error) {
	name := id[strings.LastIndexAny(id, "/$")+1:]
	rest, ok := strings.CutPrefix(name, "runtime-")
	if !ok {
		return timely.ReplicaId{}, 0, fmt.Errorf("replica: %q is not a runtime name", id)
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return timely.ReplicaId{}, 0, fmt.Errorf("replica: %q is not a runtime name", id)
	}
	inc, err := strconv.ParseUint(rest[i+1:], 10, 64)
	if err != nil {
		return timely.ReplicaId{}, 0, fmt.Errorf("replica: %q: incarnation: %w", id, err)
	}
	r, err := timely.ParseReplicaId(rest[:i])
	if err != nil {
		return timely.ReplicaId{}, 0, fmt.Errorf("replica: %q: %w", id, err)
	}
	return r, inc, nil
}

// LocalLauncher spawns runtimes in the controller's actor system. With
// Parent nil each runtime is a top-level actor of System named by
// RuntimeName with a unique suffix; with Parent set (a Host) it is a
// child of that actor named RuntimeName, so stopping the host stops every runtime it holds.
// Either way the ReplicaState that launched a runtime owns it and stops it.
type LocalLauncher struct {
	System   *actor.ActorSystem
	Runtimes RuntimeConfig
	// Parent, when set, is a Host actor (NewHost) that spawns the runtimes
	// as its children.
	Parent *actor.PID
}

// Launch implements Launcher.
func (l *LocalLauncher) Launch(ctx context.Context, replica timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	props, err := l.Runtimes.Props(replica, incarnation)
	if err != nil {
		return nil, err
	}
	name := RuntimeName(replica, incarnation)
	if l.Parent == nil {
		return l.System.Root.SpawnNamed(props, name+"-"+l.System.ProcessRegistry.NextId())
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	res, err := l.System.Root.RequestFuture(l.Parent, spawnRuntime{props: props, name: name}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("spawn %s under %s: %w", name, l.Parent, err)
	}
	r := res.(spawnedRuntime)
	return r.pid, r.err
}

// spawnRuntime asks a Host to spawn a runtime as its child; answered with
// spawnedRuntime.
type spawnRuntime struct {
	props *actor.Props
	name  string
}

type spawnedRuntime struct {
	pid *actor.PID
	err error
}

// NewHost returns the props of a Host: an actor whose only job is to be
// the parent of the runtimes a LocalLauncher with Parent set spawns.
// Stopping it stops them all. A runtime that fails is stopped, not
// restarted, by the host: its ReplicaState sees it terminate and the
// instance's restart policy decides what comes next.
func NewHost() *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return host{} },
		actor.WithSupervisor(actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })))
}

type host struct{}

func (host) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(spawnRuntime); ok {
		pid, err := ctx.SpawnNamed(m.props, m.name)
		ctx.Respond(spawnedRuntime{pid: pid, err: err})
	}
}

// RuntimeKind is the kind name under which compute nodes register the
// runtime for remote spawns.
const RuntimeKind = "arbor-compute-runtime"

// RegisterRuntimeKind registers, on a compute node's remote, the kind
// RemoteLauncher spawns: a remote spawn named RuntimeName(replica,
// incarnation) starts the runtime cfg.Props(replica, incarnation) on this
// node (its outputs shard is the node's). A spawn with a name that is not a
// runtime name, or whose runtime cannot be built, is answered with an
// error status, and the activator carries on.
func RegisterRuntimeKind(r *remote.Remote, cfg RuntimeConfig) {
	spawn := func(sys *actor.ActorSystem, id string, _ *actor.Props, parent actor.SpawnerContext) (*actor.PID, error) {
		replica, inc, err := ParseRuntimeName(id)
		if err == nil {
			var props *actor.Props
			if props, err = cfg.Props(replica, inc); err == nil {
				return actor.DefaultSpawner(sys, id, props, parent)
			}
		}
		logger := cfg.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("remote runtime spawn refused", "id", id, "err", err)
		return nil, &remote.ActivatorError{Code: remote.ResponseStatusCodeERROR.ToInt32(), DoNotPanic: true}
	}
	r.Register(RuntimeKind, actor.PropsFromFunc(func(actor.Context) {}, actor.WithSpawnFunc(spawn)))
}

// RemoteLauncher spawns runtimes on another actor system (a compute node
// that called RegisterRuntimeKind) over protoactor remote. Each incarnation
// gets a new name, RuntimeName(replica, incarnation). The spawn waits at
// most until the launch context's deadline (10s without one); a node that
// is down or refuses is a launch error, which the instance's restart
// policy handles like any other failure.
//
// When the launch context is canceled first, Launch returns at once; the
// spawn's answer is still awaited by a goroutine the launcher owns, which
// stops a runtime that was spawned after all (nobody else would). Close
// waits for those goroutines; call it after the instance stopped.
type RemoteLauncher struct {
	// System and Remote are the controller's actor system and its remote.
	System *actor.ActorSystem
	Remote *remote.Remote
	// Address returns the address of the node to spawn the replica's
	// runtime on (host:port); called at each launch, so a replica may move
	// to a restarted node.
	Address func(replica timely.ReplicaId) string

	orphans sync.WaitGroup
}

// Launch implements Launcher.
func (l *RemoteLauncher) Launch(ctx context.Context, replica timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	addr := l.Address(replica)
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	name := RuntimeName(replica, incarnation)
	type result struct {
		pid *actor.PID
		err error
	}
	// Unbuffered: once Launch has given up, nobody receives, and the
	// goroutine stops what it spawned.
	done := make(chan result)
	l.orphans.Add(1)
	go func() {
		defer l.orphans.Done()
		pid, err := l.spawn(addr, name, timeout)
		select {
		case done <- result{pid, err}:
		case <-ctx.Done():
			if pid != nil {
				l.System.Root.Poison(pid)
			}
		}
	}()
	select {
	case r := <-done:
		return r.pid, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("remote spawn of %s on %s: %w", name, addr, ctx.Err())
	}
}

func (l *RemoteLauncher) spawn(addr, name string, timeout time.Duration) (*actor.PID, error) {
	res, err := l.Remote.SpawnNamed(addr, name, RuntimeKind, timeout)
	if err != nil {
		return nil, fmt.Errorf("remote spawn of %s on %s: %w", name, addr, err)
	}
	if res.StatusCode != remote.ResponseStatusCodeOK.ToInt32() || res.Pid == nil {
		return nil, fmt.Errorf("remote spawn of %s on %s: status %d", name, addr, res.StatusCode)
	}
	return res.Pid, nil
}

// Close waits until no spawn started by Launch is in flight.
func (l *RemoteLauncher) Close() { l.orphans.Wait() }

package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// LauncherConfig configures a PlacementLauncher.
type LauncherConfig struct {
	// Cluster is the compute cluster whose replicas this launcher places
	// (replica ids are unique per cluster only). Required.
	Cluster timely.ClusterId
	// System is the controller's actor system. Required.
	System *actor.ActorSystem
	// Membership is the membership actor's PID. Required.
	Membership *actor.PID
	// Remote spawns the runtime on the chosen member. Required.
	Remote *remote.Remote
	// Kind is the remote kind of runtimes. Default DefaultRuntimeKind.
	Kind string
	// Timeout bounds each step of a launch (the placement, the remote
	// spawn). Default 5s. A context deadline that comes first wins.
	Timeout time.Duration
	// Setup, when set, is sent to every runtime this launcher spawns, with
	// its cluster, replica and incarnation filled in, before the launch
	// returns: a remote spawn carries only a kind name, so this is how the
	// runtime host learns its configuration (the storage actor). The host
	// must answer ClusterRuntimeSetupResponse within Timeout; a refusal or
	// no answer fails that member like a failed spawn (the host is told to
	// retire, and another member is tried).
	Setup *messages.ClusterRuntimeSetup
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
}

// PlacementLauncher is a replica.Launcher for cluster mode: it asks the
// membership actor where an incarnation of a replica goes and spawns the
// runtime there with protoactor's remote spawn, under a name that carries
// the incarnation, so a new incarnation is always a new actor.
type PlacementLauncher struct {
	cfg LauncherConfig
}

var _ replica.Launcher = (*PlacementLauncher)(nil)

// NewPlacementLauncher returns a launcher for one compute cluster. It
// fails when the config misses a required field.
func NewPlacementLauncher(cfg LauncherConfig) (*PlacementLauncher, error) {
	switch {
	case cfg.System == nil:
		return nil, fmt.Errorf("%w: launcher without an actor system", ErrConfig)
	case cfg.Membership == nil:
		return nil, fmt.Errorf("%w: launcher without the membership actor", ErrConfig)
	case cfg.Remote == nil:
		return nil, fmt.Errorf("%w: launcher without a remote", ErrConfig)
	}
	if cfg.Kind == "" {
		cfg.Kind = DefaultRuntimeKind
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("actor", "launcher", "cluster", cfg.Cluster.String())
	return &PlacementLauncher{cfg: cfg}, nil
}

// RuntimeName is the name a replica runtime incarnation is spawned under
// (protoactor's activator prefixes it with "Remote$").
func RuntimeName(key ReplicaKey, incarnation uint64) string {
	return fmt.Sprintf("replica-%s-%s-%d", key.Cluster, key.Replica, incarnation)
}

// Launch implements replica.Launcher. It returns the runtime's PID, or an
// error matching replica.ErrLaunchFailed and ErrNoComputeMember (no
// compute member is up) or ErrSpawn (the chosen member, and a second one
// if there is one, did not spawn it in time). A failed launch leaves no
// placement recorded. Each step is bounded by the configured timeout and
// by ctx.
func (l *PlacementLauncher) Launch(ctx context.Context, r timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	key := ReplicaKey{Cluster: l.cfg.Cluster, Replica: r}
	// A member the view still holds up may be gone already (the provider
	// has not noticed yet): after a failed spawn, one more member is
	// tried, avoiding the one that failed.
	var avoid []string
	var spawnErr error
	for attempt := 0; attempt < 2; attempt++ {
		pl, err := l.place(ctx, key, incarnation, avoid)
		if err != nil {
			if spawnErr != nil {
				// Nowhere else to go: the spawn failure says more.
				return nil, spawnErr
			}
			return nil, err
		}
		pid, err := l.spawn(ctx, key, pl)
		if err == nil {
			if err = l.setup(ctx, key, pl, pid); err != nil {
				l.retire(key, pl.Incarnation, pid)
			}
		}
		if err == nil {
			l.cfg.Logger.Info("replica runtime spawned", "replica", key.String(), "incarnation", incarnation, "member", pl.Member, "pid", pid.String())
			return pid, nil
		}
		l.cfg.System.Root.Send(l.cfg.Membership, Release{Replica: key, Incarnation: incarnation})
		spawnErr = fmt.Errorf("%w: %w: replica %s incarnation %d on %s (%s): %w", replica.ErrLaunchFailed, ErrSpawn, key, incarnation, pl.Member, pl.Address, err)
		l.cfg.Logger.Warn("replica runtime spawn failed", "replica", key.String(), "incarnation", incarnation, "member", pl.Member, "error", err)
		if ctx.Err() != nil {
			break
		}
		avoid = append(avoid, pl.Member)
	}
	return nil, spawnErr
}

// Release forgets the placement of a replica that was dropped, so the view
// stops showing it on its node. The runtime itself is the ReplicaState's to
// stop. Needs no answer.
func (l *PlacementLauncher) Release(r timely.ReplicaId) {
	l.cfg.System.Root.Send(l.cfg.Membership, Release{Replica: ReplicaKey{Cluster: l.cfg.Cluster, Replica: r}})
}

// Retire tells the runtime host of an incarnation of a replica to stop:
// the incarnation is over (superseded or dropped). A peer cannot Stop an
// actor on another node (the remote guard drops system messages), so this
// is a protocol message the host accepts. Needs no answer; a host that is
// already gone ignores nothing and loses nothing.
func (l *PlacementLauncher) Retire(r timely.ReplicaId, incarnation uint64, pid *actor.PID) {
	l.retire(ReplicaKey{Cluster: l.cfg.Cluster, Replica: r}, incarnation, pid)
}

func (l *PlacementLauncher) retire(key ReplicaKey, incarnation uint64, pid *actor.PID) {
	if pid == nil {
		return
	}
	l.cfg.System.Root.Send(pid, &messages.ClusterRuntimeRetire{
		Cluster: messages.FromClusterId(key.Cluster), Replica: messages.FromReplicaId(key.Replica), Incarnation: incarnation})
}

// setup sends the configured ClusterRuntimeSetup to a spawned runtime host
// and waits for its answer, bounded like every step.
func (l *PlacementLauncher) setup(ctx context.Context, key ReplicaKey, pl Placement, pid *actor.PID) error {
	if l.cfg.Setup == nil {
		return nil
	}
	msg := proto.Clone(l.cfg.Setup).(*messages.ClusterRuntimeSetup)
	msg.Cluster, msg.Replica, msg.Incarnation = messages.FromClusterId(key.Cluster), messages.FromReplicaId(key.Replica), pl.Incarnation
	res, err := l.await(ctx, l.cfg.System.Root.RequestFuture(pid, msg, l.timeout(ctx)))
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	switch r := res.(type) {
	case *messages.ClusterRuntimeSetupResponse:
		if e := r.GetError(); e != nil {
			return fmt.Errorf("setup refused: %w", messages.ErrorFromWire(e))
		}
		return nil
	case *messages.UnknownMessageReply:
		return fmt.Errorf("setup: the runtime kind does not take a setup (%s)", r.GetError().GetMessage())
	}
	return fmt.Errorf("setup: runtime answered %T", res)
}

// place asks the membership actor for a member.
func (l *PlacementLauncher) place(ctx context.Context, key ReplicaKey, incarnation uint64, avoid []string) (Placement, error) {
	res, err := l.await(ctx, l.cfg.System.Root.RequestFuture(l.cfg.Membership, Place{Replica: key, Incarnation: incarnation, Avoid: avoid}, l.timeout(ctx)))
	if err != nil {
		return Placement{}, fmt.Errorf("%w: replica %s incarnation %d: ask placement: %w", replica.ErrLaunchFailed, key, incarnation, err)
	}
	placed, ok := res.(PlaceResult)
	if !ok {
		return Placement{}, fmt.Errorf("%w: replica %s incarnation %d: membership answered %T", replica.ErrLaunchFailed, key, incarnation, res)
	}
	if placed.Err != nil {
		return Placement{}, fmt.Errorf("%w: %w", replica.ErrLaunchFailed, placed.Err)
	}
	return placed.Placement, nil
}

func (l *PlacementLauncher) spawn(ctx context.Context, key ReplicaKey, pl Placement) (*actor.PID, error) {
	res, err := l.await(ctx, l.cfg.Remote.SpawnFuture(pl.Address, RuntimeName(key, pl.Incarnation), l.cfg.Kind, l.timeout(ctx)))
	if err != nil {
		return nil, err
	}
	resp, ok := res.(*remote.ActorPidResponse)
	if !ok {
		return nil, fmt.Errorf("activator answered %T", res)
	}
	switch code := remote.ResponseStatusCode(resp.StatusCode); code {
	case remote.ResponseStatusCodeOK:
	case remote.ResponseStatusCodePROCESSNAMEALREADYEXIST:
		// An earlier attempt at this very incarnation spawned it (its
		// answer was lost); the name carries the incarnation, so that
		// runtime is the one we want.
	default:
		return nil, fmt.Errorf("activator answered %s (is kind %q registered there?)", code, l.cfg.Kind)
	}
	if resp.Pid == nil {
		return nil, fmt.Errorf("activator answered no pid")
	}
	return resp.Pid, nil
}

// timeout is the configured step timeout, shortened to ctx's deadline.
func (l *PlacementLauncher) timeout(ctx context.Context) time.Duration {
	d := l.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d = max(left, time.Millisecond)
		}
	}
	return d
}

// await waits for a future or ctx, whichever ends first. The goroutine
// waiting on the future ends when the future does (bounded by its
// timeout).
func (l *PlacementLauncher) await(ctx context.Context, f *actor.Future) (any, error) {
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f.Result()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

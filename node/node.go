package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arbor-db/arbor/actors/environment"
	rootguardian "github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/mtls"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Node is one running Arbor node: an actor system with remote, the root
// guardian and its subsystems, and the HTTP endpoints. Start it with Start
// and Stop it; its accessors are safe for concurrent use once Start
// returned.
type Node struct {
	cfg    Config
	logger *slog.Logger
	clock  clock.Clock

	metrics  *nodeMetrics
	system   *actor.ActorSystem
	remote   *remote.Remote
	guardian *actor.PID

	httpServer *http.Server
	httpAddr   net.Addr
	httpDone   chan struct{} // nil until serving; closed when the serving goroutine returns

	catalog      *nodeCatalog
	storage      *nodeStorage
	deploy       deployState // read-only and promotion (deploy.go)
	queryTracker *actor.PID
	// trackerHandle and envEffects connect the environment to the query
	// tracker (querytracker.go); env is the environment (environment.go).
	trackerHandle *querytracker.Handle
	envEffects    *environment.TrackerEffects
	env           *actor.PID
	compute       *nodeCompute
	cluster       *nodeCluster // nil when the node runs alone (cluster.go)
	started       []string     // the subsystems' names, in start order
	halted        chan string  // why the node must stop (see halt in catalog.go)

	ready        *readiness
	monitor      *actor.PID    // the node's monitor actor (monitor.go)
	guardianGone chan struct{} // closed by the monitor when the guardian has terminated
	goneOnce     sync.Once
	stopping     atomic.Bool
	stopOnce     sync.Once
}

// Start starts a node and returns once every subsystem serves (the order is
// in docs/architecture.md). On error everything started so far is stopped
// and the error says which step failed and why (a port in use names the
// address and its flag; an unwritable data dir names the directory; a data
// dir another node holds says so). logger and clk are required; the clock
// drives readiness probes and every subsystem's ticks.
func Start(cfg Config, logger *slog.Logger, clk clock.Clock) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, logger: logger, clock: clk, halted: make(chan string, 1),
		ready: newReadiness(), guardianGone: make(chan struct{})}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	httpLis, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (--http): %w", cfg.HTTP, unwrapAddrErr(err))
	}
	defer func() {
		if err != nil { // not yet handed to the HTTP server
			httpLis.Close()
		}
	}()
	n.httpAddr = httpLis.Addr()
	if n.metrics, err = newNodeMetrics(); err != nil {
		return nil, err
	}
	n.metrics.startTime.Set(float64(clk.Now().Unix()))

	n.system = actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger.With("lib", "protoactor") }),
		actor.WithMetricProviders(n.metrics.meterProvider),
	)
	guard, err := surface.NewRemoteGuard(surface.GuardConfig{
		System: n.system, Logger: logger.With("actor", "remote"), Registerer: n.metrics.registry,
	})
	if err != nil {
		return nil, err
	}
	var creds *mtls.Credentials // nil: plain remote, on loopback (Config.Validate)
	if cfg.Files.Enabled() {
		creds, err = mtls.NewCredentials(mtls.CredentialsConfig{
			Files: cfg.Files, Logger: logger.With("actor", "remote"), Registerer: n.metrics.registry,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.ClusterConfig.Enabled() {
		// Cluster mode: the membership starts the remote (cluster.go).
		if err := n.joinCluster(guard, creds); err != nil {
			return nil, err
		}
	} else if n.remote, err = startRemote(n.system, cfg, guard, creds); err != nil {
		return nil, err
	}
	guardianProps, err := rootguardian.New(rootguardian.Config{
		Logger: logger.With("actor", "node"),
		OnRestart: func(name string, _ any) {
			n.metrics.subsystemFailures.WithLabelValues(name).Inc()
		},
		OnSubsystemStopped: n.subsystemStopped,
		Registerer:         n.metrics.registry,
	})
	if err != nil {
		return nil, fmt.Errorf("node guardian: %w", err)
	}
	if n.guardian, err = n.system.Root.SpawnNamed(guardianProps, "node"); err != nil {
		return nil, fmt.Errorf("spawn node guardian: %w", err)
	}
	monitorProps, err := newMonitor(monitorConfig{
		clock: clk, ready: n.ready, guardian: n.guardian, guardianGone: n.onGuardianGone,
		logger: logger.With("actor", monitorName), registerer: n.metrics.registry,
	})
	if err != nil {
		return nil, err
	}
	if n.monitor, err = n.system.Root.SpawnNamed(monitorProps, monitorName); err != nil {
		return nil, fmt.Errorf("spawn %s: %w", monitorName, err)
	}
	// The subsystems, in order. Each start returns once the subsystem has
	// answered that it serves, which is its first readiness probe. A
	// compute-only cluster node runs only the replicas host.
	if err := n.startSubsystems(); err != nil {
		return nil, err
	}

	n.httpServer = &http.Server{Handler: n.routes(), ReadHeaderTimeout: 10 * time.Second}
	n.httpDone = make(chan struct{})
	go func() {
		defer close(n.httpDone)
		if err := n.httpServer.Serve(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()

	n.ready.setStarted()
	n.metrics.ready.Set(1)
	logger.Info("node started",
		"remote", n.system.Address(), "mtls", cfg.Files.Enabled(), "http", n.httpAddr.String(), "data_dir", cfg.DataDir,
		"cluster", cfg.ClusterConfig.Enabled(), "roles", cfg.ClusterConfig.RoleList())
	return n, nil
}

// startSubsystems starts the subsystems in order: catalog, storage, query
// tracker, replicas host, environment; a node without the environment role
// only the replicas host.
func (n *Node) startSubsystems() error {
	if !n.cfg.ClusterConfig.HasRole(cluster.RoleEnvironment) {
		return n.startCompute()
	}
	if err := n.startCatalog(); err != nil {
		return err
	}
	n.ready.probeAnswered(SubsystemCatalog, true, "")
	n.system.Root.Send(n.monitor, &addProbe{target: catalogProbe(n.catalog.pid)})

	if err := n.startStorage(); err != nil {
		return err
	}
	n.ready.probeAnswered(SubsystemStorage, true, "")
	n.system.Root.Send(n.monitor, &addProbe{target: storageProbe(n.storage.pid)})

	if err := n.startQueryTracker(); err != nil {
		return err
	}
	if err := n.startCompute(); err != nil {
		return err
	}

	// The environment starts last: it bootstraps from the catalog and
	// needs storage, the query tracker and the clusters running. It is
	// stopped first.
	if err := n.startEnvironment(); err != nil {
		return err
	}
	// A read-only node (deploy.go) serves no client until promoted.
	n.ready.probeAnswered(SubsystemEnvironment, !n.cfg.ReadOnly, "read-only: awaiting promotion (POST /promote)")
	n.system.Root.Send(n.monitor, &addProbe{target: environmentProbe(n.env)})

	return nil
}

// checkDataDir makes sure the directory exists and is writable.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data dir %s cannot be created: %w", dir, err)
	}
	probe := filepath.Join(dir, ".arbor-write-check")
	f, err := os.Create(probe)
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(probe)
}

// startRemote starts protoactor remote on cfg.Listen, behind guard (no frame
// a peer sends can panic the process; see surface.RemoteGuard), with mutual
// TLS in both directions when creds is not nil. protoactor
// panics when it cannot listen, so the address is tried first to give a
// clear error.
func startRemote(sys *actor.ActorSystem, cfg Config, guard *surface.RemoteGuard, creds *mtls.Credentials) (_ *remote.Remote, err error) {
	rcfg, err := remoteConfig(cfg, guard, creds)
	if err != nil {
		return nil, err
	}
	r := remote.NewRemote(sys, rcfg)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot listen on %s (--listen): %v", cfg.Listen, p)
		}
	}()
	r.Start()
	return r, nil
}

// listenHostPort splits --listen.
func listenHostPort(listen string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("%w: --listen %q: %v", ErrBadConfig, listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("%w: --listen %q: bad port", ErrBadConfig, listen)
	}
	return host, port, nil
}

// unwrapAddrErr drops net.OpError's repetition of the address.
func unwrapAddrErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		// Alive: the process serves HTTP and its actor system runs.
		if n.system.IsStopped() {
			http.Error(w, "actor system stopped", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	n.promotionRoutes(mux) // /promote, /promote/status (deploy.go)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		// Ready: every subsystem is up and answered its latest probe in
		// time; otherwise the body names each that is not.
		ok, why := n.ready.verdict(n.clock.Now())
		if !ok {
			n.metrics.ready.Set(0)
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		n.metrics.ready.Set(1)
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Ready is /readyz's verdict now: whether the node is ready and, when not,
// every reason, each prefixed by its subsystem's name.
func (n *Node) Ready() (bool, string) { return n.ready.verdict(n.clock.Now()) }

// HTTPAddr is the address the HTTP endpoints listen on.
func (n *Node) HTTPAddr() string { return n.httpAddr.String() }

// RemoteAddr is the node's protoactor address.
func (n *Node) RemoteAddr() string { return n.system.Address() }

// System is the node's actor system.
func (n *Node) System() *actor.ActorSystem { return n.system }

// Guardian is the PID of the root guardian; subsystems are spawned under it.
func (n *Node) Guardian() *actor.PID { return n.guardian }

// Catalog is the PID of the catalog guardian ("node/catalog").
// It is nil on a compute-only node, as are Storage, QueryTracker and
// Environment.
func (n *Node) Catalog() *actor.PID {
	if n.catalog == nil {
		return nil
	}
	return n.catalog.pid
}

// Storage is the PID of the storage actor ("node/storage"); it speaks the
// Storage* protocol (messages/storage.proto) and answers its sender, so
// send requests with Request or RequestFuture.
func (n *Node) Storage() *actor.PID {
	if n.storage == nil {
		return nil
	}
	return n.storage.pid
}

// QueryTracker is the PID of the query tracker ("node/querytracker"). It
// accepts querytracker commands as Go values and messages.Qt* protobufs
// from this process.
func (n *Node) QueryTracker() *actor.PID { return n.queryTracker }

// Environment is the environment's PID, the front door clients talk to
// (at environment.Path on the node's remote address).
func (n *Node) Environment() *actor.PID { return n.env }

// StopTimeout bounds Node.Stop: each step below gets a share of it, and a
// step that overruns its share (a subsystem blocked on a frozen backend) is
// abandoned with a warning so the process can still exit.
const StopTimeout = 5 * time.Second

// Shares of StopTimeout, in the order Stop spends them.
const (
	stopGuardianShare = 2 * time.Second
	stopStoresShare   = time.Second
	stopRemoteShare   = time.Second
	stopHTTPShare     = 500 * time.Millisecond
	stopMetricsShare  = 500 * time.Millisecond
)

// Stop shuts the node down in order: not ready, subsystems stopped one by
// one in the reverse of their start order, then the guardian, stores closed (catalog, storage, replica outputs), remote closed, HTTP closed, actor system shut
// down. It returns within StopTimeout (plus scheduling slack) even when a
// subsystem or backend does not answer: what did not finish in its share is
// logged and left behind. It is safe to call more than once and on a partly
// started node.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.stopping.Store(true)
		n.ready.setStopping()
		if n.metrics != nil {
			n.metrics.ready.Set(0)
		}
		// In cluster mode, leave first, within the remote's share (the
		// membership stops the remote): peers re-place this node's
		// replicas at once. The runtime hosts here stop first in the
		// guardian's share, before their stores close.
		n.leaveCluster()
		if n.guardian != nil {
			var stopped bool
			if n.monitor != nil {
				deadline := time.Now().Add(stopGuardianShare)
				n.stopHosts(deadline)
				n.stopSubsystems(deadline)
				n.system.Root.Stop(n.guardian)
				stopped = waitFor(n.guardianGone, max(time.Until(deadline), guardianStopFloor))
			} else { // a partly started node: nothing watches the guardian
				stopped = within(stopGuardianShare, func() { _ = n.system.Root.StopFuture(n.guardian).Wait() })
			}
			if !stopped {
				n.logger.Warn("node guardian and its subsystems did not stop in time; leaving them", "waited", stopGuardianShare)
			}
		}
		if n.monitor != nil {
			n.system.Root.Stop(n.monitor)
		}
		if !within(stopStoresShare, n.closeStores) {
			n.logger.Warn("stores did not close in time; leaving them", "waited", stopStoresShare)
		}
		if n.remote != nil && n.cluster == nil { // the membership stopped a cluster node's remote
			if !within(stopRemoteShare, func() { surface.ShutdownRemote(n.remote) }) {
				n.logger.Warn("remote did not stop gracefully in time; closing its connections", "waited", stopRemoteShare)
				n.remote.Shutdown(false)
			}
		}
		if n.httpServer != nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopHTTPShare)
			if err := n.httpServer.Shutdown(ctx); err != nil {
				n.logger.Warn("http server did not stop in time; closing its connections", "err", err)
				_ = n.httpServer.Close()
			}
			cancel()
			<-n.httpDone // Serve returns as soon as Shutdown or Close begins
		}
		if n.system != nil {
			n.system.Shutdown()
		}
		if n.metrics != nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopMetricsShare)
			_ = n.metrics.meterProvider.Shutdown(ctx)
			cancel()
		}
		if n.httpServer != nil {
			n.logger.Info("node stopped")
		}
	})
}

// waitFor waits for ch to close, at most d; it reports whether it closed.
func waitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// within runs f and waits for it at most d; it reports whether f returned.
// An f that overruns is left running: Stop uses it for steps that block on
// a backend, at the end of the process's life.
func within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	return waitFor(done, d)
}

// guardianStopFloor is how long Stop still waits for the root guardian when
// its subsystems used up the guardian's share: a guardian whose subsystems
// have stopped stops at once.
const guardianStopFloor = 100 * time.Millisecond

// stopSubsystems stops the node's subsystems one at a time, in the reverse
// of their start order, so each stops before what it uses (the replica
// runtimes before storage, storage before the catalog). It gives up at
// deadline, leaving the rest to the guardian's stop, which stops whatever
// remains at once.
func (n *Node) stopSubsystems(deadline time.Time) {
	for i := len(n.started) - 1; i >= 0; i-- {
		name := n.started[i]
		left := time.Until(deadline)
		if left <= 0 {
			n.logger.Warn("no time left to stop subsystems in order; the guardian stops the rest", "next", name)
			return
		}
		if _, err := n.system.Root.RequestFuture(n.guardian, &rootguardian.StopSubsystem{Name: name}, left).Result(); err != nil {
			n.logger.Warn("subsystem did not stop in time; the guardian stops the rest", "name", name, "err", err)
			return
		}
	}
}

// closeStores closes what the subsystems kept their state in; they have
// stopped with the root guardian before.
func (n *Node) closeStores() {
	n.stopCatalog()
	n.closeStorage()
	n.closeCompute()
}

// subsystemStopped is the node guardian's OnSubsystemStopped: the subsystem
// is counted and the node is no longer ready. Without its catalog guardian
// the node cannot write its catalog, so that one also halts the node.
func (n *Node) subsystemStopped(name string) {
	n.metrics.subsystemStops.WithLabelValues(name).Inc()
	n.ready.subsystemStopped(name)
	if name == SubsystemCatalog {
		n.halt("the catalog guardian stopped (it was stopped or exhausted its restarts): the node can no longer write its catalog")
	}
}

// onGuardianGone is called by the monitor when the node guardian has
// terminated. During Stop that is expected; otherwise every subsystem went
// with it, and the node halts.
// A restarted monitor watches again and may hear of it twice.
func (n *Node) onGuardianGone() {
	n.goneOnce.Do(func() {
		close(n.guardianGone)
		if n.stopping.Load() {
			return
		}
		n.ready.subsystemStopped("node")
		n.halt("the node guardian stopped: every subsystem stopped with it")
	})
}

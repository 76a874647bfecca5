package main

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

	"github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/clock"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Node is one running Arbor process: an actor system with remote, the root
// guardian, and the HTTP endpoints. Start it with StartNode; Stop it once.
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

	catalog *nodeCatalog
	halted  chan string // the catalog guardian's halt reason (see catalog.go)

	ready    atomic.Bool
	stopOnce sync.Once
}

// StartNode starts a node. On error everything started so far is stopped and
// the error says which step failed and why (a port in use names the address
// and its flag; an unwritable data dir names the directory).
func StartNode(cfg Config, logger *slog.Logger, clk clock.Clock) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, logger: logger, clock: clk, halted: make(chan string, 1)}
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
	if n.remote, err = startRemote(n.system, cfg); err != nil {
		return nil, err
	}
	guardianProps, err := node.New(node.Config{
		Logger: logger.With("actor", "node"),
		OnRestart: func(name string, _ any) {
			n.metrics.subsystemFailures.WithLabelValues(name).Inc()
		},
		OnSubsystemStopped: func(name string) {
			n.metrics.subsystemStops.WithLabelValues(name).Inc()
		},
		Registerer: n.metrics.registry,
	})
	if err != nil {
		return nil, fmt.Errorf("node guardian: %w", err)
	}
	if n.guardian, err = n.system.Root.SpawnNamed(guardianProps, "node"); err != nil {
		return nil, fmt.Errorf("spawn node guardian: %w", err)
	}
	if err := n.startCatalog(); err != nil {
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

	n.ready.Store(true)
	n.metrics.ready.Set(1)
	logger.Info("node started",
		"remote", n.system.Address(), "http", n.httpAddr.String(), "data_dir", cfg.DataDir)
	return n, nil
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

// startRemote starts protoactor remote on cfg.Listen. protoactor panics when
// it cannot listen, so the address is tried first to give a clear error.
func startRemote(sys *actor.ActorSystem, cfg Config) (_ *remote.Remote, err error) {
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: --listen %q: %v", ErrBadConfig, cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("%w: --listen %q: bad port", ErrBadConfig, cfg.Listen)
	}
	probe, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (--listen): %w", cfg.Listen, unwrapAddrErr(err))
	}
	if port == 0 {
		// Keep the port the kernel chose, so the advertised address is real.
		port = probe.Addr().(*net.TCPAddr).Port
	}
	probe.Close()
	opts := []remote.ConfigOption{}
	if cfg.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	r := remote.NewRemote(sys, remote.Configure(host, port, opts...))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot listen on %s (--listen): %v", cfg.Listen, p)
		}
	}()
	r.Start()
	return r, nil
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
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !n.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// HTTPAddr is the address the HTTP endpoints listen on.
func (n *Node) HTTPAddr() string { return n.httpAddr.String() }

// RemoteAddr is the node's protoactor address.
func (n *Node) RemoteAddr() string { return n.system.Address() }

// System is the node's actor system.
func (n *Node) System() *actor.ActorSystem { return n.system }

// Guardian is the PID of the root guardian; subsystems are spawned under it.
func (n *Node) Guardian() *actor.PID { return n.guardian }

// Stop shuts the node down in order: not ready, subsystems and guardian
// stopped, remote closed, HTTP closed, actor system shut down. It is safe
// to call more than once and on a partly started node.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.ready.Store(false)
		if n.metrics != nil {
			n.metrics.ready.Set(0)
		}
		if n.guardian != nil {
			if err := n.system.Root.StopFuture(n.guardian).Wait(); err != nil {
				n.logger.Warn("node guardian did not stop in time", "err", err)
			}
		}
		n.stopCatalog()
		if n.remote != nil {
			n.remote.Shutdown(true)
		}
		if n.httpServer != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := n.httpServer.Shutdown(ctx); err != nil {
				n.logger.Warn("http server did not stop in time", "err", err)
			}
			cancel()
			<-n.httpDone
		}
		if n.system != nil {
			n.system.Shutdown()
		}
		if n.metrics != nil {
			_ = n.metrics.meterProvider.Shutdown(context.Background())
		}
		if n.httpServer != nil {
			n.logger.Info("node stopped")
		}
	})
}

// Package environmenttest starts, in one actor system, what an environment
// needs: a catalog guardian on a durable catalog, storage and a query
// tracker, all on Pebble under one directory, then the environment itself,
// in the order a node starts them. Tests of the environment, the client
// library and arborctl use it; restarting on the same directory is how they
// check that tables survive a restart.
package environmenttest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// Options adjust a node.
type Options struct {
	// Env adjusts the environment's config before New.
	Env func(*environment.Config)
	// HoldSnapshots puts a gate in front of storage that keeps every
	// StorageSnapshot unanswered, so peeks stay pending.
	HoldSnapshots bool
	// CompactionWindow is storage's (0 keeps only the latest version).
	CompactionWindow uint64
	// StorageAnswer, when set, sees every request to storage but snapshots
	// first; a
	// non-nil result is the answer and the request never reaches storage.
	// Tests use it to make storage fail.
	StorageAnswer func(msg any) any
	// CatalogAnswer, when set, sees every catalog request and the catalog's
	// answer, and returns the answer the environment gets. Tests use it to
	// make a committed transaction look failed (outcome unknown).
	CatalogAnswer func(req, resp any) any
	// Compute gives the environment a launcher: replica runtimes run in
	// sys, under one host actor, with their outputs shards in storage's
	// Pebble store, so the environment serves clusters, views, indexes
	// and materialized views (and bootstrap creates the default cluster).
	Compute bool
}

// Node is a running catalog, storage, tracker and environment.
type Node struct {
	Sys     *actor.ActorSystem
	Env     *actor.PID
	Catalog *actor.PID
	Storage *actor.PID
	Tracker *querytracker.Handle
	Effects *environment.TrackerEffects

	gate        *actor.PID
	catalogGate *actor.PID
	host        *actor.PID
	outMu       sync.Mutex
	outputs     map[timely.ReplicaId]persistence.Shard
	catStore    persistence.Store
	stStore     persistence.Store
	shards      []persistence.Shard
	stopped     bool
}

// Start starts a node on dir in sys; Stop (also run at cleanup) stops it.
func Start(t testing.TB, sys *actor.ActorSystem, dir string, opts Options) *Node {
	t.Helper()
	n, err := Launch(sys, dir, opts)
	if n != nil {
		t.Cleanup(n.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Launch is Start for code without a testing.TB (runnable examples): the
// caller stops the node. On error what was started is stopped.
func Launch(sys *actor.ActorSystem, dir string, opts Options) (*Node, error) {
	n := &Node{Sys: sys}
	if err := n.start(dir, opts); err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(dir string, opts Options) error {
	sys := n.Sys
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if n.catStore, err = pebble.Open(filepath.Join(dir, "catalog")); err != nil {
		return fmt.Errorf("open catalog store: %w", err)
	}
	if n.stStore, err = pebble.Open(filepath.Join(dir, "storage")); err != nil {
		return fmt.Errorf("open storage store: %w", err)
	}
	cat, err := n.catStore.OpenShard(ctx, "catalog")
	if err != nil {
		return err
	}
	ver, err := n.catStore.OpenShard(ctx, "catalog_version")
	if err != nil {
		return err
	}
	n.shards = append(n.shards, cat, ver)

	// 1. The catalog guardian.
	catProps, err := catalog.New(catalog.Config{
		Open: func(ctx context.Context) (*durable.Handle, error) {
			return durable.Open(ctx, durable.Config{Catalog: cat, Version: ver, Mode: durable.Writable, DeployGeneration: 1})
		},
		Halt:   func(reason string) { testkit.QuietLogger().Error("catalog halted", "reason", reason) },
		Logger: testkit.QuietLogger(),
	})
	if err != nil {
		return err
	}
	n.Catalog = sys.Root.Spawn(catProps.Configure(actor.WithGuardian(catalog.SupervisorStrategy())))

	catalogPID := n.Catalog
	if opts.CatalogAnswer != nil {
		n.catalogGate = sys.Root.Spawn(actor.PropsFromFunc(catalogGate(n.Catalog, opts.CatalogAnswer)))
		catalogPID = n.catalogGate
	}

	// 2. Storage.
	props, err := storage.New(storage.Config{Store: n.stStore, Logger: testkit.QuietLogger(),
		CompactionWindow: opts.CompactionWindow, MaintenanceInterval: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	n.Storage = sys.Root.Spawn(props)
	storagePID := n.Storage
	if opts.HoldSnapshots || opts.StorageAnswer != nil {
		n.gate = sys.Root.Spawn(actor.PropsFromFunc(gate(n.Storage, opts)))
		storagePID = n.gate
	}

	// 3. The query tracker, with the environment's effects.
	n.Effects = environment.NewTrackerEffects()
	if n.Tracker, err = querytracker.Spawn(sys.Root, querytracker.Config{Effects: n.Effects, Logger: testkit.QuietLogger()}); err != nil {
		return err
	}

	// 4. The environment.
	cfg := environment.Config{Catalog: catalogPID, Storage: storagePID, Tracker: n.Tracker, Effects: n.Effects, Logger: testkit.QuietLogger()}
	if opts.Compute {
		n.host = sys.Root.Spawn(replica.NewHost())
		n.outputs = map[timely.ReplicaId]persistence.Shard{}
		launcher := &replica.LocalLauncher{System: sys, Parent: n.host, Runtimes: replica.RuntimeConfig{
			Storage: n.Storage, Outputs: n.openOutputs, Workers: 1, Logger: testkit.QuietLogger()}}
		cfg.Launcher = func(timely.ClusterId, timely.ReplicaId) replica.Launcher { return launcher }
		cfg.ComputeMaintainInterval = 20 * time.Millisecond
	}
	if opts.Env != nil {
		opts.Env(&cfg)
	}
	envProps, err := environment.New(cfg)
	if err != nil {
		return err
	}
	if n.Env, err = sys.Root.SpawnNamed(envProps, environment.Path); err != nil {
		return err
	}
	return nil
}

// openOutputs opens (once) a replica's outputs shard in storage's store.
func (n *Node) openOutputs(id timely.ReplicaId) (persistence.Shard, error) {
	n.outMu.Lock()
	defer n.outMu.Unlock()
	if s, ok := n.outputs[id]; ok {
		return s, nil
	}
	s, err := n.stStore.OpenShard(context.Background(), "outputs-"+id.String())
	if err != nil {
		return nil, err
	}
	n.outputs[id] = s
	return s, nil
}

// gate forwards everything to storage except what opts hold or answer.
func gate(storagePID *actor.PID, opts Options) actor.ReceiveFunc {
	return func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		case *messages.StorageSnapshot:
			if !opts.HoldSnapshots {
				ctx.RequestWithCustomSender(storagePID, m, ctx.Sender())
			}
		default:
			if opts.StorageAnswer != nil {
				if r := opts.StorageAnswer(m); r != nil {
					ctx.Respond(r)
					return
				}
			}
			ctx.RequestWithCustomSender(storagePID, m, ctx.Sender())
		}
	}
}

// catalogGate forwards catalog requests and lets answer rewrite the
// replies.
func catalogGate(catalogPID *actor.PID, answer func(req, resp any) any) actor.ReceiveFunc {
	return func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			sender := ctx.Sender()
			f := ctx.RequestFuture(catalogPID, m, 10*time.Second)
			ctx.ReenterAfter(f, func(res any, err error) {
				if err == nil {
					ctx.Send(sender, answer(m, res))
				}
			})
		}
	}
}

// Stop stops the environment, tracker, storage and catalog, in that order,
// and closes the stores. Stopping twice is harmless.
func (n *Node) Stop() {
	if n.stopped {
		return
	}
	n.stopped = true
	for _, pid := range []*actor.PID{n.Env, n.gate, n.catalogGate} {
		if pid != nil {
			_ = n.Sys.Root.StopFuture(pid).Wait()
		}
	}
	if n.host != nil {
		_ = n.Sys.Root.StopFuture(n.host).Wait()
	}
	n.outMu.Lock()
	for _, s := range n.outputs {
		_ = s.Close()
	}
	n.outputs = nil
	n.outMu.Unlock()
	if n.Tracker != nil {
		_ = n.Tracker.Stop()
	}
	for _, pid := range []*actor.PID{n.Storage, n.Catalog} {
		if pid != nil {
			_ = n.Sys.Root.StopFuture(pid).Wait()
		}
	}
	for _, s := range n.shards {
		_ = s.Close()
	}
	if n.stStore != nil {
		_ = n.stStore.Close()
	}
	if n.catStore != nil {
		_ = n.catStore.Close()
	}
}

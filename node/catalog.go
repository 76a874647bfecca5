package node

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	rootguardian "github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/asynkron/protoactor-go/actor"
)

// The node's catalog: where it lives (--catalog), which deployment this
// process belongs to (--deploy-generation), and the catalog guardian that
// owns it, spawned as the "catalog" subsystem under the node guardian.

// catalogStartTimeout bounds opening the catalog at start.
const catalogStartTimeout = 30 * time.Second

// etcdSpec is a parsed etcd URL flag (--catalog, --storage): empty
// Endpoints means the embedded Pebble store under the data dir.
type etcdSpec struct {
	Endpoints []string
	Prefix    string
}

// catalogSpec is a parsed --catalog.
type catalogSpec = etcdSpec

// parseCatalogSpec parses "" (embedded Pebble) or
// "etcd://host:port[,host:port...]/prefix".
func parseCatalogSpec(s string) (catalogSpec, error) {
	return parseEtcdSpec("catalog", s)
}

// parseEtcdSpec parses the value s of --flag: "" (embedded Pebble) or
// "etcd://host:port[,host:port...]/prefix" (prefix /arbor by default),
// whose keys go under <prefix>/<flag>.
func parseEtcdSpec(flag, s string) (etcdSpec, error) {
	if s == "" {
		return etcdSpec{}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "etcd" || u.Host == "" {
		return etcdSpec{}, fmt.Errorf("%w: --%s %q: want etcd://host:port/prefix (or nothing for Pebble under the data dir)", ErrBadConfig, flag, s)
	}
	prefix := strings.TrimRight(u.Path, "/")
	if prefix == "" {
		prefix = "/arbor"
	}
	var endpoints []string
	for _, h := range strings.Split(u.Host, ",") {
		endpoints = append(endpoints, "http://"+h)
	}
	return etcdSpec{Endpoints: endpoints, Prefix: prefix + "/" + flag}, nil
}

// nodeCatalog is what the node holds open for its catalog.
type nodeCatalog struct {
	store            persistence.Store
	catalog, version persistence.Shard
	pid              *actor.PID
	// token is the fence token the guardian opened the catalog with; its
	// epoch is the environment epoch compute replicas are stamped with.
	token durable.FenceToken
}

// startCatalog opens the catalog store and spawns the catalog guardian,
// which takes over the catalog (fencing any earlier node). It returns once
// the guardian is ready; a node that cannot own the catalog fails to start.
func (n *Node) startCatalog() error {
	spec, err := parseCatalogSpec(n.cfg.Catalog)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), catalogStartTimeout)
	defer cancel()
	c := &nodeCatalog{}
	n.catalog = c
	if spec.Endpoints == nil {
		dir := filepath.Join(n.cfg.DataDir, "catalog")
		if c.store, err = pebble.Open(dir); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
	} else if c.store, err = etcd.Dial(ctx, spec.Endpoints, spec.Prefix); err != nil {
		return fmt.Errorf("catalog: %w", err) // etcd's error names the endpoints
	}
	if c.catalog, err = c.store.OpenShard(ctx, "catalog"); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if c.version, err = c.store.OpenShard(ctx, "catalog_version"); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	metrics, err := catalog.NewMetrics(n.metrics.registry)
	if err != nil {
		return err
	}
	generation := n.cfg.DeployGeneration
	// The guardian's requests are local Go structs: it accepts nothing
	// from remote senders.
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: SubsystemCatalog, Logger: n.logger.With("actor", SubsystemCatalog), Registerer: n.metrics.registry,
	})
	if err != nil {
		return err
	}
	open := func(mode durable.Mode) func(ctx context.Context) (*durable.Handle, error) {
		return func(ctx context.Context) (*durable.Handle, error) {
			return durable.Open(ctx, durable.Config{
				Catalog: c.catalog, Version: c.version, Mode: mode,
				DeployGeneration: generation, Clock: n.clock,
			})
		}
	}
	ccfg := catalog.Config{
		Open:    open(durable.Writable),
		Halt:    n.halt,
		Clock:   n.clock,
		Metrics: metrics,
		Logger:  n.logger.With("actor", SubsystemCatalog),
	}
	if n.cfg.ReadOnly {
		// A new deploy generation: read the catalog without fencing the
		// serving node until POST /promote (deploy.go).
		ccfg.Open, ccfg.Promote = open(durable.ReadOnly), open(durable.Writable)
	}
	props, err := catalog.New(ccfg)
	if err != nil {
		return err
	}
	props = props.Configure(actor.WithReceiverMiddleware(allow))
	if c.pid, err = n.spawnSubsystem(SubsystemCatalog, props); err != nil {
		return err
	}
	// The guardian opens the catalog before it reads any message, so its
	// first status says how the open went.
	res, err := n.system.Root.RequestFuture(c.pid, &catalog.GetStatus{}, catalogStartTimeout).Result()
	if err != nil {
		return fmt.Errorf("catalog guardian status: %w", err)
	}
	st, ok := res.(*catalog.Status)
	switch {
	case !ok:
		return fmt.Errorf("catalog guardian status: unexpected answer %T", res)
	case st.Phase == catalog.PhaseReady:
		c.token = st.Token
		n.logger.Info("catalog open", "token", st.Token.String(), "catalog", n.catalogLocation(spec))
		return nil
	case st.Err != nil:
		// The guardian's errors already say "catalog".
		return fmt.Errorf("cannot own %s: %w", n.catalogLocation(spec), st.Err)
	case st.LastFailure != nil:
		return fmt.Errorf("cannot open %s: %w", n.catalogLocation(spec), st.LastFailure)
	}
	return fmt.Errorf("catalog guardian not ready (%s)", st.Phase)
}

func (n *Node) catalogLocation(spec catalogSpec) string {
	if spec.Endpoints == nil {
		return filepath.Join(n.cfg.DataDir, "catalog")
	}
	return fmt.Sprintf("etcd %s%s", strings.Join(spec.Endpoints, ","), spec.Prefix)
}

// stopCatalog closes the catalog's shards and store; the guardian has
// stopped with the node guardian before.
func (n *Node) stopCatalog() {
	c := n.catalog
	if c == nil {
		return
	}
	var errs []error
	for _, s := range []persistence.Shard{c.catalog, c.version} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if c.store != nil {
		errs = append(errs, c.store.Close())
	}
	if err := errors.Join(errs...); err != nil {
		n.logger.Warn("closing the catalog", "err", err)
	}
}

// halt is the catalog guardian's Halt: it hands the reason to whoever waits
// on Halted (main exits non-zero with it). Only the first reason is kept.
//
// The environment stops at once (before main stops the node in order), so
// clients stop being answered by a node a newer one fenced: their calls
// fail and they fail over (docs/deploy.md) instead of waiting for the
// whole node to stop.
func (n *Node) halt(reason string) {
	select {
	case n.halted <- reason:
		if n.guardian != nil && !n.stopping.Load() {
			n.system.Root.Send(n.guardian, &rootguardian.StopSubsystem{Name: SubsystemEnvironment})
		}
	default:
	}
}

// Halted receives, once, the reason the node must stop: its catalog
// guardian was fenced by a newer node or cannot open the catalog, or the
// catalog guardian or the node guardian stopped.
func (n *Node) Halted() <-chan string { return n.halted }

package durable_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// env is one durable catalog (a catalog and a version shard in one store)
// that several handles open, as several processes would.
type env struct {
	t     testing.TB
	ctx   context.Context
	store persistence.Store
	clock *clock.Manual
}

func newEnvOn(t testing.TB, store persistence.Store) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() { _ = store.Close() })
	return &env{t: t, ctx: ctx, store: store, clock: clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
}

// shards opens fresh handles on the catalog and version shards; they close
// before the store.
func (e *env) shards() (persistence.Shard, persistence.Shard) {
	e.t.Helper()
	cat, err := e.store.OpenShard(e.ctx, "catalog")
	require.NoError(e.t, err)
	ver, err := e.store.OpenShard(e.ctx, "catalog_version")
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = cat.Close(); _ = ver.Close() })
	return cat, ver
}

func (e *env) config(mode durable.Mode, generation uint64) durable.Config {
	cat, ver := e.shards()
	return durable.Config{Catalog: cat, Version: ver, Mode: mode, DeployGeneration: generation, Clock: e.clock}
}

func (e *env) open(mode durable.Mode, generation uint64) (*durable.Handle, error) {
	return durable.Open(e.ctx, e.config(mode, generation))
}

func (e *env) mustOpen(mode durable.Mode, generation uint64) *durable.Handle {
	e.t.Helper()
	h, err := e.open(mode, generation)
	require.NoError(e.t, err)
	return h
}

// upper reads the catalog shard's upper directly.
func (e *env) upper() timely.Frontier {
	e.t.Helper()
	cat, _ := e.shards()
	u, err := cat.Upper(e.ctx)
	require.NoError(e.t, err)
	return u
}

// rawContents is the consolidated catalog shard at its upper.
func (e *env) rawContents() []persistence.Update {
	e.t.Helper()
	cat, _ := e.shards()
	u, err := cat.Upper(e.ctx)
	require.NoError(e.t, err)
	ts, _ := u.Time()
	if ts == 0 {
		return nil
	}
	out, err := cat.Snapshot(e.ctx, ts-1)
	require.NoError(e.t, err)
	return out
}

func cluster(n uint64, name string) *messages.CatalogCluster {
	return &messages.CatalogCluster{Id: messages.FromClusterId(timely.ClusterId{Kind: timely.User, Value: n}), Name: name}
}

func table(n uint64, name string) *messages.CatalogItem {
	return &messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(n)), Name: name, Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE}
}

// createCluster commits one cluster through h.
func createCluster(t testing.TB, ctx context.Context, h *durable.Handle, n uint64, name string) error {
	t.Helper()
	tx, err := h.Transaction(ctx)
	if err != nil {
		return err
	}
	if err := tx.CreateCluster(cluster(n, name)); err != nil {
		return err
	}
	_, err = tx.Commit(ctx)
	return err
}

func requireFence(t testing.TB, err error, kind durable.FenceKind, current, fence durable.FenceToken) {
	t.Helper()
	require.ErrorIs(t, err, durable.ErrFenced)
	var fe *durable.FenceError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, kind, fe.Kind, "fence kind: %v", err)
	require.Equal(t, current, fe.Current, "current token: %v", err)
	require.Equal(t, fence, fe.Fence, "fence token: %v", err)
}

func tok(gen uint64, epoch int64) durable.FenceToken {
	return durable.FenceToken{DeployGeneration: gen, Epoch: epoch}
}

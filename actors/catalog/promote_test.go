package catalog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/testkit"
)

// startReadOnly spawns a second guardian on the fixture's catalog that
// opens read-only and is promoted with a writable open of generation.
func (f *fixture) startReadOnly(generation uint64, halts chan string) *actor.PID {
	open := func(mode durable.Mode) func(ctx context.Context) (*durable.Handle, error) {
		return func(ctx context.Context) (*durable.Handle, error) {
			cat, err := f.store.OpenShard(ctx, "catalog")
			if err != nil {
				return nil, err
			}
			ver, err := f.store.OpenShard(ctx, "catalog_version")
			if err != nil {
				return nil, err
			}
			f.t.Cleanup(func() { _ = cat.Close(); _ = ver.Close() })
			return durable.Open(ctx, durable.Config{Catalog: cat, Version: ver, Mode: mode, DeployGeneration: generation, Clock: f.clk})
		}
	}
	props, err := catalog.New(catalog.Config{
		Open: open(durable.ReadOnly), Promote: open(durable.Writable),
		Halt: func(reason string) { halts <- reason }, Clock: f.clk, Logger: testkit.QuietLogger(),
	})
	require.NoError(f.t, err)
	pid := f.sys.Root.Spawn(props.Configure(actor.WithGuardian(catalog.SupervisorStrategy())))
	f.t.Cleanup(func() { _ = f.sys.Root.StopFuture(pid).Wait() })
	return pid
}

func ask[T any](f *fixture, pid *actor.PID, msg any) T {
	f.t.Helper()
	f.probe.Send(pid, msg)
	return testkit.ExpectMsg[T](f.probe, timeout)
}

// TestPromoteFencesTheRunningWriter: a read-only guardian of generation 2
// reads the catalog and refuses writes; Promote takes the catalog over
// with a writable open, and the generation-1 writer halts at its next
// leadership check with a message naming both tokens.
func TestPromoteFencesTheRunningWriter(t *testing.T) {
	f := newFixture(t)
	f.start()
	require.NoError(t, f.transact(createCluster(1, "c1")).Err)

	haltsB := make(chan string, 2)
	b := f.startReadOnly(2, haltsB)
	st := ask[*catalog.Status](f, b, &catalog.GetStatus{})
	require.Equal(t, catalog.PhaseReady, st.Phase)
	require.True(t, st.ReadOnly)
	require.False(t, st.Promoted)
	snap := ask[*catalog.SnapshotResult](f, b, &catalog.GetSnapshot{})
	require.NoError(t, snap.Err)
	require.Len(t, snap.Snapshot.Clusters(), 1)
	res := ask[*catalog.TransactResult](f, b, &catalog.Transact{Apply: createCluster(2, "c2")})
	require.ErrorIs(t, res.Err, durable.ErrReadOnly)

	// The writer is not promotable.
	pr := ask[*catalog.PromoteResult](f, f.pid, &catalog.Promote{})
	require.ErrorIs(t, pr.Err, catalog.ErrNotPromotable)

	pr = ask[*catalog.PromoteResult](f, b, &catalog.Promote{})
	require.NoError(t, pr.Err)
	want := durable.FenceToken{DeployGeneration: 2, Epoch: 2}
	require.Equal(t, want, pr.Token)
	st = ask[*catalog.Status](f, b, &catalog.GetStatus{})
	require.True(t, st.Promoted)
	require.False(t, st.ReadOnly)
	require.Equal(t, want, st.Token)
	require.NoError(t, ask[*catalog.TransactResult](f, b, &catalog.Transact{Apply: createCluster(2, "c2")}).Err)
	// Promoting again answers with the token.
	require.Equal(t, want, ask[*catalog.PromoteResult](f, b, &catalog.Promote{}).Token)

	// The old writer's next leadership check fences it.
	f.clk.Advance(catalog.DefaultConfirmInterval)
	select {
	case reason := <-f.halts:
		require.Contains(t, reason, "(generation 1, epoch 1)")
		require.Contains(t, reason, want.String())
	case <-time.After(timeout):
		t.Fatal("the old writer did not halt")
	}
	require.ErrorIs(t, f.transact(createCluster(3, "c3")).Err, durable.ErrFenced)
	require.Empty(t, haltsB)
}

// TestPromoteWithAnOlderGenerationIsFenced: a read-only guardian whose
// generation is older than the catalog's cannot take it over: Promote is
// answered with the fence error and the node halts.
func TestPromoteWithAnOlderGenerationIsFenced(t *testing.T) {
	f := newFixture(t)
	_, err := f.openDurable(durable.Writable, 5)
	require.NoError(t, err)
	halts := make(chan string, 2)
	b := f.startReadOnly(2, halts)
	pr := ask[*catalog.PromoteResult](f, b, &catalog.Promote{})
	require.ErrorIs(t, pr.Err, durable.ErrFenced)
	select {
	case reason := <-halts:
		require.True(t, strings.Contains(reason, "generation 5"), reason)
	case <-time.After(timeout):
		t.Fatal("no halt")
	}
	require.Equal(t, catalog.PhaseFenced, ask[*catalog.Status](f, b, &catalog.GetStatus{}).Phase)
}

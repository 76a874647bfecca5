package durable_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
)

func TestOpenFreshCatalogWritesFirstToken(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		h := e.mustOpen(durable.Writable, 1)
		require.Equal(t, tok(1, 1), h.Token())
		require.Equal(t, durable.TokenUnfenced, h.FenceableToken().State())
		snap, err := h.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Equal(t, tok(1, 1), snap.FenceToken())
		require.Equal(t, timely.At(1), e.upper())

		h2 := e.mustOpen(durable.Writable, 1)
		require.Equal(t, tok(1, 2), h2.Token())
		require.Equal(t, timely.At(2), e.upper())
	})
}

func TestEpochFencingOfSnapshot(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		old := e.mustOpen(durable.Writable, 1)
		e.mustOpen(durable.Writable, 1)
		_, err := old.Snapshot(e.ctx)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
		// Final: every later call says the same.
		_, err = old.Snapshot(e.ctx)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
		requireFence(t, old.ConfirmLeadership(e.ctx), durable.FenceEpoch, tok(1, 1), tok(1, 2))
	})
}

func TestEpochFencingOfTransaction(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		old := e.mustOpen(durable.Writable, 1)
		e.mustOpen(durable.Writable, 1)
		_, err := old.Transaction(e.ctx)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
	})
}

func TestEpochFencingOfCommit(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		old := e.mustOpen(durable.Writable, 1)
		tx, err := old.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx.CreateCluster(cluster(1, "c1")))
		e.mustOpen(durable.Writable, 1)
		_, err = tx.Commit(e.ctx)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
		_, err = old.AllocateIds(e.ctx, "user", 1)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
	})
}

func TestDeployGenerationFencing(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		gen1 := e.mustOpen(durable.Writable, 1)
		require.NoError(t, createCluster(t, e.ctx, gen1, 1, "c1"))

		gen2 := e.mustOpen(durable.Writable, 2)
		require.Equal(t, tok(2, 2), gen2.Token(), "the epoch keeps counting across generations")

		_, err := gen1.Snapshot(e.ctx)
		requireFence(t, err, durable.FenceDeployGeneration, tok(1, 1), tok(2, 2))

		// An older generation cannot take the catalog back, in any fencing mode.
		_, err = e.open(durable.Writable, 1)
		requireFence(t, err, durable.FenceDeployGeneration, tok(1, 2), tok(2, 2))
		_, err = e.open(durable.Savepoint, 1)
		requireFence(t, err, durable.FenceDeployGeneration, tok(1, 2), tok(2, 2))
		// Reading is always allowed.
		ro := e.mustOpen(durable.ReadOnly, 1)
		snap, err := ro.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Len(t, snap.Clusters(), 1)

		// The newer generation is still in charge.
		require.NoError(t, gen2.ConfirmLeadership(e.ctx))
		require.NoError(t, createCluster(t, e.ctx, gen2, 2, "c2"))
	})
}

func TestFencingDuringPendingWriteNeverBecomesDurable(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		old := e.mustOpen(durable.Writable, 1)
		tx, err := old.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx.CreateCluster(cluster(7, "pending")))
		require.NoError(t, tx.CreateItem(table(1, "t")))

		neu := e.mustOpen(durable.Writable, 1)
		before := e.rawContents()
		_, err = tx.Commit(e.ctx)
		requireFence(t, err, durable.FenceEpoch, tok(1, 1), tok(1, 2))
		require.Equal(t, before, e.rawContents(), "a fenced write changes nothing")

		snap, err := neu.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Empty(t, snap.Clusters())
		require.Empty(t, snap.Items())
		reopened := e.mustOpen(durable.ReadOnly, 1)
		snap, err = reopened.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Empty(t, snap.Clusters())
	})
}

func TestConcurrentOpenNewerWins(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		const n = 8
		handles := make([]*durable.Handle, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				handles[i], errs[i] = durable.Open(e.ctx, e.config(durable.Writable, 1))
			}()
		}
		wg.Wait()
		epochs := map[int64]bool{}
		var newest *durable.Handle
		for i := range n {
			require.NoError(t, errs[i])
			ep := handles[i].Token().Epoch
			require.False(t, epochs[ep], "epoch %d handed out twice", ep)
			epochs[ep] = true
			if newest == nil || newest.Token().Less(handles[i].Token()) {
				newest = handles[i]
			}
		}
		require.Equal(t, tok(1, n), newest.Token())
		for _, h := range handles {
			err := h.ConfirmLeadership(e.ctx)
			if h == newest {
				require.NoError(t, err)
				continue
			}
			requireFence(t, err, durable.FenceEpoch, h.Token(), tok(1, n))
		}
		require.NoError(t, createCluster(t, e.ctx, newest, 1, "winner"))
	})
}

func TestSavepointWritesVanishOnReopen(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		require.NoError(t, createCluster(t, e.ctx, w, 1, "durable"))
		upper := e.upper()

		sp := e.mustOpen(durable.Savepoint, 1)
		require.Equal(t, tok(1, 2), sp.Token(), "a savepoint takes the next token in memory")
		require.NoError(t, createCluster(t, e.ctx, sp, 2, "savepoint"))
		snap, err := sp.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Len(t, snap.Clusters(), 2)
		require.Equal(t, upper, e.upper(), "a savepoint writes nothing")

		// The savepoint fenced nobody.
		require.NoError(t, w.ConfirmLeadership(e.ctx))

		re := e.mustOpen(durable.Writable, 1)
		snap, err = re.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Len(t, snap.Clusters(), 1)
		require.Equal(t, "durable", snap.Clusters()[0].GetName())
		require.Equal(t, tok(1, 2), re.Token(), "the savepoint's token was never durable")
	})
}

func TestReadOnlyCommits(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		upper := e.upper()

		ro := e.mustOpen(durable.ReadOnly, 1)
		tx, err := ro.Transaction(e.ctx)
		require.NoError(t, err)
		got, err := tx.Commit(e.ctx)
		require.NoError(t, err, "an empty read-only commit succeeds")
		require.Equal(t, upper, got)

		tx, err = ro.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx.CreateCluster(cluster(1, "c")))
		_, err = tx.Commit(e.ctx)
		require.ErrorIs(t, err, durable.ErrReadOnly)
		_, err = ro.AllocateIds(e.ctx, "user", 1)
		require.ErrorIs(t, err, durable.ErrReadOnly)

		require.Equal(t, upper, e.upper(), "read-only handles write nothing")
		require.NoError(t, w.ConfirmLeadership(e.ctx), "read-only handles fence nobody")

		// A read-only handle follows the writer.
		require.NoError(t, createCluster(t, e.ctx, w, 1, "c"))
		snap, err := ro.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Len(t, snap.Clusters(), 1)
	})
}

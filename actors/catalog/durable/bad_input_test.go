package durable_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func encode(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	require.NoError(t, err)
	return b
}

func clusterKV(t testing.TB, n uint64, name string) ([]byte, []byte) {
	c := cluster(n, name)
	k := &messages.CatalogKey{Kind: &messages.CatalogKey_Cluster{Cluster: &messages.CatalogClusterKey{Id: c.GetId()}}}
	v := &messages.CatalogValue{Kind: &messages.CatalogValue_Cluster{Cluster: c}}
	return encode(t, k), encode(t, v)
}

// appendRaw appends updates to the catalog shard behind the catalog's back,
// as a buggy or malicious writer would.
func (e *env) appendRaw(us ...persistence.Update) {
	e.t.Helper()
	cat, _ := e.shards()
	upper, err := cat.Upper(e.ctx)
	require.NoError(e.t, err)
	ts, _ := upper.Time()
	for i := range us {
		us[i].Ts = ts
	}
	require.NoError(e.t, cat.CompareAndAppend(e.ctx, us, upper, timely.At(ts+1)))
}

func TestBadInputIsAClearErrorAndChangesNothing(t *testing.T) {
	onBackendStores(t, func(t *testing.T, newStore func(*testing.T) persistence.Store) {
		goodKey, goodValue := clusterKV(t, 1, "c1")
		_, otherValue := clusterKV(t, 1, "renamed")
		unknownKind := protowire.AppendTag(nil, 99, protowire.BytesType)
		unknownKind = protowire.AppendBytes(unknownKind, []byte{})
		setting := encode(t, &messages.CatalogValue{Kind: &messages.CatalogValue_Setting{Setting: &messages.CatalogSetting{Name: "x"}}})
		for _, tc := range []struct {
			name    string
			updates []persistence.Update
			want    error
			msg     string
		}{
			{"corrupted key bytes", []persistence.Update{{Key: []byte{0xff, 0xff, 0xff}, Value: goodValue, Diff: 1}}, durable.ErrCorrupt, "does not decode"},
			{"corrupted value bytes", []persistence.Update{{Key: goodKey, Value: []byte{0x0a, 0x05, 0x01}, Diff: 1}}, durable.ErrCorrupt, "does not decode"},
			{"unknown kind", []persistence.Update{{Key: unknownKind, Value: goodValue, Diff: 1}}, durable.ErrCorrupt, "unknown catalog entry kind"},
			{"key and value of different kinds", []persistence.Update{{Key: goodKey, Value: setting, Diff: 1}}, durable.ErrCorrupt, "holds a setting value"},
			{"retraction of a missing value", []persistence.Update{{Key: goodKey, Value: goodValue, Diff: -1}}, durable.ErrInconsistent, "not in the catalog"},
			{"insert twice", []persistence.Update{{Key: goodKey, Value: goodValue, Diff: 2}}, durable.ErrInconsistent, "diff 2"},
			{"insert over a live value", []persistence.Update{{Key: goodKey, Value: otherValue, Diff: 1}, {Key: goodKey, Value: goodValue, Diff: 1}}, durable.ErrInconsistent, "not retracted"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnvOn(t, newStore(t))
				w := e.mustOpen(durable.Writable, 1)
				e.appendRaw(tc.updates...)
				before, upper := e.rawContents(), e.upper()

				_, err := w.Snapshot(e.ctx)
				require.ErrorIs(t, err, tc.want)
				require.ErrorContains(t, err, tc.msg)
				_, err = e.open(durable.Writable, 1)
				require.ErrorIs(t, err, tc.want)
				_, err = e.open(durable.ReadOnly, 1)
				require.ErrorIs(t, err, tc.want)

				require.Equal(t, upper, e.upper(), "no change to durable state")
				require.Equal(t, before, e.rawContents())
			})
		}
	})
}

func TestRetractionMustMatchTheLiveValue(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		require.NoError(t, createCluster(t, e.ctx, w, 1, "c1"))
		key, _ := clusterKV(t, 1, "c1")
		_, wrong := clusterKV(t, 1, "not-c1")
		e.appendRaw(persistence.Update{Key: key, Value: wrong, Diff: -1})
		_, err := w.Snapshot(e.ctx)
		require.ErrorIs(t, err, durable.ErrInconsistent)
		require.ErrorContains(t, err, "does not match")
	})
}

func TestCommitAgainstStaleUpper(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		tx1, err := w.Transaction(e.ctx)
		require.NoError(t, err)
		tx2, err := w.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx1.CreateCluster(cluster(1, "first")))
		require.NoError(t, tx2.CreateCluster(cluster(2, "second")))
		_, err = tx1.Commit(e.ctx)
		require.NoError(t, err)
		before, upper := e.rawContents(), e.upper()
		_, err = tx2.Commit(e.ctx)
		require.ErrorIs(t, err, durable.ErrStaleTransaction)
		require.Equal(t, before, e.rawContents())
		require.Equal(t, upper, e.upper())
		_, err = tx2.Commit(e.ctx)
		require.ErrorIs(t, err, durable.ErrTransactionDone)

		// A foreign append that is not a fence makes the next commit stale but
		// leaves the handle unfenced.
		k, v := clusterKV(t, 9, "foreign")
		tx3, err := w.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx3.CreateCluster(cluster(3, "third")))
		e.appendRaw(persistence.Update{Key: k, Value: v, Diff: 1})
		before, upper = e.rawContents(), e.upper()
		_, err = tx3.Commit(e.ctx)
		require.ErrorIs(t, err, durable.ErrStaleTransaction)
		var mismatch *persistence.UpperMismatchError
		require.ErrorAs(t, err, &mismatch)
		require.Equal(t, before, e.rawContents())
		require.Equal(t, upper, e.upper())
		require.NoError(t, w.ConfirmLeadership(e.ctx))
		require.NoError(t, createCluster(t, e.ctx, w, 3, "third"))
	})
}

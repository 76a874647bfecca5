package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
	"github.com/arbor-db/arbor/timely"
)

// rawStore is what every backend's Store offers for writing bad bytes.
type rawStore interface {
	KV() kvshard.KV
	Prefix() string
}

func putRaw(t *testing.T, st persistence.Store, key, value []byte) {
	t.Helper()
	raw, ok := st.(rawStore)
	require.True(t, ok, "store %T does not expose its KV", st)
	ok, _, err := raw.KV().Txn(ctxFor(t), nil, []kvshard.Op{kvshard.Put(key, value)})
	require.NoError(t, err)
	require.True(t, ok)
}

// testCorruption: bytes that do not decode give a clear *CorruptError naming
// the key, never a panic, and nothing is written.
func testCorruption(t *testing.T, h Harness) {
	st, s := openShard(t, h)
	keys := kvshard.KeysFor(st.(rawStore).Prefix(), "test")
	appendOK(t, s, []persistence.Update{upd("a", "1", 0, 1)}, at(0), at(2))
	appendOK(t, s, []persistence.Update{upd("b", "1", 2, 1)}, at(2), at(3))

	// A batch that does not decode: reads fail, the upper is still fine.
	for _, bad := range [][]byte{{}, {1}, {9, 9, 9}, {1, 'T', 0, 0, 0, 0, 0, 0, 0, 3, 200}} {
		putRaw(t, st, keys.Batch(2), bad)
		_, err := s.Snapshot(ctxFor(t), 2)
		var ce *persistence.CorruptError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, persistence.ErrCorrupt)
		require.Equal(t, "test", ce.Shard)
		require.Equal(t, string(keys.Batch(2)), ce.Key)
		_, err = s.Listen(ctxFor(t), at(0))
		require.ErrorIs(t, err, persistence.ErrCorrupt)
	}
	require.Equal(t, at(3), upperOf(t, s))

	// An upper that does not decode: every operation says so and writes nothing.
	putRaw(t, st, keys.Upper(), []byte("garbage"))
	_, err := s.Upper(ctxFor(t))
	require.ErrorIs(t, err, persistence.ErrCorrupt)
	err = s.CompareAndAppend(ctxFor(t), nil, at(3), at(4))
	require.ErrorIs(t, err, persistence.ErrCorrupt)
	_, err = s.Snapshot(ctxFor(t), 0)
	require.ErrorIs(t, err, persistence.ErrCorrupt)

	putRaw(t, st, keys.Since(), []byte{'T', 1})
	_, err = s.Since(ctxFor(t))
	require.ErrorIs(t, err, persistence.ErrCorrupt)
	require.ErrorIs(t, s.DowngradeSince(ctxFor(t), timely.At(1)), persistence.ErrCorrupt)
}

// testCorruptIndex: an end key or indexed key that does not decode makes a
// seeking read fail with *CorruptError naming it; appends still work.
func testCorruptIndex(t *testing.T, h Harness) {
	st, s := openShard(t, h)
	keys := kvshard.KeysFor(st.(rawStore).Prefix(), "test")
	appendOK(t, s, []persistence.Update{upd("a", "1", 0, 1)}, at(0), at(2))
	appendOK(t, s, []persistence.Update{upd("b", "1", 3, 1)}, at(2), at(4))
	for _, key := range [][]byte{keys.End(at(4)), keys.Indexed()} {
		putRaw(t, st, key, []byte("garbage"))
		_, err := s.ReadRange(ctxFor(t), 3, 4)
		var ce *persistence.CorruptError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, string(key), ce.Key)
		_, err = s.Listen(ctxFor(t), at(3))
		require.ErrorIs(t, err, persistence.ErrCorrupt)
		putRaw(t, st, key, []byte{0, 0, 0, 0, 0, 0, 0, 2}) // lower 2; indexed from 2
	}
	require.Equal(t, []string{"b=1@3:1"}, readRange(t, s, 3, 4))
	appendOK(t, s, nil, at(4), at(5))
}

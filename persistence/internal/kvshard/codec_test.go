package kvshard

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func sampleBatch() batch {
	return batch{upper: timely.At(300), updates: []persistence.Update{
		{Key: []byte("k"), Value: []byte("v"), Ts: 7, Diff: -3},
		{Ts: 1 << 40, Diff: 1 << 62},
		{Key: []byte("only key"), Ts: 0, Diff: 1},
	}}
}

func TestFrontierRoundTrip(t *testing.T) {
	for _, f := range []timely.Frontier{timely.Minimum(), timely.At(42), timely.At(timely.MaxTimestamp), timely.Closed()} {
		got, err := decodeFrontier(encodeFrontier(f))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	for _, bad := range [][]byte{nil, {}, {'T'}, {'C', 0}, {'X', 0, 0, 0, 0, 0, 0, 0, 0}} {
		_, err := decodeFrontier(bad)
		require.Error(t, err, "%v", bad)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	for _, b := range []batch{sampleBatch(), {upper: timely.Closed()}, {upper: timely.At(1), updates: []persistence.Update{{Diff: 1}}}} {
		got, err := decodeBatch(encodeBatch(b))
		require.NoError(t, err)
		require.Equal(t, b.upper, got.upper)
		require.Equal(t, len(b.updates), len(got.updates))
		for i := range b.updates {
			require.Equal(t, b.updates[i], got.updates[i])
		}
	}
}

// TestBatchDecodeNeverPanics: every truncation and every single-byte change
// of a valid encoding decodes to an error or to some batch, never a panic.
func TestBatchDecodeNeverPanics(t *testing.T) {
	enc := encodeBatch(sampleBatch())
	for n := range len(enc) {
		_, err := decodeBatch(enc[:n])
		require.Error(t, err, "truncated to %d bytes", n)
	}
	_, err := decodeBatch(append(append([]byte(nil), enc...), 0))
	require.Error(t, err, "trailing byte")
	for i := range enc {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			mut := append([]byte(nil), enc...)
			mut[i] = v
			_, _ = decodeBatch(mut)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(sampleBatch()))
	f.Add([]byte{batchVersion, tagClosed, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeBatch(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a batch that decodes the same.
		again, err := decodeBatch(encodeBatch(got))
		require.NoError(t, err)
		require.Equal(t, got.upper, again.upper)
		require.Equal(t, len(got.updates), len(again.updates))
	})
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"catalog", "version", "u1", "a.b_c-D9", string(make128('x'))} {
		require.NoError(t, ValidateName(ok), ok)
	}
	for _, bad := range []string{"", "a/b", "a b", "é", "x\x00", string(make128('x')) + "x"} {
		require.ErrorIs(t, ValidateName(bad), persistence.ErrInvalidShardName, "%q", bad)
	}
}

func make128(c byte) []byte {
	b := make([]byte, 128)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestBatchKeys(t *testing.T) {
	k := KeysFor("/p/", "s")
	require.Equal(t, "/p/shard/s/batch/00000000000000ff", string(k.Batch(255)))
	lower, err := k.parseBatchKey(k.Batch(1 << 50))
	require.NoError(t, err)
	require.Equal(t, timely.Timestamp(1<<50), lower)
	for _, bad := range []string{"/p/shard/s/batch/xyz", "/p/shard/s/batch/000000000000000g", "/p/shard/t/batch/0000000000000001"} {
		_, err := k.parseBatchKey([]byte(bad))
		require.Error(t, err, bad)
	}
	// Batch keys sort in time order and stay inside the batch range.
	require.Less(t, string(k.Batch(9)), string(k.Batch(10)))
	r := k.batchesFrom(0)
	require.Less(t, string(k.Batch(timely.MaxTimestamp)), string(r.End))
}

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
	"github.com/arbor-db/arbor/timely"
)

// readRange calls ReadRange and renders its result.
func readRange(t *testing.T, s persistence.Shard, lo, hi timely.Timestamp) []string {
	t.Helper()
	us, err := s.ReadRange(ctxFor(t), lo, hi)
	require.NoError(t, err, "read range [%d, %d)", lo, hi)
	return show(us)
}

// rangeOf is the oracle of ReadRange over every update ever appended:
// times advanced by since, cut to [lo, hi), consolidated per time.
func rangeOf(all []persistence.Update, since, lo, hi timely.Timestamp) []string {
	var out []persistence.Update
	for _, u := range all {
		u.Ts = max(u.Ts, since)
		if lo <= u.Ts && u.Ts < hi {
			out = append(out, u)
		}
	}
	return show(persistence.ConsolidateByTime(out))
}

func testReadRange(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	all := []persistence.Update{upd("a", "", 0, 1), upd("b", "", 2, 1), upd("c", "", 3, 1), upd("d", "", 5, 1), upd("b", "", 5, -1)}
	appendOK(t, s, all[:3], at(0), at(4))
	appendOK(t, s, nil, at(4), at(5)) // progress only: no batch
	appendOK(t, s, all[3:], at(5), at(7))

	for lo := timely.Timestamp(0); lo <= 7; lo++ {
		for hi := lo; hi <= 7; hi++ {
			require.Equal(t, rangeOf(all, 0, lo, hi), readRange(t, s, lo, hi), "[%d, %d)", lo, hi)
		}
	}
	require.Equal(t, []string{"b=@2:1", "c=@3:1"}, readRange(t, s, 1, 5), "from inside a batch")

	// Past the upper: never waits.
	_, err := s.ReadRange(ctxFor(t), 3, 8)
	var notYet *persistence.NotYetReadableError
	require.ErrorAs(t, err, &notYet)
	require.Equal(t, timely.Timestamp(7), notYet.AsOf)
	require.Equal(t, at(7), notYet.Upper)

	// Below the since: compacted. From exactly the since: contents as of
	// since, at since.
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(3)))
	_, err = s.ReadRange(ctxFor(t), 2, 5)
	var se *persistence.SinceError
	require.ErrorAs(t, err, &se)
	require.Equal(t, at(2), se.AsOf)
	require.Equal(t, at(3), se.Since)
	require.Equal(t, []string{"a=@3:1", "b=@3:1", "c=@3:1"}, readRange(t, s, 3, 4))
	for lo := timely.Timestamp(3); lo <= 7; lo++ {
		for hi := lo; hi <= 7; hi++ {
			require.Equal(t, rangeOf(all, 3, lo, hi), readRange(t, s, lo, hi), "[%d, %d) after since 3", lo, hi)
		}
	}

	// A closed upper admits every range; an empty range reads nothing.
	appendOK(t, s, []persistence.Update{upd("e", "", 9, 1)}, at(7), timely.Closed())
	require.Equal(t, []string{"e=@9:1"}, readRange(t, s, 6, 1000))
	require.Empty(t, readRange(t, s, 5, 5))

	require.NoError(t, s.Close())
	_, err = s.ReadRange(ctxFor(t), 3, 4)
	require.ErrorIs(t, err, persistence.ErrClosed)
}

// testLegacyLayout: a shard written before batches had end keys (no end
// keys, no indexed key) stays readable, and appends made afterwards are
// sought through the index while reads below them still scan.
func testLegacyLayout(t *testing.T, h Harness) {
	st, s := openShard(t, h)
	raw := st.(rawStore)
	keys := kvshard.KeysFor(raw.Prefix(), "test")
	var all []persistence.Update
	add := func(s persistence.Shard, ups []persistence.Update, lower, upper timely.Timestamp) {
		t.Helper()
		appendOK(t, s, ups, at(lower), at(upper))
		all = append(all, ups...)
	}
	add(s, []persistence.Update{upd("a", "", 0, 1), upd("b", "", 1, 1)}, 0, 2)
	add(s, []persistence.Update{upd("c", "", 3, 1), upd("d", "", 4, 1)}, 2, 5)
	add(s, []persistence.Update{upd("a", "", 5, -1)}, 5, 6)

	// Make it legacy: drop the index and its marker.
	ok, _, err := raw.KV().Txn(ctxFor(t), nil, []kvshard.Op{
		kvshard.DeleteRange(keys.End(timely.Minimum()), keys.End(timely.Closed())),
		kvshard.DeleteRange(keys.End(timely.Closed()), append(keys.End(timely.Closed()), 0)),
		kvshard.DeleteRange(keys.Indexed(), append(keys.Indexed(), 0)),
	})
	require.NoError(t, err)
	require.True(t, ok)
	res, err := raw.KV().Read(ctxFor(t), []kvshard.Range{{Start: keys.End(timely.Minimum()), End: append(keys.End(timely.Closed()), 0)}})
	require.NoError(t, err)
	require.Empty(t, res[0], "no end keys left")

	check := func(since timely.Timestamp, upper timely.Timestamp, what string) {
		t.Helper()
		for lo := since; lo <= upper; lo++ {
			for hi := lo; hi <= upper; hi++ {
				require.Equal(t, rangeOf(all, since, lo, hi), readRange(t, s, lo, hi), "%s: [%d, %d)", what, lo, hi)
			}
			if lo == upper {
				continue
			}
			l, err := s.Listen(ctxFor(t), at(lo))
			require.NoError(t, err)
			ev := next(t, l)
			require.NoError(t, l.Close())
			require.Equal(t, rangeOf(all, since, lo, upper), show(ev.Updates), "%s: listen from %d", what, lo)
		}
	}
	check(0, 6, "legacy only")

	// A handle of the new version appends; it creates the marker.
	s2, err := st.OpenShard(ctxFor(t), "test")
	require.NoError(t, err)
	defer s2.Close()
	add(s2, []persistence.Update{upd("e", "", 7, 1), upd("f", "", 8, 1)}, 6, 9)
	add(s2, nil, 9, 10)
	add(s2, []persistence.Update{upd("g", "", 11, 1)}, 10, 12)
	res, err = raw.KV().Read(ctxFor(t), []kvshard.Range{{Start: keys.Indexed(), End: append(keys.Indexed(), 0)}})
	require.NoError(t, err)
	require.Len(t, res[0], 1, "the indexed key exists")
	check(0, 12, "legacy then indexed")

	// Compaction merges legacy and indexed batches alike.
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(4)))
	check(4, 12, "since 4")
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(10)))
	check(10, 12, "since 10")
}

// testKVLimit: a limited range returns its first pairs in key order.
func testKVLimit(t *testing.T, h Harness) {
	st, _ := openShard(t, h)
	raw := st.(rawStore)
	p := raw.Prefix() + "limit/"
	var ops []kvshard.Op
	for _, k := range []string{"c", "a", "d", "b"} {
		ops = append(ops, kvshard.Put([]byte(p+k), []byte(k)))
	}
	ok, _, err := raw.KV().Txn(ctxFor(t), nil, ops)
	require.NoError(t, err)
	require.True(t, ok)
	res, err := raw.KV().Read(ctxFor(t), []kvshard.Range{
		{Start: []byte(p + "b"), End: []byte(p + "z"), Limit: 2},
		{Start: []byte(p), End: []byte(p + "z"), Limit: 10},
		{Start: []byte(p + "e"), End: []byte(p + "z"), Limit: 1},
	})
	require.NoError(t, err)
	keysOf := func(kvs []kvshard.KeyValue) (out []string) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key[len(p):]))
		}
		return out
	}
	require.Equal(t, []string{"b", "c"}, keysOf(res[0]))
	require.Equal(t, []string{"a", "b", "c", "d"}, keysOf(res[1]))
	require.Empty(t, res[2])
}

package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/shardbench"
	"github.com/arbor-db/arbor/timely"
)

// BenchmarkCompareAndAppend is the raw pebble append (fsync per append) that
// catalog commit latency is compared with.
func BenchmarkCompareAndAppend(b *testing.B) {
	for _, c := range []struct {
		name          string
		n, valueBytes int
	}{{"1x100B", 1, 100}, {"10x100B", 10, 100}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s, err := st.OpenShard(context.Background(), "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			shardbench.CompareAndAppend(b, s, c.n, c.valueBytes)
		})
	}
}

// BenchmarkUpperAfterAppends reads the upper of a shard that has taken many
// appends, beside the same read on a fresh shard: a point read must not slow
// down as superseded versions of the upper key pile up.
func BenchmarkUpperAfterAppends(b *testing.B) {
	for _, appends := range []int{0, 4000} {
		b.Run(fmt.Sprintf("appends=%d", appends), func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s, err := st.OpenShard(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < appends; i++ {
				upd := []persistence.Update{{Key: []byte("k"), Value: []byte("v"), Ts: timely.Timestamp(i), Diff: 1}}
				if err := s.CompareAndAppend(ctx, upd, timely.At(timely.Timestamp(i)), timely.At(timely.Timestamp(i+1))); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Upper(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadRangeAfterHistory reads the last versions of shards with
// 1e4 and 1e5 appended versions beside the same read on a fresh shard, and
// again with the end index dropped (the cost before the seek).
func BenchmarkReadRangeAfterHistory(b *testing.B) {
	st, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	shardbench.ReadRangeAfterHistory(b, st, []int{10_000, 100_000})
}

package shardbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
	"github.com/arbor-db/arbor/timely"
)

// readWidth is how many versions each timed read covers: the last ones of
// the shard. Every version is one append spanning two timestamps, and a
// read starts in the middle of one, so it seeks to a straddling batch.
const readWidth = 10

// rowsPerVersion is how many updates each appended version holds.
const rowsPerVersion = 10

// ReadRangeAfterHistory measures reads of the last readWidth versions of a
// shard that has taken each count of histories appends (one version each),
// beside the same read on a fresh shard holding only readWidth versions,
// timed in the same iterations (fresh, then long, alternating). It runs
// three sub-benchmarks per history length:
//
//   - read_range: Shard.ReadRange over the last versions;
//   - listen: Listen from the first of the last versions and its first
//     event (a consumer resuming near the end);
//   - legacy_read_range: ReadRange again after the end index is deleted,
//     so the shard reads as one written before the index did: the cost
//     reads had before the seek, for comparison.
//
// Each reports read-µs (the long shard), fresh-µs (the fresh shard) and
// x-fresh (their ratio); with the seek x-fresh stays near 1 however long
// the history. st must be a kvshard store (mem, pebble or etcd); its shards
// are built before the timers start and are left in it.
func ReadRangeAfterHistory(b *testing.B, st persistence.Store, histories []int) {
	ctx := context.Background()
	fresh := build(b, st, "fresh", readWidth)
	defer fresh.Close()
	for _, n := range histories {
		long := build(b, st, fmt.Sprintf("history-%d", n), n)
		hi := timely.Timestamp(2 * n)
		read := func(s persistence.Shard, hi timely.Timestamp) func() {
			return func() {
				if _, err := s.ReadRange(ctx, lowOf(hi), hi); err != nil {
					b.Fatal(err)
				}
			}
		}
		listen := func(s persistence.Shard, hi timely.Timestamp) func() {
			return func() {
				l, err := s.Listen(ctx, timely.At(lowOf(hi)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := l.Next(ctx); err != nil {
					b.Fatal(err)
				}
				l.Close()
			}
		}
		b.Run(fmt.Sprintf("versions=%d/read_range", n), func(b *testing.B) {
			paired(b, read(fresh, 2*readWidth), read(long, hi))
		})
		b.Run(fmt.Sprintf("versions=%d/listen", n), func(b *testing.B) {
			paired(b, listen(fresh, 2*readWidth), listen(long, hi))
		})
		dropIndex(b, st, fmt.Sprintf("history-%d", n))
		reopened, err := st.OpenShard(ctx, fmt.Sprintf("history-%d", n)) // a handle that never saw the index
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("versions=%d/legacy_read_range", n), func(b *testing.B) {
			paired(b, read(fresh, 2*readWidth), read(reopened, hi))
		})
		reopened.Close()
		long.Close()
	}
}

// paired times base and op alternately, b.N times each, and reports both
// and their ratio.
func paired(b *testing.B, base, op func()) {
	var baseTotal, opTotal time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		base()
		mid := time.Now()
		op()
		opTotal += time.Since(mid)
		baseTotal += mid.Sub(start)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(opTotal.Seconds()*1e6/n, "read-µs")
	b.ReportMetric(baseTotal.Seconds()*1e6/n, "fresh-µs")
	b.ReportMetric(float64(opTotal)/float64(baseTotal), "x-fresh")
}

// lowOf is where a read that ends at hi starts: inside the append that
// holds the last readWidth versions' first timestamp pair.
func lowOf(hi timely.Timestamp) timely.Timestamp { return hi - 2*readWidth + 1 }

// build appends n versions to a new shard called name: version i is one
// append of [2i, 2i+2) with rowsPerVersion updates split over both times.
func build(b *testing.B, st persistence.Store, name string, n int) persistence.Shard {
	ctx := context.Background()
	s, err := st.OpenShard(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		lower := timely.Timestamp(2 * i)
		ups := append(Updates(lower, rowsPerVersion/2, 16), Updates(lower+1, rowsPerVersion/2, 16)...)
		if err := s.CompareAndAppend(ctx, ups, timely.At(lower), timely.At(lower+2)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// dropIndex deletes a shard's end index and its indexed key, leaving the
// layout shards had before the index.
func dropIndex(b *testing.B, st persistence.Store, name string) {
	raw, ok := st.(interface {
		KV() kvshard.KV
		Prefix() string
	})
	if !ok {
		b.Fatalf("store %T does not expose its KV", st)
	}
	keys := kvshard.KeysFor(raw.Prefix(), name)
	closed := keys.End(timely.Closed())
	ok, _, err := raw.KV().Txn(context.Background(), nil, []kvshard.Op{
		kvshard.DeleteRange(keys.End(timely.Minimum()), append(closed, 0)),
		kvshard.DeleteRange(keys.Indexed(), append(keys.Indexed(), 0)),
	})
	if err != nil || !ok {
		b.Fatalf("drop index of %s: ok %v, %v", name, ok, err)
	}
}

package etcd

import (
	"context"
	"testing"
	"time"

	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/persistence/shardbench"
)

// BenchmarkCompareAndAppend is the raw etcd append (one txn, a single
// embedded member on loopback with fsync on) that catalog commit latency is
// compared with.
func BenchmarkCompareAndAppend(b *testing.B) {
	endpoints := etcdtest.Start(b)
	for _, c := range []struct {
		name          string
		n, valueBytes int
	}{{"1x100B", 1, 100}, {"10x100B", 10, 100}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := Dial(ctx, endpoints, "/bench/"+c.name)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s, err := st.OpenShard(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			shardbench.CompareAndAppend(b, s, c.n, c.valueBytes)
		})
	}
}

// BenchmarkReadRangeAfterHistory reads the last versions of a shard with
// 1e4 appended versions beside the same read on a fresh shard, and again
// with the end index dropped (the cost before the seek). 1e5 appends at
// an fsync each would take most of a minute on one embedded member.
func BenchmarkReadRangeAfterHistory(b *testing.B) {
	endpoints := etcdtest.Start(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := Dial(ctx, endpoints, "/bench/read-range/")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	shardbench.ReadRangeAfterHistory(b, st, []int{10_000})
}

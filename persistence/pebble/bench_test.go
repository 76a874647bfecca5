package pebble

import (
	"context"
	"testing"

	"github.com/arbor-db/arbor/persistence/shardbench"
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

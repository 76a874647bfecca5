package mem

import (
	"testing"

	"github.com/arbor-db/arbor/persistence/shardbench"
)

// BenchmarkReadRangeAfterHistory reads the last versions of shards with
// 1e4 and 1e5 appended versions beside the same read on a fresh shard, and
// again with the end index dropped (the cost before the seek).
func BenchmarkReadRangeAfterHistory(b *testing.B) {
	st := New()
	defer st.Close()
	shardbench.ReadRangeAfterHistory(b, st, []int{10_000, 100_000})
}

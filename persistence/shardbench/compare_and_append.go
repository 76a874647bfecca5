package shardbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Updates returns n updates at time ts with keys unique to ts and values of
// valueBytes bytes: a batch the size of a typical catalog commit when n is
// small.
func Updates(ts timely.Timestamp, n, valueBytes int) []persistence.Update {
	out := make([]persistence.Update, n)
	for i := range out {
		out[i] = persistence.Update{
			Key:   fmt.Appendf(nil, "key/%012d/%04d", ts, i),
			Value: make([]byte, valueBytes),
			Ts:    ts,
			Diff:  1,
		}
	}
	return out
}

// CompareAndAppend runs b.N sequential appends of n updates (valueBytes each)
// to s, each at the previous upper, timing every call. It reports ns/op and
// the Recorder percentiles. s should be fresh or at least not closed.
func CompareAndAppend(b *testing.B, s persistence.Shard, n, valueBytes int) {
	ctx := context.Background()
	upper, err := s.Upper(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ts, _ := upper.Time()
	batches := make([][]persistence.Update, 0, b.N)
	for i := range b.N {
		batches = append(batches, Updates(ts+timely.Timestamp(i), n, valueBytes))
	}
	var rec Recorder
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := s.CompareAndAppend(ctx, batches[i], timely.At(ts), timely.At(ts+1)); err != nil {
			b.Fatal(err)
		}
		rec.Record(time.Since(start))
		ts++
	}
	b.StopTimer()
	rec.Report(b)
}

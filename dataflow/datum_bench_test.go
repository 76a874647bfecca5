package dataflow

import (
	"runtime"
	"slices"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// BenchmarkArrangementMemoryWithRows is BenchmarkArrangementMemory with the
// rows counted: BenchmarkArrangementMemory's rows are built before it reads
// the heap (the benchmark's stream holds them), so its bytes per row are the
// arrangement's own structures only. Here each row is copied into its own
// allocation inside the measurement, as decoding a batch from the wire
// would, and the copies are dropped after the push, so what remains is what
// the dataflow keeps: the rows (a (int64, int64, short string) row is three
// datums) and the arrangement.
//
//	go test -run '^$' -bench ArrangementMemoryWithRows -benchtime 20x ./dataflow/
func BenchmarkArrangementMemoryWithRows(b *testing.B) {
	n := *flagBenchN
	p := benchPlan(b, arrangeP(getP(benchA), 0))
	stream := benchStream(2, n, n/10, []timely.GlobalId{benchA})[benchA]
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		us := make([]Update, len(stream))
		for j, u := range stream {
			us[j] = Update{Row: slices.Clone(u.Row), Time: u.Time, Diff: u.Diff}
		}
		df := NewDataflow(p, Config{DiscardUpdates: true})
		if err := df.Push(benchA, us); err != nil {
			b.Fatal(err)
		}
		us = nil
		if err := df.AdvanceInput(benchA, timely.Closed()); err != nil {
			b.Fatal(err)
		}
		if err := df.Compact(timely.At(timely.MaxTimestamp)); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		live := 0
		_ = df.Arrangement().Read(timely.MaxTimestamp, func(_, _ Row, m int64) { live += int(m) })
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(live), "bytes/row")
		b.ReportMetric(float64(live), "live-rows")
		runtime.KeepAlive(df)
	}
}

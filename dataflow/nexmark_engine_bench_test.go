package dataflow

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkNexmarkEngine runs each Nexmark query through the engine only,
// without its limit, so that a CPU profile of one query shows the engine's
// own costs (BenchmarkNexmark's profile is mostly the limit, which it
// repeats for at least 100 ms per run):
//
//	go test -run '^$' -bench 'NexmarkEngine/^q7$' -cpuprofile cpu.out ./dataflow/
//	go tool pprof -top cpu.out
//
// It reports engine-events/cpu-s like BenchmarkNexmark; its baseline is
// the same query in BenchmarkNexmark, whose limit it omits.
func BenchmarkNexmarkEngine(b *testing.B) {
	n := *flagNexEvents
	s := nexGenerate(1, n)
	for _, q := range nexQueries {
		p := nexCompile(b, q.plan())
		b.Run(fmt.Sprintf("%s/events=%d", q.name, n), func(b *testing.B) {
			b.ReportAllocs()
			var engineCPU time.Duration
			for i := 0; i < b.N; i++ {
				runtime.GC()
				start := cpuTime()
				nexRunEngine(b, NewDataflow(p, Config{}), s, 0, len(s.batches))
				engineCPU += cpuTime() - start
			}
			b.ReportMetric(float64(n)*float64(b.N)/engineCPU.Seconds(), "engine-events/cpu-s")
		})
	}
}

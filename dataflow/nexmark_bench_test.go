package dataflow

import (
	"flag"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Nexmark benchmarks. BenchmarkNexmark runs every query of nexmark_test.go
// over -nexmark.events events (default 2e5; the workload is 1e6) in
// batches of 1000, through the engine and through the query's hand-written
// limit, in the same run, and reports:
//
//   - engine-events/s: events over wall time;
//   - engine-events/cpu-s and limit-events/cpu-s: events over the process's
//     CPU time (user+system, so the collector's work on the other core
//     counts): events/s per core, and robust to other load on the machine;
//   - engine/limit: the engine's CPU time per event over the limit's.
//
// BenchmarkNexmarkScaling (only with -nexmark.scaling) reports the engine's
// CPU time per event at 0.25, 0.5, 1 and 2 M events, and its ratio to the
// 0.25 M figure, to check that it stays flat.
//
//	go test -run '^$' -bench Nexmark -benchmem ./dataflow/
//	go test -run '^$' -bench 'Nexmark$' -benchmem ./dataflow/ -nexmark.events=1000000
//	go test -run '^$' -bench NexmarkScaling -benchtime 1x -timeout 60m ./dataflow/ -nexmark.scaling
var (
	flagNexEvents  = flag.Int("nexmark.events", 200_000, "events per Nexmark benchmark stream")
	flagNexScaling = flag.Bool("nexmark.scaling", false, "run BenchmarkNexmarkScaling (0.25M to 2M events per query)")
)

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkNexmark(b *testing.B) {
	n := *flagNexEvents
	s := nexGenerate(1, n)
	batches := len(s.batches)
	for _, q := range nexQueries {
		p := nexCompile(b, q.plan())
		b.Run(fmt.Sprintf("%s/events=%d", q.name, n), func(b *testing.B) {
			b.ReportAllocs()
			var engine, engineCPU, limitCPU time.Duration
			var limitRuns int
			for i := 0; i < b.N; i++ {
				runtime.GC() // do not bill one run's garbage to the next
				start, startCPU := time.Now(), cpuTime()
				nexRunEngine(b, NewDataflow(p, Config{}), s, 0, batches)
				engine += time.Since(start)
				engineCPU += cpuTime() - startCPU

				// The limit is often too fast to time once: repeat it,
				// from scratch, for at least 100 ms.
				runtime.GC()
				startCPU = cpuTime()
				for first := true; first || cpuTime()-startCPU < 100*time.Millisecond; first = false {
					l := q.limit()
					nexRunLimit(l, s, 0, n)
					runtime.KeepAlive(l)
					limitRuns++
				}
				limitCPU += cpuTime() - startCPU
			}
			events := float64(n) * float64(b.N)
			limitEvents := float64(n) * float64(limitRuns)
			b.ReportMetric(events/engine.Seconds(), "engine-events/s")
			b.ReportMetric(events/engineCPU.Seconds(), "engine-events/cpu-s")
			b.ReportMetric(limitEvents/limitCPU.Seconds(), "limit-events/cpu-s")
			b.ReportMetric((engineCPU.Seconds()/events)/(limitCPU.Seconds()/limitEvents), "engine/limit")
		})
	}
}

func BenchmarkNexmarkScaling(b *testing.B) {
	if !*flagNexScaling {
		b.Skip("pass -nexmark.scaling to run")
	}
	sizes := []int{250_000, 500_000, 1_000_000, 2_000_000}
	s := nexGenerate(1, sizes[len(sizes)-1])
	for _, q := range nexQueries {
		p := nexCompile(b, q.plan())
		var first float64
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/events=%d", q.name, n), func(b *testing.B) {
				var el time.Duration // CPU time, robust to other load
				for i := 0; i < b.N; i++ {
					runtime.GC()
					start := cpuTime()
					nexRunEngine(b, NewDataflow(p, Config{DiscardUpdates: true}), s, 0, n/nexBatch)
					el += cpuTime() - start
				}
				perEvent := float64(el.Nanoseconds()) / float64(n*b.N)
				if first == 0 {
					first = perEvent
				}
				b.ReportMetric(perEvent, "cpu-ns/event")
				b.ReportMetric(perEvent/first, "vs-0.25M")
			})
		}
	}
}

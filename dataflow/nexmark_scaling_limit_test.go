package dataflow

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkNexmarkScalingWithLimit is BenchmarkNexmarkScaling with each
// query's hand-written limit run on the same events right after the
// engine, so that the engine's growth in CPU time per event can be read
// beside the limit's (whose maps grow with the stream too). Only with
// -nexmark.scaling.
//
//	go test -run '^$' -bench 'NexmarkScalingWithLimit/(q0|q1|q4-closed)/' -benchtime 1x -timeout 60m ./dataflow/ -nexmark.scaling
func BenchmarkNexmarkScalingWithLimit(b *testing.B) {
	if !*flagNexScaling {
		b.Skip("pass -nexmark.scaling to run")
	}
	sizes := []int{250_000, 500_000, 1_000_000, 2_000_000}
	s := nexGenerate(1, sizes[len(sizes)-1])
	for _, q := range nexQueries {
		p := nexCompile(b, q.plan())
		var firstEngine, firstLimit float64
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/events=%d", q.name, n), func(b *testing.B) {
				var engine, limit time.Duration // CPU time, robust to other load
				limitRuns := 0
				for i := 0; i < b.N; i++ {
					runtime.GC()
					start := cpuTime()
					nexRunEngine(b, NewDataflow(p, Config{DiscardUpdates: true}), s, 0, n/nexBatch)
					engine += cpuTime() - start
					// Repeat the limit, from scratch, for at least 100 ms.
					runtime.GC()
					start = cpuTime()
					for first := true; first || cpuTime()-start < 100*time.Millisecond; first = false {
						l := q.limit()
						nexRunLimit(l, s, 0, n)
						runtime.KeepAlive(l)
						limitRuns++
					}
					limit += cpuTime() - start
				}
				perEngine := float64(engine.Nanoseconds()) / float64(n*b.N)
				perLimit := float64(limit.Nanoseconds()) / float64(n*limitRuns)
				if firstEngine == 0 {
					firstEngine, firstLimit = perEngine, perLimit
				}
				b.ReportMetric(perEngine, "engine-cpu-ns/event")
				b.ReportMetric(perEngine/firstEngine, "engine-vs-0.25M")
				b.ReportMetric(perLimit, "limit-cpu-ns/event")
				b.ReportMetric(perLimit/firstLimit, "limit-vs-0.25M")
			})
		}
	}
}

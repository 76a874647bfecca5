package dataflow

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Benchmarks: each workload runs a stream of -dataflow.benchn updates
// (default 1e5; use 1000000 for the large run) in batches of 1000 per
// timestamp through a Dataflow ("incremental"), next to one from-scratch
// Evaluate over the same final data ("scratch"). Both report updates/s;
// recomputing from scratch after every batch would cost the scratch time
// once per batch (reported as scratch-per-batch-ms).
//
//	go test -run '^$' -bench . -benchmem ./dataflow/
//	go test -run '^$' -bench . -benchmem ./dataflow/ -dataflow.benchn=1000000
var flagBenchN = flag.Int("dataflow.benchn", 100000, "updates per benchmark stream")

const benchBatch = 1000

var (
	benchA = timely.UserId(1)
	benchB = timely.UserId(2)
	// (k int64, v int64, s string)
	benchSchema = Schema{{Name: "k", Type: TypeInt64}, {Name: "v", Type: TypeInt64}, {Name: "s", Type: TypeString}}
)

// benchStream generates n updates over the given sources: inserts of rows
// with keys in [0, keys), and one in ten updates a retraction of a live row.
func benchStream(seed int64, n, keys int, sources []timely.GlobalId) map[timely.GlobalId][]Update {
	r := rand.New(rand.NewSource(seed))
	out := map[timely.GlobalId][]Update{}
	live := map[timely.GlobalId][]Row{}
	strs := []string{"alpha", "beta", "gamma", "delta"}
	for i := 0; i < n; i++ {
		id := sources[r.Intn(len(sources))]
		t := timely.Timestamp(i / benchBatch)
		if l := live[id]; len(l) > 0 && r.Intn(10) == 0 {
			j := r.Intn(len(l))
			out[id] = append(out[id], Update{Row: l[j], Time: t, Diff: -1})
			l[j] = l[len(l)-1]
			live[id] = l[:len(l)-1]
			continue
		}
		row := Row{Int64(int64(r.Intn(keys))), Int64(int64(r.Intn(1000))), String(strs[r.Intn(len(strs))])}
		out[id] = append(out[id], Update{Row: row, Time: t, Diff: 1})
		live[id] = append(live[id], row)
	}
	return out
}

func benchPlan(b *testing.B, w *messages.Plan) *Plan {
	p, err := Compile(w, map[timely.GlobalId]Schema{benchA: benchSchema, benchB: benchSchema})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// runIncremental feeds the stream batch by batch and closes the inputs.
func runIncremental(b *testing.B, p *Plan, stream map[timely.GlobalId][]Update) *Dataflow {
	df := NewDataflow(p, Config{})
	pos := map[timely.GlobalId]int{}
	last := timely.Timestamp(0)
	for _, us := range stream {
		if n := len(us); n > 0 && us[n-1].Time > last {
			last = us[n-1].Time
		}
	}
	for t := timely.Timestamp(0); t <= last; t++ {
		for _, id := range p.Sources() {
			us := stream[id]
			i := pos[id]
			j := i
			for j < len(us) && us[j].Time == t {
				j++
			}
			if err := df.Push(id, us[i:j]); err != nil {
				b.Fatal(err)
			}
			pos[id] = j
		}
		for _, id := range p.Sources() {
			if err := df.AdvanceInput(id, timely.At(t+1)); err != nil {
				b.Fatal(err)
			}
		}
		df.TakeOutput()
		if t > 0 {
			if err := df.Compact(timely.At(t)); err != nil {
				b.Fatal(err)
			}
		}
	}
	return df
}

func benchWorkload(b *testing.B, w *messages.Plan, keys int, sources ...timely.GlobalId) {
	n := *flagBenchN
	p := benchPlan(b, w)
	stream := benchStream(1, n, keys, sources)
	batches := float64((n + benchBatch - 1) / benchBatch)
	b.Run(fmt.Sprintf("incremental/n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			runIncremental(b, p, stream)
		}
		el := time.Since(start)
		b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "updates/s")
		b.ReportMetric(float64(el.Nanoseconds())/float64(n*b.N), "ns/update")
	})
	b.Run(fmt.Sprintf("scratch/n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := Evaluate(p, stream); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(start)
		b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "updates/s")
		b.ReportMetric(float64(el.Nanoseconds())/float64(n*b.N), "ns/update")
		// Recomputing after every batch would evaluate about half the data
		// on average, once per batch.
		b.ReportMetric(float64(el.Milliseconds())/float64(b.N)/2*batches/1000, "recompute-every-batch-s")
	})
}

func BenchmarkFilterMap(b *testing.B) {
	w := mapP(filterP(getP(benchA), binE(opEq, binE(opMod, colE(1), litE(Int64(2))), litE(Int64(0)))),
		binE(opAdd, binE(opMul, colE(1), litE(Int64(2))), colE(0)))
	benchWorkload(b, w, *flagBenchN/10, benchA)
}

func BenchmarkReduceCountSum(b *testing.B) {
	w := reduceP(getP(benchA), []int{0}, agg(aggCountW, -1), agg(aggSumW, 1))
	benchWorkload(b, w, *flagBenchN/10, benchA)
}

func BenchmarkJoin(b *testing.B) {
	w := joinP([]*messages.Plan{getP(benchA), getP(benchB)}, eqv(0, 0, 1, 0))
	benchWorkload(b, w, *flagBenchN/4, benchA, benchB)
}

func BenchmarkTopK(b *testing.B) {
	w := topKP(getP(benchA), []int{0}, []*messages.OrderColumn{orderBy(1, true, false)}, 3, 0)
	benchWorkload(b, w, *flagBenchN/100, benchA)
}

// BenchmarkArrangementMemory measures the heap held per live row by a
// dataflow's output arrangement (rows of an int64, an int64 and a short
// string) after compaction.
func BenchmarkArrangementMemory(b *testing.B) {
	n := *flagBenchN
	p := benchPlan(b, arrangeP(getP(benchA), 0))
	stream := benchStream(2, n, n/10, []timely.GlobalId{benchA})
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		df := NewDataflow(p, Config{DiscardUpdates: true})
		if err := df.Push(benchA, stream[benchA]); err != nil {
			b.Fatal(err)
		}
		if err := df.AdvanceInput(benchA, timely.Closed()); err != nil {
			b.Fatal(err)
		}
		if err := df.Compact(timely.At(timely.MaxTimestamp)); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := df.Stats()
		live := 0
		_ = df.Arrangement().Read(timely.MaxTimestamp, func(_, _ Row, m int64) { live += int(m) })
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(live), "bytes/row")
		b.ReportMetric(float64(live), "live-rows")
		b.ReportMetric(float64(st.OutputEntries), "entries")
		// A peek in row order leaves the arrangement's key order behind
		// (8 bytes per key, plus the slack of its slice).
		rows, err := df.Peek(PeekSpec{Time: timely.MaxTimestamp})
		if err != nil || len(rows) != live {
			b.Fatalf("peek: %d rows, %v", len(rows), err)
		}
		rows = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(live), "bytes/row-after-peek")
		runtime.KeepAlive(df)
	}
}

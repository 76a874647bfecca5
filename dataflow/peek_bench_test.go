package dataflow

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// BenchmarkPeek reads a full output arrangement of -dataflow.benchn rows
// (default 1e5) of (int64, int64, short string) and reports ns per result
// row: in row order, unordered, ordered by a column, the ten largest, and
// ordered by the leading column (a prefix of the row order) with and
// without a limit. Beside them, "read" walks the same arrangement calling a
// no-op for every row: the floor a peek cannot go below. "row-order-churn"
// changes 1% of the rows (n/200 retractions, n/200 new rows) before each
// peek and counts only the peek's CPU time: what a peek in row order costs
// on an index that is being maintained, where the previous peek's order
// must take in the new keys.
//
//	go test -run '^$' -bench Peek -benchmem ./dataflow/
func BenchmarkPeek(b *testing.B) {
	n := *flagBenchN
	p := benchPlan(b, getP(benchA))
	var rows []Update
	for i := 0; i < n; i++ {
		rows = append(rows, Update{Row: Row{Int64(int64(i * 7919 % n)), Int64(int64(i)), String("alpha")}, Diff: 1})
	}
	df := NewDataflow(p, Config{DiscardUpdates: true})
	if err := df.Push(benchA, rows); err != nil {
		b.Fatal(err)
	}
	if err := df.AdvanceInput(benchA, timely.At(1)); err != nil {
		b.Fatal(err)
	}
	byV, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(1, true, false)}}, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	limit := uint64(10)
	top10, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(1, true, false)}, Limit: &limit}, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	byK, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(0, false, false)}}, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	firstK10, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(0, false, false)}, Limit: &limit}, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	// ns/row is CPU time (see cpuTime), so that other load on the machine
	// does not count; wall-ns/row is wall time.
	var startCPU time.Duration
	report := func(b *testing.B, perOp int) {
		b.ReportMetric(float64((cpuTime()-startCPU).Nanoseconds())/float64(b.N*perOp), "ns/row")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perOp), "wall-ns/row")
	}
	b.Run(fmt.Sprintf("read/rows=%d", n), func(b *testing.B) {
		startCPU = cpuTime()
		for i := 0; i < b.N; i++ {
			_ = df.Arrangement().Read(0, func(_, _ Row, _ int64) {})
		}
		report(b, n)
	})
	for _, c := range []struct {
		name string
		spec PeekSpec
		out  int
	}{
		{"row-order", PeekSpec{}, n},
		{"unordered", PeekSpec{Unordered: true}, n},
		{"order-by", PeekSpec{Finishing: byV}, n},
		{"top-10", PeekSpec{Finishing: top10}, n},
		{"order-by-key", PeekSpec{Finishing: byK}, n},
		{"order-by-key-limit-10", PeekSpec{Finishing: firstK10}, n},
	} {
		b.Run(fmt.Sprintf("%s/rows=%d", c.name, n), func(b *testing.B) {
			b.ReportAllocs()
			startCPU = cpuTime()
			for i := 0; i < b.N; i++ {
				got, err := df.Peek(c.spec)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != min(c.out, 10) && len(got) != c.out {
					b.Fatalf("%d rows", len(got))
				}
			}
			report(b, n) // per row read, so top-10 compares with the rest
		})
	}
	// The input is at 1 (time 0 is the load); each iteration of the churn
	// writes at the next time and peeks there. b.Run may call the function
	// more than once, so the state lives out here.
	churn := max(n/200, 1)
	live := make([]Row, len(rows))
	for i, u := range rows {
		live[i] = u.Row
	}
	r := rand.New(rand.NewSource(1))
	next := int64(n)
	at := timely.Timestamp(0)
	b.Run(fmt.Sprintf("row-order-churn/rows=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		var peekCPU time.Duration
		for i := 0; i < b.N; i++ {
			at++
			us := make([]Update, 0, 2*churn)
			for j := 0; j < churn; j++ {
				k := r.Intn(len(live))
				us = append(us, Update{Row: live[k], Time: at, Diff: -1})
				live[k] = Row{Int64(next * 7919 % (4 * int64(n))), Int64(next), String("alpha")}
				us = append(us, Update{Row: live[k], Time: at, Diff: 1})
				next++
			}
			if err := df.Push(benchA, us); err != nil {
				b.Fatal(err)
			}
			if err := df.AdvanceInput(benchA, timely.At(at+1)); err != nil {
				b.Fatal(err)
			}
			if err := df.Compact(timely.At(at)); err != nil {
				b.Fatal(err)
			}
			start := cpuTime()
			got, err := df.Peek(PeekSpec{Time: at})
			peekCPU += cpuTime() - start
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != n {
				b.Fatalf("%d rows", len(got))
			}
		}
		b.ReportMetric(float64(peekCPU.Nanoseconds())/float64(b.N*n), "ns/row")
	})
}

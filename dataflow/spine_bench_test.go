package dataflow

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/arbor-db/arbor/timely"
)

var flagSpineSizes = flag.String("spine.sizes", "250000,2000000", "BenchmarkArrangementScaling: stream lengths, comma separated")

// BenchmarkArrangementScaling measures the CPU time per update of an output
// arrangement keyed by the whole row (as q0's and q1's are) as it grows: n
// new rows of five int64 columns (Nexmark bid-like: random ids, prices and
// times), 1000 per timestamp, the since advanced after each timestamp as a
// worker serving peeks does. Each size runs three stores back to back on the
// same rows: the spine (what a dataflow's output arrangement is now), the
// hash-indexed traces (what it was, and what operators still use), and the
// baseline a hand-written limit would use, a Go map from the row's columns
// to a count. vs-first is the figure over the same store's at the first
// size.
//
//	go test -run '^$' -bench ArrangementScaling -benchtime 1x ./dataflow/
func BenchmarkArrangementScaling(b *testing.B) {
	var sizes []int
	for _, f := range splitComma(*flagSpineSizes) {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n <= 0 {
			b.Fatalf("-spine.sizes: bad size %q", f)
		}
		sizes = append(sizes, n)
	}
	maxN := 0
	for _, n := range sizes {
		maxN = max(maxN, n)
	}
	const seed = 13
	b.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	rows := make([]Row, maxN)
	for i := range rows {
		rows[i] = Row{Int64(r.Int63n(1e6)), Int64(r.Int63n(1e7)), Int64(r.Int63n(1e6)), Int64(r.Int63n(4)), Int64(int64(i))}
	}
	type key [5]int64
	stores := []struct {
		name string
		run  func(rows []Row)
	}{
		{"spine", func(rows []Row) {
			a := NewArrangement()
			a.keyedBy(nil, true)
			feedArrangement(a, rows)
		}},
		{"traces", func(rows []Row) {
			a := NewArrangement()
			a.oneValue = true
			feedArrangement(a, rows)
		}},
		{"gomap", func(rows []Row) {
			m := map[key]int64{}
			for _, row := range rows {
				var k key
				for c := range k {
					k[c] = row[c].AsInt64()
				}
				m[k]++
			}
			runtime.KeepAlive(m)
		}},
	}
	first := map[string]float64{}
	for _, n := range sizes {
		for _, st := range stores {
			b.Run(fmt.Sprintf("%s/rows=%d", st.name, n), func(b *testing.B) {
				var el time.Duration
				for i := 0; i < b.N; i++ {
					runtime.GC()
					start := cpuTime()
					st.run(rows[:n])
					el += cpuTime() - start
				}
				per := float64(el.Nanoseconds()) / float64(n*b.N)
				if first[st.name] == 0 {
					first[st.name] = per
				}
				b.ReportMetric(per, "cpu-ns/row")
				b.ReportMetric(per/first[st.name], "vs-first")
			})
		}
	}
}

// feedArrangement updates a with rows, benchBatch per timestamp, advancing
// the since after each timestamp.
func feedArrangement(a *Arrangement, rows []Row) {
	for i, row := range rows {
		t := timely.Timestamp(i / benchBatch)
		a.Update(row, row, t, 1)
		if (i+1)%benchBatch == 0 {
			a.Compact(timely.At(t))
		}
	}
	runtime.KeepAlive(a)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

package shardbench

import (
	"slices"
	"testing"
	"time"
)

// Recorder collects operation latencies. It is not safe for concurrent use.
type Recorder struct {
	samples []time.Duration
}

// Record adds one latency.
func (r *Recorder) Record(d time.Duration) { r.samples = append(r.samples, d) }

// Percentile returns the p-th percentile (0 < p <= 100) of the recorded
// latencies, or 0 when none were recorded.
func (r *Recorder) Percentile(p float64) time.Duration {
	if len(r.samples) == 0 {
		return 0
	}
	s := slices.Clone(r.samples)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Report adds p50-µs, p99-µs and max-µs metrics to b.
func (r *Recorder) Report(b *testing.B) {
	b.ReportMetric(float64(r.Percentile(50).Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(r.Percentile(99).Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(r.Percentile(100).Nanoseconds())/1e3, "max-µs")
}

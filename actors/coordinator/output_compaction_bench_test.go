package coordinator

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

// cpuTime is the process's CPU time (user and system), so that other
// load on the machine does not count.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOutputCompaction commits a steady update load to a
// ShardStore on a mem shard — a view of 100 rows, 10 of them replaced at
// every commit, 1,000 commits — once with compaction allowed up to the
// last commit (CompactionMin 1024, the default) and once without, in the
// same run, alternating which goes first. It reports the CPU time per
// commit of each and the updates the shard holds from its since at the
// end (what a reopen reads).
func BenchmarkOutputCompaction(b *testing.B) {
	const commits, rows, changed = 1000, 100, 10
	run := func(compact bool) (time.Duration, int) {
		ctx := context.Background()
		ms := mem.New()
		defer ms.Close()
		shard, err := ms.OpenShard(ctx, "outputs")
		if err != nil {
			b.Fatal(err)
		}
		defer shard.Close()
		s, err := OpenShardStore(ctx, shard, nil)
		if err != nil {
			b.Fatal(err)
		}
		view := timely.UserId(11)
		value := make([]int64, rows)
		start := cpuTime()
		for i := 1; i <= commits; i++ {
			at := timely.Timestamp(i)
			var out []dataflow.Update
			for k := 0; k < changed; k++ {
				r := int64((i*changed + k) % rows)
				if i > 1 || k > 0 {
					out = append(out, dataflow.Update{Row: dataflow.Row{dataflow.Int64(r), dataflow.Int64(value[r])}, Time: at, Diff: -1})
				}
				value[r] = int64(i)
				out = append(out, dataflow.Update{Row: dataflow.Row{dataflow.Int64(r), dataflow.Int64(value[r])}, Time: at, Diff: 1})
			}
			c := Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: out}, Checkpoints: map[pool.FlowId]timely.Timestamp{11: at + 1}}
			if compact {
				c.Compaction = map[timely.GlobalId]timely.Timestamp{view: at}
			}
			if err := s.Commit(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		spent := cpuTime() - start
		since, _ := shard.Since(ctx)
		upper, _ := shard.Upper(ctx)
		lo, _ := since.Time()
		hi, _ := upper.Time()
		us, err := shard.ReadRange(ctx, lo, hi)
		if err != nil {
			b.Fatal(err)
		}
		return spent, len(us)
	}
	var with, without time.Duration
	var withSize, withoutSize int
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			d, n := run(true)
			with, withSize = with+d, n
			d, n = run(false)
			without, withoutSize = without+d, n
		} else {
			d, n := run(false)
			without, withoutSize = without+d, n
			d, n = run(true)
			with, withSize = with+d, n
		}
	}
	per := float64(b.N * commits)
	b.ReportMetric(float64(with.Microseconds())/per, "compact-cpu-us/commit")
	b.ReportMetric(float64(without.Microseconds())/per, "baseline-cpu-us/commit")
	b.ReportMetric(float64(withSize), "compact-updates")
	b.ReportMetric(float64(withoutSize), "baseline-updates")
}

package querytracker

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// benchTracked is how many peeks stay tracked throughout the benchmark.
const benchTracked = 10_000

// nopEffects does nothing, so the benchmark measures the tracker alone.
type nopEffects struct{}

func (nopEffects) CancelComputePeek(timely.ClusterId, timely.Uuid, CancelReason) {}
func (nopEffects) InstallWatchSet(ExecutionId, WatchSet) error                   { return nil }
func (nopEffects) EndExecution(ExecutionId, EndReason)                           {}
func (nopEffects) CountCanceledPeeks(CancelReason, int)                          {}

func benchUuid(n uint64) timely.Uuid {
	var u timely.Uuid
	u[0] = 0xbe
	binary.BigEndian.PutUint64(u[8:], n)
	return u
}

func benchTrack(n uint64) TrackPeek {
	return TrackPeek{
		Uuid:      benchUuid(n),
		Conn:      timely.ConnectionId(n % 100),
		Cluster:   timely.ClusterId{Kind: timely.User, Value: n % 4},
		DependsOn: []timely.GlobalId{timely.UserId(n % 50), timely.UserId(50 + n%7)},
		Execution: ExecutionId(benchUuid(1<<40 + n)),
		Strategy:  StrategyFastPath,
	}
}

// benchCommands returns the preload (benchTracked TrackPeeks) and n
// commands that keep benchTracked peeks tracked: a new peek is tracked,
// then the oldest one's notification arrives; every tenth step also sets
// the new execution's timestamp.
func benchCommands(n int) (preload, cmds []Command) {
	for i := uint64(0); i < benchTracked; i++ {
		preload = append(preload, benchTrack(i))
	}
	cmds = make([]Command, 0, n)
	next, oldest := uint64(benchTracked), uint64(0)
	for len(cmds) < n {
		c := benchTrack(next)
		cmds = append(cmds, c)
		if next%10 == 0 && len(cmds) < n {
			cmds = append(cmds, SetExecutionTimestamp{Execution: c.Execution, Timestamp: timely.Timestamp(next)})
		}
		next++
		if len(cmds) < n {
			cmds = append(cmds, ObservePeekNotification{Uuid: benchUuid(oldest), Notification: Success(10, 640)})
			oldest++
		}
	}
	return preload, cmds
}

// runMachine applies cmds to a bare Tracker (after the preload) and returns
// the elapsed time of cmds alone.
func runMachine(tb testing.TB, preload, cmds []Command) time.Duration {
	clk := clock.Real()
	tr := NewTracker(TrackerConfig{}, nopEffects{})
	for _, c := range preload {
		_ = tr.Apply(clk.Now(), c)
	}
	runtime.GC() // start both measurements from a collected heap
	start := time.Now()
	for _, c := range cmds {
		_ = tr.Apply(clk.Now(), c)
	}
	elapsed := time.Since(start)
	if tr.TrackedPeeks() < benchTracked-1 {
		tb.Fatalf("machine tracks %d peeks, want about %d", tr.TrackedPeeks(), benchTracked)
	}
	return elapsed
}

// BenchmarkCommands measures commands per second with 10,000 tracked peeks,
// through the bare state machine and through the actor (Handle.Send, then
// a Dump to wait until the mailbox drained). The actor case also runs the
// same commands on a bare machine in the same iteration and reports that
// baseline and the actor's overhead ratio next to its own figure.
//
//	go test ./actors/querytracker -run '^$' -bench Commands -benchtime 200000x
func BenchmarkCommands(b *testing.B) {
	b.Run("machine", func(b *testing.B) {
		preload, cmds := benchCommands(b.N)
		b.ResetTimer()
		elapsed := runMachine(b, preload, cmds)
		b.ReportMetric(float64(len(cmds))/elapsed.Seconds(), "cmds/s")
	})
	b.Run("actor", func(b *testing.B) {
		preload, cmds := benchCommands(b.N)
		sys := testkit.NewSystem(b)
		h, err := Spawn(sys.Root, Config{Effects: nopEffects{}, Logger: testkit.QuietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = h.Stop() }()
		for _, c := range preload {
			h.Send(c)
		}
		if _, err := h.Dump(time.Minute); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.ResetTimer()
		start := time.Now()
		for _, c := range cmds {
			h.Send(c)
		}
		if _, err := h.Dump(time.Minute); err != nil {
			b.Fatal(err)
		}
		actorElapsed := time.Since(start)
		b.StopTimer()

		baseline := runMachine(b, preload, cmds)
		actorRate := float64(len(cmds)) / actorElapsed.Seconds()
		baseRate := float64(len(cmds)) / baseline.Seconds()
		b.ReportMetric(actorRate, "cmds/s")
		b.ReportMetric(baseRate, "baseline-cmds/s")
		b.ReportMetric(baseRate/actorRate, "overhead-x")
	})
}

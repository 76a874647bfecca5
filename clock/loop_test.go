package clock_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/clock"
)

func TestEveryFiresOnEachTick(t *testing.T) {
	m := clock.NewManual(time.Unix(0, 0))
	ticks := make(chan time.Time, 10)
	l := clock.Every(m, time.Second, func(now time.Time) { ticks <- now })
	require.True(t, m.WaitForTimers(1, 5*time.Second))
	for i := 1; i <= 3; i++ {
		m.Advance(time.Second)
		select {
		case now := <-ticks:
			require.Equal(t, time.Unix(int64(i), 0), now)
		case <-time.After(5 * time.Second):
			t.Fatalf("tick %d never fired", i)
		}
	}
	l.Stop()
	l.Stop() // twice is fine
	m.Advance(time.Second)
	require.Empty(t, ticks, "no tick after Stop")
	require.Equal(t, 0, m.PendingTimers())
}

func TestAfterFuncFiresOnce(t *testing.T) {
	m := clock.NewManual(time.Unix(0, 0))
	var n atomic.Int32
	fired := make(chan struct{}, 2)
	l := clock.AfterFunc(m, time.Second, func(time.Time) { n.Add(1); fired <- struct{}{} })
	require.True(t, m.WaitForTimers(1, 5*time.Second))
	m.Advance(2 * time.Second)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc never fired")
	}
	m.Advance(2 * time.Second)
	l.Stop()
	require.Equal(t, int32(1), n.Load())
}

func TestStopBeforeFire(t *testing.T) {
	m := clock.NewManual(time.Unix(0, 0))
	l := clock.AfterFunc(m, time.Second, func(time.Time) { t.Error("fired after Stop") })
	l.Stop()
	m.Advance(time.Hour)
	var nilLoop *clock.Loop
	nilLoop.Stop()
}

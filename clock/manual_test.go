package clock

import (
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func received(ch <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-ch:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestManualTimerFiresOnlyWhenDue(t *testing.T) {
	m := NewManual(epoch)
	tm := m.NewTimer(10 * time.Second)
	if m.PendingTimers() != 1 {
		t.Fatalf("pending = %d", m.PendingTimers())
	}
	m.Advance(9 * time.Second)
	if _, ok := received(tm.C()); ok {
		t.Fatal("fired early")
	}
	m.Advance(time.Second)
	got, ok := received(tm.C())
	if !ok || !got.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("fired = %v at %v", ok, got)
	}
	if m.PendingTimers() != 0 {
		t.Fatal("fired timer still pending")
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reports active")
	}
}

func TestManualTimerStopAndReset(t *testing.T) {
	m := NewManual(epoch)
	tm := m.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer reports inactive")
	}
	m.Advance(time.Hour)
	if _, ok := received(tm.C()); ok {
		t.Fatal("stopped timer fired")
	}
	if tm.Reset(5 * time.Second) {
		t.Fatal("Reset of a stopped timer reports active")
	}
	m.Advance(5 * time.Second)
	if _, ok := received(tm.C()); !ok {
		t.Fatal("reset timer did not fire")
	}
}

func TestManualZeroTimerFiresAtOnce(t *testing.T) {
	m := NewManual(epoch)
	if _, ok := received(m.After(0)); !ok {
		t.Fatal("After(0) did not fire")
	}
}

func TestManualTickerFiresEveryPeriodAndSkipsWhenBehind(t *testing.T) {
	m := NewManual(epoch)
	tk := m.NewTicker(time.Second)
	for i := 1; i <= 3; i++ {
		m.Advance(time.Second)
		got, ok := received(tk.C())
		if !ok || !got.Equal(epoch.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("tick %d = %v %v", i, got, ok)
		}
	}
	m.Advance(10 * time.Second) // one tick delivered, the rest dropped
	if _, ok := received(tk.C()); !ok {
		t.Fatal("no tick after a long advance")
	}
	if _, ok := received(tk.C()); ok {
		t.Fatal("more than one tick buffered")
	}
	m.Advance(time.Second)
	if _, ok := received(tk.C()); !ok {
		t.Fatal("ticker stopped after falling behind")
	}
	tk.Reset(5 * time.Second)
	m.Advance(4 * time.Second)
	if _, ok := received(tk.C()); ok {
		t.Fatal("reset ticker fired early")
	}
	m.Advance(time.Second)
	if _, ok := received(tk.C()); !ok {
		t.Fatal("reset ticker did not fire")
	}
	tk.Stop()
	if m.PendingTimers() != 0 {
		t.Fatal("stopped ticker pending")
	}
}

func TestManualFiresInDeadlineOrder(t *testing.T) {
	m := NewManual(epoch)
	late := m.NewTimer(3 * time.Second)
	early := m.NewTimer(1 * time.Second)
	m.Set(epoch.Add(5 * time.Second))
	a, _ := received(early.C())
	b, _ := received(late.C())
	if !a.Before(b) {
		t.Fatalf("early fired at %v, late at %v", a, b)
	}
	if !m.Now().Equal(epoch.Add(5 * time.Second)) {
		t.Fatalf("Now = %v", m.Now())
	}
	m.Set(epoch) // moving back fires nothing and is allowed
	if m.Since(epoch) != 0 {
		t.Fatal("Since after Set")
	}
}

func TestManualWaitForTimers(t *testing.T) {
	m := NewManual(epoch)
	if m.WaitForTimers(1, 10*time.Millisecond) {
		t.Fatal("no timer armed yet")
	}
	done := make(chan bool)
	go func() { done <- m.WaitForTimers(2, 5*time.Second) }()
	m.NewTimer(time.Second)
	m.NewTicker(time.Second)
	if !<-done {
		t.Fatal("WaitForTimers did not see two timers")
	}
}

func TestRealClock(t *testing.T) {
	c := Real()
	start := c.Now()
	<-c.After(time.Millisecond)
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Stop()
	if c.Since(start) <= 0 {
		t.Fatal("real clock did not move")
	}
}

package clock

import (
	"sort"
	"sync"
	"time"
)

// Manual is a Clock whose time moves only through Advance and Set. Timers and
// tickers fire synchronously inside Advance/Set, in deadline order, each onto
// a channel with a buffer of one (a tick that finds it full is dropped).
//
// Code under test usually arms its timers from another goroutine (an actor);
// WaitForTimers lets a test wait until they are armed before advancing.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters map[*manualWaiter]struct{}
	changed chan struct{} // closed and replaced whenever the set of waiters changes
}

type manualWaiter struct {
	deadline time.Time
	period   time.Duration // > 0 for tickers
	seq      uint64        // ties broken by creation order
	ch       chan time.Time
}

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, waiters: map[*manualWaiter]struct{}{}, changed: make(chan struct{})}
}

// Now returns the clock's current reading.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Since returns Now()-t.
func (m *Manual) Since(t time.Time) time.Duration { return m.Now().Sub(t) }

// After returns a channel that receives once the clock passes now+d.
func (m *Manual) After(d time.Duration) <-chan time.Time { return m.NewTimer(d).C() }

// NewTimer returns a timer firing once the clock reaches now+d.
func (m *Manual) NewTimer(d time.Duration) Timer {
	w := &manualWaiter{ch: make(chan time.Time, 1)}
	m.mu.Lock()
	m.arm(w, d)
	m.mu.Unlock()
	m.fireDue()
	return &manualTimer{m: m, w: w}
}

// NewTicker returns a ticker firing every d of manual time. It panics on a
// non-positive d, as time.NewTicker does.
func (m *Manual) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &manualWaiter{ch: make(chan time.Time, 1), period: d}
	m.mu.Lock()
	m.arm(w, d)
	m.mu.Unlock()
	return &manualTicker{m: m, w: w}
}

// Advance moves the clock forward by d, firing everything that falls due.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
	m.fireDue()
}

// Set moves the clock to t (which may be earlier: nothing fires then).
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
	m.fireDue()
}

// PendingTimers returns how many timers and tickers are armed.
func (m *Manual) PendingTimers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}

// WaitForTimers blocks until at least n timers or tickers are armed, or the
// real-time timeout passes; it reports whether the count was reached.
func (m *Manual) WaitForTimers(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		count, changed := len(m.waiters), m.changed
		m.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

// arm schedules w at now+d; the caller holds mu.
func (m *Manual) arm(w *manualWaiter, d time.Duration) {
	m.seq++
	w.seq = m.seq
	w.deadline = m.now.Add(d)
	m.waiters[w] = struct{}{}
	m.notifyLocked()
}

func (m *Manual) disarm(w *manualWaiter) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.waiters[w]
	if ok {
		delete(m.waiters, w)
		m.notifyLocked()
	}
	return ok
}

func (m *Manual) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// fireDue sends to every waiter whose deadline is not after now, in deadline
// order. A ticker fires once and re-arms at its first period after now: the
// ticks it skipped would have found its one-slot channel full anyway.
func (m *Manual) fireDue() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		var due []*manualWaiter
		for w := range m.waiters {
			if !w.deadline.After(m.now) {
				due = append(due, w)
			}
		}
		if len(due) == 0 {
			return
		}
		sort.Slice(due, func(i, j int) bool {
			if !due[i].deadline.Equal(due[j].deadline) {
				return due[i].deadline.Before(due[j].deadline)
			}
			return due[i].seq < due[j].seq
		})
		w := due[0]
		select {
		case w.ch <- w.deadline:
		default:
		}
		if w.period > 0 {
			behind := m.now.Sub(w.deadline)
			w.deadline = w.deadline.Add(w.period * (behind/w.period + 1))
		} else {
			delete(m.waiters, w)
			m.notifyLocked()
		}
	}
}

type manualTimer struct {
	m *Manual
	w *manualWaiter
}

func (t *manualTimer) C() <-chan time.Time { return t.w.ch }
func (t *manualTimer) Stop() bool          { return t.m.disarm(t.w) }
func (t *manualTimer) Reset(d time.Duration) bool {
	active := t.m.disarm(t.w)
	t.m.mu.Lock()
	t.m.arm(t.w, d)
	t.m.mu.Unlock()
	t.m.fireDue()
	return active
}

type manualTicker struct {
	m *Manual
	w *manualWaiter
}

func (t *manualTicker) C() <-chan time.Time { return t.w.ch }
func (t *manualTicker) Stop()               { t.m.disarm(t.w) }
func (t *manualTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	t.m.disarm(t.w)
	t.m.mu.Lock()
	t.w.period = d
	t.m.arm(t.w, d)
	t.m.mu.Unlock()
}

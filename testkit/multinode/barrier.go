package multinode

import (
	"fmt"
	"sync"
	"time"
)

// Barrier lets the goroutines of a test wait for each other at named steps,
// as Akka's enterBarrier does for the JVMs of a multi-node test: each of the
// parties calls Enter(name, timeout), and every call returns once all of
// them have entered that name. Names are used once each, in any order.
//
// A party that is not joined by the others within its timeout gets an
// error saying how many arrived; the barrier is then broken for that name,
// and the parties still waiting there, and any that enter later, get the
// same error rather than waiting out their own timeouts.
type Barrier struct {
	parties int

	mu    sync.Mutex
	steps map[string]*step
}

type step struct {
	arrived int
	done    chan struct{} // closed when all arrived, or when broken
	broken  error
}

// NewBarrier returns a barrier for parties goroutines (at least 1).
func NewBarrier(parties int) *Barrier {
	if parties < 1 {
		parties = 1
	}
	return &Barrier{parties: parties, steps: make(map[string]*step)}
}

// Enter waits until every party has entered name, at most timeout. It fails
// when the wait times out, when the barrier broke at name, or when more
// parties than the barrier's count enter name.
func (b *Barrier) Enter(name string, timeout time.Duration) error {
	b.mu.Lock()
	s, ok := b.steps[name]
	if !ok {
		s = &step{done: make(chan struct{})}
		b.steps[name] = s
	}
	if s.broken != nil {
		b.mu.Unlock()
		return s.broken
	}
	s.arrived++
	switch {
	case s.arrived > b.parties:
		b.mu.Unlock()
		return fmt.Errorf("multinode: barrier %q: entered %d times by %d parties", name, s.arrived, b.parties)
	case s.arrived == b.parties:
		close(s.done)
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		b.mu.Lock()
		if s.broken == nil && s.arrived < b.parties {
			s.broken = fmt.Errorf("multinode: barrier %q: %d of %d parties arrived within %v", name, s.arrived, b.parties, timeout)
			close(s.done)
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return s.broken
}

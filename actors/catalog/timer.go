package catalog

import (
	"time"

	"github.com/arbor-db/arbor/clock"
)

// timer turns clock ticks into calls of fire, from one goroutine that the
// guardian owns and stops (Stop waits for it to end).
type timer struct {
	stop chan struct{}
	done chan struct{}
}

// startTimer fires once after d, or every d when periodic.
func startTimer(clk clock.Clock, d time.Duration, periodic bool, fire func()) *timer {
	t := &timer{stop: make(chan struct{}), done: make(chan struct{})}
	var c <-chan time.Time
	var halt func()
	if periodic {
		tk := clk.NewTicker(d)
		c, halt = tk.C(), tk.Stop
	} else {
		tm := clk.NewTimer(d)
		c, halt = tm.C(), func() { tm.Stop() }
	}
	go func() {
		defer close(t.done)
		defer halt()
		for {
			select {
			case <-c:
				fire()
				if !periodic {
					return
				}
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

// Stop stops the timer and waits for its goroutine. Safe on nil and twice.
func (t *timer) Stop() {
	if t == nil {
		return
	}
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	<-t.done
}

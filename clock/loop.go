package clock

import (
	"sync"
	"time"
)

// Loop calls a function on ticks of a Clock from one goroutine that the
// Loop owns. It is the one way an actor gets periodic or delayed messages
// (docs/conventions.md): the function sends the actor a message, so the
// tick is handled in the actor's own turn. Stop ends the goroutine and
// waits for it; after Stop returns, fire is not called again.
type Loop struct {
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// Every calls fire with the tick's time every d, until Stop. d must be
// positive.
func Every(c Clock, d time.Duration, fire func(now time.Time)) *Loop {
	tk := c.NewTicker(d)
	return start(tk.C(), tk.Stop, true, fire)
}

// AfterFunc calls fire once, d from now, unless Stop comes first.
func AfterFunc(c Clock, d time.Duration, fire func(now time.Time)) *Loop {
	tm := c.NewTimer(d)
	return start(tm.C(), func() { tm.Stop() }, false, fire)
}

func start(ch <-chan time.Time, halt func(), periodic bool, fire func(time.Time)) *Loop {
	l := &Loop{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer halt()
		for {
			select {
			case now := <-ch:
				select {
				case <-l.quit: // Stop raced with the tick: Stop wins
					return
				default:
				}
				fire(now)
				if !periodic {
					return
				}
			case <-l.quit:
				return
			}
		}
	}()
	return l
}

// Stop ends the loop and waits for its goroutine. Safe on nil and more
// than once.
func (l *Loop) Stop() {
	if l == nil {
		return
	}
	l.once.Do(func() { close(l.quit) })
	<-l.done
}

package storage

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/clock"
)

// ticks is the goroutine that turns the clock's tickers into messages to
// the storage actor. The actor owns it: stop ends it and waits.
type ticks struct {
	quit chan struct{}
	done chan struct{}
}

// startTicks arms the tickers (before returning, so a test can wait for
// them with ManualClock.WaitForTimers) and starts the goroutine that sends
// maintain every maintainEvery and, when commitEvery > 0, commitTick every
// commitEvery.
func startTicks(clk clock.Clock, root *actor.RootContext, self *actor.PID, commitEvery, maintainEvery time.Duration) *ticks {
	t := &ticks{quit: make(chan struct{}), done: make(chan struct{})}
	maint := clk.NewTicker(maintainEvery)
	var commitC <-chan time.Time
	var commit clock.Ticker
	if commitEvery > 0 {
		commit = clk.NewTicker(commitEvery)
		commitC = commit.C()
	}
	go func() {
		defer close(t.done)
		defer maint.Stop()
		if commit != nil {
			defer commit.Stop()
		}
		for {
			select {
			case <-t.quit:
				return
			case <-maint.C():
				root.Send(self, maintain{})
			case <-commitC:
				root.Send(self, commitTick{})
			}
		}
	}()
	return t
}

// stop ends the goroutine and waits for it.
func (t *ticks) stop() {
	close(t.quit)
	<-t.done
}

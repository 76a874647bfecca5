package persistence

import (
	"context"
	"sync"
)

// Forward starts one goroutine, owned by the returned stop function, that
// calls l.Next in a loop and hands each event to deliver, then the error that
// ended the loop (io.EOF after a closed upper, *SinceError, a backend error).
// It is how an actor listens without blocking its mailbox: deliver should
// only send the event to the actor (for example ctx.Send(self, ev)).
//
// stop cancels the loop and waits until the goroutine has exited; deliver is
// not called with the cancellation stop causes, and never after stop
// returns. stop does not close l. stop is idempotent.
func Forward(l Listener, deliver func(ListenEvent, error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := l.Next(ctx)
			if ctx.Err() != nil {
				return // stopped: the error, if any, is ours
			}
			if err != nil {
				deliver(ListenEvent{}, err)
				return
			}
			deliver(ev, nil)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

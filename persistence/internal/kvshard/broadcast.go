package kvshard

import (
	"context"
	"sync"

	"github.com/arbor-db/arbor/persistence"
)

// Broadcast is how a backend that notices its own commits (mem, pebble)
// wakes watchers: it calls Notify after every commit, and Watch hands out
// Watchers that wake on it. The zero value is ready to use; it is safe for
// concurrent use and starts no goroutine.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{} // closed by Notify; nil until someone watches
}

// Notify wakes every Watcher made before it.
func (b *Broadcast) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// Watch returns a Watcher that wakes on every Notify after this call.
func (b *Broadcast) Watch() Watcher {
	return &chanWatcher{b: b, ch: b.current(), done: make(chan struct{})}
}

// current returns the channel the next Notify closes.
func (b *Broadcast) current() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

type chanWatcher struct {
	b  *Broadcast
	ch <-chan struct{} // owned by the caller of Wait

	once sync.Once
	done chan struct{}
}

// Wait implements Watcher.
func (w *chanWatcher) Wait(ctx context.Context) error {
	select {
	case <-w.ch:
		// Take the new generation before the caller reads again, so a change
		// after that read closes it.
		w.ch = w.b.current()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return persistence.ErrClosed
	}
}

// Close implements Watcher.
func (w *chanWatcher) Close() { w.once.Do(func() { close(w.done) }) }

package kvshard

import (
	"context"
	"sync"

	"github.com/arbor-db/arbor/persistence"
)

// NewChanWatcher returns a Watcher for a backend that signals change by
// closing a channel and replacing it (a broadcast generation). initial is the
// channel current when the watch starts; next returns the current one.
// It starts no goroutine.
func NewChanWatcher(initial <-chan struct{}, next func() <-chan struct{}) Watcher {
	return &chanWatcher{ch: initial, next: next, done: make(chan struct{})}
}

type chanWatcher struct {
	ch   <-chan struct{} // owned by the caller of Wait
	next func() <-chan struct{}

	once sync.Once
	done chan struct{}
}

// Wait implements Watcher.
func (w *chanWatcher) Wait(ctx context.Context) error {
	select {
	case <-w.ch:
		// Take the new generation before the caller reads again, so a change
		// after that read closes it.
		w.ch = w.next()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return persistence.ErrClosed
	}
}

// Close implements Watcher.
func (w *chanWatcher) Close() { w.once.Do(func() { close(w.done) }) }

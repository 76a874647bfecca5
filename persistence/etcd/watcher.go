package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// watcher wakes on changes to one key through an etcd watch. It starts no
// goroutine; the client's watch machinery stops when the watch's context is
// cancelled by Close.
type watcher struct {
	client *clientv3.Client
	key    string

	ctx    context.Context // the watch's; cancelled by Close
	cancel context.CancelFunc

	ch clientv3.WatchChan // owned by the caller of Wait
}

// Watch implements kvshard.KV with an etcd watch on key (see watcher).
func (e *kv) Watch(ctx context.Context, key []byte) (kvshard.Watcher, error) {
	// The watch outlives the Listen call that makes it, so it gets its own
	// context, not ctx.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &watcher{client: e.client, key: string(key), ctx: wctx, cancel: cancel}
	if err := w.start(ctx); err != nil {
		cancel()
		return nil, err
	}
	return w, nil
}

// start watches from the revision after the current one, read now: every
// change after start returns is delivered, whatever the server's timing.
func (w *watcher) start(ctx context.Context) error {
	resp, err := w.client.Get(ctx, w.key, clientv3.WithCountOnly())
	if err != nil {
		return mapErr(err)
	}
	w.ch = w.client.Watch(clientv3.WithRequireLeader(w.ctx), w.key, clientv3.WithRev(resp.Header.Revision+1))
	return nil
}

// Wait implements kvshard.Watcher: it returns after the next watch response.
func (w *watcher) Wait(ctx context.Context) error {
	select {
	case resp, ok := <-w.ch:
		if w.ctx.Err() != nil {
			return persistence.ErrClosed
		}
		if !ok || resp.Canceled || resp.Err() != nil {
			// The watch ended (compacted history, lost leader): watch again
			// from now and let the caller re-read, which covers the gap.
			if err := w.start(ctx); err != nil {
				return err
			}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.ctx.Done():
		return persistence.ErrClosed
	}
}

// Close implements kvshard.Watcher: it cancels the etcd watch.
func (w *watcher) Close() { w.cancel() }

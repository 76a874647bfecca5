package kvshard

import (
	"context"
	"io"
	"sync"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Listen implements persistence.Shard.
func (s *shard) Listen(ctx context.Context, from timely.Frontier) (persistence.Listener, error) {
	const op = "listen"
	if err := s.check(op); err != nil {
		return nil, err
	}
	// Watch before the first read, so no change between them is missed.
	w, err := s.store.kv.Watch(ctx, s.keys.Upper())
	if err != nil {
		return nil, s.errorf(op, err)
	}
	// Read once now, so the since check and the first batches come from
	// one state: a since that moves after Listen cannot change what the
	// first event holds.
	l := &listener{shard: s, watcher: w, pos: from, first: true, below: true, done: make(chan struct{})}
	if from.IsEmpty() {
		l.eof = true // nothing is ever at or after the closed frontier
	} else {
		ev, ok, err := l.poll(ctx)
		if err != nil {
			w.Close()
			return nil, err
		}
		if ok {
			l.pending = &ev
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		w.Close()
		return nil, s.errorf(op, persistence.ErrClosed)
	}
	s.listeners[l] = struct{}{}
	return l, nil
}

// listener yields a shard's batches from pos on.
type listener struct {
	shard   *shard
	watcher Watcher

	// Owned by the caller of Next.
	pos     timely.Frontier          // everything before pos has been yielded
	first   bool                     // no event yet: pos is from, and a batch may straddle it
	below   bool                     // while first: the since was at from at Listen, so the first event holds the contents as of since
	pending *persistence.ListenEvent // read by Listen, not yet returned
	eof     bool

	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

// Next implements persistence.Listener.
func (l *listener) Next(ctx context.Context) (persistence.ListenEvent, error) {
	const op = "listen"
	for {
		select {
		case <-l.done:
			return persistence.ListenEvent{}, l.shard.errorf(op, persistence.ErrClosed)
		default:
		}
		if ev := l.pending; ev != nil {
			l.pending = nil
			return *ev, nil
		}
		if l.eof {
			return persistence.ListenEvent{}, io.EOF
		}
		ev, ok, err := l.poll(ctx)
		if err != nil || ok {
			return ev, err
		}
		if err := l.wait(ctx); err != nil {
			return persistence.ListenEvent{}, err
		}
	}
}

// poll reads the shard once and returns an event if the upper moved past
// pos.
func (l *listener) poll(ctx context.Context) (persistence.ListenEvent, bool, error) {
	s := l.shard
	pos, _ := l.pos.Time() // pos is never closed here: eof is set first
	var w window
	var err error
	if l.first {
		// A batch below pos may hold times >= pos: seek to it. This holds
		// until the first event, also when the upper was below from at
		// Listen: the batch appended there may straddle from. Whether the
		// contents as of since belong in the first event is settled by the
		// since at Listen: a since that reaches from only later must not
		// add older updates at from.
		w, err = s.readWindow(ctx, "listen", pos, timely.Closed(), l.below)
		l.below = w.below
	} else {
		// pos is an upper this listener saw: no batch straddles it.
		w.state, err = s.readState(ctx, "listen", s.keys.batchesFrom(pos))
		w.below = true // every batch read starts at or after pos
	}
	if err != nil {
		return persistence.ListenEvent{}, false, err
	}
	st := w.state
	if !st.since.LessEqual(l.pos) {
		return persistence.ListenEvent{}, false, &persistence.SinceError{AsOf: l.pos, Since: st.since}
	}
	if !l.pos.LessThan(st.upper) {
		return persistence.ListenEvent{}, false, nil
	}
	var out []persistence.Update
	for _, b := range st.batches {
		for _, u := range b.updates {
			if !w.below && !l.pos.Admits(u.Ts) {
				continue // below from by its own time
			}
			u.Ts = advance(u.Ts, st.since)
			if l.pos.Admits(u.Ts) && !st.upper.Admits(u.Ts) {
				out = append(out, u)
			}
		}
	}
	l.pos, l.eof, l.first = st.upper, st.upper.IsEmpty(), false
	return persistence.ListenEvent{Updates: persistence.ConsolidateByTime(out), Progress: st.upper}, true, nil
}

// wait blocks until the shard may have changed, ctx ends or the listener
// is closed (Close closes the watcher, which ends a blocked Wait).
func (l *listener) wait(ctx context.Context) error {
	err := l.watcher.Wait(ctx)
	select {
	case <-l.done:
		return l.shard.errorf("listen", persistence.ErrClosed)
	default:
	}
	if err != nil && ctx.Err() == nil {
		return l.shard.errorf("listen", err)
	}
	return err
}

// Close implements persistence.Listener.
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.watcher.Close()
		s := l.shard
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	})
	return nil
}

package kvshard

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// shard is one handle to a named shard.
type shard struct {
	// Constant after newShard.
	store *Store
	name  string
	keys  Keys

	// indexed is set once this handle has seen the indexed key written:
	// appends need not guard its creation any more.
	indexed atomic.Bool

	mu        sync.Mutex // guards the fields below
	closed    bool
	listeners map[*listener]struct{}
}

var _ persistence.Shard = (*shard)(nil)

func newShard(s *Store, name string) *shard {
	return &shard{
		store:     s,
		name:      name,
		keys:      KeysFor(s.prefix, name),
		listeners: map[*listener]struct{}{},
	}
}

// check returns ErrClosed, wrapped with op and the shard name, once the
// handle or its store is closed.
func (s *shard) check(op string) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed || s.store.isClosed() {
		return s.errorf(op, persistence.ErrClosed)
	}
	return nil
}

func (s *shard) errorf(op string, err error) error {
	return fmt.Errorf("shard %q: %s: %w", s.name, op, err)
}

func (s *shard) corrupt(key []byte, err error) error {
	return &persistence.CorruptError{Shard: s.name, Key: string(key), Err: err}
}

// CompareAndAppend implements persistence.Shard.
func (s *shard) CompareAndAppend(ctx context.Context, updates []persistence.Update, expectedUpper, newUpper timely.Frontier) error {
	const op = "compare and append"
	if err := s.check(op); err != nil {
		return err
	}
	if err := validateAppend(updates, expectedUpper, newUpper); err != nil {
		return s.errorf(op, err)
	}
	lower, _ := expectedUpper.Time() // validateAppend: expectedUpper is not closed

	upperKey := s.keys.Upper()
	cmps := []Compare{metaCompare(upperKey, expectedUpper)}
	ops := []Op{Put(upperKey, encodeFrontier(newUpper))}
	// Consolidate a copy: never reorder the caller's slice.
	if b := persistence.Consolidate(append([]persistence.Update(nil), updates...)); len(b) > 0 {
		ops = append(ops,
			Put(s.keys.Batch(lower), encodeBatch(batch{upper: newUpper, updates: b})),
			Put(s.keys.End(newUpper), encodeTime(lower)))
	}
	for {
		// Until this handle knows the indexed key exists, create it if it is
		// absent: every batch from this lower on carries an end key. A
		// shard written before the index existed keeps scanning below it.
		guard := !s.indexed.Load()
		txnCmps, txnOps := cmps, ops
		if guard {
			txnCmps = append(cmps[:1:1], Compare{Key: s.keys.Indexed()})
			txnOps = append(ops[:len(ops):len(ops)], Put(s.keys.Indexed(), encodeTime(lower)))
		}
		if err := s.checkSize(txnOps); err != nil {
			return s.errorf(op, err)
		}
		ok, current, err := s.store.kv.Txn(ctx, txnCmps, txnOps)
		if err != nil {
			return s.errorf(op, err)
		}
		if ok {
			s.indexed.Store(true)
			return nil
		}
		cur, err := s.decodeMeta(upperKey, current[0])
		if err != nil {
			return err
		}
		if !guard || cur != expectedUpper {
			return &persistence.UpperMismatchError{Expected: expectedUpper, Current: cur}
		}
		// Only the indexed guard failed: the key exists. Nothing was
		// written; append again without the guard.
		s.indexed.Store(true)
	}
}

func validateAppend(updates []persistence.Update, expectedUpper, newUpper timely.Frontier) error {
	if expectedUpper.IsEmpty() || !expectedUpper.LessThan(newUpper) {
		return fmt.Errorf("%w: expected %s, new %s", persistence.ErrInvalidUpper, expectedUpper, newUpper)
	}
	for i, u := range updates {
		if !expectedUpper.Admits(u.Ts) || newUpper.Admits(u.Ts) {
			return fmt.Errorf("%w: update %d at %s, expected upper %s, new upper %s",
				persistence.ErrInvalidUpdate, i, u.Ts, expectedUpper, newUpper)
		}
	}
	return nil
}

func (s *shard) checkSize(ops []Op) error {
	if s.store.maxTxnBytes <= 0 {
		return nil
	}
	n := 0
	for _, o := range ops {
		n += len(o.Key) + len(o.Value) + len(o.End)
	}
	if n > s.store.maxTxnBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", persistence.ErrTooLarge, n, s.store.maxTxnBytes)
	}
	return nil
}

// metaCompare is the transaction guard that an upper or since key holds f:
// absent when f is {0}, as decodeMeta reads it (a fresh shard has neither
// key).
func metaCompare(key []byte, f timely.Frontier) Compare {
	if f == timely.Minimum() {
		return Compare{Key: key}
	}
	return Compare{Key: key, Value: encodeFrontier(f)}
}

// decodeMeta decodes an upper or since value; absent means {0}.
func (s *shard) decodeMeta(key, value []byte) (timely.Frontier, error) {
	if value == nil {
		return timely.Minimum(), nil
	}
	f, err := decodeFrontier(value)
	if err != nil {
		return timely.Frontier{}, s.corrupt(key, err)
	}
	return f, nil
}

// Upper implements persistence.Shard.
func (s *shard) Upper(ctx context.Context) (timely.Frontier, error) {
	return s.readMeta(ctx, "upper", s.keys.Upper())
}

// Since implements persistence.Shard.
func (s *shard) Since(ctx context.Context) (timely.Frontier, error) {
	return s.readMeta(ctx, "since", s.keys.Since())
}

func (s *shard) readMeta(ctx context.Context, op string, key []byte) (timely.Frontier, error) {
	if err := s.check(op); err != nil {
		return timely.Frontier{}, err
	}
	res, err := s.store.kv.Read(ctx, []Range{single(key)})
	if err != nil {
		return timely.Frontier{}, s.errorf(op, err)
	}
	return s.decodeMeta(key, value(res[0]))
}

// value returns the value of a single-key range read, nil when absent.
func value(kvs []KeyValue) []byte {
	if len(kvs) == 0 {
		return nil
	}
	return kvs[0].Value
}

// Close implements persistence.Shard.
func (s *shard) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ls := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for l := range ls {
		l.Close()
	}
	return nil
}

package pebble

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// kv is a kvshard.KV over one Pebble database.
type kv struct {
	// Constant after newKV.
	db   *pebble.DB
	lock *pebble.Lock

	// life guards closed: held shared while the database is in use, and
	// exclusively by Close, because Pebble panics on use after close.
	life   sync.RWMutex
	closed bool

	txn sync.Mutex // serialises transactions: compare, then commit

	changed kvshard.Broadcast // notified after every commit
}

// use holds the database open until the returned release is called, or
// returns ErrClosed.
func (p *kv) use() (release func(), err error) {
	p.life.RLock()
	if p.closed {
		p.life.RUnlock()
		return nil, persistence.ErrClosed
	}
	return p.life.RUnlock, nil
}

func newKV(db *pebble.DB, lock *pebble.Lock) *kv {
	return &kv{db: db, lock: lock}
}

// Read implements kvshard.KV over one Pebble snapshot (one consistent
// view). A single-key range is a point lookup: iterating it would step over
// every older version of that key still in the memtable, and the upper key
// gains one on every append.
func (p *kv) Read(ctx context.Context, ranges []kvshard.Range) ([][]kvshard.KeyValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	release, err := p.use()
	if err != nil {
		return nil, err
	}
	defer release()
	snap := p.db.NewSnapshot()
	defer snap.Close()
	out := make([][]kvshard.KeyValue, len(ranges))
	for i, r := range ranges {
		if isSingleKey(r) {
			v, err := getFrom(snap, r.Start)
			if err != nil {
				return nil, err
			}
			if v != nil {
				out[i] = []kvshard.KeyValue{{Key: slices.Clone(r.Start), Value: v}}
			}
			continue
		}
		if out[i], err = scan(snap, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isSingleKey reports whether r is [k, k+"\x00"), which holds only k.
func isSingleKey(r kvshard.Range) bool {
	return len(r.End) == len(r.Start)+1 && r.End[len(r.Start)] == 0 && bytes.HasPrefix(r.End, r.Start)
}

func scan(snap *pebble.Snapshot, r kvshard.Range) ([]kvshard.KeyValue, error) {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: r.Start, UpperBound: r.End})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []kvshard.KeyValue
	for ok := it.First(); ok && (r.Limit <= 0 || len(out) < r.Limit); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		out = append(out, kvshard.KeyValue{Key: slices.Clone(it.Key()), Value: slices.Clone(v)})
	}
	return out, it.Error()
}

// Txn implements kvshard.KV: compare under the txn mutex, then one synced batch.
func (p *kv) Txn(ctx context.Context, cmps []kvshard.Compare, ops []kvshard.Op) (bool, [][]byte, error) {
	if err := ctx.Err(); err != nil {
		return false, nil, err
	}
	release, err := p.use()
	if err != nil {
		return false, nil, err
	}
	defer release()
	p.txn.Lock()
	defer p.txn.Unlock()
	cur := make([][]byte, len(cmps))
	ok := true
	for i, c := range cmps {
		v, err := getFrom(p.db, c.Key)
		if err != nil {
			return false, nil, err
		}
		cur[i] = v
		if (v == nil) != (c.Value == nil) || !bytes.Equal(v, c.Value) {
			ok = false
		}
	}
	if !ok {
		return false, cur, nil
	}
	b := p.db.NewBatch()
	defer b.Close()
	for _, o := range ops {
		var err error
		if o.End != nil {
			err = b.DeleteRange(o.Key, o.End, nil)
		} else {
			err = b.Set(o.Key, o.Value, nil)
		}
		if err != nil {
			return false, nil, err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return false, nil, err
	}
	p.changed.Notify()
	return true, nil, nil
}

// getFrom returns the value at key, nil when absent (a present empty value
// is returned as a non-nil empty slice).
func getFrom(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// Watch implements kvshard.KV; it wakes on every commit of the Store.
func (p *kv) Watch(context.Context, []byte) (kvshard.Watcher, error) {
	release, err := p.use()
	if err != nil {
		return nil, err
	}
	defer release()
	return p.changed.Watch(), nil
}

// Close closes the database, then releases the directory lock.
func (p *kv) Close() error {
	p.life.Lock()
	defer p.life.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return errors.Join(p.db.Close(), p.lock.Close())
}

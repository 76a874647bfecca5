package mem

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// kv is a sorted in-memory map.
type kv struct {
	mu     sync.Mutex // guards the fields below
	keys   []string   // sorted
	vals   map[string][]byte
	closed bool

	changed kvshard.Broadcast // notified by every successful Txn
}

func newKV() *kv {
	return &kv{vals: map[string][]byte{}}
}

// Read implements kvshard.KV under the map's mutex.
func (m *kv) Read(ctx context.Context, ranges []kvshard.Range) ([][]kvshard.KeyValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, persistence.ErrClosed
	}
	out := make([][]kvshard.KeyValue, len(ranges))
	for i, r := range ranges {
		j, _ := slices.BinarySearch(m.keys, string(r.Start))
		for ; j < len(m.keys) && bytes.Compare([]byte(m.keys[j]), r.End) < 0; j++ {
			if r.Limit > 0 && len(out[i]) == r.Limit {
				break
			}
			k := m.keys[j]
			out[i] = append(out[i], kvshard.KeyValue{Key: []byte(k), Value: m.vals[k]})
		}
	}
	return out, nil
}

// Txn implements kvshard.KV under the map's mutex.
func (m *kv) Txn(ctx context.Context, cmps []kvshard.Compare, ops []kvshard.Op) (bool, [][]byte, error) {
	if err := ctx.Err(); err != nil {
		return false, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, nil, persistence.ErrClosed
	}
	for _, c := range cmps {
		v, ok := m.vals[string(c.Key)]
		if ok != (c.Value != nil) || !bytes.Equal(v, c.Value) {
			cur := make([][]byte, len(cmps))
			for i, c := range cmps {
				cur[i] = m.vals[string(c.Key)]
			}
			return false, cur, nil
		}
	}
	for _, o := range ops {
		if o.End != nil {
			lo, _ := slices.BinarySearch(m.keys, string(o.Key))
			hi, _ := slices.BinarySearch(m.keys, string(o.End))
			if lo < hi {
				for _, k := range m.keys[lo:hi] {
					delete(m.vals, k)
				}
				m.keys = slices.Delete(m.keys, lo, hi)
			}
			continue
		}
		k := string(o.Key)
		if _, ok := m.vals[k]; !ok {
			i, _ := slices.BinarySearch(m.keys, k)
			m.keys = slices.Insert(m.keys, i, k)
		}
		// Stored values are never modified in place, so readers may alias them.
		m.vals[k] = slices.Clone(o.Value)
	}
	m.changed.Notify()
	return true, nil, nil
}

// Watch implements kvshard.KV; it wakes on every successful Txn.
func (m *kv) Watch(ctx context.Context, key []byte) (kvshard.Watcher, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, persistence.ErrClosed
	}
	return m.changed.Watch(), nil
}

// Close makes later calls fail with persistence.ErrClosed.
func (m *kv) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

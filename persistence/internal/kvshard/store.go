package kvshard

import (
	"context"
	"fmt"
	"sync"

	"github.com/arbor-db/arbor/persistence"
)

// Store is a persistence.Store over a KV. Backends construct it with their
// KV and a key prefix.
type Store struct {
	kv     KV
	prefix string
	// Limits of one backend transaction, constant after NewStore.
	maxTxnBytes int

	mu     sync.Mutex
	closed bool
}

// Option configures a Store.
type Option func(*Store)

// WithMaxTxnBytes makes appends whose encoded size exceeds n fail with
// persistence.ErrTooLarge (and compactions that would exceed it stay
// logical). Zero means no limit.
func WithMaxTxnBytes(n int) Option { return func(s *Store) { s.maxTxnBytes = n } }

// NewStore returns a Store keeping its shards under prefix in kv. Closing the
// Store closes kv.
func NewStore(kv KV, prefix string, opts ...Option) *Store {
	s := &Store{kv: kv, prefix: prefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

// KV returns the underlying key-value backend (for tests that corrupt
// stored bytes on purpose).
func (s *Store) KV() KV { return s.kv }

// Prefix returns the store's key prefix.
func (s *Store) Prefix() string { return s.prefix }

// OpenShard implements persistence.Store.
func (s *Store) OpenShard(ctx context.Context, name string) (persistence.Shard, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("open shard %q: %w", name, persistence.ErrClosed)
	}
	return newShard(s, name), nil
}

// Close implements persistence.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.kv.Close()
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

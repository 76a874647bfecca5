package durable_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/persistence/pebble"
)

// backends lists the persistence backends the catalog is tested on. The etcd
// one starts a real embedded server (without fsync: durability is not the
// subject here) once per call; each store gets its own key prefix.
func backends(t *testing.T) []backend {
	var endpoints []string
	var prefixes atomic.Int64
	return []backend{
		{"mem", func(t *testing.T) persistence.Store { return mem.New() }},
		{"pebble", func(t *testing.T) persistence.Store {
			st, err := pebble.Open(t.TempDir())
			require.NoError(t, err)
			return st
		}},
		{"etcd", func(t *testing.T) persistence.Store {
			if endpoints == nil {
				endpoints = etcdtest.Start(t, etcdtest.NoFsync())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := etcd.Dial(ctx, endpoints, fmt.Sprintf("/catalog-test/%d", prefixes.Add(1)))
			require.NoError(t, err)
			return st
		}},
	}
}

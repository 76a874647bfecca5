package durable_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/persistence/pebble"
)

// backend is a persistence backend the catalog is tested on. setup prepares
// it for the test t (the etcd one starts a real embedded server, without
// fsync: durability is not the subject here) and returns a factory of
// fresh, empty stores usable in t and its subtests.
type backend struct {
	name  string
	setup func(t *testing.T) func(t *testing.T) persistence.Store
}

var backends = []backend{
	{"mem", func(*testing.T) func(*testing.T) persistence.Store {
		return func(*testing.T) persistence.Store { return mem.New() }
	}},
	{"pebble", func(*testing.T) func(*testing.T) persistence.Store {
		return func(t *testing.T) persistence.Store {
			st, err := pebble.Open(t.TempDir())
			require.NoError(t, err)
			return st
		}
	}},
	{"etcd", func(t *testing.T) func(*testing.T) persistence.Store {
		endpoints := etcdtest.Start(t, etcdtest.NoFsync())
		n := 0
		return func(t *testing.T) persistence.Store {
			n++
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := etcd.Dial(ctx, endpoints, fmt.Sprintf("/catalog-test/%d", n))
			require.NoError(t, err)
			return st
		}
	}},
}

// onBackendStores runs test once per backend, with that backend's store
// factory.
func onBackendStores(t *testing.T, test func(t *testing.T, newStore func(*testing.T) persistence.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.setup(t)) })
	}
}

// onBackends runs scenario once per backend against a fresh catalog.
func onBackends(t *testing.T, scenario func(t *testing.T, e *env)) {
	onBackendStores(t, func(t *testing.T, newStore func(*testing.T) persistence.Store) {
		scenario(t, newEnvOn(t, newStore(t)))
	})
}

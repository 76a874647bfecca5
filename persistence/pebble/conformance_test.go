package pebble

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/conformance"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[persistence.Store]string{}
	open := func(t *testing.T, dir string) persistence.Store {
		s, err := Open(dir)
		require.NoError(t, err)
		mu.Lock()
		dirs[s] = dir
		mu.Unlock()
		return s
	}
	conformance.RunShardTests(t, conformance.Harness{
		NewStore: func(t *testing.T) persistence.Store { return open(t, t.TempDir()) },
		Reopen: func(t *testing.T, s persistence.Store) persistence.Store {
			require.NoError(t, s.Close())
			mu.Lock()
			dir := dirs[s]
			mu.Unlock()
			return open(t, dir)
		},
	})
}

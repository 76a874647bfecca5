package etcd

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/conformance"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
)

func dial(t *testing.T, endpoints []string, prefix string) persistence.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Dial(ctx, endpoints, prefix)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	endpoints := etcdtest.Start(t)
	var mu sync.Mutex
	n := 0
	prefixes := map[persistence.Store]string{}
	open := func(t *testing.T, prefix string) persistence.Store {
		s := dial(t, endpoints, prefix)
		mu.Lock()
		prefixes[s] = prefix
		mu.Unlock()
		return s
	}
	conformance.RunShardTests(t, conformance.Harness{
		NewStore: func(t *testing.T) persistence.Store {
			mu.Lock()
			n++
			prefix := fmt.Sprintf("/arbor/test%d/", n) // each test its own prefix
			mu.Unlock()
			return open(t, prefix)
		},
		Reopen: func(t *testing.T, s persistence.Store) persistence.Store {
			require.NoError(t, s.Close())
			mu.Lock()
			prefix := prefixes[s]
			mu.Unlock()
			return open(t, prefix)
		},
	})
}

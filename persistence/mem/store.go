package mem

import (
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// New returns an empty in-memory Store. Handles opened from it on the same
// name share one shard.
func New() persistence.Store {
	return kvshard.NewStore(newKV(), "")
}

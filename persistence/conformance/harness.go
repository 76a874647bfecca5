package conformance

import (
	"testing"

	"github.com/arbor-db/arbor/persistence"
)

// Harness tells the suite how to get stores from one backend.
type Harness struct {
	// NewStore returns an empty store that no other test shares. The suite
	// closes it; NewStore may register further cleanup with t.Cleanup.
	NewStore func(t *testing.T) persistence.Store
	// Reopen closes s and opens the same durable state again, as a restarted
	// process would. Nil for backends that keep nothing (mem): the
	// durability tests are skipped.
	Reopen func(t *testing.T, s persistence.Store) persistence.Store
}

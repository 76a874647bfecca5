package mem

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/conformance"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	conformance.RunShardTests(t, conformance.Harness{
		NewStore: func(*testing.T) persistence.Store { return New() },
	})
}

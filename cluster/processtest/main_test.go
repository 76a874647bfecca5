//go:build !race

package processtest

import (
	"testing"

	"github.com/arbor-db/arbor/testkit/multinode"
)

func TestMain(m *testing.M) { multinode.RunTests(m) }

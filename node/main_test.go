package node

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testkit.LeakOptions()...)
}

package messages_test

import (
	"testing"

	"github.com/arbor-db/arbor/testkit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.LeakOptions()...) }

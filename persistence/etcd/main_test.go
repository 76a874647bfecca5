package etcd

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, etcdtest.IgnoreLeaks()...) }

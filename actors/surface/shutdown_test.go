package surface_test

import (
	"testing"

	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/testkit"
)

func TestShutdownRemote(t *testing.T) {
	surface.ShutdownRemote(nil) // nothing to stop
	sys := testkit.NewSystem(t)
	r := remote.NewRemote(sys, testkit.RemoteConfig())
	r.Start()
	surface.ShutdownRemote(r)
}

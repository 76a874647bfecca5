package cluster

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/testkit"
)

// protoactor's cluster gossip starts log throttles whose goroutine sleeps a
// fixed 60s period (actor/throttler.go:27 and :62, gossiper.go:290,
// gossip_actor.go:36) and cannot be stopped; they end on their own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testkit.LeakOptions(
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
	)...)
}

package node

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/testkit"
)

// TestMain is goleak.VerifyTestMain with patience: a node's subsystems stop
// concurrently, so a few messages between them end as dead letters, and
// protoactor's dead-letter throttle keeps a goroutine for one interval (a
// second) after the last one.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if err = goleak.Find(testkit.LeakOptions(gossipThrottles...)...); err == nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// gossipThrottles are the goroutines of protoactor's cluster gossip log
// throttles, which sleep a fixed 60s and cannot be stopped (see
// cluster/main_test.go); a node in cluster mode leaves them behind.
var gossipThrottles = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
	goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
}

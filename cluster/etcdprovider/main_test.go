package etcdprovider_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/testkit"
)

// What outlives a test here, none of it Arbor's: protoactor's gossip log
// throttles (a fixed 60s sleep, actor/throttler.go:27 and :62), and the
// etcd client protoactor's etcd provider makes and never closes (its lease
// loop and its gRPC connection, which keeps dialing the stopped server).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testkit.LeakOptions(append(etcdtest.IgnoreLeaks(),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
		goleak.IgnoreTopFunction("go.etcd.io/etcd/client/v3.(*lessor).deadlineLoop"),
		goleak.IgnoreTopFunction("go.etcd.io/etcd/client/v3.(*lessor).recvKeepAliveLoop"),
		goleak.IgnoreTopFunction("go.etcd.io/etcd/client/v3.(*lessor).sendKeepAliveLoop"),
		goleak.IgnoreAnyFunction("go.etcd.io/etcd/client/v3.(*watchGrpcStream).run"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd.(*Provider).startKeepAlive.func1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd.(*Provider).startWatching.func1"),
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*pickerWrapper).pick"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock"),
	)...)...)
}

package cluster

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/testkit"
)

// TestStartFailsCleanly checks that a node whose remote port is taken
// gets ErrStart (protoactor panics there) and that nothing Start began is
// left running (the leak check of testkit.NewSystem).
func TestStartFailsCleanly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port

	sys := testkit.NewSystem(t)
	_, err = Start(sys, Config{
		Remote: remote.Configure("127.0.0.1", port), Roles: []string{RoleEnvironment},
		Join: []string{"127.0.0.1:1"}, MembershipListen: "127.0.0.1:0", Logger: testkit.QuietLogger(),
	})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("start on a taken port: %v", err)
	}

	// The membership endpoint's port taken: a clear error before anything
	// starts.
	_, err = Start(testkit.NewSystem(t), Config{
		Remote: remote.Configure("127.0.0.1", 0), Roles: []string{RoleEnvironment},
		Join: []string{"127.0.0.1:1"}, MembershipListen: "127.0.0.1:" + strconv.Itoa(port), Logger: testkit.QuietLogger(),
	})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("start with the membership port taken: %v", err)
	}
}

// TestStartEtcdUnreachable checks that an etcd nobody serves is an error
// within the dial timeout, not a Start that never returns.
func TestStartEtcdUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Start(testkit.NewSystem(t), Config{
		Remote: remote.Configure("127.0.0.1", 0), Roles: []string{RoleEnvironment},
		Provider: "etcd://" + addr, EtcdDialTimeout: 200 * time.Millisecond, Logger: testkit.QuietLogger(),
	})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("start on an unreachable etcd: %v", err)
	}
}

package environment_test

import (
	"testing"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// A read-only environment bootstraps but answers no client (connects and
// every request UNAVAILABLE, read-only) until Promote; it reports itself
// ready to promote once bootstrapped, and serves the catalog's objects
// after Promote.
func TestReadOnlyEnvironmentServesAfterPromote(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.NewSystem(t)
	first := environmenttest.Start(t, sys, dir, environmenttest.Options{})
	connect(t, sys, first.Env, 0).createOrders()
	first.Stop()

	node := environmenttest.Start(t, sys, dir, environmenttest.Options{Env: func(c *environment.Config) { c.ReadOnly = true }})
	p := testkit.NewProbe(t, sys)
	owner := testkit.NewProbe(t, sys)
	p.Send(node.Env, &messages.ClientConnect{ClientAddress: owner.PID().GetAddress(), ClientId: owner.PID().GetId()})
	r := testkit.ExpectMsg[*messages.ClientConnectResponse](p, timeout)
	requireCode(t, "connect to a read-only environment", r.GetError(), environment.ErrReadOnly, "read-only", "promotion")
	requireCode(t, "connect to a read-only environment", r.GetError(), messages.ErrUnavailable)

	var st *environment.PromotionStatusResult
	testkit.Eventually(t, func() bool {
		res, err := sys.Root.RequestFuture(node.Env, &environment.PromotionStatus{}, timeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		st = res.(*environment.PromotionStatusResult)
		return st.ReadyToPromote()
	}, timeout, "the read-only environment is ready to promote")
	// Requests other than connects are refused too, once bootstrapped.
	p.Send(node.Env, &messages.ClientListObjects{Conn: &messages.ConnectionId{Value: 1}})
	requireCode(t, "list objects on a read-only environment", testkit.ExpectMsg[*messages.ClientListObjectsResponse](p, timeout).GetError(), environment.ErrReadOnly)

	res, err := sys.Root.RequestFuture(node.Env, &environment.Promote{}, timeout).Result()
	if err != nil || res.(*environment.PromoteResult).Err != nil {
		t.Fatalf("promote: %v %v", err, res)
	}
	s := connect(t, sys, node.Env, 0)
	objs := expect[*messages.ClientListObjectsResponse](s, &messages.ClientListObjects{Conn: s.conn})
	if objs.GetError() != nil || len(objs.GetObjects()) != 1 || objs.GetObjects()[0].GetName() != "orders" {
		t.Fatalf("objects after promotion: %v", objs)
	}
	res, _ = sys.Root.RequestFuture(node.Env, &environment.PromotionStatus{}, timeout).Result()
	if res.(*environment.PromotionStatusResult).ReadOnly {
		t.Fatal("still read-only after Promote")
	}
}

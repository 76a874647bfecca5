package environment

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

func TestCoreSessionsAndPeeks(t *testing.T) {
	c := NewCore(42)
	t0 := time.Unix(0, 0)
	a := c.Connect(actor.NewPID("n1", "a"), "app", time.Second)
	if again := c.Connect(actor.NewPID("n1", "a"), "app", 2*time.Second); again.conn != a.conn || again.timeout != 2*time.Second {
		t.Fatalf("reconnect of one client actor: %+v vs %+v", again, a)
	}
	b := c.Connect(actor.NewPID("n2", "b"), "", time.Second)
	if a.conn == b.conn {
		t.Fatal("two clients share a connection id")
	}
	peek := func(conn timely.ConnectionId, deadline time.Duration) timely.Uuid {
		u := c.NewUuid()
		c.BeginPeek(&pendingPeek{uuid: u, conn: conn, deadline: t0.Add(deadline)})
		return u
	}
	a1, a2, b1 := peek(a.conn, time.Second), peek(a.conn, 3*time.Second), peek(b.conn, 2*time.Second)
	if a1 == a2 || a1 == (timely.Uuid{}) {
		t.Fatal("uuids repeat or are zero")
	}

	// Deadlines: at 2s, a1 and b1 expire, in uuid order.
	exp := c.Expired(t0.Add(2 * time.Second))
	if len(exp) != 2 || exp[0].uuid != a1 || exp[1].uuid != b1 {
		t.Fatalf("expired at 2s: %v", exp)
	}
	if _, ok := c.FinishPeek(a1); ok {
		t.Fatal("an expired peek finished again")
	}
	// Ending a's session returns its last peek; b is unaffected.
	if ended := c.EndSession(a.conn); len(ended) != 1 || ended[0].uuid != a2 {
		t.Fatalf("end session: %v", ended)
	}
	if _, err := c.Session(a.conn); err == nil {
		t.Fatal("an ended session is still there")
	}
	if _, ok := c.SessionOfClient(actor.NewPID("n1", "a")); ok {
		t.Fatal("an ended session is still found by its client")
	}
	if c.Pending() != 0 || len(c.EndSession(a.conn)) != 0 {
		t.Fatal("peeks left after ending every session")
	}
	c.ObserveWrite(7)
	c.ObserveWrite(5)
	if c.LastWrite() != 7 {
		t.Fatalf("last write %d", c.LastWrite())
	}
}

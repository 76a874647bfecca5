package storage

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// carry hands a storage actor's consumers (subscriptions and read holds)
// from an incarnation that is restarting to the next one, which protoactor
// builds afresh from the props. It is keyed by the actor's PID, so several
// actors spawned from one props never see each other's consumers.
type carry struct {
	mu sync.Mutex
	m  map[string]Consumers
}

func newCarry() *carry { return &carry{m: map[string]Consumers{}} }

func (c *carry) put(pid *actor.PID, cs Consumers) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[pid.String()] = cs
}

func (c *carry) take(pid *actor.PID) (Consumers, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.m[pid.String()]
	delete(c.m, pid.String())
	return cs, ok
}

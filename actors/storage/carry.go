package storage

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// carry hands what a restarting storage actor must not lose to the next
// incarnation, which protoactor builds afresh from the props: its consumers
// (subscriptions and read holds) and the requests that were waiting for a
// group commit (group_commit.go). It is keyed by the actor's PID, so
// several actors spawned from one props never see each other's.
type carry struct {
	mu sync.Mutex
	m  map[string]carried
}

type carried struct {
	consumers Consumers
	deferred  []deferredRequest
}

func newCarry() *carry { return &carry{m: map[string]carried{}} }

func (c *carry) put(pid *actor.PID, cs Consumers, deferred []deferredRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[pid.String()] = carried{consumers: cs, deferred: deferred}
}

func (c *carry) take(pid *actor.PID) (Consumers, []deferredRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cd, ok := c.m[pid.String()]
	delete(c.m, pid.String())
	return cd.consumers, cd.deferred, ok
}

package node

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Readiness: what /readyz answers. The node is ready while it has started
// and is not stopping, no subsystem has stopped, and every probed subsystem
// answered its latest status probe, healthy, within the probe deadline. The
// state is fed by the node guardian's OnSubsystemStopped, by the monitor
// actor (monitor.go) that probes subsystems on the node's clock, and by
// Start and Stop; verdict is a pure function of it and the time.

const (
	// probeInterval is how often the monitor asks each probed subsystem
	// for its status.
	probeInterval = time.Second
	// probeDeadline is how long a probe may go unanswered before the node
	// is not ready: a subsystem blocked on a frozen backend answers
	// nothing, which is what this catches.
	probeDeadline = 2 * time.Second
)

// readiness is the node's readiness state; safe for concurrent use.
type readiness struct {
	mu       sync.Mutex
	started  bool
	stopping bool
	stopped  []string               // subsystems that stopped without being asked, in order
	probes   map[string]*probeState // by subsystem name
}

// probeState is one probed subsystem's latest probe.
type probeState struct {
	sent     time.Time // when the outstanding probe was sent; zero when none is
	answered bool      // it has answered at least once
	healthy  bool      // its latest answer said it serves
	detail   string    // why not, when it does not
}

func newReadiness() *readiness { return &readiness{probes: map[string]*probeState{}} }

func (r *readiness) setStarted() { r.mu.Lock(); r.started = true; r.mu.Unlock() }

func (r *readiness) setStopping() { r.mu.Lock(); r.stopping = true; r.mu.Unlock() }

// subsystemStopped records that name stopped without being asked to.
func (r *readiness) subsystemStopped(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = append(r.stopped, name)
}

// probeSent records a probe of name sent at now and reports true, unless a
// probe is outstanding: then it reports false and nothing is sent, so the
// deadline runs from the unanswered probe.
func (r *readiness) probeSent(name string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.probe(name)
	if !p.sent.IsZero() {
		return false
	}
	p.sent = now
	return true
}

// probeAnswered records name's answer to its outstanding probe.
func (r *readiness) probeAnswered(name string, healthy bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.probe(name)
	p.sent, p.answered, p.healthy, p.detail = time.Time{}, true, healthy, detail
}

func (r *readiness) probe(name string) *probeState {
	p, ok := r.probes[name]
	if !ok {
		p = &probeState{}
		r.probes[name] = p
	}
	return p
}

// verdict says whether the node is ready at now and, when not, every reason
// why, each naming its subsystem.
func (r *readiness) verdict(now time.Time) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopping:
		return false, "stopping"
	case !r.started:
		return false, "starting"
	}
	var why []string
	for _, name := range r.stopped {
		why = append(why, fmt.Sprintf("%s: stopped", name))
	}
	names := make([]string, 0, len(r.probes))
	for name := range r.probes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := r.probes[name]
		switch {
		case !p.sent.IsZero() && now.Sub(p.sent) > probeDeadline:
			why = append(why, fmt.Sprintf("%s: no answer to a status probe for %s", name, now.Sub(p.sent).Round(time.Millisecond)))
		case !p.answered:
			why = append(why, fmt.Sprintf("%s: not yet probed", name))
		case !p.healthy:
			why = append(why, fmt.Sprintf("%s: %s", name, p.detail))
		}
	}
	if len(why) > 0 {
		return false, strings.Join(why, "; ")
	}
	return true, ""
}

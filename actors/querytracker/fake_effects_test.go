package querytracker

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/arbor-db/arbor/timely"
)

// fakeEffects records every effect, fails watch-set installs on demand and
// counts EndExecution calls per execution so tests can assert "exactly
// once". It is safe for concurrent use so actor tests can read it while the
// actor writes.
type fakeEffects struct {
	mu             sync.Mutex
	trace          []string
	ends           map[ExecutionId]int
	computeCancels map[timely.Uuid]int
	// failWatchSet decides whether an install fails; nil never fails.
	failWatchSet func(ExecutionId) bool
}

func newFakeEffects() *fakeEffects {
	return &fakeEffects{
		ends:           map[ExecutionId]int{},
		computeCancels: map[timely.Uuid]int{},
	}
}

var errWatchSetFailed = errors.New("dependency u9 was dropped concurrently")

func (f *fakeEffects) CancelComputePeek(cluster timely.ClusterId, uuid timely.Uuid, reason CancelReason) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.computeCancels[uuid]++
	f.trace = append(f.trace, fmt.Sprintf("cancel-compute %s on %v (%v)", peekName(uuid), cluster, reason))
}

func (f *fakeEffects) InstallWatchSet(execution ExecutionId, ws WatchSet) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWatchSet != nil && f.failWatchSet(execution) {
		f.trace = append(f.trace, fmt.Sprintf("install-watch-set %s: failed", execName(execution)))
		return errWatchSetFailed
	}
	f.trace = append(f.trace, fmt.Sprintf("install-watch-set %s %v@%d", execName(execution), ws.Objects, ws.Timestamp))
	return nil
}

func (f *fakeEffects) EndExecution(execution ExecutionId, reason EndReason) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ends[execution]++
	f.trace = append(f.trace, fmt.Sprintf("end-execution %s %v", execName(execution), reason))
}

func (f *fakeEffects) CountCanceledPeeks(reason CancelReason, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trace = append(f.trace, fmt.Sprintf("count-canceled %v %d", reason, n))
}

// takeTrace returns the effects since the last call, one per line.
func (f *fakeEffects) takeTrace() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.trace, "\n")
	f.trace = nil
	return s
}

func (f *fakeEffects) endCount(id ExecutionId) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ends[id]
}

// Test ids: peek n is the uuid ending in n; execution n is the id starting
// with 0xe0 and ending in n. Both print short ("p3", "e3") in traces.

func peekId(n int) timely.Uuid {
	var u timely.Uuid
	u[14], u[15] = byte(n>>8), byte(n)
	return u
}

func execId(n int) ExecutionId {
	var u ExecutionId
	if n == 0 {
		return u // the invalid zero id
	}
	u[0] = 0xe0
	u[14], u[15] = byte(n>>8), byte(n)
	return u
}

func peekName(u timely.Uuid) string {
	for _, b := range u[:14] {
		if b != 0 {
			return u.String()
		}
	}
	return fmt.Sprintf("p%d", int(u[14])<<8|int(u[15]))
}

func execName(id ExecutionId) string {
	if id[0] != 0xe0 {
		return id.String()
	}
	for _, b := range id[1:14] {
		if b != 0 {
			return id.String()
		}
	}
	return fmt.Sprintf("e%d", int(id[14])<<8|int(id[15]))
}

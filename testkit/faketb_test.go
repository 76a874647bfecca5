package testkit

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// recordingTB is a testing.TB whose failures are recorded instead of failing
// the real test, so the testkit's own assertions can be shown to fail.
type recordingTB struct {
	testing.TB // the real test, for Cleanup/TempDir/Name
	mu         sync.Mutex
	failures   []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// failuresOf runs f against a recordingTB in its own goroutine (Fatalf ends
// that goroutine) and returns what it reported.
func failuresOf(t *testing.T, f func(tb testing.TB)) []string {
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

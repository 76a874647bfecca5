package testkit

import (
	"fmt"
	"testing"
	"time"
)

// Eventually polls cond every few milliseconds until it returns true, and
// fails the test (with the optional message) if it has not within timeout.
// Use it for state reached asynchronously; prefer a Probe when a message
// announces the state.
func Eventually(t testing.TB, cond func() bool, timeout time.Duration, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: condition not met within %v%s", timeout, describe(msgAndArgs))
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if f, ok := msgAndArgs[0].(string); ok {
		return ": " + fmt.Sprintf(f, msgAndArgs[1:]...)
	}
	return ": " + fmt.Sprint(msgAndArgs...)
}

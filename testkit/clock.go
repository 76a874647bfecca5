package testkit

import (
	"time"

	"github.com/arbor-db/arbor/clock"
)

// Clock is the time source production code takes; see package clock.
type Clock = clock.Clock

// ManualClock is a clock that moves only when the test says so.
type ManualClock = clock.Manual

// ManualEpoch is where NewManualClock starts: a fixed instant, so logs and
// assertions are the same on every run.
var ManualEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewManualClock returns a manual clock reading ManualEpoch.
func NewManualClock() *ManualClock { return clock.NewManual(ManualEpoch) }

// RealClock returns the system clock.
func RealClock() Clock { return clock.Real() }

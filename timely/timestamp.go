package timely

import (
	"math"
	"strconv"
)

// Timestamp is a point in Arbor's time: milliseconds from the timestamp oracle.
type Timestamp uint64

const (
	// MinTimestamp is the least time; a frontier at MinTimestamp admits every time.
	MinTimestamp Timestamp = 0
	// MaxTimestamp is the greatest representable time. It is a valid time, not
	// "closed"; the closed frontier is the empty Frontier.
	MaxTimestamp Timestamp = math.MaxUint64
)

// StepForward returns t+1, or false when t is MaxTimestamp.
func (t Timestamp) StepForward() (Timestamp, bool) {
	if t == MaxTimestamp {
		return t, false
	}
	return t + 1, true
}

// StepBack returns t-1, or false when t is MinTimestamp.
func (t Timestamp) StepBack() (Timestamp, bool) {
	if t == MinTimestamp {
		return t, false
	}
	return t - 1, true
}

// String prints the time as its decimal value.
func (t Timestamp) String() string { return strconv.FormatUint(uint64(t), 10) }

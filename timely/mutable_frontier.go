package timely

import (
	"errors"
	"fmt"
	"sort"
)

// ErrNegativeCount is returned when an update would drive the count of a time
// below zero. The update is rejected as a whole.
var ErrNegativeCount = errors.New("timely: update drives a count negative")

// Update is a change to the count of one time in a MutableFrontier.
type Update struct {
	Time Timestamp
	Diff int64
}

// MutableFrontier is a multiset of times with (positive) counts. Its frontier
// is the least time with a positive count, or closed when no time has one.
//
// The zero value is an empty multiset whose frontier is closed. A
// MutableFrontier is not safe for concurrent use; it belongs to one actor.
type MutableFrontier struct {
	counts map[Timestamp]int64
}

// NewMutableFrontier returns a multiset holding each given time once.
func NewMutableFrontier(times ...Timestamp) *MutableFrontier {
	m := &MutableFrontier{}
	for _, t := range times {
		m.add(t, 1)
	}
	return m
}

// Frontier returns the least time with a positive count, or closed.
func (m *MutableFrontier) Frontier() Frontier {
	if len(m.counts) == 0 {
		return Closed()
	}
	first := true
	var least Timestamp
	for t := range m.counts {
		if first || t < least {
			least, first = t, false
		}
	}
	return At(least)
}

// Count returns the count held for time t.
func (m *MutableFrontier) Count(t Timestamp) int64 { return m.counts[t] }

// IsEmpty reports whether no time has a positive count.
func (m *MutableFrontier) IsEmpty() bool { return len(m.counts) == 0 }

// Len returns the number of distinct times held.
func (m *MutableFrontier) Len() int { return len(m.counts) }

// Update applies the updates atomically and reports whether the frontier
// changed. When any time's count would become negative, nothing is applied and
// an error wrapping ErrNegativeCount names the time.
//
// Updates to the same time are summed before the check, so {(5,-1),(5,+1)}
// against a count of 0 is accepted.
func (m *MutableFrontier) Update(updates ...Update) (changed bool, err error) {
	net := make(map[Timestamp]int64, len(updates))
	for _, u := range updates {
		net[u.Time] += u.Diff
	}
	for t, d := range net {
		if m.counts[t]+d < 0 {
			return false, fmt.Errorf("%w: time %d has count %d, update %+d", ErrNegativeCount, t, m.counts[t], d)
		}
	}
	before := m.Frontier()
	for t, d := range net {
		m.add(t, d)
	}
	return m.Frontier() != before, nil
}

// UpdateOne applies a single change; see Update.
func (m *MutableFrontier) UpdateOne(t Timestamp, diff int64) (bool, error) {
	return m.Update(Update{Time: t, Diff: diff})
}

// Times returns the held times in increasing order with their counts.
func (m *MutableFrontier) Times() []Update {
	out := make([]Update, 0, len(m.counts))
	for t, c := range m.counts {
		out = append(out, Update{Time: t, Diff: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

// Clone returns an independent copy.
func (m *MutableFrontier) Clone() *MutableFrontier {
	c := &MutableFrontier{counts: make(map[Timestamp]int64, len(m.counts))}
	for t, n := range m.counts {
		c.counts[t] = n
	}
	return c
}

func (m *MutableFrontier) add(t Timestamp, d int64) {
	if d == 0 {
		return
	}
	if m.counts == nil {
		m.counts = make(map[Timestamp]int64)
	}
	n := m.counts[t] + d
	if n == 0 {
		delete(m.counts, t)
		return
	}
	m.counts[t] = n
}

package persistence

import (
	"bytes"
	"slices"
)

// CompareUpdates orders updates by key, then value, then time. It ignores
// Diff.
func CompareUpdates(a, b Update) int {
	if c := bytes.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	return compareTs(a, b)
}

// compareByTime orders updates by time, then key, then value: the order a
// Listener yields them in.
func compareByTime(a, b Update) int {
	if c := compareTs(a, b); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return bytes.Compare(a.Value, b.Value)
}

func compareTs(a, b Update) int {
	switch {
	case a.Ts < b.Ts:
		return -1
	case a.Ts > b.Ts:
		return 1
	default:
		return 0
	}
}

// Consolidate sorts updates by key, value and time, sums the diffs of equal
// (key, value, time) and drops zero sums. It reorders and reuses the given
// slice; the result aliases it.
func Consolidate(updates []Update) []Update {
	return consolidate(updates, CompareUpdates)
}

// ConsolidateByTime is Consolidate with the result ordered by time, then
// key, then value, the order in which a Listener yields updates.
func ConsolidateByTime(updates []Update) []Update {
	return consolidate(updates, compareByTime)
}

func consolidate(updates []Update, cmp func(a, b Update) int) []Update {
	slices.SortFunc(updates, cmp)
	out := updates[:0]
	for _, u := range updates {
		if n := len(out); n > 0 && cmp(out[n-1], u) == 0 {
			out[n-1].Diff += u.Diff
			if out[n-1].Diff == 0 {
				out = out[:n-1]
			}
			continue
		}
		if u.Diff != 0 {
			out = append(out, u)
		}
	}
	clear(updates[len(out):])
	return out
}

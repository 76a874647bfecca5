package dataflow

import "sort"

// consolidateRows sorts rows and sums the multiplicities of equal rows,
// dropping rows whose multiplicity sums to zero. It reuses the slice.
func consolidateRows(rs []rowDiff) []rowDiff {
	if len(rs) <= 1 {
		if len(rs) == 1 && rs[0].diff == 0 {
			return rs[:0]
		}
		return rs
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].row.Compare(rs[j].row) < 0 })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].row.Equal(r.row) {
			out[n-1].diff += r.diff
			continue
		}
		if n := len(out); n > 0 && out[n-1].diff == 0 {
			out[n-1] = r
			continue
		}
		out = append(out, r)
	}
	if n := len(out); n > 0 && out[n-1].diff == 0 {
		out = out[:n-1]
	}
	return out
}

// Consolidate sorts updates by time then row and sums the diffs of equal
// (row, time) pairs, dropping those that sum to zero. It reuses the slice.
func Consolidate(us []Update) []Update {
	sort.Slice(us, func(i, j int) bool {
		if us[i].Time != us[j].Time {
			return us[i].Time < us[j].Time
		}
		return us[i].Row.Compare(us[j].Row) < 0
	})
	out := us[:0]
	for _, u := range us {
		if n := len(out); n > 0 && out[n-1].Time == u.Time && out[n-1].Row.Equal(u.Row) {
			out[n-1].Diff += u.Diff
			continue
		}
		if n := len(out); n > 0 && out[n-1].Diff == 0 {
			out[n-1] = u
			continue
		}
		out = append(out, u)
	}
	if n := len(out); n > 0 && out[n-1].Diff == 0 {
		out = out[:n-1]
	}
	return out
}

// ConsolidateErrors is Consolidate for error updates.
func ConsolidateErrors(us []ErrorUpdate) []ErrorUpdate {
	sort.Slice(us, func(i, j int) bool {
		if us[i].Time != us[j].Time {
			return us[i].Time < us[j].Time
		}
		return us[i].Err < us[j].Err
	})
	out := us[:0]
	for _, u := range us {
		if n := len(out); n > 0 && out[n-1].Time == u.Time && out[n-1].Err == u.Err {
			out[n-1].Diff += u.Diff
			continue
		}
		if n := len(out); n > 0 && out[n-1].Diff == 0 {
			out[n-1] = u
			continue
		}
		out = append(out, u)
	}
	if n := len(out); n > 0 && out[n-1].Diff == 0 {
		out = out[:n-1]
	}
	return out
}

// errDiff is an error message with a multiplicity, at an implied time.
type errDiff struct {
	err  string
	diff int64
}

func consolidateErrs(es []errDiff) []errDiff {
	if len(es) <= 1 {
		if len(es) == 1 && es[0].diff == 0 {
			return es[:0]
		}
		return es
	}
	sort.Slice(es, func(i, j int) bool { return es[i].err < es[j].err })
	out := es[:0]
	for _, e := range es {
		if n := len(out); n > 0 && out[n-1].err == e.err {
			out[n-1].diff += e.diff
			continue
		}
		if n := len(out); n > 0 && out[n-1].diff == 0 {
			out[n-1] = e
			continue
		}
		out = append(out, e)
	}
	if n := len(out); n > 0 && out[n-1].diff == 0 {
		out = out[:n-1]
	}
	return out
}

package kvshard

import (
	"context"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// ReadRange implements persistence.Shard.
func (s *shard) ReadRange(ctx context.Context, lo, hi timely.Timestamp) ([]persistence.Update, error) {
	const op = "read range"
	if err := s.check(op); err != nil {
		return nil, err
	}
	if lo >= hi {
		return nil, nil
	}
	st, err := s.readWindow(ctx, op, lo, timely.At(hi), true)
	if err != nil {
		return nil, err
	}
	if !st.since.LessEqual(timely.At(lo)) {
		return nil, &persistence.SinceError{AsOf: timely.At(lo), Since: st.since}
	}
	if st.upper.Admits(hi - 1) {
		return nil, &persistence.NotYetReadableError{AsOf: hi - 1, Upper: st.upper}
	}
	var out []persistence.Update
	for _, b := range st.batches {
		for _, u := range b.updates {
			if !st.below && u.Ts < lo {
				continue
			}
			u.Ts = advance(u.Ts, st.since)
			if lo <= u.Ts && u.Ts < hi {
				out = append(out, u)
			}
		}
	}
	return persistence.ConsolidateByTime(out), nil
}

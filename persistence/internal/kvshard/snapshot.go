package kvshard

import (
	"context"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Snapshot implements persistence.Shard.
func (s *shard) Snapshot(ctx context.Context, asOf timely.Timestamp) ([]persistence.Update, error) {
	const op = "snapshot"
	if err := s.check(op); err != nil {
		return nil, err
	}
	// Every update at a time <= asOf lives in a batch with lower <= asOf.
	st, err := s.readState(ctx, op, s.keys.batchesThrough(asOf))
	if err != nil {
		return nil, err
	}
	if !st.since.Admits(asOf) {
		return nil, &persistence.SinceError{AsOf: timely.At(asOf), Since: st.since}
	}
	if st.upper.Admits(asOf) {
		return nil, &persistence.NotYetReadableError{AsOf: asOf, Upper: st.upper}
	}
	var out []persistence.Update
	for _, b := range st.batches {
		for _, u := range b.updates {
			if u.Ts <= asOf { // since <= asOf, so advancing cannot change this
				u.Ts = asOf
				out = append(out, u)
			}
		}
	}
	return persistence.Consolidate(out), nil
}

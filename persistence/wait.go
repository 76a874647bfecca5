package persistence

import (
	"context"
	"errors"
	"io"

	"github.com/arbor-db/arbor/timely"
)

// WaitForUpper blocks until the shard's upper is beyond t (so a Snapshot at t
// is complete) and returns that upper. It returns ctx.Err() when ctx ends
// first and *SinceError if t is already before the since.
func WaitForUpper(ctx context.Context, s Shard, t timely.Timestamp) (timely.Frontier, error) {
	upper, err := s.Upper(ctx)
	if err != nil {
		return timely.Frontier{}, err
	}
	if !upper.Admits(t) {
		return upper, nil
	}
	// Listen from the current upper: only progress past it matters, and the
	// since cannot be ahead of a position nobody has read yet... unless it
	// is, in which case listening from the since is equally good.
	since, err := s.Since(ctx)
	if err != nil {
		return timely.Frontier{}, err
	}
	l, err := s.Listen(ctx, upper.Join(since))
	if err != nil {
		return timely.Frontier{}, err
	}
	defer l.Close()
	for {
		ev, err := l.Next(ctx)
		if errors.Is(err, io.EOF) {
			return timely.Closed(), nil
		}
		if err != nil {
			return timely.Frontier{}, err
		}
		if !ev.Progress.Admits(t) {
			return ev.Progress, nil
		}
	}
}

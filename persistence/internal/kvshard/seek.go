package kvshard

import (
	"context"

	"github.com/arbor-db/arbor/timely"
)

// readWindow reads, from one consistent state, the upper, the since and
// every batch that may hold an update at a time in [from, hi) (a closed hi
// has no bound). It costs the batches that overlap the window, not the
// shard's history: it seeks to the batch that straddles from through the
// end index (see the package doc) instead of scanning from lower 0. The
// caller checks the since and the upper against the window.
//
// When from is at or below the since, every batch below from is needed
// (reads advance their times to the since), and so is everything on a shard
// whose older batches carry no end key; both read from lower 0.
func (s *shard) readWindow(ctx context.Context, op string, from timely.Timestamp, hi timely.Frontier) (state, error) {
	// First read: the batches from `from` on, and where the seek would
	// start. Most reads from an upper (a listener resuming at a checkpoint)
	// find no straddling batch and stop here.
	st, extra, err := s.readStateWith(ctx, op, s.keys.batchesBetween(from, hi),
		single(s.keys.Indexed()), s.keys.firstEndAfter(from))
	if err != nil {
		return state{}, err
	}
	if !st.since.LessEqual(timely.At(from)) {
		return st, nil // the caller refuses the read
	}
	start, err := s.seekStart(st, from, value(extra[0]), extra[1])
	if err != nil {
		return state{}, err
	}
	for start < from {
		// Second read, from one state again. Batches are immutable until
		// compaction, which rewrites only batches ending at or below the
		// since; a batch appended since the first read starts at or after
		// the upper that read saw, and start is at most that upper.
		if st, err = s.readState(ctx, op, s.keys.batchesBetween(start, hi)); err != nil {
			return state{}, err
		}
		if start == 0 || !reaches(st.since, from) {
			return st, nil
		}
		start = 0 // the since moved up to from meanwhile: read it all
	}
	return st, nil
}

// seekStart returns the least lower whose batch can hold an update at a time
// >= from in state st (whose since is <= from), given the value of the
// indexed key and the first end key after from (both from st's read).
func (s *shard) seekStart(st state, from timely.Timestamp, indexed []byte, next []KeyValue) (timely.Timestamp, error) {
	if reaches(st.since, from) {
		return 0, nil // contents as of since: every batch below it
	}
	if indexed == nil {
		return 0, nil // written before the index existed: scan
	}
	s.indexed.Store(true) // appends on this handle need not create it
	complete, err := decodeTime(indexed)
	if err != nil {
		return 0, s.corrupt(s.keys.Indexed(), err)
	}
	if from < complete {
		return 0, nil // the batches below complete carry no end key
	}
	start := from
	if len(next) > 0 {
		lower, err := decodeTime(next[0].Value)
		if err != nil {
			return 0, s.corrupt(next[0].Key, err)
		}
		start = min(start, lower)
	}
	// A batch appended after this read starts at the upper it saw.
	if u, ok := st.upper.Time(); ok {
		start = min(start, u)
	}
	return start, nil
}

// reaches reports whether the since is at or past t.
func reaches(since timely.Frontier, t timely.Timestamp) bool {
	return !since.LessThan(timely.At(t))
}

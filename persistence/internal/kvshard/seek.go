package kvshard

import (
	"context"

	"github.com/arbor-db/arbor/timely"
)

// window is what readWindow read: one consistent state, and whether the
// read includes the contents below from (as of the since).
type window struct {
	state
	// below: the since reached from and the caller asked for the contents
	// as of since, so every batch below from was read and the caller
	// advances times to the since before cutting at from. Otherwise the
	// batches wholly below from were left out and the caller cuts at from
	// by each update's own time.
	below bool
}

// readWindow reads, from one consistent state, the upper, the since and
// every batch that may hold an update at a time in [from, hi) (a closed hi
// has no bound). It costs the batches that overlap the window, not the
// shard's history: it seeks to the batch that straddles from through the
// end index (see the package doc) instead of scanning from lower 0. The
// caller checks the since and the upper against the window.
//
// When below is set and the since is at from, the contents as of since
// are wanted: every batch below from is read (from lower 0), and the
// result's below is set. A shard whose older batches carry no end key is
// also read from lower 0.
func (s *shard) readWindow(ctx context.Context, op string, from timely.Timestamp, hi timely.Frontier, below bool) (window, error) {
	// First read: the batches from `from` on, and where the seek would
	// start. Most reads from an upper (a listener resuming at a checkpoint)
	// find no straddling batch and stop here.
	st, extra, err := s.readStateWith(ctx, op, s.keys.batchesBetween(from, hi),
		single(s.keys.Indexed()), s.keys.firstEndAfter(from))
	if err != nil {
		return window{}, err
	}
	if !st.since.LessEqual(timely.At(from)) || !timely.At(from).LessThan(st.upper) {
		// The caller refuses the read (since), or nothing at or after from
		// is complete yet: a listener waits (and stays cheap per wake-up),
		// a range read is not yet readable.
		return window{state: st, below: below && reaches(st.since, from)}, nil
	}
	start, err := s.seekStart(st, from, below, value(extra[0]), extra[1])
	if err != nil {
		return window{}, err
	}
	for start < from {
		// Second read, from one state again. Batches are immutable until
		// compaction, which rewrites only batches ending at or below the
		// since, and one appended since the first read starts at or after
		// the upper that read saw, which was past from.
		if st, err = s.readState(ctx, op, s.keys.batchesBetween(start, hi)); err != nil {
			return window{}, err
		}
		if start == 0 || !(below && reaches(st.since, from)) {
			break
		}
		start = 0 // the since moved up to from meanwhile: read it all
	}
	w := window{state: st, below: below && reaches(st.since, from)}
	if !w.below {
		// A batch ending at or below from holds no update at or after it
		// (the compacted batch included: its times are at an older since).
		kept := w.batches[:0]
		for _, b := range w.batches {
			if timely.At(from).LessThan(b.upper) {
				kept = append(kept, b)
			}
		}
		w.batches = kept
	}
	return w, nil
}

// seekStart returns the least lower whose batch can hold an update wanted
// by readWindow in state st (whose since is <= from < upper), given the
// value of the indexed key and the first end key after from (both from
// st's read).
func (s *shard) seekStart(st state, from timely.Timestamp, below bool, indexed []byte, next []KeyValue) (timely.Timestamp, error) {
	if below && reaches(st.since, from) {
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
	if len(next) == 0 {
		return from, nil
	}
	lower, err := decodeTime(next[0].Value)
	if err != nil {
		return 0, s.corrupt(next[0].Key, err)
	}
	return min(from, lower), nil
}

// reaches reports whether the since is at or past t.
func reaches(since timely.Frontier, t timely.Timestamp) bool {
	return !since.LessThan(timely.At(t))
}

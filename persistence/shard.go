package persistence

import (
	"context"

	"github.com/arbor-db/arbor/timely"
)

// Update is one change to a shard: (Key, Value) gains Diff copies at time Ts.
// A negative Diff is a retraction. Key and Value are opaque bytes; callers
// must not modify slices they passed in or received.
type Update struct {
	Key   []byte
	Value []byte
	Ts    timely.Timestamp
	Diff  int64
}

// Shard is a durable, totally ordered log of updates with a since and an
// upper. A Shard value is a handle: several handles (in one process or, for
// the etcd backend, in several) may name the same durable shard, and every
// method is safe for concurrent use. All durable state changes go through
// CompareAndAppend and DowngradeSince, both of which are atomic.
type Shard interface {
	// CompareAndAppend appends updates atomically iff the shard's upper
	// equals expectedUpper, and advances the upper to newUpper.
	//
	// Every update's Ts must satisfy expectedUpper <= Ts < newUpper, and
	// newUpper must be strictly greater than expectedUpper (newUpper may be
	// timely.Closed(), after which no append can ever succeed). A violation
	// returns an error wrapping ErrInvalidUpdate or ErrInvalidUpper before
	// the upper is even compared. An empty updates slice is valid and only
	// advances the upper.
	//
	// When the upper differs it returns *UpperMismatchError carrying the
	// current upper, and nothing is written. Any other error (context,
	// backend) leaves the outcome unknown: the append may or may not have
	// become durable; read Upper to find out.
	CompareAndAppend(ctx context.Context, updates []Update, expectedUpper, newUpper timely.Frontier) error

	// Snapshot returns the contents as of asOf: every update with
	// Ts <= asOf, its time set to asOf, diffs of equal (key, value) summed,
	// zero sums dropped, sorted by key then value.
	//
	// It requires since <= asOf < upper and never waits: asOf < since
	// returns *SinceError, asOf >= upper returns *NotYetReadableError (wait
	// for progress with Listen or WaitForUpper, then retry).
	Snapshot(ctx context.Context, asOf timely.Timestamp) ([]Update, error)

	// Listen returns a Listener that yields the updates with Ts >= from, in
	// time order, batch by batch as appends happen, each batch carrying the
	// shard's new upper as progress. It requires since <= from, else
	// *SinceError. Because history below since is compacted into since,
	// listening from exactly since yields the contents as of since at time
	// since, followed by every later change.
	//
	// Listen reads the shard once before returning, so the since check and
	// the first event come from one state (a since that moves afterwards
	// cannot change what the first event holds); it can therefore also
	// return *CorruptError. From may be ahead of the upper: the first event
	// then comes once the upper passes from, and holds the updates at or
	// after from of every batch appended meanwhile, including one that
	// straddles from. It holds the contents as of since only if the since
	// was at from when Listen read. The listener must be closed; closing the shard
	// handle also closes every listener it made.
	Listen(ctx context.Context, from timely.Frontier) (Listener, error)

	// ReadRange returns the updates with lo <= Ts < hi, in time order and
	// consolidated per time: what a Listen from lo would yield, cut at hi,
	// read from one consistent state. It never waits: it requires
	// since <= lo, else *SinceError, and hi <= upper, else
	// *NotYetReadableError (AsOf hi-1). An empty range (lo >= hi) returns
	// nothing. As with Listen, reading from exactly since yields the
	// contents as of since at since.
	//
	// Its cost is that of the batches overlapping [lo, hi), not of the
	// shard's history (Listen's first read, from its from to the upper,
	// costs the same way). Reading from the since also reads every batch
	// below it, which compaction keeps bounded.
	ReadRange(ctx context.Context, lo, hi timely.Timestamp) ([]Update, error)

	// Upper returns the shard's current upper: every update still to come
	// has a time >= upper. A fresh shard's upper is timely.Minimum().
	Upper(ctx context.Context) (timely.Frontier, error)

	// Since returns the shard's current since: reads at times >= since are
	// exact. A fresh shard's since is timely.Minimum().
	Since(ctx context.Context) (timely.Frontier, error)

	// DowngradeSince advances the since to the given frontier and compacts
	// history below it: updates at times < since are treated as (and may be
	// physically rewritten to) time since, with equal (key, value, time)
	// consolidated. The since never regresses: a frontier <= the current
	// since is a no-op that returns nil. The since may run ahead of the
	// upper. Downgrading past the position of an open Listener makes that
	// listener fail with *SinceError.
	DowngradeSince(ctx context.Context, since timely.Frontier) error

	// Close releases the handle and closes its listeners. It does not
	// change durable state. Later calls on the handle return ErrClosed.
	Close() error
}

// ListenEvent is one step of a Listener: the updates that became durable
// since the previous event, then progress.
type ListenEvent struct {
	// Updates are sorted by time, then key, then value, and consolidated
	// per time. Every update's Ts is >= the previous event's Progress (or the
	// listen's from) and < Progress. Empty when only the upper advanced.
	Updates []Update
	// Progress is the shard's upper after these updates: the listener will
	// never yield an update with a time before it.
	Progress timely.Frontier
}

// Listener yields a shard's changes in time order. It is not safe for
// concurrent use: one owner (typically one actor, or one goroutine that an
// actor owns) calls Next. A Listener owns no goroutines of its own; a
// blocked Next returns when ctx is done or the listener is closed.
type Listener interface {
	// Next blocks until the shard's upper passes the previous event's
	// Progress (or the listen's from) and returns the new updates and
	// progress. After the event whose Progress is timely.Closed() it returns
	// io.EOF. It returns ctx.Err() when ctx ends, ErrClosed after Close, and
	// *SinceError if the since was downgraded past the listener's position.
	Next(ctx context.Context) (ListenEvent, error)
	// Close releases the listener's resources. It is idempotent.
	Close() error
}

// Store is one backend instance holding any number of named shards: a
// directory for pebble, a key prefix for etcd, a map for mem. Shards of one
// Store are independent; handles to the same name see the same shard.
type Store interface {
	// OpenShard returns a handle to the shard called name, creating it
	// empty (since and upper at timely.Minimum()) if it does not exist.
	// Opening writes nothing. A name is 1–128 characters from
	// [A-Za-z0-9._-]; anything else returns an error wrapping
	// ErrInvalidShardName.
	OpenShard(ctx context.Context, name string) (Shard, error)
	// Close releases the backend (closing the database or client it owns).
	// Handles and listeners opened from it must be closed first; later calls
	// return ErrClosed.
	Close() error
}

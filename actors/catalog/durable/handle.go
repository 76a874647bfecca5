package durable

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// DefaultMaxOpenAttempts bounds how often a writable open retries its fence
// write after losing a compare-and-append race.
const DefaultMaxOpenAttempts = 100

// Config says which shards hold the catalog and how to open it.
type Config struct {
	// Catalog is the shard of catalog updates; Version the separate shard
	// holding the catalog format version. Both are owned by the caller,
	// who closes them after the handle is done.
	Catalog, Version persistence.Shard
	// Mode is Writable, Savepoint or ReadOnly.
	Mode Mode
	// DeployGeneration is this process's deployment generation.
	DeployGeneration uint64
	// BuildVersion is the catalog format version of this build
	// (CurrentVersion when zero); MinSupportedVersion the oldest it opens
	// (the package constant when zero). Tests override both.
	BuildVersion, MinSupportedVersion uint64
	// Clock stamps audit events (clock.Real() when nil).
	Clock clock.Clock
	// MaxOpenAttempts bounds open retries (DefaultMaxOpenAttempts when 0).
	MaxOpenAttempts int
}

// Handle is an open catalog. It holds the catalog's state at its upper and
// its FenceableToken. A Handle is not safe for concurrent use: one owner
// (the guardian actor) serializes every call.
//
// Every read (Snapshot, Transaction, ConfirmLeadership) first syncs to the
// shard's current upper, so a writable handle notices a newer writer there;
// a commit is one compare-and-append at the handle's upper, and a lost race
// syncs and reports the fence. Once fenced, every call returns the same
// *FenceError.
type Handle struct {
	// Constant after Open.
	catalog, version persistence.Shard
	mode             Mode
	clock            clock.Clock

	state *state
	upper timely.Frontier
	token FenceableToken
	syncs uint64
}

// Open opens the catalog. It checks the version guard first; a writable open
// then syncs and appends a fence token larger than any before it, retrying
// on upper mismatch, so every earlier writer is fenced; a savepoint open
// makes that token in memory only; a read-only open writes nothing at all
// (not even to the version shard) and so fences nobody.
//
// Errors: *VersionError; *FenceError (DeployGeneration when the catalog
// belongs to a newer generation, MigrationUpper when a newer build migrates
// the version shard concurrently); ErrCorrupt / ErrInconsistent for
// unreadable catalog contents; ErrBackend otherwise.
func Open(ctx context.Context, cfg Config) (*Handle, error) {
	if cfg.Catalog == nil || cfg.Version == nil {
		return nil, fmt.Errorf("open catalog: %w: both the catalog and the version shard are required", ErrInvalid)
	}
	build, minSupported := cfg.BuildVersion, cfg.MinSupportedVersion
	if build == 0 {
		build = CurrentVersion
	}
	if minSupported == 0 {
		minSupported = MinSupportedVersion
	}
	attempts := cfg.MaxOpenAttempts
	if attempts <= 0 {
		attempts = DefaultMaxOpenAttempts
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real()
	}
	if err := checkVersion(ctx, cfg.Version, cfg.Mode, build, minSupported); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	h := &Handle{catalog: cfg.Catalog, version: cfg.Version, mode: cfg.Mode, clock: clk, state: newState(), upper: timely.Minimum()}
	if err := h.syncToCurrent(ctx); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	h.token = NewFenceableToken(h.state.fenceToken(), cfg.DeployGeneration)
	switch cfg.Mode {
	case ReadOnly:
		return h, nil
	case Savepoint:
		if err := h.takeOver(ctx, false); err != nil {
			return nil, fmt.Errorf("open catalog: %w", err)
		}
		return h, nil
	case Writable:
		for i := 0; i < attempts; i++ {
			err := h.takeOver(ctx, true)
			if !errors.Is(err, ErrStaleTransaction) {
				if err != nil {
					return nil, fmt.Errorf("open catalog: %w", err)
				}
				return h, nil
			}
		}
		return nil, fmt.Errorf("open catalog: %w: gave up after %d attempts to write the fence token", ErrBackend, attempts)
	}
	return nil, fmt.Errorf("open catalog: %w: unknown mode %v", ErrInvalid, cfg.Mode)
}

// takeOver writes (or, for a savepoint, applies in memory) the next fence
// token. A lost race syncs, observes the winner's token and returns
// ErrStaleTransaction so Open retries.
func (h *Handle) takeOver(ctx context.Context, durable bool) error {
	if err := h.token.Validate(); err != nil {
		return err
	}
	next, err := h.token.Generate()
	if err != nil {
		return err
	}
	tx := h.begin()
	if err := tx.putFenceToken(next); err != nil {
		return err
	}
	ts, _ := h.upper.Time()
	updates, entries := tx.updates(ts)
	changes, err := h.state.planDecoded(updates, entries)
	if err != nil {
		return err
	}
	if durable {
		newUpper := timely.At(ts + 1)
		err := h.catalog.CompareAndAppend(ctx, updates, h.upper, newUpper)
		var mismatch *persistence.UpperMismatchError
		switch {
		case errors.As(err, &mismatch):
			if err := h.syncToCurrent(ctx); err != nil {
				return err
			}
			return fmt.Errorf("%w: fence token write lost to another writer: %w", ErrStaleTransaction, err)
		case err != nil:
			return fmt.Errorf("%w: write fence token %s: %w", ErrBackend, next, err)
		}
		h.upper = newUpper
	}
	h.state.commit(changes)
	tok, err := h.token.Transition(TokenCommitted{Token: next})
	if err != nil {
		return err
	}
	h.token = tok
	return nil
}

// Mode returns the handle's mode.
func (h *Handle) Mode() Mode { return h.mode }

// Upper returns the catalog upper the handle's state is at.
func (h *Handle) Upper() timely.Frontier { return h.upper }

// Token returns the handle's fence token. A read-only handle has none of its
// own: Token returns the durable token as of its last sync.
func (h *Handle) Token() FenceToken {
	if h.mode == ReadOnly {
		return h.state.fenceToken()
	}
	return h.token.Current()
}

// FenceableToken returns the handle's token state machine.
func (h *Handle) FenceableToken() FenceableToken { return h.token }

// Syncs counts the syncs that read new updates from the shard.
func (h *Handle) Syncs() uint64 { return h.syncs }

// Counts returns the number of catalog entries of every kind.
func (h *Handle) Counts() map[Kind]int { return h.state.countsByKind() }

// validate returns the FenceError once the handle is fenced.
func (h *Handle) validate() error {
	if h.mode != Writable {
		return nil
	}
	return h.token.Validate()
}

// refresh brings a writable or read-only handle to the shard's current upper
// and reports a fence. Savepoint handles never sync: their state is their
// own.
func (h *Handle) refresh(ctx context.Context) error {
	if err := h.validate(); err != nil {
		return err
	}
	if h.mode == Savepoint {
		return nil
	}
	if err := h.syncToCurrent(ctx); err != nil {
		return err
	}
	return h.validate()
}

// ConfirmLeadership checks, without writing, that no newer writer has taken
// the catalog: it reads the shard's upper and, if it moved, syncs. It
// returns the *FenceError once fenced.
func (h *Handle) ConfirmLeadership(ctx context.Context) error { return h.refresh(ctx) }

// Snapshot syncs and returns an immutable copy of the catalog.
func (h *Handle) Snapshot(ctx context.Context) (*Snapshot, error) {
	if err := h.refresh(ctx); err != nil {
		return nil, err
	}
	return newSnapshot(h.state, h.upper), nil
}

// Transaction syncs and begins a transaction at the handle's upper.
func (h *Handle) Transaction(ctx context.Context) (*Transaction, error) {
	if err := h.refresh(ctx); err != nil {
		return nil, err
	}
	return h.begin(), nil
}

// Begin begins a transaction at the handle's upper without reading the
// shard: the optimistic path, one round trip cheaper than Transaction. It is
// as safe: the commit's compare-and-append at that upper fails if anyone
// wrote since, and the commit then syncs and returns the *FenceError (a
// newer writer) or ErrStaleTransaction (retry with Transaction). Begin
// returns the *FenceError at once if the handle already knows it is fenced.
func (h *Handle) Begin() (*Transaction, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	return h.begin(), nil
}

func (h *Handle) begin() *Transaction {
	return &Transaction{h: h, upper: h.upper, v: view{base: h.state, overlay: map[string]*entry{}}, writer: h.token.Current(), now: h.clock.Now()}
}

// AllocateIds reserves n ids from the named allocator in a transaction of
// its own and returns the first.
func (h *Handle) AllocateIds(ctx context.Context, allocator string, n uint64) (uint64, error) {
	tx, err := h.Transaction(ctx)
	if err != nil {
		return 0, err
	}
	first, err := tx.AllocateIds(allocator, n)
	if err != nil {
		tx.Abort()
		return 0, err
	}
	if _, err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return first, nil
}

// commit is Transaction.Commit. The outcomes:
//   - nil: durable (Writable) or applied in memory (Savepoint); the new
//     upper is returned.
//   - *FenceError: a newer writer owns the catalog; nothing was written.
//   - ErrStaleTransaction: the catalog moved since the transaction began;
//     nothing was written.
//   - ErrReadOnly: a non-empty transaction on a read-only handle.
//   - ErrBackend: the outcome is unknown; the next call resyncs.
func (h *Handle) commit(ctx context.Context, tx *Transaction) (timely.Frontier, error) {
	if tx.h != h {
		return timely.Frontier{}, fmt.Errorf("commit: %w: transaction belongs to another handle", ErrInvalid)
	}
	if err := h.validate(); err != nil {
		return timely.Frontier{}, err
	}
	if !tx.upper.Equal(h.upper) {
		return timely.Frontier{}, fmt.Errorf("commit: %w: began at upper %s, catalog is at %s", ErrStaleTransaction, tx.upper, h.upper)
	}
	ts, ok := h.upper.Time()
	if !ok {
		return timely.Frontier{}, fmt.Errorf("commit: %w: catalog shard is closed", ErrCorrupt)
	}
	updates, entries := tx.updates(ts)
	if len(updates) == 0 {
		return h.upper, nil
	}
	if h.mode == ReadOnly {
		return timely.Frontier{}, fmt.Errorf("commit: %w: %d updates", ErrReadOnly, len(updates))
	}
	changes, err := h.state.planDecoded(updates, entries)
	if err != nil {
		return timely.Frontier{}, fmt.Errorf("commit: %w", err)
	}
	if h.mode == Savepoint {
		h.state.commit(changes)
		return h.upper, nil
	}
	newUpper := timely.At(ts + 1)
	err = h.catalog.CompareAndAppend(ctx, updates, h.upper, newUpper)
	var mismatch *persistence.UpperMismatchError
	switch {
	case err == nil:
		h.state.commit(changes)
		h.upper = newUpper
		return newUpper, nil
	case errors.As(err, &mismatch):
		if err := h.syncToCurrent(ctx); err != nil {
			return timely.Frontier{}, fmt.Errorf("commit: %w", err)
		}
		if err := h.validate(); err != nil {
			return timely.Frontier{}, err
		}
		return timely.Frontier{}, fmt.Errorf("commit: %w: %w", ErrStaleTransaction, err)
	default:
		return timely.Frontier{}, fmt.Errorf("commit: %w: outcome unknown: %w", ErrBackend, err)
	}
}

// syncToCurrent reads the shard's upper and, if it moved, applies every
// update between the handle's upper and it. A writable handle then feeds
// the durable fence token to its FenceableToken.
func (h *Handle) syncToCurrent(ctx context.Context) error {
	upper, err := h.catalog.Upper(ctx)
	if err != nil {
		return fmt.Errorf("%w: read catalog upper: %w", ErrBackend, err)
	}
	if upper.Equal(h.upper) {
		return nil
	}
	if upper.IsEmpty() {
		return fmt.Errorf("%w: catalog shard is closed", ErrCorrupt)
	}
	if upper.LessThan(h.upper) {
		return fmt.Errorf("%w: catalog upper went back from %s to %s", ErrCorrupt, h.upper, upper)
	}
	if err := h.syncTo(ctx, upper); err != nil {
		return err
	}
	h.syncs++
	if h.mode == Writable {
		tok, err := h.token.Transition(TokenObserved{Token: h.state.fenceToken()})
		if err != nil {
			return err
		}
		h.token = tok
	}
	return nil
}

// syncTo listens from the handle's upper until progress reaches target,
// applying each batch. History compacted past the handle's upper (or, for a
// fresh handle, past the minimum) forces a reload from the since.
func (h *Handle) syncTo(ctx context.Context, target timely.Frontier) error {
	from := h.upper
	l, err := h.catalog.Listen(ctx, from)
	var sinceErr *persistence.SinceError
	if errors.As(err, &sinceErr) {
		// Our position was compacted away: start over from the since, whose
		// first event holds the whole catalog as of the since.
		h.state, h.upper = newState(), timely.Minimum()
		from = sinceErr.Since
		l, err = h.catalog.Listen(ctx, from)
	}
	if err != nil {
		return fmt.Errorf("%w: listen to catalog from %s: %w", ErrBackend, from, err)
	}
	defer l.Close()
	for h.upper.LessThan(target) {
		ev, err := l.Next(ctx)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: catalog shard is closed", ErrCorrupt)
		}
		if err != nil {
			return fmt.Errorf("%w: read catalog updates from %s: %w", ErrBackend, h.upper, err)
		}
		if err := h.state.apply(ev.Updates); err != nil {
			return fmt.Errorf("sync catalog at %s: %w", ev.Progress, err)
		}
		h.upper = ev.Progress
	}
	return nil
}

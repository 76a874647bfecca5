package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Writer fencing, for storage that two environment processes share (its
// shards on etcd, docs/deploy.md). The catalog decides who may write
// (its (deploy generation, epoch) fence token); storage makes sure the
// loser's writes cannot land:
//
//   - A fenced storage actor (Config.Fence set) commits every group
//     through the commit log (commit_log.go), so the log's
//     compare-and-append is the one commit point of every write.
//   - When it opens writable it records its token in the log (the fence
//     record) with a compare-and-append that also retracts the last logged
//     group, after completing that group on every table. An older writer's
//     next log append then finds another upper and fails: its group was
//     never committed and nothing of it is written (its table appends come
//     after the log's). Its answer is a *FenceError naming both tokens, and
//     the actor refuses every later write with it.
//   - An open that finds a newer token in the log fails the same way.
//
// A read-only storage actor (Config.ReadOnly) writes nothing: no group
// commits, table changes, collection appends, compaction or recovery
// appends; on each maintenance tick it follows the writer's commits
// (follow). Promote turns it writable with the token the catalog's writable
// open gave the node: it reopens its shards (recovery completes the old
// writer's last group and writes the fence record) and replays to every
// subscription the versions written since it opened.

// fenceKey is the commit log key of the fence record; its first byte is no
// id kind, so it is never a table's log key.
var fenceKey = []byte{0, 'f', 'e', 'n', 'c', 'e'}

func isFenceKey(k []byte) bool { return string(k) == string(fenceKey) }

func encodeFence(t durable.FenceToken) []byte {
	b := binary.BigEndian.AppendUint64(nil, t.DeployGeneration)
	return binary.BigEndian.AppendUint64(b, uint64(t.Epoch))
}

func decodeFence(b []byte) (durable.FenceToken, error) {
	if len(b) != 16 {
		return durable.FenceToken{}, fmt.Errorf("fence record of %d bytes, want 16", len(b))
	}
	return durable.FenceToken{DeployGeneration: binary.BigEndian.Uint64(b), Epoch: int64(binary.BigEndian.Uint64(b[8:]))}, nil
}

// FenceError is a write refused because a newer writer owns the storage:
// Current is this actor's token, Fence the newer one found in the commit
// log. It matches ErrFenced (code FENCED); nothing of the refused write was
// written.
type FenceError struct {
	Current, Fence durable.FenceToken
}

// Error names both tokens.
func (e *FenceError) Error() string {
	return fmt.Sprintf("storage: fenced by a newer environment: this writer's token is %s, the storage's is %s", e.Current, e.Fence)
}

// Unwrap returns ErrFenced.
func (e *FenceError) Unwrap() error { return ErrFenced }

// Promote turns a read-only storage actor writable: it reopens its shards
// as the writer holding Token (the token of the node's writable catalog
// open), which fences every older writer. In-process only (a Go struct);
// answered with *PromoteResult once the shards are open, or not at all if
// the reopen fails and the supervisor restarts the actor (which reopens
// writable).
type Promote struct{ Token durable.FenceToken }

// PromoteResult answers Promote: Err is nil once the actor serves writes.
type PromoteResult struct{ Err error }

// writer is how the actor writes, shared by its incarnations (New creates
// it), so a restart keeps a promotion and a fence.
type writer struct {
	mu       sync.Mutex
	readOnly bool
	token    *durable.FenceToken // nil: unfenced (a store of its own)
	fenced   error               // set once fenced; final
	onFenced func(string)
}

func newWriter(cfg Config) *writer {
	w := &writer{readOnly: cfg.ReadOnly, onFenced: cfg.OnFenced}
	if cfg.Fence != nil {
		t := *cfg.Fence
		w.token = &t
	}
	return w
}

// spec returns the mode the shards are opened in.
func (w *writer) spec() (readOnly bool, token *durable.FenceToken) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readOnly, w.token
}

func (w *writer) promote(t durable.FenceToken) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.readOnly, w.token = false, &t
}

// refusal is the error a write is refused with now, or nil.
func (w *writer) refusal() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.fenced != nil:
		return w.fenced
	case w.readOnly:
		return errorf(ErrReadOnly, "this node awaits promotion")
	}
	return nil
}

// fence records err (a *FenceError) for good and tells the node, once.
func (w *writer) fence(err error) {
	w.mu.Lock()
	first := w.fenced == nil
	if first {
		w.fenced = err
	}
	f := w.onFenced
	w.mu.Unlock()
	if first && f != nil {
		f(err.Error() + "; halting")
	}
}

func (w *writer) fencedErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fenced
}

// splitFence takes the fence record out of the log's last group.
func splitFence(group []persistence.Update) ([]persistence.Update, *persistence.Update) {
	var fence *persistence.Update
	out := group[:0:0]
	for i := range group {
		if isFenceKey(group[i].Key) {
			fence = &group[i]
			continue
		}
		out = append(out, group[i])
	}
	return out, fence
}

// writeFence records token in the commit log at the common upper (every
// table there) and brings the log and every live table to upper+1,
// retracting the last logged group and the previous fence record, so the
// log then holds the fence record alone. tables are the live tables (not
// collections, which keep their own upper). It returns the new common
// upper.
func (sh *shards) writeFence(ctx context.Context, upper timely.Frontier, tables []timely.GlobalId, group []persistence.Update, old *persistence.Update, token durable.FenceToken) (timely.Frontier, error) {
	ut, ok := upper.Time()
	if !ok {
		return timely.Frontier{}, fmt.Errorf("%w: the common upper is closed", persistence.ErrCorrupt)
	}
	next := timely.At(ut + 1)
	var ups []persistence.Update
	for _, u := range group {
		ups = append(ups, persistence.Update{Key: u.Key, Value: u.Value, Ts: ut, Diff: -u.Diff})
	}
	if old != nil {
		ups = append(ups, persistence.Update{Key: old.Key, Value: old.Value, Ts: ut, Diff: -old.Diff})
	}
	ups = append(ups, persistence.Update{Key: fenceKey, Value: encodeFence(token), Ts: ut, Diff: 1})
	if err := sh.txns.CompareAndAppend(ctx, ups, sh.txnsUpper, next); err != nil {
		var mismatch *persistence.UpperMismatchError
		if errors.As(err, &mismatch) {
			return timely.Frontier{}, fmt.Errorf("%w: write the fence record: another writer appended the commit log: %w", ErrBackend, err)
		}
		return timely.Frontier{}, fmt.Errorf("%w: write the fence record: %w", ErrBackend, err)
	}
	sh.txnsUpper = next
	for _, id := range tables {
		if err := sh.tables[id].CompareAndAppend(ctx, nil, upper, next); err != nil {
			return timely.Frontier{}, fmt.Errorf("%w: advance table %s past the fence record: %w", ErrBackend, id, err)
		}
	}
	return next, nil
}

// fenceOf reads the fence record the commit log holds now (for naming the
// newer writer after a lost log append); ok is false when it holds none or
// cannot be read.
func (sh *shards) fenceOf(ctx context.Context) (durable.FenceToken, bool) {
	upper, err := sh.txns.Upper(ctx)
	if err != nil {
		return durable.FenceToken{}, false
	}
	latest, ok := upper.StepBack()
	if !ok {
		return durable.FenceToken{}, false
	}
	t, _ := latest.Time()
	group, err := sh.txns.Snapshot(ctx, t)
	if err != nil {
		return durable.FenceToken{}, false
	}
	_, rec := splitFence(group)
	if rec == nil {
		return durable.FenceToken{}, false
	}
	tok, err := decodeFence(rec.Value)
	return tok, err == nil
}

// asFence classifies a failed commit log append: for a fenced writer
// (token set) a lost compare-and-append is a *FenceError, since only
// another writer moves the log; anything else is a backend error or
// timeout naming op.
func (sh *shards) asFence(ctx context.Context, token *durable.FenceToken, op string, err error) error {
	var mismatch *persistence.UpperMismatchError
	if token == nil || !errors.As(err, &mismatch) {
		return backendError(ctx, sh.timeout, op+": append the commit log", err)
	}
	fe := &FenceError{Current: *token}
	if tok, ok := sh.fenceOf(ctx); ok {
		fe.Fence = tok
	}
	return fe
}

// refuseWrite answers a write, table change or collection append with
// the writer's refusal (read-only or fenced) and reports whether it did.
func (a *storageActor) refuseWrite(m any, respond func(any)) bool {
	switch m.(type) {
	case *messages.StorageWrite, *messages.StorageCreateTable, *messages.StorageDropTable,
		*messages.StorageCreateCollection, *messages.StorageAppend:
	default:
		return false
	}
	err := a.writer.refusal()
	if err == nil {
		return false
	}
	if _, ok := m.(*messages.StorageWrite); ok {
		a.rejectWrite(nil, err)
	}
	respond(failedResponse(m, messages.ErrorToWire(err)))
	return true
}

// follow brings a read-only actor up to the writer it shares the shards
// with, on each maintenance tick: it reads every live table's since and
// upper, and when the least upper moved, the versions in between, which it
// publishes to the subscriptions (so replicas hydrating on a read-only node
// keep up). Tables the writer created since are picked up at promotion.
// The shard reads run in the actor's turn, each under CallTimeout, like a
// subscription's replay; a failed read leaves the state where it was and
// the next tick tries again.
func (a *storageActor) follow(ctx actor.Context) {
	tables := a.state.LiveTables()
	if a.shards == nil || len(tables) == 0 {
		return
	}
	cctx, cancel := a.call()
	defer cancel()
	var upper timely.Frontier
	for i, id := range tables {
		s := a.shards.tables[id]
		u, err := s.Upper(cctx)
		if err == nil {
			var since timely.Frontier
			if since, err = s.Since(cctx); err == nil {
				if st, ok := since.Time(); ok {
					a.state.ApplySince(id, st)
				}
			}
		}
		if err != nil {
			a.cfg.Logger.Warn("read-only: cannot read a table's frontiers", "table", id, "err", err)
			return
		}
		if i == 0 {
			upper = u
		}
		upper = upper.Meet(u)
	}
	if !a.state.Upper().LessThan(upper) {
		return
	}
	lo, _ := a.state.Upper().Time()
	hi, ok := upper.Time()
	if !ok {
		return
	}
	starts := make([]timely.Timestamp, len(tables))
	for i := range starts {
		starts[i] = lo
	}
	vs, err := readPlan(cctx, a.cfg.CallTimeout, RangePlan{Tables: tables, Starts: starts, CompleteTo: hi}, a.handles(tables), false)
	if err != nil {
		a.cfg.Logger.Warn("read-only: cannot read the writer's new versions", "from", lo, "to", hi, "err", err)
		return
	}
	a.deliver(ctx, a.state.Follow(vs, upper))
	a.refreshGauges()
}

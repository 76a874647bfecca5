package runtime

import (
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// SinkPhase is what a materialized view's sink is waiting for.
type SinkPhase uint8

const (
	// SinkIdle: no request in flight.
	SinkIdle SinkPhase = iota + 1
	// SinkLearning: a StorageFrontiers call for the collection's upper is
	// in flight.
	SinkLearning
	// SinkSnapshotting: the snapshot a correction needs (the collection's
	// contents just below its upper) is in flight.
	SinkSnapshotting
	// SinkAppending: a compare-and-append is in flight.
	SinkAppending
	// SinkOff: storage does not know the collection or refuses writes to
	// it from here; the sink appends nothing more. Final.
	SinkOff
	// SinkDropped: the sink's flow was dropped or rebuilt. Final.
	SinkDropped
)

// String names the phase.
func (p SinkPhase) String() string {
	switch p {
	case SinkIdle:
		return "idle"
	case SinkLearning:
		return "learning"
	case SinkSnapshotting:
		return "snapshotting"
	case SinkAppending:
		return "appending"
	case SinkOff:
		return "off"
	case SinkDropped:
		return "dropped"
	}
	return fmt.Sprintf("SinkPhase(%d)", uint8(p))
}

// SinkEvent is an input of the sink machine: one of the Sink* event
// types below.
type SinkEvent interface{ sinkEvent() }

type (
	// SinkInstalled: the coordinator accepted the sink's flow.
	SinkInstalled struct{}
	// SinkAllowWrites: the controller's AllowWrites for the sink came.
	SinkAllowWrites struct{}
	// SinkCommitted: the flow's output is committed to the output store
	// up to Checkpoint.
	SinkCommitted struct{ Checkpoint timely.Timestamp }
	// SinkKick: a chance to try again after a transient failure (CDC
	// progress).
	SinkKick struct{}
	// SinkUpperLearned answers request Seq with the collection's upper.
	SinkUpperLearned struct {
		Seq   uint64
		Upper timely.Timestamp
	}
	// SinkSnapshotTaken answers request Seq with the collection's
	// contents at SinkSnapshot.At.
	SinkSnapshotTaken struct {
		Seq  uint64
		Have []*messages.StorageRowDiff
	}
	// SinkAppended: append Seq took effect; Upper is the collection's new
	// upper.
	SinkAppended struct {
		Seq   uint64
		Upper timely.Timestamp
	}
	// SinkMismatch: append Seq found the collection at Current, not at
	// its expected upper (another replica appended first).
	SinkMismatch struct {
		Seq     uint64
		Current timely.Timestamp
	}
	// SinkFailed: request Seq failed with Err, or timed out (its outcome
	// is then unknown: an append may have taken effect).
	SinkFailed struct {
		Seq uint64
		Err error
	}
	// SinkUnread: the actor could not read the output an append of Seq
	// needs; the append was not sent.
	SinkUnread struct {
		Seq uint64
		Err error
	}
	// SinkDrop: the flow is dropped or rebuilt.
	SinkDrop struct{}
)

func (SinkInstalled) sinkEvent()     {}
func (SinkAllowWrites) sinkEvent()   {}
func (SinkCommitted) sinkEvent()     {}
func (SinkKick) sinkEvent()          {}
func (SinkUpperLearned) sinkEvent()  {}
func (SinkSnapshotTaken) sinkEvent() {}
func (SinkAppended) sinkEvent()      {}
func (SinkMismatch) sinkEvent()      {}
func (SinkFailed) sinkEvent()        {}
func (SinkUnread) sinkEvent()        {}
func (SinkDrop) sinkEvent()          {}

// SinkAppend asks the actor to send one compare-and-append of the view's
// committed output in [Lo, Hi) with expected upper Lo. When Correct is
// set, the collection is behind the flow's as_of: the append carries the
// whole view below Hi with times advanced to AsOf, less Have (the
// collection's contents at Lo-1) at AsOf, so the collection is exact from
// the as_of on.
type SinkAppend struct {
	Seq     uint64
	Lo, Hi  timely.Timestamp
	Correct bool
	AsOf    timely.Timestamp
	Have    []*messages.StorageRowDiff
}

// SinkSnapshot asks the actor to read the collection's contents at At.
type SinkSnapshot struct {
	Seq uint64
	At  timely.Timestamp
}

// SinkEffects is what the actor does after a step; at most one request.
type SinkEffects struct {
	// Learn: ask storage for the collection's upper (request Learn).
	Learn uint64
	// Snapshot, Append: the request to make, if any.
	Snapshot *SinkSnapshot
	Append   *SinkAppend
	// Report: the known upper changed: report the export's frontiers and
	// release the persist peeks it lets through.
	Report bool
	// Outcome counts the step in arbor_runtime_sink_appends_total
	// (appended, lost_race, corrected, failed); empty for none.
	Outcome string
	// Warn is a log line for the operator; Err goes with it.
	Warn string
	Err  error
}

// MVSink is the pure state of one materialized view's sink (mv_sink.go
// carries out its effects). Step is its one transition function:
//
//	            ┌──────── (installed, writes allowed, upper unknown) ─────────┐
//	            ▼                                                            │
//	idle ──► learning ──learned──► idle ──(behind as_of, lo>0)──► snapshotting
//	 ▲  │                           │                               │ taken
//	 │  └──(upper known, output)──► appending ◄──────────────────────┘
//	 │            appended / mismatch (adopt the upper) │
//	 └──────────────────────────────────────────────────┘
//	failed (timeout, storage error), unread: idle, upper unknown (not for
//	unread), stalled until the next committed, kick or AllowWrites;
//	failed (not found, dropped, refused): off.  drop: dropped from anywhere.
//
// From idle the sink makes its next request at once: learn the upper when
// unknown, else append [upper, min(checkpoint, until)) when not empty (a
// correction when the upper is behind the as_of, once the checkpoint is
// past it). An answer whose Seq is not the request in flight, or an event
// in a final phase, is an error and changes nothing.
type MVSink struct {
	// Constant after creation.
	Collection timely.GlobalId
	AsOf       timely.Timestamp
	Until      timely.Frontier

	Phase         SinkPhase
	Installed     bool
	WritesAllowed bool
	Checkpoint    timely.Timestamp
	// Upper is the collection's upper as last learned; Known says it was.
	Upper timely.Timestamp
	Known bool
	// Stalled: a request failed transiently; the sink waits for the next
	// nudge before it tries again.
	Stalled bool
	// Seq numbers the requests; the one in flight is Seq.
	Seq uint64
	// lo, hi: the range of the correction whose snapshot is in flight.
	lo, hi timely.Timestamp
}

// NewMVSink returns the sink of a view into collection, computed from
// asOf and bounded by until.
func NewMVSink(collection timely.GlobalId, asOf timely.Timestamp, until timely.Frontier) *MVSink {
	return &MVSink{Collection: collection, AsOf: asOf, Until: until, Phase: SinkIdle}
}

// KnownUpper returns the collection's upper when the sink knows it.
func (s *MVSink) KnownUpper() (timely.Timestamp, bool) { return s.Upper, s.Known }

// Step applies ev.
func (s *MVSink) Step(ev SinkEvent) (SinkEffects, error) {
	var fx SinkEffects
	if s.Phase == SinkOff || s.Phase == SinkDropped {
		if _, ok := ev.(SinkDrop); ok && s.Phase == SinkOff {
			s.Phase = SinkDropped
			return fx, nil
		}
		return fx, fmt.Errorf("view sink: %T in phase %s", ev, s.Phase)
	}
	switch e := ev.(type) {
	case SinkDrop:
		s.Phase = SinkDropped
		return fx, nil
	case SinkInstalled:
		s.Installed, s.Stalled = true, false
	case SinkAllowWrites:
		s.WritesAllowed, s.Stalled = true, false
	case SinkCommitted:
		s.Checkpoint, s.Stalled = max(s.Checkpoint, e.Checkpoint), false
	case SinkKick:
		s.Stalled = false
	case SinkUpperLearned:
		if err := s.answer(SinkLearning, e.Seq, ev); err != nil {
			return fx, err
		}
		s.Upper, s.Known, fx.Report = e.Upper, true, true
	case SinkSnapshotTaken:
		if err := s.answer(SinkSnapshotting, e.Seq, ev); err != nil {
			return fx, err
		}
		s.Phase, s.Seq = SinkAppending, s.Seq+1
		fx.Append = &SinkAppend{Seq: s.Seq, Lo: s.lo, Hi: s.hi, Correct: true, AsOf: s.AsOf, Have: e.Have}
		fx.Outcome = "corrected"
		return fx, nil
	case SinkAppended:
		if err := s.answer(SinkAppending, e.Seq, ev); err != nil {
			return fx, err
		}
		s.Upper, s.Known, fx.Report, fx.Outcome = e.Upper, true, true, "appended"
	case SinkMismatch:
		if err := s.answer(SinkAppending, e.Seq, ev); err != nil {
			return fx, err
		}
		// Another replica appended this range first: continue from where
		// the collection is.
		s.Upper, s.Known, fx.Report, fx.Outcome = e.Current, true, true, "lost_race"
	case SinkUnread:
		if err := s.answer(SinkAppending, e.Seq, ev); err != nil {
			return fx, err
		}
		s.Stalled = true
		fx.Warn, fx.Err = "materialized view sink cannot read its output; retrying", e.Err
		return fx, nil
	case SinkFailed:
		if s.Phase == SinkIdle || e.Seq != s.Seq {
			return fx, fmt.Errorf("view sink: failure of request %d, in flight %d (%s)", e.Seq, s.Seq, s.Phase)
		}
		// The outcome of the request is unknown (a timed-out append may
		// have taken effect): learn the upper again.
		s.Phase, s.Known, fx.Outcome, fx.Err = SinkIdle, false, "failed", e.Err
		if sinkPermanent(e.Err) {
			s.Phase = SinkOff
			fx.Warn = "materialized view sink stopped: its storage collection cannot be written"
			return fx, nil
		}
		s.Stalled = true
		fx.Warn = "materialized view sink request failed; retrying"
		return fx, nil
	default:
		return fx, fmt.Errorf("view sink: unknown event %T", ev)
	}
	if s.Phase == SinkIdle {
		s.next(&fx)
	}
	return fx, nil
}

// answer checks that ev answers the request in flight and makes the sink
// idle.
func (s *MVSink) answer(want SinkPhase, seq uint64, ev SinkEvent) error {
	if s.Phase != want || seq != s.Seq {
		return fmt.Errorf("view sink: %T for request %d, in flight %d (%s)", ev, seq, s.Seq, s.Phase)
	}
	s.Phase = SinkIdle
	return nil
}

// next makes the idle sink's next request, if it has one.
func (s *MVSink) next(fx *SinkEffects) {
	if !s.Installed || !s.WritesAllowed || s.Stalled {
		return
	}
	s.Seq++
	if !s.Known {
		s.Phase, fx.Learn = SinkLearning, s.Seq
		return
	}
	lo, hi := s.Upper, s.Checkpoint
	if u, ok := s.Until.Time(); ok {
		// Nothing at or after the until is appended: the collection is
		// complete there.
		hi = min(hi, u)
	}
	switch {
	case hi <= lo:
	case lo >= s.AsOf:
		s.Phase, fx.Append = SinkAppending, &SinkAppend{Seq: s.Seq, Lo: lo, Hi: hi}
		return
	case hi <= s.AsOf:
		// Behind the as_of: the flow's output there is folded into the
		// as_of, so the correction waits for the checkpoint to pass it.
	case lo == 0:
		// Nothing below 0 to take back.
		s.Phase, fx.Append, fx.Outcome = SinkAppending, &SinkAppend{Seq: s.Seq, Lo: lo, Hi: hi, Correct: true, AsOf: s.AsOf}, "corrected"
		return
	default:
		s.Phase, s.lo, s.hi = SinkSnapshotting, lo, hi
		fx.Snapshot = &SinkSnapshot{Seq: s.Seq, At: lo - 1}
		return
	}
	s.Seq-- // no request made
}

// sinkPermanent reports whether a sink's failed request means the
// collection cannot be written from here: unknown or dropped, or the
// request refused.
func sinkPermanent(err error) bool {
	for _, target := range []error{messages.ErrNotFound, messages.ErrDropped, messages.ErrInvalidArgument, messages.ErrUnknownMessage, messages.ErrMalformed} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

package runtime

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// TestMVSinkRacingReplicasProperty: several sinks of one view (replicas)
// race on one model collection under random interleavings: commits, kicks,
// answers in any order, answers lost after the append took effect or
// before. After every step no sink believes an upper storage has not
// reached and no append reaches past its sink's checkpoint; once every
// sink has committed to the end and answers stop getting lost, the
// collection reaches the end: nothing is lost, and compare-and-append
// writes no range twice. Each seed replays: a failure prints it.
func TestMVSinkRacingReplicasProperty(t *testing.T) {
	const end = 40
	for seed := int64(1); seed <= 300; seed++ {
		if err := raceSinks(seed, end); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func raceSinks(seed int64, end timely.Timestamp) error {
	r := rand.New(rand.NewSource(seed))
	coll := &sinkModel{}
	n := 2 + r.Intn(2)
	sinks := make([]*MVSink, n)
	pending := make([]*SinkEffects, n)
	step := func(i int, ev SinkEvent) error {
		fx, err := sinks[i].Step(ev)
		if err != nil {
			return fmt.Errorf("sink %d: %T: %v", i, ev, err)
		}
		if fx.Learn != 0 || fx.Snapshot != nil || fx.Append != nil {
			pending[i] = &fx
		}
		if a := fx.Append; a != nil && a.Hi > sinks[i].Checkpoint {
			return fmt.Errorf("sink %d appends [%d,%d) past its checkpoint %d", i, a.Lo, a.Hi, sinks[i].Checkpoint)
		}
		if u, ok := sinks[i].KnownUpper(); ok && u > coll.upper {
			return fmt.Errorf("sink %d believes upper %d, storage is at %d", i, u, coll.upper)
		}
		return nil
	}
	answer := func(i int, lose bool) error {
		fx := pending[i]
		pending[i] = nil
		switch {
		case fx.Learn != 0:
			if lose {
				return step(i, SinkFailed{Seq: fx.Learn, Err: ErrStorageTimeout})
			}
			return step(i, SinkUpperLearned{Seq: fx.Learn, Upper: coll.upper})
		case fx.Append != nil:
			// A lost answer: the append took effect or not.
			ok := false
			if !lose || r.Intn(2) == 0 {
				ok = coll.cas(fmt.Sprint(i), *fx.Append)
			}
			switch {
			case lose:
				return step(i, SinkFailed{Seq: fx.Append.Seq, Err: ErrStorageTimeout})
			case ok:
				return step(i, SinkAppended{Seq: fx.Append.Seq, Upper: coll.upper})
			default:
				return step(i, SinkMismatch{Seq: fx.Append.Seq, Current: coll.upper})
			}
		}
		return fmt.Errorf("sink %d: unexpected request %+v", i, fx)
	}
	for i := range sinks {
		sinks[i] = NewMVSink(timely.UserId(5), 0, timely.Closed())
		if err := step(i, SinkInstalled{}); err != nil {
			return err
		}
	}
	checkpoints := make([]timely.Timestamp, n)
	for range 400 {
		i := r.Intn(n)
		switch k := r.Intn(10); {
		case k < 3 && checkpoints[i] < end:
			checkpoints[i] = min(end, checkpoints[i]+timely.Timestamp(1+r.Intn(5)))
			if err := step(i, SinkCommitted{Checkpoint: checkpoints[i]}); err != nil {
				return err
			}
		case k < 4:
			if err := step(i, SinkAllowWrites{}); err != nil {
				return err
			}
		case k < 5:
			if err := step(i, SinkKick{}); err != nil {
				return err
			}
		case pending[i] != nil:
			if err := answer(i, r.Intn(6) == 0); err != nil {
				return err
			}
		}
	}
	// Settle: everything committed, no answer lost.
	for i := range sinks {
		for _, ev := range []SinkEvent{SinkAllowWrites{}, SinkCommitted{Checkpoint: end}, SinkKick{}} {
			if err := step(i, ev); err != nil {
				return err
			}
		}
	}
	for round := 0; round < 100; round++ {
		busy := false
		for i := range sinks {
			if pending[i] != nil {
				busy = true
				if err := answer(i, false); err != nil {
					return err
				}
			}
		}
		if !busy {
			break
		}
	}
	if coll.upper != end {
		return fmt.Errorf("collection upper %d after settling, want %d; writes %v", coll.upper, end, coll.writes)
	}
	return nil
}

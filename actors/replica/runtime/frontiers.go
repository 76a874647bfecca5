package runtime

import (
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Frontiers are the three frontiers the runtime reports for one export in
// ComputeFrontiers (Materialize's write, input and output frontiers):
//
//   - Write: the export's flow committed its output below it (its
//     checkpoint): peeks may read below it, a sink commits from it.
//   - Input: the least frontier of the export's inputs as its flow has
//     read them: while the flow backfills, its checkpoint (it reads its
//     inputs from storage from there on); once hydrated, the meet of its
//     sources' frontiers here (a table: the change-data upper the
//     coordinator consumed; a materialized view of this runtime: that
//     view's checkpoint; an imported collection: its upper), and never
//     below its checkpoint. A controller holds the export's inputs there.
//   - Output: how far the export's output reached its destination: an
//     index, its write frontier (peeks read the arrangement); a
//     materialized view, the storage collection's upper as its sink last
//     learned it; a subscribe, the upper of the last batch sent. Never
//     past the write frontier.
//
// Write and output are capped at the dataflow's until: an export whose
// frontier reaches its until is complete there, and reports no progress
// past it (the input frontier is not capped: it says what the replica
// still reads). Each frontier is reported only when it advanced
// (frontierReport), so reports never regress.
type Frontiers struct {
	Write, Input, Output timely.Frontier
}

// sourceFrontier says how far a flow's source has been fed to it: a
// table's consumed change-data upper, or a view's checkpoint.
type sourceFrontier func(pool.Source) timely.Frontier

// frontiers computes an export's current frontiers from its state (pure).
func (f *flowState) frontiers(source sourceFrontier) Frontiers {
	until := f.df.Until
	write := timely.At(f.checkpoint)
	input := write
	if f.life.Hydrated && len(f.spec.Sources) > 0 {
		input = timely.Closed()
		for _, s := range f.spec.Sources {
			input = input.Meet(source(s))
		}
		// A flow has read its inputs at least to its checkpoint (the
		// coordinator's events about a step may overtake the answer to
		// the Consume that fed it): one report then carries both.
		input = input.Join(write)
	}
	output := write
	switch {
	case f.mv != nil:
		// Nothing known of the collection yet: no progress to report.
		output = timely.Minimum()
		if upper, ok := f.mv.KnownUpper(); ok {
			output = write.Meet(timely.At(upper))
		}
	case f.sub != nil:
		output = write.Meet(timely.At(max(f.sub.lower, f.sub.asOf)))
		if f.sub.done {
			output = until
		}
	}
	return Frontiers{Write: write.Meet(until), Input: input, Output: output.Meet(until)}
}

// frontierReport is what was reported of one export's frontiers to the
// current controller.
type frontierReport struct {
	sent Frontiers
}

// advance returns the report of the frontiers in cur that moved past what
// was sent (nil when none did) and records them as sent. A frontier that
// went back is left out: reports never regress.
func (r *frontierReport) advance(id timely.GlobalId, cur Frontiers) *messages.ComputeFrontiers {
	var out *messages.ComputeFrontiers
	field := func(sent *timely.Frontier, now timely.Frontier) *messages.Frontier {
		if !sent.LessThan(now) {
			return nil
		}
		*sent = now
		if out == nil {
			out = &messages.ComputeFrontiers{Id: messages.FromGlobalId(id)}
		}
		return messages.FromFrontier(now)
	}
	w := field(&r.sent.Write, cur.Write)
	i := field(&r.sent.Input, cur.Input)
	o := field(&r.sent.Output, cur.Output)
	if out != nil {
		out.Write, out.Input, out.Output = w, i, o
	}
	return out
}

// beyondUntil reports whether t is at or after until: no export of the
// dataflow produces anything there.
func beyondUntil(t timely.Timestamp, until timely.Frontier) bool {
	return until.Admits(t)
}

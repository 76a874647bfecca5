package storage

import "github.com/arbor-db/arbor/timely"

// Oracle is the timestamp oracle: it hands out max(now, last+1), so the
// timestamps it returns strictly increase whatever the clock does. It reads
// no clock itself; the caller passes now.
type Oracle struct {
	last    timely.Timestamp
	started bool
}

// NewOracle returns an oracle whose next timestamp is at least floor (the
// common upper of the tables, so a restarted oracle never hands out a time
// already written).
func NewOracle(floor timely.Timestamp) Oracle {
	if floor == 0 {
		return Oracle{}
	}
	return Oracle{last: floor - 1, started: true}
}

// Next returns max(now, last+1) and remembers it. It panics if the
// timestamps are exhausted (last is timely.MaxTimestamp).
func (o *Oracle) Next(now timely.Timestamp) timely.Timestamp {
	t := now
	if o.started && t <= o.last {
		next, ok := o.last.StepForward()
		if !ok {
			panic("storage: timestamp oracle exhausted")
		}
		t = next
	}
	o.last, o.started = t, true
	return t
}

// Last returns the last timestamp handed out, and false if none was.
func (o *Oracle) Last() (timely.Timestamp, bool) { return o.last, o.started }

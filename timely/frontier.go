package timely

// Frontier is an antichain of a total order: either a single time or empty.
//
// The zero value is the frontier {0}, which admits every time. The empty
// (closed) frontier is written Closed() and admits no time. Frontier is a
// small value type; copy it freely.
type Frontier struct {
	t      Timestamp
	closed bool
}

// At returns the frontier {t}.
func At(t Timestamp) Frontier { return Frontier{t: t} }

// Minimum returns the frontier {0}, which admits every time.
func Minimum() Frontier { return Frontier{} }

// Closed returns the empty frontier: no time is admitted, no update will come.
func Closed() Frontier { return Frontier{closed: true} }

// IsEmpty reports whether the frontier is closed.
func (f Frontier) IsEmpty() bool { return f.closed }

// Time returns the frontier's single element, or false when it is empty.
func (f Frontier) Time() (Timestamp, bool) {
	if f.closed {
		return 0, false
	}
	return f.t, true
}

// LessEqual reports whether every time admitted by other is admitted by f,
// i.e. f <= other in the frontier order. The empty frontier is the greatest.
func (f Frontier) LessEqual(other Frontier) bool {
	switch {
	case other.closed:
		return true
	case f.closed:
		return false
	default:
		return f.t <= other.t
	}
}

// LessThan reports f <= other and f != other.
func (f Frontier) LessThan(other Frontier) bool {
	return f.LessEqual(other) && f != other
}

// Equal reports whether the two frontiers are the same antichain.
func (f Frontier) Equal(other Frontier) bool { return f == other }

// Join returns the greater of the two frontiers (the least upper bound).
func (f Frontier) Join(other Frontier) Frontier {
	if f.LessEqual(other) {
		return other
	}
	return f
}

// Meet returns the lesser of the two frontiers (the greatest lower bound).
func (f Frontier) Meet(other Frontier) Frontier {
	if f.LessEqual(other) {
		return f
	}
	return other
}

// Admits reports whether time t is not yet passed by the frontier (t >= f).
// The empty frontier admits nothing.
func (f Frontier) Admits(t Timestamp) bool { return !f.closed && f.t <= t }

// StepBack returns the frontier one step earlier: {t-1} for {t}, and
// {MaxTimestamp} for the closed frontier. It returns false for {0}, which
// has no predecessor. It is how an upper becomes "the latest complete time".
func (f Frontier) StepBack() (Frontier, bool) {
	if f.closed {
		return At(MaxTimestamp), true
	}
	t, ok := f.t.StepBack()
	if !ok {
		return f, false
	}
	return At(t), true
}

// String prints "[t]" or "[]" for the closed frontier.
func (f Frontier) String() string {
	if f.closed {
		return "[]"
	}
	return "[" + f.t.String() + "]"
}

// Answerable reports whether a read at t is exact and complete for a
// collection with the given since and upper: since <= t < upper.
func Answerable(t Timestamp, since, upper Frontier) bool {
	return since.Admits(t) && !upper.Admits(t)
}

package instance

import (
	"fmt"
	"strings"

	"github.com/arbor-db/arbor/timely"
)

// ReadPolicy says how far a collection's implied read hold may follow its
// upper. The zero ReadPolicy holds the collection at its as_of forever
// (nothing is compacted until a policy is set or the collection dropped).
type ReadPolicy struct {
	kind     policyKind
	from     timely.Frontier
	lag      timely.Timestamp
	policies []ReadPolicy
}

type policyKind uint8

const (
	policyHoldAsOf policyKind = iota
	policyValidFrom
	policyLagWrites
	policyMultiple
)

// ValidFrom holds the collection at frontier f, whatever its upper.
func ValidFrom(f timely.Frontier) ReadPolicy { return ReadPolicy{kind: policyValidFrom, from: f} }

// LagWriteFrontier holds the collection lag behind the last complete time
// (upper - 1), so that reads at times up to lag old stay possible. An
// empty upper gives the empty hold.
func LagWriteFrontier(lag timely.Timestamp) ReadPolicy {
	return ReadPolicy{kind: policyLagWrites, lag: lag}
}

// Multiple holds the collection where the most demanding of ps holds it
// (the meet of their frontiers).
func Multiple(ps ...ReadPolicy) ReadPolicy {
	return ReadPolicy{kind: policyMultiple, policies: append([]ReadPolicy(nil), ps...)}
}

// Frontier applies the policy to a collection's upper; ok is false for the
// zero policy (hold where you are).
func (p ReadPolicy) Frontier(upper timely.Frontier) (f timely.Frontier, ok bool) {
	switch p.kind {
	case policyValidFrom:
		return p.from, true
	case policyLagWrites:
		if upper.IsEmpty() {
			return timely.Closed(), true
		}
		t, _ := upper.Time()
		last, stepped := t.StepBack()
		if !stepped {
			return timely.Minimum(), true
		}
		if last < p.lag {
			return timely.Minimum(), true
		}
		return timely.At(last - p.lag), true
	case policyMultiple:
		out, any := timely.Closed(), false
		for _, q := range p.policies {
			if g, ok := q.Frontier(upper); ok {
				out, any = out.Meet(g), true
			}
		}
		return out, any
	}
	return timely.Frontier{}, false
}

// String describes the policy, for dumps and scripts.
func (p ReadPolicy) String() string {
	switch p.kind {
	case policyValidFrom:
		return "valid-from" + p.from.String()
	case policyLagWrites:
		return fmt.Sprintf("lag(%d)", p.lag)
	case policyMultiple:
		parts := make([]string, len(p.policies))
		for i, q := range p.policies {
			parts[i] = q.String()
		}
		return "multiple(" + strings.Join(parts, ",") + ")"
	}
	return "hold-as-of"
}

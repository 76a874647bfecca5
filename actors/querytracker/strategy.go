package querytracker

import "fmt"

// Strategy is how a peek is answered. It is recorded when the peek is tracked
// and reported in the end reason when the peek succeeds.
type Strategy uint8

const (
	// StrategyUnknown is the zero value; a TrackPeek carrying it is invalid.
	StrategyUnknown Strategy = iota
	// StrategyStandard builds a transient dataflow for the peek.
	StrategyStandard
	// StrategyFastPath reads an existing index's arrangement.
	StrategyFastPath
	// StrategyPersistFastPath reads a persisted shard directly.
	StrategyPersistFastPath
	// StrategyConstant is answered by the environment without compute.
	StrategyConstant
)

// Valid reports whether s is one of the four strategies.
func (s Strategy) Valid() bool { return s >= StrategyStandard && s <= StrategyConstant }

// String returns the strategy's name as the statement log shows it.
func (s Strategy) String() string {
	switch s {
	case StrategyStandard:
		return "standard"
	case StrategyFastPath:
		return "fast-path"
	case StrategyPersistFastPath:
		return "persist-fast-path"
	case StrategyConstant:
		return "constant"
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// MarshalText makes Dump print the strategy's name.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a strategy's name, so a Dump can be read back.
func (s *Strategy) UnmarshalText(b []byte) error {
	for _, st := range []Strategy{StrategyStandard, StrategyFastPath, StrategyPersistFastPath, StrategyConstant} {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("querytracker: unknown strategy %q", b)
}

package querytracker

import (
	"encoding/json"
	"slices"
	"time"
)

// DumpRecentExecutions is how many ended executions a dump shows at most.
const DumpRecentExecutions = 100

// PeekInfo is one tracked peek as Dump shows it.
type PeekInfo struct {
	Uuid      string      `json:"uuid"`
	Conn      uint32      `json:"conn"`
	Cluster   string      `json:"cluster"`
	DependsOn []string    `json:"depends_on,omitempty"`
	Execution ExecutionId `json:"execution"`
	Strategy  Strategy    `json:"strategy"`
	TrackedAt time.Time   `json:"tracked_at"`
}

// DumpState is the tracker's state for debugging: tracked peeks (by uuid),
// tombstones, unretired executions (live handles; a leak shows up here),
// the most recent ended executions, and the double-retirement count.
type DumpState struct {
	Now               time.Time       `json:"now"`
	Peeks             []PeekInfo      `json:"peeks"`
	Tombstones        []TombstoneInfo `json:"tombstones"`
	Unretired         []Execution     `json:"unretired"`
	Recent            []Execution     `json:"recent"`
	DoubleRetirements uint64          `json:"double_retirements"`
}

// Dump returns the tracker's state as of now. It changes nothing but
// expired tombstones.
func (t *Tracker) Dump(now time.Time) DumpState {
	t.tombstones.expire(now)
	peeks := make([]PeekInfo, 0, len(t.peeks))
	for _, p := range t.peeks {
		info := PeekInfo{
			Uuid:      p.uuid.String(),
			Conn:      uint32(p.conn),
			Cluster:   p.cluster.String(),
			Execution: p.execution,
			Strategy:  p.strategy,
			TrackedAt: p.trackedAt,
		}
		for _, d := range p.dependsOn {
			info.DependsOn = append(info.DependsOn, d.String())
		}
		peeks = append(peeks, info)
	}
	slices.SortFunc(peeks, func(a, b PeekInfo) int {
		switch {
		case a.Uuid < b.Uuid:
			return -1
		case a.Uuid > b.Uuid:
			return 1
		}
		return 0
	})
	return DumpState{
		Now:               now,
		Peeks:             peeks,
		Tombstones:        t.tombstones.list(),
		Unretired:         t.log.liveList(),
		Recent:            t.log.recent(DumpRecentExecutions),
		DoubleRetirements: t.log.doubleRetirements,
	}
}

// JSON renders the dump; it cannot fail for these types.
func (d DumpState) JSON() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		// Every field is a plain value or implements MarshalText without
		// error: this is a broken invariant, not bad input.
		panic("querytracker: marshal dump: " + err.Error())
	}
	return b
}

package instance

import (
	"time"

	"github.com/arbor-db/arbor/actors/replica"
)

// Dump is the instance's state for introspection, as JSON. Frontiers are
// written as in logs: "[5]" or "[]" (closed).
type Dump struct {
	EnvironmentEpoch uint64           `json:"environment_epoch"`
	HistoryCommands  int              `json:"history_commands"`
	Collections      []CollectionDump `json:"collections"`
	Replicas         []ReplicaDump    `json:"replicas"`
	Peeks            []PeekDump       `json:"peeks"`
	Subscribes       []SubscribeDump  `json:"subscribes"`
	PeekResults      map[string]int   `json:"peek_results"`
	Stopped          bool             `json:"stopped,omitempty"`
	// ReadOnly: the instance sends no AllowWrites (awaiting promotion).
	ReadOnly bool `json:"read_only,omitempty"`
}

// CollectionDump is one collection.
type CollectionDump struct {
	Id      string `json:"id"`
	Storage bool   `json:"storage,omitempty"`
	// Since is the meet of the instance's holds (for a storage collection,
	// StorageSince is storage's own since).
	Since        string `json:"since"`
	Upper        string `json:"upper"`
	StorageSince string `json:"storage_since,omitempty"`
	AsOf         string `json:"as_of,omitempty"`
	// Until bounds what the collection's dataflow produces (absent: no
	// bound).
	Until     string     `json:"until,omitempty"`
	Inputs    []string   `json:"inputs,omitempty"`
	Policy    string     `json:"read_policy,omitempty"`
	Scheduled bool       `json:"scheduled,omitempty"`
	Dropped   bool       `json:"dropped,omitempty"`
	Holds     []HoldDump `json:"holds"`
	// WallclockLagSeconds is how far the last complete time is behind now,
	// as of the last Maintain.
	WallclockLagSeconds float64 `json:"wallclock_lag_seconds"`
}

// HoldDump is one read hold.
type HoldDump struct {
	Id     HoldId `json:"id"`
	Since  string `json:"since"`
	Holder string `json:"holder"`
}

// ReplicaDump is one replica.
type ReplicaDump struct {
	Id          string                `json:"id"`
	Name        string                `json:"name,omitempty"`
	Incarnation uint64                `json:"incarnation"`
	Status      string                `json:"status"`
	LastError   string                `json:"last_error,omitempty"`
	RestartAt   *time.Time            `json:"restart_at,omitempty"`
	Restarts    replica.RestartStatus `json:"restarts"`
	// StatusError is the last error the current incarnation reported
	// about itself; StatusErrors counts every error the replica reported
	// (about itself or a collection).
	StatusError  string                  `json:"status_error,omitempty"`
	StatusErrors int                     `json:"status_errors,omitempty"`
	Collections  []ReplicaCollectionDump `json:"collections"`
}

// ReplicaCollectionDump is one collection on one replica.
type ReplicaCollectionDump struct {
	Id       string `json:"id"`
	Write    string `json:"write"`
	Input    string `json:"input"`
	Output   string `json:"output"`
	Hydrated bool   `json:"hydrated"`
	// LastError is the last error the replica reported about the
	// collection.
	LastError string `json:"last_error,omitempty"`
}

// PeekDump is one pending peek.
type PeekDump struct {
	Uuid       string `json:"uuid"`
	Collection string `json:"collection"`
	Timestamp  uint64 `json:"timestamp"`
	Target     string `json:"target,omitempty"`
	Hold       HoldId `json:"hold"`
}

// SubscribeDump is one active subscribe.
type SubscribeDump struct {
	Id        string `json:"id"`
	Delivered string `json:"delivered"`
	Target    string `json:"target,omitempty"`
}

// Dump describes the core's state at now, in id order.
func (c *Core) Dump(now time.Time) Dump {
	d := Dump{EnvironmentEpoch: c.cfg.EnvironmentEpoch, HistoryCommands: c.history.Len(), PeekResults: map[string]int{}, Stopped: c.stopped, ReadOnly: c.readOnly}
	for k, v := range c.peekResults {
		d.PeekResults[k] = v
	}
	holdsOf := map[string][]HoldDump{}
	for _, h := range c.sortedHolds() {
		holdsOf[h.Collection.String()] = append(holdsOf[h.Collection.String()], HoldDump{Id: h.Id, Since: h.Since.String(), Holder: h.Holder})
	}
	for _, col := range c.sortedCollections() {
		cd := CollectionDump{Id: col.id.String(), Storage: col.storage, Since: col.since.String(), Upper: col.upper.String(),
			Scheduled: col.scheduled, Dropped: col.dropped, Holds: holdsOf[col.id.String()], WallclockLagSeconds: col.wallclockLag.Seconds()}
		if col.storage {
			cd.StorageSince = col.storageSince.String()
		} else {
			cd.AsOf, cd.Policy = col.asOf.String(), col.policy.String()
			if !col.until.IsEmpty() {
				cd.Until = col.until.String()
			}
			for _, in := range col.inputs {
				cd.Inputs = append(cd.Inputs, in.String())
			}
		}
		d.Collections = append(d.Collections, cd)
	}
	for _, r := range c.sortedReplicas() {
		rd := ReplicaDump{Id: r.id.String(), Name: r.name, Incarnation: r.incarnation, Status: r.status.String(), Restarts: r.restarts.Status(now)}
		if r.lastErr != nil {
			rd.LastError = r.lastErr.Error()
		}
		if r.statusErr != nil {
			rd.StatusError = r.statusErr.Error()
		}
		rd.StatusErrors = r.statusErrors
		if r.status == ReplicaFailed {
			t := r.restartAt
			rd.RestartAt = &t
		}
		for _, col := range c.sortedCollections() {
			if rc := r.collections[col.id]; rc != nil {
				cd := ReplicaCollectionDump{Id: col.id.String(), Write: rc.write.String(),
					Input: rc.input.String(), Output: rc.output.String(), Hydrated: rc.hydrated}
				if rc.lastErr != nil {
					cd.LastError = rc.lastErr.Error()
				}
				rd.Collections = append(rd.Collections, cd)
			}
		}
		d.Replicas = append(d.Replicas, rd)
	}
	for _, p := range c.sortedPeeks() {
		pd := PeekDump{Uuid: p.req.Uuid.String(), Collection: p.req.Collection.String(), Timestamp: uint64(p.req.Timestamp), Hold: p.hold}
		if p.req.Target != nil {
			pd.Target = p.req.Target.String()
		}
		d.Peeks = append(d.Peeks, pd)
	}
	for _, s := range c.sortedSubscribes() {
		sd := SubscribeDump{Id: s.id.String(), Delivered: s.frontier.String()}
		if s.target != nil {
			sd.Target = s.target.String()
		}
		d.Subscribes = append(d.Subscribes, sd)
	}
	return d
}

func (c *Core) sortedHolds() []*ReadHold {
	out := make([]*ReadHold, 0, len(c.holds))
	for _, h := range c.holds {
		out = append(out, h)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Id < out[j-1].Id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Stats are the figures the actor's metrics show.
type Stats struct {
	Replicas    int
	Collections int
	Subscribes  int
	PeekResults map[string]int
	// HistoryByKind counts the history's commands by kind.
	HistoryByKind map[string]int
	// WallclockLag per compute collection id.
	WallclockLag map[string]time.Duration
}

// Stats returns the core's figures.
func (c *Core) Stats() Stats {
	s := Stats{Replicas: len(c.replicas), Subscribes: len(c.subscribes), PeekResults: map[string]int{},
		HistoryByKind: map[string]int{}, WallclockLag: map[string]time.Duration{}}
	for k, v := range c.peekResults {
		s.PeekResults[k] = v
	}
	for _, col := range c.collections {
		if !col.storage {
			s.Collections++
			s.WallclockLag[col.id.String()] = col.wallclockLag
		}
	}
	for _, cmd := range c.history.Commands() {
		s.HistoryByKind[kindName(cmd)]++
	}
	return s
}

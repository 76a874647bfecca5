package coordinator

import (
	"cmp"
	"slices"
	"sort"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Storage collections as sources. Tables share storage's common upper and
// reach the coordinator through Consume; a storage collection (a
// materialized view's shard, written by whichever cluster computes the
// view) has its own upper, which the runtime learns from the collection's
// own CDC subscription and reports with CollectionProgress. A flow's input
// frontier is the least upper over what it reads (target): a flow that
// reads only tables never waits for a collection, and one that reads a
// collection written by another flow of the same runtime waits only for
// that collection's appends, which follow the producer's committed
// checkpoints (the producer reads tables only, so nothing waits in a
// circle).
//
// A flow reading a collection advances by reads of its sources' history
// in [checkpoint, target): the tables from storage, the collections from
// the changes their CDC delivered when the coordinator still holds them
// (ReadRequest.Cached; a log per collection from the least checkpoint of
// its readers, at most MaxCollectionLog changes) and from storage
// otherwise (range reads, which a collection answers up to its own upper),
// and views from the committed outputs. Its outputs and checkpoint commit atomically
// like any other flow's, so a restart or a rebuild starts from the
// checkpoint and neither doubles nor loses an update.

// MaxCollectionLog is the most changes the coordinator keeps in memory per
// storage collection (its CDC since the least checkpoint of the flows
// reading it); past it the log is dropped and reads go to storage until
// the readers catch up with a new one.
const MaxCollectionLog = 100_000

// collectionLog is what the coordinator knows of one storage collection:
// its consumed upper, and the changes its CDC delivered in [start, upper),
// sorted by time, which serve reads in that range without storage. known:
// a progress arrived (start is meaningful).
type collectionLog struct {
	known   bool
	upper   timely.Timestamp
	start   timely.Timestamp
	updates []dataflow.Update
}

// covers reports whether the log holds every change in [from, to).
func (l *collectionLog) covers(from, to timely.Timestamp) bool {
	return l.start <= from && to <= l.upper
}

// slice returns the changes in [from, to).
func (l *collectionLog) slice(from, to timely.Timestamp) []dataflow.Update {
	i := sort.Search(len(l.updates), func(i int) bool { return l.updates[i].Time >= from })
	j := sort.Search(len(l.updates), func(j int) bool { return l.updates[j].Time >= to })
	return slices.Clone(l.updates[i:j])
}

// CollectionProgress records that storage collection id is complete below
// upper, and that changes are all its changes in [from, upper) (its CDC
// since the previous progress, which ended at from). An upper behind the
// known one is ignored. Changes that continue the log the coordinator
// keeps are added to it; the first progress, or one after a gap (from
// after the known upper), starts the log at from, earlier history being
// read from storage. Flows reading the collection that failed a read may
// try again, and, when Idle, a backfill round is asked for. It is
// accepted in every phase: it only raises a frontier and extends the log,
// and the step in flight reads what it planned.
func (c *Core) CollectionProgress(id timely.GlobalId, from, upper timely.Timestamp, changes []dataflow.Update) Effects {
	var eff Effects
	l := c.collections[id]
	if l == nil {
		// The record outlives the flows that read it: a progress may come
		// before the install of the flow that needs it, and uppers never
		// regress.
		l = &collectionLog{}
		c.collections[id] = l
	}
	if l.known && upper <= l.upper {
		return eff
	}
	from = min(from, upper)
	low := l.upper
	if !l.known || from > l.upper {
		l.known = true
		l.start, l.updates = from, nil
		low = from
	}
	var add []dataflow.Update
	for _, u := range changes {
		if u.Time >= low && u.Time < upper {
			add = append(add, u)
		}
	}
	slices.SortStableFunc(add, func(a, b dataflow.Update) int { return cmp.Compare(a.Time, b.Time) })
	l.updates = append(l.updates, add...)
	if len(l.updates) > MaxCollectionLog {
		l.start, l.updates = upper, nil
	}
	if upper <= l.upper {
		return eff
	}
	l.upper = upper
	for _, f := range c.flows {
		if f.collections[id] {
			f.stalled = false
		}
	}
	if c.phase == Idle && c.canBackfill() {
		eff.ContinueBackfill = true
	}
	return eff
}

// trimCollections forgets the changes every flow reading a collection has
// read (below the least checkpoint of its readers; all of them when none
// reads it).
func (c *Core) trimCollections() {
	for id, l := range c.collections {
		low := l.upper
		for _, f := range c.flows {
			if f.collections[id] {
				low = min(low, f.checkpoint)
			}
		}
		if low <= l.start {
			continue
		}
		i := sort.Search(len(l.updates), func(i int) bool { return l.updates[i].Time >= low })
		l.updates = slices.Clone(l.updates[i:])
		l.start = low
	}
}

// cached returns, for the collection sources of a read whose range the
// coordinator's logs cover, their changes in it: the store need not read
// them.
func (c *Core) cached(sources []pool.Source, from, to timely.Timestamp) map[timely.GlobalId][]dataflow.Update {
	var out map[timely.GlobalId][]dataflow.Update
	for _, s := range sources {
		if s.Kind != pool.SourceCollection {
			continue
		}
		if l := c.collections[s.Id]; l != nil && l.covers(from, to) {
			if out == nil {
				out = map[timely.GlobalId][]dataflow.Update{}
			}
			out[s.Id] = l.slice(from, to)
		}
	}
	return out
}

// CollectionUpper returns the consumed upper of storage collection id
// (zero before its first progress).
func (c *Core) CollectionUpper(id timely.GlobalId) timely.Timestamp {
	if l := c.collections[id]; l != nil {
		return l.upper
	}
	return 0
}

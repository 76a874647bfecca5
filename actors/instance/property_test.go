package instance

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestRandomSteps drives a Core with seeded random steps (clients,
// replicas and their responses, good and bad) and checks after every step
// that the invariants hold, that a refused request changed nothing, that
// every accepted peek is answered at most once (and exactly once after
// Stop), and that each subscribe's batches are contiguous, never repeat an
// update and end once. A failure prints its seed; rerun one with
// -run 'TestRandomSteps/seed=N'.
func TestRandomSteps(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runRandom(t, seed, 300) })
	}
}

type randomRun struct {
	t    *testing.T
	rng  *rand.Rand
	core *Core
	now  time.Time

	nextId   uint64
	nextPeek uint64
	answers  map[timely.Uuid]int
	accepted map[timely.Uuid]bool
	subs     map[timely.GlobalId]*subCheck
	holds    []HoldId
}

type subCheck struct {
	delivered timely.Frontier
	ended     bool
}

func runRandom(t *testing.T, seed int64, steps int) {
	core, err := NewCore(CoreConfig{EnvironmentEpoch: 1, Restarts: func(timely.ReplicaId) replica.RestartTracker {
		return &replica.FixedRestarts{Backoff: time.Second, MaxRestarts: 3}
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := &randomRun{t: t, rng: rand.New(rand.NewSource(seed)), core: core, now: time.UnixMilli(0),
		nextId: 10, answers: map[timely.Uuid]int{}, accepted: map[timely.Uuid]bool{}, subs: map[timely.GlobalId]*subCheck{}}
	if err := core.RegisterStorage(StorageCollection{Id: timely.UserId(1), Since: timely.At(0), Upper: timely.At(3)}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := 0; i < steps; i++ {
		desc := r.step()
		seen[strings.Fields(desc)[0]+" "+fmt.Sprint(strings.HasSuffix(desc, "refused"))]++
		r.observe(desc, r.core.Drain())
		if err := r.core.checkInvariants(); err != nil {
			t.Fatalf("seed %d step %d (%s): invariant broken: %v", seed, i, desc, err)
		}
	}
	t.Logf("steps (kind, refused): %v; peeks answered %v", seen, r.core.peekResults)
	r.core.Stop()
	r.observe("stop", r.core.Drain())
	for u := range r.accepted {
		if r.answers[u] != 1 {
			t.Fatalf("seed %d: peek %s answered %d times", seed, u, r.answers[u])
		}
	}
	for id, s := range r.subs {
		if !s.ended {
			t.Fatalf("seed %d: subscribe %s never ended", seed, id)
		}
	}
}

func (r *randomRun) pick(n int) int { return r.rng.Intn(n) }

func (r *randomRun) liveCompute() []timely.GlobalId {
	var out []timely.GlobalId
	for _, col := range r.core.sortedCollections() {
		if !col.storage && !col.dropped {
			out = append(out, col.id)
		}
	}
	return out
}

func (r *randomRun) anyCollection() timely.GlobalId {
	all := r.core.sortedCollections()
	if len(all) == 0 || r.pick(10) == 0 {
		return timely.UserId(999) // unknown
	}
	return all[r.pick(len(all))].id
}

func (r *randomRun) replicaIds() []timely.ReplicaId {
	var out []timely.ReplicaId
	for _, rs := range r.core.sortedReplicas() {
		out = append(out, rs.id)
	}
	return out
}

func (r *randomRun) time() timely.Timestamp { return timely.Timestamp(r.pick(12)) }

// refusal runs a client request that must change nothing when refused.
func (r *randomRun) refusal(desc string, f func() error) string {
	before, _ := json.Marshal(r.core.Dump(r.now))
	hist := r.core.history.Len()
	err := f()
	if err == nil {
		return desc
	}
	after, _ := json.Marshal(r.core.Dump(r.now))
	fx := r.core.fx
	if string(before) != string(after) || hist != r.core.history.Len() || !fx.empty() {
		r.t.Fatalf("%s refused (%v) but changed state:\n%s\n%s\n%+v", desc, err, before, after, fx)
	}
	if messages.CodeOf(err) == messages.ErrorCode_ERROR_CODE_UNSPECIFIED {
		r.t.Fatalf("%s refused with an uncoded error: %v", desc, err)
	}
	return desc + " refused"
}

func (r *randomRun) step() string {
	c := r.core
	switch r.pick(16) {
	case 0:
		id := timely.ReplicaId{Kind: timely.User, Value: uint64(1 + r.pick(3))}
		return r.refusal("add "+id.String(), func() error { return c.AddReplica(id, "") })
	case 1:
		if r.pick(3) != 0 {
			return "skip remove"
		}
		id := timely.ReplicaId{Kind: timely.User, Value: uint64(1 + r.pick(4))}
		_ = c.RemoveReplica(id)
		return "remove " + id.String()
	case 2:
		ids := r.replicaIds()
		if len(ids) == 0 {
			return "no replica to fail"
		}
		rs := c.replicas[ids[r.pick(len(ids))]]
		_ = c.ReplicaFailed(r.now, rs.id, rs.incarnation-uint64(r.pick(2)), errors.New("boom"))
		return "fail " + rs.id.String()
	case 3:
		r.now = r.now.Add(time.Duration(r.pick(3)) * time.Second)
		c.Maintain(r.now)
		_ = c.UpdateStorageFrontiers(timely.UserId(1), timely.At(0), timely.At(timely.Timestamp(3+r.pick(10))))
		return "maintain"
	case 4, 5:
		r.nextId++
		id := timely.UserId(r.nextId)
		sub := r.pick(3) == 0
		if sub {
			id = timely.TransientId(r.nextId)
		}
		df := &messages.ComputeDataflowDescription{AsOf: messages.FromFrontier(timely.At(r.time()))}
		if r.pick(2) == 0 {
			df.SourceImports = append(df.SourceImports, &messages.ComputeSourceImport{Id: messages.FromGlobalId(timely.UserId(1))})
		}
		if live := r.liveCompute(); len(live) > 0 && r.pick(2) == 0 {
			df.IndexImports = append(df.IndexImports, &messages.ComputeIndexImport{Id: messages.FromGlobalId(live[r.pick(len(live))])})
		}
		if sub {
			df.SinkExports = append(df.SinkExports, &messages.ComputeSinkExport{Id: messages.FromGlobalId(id),
				Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}})
		} else {
			df.IndexExports = append(df.IndexExports, &messages.ComputeIndexExport{Id: messages.FromGlobalId(id)})
		}
		var opts DataflowOptions
		if ids := r.replicaIds(); sub && len(ids) > 0 && r.pick(2) == 0 {
			opts.TargetReplica = &ids[r.pick(len(ids))]
		}
		desc := r.refusal("create "+id.String(), func() error { return c.CreateDataflow(df, opts) })
		if sub && c.collections[id] != nil {
			asOf, _ := df.GetAsOf().ToTimely()
			r.subs[id] = &subCheck{delivered: asOf}
		}
		return desc
	case 6:
		id := r.anyCollection()
		return r.refusal("drop "+id.String(), func() error { return c.DropCollections(id) })
	case 7:
		id := r.anyCollection()
		p := LagWriteFrontier(timely.Timestamp(r.pick(3)))
		return r.refusal("policy "+id.String(), func() error { return c.SetReadPolicy(p, id) })
	case 8, 9:
		r.nextPeek++
		u := scriptPeekUuid(r.nextPeek % 200)
		req := PeekRequest{Uuid: u, Collection: r.anyCollection(), Timestamp: r.time()}
		if ids := r.replicaIds(); len(ids) > 0 && r.pick(3) == 0 {
			req.Target = &ids[r.pick(len(ids))]
		}
		if r.pick(3) == 0 {
			req.Deadline = r.now.Add(time.Second)
		}
		desc := r.refusal("peek", func() error { return c.Peek(req) })
		if desc == "peek" {
			if r.accepted[u] {
				r.t.Fatalf("peek %s accepted twice", u)
			}
			r.accepted[u] = true
		}
		return desc
	case 10:
		for u := range c.peeks {
			_ = c.CancelPeek(u)
			return "cancel"
		}
		return "nothing to cancel"
	case 11:
		switch {
		case r.pick(3) == 0 || len(r.holds) == 0:
			id := r.anyCollection()
			var h ReadHold
			desc := r.refusal("hold "+id.String(), func() (err error) { h, err = c.AcquireReadHold(id); return err })
			if h.Id != 0 {
				r.holds = append(r.holds, h.Id)
			}
			return desc
		case r.pick(2) == 0:
			h := r.holds[r.pick(len(r.holds))]
			return r.refusal("downgrade", func() error { return c.DowngradeReadHold(h, timely.At(r.time())) })
		default:
			i := r.pick(len(r.holds))
			h := r.holds[i]
			r.holds = append(r.holds[:i], r.holds[i+1:]...)
			return r.refusal("release", func() error { return c.ReleaseReadHold(h) })
		}
	default:
		return r.respond()
	}
}

// respond sends a random response from a random replica, sometimes from a
// stale incarnation.
func (r *randomRun) respond() string {
	c := r.core
	ids := r.replicaIds()
	if len(ids) == 0 {
		return "no replica to respond"
	}
	rs := c.replicas[ids[r.pick(len(ids))]]
	resp := &messages.ComputeResponse{Epoch: &messages.ComputeEpoch{Environment: 1, Incarnation: rs.incarnation - uint64(r.pick(4)/3)}}
	switch r.pick(4) {
	case 0:
		f := &messages.ComputeFrontiers{Id: messages.FromGlobalId(r.anyCollection())}
		w := timely.At(r.time())
		if r.pick(4) == 0 {
			w = timely.Closed()
		}
		// Any of the three may be reported; the input frontier moves the
		// replica's holds on the collection's inputs.
		if r.pick(4) != 0 {
			f.Write = messages.FromFrontier(w)
		}
		if r.pick(2) == 0 {
			in := timely.At(r.time())
			if r.pick(6) == 0 {
				in = timely.Closed()
			}
			f.Input = messages.FromFrontier(in)
		}
		if r.pick(3) == 0 {
			f.Output = messages.FromFrontier(timely.At(r.time()))
		}
		resp.Response = &messages.ComputeResponse_Frontiers{Frontiers: f}
	case 1:
		var u timely.Uuid
		for k := range c.peeks {
			u = k
			break
		}
		resp.Response = &messages.ComputeResponse_PeekResponse{PeekResponse: &messages.ComputePeekResponse{Uuid: messages.FromUuid(u),
			Result: &messages.ComputePeekResponse_Rows{Rows: &messages.ComputePeekRows{}}}}
	case 2:
		id := r.anyCollection()
		lo := r.time()
		hi := lo + timely.Timestamp(r.pick(4))
		upper := timely.At(hi)
		if r.pick(8) == 0 {
			upper = timely.Closed()
		}
		var us []*messages.ComputeUpdate
		for t := lo; t < hi+2; t++ {
			us = append(us, &messages.ComputeUpdate{Time: uint64(t), Diff: 1})
		}
		b := &messages.ComputeSubscribeBatch{Lower: messages.FromFrontier(timely.At(lo)), Upper: messages.FromFrontier(upper),
			Result: &messages.ComputeSubscribeBatch_Updates{Updates: &messages.ComputeUpdates{Updates: us}}}
		resp.Response = &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
			Id: messages.FromGlobalId(id), Response: &messages.ComputeSubscribeResponse_Batch{Batch: b}}}
	default:
		resp.Response = &messages.ComputeResponse_Status{Status: &messages.ComputeStatus{Hydration: []*messages.ComputeHydration{
			{Id: messages.FromGlobalId(r.anyCollection()), Hydrated: true}}}}
	}
	_ = c.HandleResponse(r.now, rs.id, resp)
	return "response from " + rs.id.String()
}

// observe checks a step's effects: peek answers and subscribe events.
func (r *randomRun) observe(desc string, fx Effects) {
	for _, p := range fx.Peeks {
		if !r.accepted[p.Uuid] {
			r.t.Fatalf("%s: answer for a peek never accepted: %s", desc, p.Uuid)
		}
		r.answers[p.Uuid]++
		if r.answers[p.Uuid] > 1 {
			r.t.Fatalf("%s: peek %s answered twice", desc, p.Uuid)
		}
		delete(r.accepted, p.Uuid) // a later peek may reuse the uuid
		r.answers[p.Uuid] = 0
	}
	for _, s := range fx.Subscribes {
		sc := r.subs[s.Id]
		if sc == nil || sc.ended {
			r.t.Fatalf("%s: event for subscribe %s that is unknown or ended: %+v", desc, s.Id, s)
		}
		if s.DroppedAt != nil {
			sc.ended = true
			continue
		}
		if s.Lower != sc.delivered || !s.Lower.LessThan(s.Upper) {
			r.t.Fatalf("%s: subscribe %s batch [%s, %s) after delivering up to %s", desc, s.Id, s.Lower, s.Upper, sc.delivered)
		}
		for _, u := range s.Updates {
			tm := timely.Timestamp(u.GetTime())
			if !s.Lower.Admits(tm) || s.Upper.Admits(tm) {
				r.t.Fatalf("%s: subscribe %s update at %d outside [%s, %s)", desc, s.Id, tm, s.Lower, s.Upper)
			}
		}
		sc.delivered = s.Upper
		if s.Err != nil || s.Upper.IsEmpty() {
			sc.ended = true
		}
	}
}

package runtime_test

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The benchmarks compare the replica runtime (storage write → CDC →
// coordinator → pool → worker → index) with the dataflow engine alone fed
// the same rows at the same timestamps, in the same run. Run them with
//
//	go test ./actors/replica/runtime -run '^$' -bench . -benchtime 3x

const (
	benchWrites       = 200
	benchRowsPerWrite = 50
)

type benchFlow struct {
	name    string
	export  timely.GlobalId
	plan    func() *messages.Plan
	sources []timely.GlobalId
}

var benchFlows = []benchFlow{
	{"filter", bigOrders, func() *messages.Plan {
		return filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50))))
	}, []timely.GlobalId{orders}},
	{"aggregate", perCustomer, func() *messages.Plan {
		return perCustomerPlan()
	}, []timely.GlobalId{orders}},
	{"join", withNames, func() *messages.Plan { return joinP(getP(orders), getP(customers), 1, 0) }, []timely.GlobalId{orders, customers}},
}

// benchData is one workload: the customers (written first) and the
// orders, batch by batch.
func benchData() (custs []dataflow.Row, batches [][]dataflow.Row) {
	r := rand.New(rand.NewSource(7))
	for c := 0; c < 100; c++ {
		custs = append(custs, dataflow.Row{dataflow.Int64(int64(c)), dataflow.String(fmt.Sprintf("c%d", c))})
	}
	id := int64(0)
	for w := 0; w < benchWrites; w++ {
		var rows []dataflow.Row
		for k := 0; k < benchRowsPerWrite; k++ {
			id++
			rows = append(rows, dataflow.Row{dataflow.Int64(id), dataflow.Int64(int64(r.Intn(100))), dataflow.Int64(int64(r.Intn(100)))})
		}
		batches = append(batches, rows)
	}
	return custs, batches
}

func writeMsg(table timely.GlobalId, rows []dataflow.Row) *messages.StorageWrite {
	tw := &messages.StorageTableWrite{Table: messages.FromGlobalId(table)}
	for _, r := range rows {
		tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: dataflow.RowToWire(r)})
	}
	return &messages.StorageWrite{Tables: []*messages.StorageTableWrite{tw}}
}

// BenchmarkIngest measures rows per second from the first write to the
// last write being visible in the flow's index (its frontier past the
// last commit), beside the engine alone on the same rows and timestamps.
func BenchmarkIngest(b *testing.B) {
	for _, bf := range benchFlows {
		b.Run(bf.name, func(b *testing.B) {
			custs, batches := benchData()
			total := float64(benchWrites * benchRowsPerWrite)
			var actorTime, engineTime time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h := newHarness(b, options{})
				h.createTable(orders, ordersSchema)
				h.createTable(customers, customersSchema)
				ct := h.mustWrite(rowsChange(customers, custs)...)
				var srcs []src
				for _, s := range bf.sources {
					srcs = append(srcs, tableSrc(h, s))
				}
				h.mustInstall(bf.export, bf.plan(), false, srcs...)
				h.waitFrontier(bf.export, ct)
				b.StartTimer()

				start := time.Now()
				futures := make([]*actor.Future, len(batches))
				for j, rows := range batches {
					futures[j] = h.sys.Root.RequestFuture(h.storage, writeMsg(orders, rows), wait)
				}
				times := make([]timely.Timestamp, len(batches))
				var last timely.Timestamp
				for j, f := range futures {
					res, err := f.Result()
					require.NoError(b, err)
					times[j] = timely.Timestamp(res.(*messages.StorageWriteResponse).GetTimestamp())
					last = max(last, times[j])
				}
				testkitWaitFrontier(h, bf.export, last)
				actorTime += time.Since(start)

				b.StopTimer()
				engineTime += engineIngest(b, h.flows[bf.export].plan, custs, ct, batches, times)
				h.stopAll()
				b.StartTimer()
			}
			actorRate := total * float64(b.N) / actorTime.Seconds()
			engineRate := total * float64(b.N) / engineTime.Seconds()
			b.ReportMetric(actorRate, "rows/s")
			b.ReportMetric(engineRate, "engine-rows/s")
			b.ReportMetric(engineRate/actorRate, "overhead-x")
		})
	}
}

func rowsChange(table timely.GlobalId, rows []dataflow.Row) []change {
	out := make([]change, len(rows))
	for i, r := range rows {
		out[i] = change{table: table, row: r, diff: 1}
	}
	return out
}

// testkitWaitFrontier waits for the frontier without the oracle's log.
// It polls more often than testkit.Eventually, which would dominate the
// measurement.
func testkitWaitFrontier(h *harness, id timely.GlobalId, t timely.Timestamp) {
	deadline := time.Now().Add(wait)
	for h.events.frontier(id) <= t {
		if time.Now().After(deadline) {
			h.t.Fatalf("frontier of %s did not pass %d", id, t)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// engineIngest feeds the engine alone the same rows at the same times,
// one AdvanceInput per write, and returns the time taken.
func engineIngest(b *testing.B, plan *dataflow.Plan, custs []dataflow.Row, ct timely.Timestamp, batches [][]dataflow.Row, times []timely.Timestamp) time.Duration {
	df := dataflow.NewDataflow(plan, dataflow.Config{DiscardUpdates: true})
	reads := map[timely.GlobalId]bool{}
	for _, s := range plan.Sources() {
		reads[s] = true
	}
	advance := func(t timely.Timestamp) {
		for _, s := range plan.Sources() {
			require.NoError(b, df.AdvanceInput(s, timely.At(t)))
		}
	}
	if reads[customers] {
		us := make([]dataflow.Update, len(custs))
		for i, r := range custs {
			us[i] = dataflow.Update{Row: r, Time: ct, Diff: 1}
		}
		require.NoError(b, df.Push(customers, us))
	}
	advance(ct + 1)
	order := make([]int, len(batches))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return times[order[i]] < times[order[j]] })
	start := time.Now()
	for k, j := range order {
		us := make([]dataflow.Update, len(batches[j]))
		for i, r := range batches[j] {
			us[i] = dataflow.Update{Row: r, Time: times[j], Diff: 1}
		}
		require.NoError(b, df.Push(orders, us))
		// Writes that shared a group commit share a time: advance once.
		if k+1 == len(order) || times[order[k+1]] != times[j] {
			advance(times[j] + 1)
		}
	}
	return time.Since(start)
}

// BenchmarkFreshness measures, one write at a time, the latency from a
// write's commit (its response) to a peek at its timestamp being answered
// with it visible, p50 and p99; beside the engine alone (push, advance,
// peek) on the same rows.
func BenchmarkFreshness(b *testing.B) {
	const samples = 200
	_, batches := benchData()
	var lat, base []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, options{})
		h.createTable(orders, ordersSchema)
		h.mustInstall(bigOrders, benchFlows[0].plan(), false, tableSrc(h, orders))
		warm := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(0), dataflow.Int64(0), dataflow.Int64(0)}, diff: 1})
		h.waitFrontier(bigOrders, warm)
		b.StartTimer()
		var times []timely.Timestamp
		for s := 0; s < samples; s++ {
			res, err := h.sys.Root.RequestFuture(h.storage, writeMsg(orders, batches[s][:1]), wait).Result()
			require.NoError(b, err)
			committed := time.Now()
			ts := timely.Timestamp(res.(*messages.StorageWriteResponse).GetTimestamp())
			times = append(times, ts)
			_, err = h.peek(bigOrders, ts)
			require.NoError(b, err)
			lat = append(lat, time.Since(committed))
		}
		b.StopTimer()
		df := dataflow.NewDataflow(h.flows[bigOrders].plan, dataflow.Config{DiscardUpdates: true})
		for s := 0; s < samples; s++ {
			start := time.Now()
			require.NoError(b, df.Push(orders, []dataflow.Update{{Row: batches[s][0], Time: times[s], Diff: 1}}))
			require.NoError(b, df.AdvanceInput(orders, timely.At(times[s]+1)))
			_, err := df.Peek(dataflow.PeekSpec{Time: times[s]})
			require.NoError(b, err)
			base = append(base, time.Since(start))
		}
		h.stopAll()
		b.StartTimer()
	}
	p := func(ds []time.Duration, q float64) float64 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return float64(ds[int(q*float64(len(ds)-1))].Microseconds())
	}
	b.ReportMetric(p(lat, 0.5), "p50-us")
	b.ReportMetric(p(lat, 0.99), "p99-us")
	b.ReportMetric(p(base, 0.5), "engine-p50-us")
	b.ReportMetric(p(base, 0.99), "engine-p99-us")
}

// BenchmarkIndexImport measures how long a new dataflow over another
// dataflow's index (a join of orders and customers, already hydrated over
// benchWrites writes) takes to hydrate when it imports the index (reads
// the index's committed output) beside, in the same run, the same
// dataflow with the join's plan inlined over the tables (what the runtime
// did before index imports were read: it recomputes the join). The two
// alternate which goes first.
func BenchmarkIndexImport(b *testing.B) {
	custs, batches := benchData()
	joined, joinedIdx := timely.UserId(160), timely.UserId(170)
	joinPlan := joinP(getP(orders), getP(customers), 1, 0)
	var importTime, recomputeTime time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, options{})
		h.createTable(orders, ordersSchema)
		h.createTable(customers, customersSchema)
		h.mustWrite(rowsChange(customers, custs)...)
		var last timely.Timestamp
		for _, rows := range batches {
			last = h.mustWrite(rowsChange(orders, rows)...)
		}
		require.NoError(b, h.installDesc(&messages.ComputeDataflowDescription{
			SourceImports: []*messages.ComputeSourceImport{
				{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)},
				{Id: messages.FromGlobalId(customers), Schema: dataflow.SchemaToWire(customersSchema)},
			},
			ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(joined), Plan: joinPlan}},
			IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(joinedIdx), On: messages.FromGlobalId(joined)}},
			AsOf:           messages.FromFrontier(timely.At(0)),
		}, joinedIdx, joinPlan, tableSrc(h, orders), tableSrc(h, customers)))
		testkitWaitFrontier(h, joinedIdx, last)
		schema := h.schemaOf(joinedIdx)

		over := func(p *messages.Plan) *messages.Plan {
			return filterP(p, binE(opGt, colE(2), litE(dataflow.Int64(50))))
		}
		importing := func() {
			obj, idx := timely.UserId(161), timely.UserId(171)
			require.NoError(b, h.installDesc(&messages.ComputeDataflowDescription{
				IndexImports:   []*messages.ComputeIndexImport{{Id: messages.FromGlobalId(joinedIdx), On: messages.FromGlobalId(joined), Schema: dataflow.SchemaToWire(schema)}},
				ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(obj), Plan: over(getP(joined))}},
				IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(idx), On: messages.FromGlobalId(obj)}},
				AsOf:           messages.FromFrontier(timely.At(0)),
			}, idx, over(getP(joined)), src{id: joined, schema: schema}))
			testkitWaitFrontier(h, idx, last)
		}
		recomputing := func() {
			obj, idx := timely.UserId(162), timely.UserId(172)
			require.NoError(b, h.installDesc(&messages.ComputeDataflowDescription{
				SourceImports: []*messages.ComputeSourceImport{
					{Id: messages.FromGlobalId(orders), Schema: dataflow.SchemaToWire(ordersSchema)},
					{Id: messages.FromGlobalId(customers), Schema: dataflow.SchemaToWire(customersSchema)},
				},
				ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(obj), Plan: over(joinPlan)}},
				IndexExports:   []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(idx), On: messages.FromGlobalId(obj)}},
				AsOf:           messages.FromFrontier(timely.At(0)),
			}, idx, over(joinPlan), tableSrc(h, orders), tableSrc(h, customers)))
			testkitWaitFrontier(h, idx, last)
		}
		timed := func(f func(), into *time.Duration) {
			b.StartTimer()
			start := time.Now()
			f()
			*into += time.Since(start)
			b.StopTimer()
		}
		if i%2 == 0 {
			timed(importing, &importTime)
			timed(recomputing, &recomputeTime)
		} else {
			timed(recomputing, &recomputeTime)
			timed(importing, &importTime)
		}
		h.stopAll()
		b.StartTimer()
	}
	b.ReportMetric(float64(importTime.Microseconds())/1000/float64(b.N), "import-ms")
	b.ReportMetric(float64(recomputeTime.Microseconds())/1000/float64(b.N), "recompute-ms")
	b.ReportMetric(recomputeTime.Seconds()/importTime.Seconds(), "speedup-x")
}

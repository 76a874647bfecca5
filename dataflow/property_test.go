package dataflow

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The property test: random plans over random schemas, fed random update
// streams; at every time the output frontier passes, the incrementally
// maintained output equals Evaluate over the sources' contents at that
// time, and so do peeks, also after compaction.
//
// Replay a failure with the seed it prints:
//
//	go test ./dataflow -run TestIncrementalMatchesOracle -dataflow.seed=N -dataflow.iters=1
//
// (or DATAFLOW_SEED=N). Run longer with -dataflow.iters=5000.
var (
	flagSeed  = flag.Int64("dataflow.seed", 0, "base seed of the property test (0: DATAFLOW_SEED or 1)")
	flagIters = flag.Int("dataflow.iters", 1500, "iterations of the property test")
)

func baseSeed() int64 {
	if *flagSeed != 0 {
		return *flagSeed
	}
	if s, err := strconv.ParseInt(os.Getenv("DATAFLOW_SEED"), 10, 64); err == nil && s != 0 {
		return s
	}
	return 1
}

func TestIncrementalMatchesOracle(t *testing.T) {
	base := baseSeed()
	iters := *flagIters
	if testing.Short() {
		iters = min(iters, 50)
	}
	cov := map[string]int{}
	for i := 0; i < iters; i++ {
		seed := base + int64(i)
		if err := runProperty(seed, cov); err != nil {
			t.Fatalf("seed %d: %v\nreplay: go test ./dataflow -run TestIncrementalMatchesOracle -dataflow.seed=%d -dataflow.iters=1", seed, err, seed)
		}
	}
	t.Logf("checked %d random plans from seed %d; plans running each monotonic path, and plans stopped early: %v", iters, base, cov)
	if iters >= 1000 {
		for _, k := range []string{"topk", "topk with a fused map", "reduce min/max", "reduce accumulable", "join with transient rows",
			"reduce accumulable over a non-negative input", "join"} {
			if cov[k] < iters/200 {
				t.Errorf("only %d of %d plans ran a monotonic %s; the generator should make more", cov[k], iters, k)
			}
		}
	}
}

// monotonicOps counts the operators of a running dataflow that use their
// monotonic (append-only) paths, by kind.
func monotonicOps(inst *instance, cov map[string]int) {
	switch o := inst.op.(type) {
	case *monoTopKOp:
		cov["topk"]++
		if o.exprs != nil {
			cov["topk with a fused map"]++
		}
	case *reduceOp:
		if o.monotonic {
			cov["reduce min/max"]++
		}
	case *accumReduceOp:
		if o.monotonic {
			cov["reduce accumulable"]++
		}
		if o.nonNegative {
			cov["reduce accumulable over a non-negative input"]++
		}
	case *joinOp:
		if o.fin != nil && o.fin.transient {
			cov["join with transient rows"]++
		}
		for _, p := range o.projs {
			if p != nil {
				cov["join with a fused Project"]++
				break
			}
		}
		for _, st := range o.stages {
			if st.leftApp != nil || st.rightApp != nil {
				cov["join"]++
				break
			}
		}
	}
	for _, in := range inst.inputs {
		monotonicOps(in, cov)
	}
}

// gen generates random schemas, plans and data from one seed.
type gen struct {
	r       *rand.Rand
	sources map[timely.GlobalId]Schema
	ids     []timely.GlobalId
	// appendOnly sources get only insertions, and their Gets declare it,
	// so the operators' monotonic paths (monotonic.go) are checked too.
	appendOnly map[timely.GlobalId]bool
}

var genTypes = []Type{TypeInt64, TypeInt64, TypeInt64, TypeString, TypeBool, TypeFloat64, TypeBytes, TypeTimestamp}

func (g *gen) schema() Schema {
	n := 1 + g.r.Intn(4)
	s := make(Schema, n)
	for i := range s {
		s[i] = Column{Name: fmt.Sprintf("c%d", i), Type: genTypes[g.r.Intn(len(genTypes))], Nullable: g.r.Intn(3) == 0}
	}
	return s
}

func (g *gen) datum(c Column) Datum {
	if c.Nullable && g.r.Intn(5) == 0 {
		return Null()
	}
	return g.value(c.Type)
}

func (g *gen) value(t Type) Datum {
	switch t {
	case TypeInt64:
		return Int64(int64(g.r.Intn(9) - 3))
	case TypeString:
		return String([]string{"", "a", "b", "Ab", "héllo"}[g.r.Intn(5)])
	case TypeBool:
		return Bool(g.r.Intn(2) == 0)
	case TypeFloat64:
		return Float64([]float64{-1.5, 0.5, 2, 3.25}[g.r.Intn(4)])
	case TypeBytes:
		return Bytes([]byte{byte(g.r.Intn(3))})
	default:
		return Timestamp(timely.Timestamp(g.r.Intn(4)))
	}
}

func (g *gen) row(s Schema) Row {
	r := make(Row, len(s))
	for i, c := range s {
		r[i] = g.datum(c)
	}
	return r
}

// expr returns an expression of type want over schema, or nil if it cannot.
func (g *gen) expr(s Schema, want Type, depth int) *messages.Expr {
	var cols []int
	for i, c := range s {
		if c.Type == want {
			cols = append(cols, i)
		}
	}
	leaf := func() *messages.Expr {
		if len(cols) > 0 && g.r.Intn(4) != 0 {
			return colE(cols[g.r.Intn(len(cols))])
		}
		if g.r.Intn(8) == 0 {
			return nullE(want)
		}
		return litE(g.value(want))
	}
	if depth <= 0 || g.r.Intn(3) == 0 {
		return leaf()
	}
	sub := func(t Type) *messages.Expr { return g.expr(s, t, depth-1) }
	switch g.r.Intn(6) {
	case 0:
		return caseE(sub(want), sub(TypeBool), sub(want))
	case 1:
		return coalesceE(sub(want), sub(want))
	}
	switch want {
	case TypeInt64:
		switch g.r.Intn(6) {
		case 0:
			return callE(messages.Func_FUNC_ABS, sub(TypeInt64))
		case 1:
			return callE(messages.Func_FUNC_LENGTH, sub(TypeString))
		case 2:
			from := []Type{TypeFloat64, TypeTimestamp, TypeString, TypeBool}[g.r.Intn(4)]
			return castE(sub(from), TypeInt64)
		case 3:
			return binE(opSub, sub(TypeTimestamp), sub(TypeTimestamp))
		default:
			ops := []messages.BinaryOp{opAdd, opSub, opMul, opDiv, opMod}
			return binE(ops[g.r.Intn(len(ops))], sub(TypeInt64), sub(TypeInt64))
		}
	case TypeTimestamp:
		switch g.r.Intn(3) {
		case 0:
			return castE(sub(TypeInt64), TypeTimestamp)
		case 1:
			return binE(opAdd, sub(TypeTimestamp), sub(TypeInt64))
		default:
			return binE(opSub, sub(TypeTimestamp), sub(TypeInt64))
		}
	case TypeFloat64:
		if g.r.Intn(4) == 0 {
			return castE(sub(TypeInt64), TypeFloat64)
		}
		ops := []messages.BinaryOp{opAdd, opSub, opMul, opDiv}
		return binE(ops[g.r.Intn(len(ops))], sub(TypeFloat64), sub(TypeInt64))
	case TypeString:
		switch g.r.Intn(4) {
		case 3:
			return castE(sub(genTypes[g.r.Intn(len(genTypes))]), TypeString)
		case 0:
			return callE(messages.Func_FUNC_UPPER, sub(TypeString))
		case 1:
			return callE(messages.Func_FUNC_LOWER, sub(TypeString))
		default:
			return callE(messages.Func_FUNC_SUBSTRING, sub(TypeString), sub(TypeInt64), sub(TypeInt64))
		}
	case TypeBool:
		switch g.r.Intn(5) {
		case 0:
			return unE(messages.UnaryOp_UNARY_OP_NOT, sub(TypeBool))
		case 1:
			return unE(messages.UnaryOp_UNARY_OP_IS_NULL, sub(genTypes[g.r.Intn(len(genTypes))]))
		case 2:
			return binE([]messages.BinaryOp{opAnd, opOr}[g.r.Intn(2)], sub(TypeBool), sub(TypeBool))
		default:
			t := genTypes[g.r.Intn(len(genTypes))]
			ops := []messages.BinaryOp{opEq, opNe, opLt, opLe, opGt, opGe}
			return binE(ops[g.r.Intn(len(ops))], sub(t), sub(t))
		}
	}
	return leaf()
}

func (g *gen) compile(p *messages.Plan) (Schema, bool) {
	c, err := Compile(p, g.sources)
	if err != nil {
		return nil, false
	}
	return c.Schema(), true
}

// plan returns a random plan that compiles, with its schema.
func (g *gen) plan(depth int) (*messages.Plan, Schema) {
	if depth <= 0 || g.r.Intn(5) == 0 {
		if g.r.Intn(12) == 0 {
			s := g.schema()
			var rows []Row
			for i := g.r.Intn(4); i > 0; i-- {
				rows = append(rows, g.row(s))
			}
			return constP(s, rows...), s
		}
		id := g.ids[g.r.Intn(len(g.ids))]
		if g.appendOnly[id] {
			return appendOnlyP(id), g.sources[id]
		}
		return getP(id), g.sources[id]
	}
	in, s := g.plan(depth - 1)
	pick := func() int { return g.r.Intn(len(s)) }
	someCols := func(max int) []int {
		n := g.r.Intn(max + 1)
		out := make([]int, n)
		for i := range out {
			out[i] = pick()
		}
		return out
	}
	var p *messages.Plan
	switch g.r.Intn(12) {
	case 0, 1:
		p = filterP(in, g.expr(s, TypeBool, 3))
	case 2:
		t := genTypes[g.r.Intn(len(genTypes))]
		p = mapP(in, g.expr(s, t, 3))
	case 3:
		cols := someCols(3)
		if len(cols) == 0 {
			cols = []int{pick()}
		}
		p = projectP(in, cols...)
	case 4:
		if g.r.Intn(4) == 0 { // a Filter or Project over a Join, which the join fuses
			joined := g.join(in, s, depth, false)
			if js, ok := g.compile(joined); ok {
				var fused *messages.Plan
				if g.r.Intn(2) == 0 {
					fused = filterP(joined, g.expr(js, TypeBool, 2))
				} else {
					fused = projectP(joined, g.r.Intn(len(js)), g.r.Intn(len(js)))
				}
				if fs, ok := g.compile(fused); ok {
					in, s = fused, fs
				}
			}
		}
		key := someCols(2)
		var aggs []*messages.Aggregate
		for i := g.r.Intn(3); i >= 0; i-- {
			fn := []messages.AggregateFunc{aggCountW, aggSumW, aggMinW, aggMaxW, aggAvgW}[g.r.Intn(5)]
			col := pick()
			if fn == aggCountW && g.r.Intn(2) == 0 {
				col = -1
			}
			if (fn == aggSumW || fn == aggAvgW) && !isNumeric(s[col].Type) {
				fn = aggMaxW
			}
			aggs = append(aggs, agg(fn, col))
		}
		p = reduceP(in, key, aggs...)
	case 5:
		p = g.join(in, s, depth, true)
	case 6:
		q, _ := g.plan(depth - 1)
		if g.r.Intn(2) == 0 {
			q = in // self union is the common case that type checks
		}
		p = unionP(in, negateP(filterP(q, g.expr(s, TypeBool, 2))))
	case 7:
		p = distinctP(in)
	case 8:
		p = negateP(in)
	case 9:
		if g.r.Intn(3) == 0 { // a Map under the TopK, which a monotonic TopK fuses
			m := mapP(in, g.expr(s, genTypes[g.r.Intn(len(genTypes))], 2))
			if ms, ok := g.compile(m); ok {
				in, s = m, ms
			}
		}
		var order []*messages.OrderColumn
		for i := g.r.Intn(3); i > 0; i-- {
			order = append(order, orderBy(pick(), g.r.Intn(2) == 0, g.r.Intn(2) == 0))
		}
		p = topKP(in, someCols(1), order, int64(g.r.Intn(4))-1, uint64(g.r.Intn(3)))
	case 11:
		// Bounds between 0 and about 20, the times the test runs through.
		bound := func() *messages.Expr {
			switch g.r.Intn(3) {
			case 0:
				return nil
			case 1:
				return litE(Timestamp(timely.Timestamp(g.r.Intn(16))))
			}
			abs := callE(messages.Func_FUNC_ABS, g.expr(s, TypeInt64, 1))
			return castE(binE(opMod, abs, litE(Int64(16))), TypeTimestamp)
		}
		from, until := bound(), bound()
		if from != nil && g.r.Intn(2) == 0 { // a sliding window
			until = binE(opAdd, from, litE(Int64(int64(1+g.r.Intn(6)))))
		}
		p = temporalP(in, from, until)
	default:
		p = arrangeP(in, someCols(2)...)
	}
	if ps, ok := g.compile(p); ok {
		return p, ps
	}
	return in, s
}

// join returns a random join of in (schema s) with one other random plan,
// or two when three is set.
func (g *gen) join(in *messages.Plan, s Schema, depth int, three bool) *messages.Plan {
	n := 2
	if three && g.r.Intn(2) == 0 {
		n = 3
	}
	inputs := []*messages.Plan{in}
	schemas := []Schema{s}
	for len(inputs) < n {
		q, qs := g.plan(depth - 1)
		inputs = append(inputs, q)
		schemas = append(schemas, qs)
	}
	var eqs []*messages.Equivalence
	for i := g.r.Intn(3); i > 0; i-- {
		a, b := g.r.Intn(n), g.r.Intn(n)
		ca := g.r.Intn(len(schemas[a]))
		var cands []int
		for j, c := range schemas[b] {
			if c.Type == schemas[a][ca].Type && (a != b || j != ca) {
				cands = append(cands, j)
			}
		}
		if len(cands) > 0 {
			eqs = append(eqs, eqv(a, ca, b, cands[g.r.Intn(len(cands))]))
		}
	}
	if len(eqs) == 0 && n > 2 {
		// Cross products of three inputs get large; keep them to two.
		inputs = inputs[:2]
	}
	return joinP(inputs, eqs...)
}

func rowKey(r Row) string {
	var b strings.Builder
	for _, d := range r {
		if d.Type() == TypeFloat64 && d.AsFloat64() == 0 {
			d = Float64(0)
		}
		fmt.Fprintf(&b, "%d:%s|", d.Type(), d)
	}
	return b.String()
}

// multiset is a collection as a map from row key to multiplicity.
type multiset map[string]int64

func (m multiset) add(r Row, diff int64) {
	k := rowKey(r)
	m[k] += diff
	if m[k] == 0 {
		delete(m, k)
	}
}

func (m multiset) String() string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(keys)
	return "{" + strings.Join(keys, "; ") + "}"
}

func equalMultisets(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// maxCheckedRows bounds the distinct output rows a plan of the property
// test is checked with: a cross product of growing append-only inputs can
// reach millions and take most of the test's time, for no more coverage.
const maxCheckedRows = 5000

var errTooLarge = errors.New("output too large to check")

func runProperty(seed int64, cov map[string]int) error {
	g := &gen{r: rand.New(rand.NewSource(seed)), sources: map[timely.GlobalId]Schema{}, appendOnly: map[timely.GlobalId]bool{}}
	shared := g.r.Intn(3) == 0 // sources share one schema, so unions across them type check
	for i := 1 + g.r.Intn(3); i > 0; i-- {
		id := timely.UserId(uint64(len(g.ids) + 1))
		if shared && len(g.ids) > 0 {
			g.sources[id] = g.sources[g.ids[0]]
		} else {
			g.sources[id] = g.schema()
		}
		g.ids = append(g.ids, id)
		g.appendOnly[id] = g.r.Intn(2) == 0
	}
	w, _ := g.plan(1 + g.r.Intn(4))
	plan, err := Compile(w, g.sources)
	if err != nil {
		return fmt.Errorf("generated plan does not compile: %v", err)
	}
	const maxTime = 12
	// Temporal filters change the output until about maxTime+21; the test
	// checks every time before checkUntil.
	const checkUntil = maxTime + 24
	asOf := timely.Timestamp(0)
	if g.r.Intn(3) == 0 {
		asOf = timely.Timestamp(g.r.Intn(4))
	}
	// Each source's history: valid inserts and retractions at times 0..maxTime-1.
	history := map[timely.GlobalId][]Update{}
	for _, id := range plan.Sources() {
		var live []Row
		for tm := timely.Timestamp(0); tm < maxTime; tm++ {
			perTime := 4
			if g.appendOnly[id] {
				perTime = 3 // no retractions: keep the live set as small as the others'
			}
			for n := g.r.Intn(perTime); n > 0; n-- {
				if len(live) > 0 && !g.appendOnly[id] && g.r.Intn(3) == 0 {
					i := g.r.Intn(len(live))
					history[id] = append(history[id], Update{Row: live[i], Time: tm, Diff: -1})
					live = append(live[:i], live[i+1:]...)
					continue
				}
				r := g.row(g.sources[id])
				copies := 1 + g.r.Intn(4)/3 // sometimes two copies in one update
				history[id] = append(history[id], Update{Row: r, Time: tm, Diff: int64(copies)})
				for ; copies > 0; copies-- {
					live = append(live, r)
				}
			}
		}
	}
	df := NewDataflow(plan, Config{AsOf: asOf})
	monotonicOps(df.root, cov)
	got := multiset{}
	gotErrs := map[string]int64{}
	checked := timely.At(asOf) // times before this have been checked
	frontiers := map[timely.GlobalId]timely.Timestamp{}
	pushed := map[timely.GlobalId]int{}
	describe := func() string { return fmt.Sprintf("plan:\n%sas_of %d", plan, asOf) }

	check := func() error {
		us, es := df.TakeOutput()
		for i := 1; i < len(us); i++ {
			a, b := us[i-1], us[i]
			if a.Time > b.Time || (a.Time == b.Time && a.Row.Compare(b.Row) >= 0) || b.Diff == 0 {
				return fmt.Errorf("TakeOutput is not consolidated in (time, row) order: %v then %v", a, b)
			}
		}
		upper := df.OutputFrontier()
		for _, u := range us {
			if upper.Admits(u.Time) || u.Time < asOf {
				return fmt.Errorf("output update at %d outside [as_of %d, upper %s)\n%s", u.Time, asOf, upper, describe())
			}
			if err := plan.Schema().Validate(u.Row); err != nil {
				return fmt.Errorf("output row does not match the plan's schema: %v\n%s", err, describe())
			}
		}
		for c, _ := checked.Time(); upper.LessThan(timely.Closed()) || true; c++ {
			if !checked.LessThan(upper) || c >= checkUntil {
				break
			}
			for _, u := range us {
				if u.Time == c {
					got.add(u.Row, u.Diff)
				}
			}
			for _, e := range es {
				if e.Time == c {
					gotErrs[e.Err] += e.Diff
					if gotErrs[e.Err] == 0 {
						delete(gotErrs, e.Err)
					}
				}
			}
			want, wantErrs, err := oracleAt(plan, history, c)
			if err != nil {
				return err
			}
			if len(want) > maxCheckedRows {
				return errTooLarge
			}
			if !equalMultisets(got, want) || !equalMultisets(gotErrs, wantErrs) {
				return fmt.Errorf("at time %d:\nincremental %v errors %v\noracle      %v errors %v\n%s", c, got, gotErrs, want, wantErrs, describe())
			}
			if err := checkPeek(df, c, want, wantErrs); err != nil {
				return fmt.Errorf("%v\n%s", err, describe())
			}
			if err := checkKeyPeek(g.r, df, c, wantErrs); err != nil {
				return fmt.Errorf("%v\n%s", err, describe())
			}
			checked = timely.At(c + 1)
		}
		return nil
	}

	for round := 0; ; round++ {
		if round > 200 {
			return fmt.Errorf("stream did not finish\n%s", describe())
		}
		open := []timely.GlobalId{}
		for _, id := range plan.Sources() {
			if f, _ := df.InputFrontier(id); !f.IsEmpty() {
				open = append(open, id)
			}
		}
		if len(open) == 0 {
			break
		}
		id := open[g.r.Intn(len(open))]
		f := frontiers[id]
		next := f + timely.Timestamp(g.r.Intn(4))
		// Push this source's updates before next (maybe some later ones too), shuffled.
		var batch []Update
		h := history[id]
		for pushed[id] < len(h) && h[pushed[id]].Time < next+timely.Timestamp(g.r.Intn(2)) {
			batch = append(batch, h[pushed[id]])
			pushed[id]++
		}
		g.r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		if err := df.Push(id, batch); err != nil {
			return fmt.Errorf("push: %v\n%s", err, describe())
		}
		var nf timely.Frontier
		if next >= maxTime && pushed[id] == len(h) {
			nf = timely.Closed()
		} else {
			if pushed[id] < len(h) && h[pushed[id]].Time < next {
				next = h[pushed[id]].Time
			}
			nf = timely.At(next)
			frontiers[id] = next
		}
		if err := df.AdvanceInput(id, nf); err != nil {
			return fmt.Errorf("advance: %v\n%s", err, describe())
		}
		if err := check(); errors.Is(err, errTooLarge) {
			cov["plans stopped at more than 5000 output rows"]++
			return nil
		} else if err != nil {
			return err
		}
		// Compact now and then, to a time the output frontier has passed.
		if g.r.Intn(3) == 0 {
			up, _ := df.OutputFrontier().Time()
			if df.OutputFrontier().IsEmpty() {
				up = checkUntil
			}
			s, _ := df.Since().Time()
			if up > s {
				since := s + timely.Timestamp(g.r.Intn(int(up-s)+1))
				if err := df.Compact(timely.At(since)); err != nil {
					return fmt.Errorf("compact: %v", err)
				}
				if since > 0 {
					if _, err := df.Peek(PeekSpec{Time: since - 1}); !errors.Is(err, ErrCompacted) {
						return fmt.Errorf("peek before since %d: want ErrCompacted, got %v\n%s", since, err, describe())
					}
				}
				for c := since; c < up && c < checkUntil; c++ {
					want, wantErrs, err := oracleAt(plan, history, c)
					if err != nil {
						return err
					}
					if err := checkPeek(df, c, want, wantErrs); err != nil {
						return fmt.Errorf("after compaction to %d: %v\n%s", since, err, describe())
					}
				}
			}
		}
	}
	if !df.OutputFrontier().IsEmpty() {
		return fmt.Errorf("output frontier %s not closed after all inputs closed", df.OutputFrontier())
	}
	// Compacted to the end, the output arrangement holds one entry per
	// distinct live row: memory follows the live data, not the history.
	end, _ := df.Since().Time()
	end = max(end, checkUntil)
	if err := df.Compact(timely.At(end)); err != nil {
		return err
	}
	want, _, err := oracleAt(plan, history, end)
	if err != nil {
		return err
	}
	if st := df.Stats(); st.OutputEntries != len(want) || st.Pending != 0 {
		return fmt.Errorf("after compaction to the end: %d output entries and %d pending updates, want %d entries (one per distinct row) and none pending\n%s",
			st.OutputEntries, st.Pending, len(want), describe())
	}
	return nil
}

// oracleAt evaluates the plan from scratch over the sources at time t.
func oracleAt(plan *Plan, history map[timely.GlobalId][]Update, t timely.Timestamp) (multiset, map[string]int64, error) {
	contents := map[timely.GlobalId][]Update{}
	for id, h := range history {
		for _, u := range h {
			if u.Time <= t {
				contents[id] = append(contents[id], u)
			}
		}
	}
	c, err := EvaluateAt(plan, contents, t)
	if err != nil {
		return nil, nil, fmt.Errorf("oracle: %w", err)
	}
	m := multiset{}
	for i, r := range c.Rows {
		m.add(r, c.Diffs[i])
	}
	return m, c.Errors, nil
}

// checkPeek compares a peek at t with the oracle's answer.
func checkPeek(df *Dataflow, t timely.Timestamp, want multiset, wantErrs map[string]int64) error {
	rows, err := df.Peek(PeekSpec{Time: t})
	hasErr := false
	for _, n := range wantErrs {
		if n > 0 {
			hasErr = true
		}
	}
	negative := false
	for _, n := range want {
		if n < 0 {
			negative = true
		}
	}
	switch {
	case hasErr || negative:
		if !errors.Is(err, ErrEval) {
			return fmt.Errorf("peek at %d: want an evaluation error (errors %v, rows %v), got rows %d err %v", t, wantErrs, want, len(rows), err)
		}
		if _, uerr := df.Peek(PeekSpec{Time: t, Unordered: true}); uerr == nil || uerr.Error() != err.Error() {
			return fmt.Errorf("unordered peek at %d: got error %v, want %v", t, uerr, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("peek at %d: %v", t, err)
	}
	got := multiset{}
	for _, r := range rows {
		got.add(r, 1)
	}
	if !equalMultisets(got, want) {
		return fmt.Errorf("peek at %d: got %v, want %v", t, got, want)
	}
	if !slices.IsSortedFunc(rows, Row.Compare) {
		return fmt.Errorf("peek at %d: rows not in row order: %v", t, rows)
	}
	// An unordered peek returns the same rows, in any order.
	unordered, err := df.Peek(PeekSpec{Time: t, Unordered: true})
	if err != nil {
		return fmt.Errorf("unordered peek at %d: %v", t, err)
	}
	got = multiset{}
	for _, r := range unordered {
		got.add(r, 1)
	}
	if !equalMultisets(got, want) {
		return fmt.Errorf("unordered peek at %d: got %v, want %v", t, got, want)
	}
	return nil
}

// checkKeyPeek peeks one key of the output arrangement (the key of a live
// row, chosen at random) and compares with the rows of a full peek (which
// checkPeek compared with the oracle) under that key.
func checkKeyPeek(r *rand.Rand, df *Dataflow, t timely.Timestamp, wantErrs map[string]int64) error {
	if len(wantErrs) > 0 {
		return nil
	}
	rows, err := df.Peek(PeekSpec{Time: t})
	if err != nil || len(rows) == 0 {
		return nil // checkPeek judged this peek already
	}
	keyCols := df.Plan().ArrangementKey()
	key := rows[r.Intn(len(rows))].project(keyCols)
	got, err := df.Peek(PeekSpec{Time: t, Key: key})
	if err != nil {
		return fmt.Errorf("peek key %s at %d: %v", key, t, err)
	}
	gotSet, wantSet := multiset{}, multiset{}
	for _, row := range got {
		gotSet.add(row, 1)
	}
	for _, row := range rows {
		if row.project(keyCols).Equal(key) {
			wantSet.add(row, 1)
		}
	}
	if !equalMultisets(gotSet, wantSet) {
		return fmt.Errorf("peek key %s at %d: got %v, want %v", key, t, gotSet, wantSet)
	}
	return nil
}

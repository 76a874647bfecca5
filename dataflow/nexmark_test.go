package dataflow

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A Nexmark-style workload: a seeded stream of persons, auctions and bids in
// Nexmark's proportions (1:3:46), the queries q0, q1, q2, q3, q4, q7 and a
// tumbling-window q7 written as plans, and beside each a hand-written Go
// implementation of the same query (the "limit": what a program written for
// that one query costs). Both maintain their result incrementally as events
// arrive; TestNexmarkEngineMatchesLimit checks that they agree and
// BenchmarkNexmark (nexmark_bench_test.go) times them.
//
// Event time is one millisecond per event; columns named date_time and
// expires are int64 milliseconds.

var (
	nexPersons  = timely.UserId(11)
	nexAuctions = timely.UserId(12)
	nexBids     = timely.UserId(13)

	nexPersonSchema = Schema{
		{Name: "id", Type: TypeInt64}, {Name: "name", Type: TypeString}, {Name: "email", Type: TypeString},
		{Name: "city", Type: TypeString}, {Name: "state", Type: TypeString}, {Name: "date_time", Type: TypeInt64},
	}
	nexAuctionSchema = Schema{
		{Name: "id", Type: TypeInt64}, {Name: "item_name", Type: TypeString}, {Name: "seller", Type: TypeInt64},
		{Name: "category", Type: TypeInt64}, {Name: "initial_bid", Type: TypeInt64}, {Name: "reserve", Type: TypeInt64},
		{Name: "date_time", Type: TypeInt64}, {Name: "expires", Type: TypeInt64},
	}
	nexBidSchema = Schema{
		{Name: "auction", Type: TypeInt64}, {Name: "bidder", Type: TypeInt64}, {Name: "price", Type: TypeInt64},
		{Name: "channel", Type: TypeString}, {Name: "date_time", Type: TypeInt64},
	}
)

type nexPerson struct {
	id                       int64
	name, email, city, state string
	dateTime                 int64
}

type nexAuction struct {
	id                                    int64
	itemName                              string
	seller, category, initialBid, reserve int64
	dateTime, expires                     int64
}

type nexBid struct {
	auction, bidder, price int64
	channel                string
	dateTime               int64
}

func (p *nexPerson) row() Row {
	return Row{Int64(p.id), String(p.name), String(p.email), String(p.city), String(p.state), Int64(p.dateTime)}
}

func (a *nexAuction) row() Row {
	return Row{Int64(a.id), String(a.itemName), Int64(a.seller), Int64(a.category), Int64(a.initialBid),
		Int64(a.reserve), Int64(a.dateTime), Int64(a.expires)}
}

func (b *nexBid) row() Row {
	return Row{Int64(b.auction), Int64(b.bidder), Int64(b.price), String(b.channel), Int64(b.dateTime)}
}

const (
	nexKindPerson = iota
	nexKindAuction
	nexKindBid
)

// nexEvent is one event of the stream: its kind and its index in the
// stream's slice of that kind.
type nexEvent struct {
	kind uint8
	idx  int32
}

// nexStream is a generated Nexmark stream: the events in order, their
// typed values (for the hand-written queries) and, per batch of
// nexBatch events, the updates of each source (for the engine).
type nexStream struct {
	events   []nexEvent
	persons  []nexPerson
	auctions []nexAuction
	bids     []nexBid
	// batches[i][source] holds the updates of batch i, all at time i.
	batches []map[timely.GlobalId][]Update
}

const nexBatch = 1000

var (
	nexFirst    = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nexLast     = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nexCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nexStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nexItems    = []string{"bicycle", "lamp", "clock", "vase", "chair", "radio", "camera", "guitar"}
	nexChannels = []string{"apple", "google", "facebook", "baidu"}
)

// nexGenerate generates n events from seed: of every 50 events one is a
// person, three are auctions and 46 are bids. Sellers and bidders are
// existing persons and bids go to existing auctions, mostly recent ("hot")
// ones, so every reference resolves.
func nexGenerate(seed int64, n int) *nexStream {
	r := rand.New(rand.NewSource(seed))
	s := &nexStream{events: make([]nexEvent, 0, n)}
	for i := 0; i < n; i++ {
		dt := int64(i)
		switch m := i % 50; {
		case m == 0:
			id := int64(1000 + len(s.persons))
			first, last := nexFirst[r.Intn(len(nexFirst))], nexLast[r.Intn(len(nexLast))]
			s.events = append(s.events, nexEvent{kind: nexKindPerson, idx: int32(len(s.persons))})
			s.persons = append(s.persons, nexPerson{id: id, name: first + " " + last, email: first + "@" + last + ".com",
				city: nexCities[r.Intn(len(nexCities))], state: nexStates[r.Intn(len(nexStates))], dateTime: dt})
		case m <= 3:
			id := int64(1000 + len(s.auctions))
			initial := 100 + r.Int63n(1000)
			s.events = append(s.events, nexEvent{kind: nexKindAuction, idx: int32(len(s.auctions))})
			s.auctions = append(s.auctions, nexAuction{id: id, itemName: nexItems[r.Intn(len(nexItems))],
				seller: nexHot(r, len(s.persons)), category: 10 + r.Int63n(5), initialBid: initial,
				reserve: initial + r.Int63n(1000), dateTime: dt, expires: dt + 2000 + r.Int63n(20000)})
		default:
			s.events = append(s.events, nexEvent{kind: nexKindBid, idx: int32(len(s.bids))})
			s.bids = append(s.bids, nexBid{auction: nexHot(r, len(s.auctions)), bidder: nexHot(r, len(s.persons)),
				price: 100 + int64(r.ExpFloat64()*5000), channel: nexChannels[r.Intn(len(nexChannels))], dateTime: dt})
		}
	}
	for start := 0; start < n; start += nexBatch {
		t := timely.Timestamp(start / nexBatch)
		b := map[timely.GlobalId][]Update{}
		for _, e := range s.events[start:min(start+nexBatch, n)] {
			var id timely.GlobalId
			var row Row
			switch e.kind {
			case nexKindPerson:
				id, row = nexPersons, s.persons[e.idx].row()
			case nexKindAuction:
				id, row = nexAuctions, s.auctions[e.idx].row()
			default:
				id, row = nexBids, s.bids[e.idx].row()
			}
			b[id] = append(b[id], Update{Row: row, Time: t, Diff: 1})
		}
		s.batches = append(s.batches, b)
	}
	return s
}

// nexHot picks an id among n existing ones (ids start at 1000): nine times
// in ten one of the 100 newest, else any.
func nexHot(r *rand.Rand, n int) int64 {
	if n <= 100 || r.Intn(10) != 0 {
		return 1000 + int64(n-1-r.Intn(min(n, 100)))
	}
	return 1000 + int64(r.Intn(n))
}

// nexLimit is a hand-written implementation of one query: it maintains the
// query's result as events arrive, with native Go types.
type nexLimit interface {
	person(p *nexPerson)
	auction(a *nexAuction)
	bid(b *nexBid)
	// result returns the current result as rows, each row as many times as
	// its multiplicity, in no particular order.
	result() []Row
}

// nexQuery is one Nexmark query: its plan and its hand-written limit.
type nexQuery struct {
	name  string
	plan  func() *messages.Plan
	limit func() nexLimit
}

var nexQueries = []nexQuery{
	{"q0", nexQ0, func() nexLimit { return &nexQ0Limit{out: map[nexBid]int64{}} }},
	{"q1", nexQ1, func() nexLimit { return &nexQ1Limit{out: map[nexBid]int64{}} }},
	{"q2", nexQ2, func() nexLimit { return &nexQ2Limit{out: map[[2]int64]int64{}} }},
	{"q3", nexQ3, newNexQ3Limit},
	{"q4", nexQ4, newNexQ4Limit},
	{"q4-closed", nexQ4Closed, newNexQ4ClosedLimit},
	{"q7", nexQ7, func() nexLimit { return &nexQ7Limit{} }},
	{"q7-tumble", nexQ7Tumble, func() nexLimit { return &nexQ7TumbleLimit{best: map[int64]nexBid{}} }},
}

// nexGet reads a Nexmark source, declared append-only: a Nexmark stream
// only ever inserts events, and the operators over it keep less state for
// that (monotonic.go). TestNexmarkEngineMatchesLimit also runs every query
// without the declaration.
func nexGet(id timely.GlobalId) *messages.Plan { return appendOnlyP(id) }

// withoutAppendOnly returns a copy of w whose Gets do not declare their
// sources append-only.
func withoutAppendOnly(w *messages.Plan) *messages.Plan {
	w = proto.Clone(w).(*messages.Plan)
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if g, ok := m.Interface().(*messages.GetPlan); ok {
			g.AppendOnly = false
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(w.ProtoReflect())
	return w
}

func nexCompile(tb testing.TB, w *messages.Plan) *Plan {
	tb.Helper()
	p, err := Compile(w, map[timely.GlobalId]Schema{nexPersons: nexPersonSchema, nexAuctions: nexAuctionSchema, nexBids: nexBidSchema})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// q0, pass-through: every bid.
func nexQ0() *messages.Plan { return nexGet(nexBids) }

type nexQ0Limit struct{ out map[nexBid]int64 }

func (*nexQ0Limit) person(*nexPerson)   {}
func (*nexQ0Limit) auction(*nexAuction) {}
func (l *nexQ0Limit) bid(b *nexBid)     { l.out[*b]++ }
func (l *nexQ0Limit) result() []Row {
	var out []Row
	for b, n := range l.out {
		for range n {
			out = append(out, b.row())
		}
	}
	return out
}

// q1, currency conversion: (auction, bidder, price * 908 / 1000, date_time).
func nexQ1() *messages.Plan {
	euro := binE(opDiv, binE(opMul, colE(2), litE(Int64(908))), litE(Int64(1000)))
	return projectP(mapP(nexGet(nexBids), euro), 0, 1, 5, 4)
}

type nexQ1Limit struct{ out map[nexBid]int64 } // channel unused

func (*nexQ1Limit) person(*nexPerson)   {}
func (*nexQ1Limit) auction(*nexAuction) {}
func (l *nexQ1Limit) bid(b *nexBid) {
	l.out[nexBid{auction: b.auction, bidder: b.bidder, price: b.price * 908 / 1000, dateTime: b.dateTime}]++
}
func (l *nexQ1Limit) result() []Row {
	var out []Row
	for b, n := range l.out {
		for range n {
			out = append(out, Row{Int64(b.auction), Int64(b.bidder), Int64(b.price), Int64(b.dateTime)})
		}
	}
	return out
}

// q2, selection: (auction, price) of the bids on auctions whose id is a
// multiple of 123.
func nexQ2() *messages.Plan {
	return projectP(filterP(nexGet(nexBids), binE(opEq, binE(opMod, colE(0), litE(Int64(123))), litE(Int64(0)))), 0, 2)
}

type nexQ2Limit struct{ out map[[2]int64]int64 }

func (*nexQ2Limit) person(*nexPerson)   {}
func (*nexQ2Limit) auction(*nexAuction) {}
func (l *nexQ2Limit) bid(b *nexBid) {
	if b.auction%123 == 0 {
		l.out[[2]int64{b.auction, b.price}]++
	}
}
func (l *nexQ2Limit) result() []Row {
	var out []Row
	for k, n := range l.out {
		for range n {
			out = append(out, Row{Int64(k[0]), Int64(k[1])})
		}
	}
	return out
}

// q3, local item suggestion: (name, city, state, auction id) of the
// category-10 auctions whose seller lives in OR, ID or CA.
func nexQ3() *messages.Plan {
	auctions := filterP(nexGet(nexAuctions), binE(opEq, colE(3), litE(Int64(10))))
	inState := func(s string) *messages.Expr { return binE(opEq, colE(4), litE(String(s))) }
	persons := filterP(nexGet(nexPersons), binE(opOr, binE(opOr, inState("OR"), inState("ID")), inState("CA")))
	// auction (8 columns) then person (6): name 9, city 11, state 12.
	return projectP(joinP([]*messages.Plan{auctions, persons}, eqv(0, 2, 1, 0)), 9, 11, 12, 0)
}

type nexQ3Out struct {
	name, city, state string
	auction           int64
}

type nexQ3Limit struct {
	persons  map[int64]*nexPerson // sellers in OR, ID or CA
	auctions map[int64][]int64    // seller -> ids of its category-10 auctions
	out      map[nexQ3Out]int64
}

func newNexQ3Limit() nexLimit {
	return &nexQ3Limit{persons: map[int64]*nexPerson{}, auctions: map[int64][]int64{}, out: map[nexQ3Out]int64{}}
}

func (l *nexQ3Limit) person(p *nexPerson) {
	if p.state != "OR" && p.state != "ID" && p.state != "CA" {
		return
	}
	l.persons[p.id] = p
	for _, a := range l.auctions[p.id] {
		l.out[nexQ3Out{p.name, p.city, p.state, a}]++
	}
}

func (l *nexQ3Limit) auction(a *nexAuction) {
	if a.category != 10 {
		return
	}
	l.auctions[a.seller] = append(l.auctions[a.seller], a.id)
	if p := l.persons[a.seller]; p != nil {
		l.out[nexQ3Out{p.name, p.city, p.state, a.id}]++
	}
}

func (*nexQ3Limit) bid(*nexBid) {}

func (l *nexQ3Limit) result() []Row {
	var out []Row
	for k, n := range l.out {
		for range n {
			out = append(out, Row{String(k.name), String(k.city), String(k.state), Int64(k.auction)})
		}
	}
	return out
}

// q4, average closing price per category: the highest bid of each auction
// among the bids placed while it was open, averaged per category. (Without
// temporal filters every auction counts, not only the closed ones.) The
// plan keeps only the columns it needs, as an optimizer would.
func nexQ4() *messages.Plan {
	auctions := projectP(nexGet(nexAuctions), 0, 3, 6, 7) // id, category, date_time, expires
	bids := projectP(nexGet(nexBids), 0, 2, 4)            // auction, price, date_time
	// (id, category, date_time, expires, auction, price, bid date_time)
	joined := joinP([]*messages.Plan{auctions, bids}, eqv(0, 0, 1, 0))
	open := filterP(joined, binE(opGe, colE(6), colE(2)), binE(opLe, colE(6), colE(3)))
	final := reduceP(projectP(open, 0, 1, 5), []int{0, 1}, agg(aggMaxW, 2)) // (id, category, final)
	return reduceP(final, []int{1}, agg(aggAvgW, 2))                        // (category, avg)
}

type nexQ4Auction struct {
	category, dateTime, expires int64
	final                       int64
	hasBid                      bool
}

type nexQ4Limit struct {
	auctions map[int64]*nexQ4Auction
	sum, cnt map[int64]int64 // per category: sum and count of finals
}

func newNexQ4Limit() nexLimit {
	return &nexQ4Limit{auctions: map[int64]*nexQ4Auction{}, sum: map[int64]int64{}, cnt: map[int64]int64{}}
}

func (*nexQ4Limit) person(*nexPerson) {}

func (l *nexQ4Limit) auction(a *nexAuction) {
	l.auctions[a.id] = &nexQ4Auction{category: a.category, dateTime: a.dateTime, expires: a.expires}
}

// bid assumes its auction arrived first, as the generator guarantees.
func (l *nexQ4Limit) bid(b *nexBid) {
	a := l.auctions[b.auction]
	if a == nil || b.dateTime < a.dateTime || b.dateTime > a.expires {
		return
	}
	switch {
	case !a.hasBid:
		a.final, a.hasBid = b.price, true
		l.sum[a.category] += b.price
		l.cnt[a.category]++
	case b.price > a.final:
		l.sum[a.category] += b.price - a.final
		a.final = b.price
	}
}

func (l *nexQ4Limit) result() []Row {
	var out []Row
	for c, n := range l.cnt {
		out = append(out, Row{Int64(c), Float64(float64(l.sum[c]) / float64(n))})
	}
	return out
}

// q4 over closed auctions only, as Nexmark defines it: a temporal filter
// shows an auction from the time it expires, so its winning bid counts from
// then on. The dataflow's time is the batch number, one per 1000 ms of
// event time, so an auction closes at time expires / 1000.
func nexQ4Closed() *messages.Plan {
	closesAt := castE(binE(opDiv, colE(3), litE(Int64(nexBatch))), TypeTimestamp)
	auctions := temporalP(projectP(nexGet(nexAuctions), 0, 3, 6, 7), closesAt, nil)
	bids := projectP(nexGet(nexBids), 0, 2, 4)
	joined := joinP([]*messages.Plan{auctions, bids}, eqv(0, 0, 1, 0))
	open := filterP(joined, binE(opGe, colE(6), colE(2)), binE(opLe, colE(6), colE(3)))
	final := reduceP(projectP(open, 0, 1, 5), []int{0, 1}, agg(aggMaxW, 2))
	return reduceP(final, []int{1}, agg(aggAvgW, 2))
}

type nexQ4ClosedAuction struct {
	nexQ4Auction
	closed bool
}

// nexQ4ClosedLimit is q4 with auctions counted from the batch they close
// in: auctions wait in buckets by closing batch, and the batch of the
// latest event says which buckets have closed.
type nexQ4ClosedLimit struct {
	auctions map[int64]*nexQ4ClosedAuction
	closing  map[int64][]*nexQ4ClosedAuction // by closing batch
	batch    int64                           // batch of the latest event
	sum, cnt map[int64]int64
}

func newNexQ4ClosedLimit() nexLimit {
	return &nexQ4ClosedLimit{auctions: map[int64]*nexQ4ClosedAuction{}, closing: map[int64][]*nexQ4ClosedAuction{},
		sum: map[int64]int64{}, cnt: map[int64]int64{}}
}

// advance closes the auctions of every batch up to that of dt.
func (l *nexQ4ClosedLimit) advance(dt int64) {
	for b := dt / nexBatch; l.batch < b; {
		l.batch++
		for _, a := range l.closing[l.batch] {
			a.closed = true
			if a.hasBid {
				l.sum[a.category] += a.final
				l.cnt[a.category]++
			}
		}
		delete(l.closing, l.batch)
	}
}

func (l *nexQ4ClosedLimit) person(p *nexPerson) { l.advance(p.dateTime) }

func (l *nexQ4ClosedLimit) auction(a *nexAuction) {
	l.advance(a.dateTime)
	x := &nexQ4ClosedAuction{nexQ4Auction: nexQ4Auction{category: a.category, dateTime: a.dateTime, expires: a.expires}}
	l.auctions[a.id] = x
	l.closing[a.expires/nexBatch] = append(l.closing[a.expires/nexBatch], x) // always a later batch
}

func (l *nexQ4ClosedLimit) bid(b *nexBid) {
	l.advance(b.dateTime)
	a := l.auctions[b.auction]
	if a == nil || b.dateTime < a.dateTime || b.dateTime > a.expires {
		return
	}
	switch {
	case !a.hasBid:
		a.final, a.hasBid = b.price, true
		if a.closed {
			l.sum[a.category] += b.price
			l.cnt[a.category]++
		}
	case b.price > a.final:
		if a.closed {
			l.sum[a.category] += b.price - a.final
		}
		a.final = b.price
	}
}

func (l *nexQ4ClosedLimit) result() []Row {
	var out []Row
	for c, n := range l.cnt {
		out = append(out, Row{Int64(c), Float64(float64(l.sum[c]) / float64(n))})
	}
	return out
}

// q7, highest bid: the bid with the highest price so far (ties go to the
// smallest bid row, as TopK breaks them).
func nexQ7() *messages.Plan {
	return topKP(nexGet(nexBids), nil, []*messages.OrderColumn{orderBy(2, true, false)}, 1, 0)
}

// nexBidBefore orders bids by price descending, then as rows.
func nexBidBefore(a, b *nexBid) bool {
	if a.price != b.price {
		return a.price > b.price
	}
	if a.auction != b.auction {
		return a.auction < b.auction
	}
	if a.bidder != b.bidder {
		return a.bidder < b.bidder
	}
	if a.channel != b.channel {
		return a.channel < b.channel
	}
	return a.dateTime < b.dateTime
}

type nexQ7Limit struct {
	best nexBid
	any  bool
}

func (*nexQ7Limit) person(*nexPerson)   {}
func (*nexQ7Limit) auction(*nexAuction) {}
func (l *nexQ7Limit) bid(b *nexBid) {
	if !l.any || nexBidBefore(b, &l.best) {
		l.best, l.any = *b, true
	}
}
func (l *nexQ7Limit) result() []Row {
	if !l.any {
		return nil
	}
	return []Row{l.best.row()}
}

// nexWindow is the length of q7's tumbling window in milliseconds.
const nexWindow = 10_000

// q7 over tumbling windows: the highest bid of each 10-second window, as
// (auction, bidder, price, channel, date_time, window).
func nexQ7Tumble() *messages.Plan {
	windowed := mapP(nexGet(nexBids), binE(opDiv, colE(4), litE(Int64(nexWindow))))
	return topKP(windowed, []int{5}, []*messages.OrderColumn{orderBy(2, true, false)}, 1, 0)
}

type nexQ7TumbleLimit struct{ best map[int64]nexBid }

func (*nexQ7TumbleLimit) person(*nexPerson)   {}
func (*nexQ7TumbleLimit) auction(*nexAuction) {}
func (l *nexQ7TumbleLimit) bid(b *nexBid) {
	w := b.dateTime / nexWindow
	if cur, ok := l.best[w]; !ok || nexBidBefore(b, &cur) {
		l.best[w] = *b
	}
}
func (l *nexQ7TumbleLimit) result() []Row {
	var out []Row
	for w, b := range l.best {
		out = append(out, append(b.row(), Int64(w)))
	}
	return out
}

// nexRunLimit feeds events [from, to) of the stream to a limit.
func nexRunLimit(l nexLimit, s *nexStream, from, to int) {
	for _, e := range s.events[from:to] {
		switch e.kind {
		case nexKindPerson:
			l.person(&s.persons[e.idx])
		case nexKindAuction:
			l.auction(&s.auctions[e.idx])
		default:
			l.bid(&s.bids[e.idx])
		}
	}
}

// nexRunEngine feeds batches [from, to) of the stream to a dataflow, batch
// i at time i, and advances every source past it; it takes the output and
// compacts the output arrangement after each batch, as a worker serving
// peeks at the newest time would.
func nexRunEngine(tb testing.TB, df *Dataflow, s *nexStream, from, to int) {
	for i := from; i < to; i++ {
		t := timely.Timestamp(i)
		for _, id := range df.Sources() {
			if err := df.Push(id, s.batches[i][id]); err != nil {
				tb.Fatal(err)
			}
		}
		for _, id := range df.Sources() {
			if err := df.AdvanceInput(id, timely.At(t+1)); err != nil {
				tb.Fatal(err)
			}
		}
		df.TakeOutput()
		if err := df.Compact(timely.At(t)); err != nil {
			tb.Fatal(err)
		}
	}
}

// Every Nexmark plan gives the same result as its hand-written limit, part
// way through the stream and at its end.
func TestNexmarkEngineMatchesLimit(t *testing.T) {
	const n = 30 * nexBatch // three q7 windows
	s := nexGenerate(7, n)
	for _, q := range nexQueries {
		for _, appendOnly := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/append-only=%v", q.name, appendOnly), func(t *testing.T) {
				w := q.plan()
				if !appendOnly {
					w = withoutAppendOnly(w)
				}
				nexMatchLimit(t, s, nexCompile(t, w), q.limit())
			})
		}
	}
}

// nexMatchLimit runs the stream through a plan and its limit and checks
// they agree a third of the way through and at the end.
func nexMatchLimit(t *testing.T, s *nexStream, p *Plan, l nexLimit) {
	n := len(s.events)
	df := NewDataflow(p, Config{DiscardUpdates: true})
	batches := len(s.batches)
	for _, upto := range []int{batches / 3, batches} {
		upper, _ := df.OutputFrontier().Time()
		from := int(upper)
		nexRunEngine(t, df, s, from, upto)
		nexRunLimit(l, s, from*nexBatch, min(upto*nexBatch, n))
		got, err := df.Peek(PeekSpec{Time: timely.Timestamp(upto - 1)})
		if err != nil {
			t.Fatal(err)
		}
		want := l.result()
		slices.SortFunc(want, Row.Compare)
		if len(got) == 0 {
			t.Fatalf("after %d batches: empty result", upto)
		}
		if !slices.EqualFunc(got, want, Row.Equal) {
			t.Fatalf("after %d batches: engine has %d rows, limit %d\nengine: %v\nlimit:  %v",
				upto, len(got), len(want), head(got), head(want))
		}
	}
}

func head(rs []Row) []Row { return rs[:min(len(rs), 5)] }

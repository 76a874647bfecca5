package runtime

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestPeekBookScripts runs the scripted scenarios in testdata/peeks
// against a PeekBook: each command prints the effects it caused, and the
// book's invariants are checked after every command. Regenerate with
// `go test ./actors/replica/runtime -run TestPeekBookScripts -rewrite`.
//
//	index id=<id> [since=<t>] [until=<t>] [installed] [flow=<n>]   describe an index export
//	unindex id=<id>                                               the export is gone
//	storage upper=<t>                                             storage is complete below t
//	peek p=<n> (index=<id> | persist=<id> | no-target) at=<t> [bad-uuid]
//	installed id=<id>                                             its flow was accepted
//	gone id=<id>                                                  its flow went away
//	pool-reply pool=<n> (rows=<n> | error=unknown-flow|dropped|compacted) [not-installed]
//	progress                                                      storage progressed
//	snapshot p=<n> (rows=<n> | not-yet | error)
//	cancel p=<n>
//	reset
//	state
func TestPeekBookScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/peeks", func(t *testing.T, path string) {
		s := &peekScript{book: NewPeekBook(), indexes: map[timely.GlobalId]IndexView{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out := s.run(t, d)
			if err := s.book.checkInvariants(); err != nil {
				t.Fatalf("%s: invariant broken: %v", d.Pos, err)
			}
			return out
		})
	})
}

type peekScript struct {
	book    *PeekBook
	indexes map[timely.GlobalId]IndexView
	upper   timely.Timestamp
}

func scriptUuid(n uint64) timely.Uuid {
	var u timely.Uuid
	u[15] = byte(n)
	return u
}

func (s *peekScript) index(id timely.GlobalId) IndexView { return s.indexes[id] }

func (s *peekScript) ready(_ *messages.ComputePersistTarget, t timely.Timestamp) bool {
	return t < s.upper
}

func arg(t *testing.T, d *datadriven.TestData, key string) string {
	t.Helper()
	var v string
	d.ScanArgs(t, key, &v)
	return v
}

func num(t *testing.T, d *datadriven.TestData, key string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(arg(t, d, key), 10, 64)
	if err != nil {
		t.Fatalf("%s: %s: %v", d.Pos, key, err)
	}
	return n
}

func id(t *testing.T, d *datadriven.TestData, key string) timely.GlobalId {
	t.Helper()
	g, err := timely.ParseGlobalId(arg(t, d, key))
	if err != nil {
		t.Fatalf("%s: %v", d.Pos, err)
	}
	return g
}

func (s *peekScript) run(t *testing.T, d *datadriven.TestData) string {
	var fx PeekEffects
	switch d.Cmd {
	case "index":
		v := IndexView{Known: true, Until: timely.Closed(), Installed: d.HasArg("installed"), Schema: dataflow.Schema{{Name: "a", Type: dataflow.TypeInt64}}}
		if d.HasArg("since") {
			v.Since = timely.Timestamp(num(t, d, "since"))
		}
		if d.HasArg("until") {
			v.Until = timely.At(timely.Timestamp(num(t, d, "until")))
		}
		if d.HasArg("flow") {
			v.Flow = pool.FlowId(num(t, d, "flow"))
		}
		s.indexes[id(t, d, "id")] = v
		return "ok"
	case "unindex":
		delete(s.indexes, id(t, d, "id"))
		return "ok"
	case "storage":
		s.upper = timely.Timestamp(num(t, d, "upper"))
		return "ok"
	case "peek":
		n := num(t, d, "p")
		u := messages.FromUuid(scriptUuid(n))
		if d.HasArg("bad-uuid") {
			u = nil
		}
		m := &messages.ComputePeek{Uuid: u, Timestamp: num(t, d, "at")}
		switch {
		case d.HasArg("index"):
			m.Target = &messages.ComputePeek_Index{Index: messages.FromGlobalId(id(t, d, "index"))}
		case d.HasArg("persist"):
			m.Target = &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(id(t, d, "persist"))}}
		}
		fx = s.book.Issue(m, s.index, s.ready)
	case "installed":
		g := id(t, d, "id")
		fx = s.book.FlowInstalled(g, s.indexes[g])
	case "gone":
		fx = s.book.FlowGone(id(t, d, "id"), messages.WithObject(fmt.Errorf("%w: %s", ErrDropped, id(t, d, "id")), id(t, d, "id").String()))
	case "pool-reply":
		r := &pool.PeekReply{Id: num(t, d, "pool")}
		switch {
		case d.HasArg("rows"):
			for i := uint64(0); i < num(t, d, "rows"); i++ {
				r.Rows = append(r.Rows, dataflow.Row{dataflow.Int64(int64(i))})
			}
		case d.HasArg("error"):
			switch arg(t, d, "error") {
			case "unknown-flow":
				r.Err = pool.ErrUnknownFlow
			case "dropped":
				r.Err = pool.ErrFlowDropped
			case "compacted":
				r.Err = dataflow.ErrCompacted
			default:
				r.Err = errors.New(arg(t, d, "error"))
			}
		}
		fx = s.book.PoolReply(r, !d.HasArg("not-installed"))
	case "progress":
		fx = s.book.PersistProgress(s.ready)
	case "snapshot":
		u := scriptUuid(num(t, d, "p"))
		switch {
		case d.HasArg("rows"):
			var rows []dataflow.Row
			for i := uint64(0); i < num(t, d, "rows"); i++ {
				rows = append(rows, dataflow.Row{dataflow.Int64(int64(i))})
			}
			fx = s.book.SnapshotDone(u, rows, nil)
		case d.HasArg("not-yet"):
			fx = s.book.SnapshotDone(u, nil, fmt.Errorf("%w: storage: %w", ErrStorage, messages.ErrorFromWire(&messages.Error{Code: messages.ErrorCode_ERROR_CODE_NOT_YET_READABLE, Message: "not yet"})))
		default:
			fx = s.book.SnapshotDone(u, nil, fmt.Errorf("%w: storage refused", ErrStorage))
		}
	case "cancel":
		fx = s.book.Cancel(&messages.ComputeCancelPeek{Uuid: messages.FromUuid(scriptUuid(num(t, d, "p")))})
	case "reset":
		s.book.Reset()
		return "ok"
	case "state":
		return s.state()
	default:
		t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
	}
	return printPeekEffects(fx)
}

func peekName(u *messages.Uuid) string {
	tu, err := u.ToTimely()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("p%d", tu[15])
}

func printPeekEffects(fx PeekEffects) string {
	var lines []string
	for _, c := range fx.Complaints {
		lines = append(lines, "complaint: "+c.Error())
	}
	for _, a := range fx.Answers {
		r := a.Response
		switch res := r.Result.(type) {
		case *messages.ComputePeekResponse_Rows:
			lines = append(lines, fmt.Sprintf("answer %s: %d rows", peekName(a.Uuid), len(res.Rows.GetRows())))
		case *messages.ComputePeekResponse_Canceled:
			lines = append(lines, fmt.Sprintf("answer %s: canceled", peekName(a.Uuid)))
		case *messages.ComputePeekResponse_Error:
			lines = append(lines, fmt.Sprintf("answer %s: error: %s [%s]", peekName(a.Uuid), res.Error.GetMessage(), strings.TrimPrefix(res.Error.GetCode().String(), "ERROR_CODE_")))
		}
	}
	for _, p := range fx.Dispatches {
		lines = append(lines, fmt.Sprintf("dispatch pool=%d flow=%d at=%d", p.Id, p.Flow, p.Spec.Time))
	}
	for _, u := range fx.Reads {
		lines = append(lines, fmt.Sprintf("read p%d", u[15]))
	}
	if len(lines) == 0 {
		return "ok"
	}
	return strings.Join(lines, "\n")
}

func (s *peekScript) state() string {
	var lines []string
	for _, u := range s.book.sorted() {
		p := s.book.pending[u]
		place := ""
		switch {
		case p.pool != 0:
			place = fmt.Sprintf("dispatched pool=%d", p.pool)
		case p.reading:
			place = "reading storage"
		case p.index != nil:
			place = "waiting for " + p.index.String()
		default:
			place = "waiting for storage"
		}
		lines = append(lines, fmt.Sprintf("p%d at=%d %s", u[15], p.peek.GetTimestamp(), place))
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return "no peeks"
	}
	return strings.Join(lines, "\n")
}

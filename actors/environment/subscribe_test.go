package environment

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func updates(n int) []*messages.ComputeUpdate {
	out := make([]*messages.ComputeUpdate, n)
	for i := range out {
		out[i] = &messages.ComputeUpdate{Row: dataflow.RowToWire(dataflow.Row{dataflow.Int64(int64(i))}), Time: 1, Diff: 1}
	}
	return out
}

// The window, merging, the backlog bound and the last batch, step by step.
func TestSubscriptionFlowControl(t *testing.T) {
	s := &subscription{id: 7, window: 2}
	took := func() string {
		b := s.take()
		if b == nil {
			return "-"
		}
		return fmt.Sprintf("#%d n=%d upper=%d finished=%v error=%v", b.GetSeq(), len(b.GetUpdates()), b.GetUpper(), b.GetFinished(), b.GetError() != nil)
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() { s.offer(updates(2), timely.At(5), 10) }, "-"}, // not started yet
		{func() { s.started = true }, "#1 n=2 upper=5 finished=false error=false"},
		{func() { s.offer(updates(1), timely.At(6), 10) }, "#2 n=1 upper=6 finished=false error=false"},
		{func() { s.offer(updates(3), timely.At(7), 10) }, "-"}, // window full
		{func() { s.offer(updates(2), timely.At(9), 10) }, "-"}, // merged
		{func() { s.ack(1) }, "#3 n=5 upper=9 finished=false error=false"},
		{func() { s.ack(9) }, "-"}, // an ack beyond what was sent changes nothing
		{func() { s.ack(3) }, "-"},
		{func() { s.finish(nil) }, "#4 n=0 upper=0 finished=true error=false"},
	}
	for i, st := range steps {
		st.do()
		if got := took(); got != st.want {
			t.Fatalf("step %d: took %s, want %s", i, got, st.want)
		}
	}

	// Past the backlog bound, offer says so; an error then goes out at
	// once, with the window full.
	s = &subscription{id: 8, window: 1, started: true}
	s.offer(updates(1), timely.At(2), 3)
	if b := s.take(); b.GetSeq() != 1 {
		t.Fatalf("first batch %v", b)
	}
	if !s.offer(updates(3), timely.At(3), 3) || s.offer(updates(1), timely.At(4), 3) {
		t.Fatal("the backlog bound is 3 updates")
	}
	s.finish(errorf(ErrTooLarge, "fell behind"))
	b := s.take()
	if b == nil || !b.GetFinished() || len(b.GetUpdates()) != 0 {
		t.Fatalf("last batch %v", b)
	}
	if err := messages.ErrorFromWire(b.GetError()); !errors.Is(err, messages.ErrInvalidArgument) || !strings.Contains(err.Error(), "fell behind") {
		t.Fatalf("last batch's error %v", err)
	}
}

package querytracker

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/arbor-db/arbor/timely"
)

// ExecutionId names one statement execution. A TrackPeek hands the tracker
// the execution's handle; from then on the tracker owns it and retires it
// exactly once, on every path: success, error, cancel, untrack, drop, failed
// watch-set install, or an explicit EndExecution.
//
// Retirement is the one transition of an execution:
//
//	(unknown) --begin--> live --retire--> ended
//	                                 ended --retire--> ended   (ErrAlreadyRetired: reported, no effect)
//
// A handle that was never retired stays live: Tracker.Unretired and Dump
// list it, and tests assert the list is empty once every peek had its
// terminal event.
type ExecutionId timely.Uuid

// String prints the execution id in uuid form.
func (id ExecutionId) String() string { return timely.Uuid(id).String() }

// MarshalText makes Dump print the execution id in uuid form.
func (id ExecutionId) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the uuid form, so a Dump can be read back.
func (id *ExecutionId) UnmarshalText(b []byte) error {
	u, err := timely.ParseUuid(string(b))
	if err != nil {
		return err
	}
	*id = ExecutionId(u)
	return nil
}

// IsZero reports whether id is the zero id, which no execution may use.
func (id ExecutionId) IsZero() bool { return id == ExecutionId{} }

func compareExecutionIds(a, b ExecutionId) int { return bytes.Compare(a[:], b[:]) }

func connString(c timely.ConnectionId) string { return "conn " + strconv.FormatUint(uint64(c), 10) }

// retire ends a live execution and reports it through Effects.EndExecution.
// It is the only caller of statementLog.end and of Effects.EndExecution, so
// "exactly once" is a property of this function alone: a second call for
// the same id returns ErrAlreadyRetired without an effect.
func (t *Tracker) retire(now time.Time, id ExecutionId, reason EndReason) error {
	if _, err := t.log.end(now, id, reason); err != nil {
		return fmt.Errorf("retire execution %v: %w", id, err)
	}
	t.effects.EndExecution(id, reason)
	return nil
}

// retireNew retires a handle the log may not hold yet (it arrived on a
// TrackPeek that is being rejected): it is begun first so that its single
// retirement is recorded. An execution that is already ended, or attached to
// another tracked peek, is left alone: nothing is owed here.
func (t *Tracker) retireNew(now time.Time, id ExecutionId, conn timely.ConnectionId, reason EndReason) {
	if id.IsZero() {
		return
	}
	if e, ok := t.log.get(id); ok && (e.Ended || e.HasPeek) {
		return // already retired, or owned by the peek it is attached to
	}
	_, _ = t.log.begin(now, id, conn) // ErrExecutionExists: it is live, fine
	_ = t.retire(now, id, reason)
}

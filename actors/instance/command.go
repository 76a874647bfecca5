package instance

import (
	"fmt"
	"strings"

	"github.com/arbor-db/arbor/messages"
)

// kindName is a command's kind as a metric label and in scripts:
// "hello", "create_dataflow", ... ("unknown" for an empty envelope).
func kindName(cmd *messages.ComputeCommand) string {
	if k, ok := KindOf(cmd); ok {
		return k.String()
	}
	return "unknown"
}

// DescribeCommand writes a command in one short line for logs and
// scripts: its kind and what it names.
func DescribeCommand(cmd *messages.ComputeCommand) string {
	var b strings.Builder
	b.WriteString(kindName(cmd))
	switch m := cmd.GetCommand().(type) {
	case *messages.ComputeCommand_Hello:
		fmt.Fprintf(&b, " epoch=(%d,%d)", cmd.GetEpoch().GetEnvironment(), cmd.GetEpoch().GetIncarnation())
	case *messages.ComputeCommand_CreateDataflow:
		df := m.CreateDataflow.GetDataflow()
		var ex []string
		for _, x := range df.GetIndexExports() {
			id, _ := x.GetId().ToTimely()
			ex = append(ex, id.String())
		}
		for _, x := range df.GetSinkExports() {
			id, _ := x.GetId().ToTimely()
			ex = append(ex, id.String())
		}
		asOf, _ := df.GetAsOf().ToTimely()
		fmt.Fprintf(&b, " (%s) as_of=%s", strings.Join(ex, ","), asOf)
	case *messages.ComputeCommand_Schedule:
		id, _ := m.Schedule.GetId().ToTimely()
		fmt.Fprintf(&b, " %s", id)
	case *messages.ComputeCommand_AllowWrites:
		id, _ := m.AllowWrites.GetId().ToTimely()
		fmt.Fprintf(&b, " %s", id)
	case *messages.ComputeCommand_AllowCompaction:
		id, _ := m.AllowCompaction.GetId().ToTimely()
		f, _ := m.AllowCompaction.GetFrontier().ToTimely()
		fmt.Fprintf(&b, " %s %s", id, f)
	case *messages.ComputeCommand_Peek:
		u, _ := m.Peek.GetUuid().ToTimely()
		var target string
		if ix := m.Peek.GetIndex(); ix != nil {
			id, _ := ix.ToTimely()
			target = id.String()
		} else {
			id, _ := m.Peek.GetPersist().GetId().ToTimely()
			target = "persist " + id.String()
		}
		fmt.Fprintf(&b, " %s %s@%d", shortUuid(u), target, m.Peek.GetTimestamp())
	case *messages.ComputeCommand_CancelPeek:
		u, _ := m.CancelPeek.GetUuid().ToTimely()
		fmt.Fprintf(&b, " %s", shortUuid(u))
	}
	return b.String()
}

// shortUuid writes small uuids (scripts use 1, 2, ...) as p<n>.
func shortUuid(u [16]byte) string {
	for _, x := range u[:15] {
		if x != 0 {
			return fmt.Sprintf("%x", u[:])
		}
	}
	return fmt.Sprintf("p%d", u[15])
}

package instance

import (
	"log/slog"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Read-only mode. An environment of a new deploy generation starts
// read-only (docs/deploy.md): its instances install and hydrate every
// dataflow, materialized views included, but the serving generation still
// writes the views' storage collections, so a read-only instance sends no
// AllowWrites and its sinks append nothing. At promotion the environment
// lifts it (the AllowWrites message): every materialized view not dropped
// gets its AllowWrites then, in id order, and every later one at its
// CreateDataflow. The history records AllowWrites only once sent, so a
// replica that connects while read-only is not allowed either.

// ReadOnly reports whether the core withholds AllowWrites.
func (c *Core) ReadOnly() bool { return c.readOnly }

// AllowWrites lifts read-only mode: the materialized views' sinks may
// append from now on. Lifting a writable core changes nothing. A stopped
// core refuses with ErrStopped.
func (c *Core) AllowWrites() error {
	if c.stopped {
		return ErrStopped
	}
	if !c.readOnly {
		return nil
	}
	c.readOnly = false
	n := 0
	for _, col := range c.sortedCollections() {
		if col.mvSink && !col.dropped {
			c.allowWrites(col.id)
			n++
		}
	}
	c.log(slog.LevelInfo, "instance writable: AllowWrites sent for %d materialized views", n)
	return nil
}

// allowWrites records and sends AllowWrites for one materialized view.
func (c *Core) allowWrites(id timely.GlobalId) {
	c.broadcast(&messages.ComputeCommand{Command: &messages.ComputeCommand_AllowWrites{AllowWrites: &messages.ComputeAllowWrites{Id: messages.FromGlobalId(id)}}})
}

package instance

import (
	"github.com/arbor-db/arbor/messages"
)

// History is the command history of one instance: every command the
// instance sent to its replicas, so that a new replica, or a restarted
// incarnation of one, can be brought to the same state by replaying it.
// It is a plain value owned by the instance's core (no locking).
//
// Reduce keeps the history small without changing what a replay yields
// (see its doc). Push reduces by itself when the history has grown past
// twice its length after the last reduction.
type History struct {
	commands []*messages.ComputeCommand
	// reducedLen is the length after the last reduction (0: never).
	reducedLen int
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{} }

// Push records a command. The envelope's epoch is not part of the history:
// a replay stamps every command with the epoch of its connection.
func (h *History) Push(cmd *messages.ComputeCommand) {
	h.commands = append(h.commands, cmd)
	if len(h.commands) > 2*max(h.reducedLen, 8) {
		h.Reduce()
	}
}

// Commands returns the history in replay order. The caller must not modify
// the slice or the commands.
func (h *History) Commands() []*messages.ComputeCommand { return h.commands }

// Len returns the number of commands held.
func (h *History) Len() int { return len(h.commands) }

// Reduce rewrites the history into its reduced form. NOT YET WRITTEN: this
// skeleton keeps the history unchanged; the reduction rules of
// ARCHITECTURE.md §7 are being implemented.
func (h *History) Reduce() {
	h.reducedLen = len(h.commands)
}

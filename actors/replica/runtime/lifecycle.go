package runtime

import "fmt"

// FlowStage is where an export's flow stands in its life on this runtime.
type FlowStage uint8

const (
	// StageQueued: its build waits for storage to confirm the tables it
	// reads.
	StageQueued FlowStage = iota + 1
	// StageChecked: the tables are confirmed; it waits for its Schedule
	// (a collection computes only once scheduled).
	StageChecked
	// StageSent: InstallFlow went to the coordinator.
	StageSent
	// StageInstalled: the coordinator accepted it: it computes, reports
	// frontiers, answers peeks and feeds its sink.
	StageInstalled
	// StageDropped: dropped (AllowCompaction to the empty frontier, a
	// replacing CreateDataflow, a refused build or install, a failure
	// that removed it). Final.
	StageDropped
)

// String names the stage.
func (s FlowStage) String() string {
	switch s {
	case StageQueued:
		return "queued"
	case StageChecked:
		return "checked"
	case StageSent:
		return "sent"
	case StageInstalled:
		return "installed"
	case StageDropped:
		return "dropped"
	}
	return fmt.Sprintf("FlowStage(%d)", uint8(s))
}

// FlowEvent is an input of the lifecycle machine.
type FlowEvent uint8

const (
	// EvChecked: storage confirmed the flow's tables.
	EvChecked FlowEvent = iota + 1
	// EvScheduled: the controller's Schedule for the collection came.
	EvScheduled
	// EvAccepted: the coordinator accepted the install.
	EvAccepted
	// EvHydrated: the coordinator says the flow's backfill completed.
	EvHydrated
	// EvDropped: the flow is dropped.
	EvDropped
)

// String names the event.
func (e FlowEvent) String() string {
	switch e {
	case EvChecked:
		return "checked"
	case EvScheduled:
		return "scheduled"
	case EvAccepted:
		return "accepted"
	case EvHydrated:
		return "hydrated"
	case EvDropped:
		return "dropped"
	}
	return fmt.Sprintf("FlowEvent(%d)", uint8(e))
}

// FlowLife is the pure state of one export's flow: its stage, whether its
// Schedule came and whether it hydrated. Step is its one transition
// function:
//
//	queued ──checked──► checked ──scheduled──► sent ──accepted──► installed
//	   │   (scheduled first: remembered; checked then sends at once)   │
//	   │                                                               │ hydrated (once)
//	   └──────────────── dropped (from any stage) ──► dropped ◄────────┘
//
// Scheduled is accepted in every live stage (a reconnect replays it); a
// flow may report hydrated from sent on (the coordinator's events follow
// its acceptance). Any other event is an error and changes nothing: the
// actor treats it as a stale event (a reply for a flow dropped or rebuilt
// meanwhile) and ignores it.
type FlowLife struct {
	Stage     FlowStage
	Scheduled bool
	Hydrated  bool
}

// FlowEffects is what the actor does after a step.
type FlowEffects struct {
	// Install: send InstallFlow to the coordinator.
	Install bool
	// Accepted: the flow now computes: report hydration (false) and
	// frontiers, dispatch the peeks waiting for it, advance its sink.
	Accepted bool
	// Hydrated: report the flow hydrated.
	Hydrated bool
	// Cancel: the flow was sent to the coordinator and must be dropped
	// there.
	Cancel bool
}

// NewFlowLife returns the life of a flow whose build was just queued.
func NewFlowLife() FlowLife { return FlowLife{Stage: StageQueued} }

// Installed reports whether the coordinator accepted the flow (and it is
// not dropped).
func (l FlowLife) Installed() bool { return l.Stage == StageInstalled }

// Step applies ev.
func (l *FlowLife) Step(ev FlowEvent) (FlowEffects, error) {
	var fx FlowEffects
	switch {
	case l.Stage == StageDropped:
		return fx, fmt.Errorf("flow life: %s after it was dropped", ev)
	case ev == EvDropped:
		fx.Cancel = l.Stage == StageSent || l.Stage == StageInstalled
		l.Stage = StageDropped
	case ev == EvScheduled:
		l.Scheduled = true
		if l.Stage == StageChecked {
			l.Stage, fx.Install = StageSent, true
		}
	case ev == EvChecked && l.Stage == StageQueued:
		l.Stage = StageChecked
		if l.Scheduled {
			l.Stage, fx.Install = StageSent, true
		}
	case ev == EvAccepted && l.Stage == StageSent:
		l.Stage, fx.Accepted = StageInstalled, true
	case ev == EvHydrated && (l.Stage == StageSent || l.Stage == StageInstalled):
		fx.Hydrated = !l.Hydrated
		l.Hydrated = true
	default:
		return fx, fmt.Errorf("flow life: no %s transition from %s", ev, l.Stage)
	}
	return fx, nil
}

package coordinator

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Options configure a coordinator actor.
type Options struct {
	// Config tunes the Core.
	Config Config
	// Pool is the worker pool's PID; required.
	Pool *actor.PID
	// Store reads history and commits outputs; required.
	Store Store
	// Events receives FlowEvents; dropped when nil.
	Events *actor.PID
	// Metrics receives the coordinator's metrics; unregistered ones when
	// nil.
	Metrics *Metrics
	// Logger receives failures; slog.Default() when nil.
	Logger *slog.Logger
}

// Props returns the props of a coordinator actor around a new Core.
func Props(opts Options) (*actor.Props, error) {
	if opts.Pool == nil || opts.Store == nil {
		return nil, errors.New("coordinator: Options.Pool and Options.Store are required")
	}
	if opts.Metrics == nil {
		opts.Metrics, _ = NewMetrics(nil)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Logger = opts.Logger.With("actor", "coordinator")
	return actor.PropsFromProducer(func() actor.Actor {
		return &coordActor{opts: opts, core: NewCore(opts.Config)}
	}), nil
}

// coordActor is the thin actor around a Core: it decodes messages, carries
// out the Core's Effects (pool requests, store reads and commits,
// replies, events) and keeps the metrics.
type coordActor struct {
	opts Options
	core *Core

	consumer *actor.PID   // sender of the Consume in progress
	waiting  []*actor.PID // senders told busy, to be told Ready
}

// Receive handles one message.
func (a *coordActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.refresh()
	case *Consume:
		eff, err := a.core.Consume(m.From, m.Upper, m.Changes)
		if err != nil {
			if errors.Is(err, ErrBusy) {
				a.opts.Metrics.BusyReplies.Inc()
				a.waiting = append(a.waiting, ctx.Sender())
			}
			a.respond(ctx, ctx.Sender(), &ConsumeReply{Upper: a.core.Upper(), Err: err})
			return
		}
		a.consumer = ctx.Sender()
		a.run(ctx, eff)
	case *InstallFlow:
		cps, err := a.opts.Store.Checkpoints()
		if err != nil {
			ctx.Respond(&InstallFlowReply{Flow: m.Spec.Id, Err: fmt.Errorf("install flow %d: read checkpoints: %w", m.Spec.Id, err)})
			return
		}
		eff, err := a.core.Install(m.Spec, cps[m.Spec.Id])
		ctx.Respond(&InstallFlowReply{Flow: m.Spec.Id, Checkpoint: cps[m.Spec.Id], Err: err})
		a.run(ctx, eff)
	case *DropFlow:
		eff, err := a.core.Drop(m.Flow)
		ctx.Respond(&DropFlowReply{Flow: m.Flow, Err: err})
		a.run(ctx, eff)
	case *Tick:
		a.run(ctx, a.core.Tick(m.Now))
	case *continueBackfill:
		a.run(ctx, a.core.ContinueBackfill())
	case *pool.RegisterFlowReply:
		a.run(ctx, a.core.Registered(m.Flow, m.Err))
	case *pool.SubmitReply:
		a.run(ctx, a.core.Submitted(m.Results, nil))
	case *pool.TickReply:
		a.run(ctx, a.core.Ticked())
	}
}

func (a *coordActor) respond(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}

// run carries out effects, feeding synchronous outcomes (reads, commits)
// back into the Core until it waits for the pool.
func (a *coordActor) run(ctx actor.Context, eff Effects) {
	for {
		if len(eff.Events) > 0 && a.opts.Events != nil {
			ctx.Send(a.opts.Events, &FlowEvents{Events: eff.Events})
		}
		for _, id := range eff.Drop {
			ctx.Send(a.opts.Pool, &pool.DropFlow{Flow: id})
		}
		if len(eff.Committed) > 0 {
			ctx.Send(a.opts.Pool, &pool.Committed{Checkpoints: eff.Committed})
		}
		if len(eff.Rebuild) > 0 {
			ctx.Send(a.opts.Pool, &pool.Rebuild{Flows: eff.Rebuild})
		}
		if eff.Reply {
			a.respond(ctx, a.consumer, &ConsumeReply{Upper: a.core.Upper(), Err: eff.ReplyErr})
			a.consumer = nil
		}
		if eff.Register != nil {
			ctx.Request(a.opts.Pool, eff.Register)
		}
		if len(eff.Submit) > 0 {
			kind := "consume"
			if a.core.Phase() == AdvancingBackfill {
				kind = "backfill"
			}
			n := 0
			for _, b := range eff.Submit {
				n += b.Changes()
			}
			a.opts.Metrics.Batches.WithLabelValues(kind).Inc()
			a.opts.Metrics.ChangesRouted.WithLabelValues(kind).Add(float64(n))
			ctx.Request(a.opts.Pool, &pool.Submit{Batches: eff.Submit})
		}
		if len(eff.Tick) > 0 {
			a.opts.Metrics.FlowTicks.Add(float64(len(eff.Tick)))
			ctx.Request(a.opts.Pool, &pool.Tick{Flows: eff.Tick})
		}
		if eff.ContinueBackfill {
			ctx.Send(ctx.Self(), &continueBackfill{})
		}
		switch {
		case len(eff.Reads) > 0:
			eff = a.core.ReadDone(a.read(eff.Reads))
			continue
		case eff.Commit != nil:
			err := a.opts.Store.Commit(*eff.Commit)
			if err != nil {
				a.opts.Metrics.CommitFailures.Inc()
				a.opts.Logger.Error("commit of outputs and checkpoints failed", "err", err)
			}
			eff = a.core.Committed(err, nil)
			continue
		}
		break
	}
	if a.core.Phase() == Idle && len(a.waiting) > 0 {
		for _, pid := range a.waiting {
			a.respond(ctx, pid, &Ready{})
		}
		a.waiting = nil
	}
	a.refresh()
}

// read performs a backfill round's reads. From a checkpoint above zero it
// reads each flow's range in windows of timestamps that start at the chunk
// size and double, and stops once it holds a chunk's worth of versions, so
// that a round costs about a chunk however far behind the flow is.
func (a *coordActor) read(reqs []ReadRequest) []ReadResult {
	out := make([]ReadResult, 0, len(reqs))
	for _, r := range reqs {
		res := ReadResult{Flow: r.Flow, Updates: map[timely.GlobalId][]dataflow.Update{}}
		versions := map[timely.Timestamp]bool{}
		width := timely.Timestamp(a.core.chunk)
		if r.From == 0 {
			// A new flow reads its whole history once: below the sources'
			// since only the whole range is readable (compacted history
			// comes at the since).
			width = r.To
		}
		for lo := r.From; lo < r.To && len(versions) < a.core.chunk && res.Err == nil; width *= 2 {
			hi := r.To
			if r.To-lo > width {
				hi = lo + width
			}
			for _, s := range r.Sources {
				us, err := a.opts.Store.Read(s, lo, hi)
				if err != nil {
					res.Err = err
					break
				}
				for _, u := range us {
					versions[u.Time] = true
				}
				res.Updates[s.Id] = append(res.Updates[s.Id], us...)
			}
			res.To, lo = hi, hi
		}
		out = append(out, res)
	}
	return out
}

func (a *coordActor) refresh() {
	states, minCp := a.core.Counts()
	for _, s := range []FlowState{FlowRegistering, FlowBackfilling, FlowActive} {
		a.opts.Metrics.Flows.WithLabelValues(s.String()).Set(float64(states[s]))
	}
	a.opts.Metrics.BackfillRemaining.Set(float64(a.core.BackfillRemaining()))
	a.opts.Metrics.CheckpointLag.Set(float64(a.core.Upper() - minCp))
}

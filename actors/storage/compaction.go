package storage

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

// compact downgrades the since of every table State says may move, and
// refreshes the gauges. Each downgrade has one call deadline; a failed or
// timed-out one is logged and retried at the next maintenance tick. While
// a group commit is in flight it waits for it (the commit log's frontiers
// belong to the commit goroutine meanwhile).
func (a *storageActor) compact(ctx actor.Context) {
	if a.inflight != nil {
		a.compactWanted = true
		return
	}
	if a.writer.refusal() != nil {
		return // read-only or fenced: sinces are the writer's to move
	}
	for _, ch := range a.state.CompactionTargets() {
		s := a.shards.tables[ch.Table]
		cctx, cancel := a.call()
		err := s.DowngradeSince(cctx, timely.At(ch.Since))
		err = backendError(cctx, a.cfg.CallTimeout, fmt.Sprintf("compact table %s to %d", ch.Table, ch.Since), err)
		cancel()
		if err != nil {
			a.cfg.Logger.Warn("compaction failed", "table", ch.Table, "since", ch.Since, "err", err)
			continue
		}
		a.state.ApplySince(ch.Table, ch.Since)
	}
	// The commit log only needs its last group: compact the rest away.
	cctx, cancel := a.call()
	err := backendError(cctx, a.cfg.CallTimeout, "compact the commit log", a.shards.compactLog(cctx))
	cancel()
	if err != nil {
		a.cfg.Logger.Warn("commit log compaction failed", "err", err)
	}
	a.refreshGauges()
}

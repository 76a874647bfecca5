package storage

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

// compact downgrades the since of every table State says may move, and
// refreshes the gauges. A failed downgrade is logged and retried at the
// next maintenance tick.
func (a *storageActor) compact(ctx actor.Context) {
	for _, ch := range a.state.CompactionTargets() {
		s := a.shards.tables[ch.Table]
		if err := s.DowngradeSince(context.Background(), timely.At(ch.Since)); err != nil {
			a.cfg.Logger.Warn("compaction failed", "table", ch.Table, "since", ch.Since, "err", err)
			continue
		}
		a.state.ApplySince(ch.Table, ch.Since)
	}
	// The commit log only needs its last group: compact the rest away.
	if err := a.shards.compactLog(context.Background()); err != nil {
		a.cfg.Logger.Warn("commit log compaction failed", "err", err)
	}
	a.refreshGauges()
}

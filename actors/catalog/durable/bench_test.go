package durable_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/persistence/shardbench"
	"github.com/arbor-db/arbor/timely"
)

// BenchmarkCatalogCommit measures a catalog commit as the guardian makes it
// (Begin a transaction optimistically; allocate an id and create a table,
// which stages the item, its audit event and the id allocator's retraction
// and insertion; commit by one compare-and-append) against a raw
// compare-and-append of the same number of updates of the same size on the
// same backend, interleaved in one loop so both see the same conditions. It
// reports both medians and p99s and the catalog's overhead over the raw
// append (target: under 20%). The "synced" sub-benchmark begins with
// Transaction instead, which first reads the shard's upper.
//
//	go test -run '^$' -bench CatalogCommit -benchtime 2000x ./actors/catalog/durable/
func BenchmarkCatalogCommit(b *testing.B) {
	for _, bk := range []struct {
		name string
		open func(b *testing.B) persistence.Store
	}{
		{"pebble", func(b *testing.B) persistence.Store {
			st, err := pebble.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"etcd", func(b *testing.B) persistence.Store {
			endpoints := etcdtest.Start(b)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := etcd.Dial(ctx, endpoints, "/bench")
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	} {
		b.Run(bk.name, func(b *testing.B) {
			st := bk.open(b)
			defer st.Close()
			benchCommit(b, st, false)
		})
		b.Run(bk.name+"/synced", func(b *testing.B) {
			st := bk.open(b)
			defer st.Close()
			benchCommit(b, st, true)
		})
	}
}

func benchCommit(b *testing.B, st persistence.Store, synced bool) {
	ctx := context.Background()
	open := func(name string) persistence.Shard {
		s, err := st.OpenShard(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}
	cat, ver, raw := open("catalog"), open("catalog_version"), open("raw")
	h, err := durable.Open(ctx, durable.Config{Catalog: cat, Version: ver, Mode: durable.Writable, DeployGeneration: 1})
	if err != nil {
		b.Fatal(err)
	}
	definition := make([]byte, 100)
	item := func(n uint64) *messages.CatalogItem {
		return &messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(n)), Name: fmt.Sprintf("t%d", n),
			Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, Definition: definition}
	}
	// Size the raw batch like a catalog commit.
	tx, err := h.Transaction(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.CreateItem(item(1)); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	const updatesPerCommit = 4 // item, audit event, allocator retraction and insertion

	var rawRec, catRec shardbench.Recorder
	rawTs := timely.Timestamp(0)
	b.ResetTimer()
	for i := range b.N {
		batch := shardbench.Updates(rawTs, updatesPerCommit, 100)
		start := time.Now()
		if err := raw.CompareAndAppend(ctx, batch, timely.At(rawTs), timely.At(rawTs+1)); err != nil {
			b.Fatal(err)
		}
		rawRec.Record(time.Since(start))
		rawTs++

		start = time.Now()
		var tx *durable.Transaction
		if synced {
			tx, err = h.Transaction(ctx)
		} else {
			tx, err = h.Begin()
		}
		if err != nil {
			b.Fatal(err)
		}
		first, err := tx.AllocateIds("user", 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.CreateItem(item(first + 1 + uint64(i))); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		catRec.Record(time.Since(start))
	}
	b.StopTimer()
	rawP50, catP50 := rawRec.Percentile(50), catRec.Percentile(50)
	b.ReportMetric(float64(rawP50.Nanoseconds())/1e3, "raw-p50-µs")
	b.ReportMetric(float64(rawRec.Percentile(99).Nanoseconds())/1e3, "raw-p99-µs")
	b.ReportMetric(float64(catP50.Nanoseconds())/1e3, "catalog-p50-µs")
	b.ReportMetric(float64(catRec.Percentile(99).Nanoseconds())/1e3, "catalog-p99-µs")
	b.ReportMetric((float64(catP50)/float64(rawP50)-1)*100, "overhead-%")
}

package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// rowsPerWrite is the size of one StorageWrite (and of one raw append).
const rowsPerWrite = 100

// distinctWrites is how many different writes the benchmarks cycle
// through (so the data does not fill memory at large b.N).
const distinctWrites = 1024

type backend struct {
	name string
	open func(b *testing.B) persistence.Store
}

var backends = []backend{
	{"mem", func(*testing.B) persistence.Store { return mem.New() }},
	{"pebble", func(b *testing.B) persistence.Store {
		s, err := pebble.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// BenchmarkWriteThroughput measures rows/s from StorageWrite to the
// durable reply, with 1 and 16 concurrent writers (16 lets group commit
// batch), next to raw CompareAndAppend of the same rows (same keys, same
// number per append) on a bare shard of the same backend, in the same run.
// Compaction is left out of both (the maintenance tick is an hour).
func BenchmarkWriteThroughput(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name+"/raw_shard", func(b *testing.B) { benchRawShard(b, be) })
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/actor_writers=%d", be.name, writers), func(b *testing.B) { benchActor(b, be, writers, 1) })
		}
		// Each write split over two tables: every group goes through the
		// commit log.
		b.Run(be.name+"/actor_2tables_writers=16", func(b *testing.B) { benchActor(b, be, 16, 2) })
	}
}

// benchRows returns the n rows of write i.
func benchRows(i, n int) []dataflow.Row {
	out := make([]dataflow.Row, n)
	for j := range out {
		out[j] = dataflow.Row{dataflow.Int64(int64(i*n + j)), dataflow.String("some text of a row")}
	}
	return out
}

func benchRawShard(b *testing.B, be backend) {
	store := be.open(b)
	defer store.Close()
	ctx := context.Background()
	sh, err := store.OpenShard(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer sh.Close()
	// The same bytes the actor appends: one key per row, empty values.
	batches := make([][]persistence.Update, distinctWrites)
	for i := range batches {
		for _, r := range benchRows(i, rowsPerWrite) {
			batches[i] = append(batches[i], persistence.Update{Key: dataflow.EncodeRowKey(r), Diff: 1})
		}
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		batch := batches[i%distinctWrites]
		for j := range batch {
			batch[j].Ts = timely.Timestamp(i)
		}
		if err := sh.CompareAndAppend(ctx, batch, timely.At(timely.Timestamp(i)), timely.At(timely.Timestamp(i+1))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rowsPerWrite)/time.Since(start).Seconds(), "rows/s")
}

func benchActor(b *testing.B, be backend, writers, tables int) {
	sys := testkit.NewSystem(b)
	store := be.open(b)
	props, err := storage.New(storage.Config{Store: store, Clock: testkit.RealClock(), Logger: testkit.QuietLogger(), MaintenanceInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	b.Cleanup(func() {
		_ = sys.Root.StopFuture(pid).Wait()
		_ = store.Close()
	})
	for t := range tables {
		id := timely.UserId(uint64(t + 1))
		res, err := sys.Root.RequestFuture(pid, &messages.StorageCreateTable{Table: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(accounts)}, timeout).Result()
		if err != nil || res.(*messages.StorageCreateTableResponse).Error != nil {
			b.Fatal(err, res)
		}
	}
	msgs := make([]*messages.StorageWrite, distinctWrites)
	for i := range msgs {
		rs := benchRows(i, rowsPerWrite)
		per := rowsPerWrite / tables
		msgs[i] = write()
		for t := range tables {
			msgs[i].Tables = append(msgs[i].Tables, rows(timely.UserId(uint64(t+1)), rs[t*per:(t+1)*per]...))
		}
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	groups := map[uint64]bool{}
	var mu sync.Mutex
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += writers {
				res, err := sys.Root.RequestFuture(pid, msgs[i%distinctWrites], time.Minute).Result()
				if err != nil {
					b.Error(err)
					return
				}
				r := res.(*messages.StorageWriteResponse)
				if r.Error != nil {
					b.Error(r.Error)
					return
				}
				mu.Lock()
				groups[r.Timestamp] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*rowsPerWrite)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/float64(len(groups)), "writes/group")
}

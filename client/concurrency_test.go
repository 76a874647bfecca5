//go:build !race

package client_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
)

// Clients insert and peek at once. Every peek must equal the rows of every
// write committed at or before the time it read (a prefix of the writes in
// timestamp order), and must include every write acknowledged before the
// peek was sent.
func TestConcurrentClients(t *testing.T) {
	const clients, rounds = 20, 8
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{CompactionWindow: 1 << 20})
	admin := dial(t, addr)
	createOrders(t, admin)

	type peekObs struct {
		asOf     uint64
		rows     []string
		mustSee  uint64 // highest write ack seen before the peek was sent
		clientId int
	}
	var (
		mu     sync.Mutex
		writes []oracleWrite
		peeks  []peekObs
		maxAck uint64
	)
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = dial(t, addr, client.WithApplicationName(fmt.Sprintf("c%d", i)))
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				row := orderRow(int64(i*1000+r), fmt.Sprintf("c%d", i), int64(r))
				ts, err := c.Insert(ctx, "orders", row)
				if err != nil {
					errs <- fmt.Errorf("client %d insert %d: %w", i, r, err)
					return
				}
				mu.Lock()
				writes = append(writes, oracleWrite{ts: ts, inserts: []client.Row{row}})
				maxAck = max(maxAck, ts)
				mustSee := maxAck
				mu.Unlock()
				res, err := c.Peek(ctx, "orders")
				if err != nil {
					errs <- fmt.Errorf("client %d peek %d: %w", i, r, err)
					return
				}
				mu.Lock()
				peeks = append(peeks, peekObs{asOf: res.AsOf, rows: sortedKeys(res.Rows), mustSee: mustSee, clientId: i})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	o := oracle{writes: writes}
	sort.Slice(peeks, func(i, j int) bool { return peeks[i].asOf < peeks[j].asOf })
	for _, p := range peeks {
		if p.asOf < p.mustSee {
			t.Fatalf("client %d read at %d, before a write acknowledged at %d before its peek", p.clientId, p.asOf, p.mustSee)
		}
		requireRows(t, fmt.Sprintf("client %d peek at %d", p.clientId, p.asOf), p.rows, o.at(p.asOf))
	}
	if len(peeks) != clients*rounds {
		t.Fatalf("%d peeks, want %d", len(peeks), clients*rounds)
	}
}

package multinode_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/testkit/multinode"
)

func TestBarrierReleasesWhenAllEnter(t *testing.T) {
	b := multinode.NewBarrier(3)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, step := range []string{"started", "done"} {
				errs <- b.Enter(step, testkit.DefaultTimeout)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestBarrierTimesOutAndBreaks(t *testing.T) {
	b := multinode.NewBarrier(3)
	err := b.Enter("step", 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `"step": 1 of 3 parties arrived`) {
		t.Fatalf("alone at a barrier of 3: %v", err)
	}
	// A late party does not wait out its own timeout.
	if err2 := b.Enter("step", time.Hour); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("late at a broken barrier: %v", err2)
	}
}

func TestBarrierRefusesAnExtraParty(t *testing.T) {
	b := multinode.NewBarrier(1)
	if err := b.Enter("once", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Enter("once", time.Second); err == nil {
		t.Fatal("a second party entered a barrier of one")
	}
}

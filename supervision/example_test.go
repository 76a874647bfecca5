package supervision_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/supervision"
)

// The owner of a replica feeds the tracker the clock's time and schedules
// the restart it decides on the same injected clock; in tests that clock is
// clock.Manual, and the seeded source makes the jitter reproducible.
func Example() {
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := supervision.DefaultPolicy()
	p.Jitter = 0 // round figures for the example
	tr, err := supervision.NewTracker(p, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}

	dec := tr.Failed(clk.Now(), errors.New("runtime terminated"))
	fmt.Println(dec.Action, dec.Delay)
	timer := clk.NewTimer(dec.Delay) // an actor would send itself a restart message
	clk.Advance(dec.Delay)
	<-timer.C()
	fmt.Println(tr.Status(clk.Now()).State) // the restart is due: running again

	tr.Failed(clk.Now(), errors.New("runtime terminated"))
	fmt.Println(tr.Status(clk.Now()).NextRestart.Sub(clk.Now()))
	// Output:
	// restart 100ms
	// running
	// 200ms
}

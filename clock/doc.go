// Package clock is the source of wall time for Arbor's logic.
//
// Production code never calls time.Now, time.After or time.NewTicker
// directly: it takes a Clock. Real() is the system clock; Manual is a clock
// that moves only when a test says so, firing the timers and tickers whose
// deadlines it passes, in deadline order. testkit re-exports both.
package clock

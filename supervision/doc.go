// Package supervision owns the restart policy of compute replicas: when a
// replica that failed is started again, and when it is not.
//
// A Policy says how fast restarts back off and how many are allowed: the
// n-th consecutive failure waits
//
//	base(n) = min(MaxBackoff, InitialBackoff * Multiplier^(n-1))
//
// less a jitter drawn from a seeded source, uniformly in (base*(1-Jitter),
// base], and at most MaxRestarts restarts may fall within any Window. A
// Tracker applies the policy to one supervised child. It is a pure state
// machine: its methods take the time as an argument, draw randomness only
// from the *rand.Rand it was given, read no clock, start no goroutine and do
// no I/O. The owner (the instance actor, through its replica children) feeds
// it failures and health reports, schedules the restart it decides with the
// injected clock, and shows its Status in dumps and metrics.
//
// States (see transition for the diagram): running, backing-off (a restart
// is scheduled at NextRestart) and failing (the budget is spent; the child
// stays down with its last error until Reset).
//
// Invariants, checked by the property test:
//
//   - no delay exceeds MaxBackoff, jitter included, and no delay is below
//     base*(1-Jitter);
//   - the base delay grows by Multiplier with each consecutive failure until
//     it reaches MaxBackoff, and a Healthy report starts it again from
//     InitialBackoff;
//   - no window of length Window holds more than MaxRestarts restarts;
//   - a failure that would exceed the budget gives up, and the Status then
//     says failing with that failure's error.
//
// Why not a backoff library. ARCHITECTURE §10 asks for a well-kept library
// driven by the injected clock. github.com/cenkalti/backoff/v5 (already in
// the module graph) cannot be driven that way: its ExponentialBackOff draws
// jitter from math/rand/v2's global source, which cannot be seeded, so a
// failing run could not be replayed; its jitter may exceed MaxInterval (the
// cap applies before jitter); v5 dropped the Clock interface v4 had, and its
// Retry and Ticker sleep on real timers, whereas an actor must schedule the
// restart as a message through its own clock. What it would contribute is
// the one line of the formula above, so the package computes it itself and
// tests it against that formula.
//
// protoactor's own NewExponentialBackoffStrategy is linear and has no
// decider, which is why the restart decision lives here and not in a
// protoactor SupervisorStrategy.
package supervision

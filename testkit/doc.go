// Package testkit is what Arbor's actor tests are written with; protoactor-go
// ships none.
//
//   - NewSystem(t) gives a test its own actor system with quiet logging. At
//     the end of the test the system is shut down and the test fails if any
//     goroutine it started still runs (goleak). NewRemoteSystem(t) also
//     starts protoactor remote on a free loopback port; StartRemote(t, sys,
//     cfg) starts it with options of the test's choosing (mTLS, for one).
//   - A Probe is an actor that records the messages it receives. Use its PID
//     as the sender of a message (Send), as a request's reply target, or as
//     the watcher of another actor (Watch). Assert with ExpectMsg[T],
//     ExpectNoMsg and FishFor; answer the last sender with Reply.
//   - Clock / ManualClock (package clock): production code takes a Clock;
//     tests pass a ManualClock and move time with Advance or Set.
//     WaitForTimers waits until an actor has armed its timers.
//   - Eventually(t, cond, timeout) polls for state reached asynchronously.
//
// Every assertion fails the test when it should (the package's own tests run
// each against a recording testing.TB), so a test built on them cannot pass
// vacuously.
//
// # Writing an actor test
//
// Keep the logic in a plain state machine with table or scripted tests, and
// test the actor around it for what only an actor does: messages in and out,
// timers, supervision. A typical test:
//
//	func TestLeaseExpires(t *testing.T) {
//		sys := testkit.NewSystem(t)
//		clk := testkit.NewManualClock()
//		probe := testkit.NewProbe(t, sys)
//
//		pid := sys.Root.Spawn(lease.Props(lease.Config{Clock: clk, TTL: time.Minute}))
//		probe.Send(pid, &lease.Acquire{Holder: "a"})
//		testkit.ExpectMsg[*lease.Granted](probe, testkit.DefaultTimeout)
//
//		clk.WaitForTimers(1, testkit.DefaultTimeout) // the actor armed its TTL timer
//		clk.Advance(time.Minute)
//		testkit.ExpectMsg[*lease.Expired](probe, testkit.DefaultTimeout)
//		probe.ExpectNoMsg(50 * time.Millisecond) // and nothing else
//	}
//
// Each test package also checks for leaks once more when all its tests end:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.LeakOptions()...) }
//
// Tests against node processes (start, crash, restart, partition through a
// proxy, barriers) use the subpackage multinode, which runs nodes as child
// processes; prefer it to several remotes in one process.
//
// Tests that start two or more remote systems in one process need care:
// protoactor's remote.Start replaces gRPC's global logger on every start,
// which the race detector reports against an earlier server's goroutines. Put such tests in
// a file with the build constraint `//go:build !race`; `make test` runs the
// packages holding one a second time without -race.
package testkit

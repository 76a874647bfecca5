package testkit

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/actors/surface"
)

// LeakOptions are the goleak options every Arbor test package passes to
// goleak.VerifyTestMain. Today no library goroutine needs ignoring (protoactor
// actor systems and remotes stop all of theirs on shutdown); an ignore added
// here must name the library and why it cannot be stopped.
func LeakOptions(extra ...goleak.Option) []goleak.Option {
	return append([]goleak.Option(nil), extra...)
}

// QuietLogger returns a logger that discards everything below error level.
// Set ARBOR_TEST_LOG=debug to see every actor log line in a test run.
func QuietLogger() *slog.Logger {
	level := slog.LevelError + 4 // above error: silent
	if lv, ok := testLogLevel(); ok {
		level = lv
	}
	var w io.Writer = io.Discard
	if level <= slog.LevelError {
		w = logWriter{}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// NewSystem returns an actor system with quiet logging. At the end of the
// test it is shut down and the test fails if any goroutine started during the
// test is still running (goleak), so every actor and timer a test starts must
// be stopped by then.
func NewSystem(t testing.TB, opts ...actor.ConfigOption) *actor.ActorSystem {
	t.Helper()
	before := goleak.IgnoreCurrent()
	logger := QuietLogger()
	cfg := append([]actor.ConfigOption{
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
		// protoactor's dead-letter throttle keeps a goroutine alive for one
		// interval after a dead letter; a short one lets the leak check
		// below see a quiet system.
		actor.WithDeadLetterThrottleInterval(10 * time.Millisecond),
	}, opts...)
	sys := actor.NewActorSystem(cfg...)
	t.Cleanup(func() {
		sys.Shutdown()
		if err := goleak.Find(LeakOptions(before)...); err != nil {
			t.Errorf("testkit: goroutines leaked by this test: %v", err)
		}
	})
	return sys
}

// NewRemoteSystem is NewSystem with protoactor remote started on a free
// loopback port. Its address is sys.Address(). Remote is shut down before the
// system at the end of the test.
func NewRemoteSystem(t testing.TB, opts ...actor.ConfigOption) (*actor.ActorSystem, *remote.Remote) {
	t.Helper()
	sys := NewSystem(t, opts...)
	return sys, StartRemote(t, sys, RemoteConfig())
}

// RemoteConfig is the remote configuration of test systems: loopback, a
// port the kernel picks, and one connection attempt per endpoint.
// protoactor's endpoint writer retries a failed dial MaxRetryCount times,
// sleeping 2 s inside the actor each time and leaking the gRPC connection
// of every failed attempt but the last; with one attempt a peer that is
// gone is reported at once and nothing leaks.
func RemoteConfig(opts ...remote.ConfigOption) *remote.Config {
	cfg := remote.Configure("127.0.0.1", 0, opts...)
	cfg.MaxRetryCount = 1
	return cfg
}

// StartRemote starts protoactor remote for sys with cfg (for instance with
// mtls.Credentials.RemoteOptions) and shuts it down at the end of the test,
// before a system made by NewSystem earlier in the test.
func StartRemote(t testing.TB, sys *actor.ActorSystem, cfg *remote.Config) *remote.Remote {
	t.Helper()
	r := remote.NewRemote(sys, cfg)
	r.Start()
	// Registered after NewSystem's cleanup, so it runs before it.
	t.Cleanup(func() { surface.ShutdownRemote(r) })
	return r
}

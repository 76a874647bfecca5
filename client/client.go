package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
)

// EnvironmentName is the actor id of a node's environment (the
// subsystem "environment" under the node's root guardian).
const EnvironmentName = "node/environment"

// Defaults of the options.
const (
	DefaultRequestTimeout  = time.Minute
	DefaultMaxRequestBytes = 3 << 20
)

type options struct {
	// addrs are the environments to try after the one Dial names
	// (WithAddresses); failover and attemptTimeout bound the retries of
	// idempotent calls across a failover (failover.go).
	addrs          []string
	failover       time.Duration
	attemptTimeout time.Duration

	listenHost       string
	app              string
	statementTimeout time.Duration
	requestTimeout   time.Duration
	maxRequestBytes  int
	logger           *slog.Logger
}

// Option configures Dial.
type Option func(*options)

// WithListenHost sets the host the client's own endpoint binds to
// (127.0.0.1 by default). The environment sends answers there, so a client
// on another machine than the node must listen on an address the node can
// reach.
func WithListenHost(host string) Option { return func(o *options) { o.listenHost = host } }

// WithApplicationName names the client in the environment's dumps.
func WithApplicationName(name string) Option { return func(o *options) { o.app = name } }

// WithStatementTimeout sets the session's statement timeout (the
// environment's default when 0).
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) { o.statementTimeout = d }
}

// WithRequestTimeout bounds a call whose context has no deadline
// (DefaultRequestTimeout).
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// WithMaxRequestBytes bounds an encoded request; larger ones fail with
// ErrInvalidArgument before they are sent (DefaultMaxRequestBytes, which
// matches the environment's default).
func WithMaxRequestBytes(n int) Option { return func(o *options) { o.maxRequestBytes = n } }

// WithLogger receives the client's actor system logs (discarded by
// default).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Client is a session with an Arbor environment. Its methods are safe for
// concurrent use; each takes a context whose cancellation or deadline ends
// the wait (the statement itself may still complete in the environment).
type Client struct {
	// Constant after Dial.
	opts    options
	sys     *actor.ActorSystem
	remote  *remote.Remote
	session *actor.PID
	// addrs are every environment address, the one Dial named first.
	addrs []string

	// reconnecting serializes failovers (failover.go).
	reconnecting sync.Mutex

	mu     sync.Mutex
	closed bool
	// env and conn are the environment serving this client and its
	// session there; a failover changes both (guarded by mu).
	env  *actor.PID
	conn *messages.ConnectionId
	// gone closes when env's node is gone (watched by watcher, with
	// several addresses only; failover.go).
	gone    chan struct{}
	watcher *actor.PID
	// done is closed by shutdown: calls still waiting fail with ErrClosed.
	done chan struct{}
	stop sync.Once
}

// Dial connects to the environment of the node at addr ("host:port", the
// node's remote address) and opens a session. With WithAddresses it tries
// addr, then each other address in turn, and keeps the first environment
// that accepts the session (a read-only one, awaiting promotion, refuses
// it); later calls follow a failover to another of them (failover.go). The
// client runs a small actor system of its own, listening on a free
// loopback port, which Close stops.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	o := options{listenHost: "127.0.0.1", requestTimeout: DefaultRequestTimeout, maxRequestBytes: DefaultMaxRequestBytes,
		failover: DefaultFailoverBudget}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	addrs := append([]string{addr}, o.addrs...)
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("%w: dial %q: %v", ErrInvalidArgument, a, err)
		}
	}
	logger := o.logger
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
		// protoactor keeps a goroutine for one throttle interval after a
		// dead letter (an answer to a call abandoned by its context); keep
		// it short so a closed client is gone soon after Close.
		actor.WithDeadLetterThrottleInterval(100*time.Millisecond))
	rcfg := remote.Configure(o.listenHost, 0)
	if len(addrs) > 1 {
		// One dial attempt per endpoint: protoactor retries a failed dial
		// with 2 s sleeps, which would hold every call to a node that is
		// gone; the client fails over instead.
		rcfg.MaxRetryCount = 1
	}
	r := remote.NewRemote(sys, rcfg)
	r.Start()
	c := &Client{opts: o, sys: sys, remote: r, addrs: addrs, env: actor.NewPID(addr, EnvironmentName), done: make(chan struct{})}
	// The session actor only exists: the environment watches it, and its
	// end (Close, or this process dying) ends the session.
	watched := &watchSignal{ch: make(chan struct{})}
	c.session = sys.Root.SpawnPrefix(actor.PropsFromFunc(func(actor.Context) {},
		actor.WithMailbox(actor.Unbounded(watched))), "session")
	if err := c.connectAny(ctx, 0); err != nil {
		c.shutdown()
		return nil, err
	}
	// Wait until the environment's watch of the session actor arrived. A
	// client that closed before it would make protoactor send the watch
	// to an address that is gone, opening a connection it never closes.
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case <-watched.ch:
	case <-wait.Done():
	}
	return c, nil
}

// watchSignal sees the session actor's mailbox and closes ch when the
// environment's Watch arrives.
type watchSignal struct {
	ch   chan struct{}
	once sync.Once
}

func (w *watchSignal) MailboxStarted() {}
func (w *watchSignal) MessagePosted(m any) {
	if _, ok := m.(*actor.Watch); ok {
		w.once.Do(func() { close(w.ch) })
	}
}
func (w *watchSignal) MessageReceived(any) {}
func (w *watchSignal) MailboxEmpty()       {}

// Conn is the session's connection id, as the environment's dump shows it
// (a failover opens a new session with another id).
func (c *Client) Conn() uint32 {
	_, conn := c.target()
	return conn.GetValue()
}

// Close ends the session (its pending statements are canceled) and stops
// the client's actor system. Calls after Close fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	// Stopping the session actor ends the session: the environment watches
	// it. The disconnect that follows travels the same stream, so its
	// answer means the environment has seen the session end before this
	// client's endpoint goes away. (protoactor opens a new connection, and
	// leaks it, when a remote Terminated is handled after the sender's
	// endpoint closed.)
	_ = c.sys.Root.StopFuture(c.session).Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := call[*messages.ClientDisconnectResponse](ctx, c, "disconnect", &messages.ClientDisconnect{})
	c.shutdown()
	if errors.Is(err, ErrNotFound) {
		err = nil // the session ended with its actor, as it should
	}
	return err
}

func (c *Client) shutdown() {
	c.stop.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.done)
		c.mu.Unlock()
		// The session actor stops while remote still runs (a remote
		// message sent during remote's shutdown would open a connection
		// that is never closed).
		_ = c.sys.Root.StopFuture(c.session).Wait()
		surface.ShutdownRemote(c.remote)
		c.sys.Shutdown()
	})
}

// response is what every Client...Response has.
type response interface {
	proto.Message
	GetError() *messages.Error
}

// call sends req to the environment and waits for its answer of type R,
// the context's end, or the request timeout, following a failover as
// failover.go describes: the request's conn is set to the current
// session's before each attempt.
func call[R response](ctx context.Context, c *Client, op string, req proto.Message) (R, error) {
	var zero R
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed && op != "disconnect" {
		return zero, fmt.Errorf("%s: %w", op, ErrClosed)
	}
	if n := proto.Size(req); n > c.opts.maxRequestBytes {
		return zero, &Error{Code: messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
			Message: op + ": request of " + strconv.Itoa(n) + " bytes exceeds the limit of " + strconv.Itoa(c.opts.maxRequestBytes) + " bytes; split it"}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.requestTimeout)
		defer cancel()
	}
	return callFailover[R](ctx, c, op, req)
}

// callOnce sends req to env once and waits for its answer. Each call has
// its own short-lived reply actor, stopped on return, so an abandoned call
// leaves nothing behind.
func callOnce[R response](ctx context.Context, c *Client, env *actor.PID, op string, req proto.Message) (R, error) {
	var zero R
	replies := make(chan any, 1)
	pid := c.sys.Root.SpawnPrefix(actor.PropsFromFunc(func(actx actor.Context) {
		switch m := actx.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			select {
			case replies <- m:
			default:
			}
		}
	}), "call")
	defer c.sys.Root.Stop(pid)
	gone := c.goneFor(env)
	c.sys.Root.RequestWithCustomSender(env, req, pid)
	select {
	case <-gone:
		return zero, &Error{Code: messages.ErrorCode_ERROR_CODE_UNAVAILABLE,
			Message: fmt.Sprintf("%s: the environment at %s went away", op, env.GetAddress())}
	case m := <-replies:
		switch r := m.(type) {
		case R:
			if err := fromWire(r.GetError()); err != nil {
				return zero, err
			}
			return r, nil
		case *messages.UnknownMessageReply:
			return zero, fromWire(r.GetError())
		case *actor.DeadLetterResponse:
			return zero, &Error{Code: messages.ErrorCode_ERROR_CODE_UNAVAILABLE,
				Message: fmt.Sprintf("%s: no environment at %s", op, env.GetAddress())}
		default:
			return zero, &Error{Code: messages.ErrorCode_ERROR_CODE_INTERNAL,
				Message: fmt.Sprintf("%s: unexpected answer %T", op, m)}
		}
	case <-c.done:
		return zero, fmt.Errorf("%s: %w", op, ErrClosed)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%s: no answer from the environment at %s: %w (%w)", op, env.GetAddress(), ErrTimeout, ctx.Err())
		}
		return zero, fmt.Errorf("%s: %w (%w)", op, ErrCanceled, ctx.Err())
	}
}

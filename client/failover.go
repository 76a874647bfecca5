package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/messages"
)

// Failover. A client given several addresses (WithAddresses; arborctl
// --addr a,b) talks to one environment at a time: the first that accepts
// its session. When a call finds that environment gone or not serving
// (ErrUnavailable: no environment at the address, a read-only one
// awaiting promotion, one starting or stopping; or a fence error from one
// a newer deploy generation took over from) the client opens a new
// session on the next address that accepts one, trying them in turn for
// at most the failover budget (WithFailover, DefaultFailoverBudget).
//
//   - Idempotent calls (Peek, PeekPlan, List, Dump) are then sent again,
//     within the same budget and the caller's context: reading twice is
//     harmless.
//   - Every other call (writes, DDL, Cancel, SetStatementTimeout) is not
//     sent again: the environment that failed may have applied it. It
//     returns an error that matches ErrUnavailable and ErrFailover and says
//     the outcome is unknown; the client has moved on, so the caller may
//     check and retry. No call carries an idempotency key in this build.
//   - A subscription stays on the environment it began on and ends with
//     the failover.

// DefaultFailoverBudget bounds how long a call keeps looking for a serving
// environment (WithFailover).
const DefaultFailoverBudget = 10 * time.Second

// failoverPause is the pause between two rounds over every address.
const failoverPause = 50 * time.Millisecond

// connectTimeout bounds one connect attempt during a failover.
const connectTimeout = time.Second

// ErrFailover: a non-idempotent call failed because its environment went
// away or stopped serving; it was not sent again and its outcome is
// unknown. It also matches ErrUnavailable.
var ErrFailover = errors.New("client: the environment failed over")

// WithAddresses adds environments (host:port, each a node's remote
// address) the client may move to when the one it talks to stops serving,
// tried in order after the address Dial names. A node booted read-only
// for a zero-downtime deploy refuses sessions until it is promoted.
func WithAddresses(addrs ...string) Option {
	return func(o *options) { o.addrs = append(o.addrs, addrs...) }
}

// WithFailover bounds how long a call looks for a serving environment
// before it fails (DefaultFailoverBudget; a negative value disables
// failover).
func WithFailover(budget time.Duration) Option { return func(o *options) { o.failover = budget } }

// WithAttemptTimeout bounds each attempt of an idempotent call when the
// client has several addresses: an environment that does not answer
// within it is treated as gone, and the call moves on (0, the default:
// only the call's own deadline bounds an attempt).
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTimeout = d } }

// target returns the environment and session calls go to now.
func (c *Client) target() (*actor.PID, *messages.ConnectionId) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.env, c.conn
}

// idempotent reports whether sending req twice is harmless.
func idempotent(req proto.Message) bool {
	switch req.(type) {
	case *messages.ClientPeek, *messages.ClientListObjects, *messages.ClientDump:
		return true
	}
	return false
}

// failedOver reports whether err means the environment is gone or does not
// serve, so another may: UNAVAILABLE, or FENCED (a newer environment owns
// the catalog or storage; the fenced one is about to halt).
func failedOver(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, messages.ErrFenced)
}

// callFailover is call's body (see the top of this file).
func callFailover[R response](ctx context.Context, c *Client, op string, req proto.Message) (R, error) {
	var zero R
	switch req.(type) {
	case *messages.ClientConnect, *messages.ClientDisconnect:
		env, conn := c.target()
		setConn(req, conn)
		return callOnce[R](ctx, c, env, op, req)
	}
	multi := len(c.addrs) > 1 && c.opts.failover >= 0
	if !multi {
		env, conn := c.target()
		setConn(req, conn)
		return callOnce[R](ctx, c, env, op, req)
	}
	retry := idempotent(req)
	var last error
	attempt := func() (R, error) {
		env, conn := c.target()
		req := proto.Clone(req)
		setConn(req, conn)
		actx, cancel := ctx, context.CancelFunc(func() {})
		if retry && c.opts.attemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, c.opts.attemptTimeout)
		}
		resp, err := callOnce[R](actx, c, env, op, req)
		attemptTimedOut := err != nil && ctx.Err() == nil && actx.Err() != nil
		cancel()
		if err == nil {
			return resp, nil
		}
		if !failedOver(err) && !attemptTimedOut {
			return zero, backoff.Permanent(err)
		}
		last = err
		if ferr := c.failover(ctx, env); ferr != nil {
			return zero, backoff.Permanent(fmt.Errorf("%w (and no other environment serves: %w)", err, ferr))
		}
		if !retry {
			return zero, backoff.Permanent(&failoverError{op: op, err: err})
		}
		return zero, err
	}
	resp, err := backoff.Retry(ctx, attempt, backoff.WithBackOff(backoff.NewConstantBackOff(failoverPause)),
		backoff.WithMaxElapsedTime(c.opts.failover))
	if err != nil && last != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrCanceled) {
		err = fmt.Errorf("%w (%w)", last, err)
	}
	return resp, err
}

// failoverError is a non-idempotent call whose environment failed over.
type failoverError struct {
	op  string
	err error
}

func (e *failoverError) Error() string {
	return fmt.Sprintf("%s: not sent again after a failover (the outcome is unknown; check and retry): %v", e.op, e.err)
}

// Is matches ErrFailover and ErrUnavailable.
func (e *failoverError) Is(target error) bool {
	return target == ErrFailover || target == ErrUnavailable
}

// Unwrap returns the error the environment answered with.
func (e *failoverError) Unwrap() error { return e.err }

// failover opens a session on the first address, from the one after
// failed's, that accepts one, unless another call did so already; it
// tries each address once per round and rounds for at most the failover
// budget (bounded by ctx).
func (c *Client) failover(ctx context.Context, failed *actor.PID) error {
	c.reconnecting.Lock()
	defer c.reconnecting.Unlock()
	if env, _ := c.target(); !env.Equal(failed) {
		return nil // another call failed over already
	}
	start := 0
	for i, a := range c.addrs {
		if a == failed.GetAddress() {
			start = i + 1
		}
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, c.connectAny(ctx, start)
	}, backoff.WithBackOff(backoff.NewConstantBackOff(failoverPause)), backoff.WithMaxElapsedTime(c.opts.failover))
	return err
}

// connectAny opens a session on the first of the addresses, from start on
// (wrapping), whose environment accepts it, and makes it the client's
// target. It returns the errors of every address when none does.
func (c *Client) connectAny(ctx context.Context, start int) error {
	var errs []error
	for i := range c.addrs {
		addr := c.addrs[(start+i)%len(c.addrs)]
		env := actor.NewPID(addr, EnvironmentName)
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if len(c.addrs) > 1 {
			cctx, cancel = context.WithTimeout(ctx, connectTimeout)
		}
		resp, err := callOnce[*messages.ClientConnectResponse](cctx, c, env, "connect", &messages.ClientConnect{
			ClientAddress:      c.session.GetAddress(),
			ClientId:           c.session.GetId(),
			ApplicationName:    c.opts.app,
			StatementTimeoutMs: uint64(c.opts.statementTimeout / time.Millisecond),
		})
		cancel()
		if err == nil {
			gone := make(chan struct{})
			c.mu.Lock()
			c.env, c.conn, c.gone = env, resp.GetConn(), gone
			c.mu.Unlock()
			c.watchEnv(env, gone)
			return nil
		}
		if len(c.addrs) == 1 {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return errors.Join(errs...)
}

// setConn sets req's conn field (every client request but connect has
// one) to conn.
func setConn(req proto.Message, conn *messages.ConnectionId) {
	if conn == nil {
		return
	}
	m := req.ProtoReflect()
	if fd := m.Descriptor().Fields().ByName("conn"); fd != nil && fd.Kind() == protoreflect.MessageKind {
		m.Set(fd, protoreflect.ValueOfMessage(proto.Clone(conn).ProtoReflect()))
	}
}

// goneFor returns the channel that closes when env's node is gone, while
// env is the client's target (nil otherwise: a nil channel never fires).
func (c *Client) goneFor(env *actor.PID) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone == nil || !c.env.Equal(env) {
		return nil
	}
	return c.gone
}

// watchEnv is the watcher's request: watch env, close gone when it
// terminates (its node exits or the connection to it is lost).
type watchEnv struct {
	env  *actor.PID
	gone chan struct{}
}

// watchEnv has the client's watcher actor watch env (with several
// addresses only), so that calls in flight to a node that exits fail over
// at once instead of waiting for their deadline.
func (c *Client) watchEnv(env *actor.PID, gone chan struct{}) {
	if len(c.addrs) < 2 {
		return
	}
	if c.watcher == nil {
		var watched *actor.PID
		var closeGone chan struct{}
		c.watcher = c.sys.Root.SpawnPrefix(actor.PropsFromFunc(func(ctx actor.Context) {
			switch m := ctx.Message().(type) {
			case *watchEnv:
				if watched != nil && !watched.Equal(m.env) {
					ctx.Unwatch(watched)
				}
				watched, closeGone = m.env, m.gone
				ctx.Watch(m.env)
			case *actor.Terminated:
				if watched != nil && m.Who.Equal(watched) && closeGone != nil {
					close(closeGone)
					watched, closeGone = nil, nil
				}
			}
		}), "watcher")
	}
	c.sys.Root.Send(c.watcher, &watchEnv{env: env, gone: gone})
}

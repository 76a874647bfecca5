package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
)

// Update is one change of a subscribed collection: Row's multiplicity
// changed by Diff at Time.
type Update struct {
	Row  Row    `json:"row"`
	Time uint64 `json:"time"`
	Diff int64  `json:"diff"`
}

// SubscribeBatch is the next part of a subscription's stream: every
// change at a time below Upper that earlier batches did not carry.
type SubscribeBatch struct {
	Updates []Update `json:"updates"`
	Upper   uint64   `json:"upper"`
}

// SubscribeOption adjusts a subscribe.
type SubscribeOption func(*messages.ClientSubscribe)

// SubscribeAsOf starts the subscription at t (its first batch is the
// collection's contents at t); the default is the latest complete time.
func SubscribeAsOf(t uint64) SubscribeOption {
	return func(m *messages.ClientSubscribe) { m.AsOf = &t }
}

// Window is how many batches the environment may send beyond those Next
// returned (default 16): the flow control of a slow reader. A reader that
// falls too far behind gets an error (ErrInvalidArgument, "fell behind").
func Window(n uint32) SubscribeOption {
	return func(m *messages.ClientSubscribe) { m.Window = n }
}

// Subscription is a stream of a collection's changes. Next returns its
// batches in order; Close ends it. Next and Close may be called from
// different goroutines.
type Subscription struct {
	c     *Client
	env   *actor.PID             // the environment it began on
	conn  *messages.ConnectionId // and the session there
	id    uint64
	pid   *actor.PID
	asOf  uint64
	cols  []Column
	batch chan *messages.ClientSubscribeBatch

	mu     sync.Mutex
	done   bool
	closed bool
}

// Subscribe starts streaming a collection's changes (a table, view, index
// or materialized view). The subscription ends when Close is called, the
// client closes, or the environment ends it (a failure, or the reader fell
// behind); Next then returns io.EOF or the error.
func (c *Client) Subscribe(ctx context.Context, collection string, opts ...SubscribeOption) (*Subscription, error) {
	// A subscription stays with the environment and session it began on:
	// a failover ends it (Next returns the error), it does not move.
	env, conn := c.target()
	req := &messages.ClientSubscribe{Conn: conn, Collection: collection}
	for _, o := range opts {
		o(req)
	}
	window := req.GetWindow()
	if window == 0 {
		window = 16
	}
	s := &Subscription{c: c, env: env, conn: conn, batch: make(chan *messages.ClientSubscribeBatch, window+2)}
	first := make(chan any, 1)
	// The subscription's actor receives the answer, then the batches; it
	// never blocks: the environment sends at most window batches beyond
	// those acknowledged, and Next acknowledges only what it took.
	s.pid = c.sys.Root.SpawnPrefix(actor.PropsFromFunc(func(actx actor.Context) {
		switch m := actx.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		case *messages.ClientSubscribeBatch:
			select {
			case s.batch <- m:
			default:
				c.opts.logger.Warn("subscribe: batch over the window dropped", "subscription", m.GetSubscription(), "seq", m.GetSeq())
			}
		default:
			select {
			case first <- m:
			default:
			}
		}
	}), "subscribe")
	c.sys.Root.RequestWithCustomSender(env, req, s.pid)
	fail := func(err error) (*Subscription, error) {
		c.sys.Root.Stop(s.pid)
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.requestTimeout)
		defer cancel()
	}
	select {
	case m := <-first:
		r, ok := m.(*messages.ClientSubscribeResponse)
		if !ok {
			if u, ok := m.(*messages.UnknownMessageReply); ok {
				return fail(fromWire(u.GetError()))
			}
			return fail(&Error{Code: messages.ErrorCode_ERROR_CODE_INTERNAL, Message: fmt.Sprintf("subscribe: unexpected answer %T", m)})
		}
		if err := fromWire(r.GetError()); err != nil {
			return fail(err)
		}
		s.id, s.asOf, s.cols = r.GetSubscription(), r.GetAsOf(), schemaFromWire(r.GetSchema())
		return s, nil
	case <-c.done:
		return fail(fmt.Errorf("subscribe: %w", ErrClosed))
	case <-ctx.Done():
		return fail(fmt.Errorf("subscribe %q: %w", collection, ctxErr(ctx)))
	}
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ErrCanceled
}

// AsOf is the time the subscription started at.
func (s *Subscription) AsOf() uint64 { return s.asOf }

// Columns is the schema of the updates' rows.
func (s *Subscription) Columns() []Column { return s.cols }

// Next waits for the next batch. It returns io.EOF once the subscription
// ended normally (Close, or the collection will never change again), the
// environment's error when it ended it, or the context's error.
func (s *Subscription) Next(ctx context.Context) (SubscribeBatch, error) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return SubscribeBatch{}, io.EOF
	}
	select {
	case m := <-s.batch:
		b := SubscribeBatch{Upper: m.GetUpper(), Updates: make([]Update, len(m.GetUpdates()))}
		for i, u := range m.GetUpdates() {
			b.Updates[i] = Update{Row: RowFromWire(u.GetRow()), Time: u.GetTime(), Diff: u.GetDiff()}
		}
		if m.GetFinished() {
			s.finish()
			if err := fromWire(m.GetError()); err != nil {
				return b, err
			}
			if len(b.Updates) == 0 {
				return b, io.EOF
			}
			return b, nil
		}
		s.c.sys.Root.Send(s.env, &messages.ClientSubscribeAck{Conn: s.conn, Subscription: s.id, Seq: m.GetSeq()})
		return b, nil
	case <-s.c.done:
		return SubscribeBatch{}, fmt.Errorf("subscribe: %w", ErrClosed)
	case <-ctx.Done():
		return SubscribeBatch{}, ctxErr(ctx)
	}
}

func (s *Subscription) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// Close ends the subscription; Next returns what was already received,
// then io.EOF. Closing twice is harmless.
func (s *Subscription) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.c.opts.requestTimeout)
	defer cancel()
	_, err := call[*messages.ClientUnsubscribeResponse](ctx, s.c, "unsubscribe", &messages.ClientUnsubscribe{Subscription: s.id})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrClosed) {
		err = nil // it had ended already
	}
	s.finish()
	s.c.sys.Root.Stop(s.pid)
	return err
}

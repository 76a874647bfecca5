package multinode

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a TCP proxy on loopback in front of one address (a node's remote
// port). A node advertises its proxy's address, so every other process
// reaches it through the proxy, and the test decides what gets through:
//
//   - Blackhole stops every byte in both directions, on open connections and
//     on new ones (accepted, then held), as a partition does: nothing is
//     lost or reset, TCP-like, so what was sent arrives after Heal unless
//     the sender gave up on its connection meanwhile.
//   - Delay holds every byte read from now on for d before passing it on.
//   - BlackholeFrom and DelayFrom do the same for the connections of one
//     source only (a node's name), when the proxy can tell sources apart
//     (see NewProxy); Cluster.Link uses them for a partition between two
//     nodes.
//   - Heal ends all of these; HealFrom those of one source.
//   - Sever closes every open connection at once, as a crash of the link
//     would; new connections are accepted as before.
//
// The proxy's goroutines are its own: Close stops them and waits for them.
// Time here is real time: the proxy stands between real processes.
type Proxy struct {
	ln       net.Listener
	target   string
	identify func(conn net.Conn) string
	done     chan struct{} // closed by Close

	mu      sync.Mutex
	rules   rules
	changed chan struct{} // closed and replaced whenever rules change
	links   map[*link]struct{}
	closed  bool

	wg        sync.WaitGroup
	forwarded atomic.Int64 // bytes written to either side
	accepted  atomic.Int64 // connections accepted
}

// rules say what passes; guarded by Proxy.mu.
type rules struct {
	all       bool                     // Blackhole: nothing passes
	delay     time.Duration            // Delay: every chunk
	from      map[string]bool          // BlackholeFrom: sources that do not pass
	delayFrom map[string]time.Duration // DelayFrom
}

func (r rules) blocked(source string) bool { return r.all || (source != "" && r.from[source]) }

func (r rules) delayOf(source string) time.Duration {
	if d, ok := r.delayFrom[source]; ok && source != "" && d > r.delay {
		return d
	}
	return r.delay
}

// NewProxy listens on a free loopback port and forwards every connection to
// target. identify, when not nil, names the source of each accepted
// connection ("" when unknown); the per-source rules apply to the named
// ones. Traffic flows until a rule stops it.
func NewProxy(target string, identify func(accepted net.Conn) string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("multinode: proxy for %s: %w", target, err)
	}
	p := &Proxy{ln: ln, target: target, identify: identify, done: make(chan struct{}),
		changed: make(chan struct{}), links: make(map[*link]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's own address, the one to advertise.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Blackhole stops all traffic through the proxy until Heal.
func (p *Proxy) Blackhole() { p.update(func(r *rules) { r.all = true }) }

// Delay holds each chunk read from now on for d before forwarding it
// (order is kept). Delay(0) ends the delay.
func (p *Proxy) Delay(d time.Duration) { p.update(func(r *rules) { r.delay = d }) }

// BlackholeFrom stops the traffic of source's connections (both
// directions) until Heal or HealFrom(source).
func (p *Proxy) BlackholeFrom(source string) {
	p.update(func(r *rules) {
		if r.from == nil {
			r.from = make(map[string]bool)
		}
		r.from[source] = true
	})
}

// DelayFrom holds each chunk of source's connections read from now on for d
// (the longer of it and Delay's applies).
func (p *Proxy) DelayFrom(source string, d time.Duration) {
	p.update(func(r *rules) {
		if r.delayFrom == nil {
			r.delayFrom = make(map[string]time.Duration)
		}
		r.delayFrom[source] = d
	})
}

// HealFrom ends BlackholeFrom and DelayFrom for source.
func (p *Proxy) HealFrom(source string) {
	p.update(func(r *rules) {
		delete(r.from, source)
		delete(r.delayFrom, source)
	})
}

// Heal lets all traffic flow again at once: held bytes are forwarded, and
// chunks read from now on are not delayed.
func (p *Proxy) Heal() { p.update(func(r *rules) { *r = rules{} }) }

// Blackholed reports whether all traffic is stopped (Blackhole).
func (p *Proxy) Blackholed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rules.all
}

func (p *Proxy) update(f func(*rules)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.rules)
	close(p.changed)
	p.changed = make(chan struct{})
}

// state is what applies to source now, and a channel closed at the next
// change of the rules.
func (p *Proxy) state(source string) (blocked bool, delay time.Duration, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rules.blocked(source), p.rules.delayOf(source), p.changed
}

// Sever closes every connection open through the proxy; both ends see it
// closed. Blackhole and Delay stay as they are.
func (p *Proxy) Sever() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// Forwarded is the number of bytes the proxy has let through its gate so far, both
// directions together. A test reads it to see traffic flow or stop.
func (p *Proxy) Forwarded() int64 { return p.forwarded.Load() }

// Accepted is the number of connections accepted so far.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Close stops accepting, closes every connection and waits for the proxy's
// goroutines. It is safe to call more than once.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	_ = p.ln.Close()
	p.Sever()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve dials the target for one accepted connection and pipes both ways.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: 5 * time.Second}
	server, err := d.Dial("tcp", p.target)
	if err != nil { // the target is down: the caller sees its connection closed
		_ = client.Close()
		return
	}
	l := &link{a: client, b: server, closed: make(chan struct{})}
	if p.identify != nil {
		l.source = p.identify(client)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close()
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	var halves sync.WaitGroup
	halves.Add(2)
	go p.pipe(&halves, l, client, server)
	go p.pipe(&halves, l, server, client)
	halves.Wait()
	l.close()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// chunk is bytes read from one side, with when they may be forwarded.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe forwards src to dst through the gate and the delay: one goroutine
// reads (so a delay does not slow the stream down, only shifts it), this one
// writes. The queue between them is bounded, so a blackholed sender is
// eventually held back by TCP flow control, as in a real partition.
func (p *Proxy) pipe(halves *sync.WaitGroup, l *link, src, dst net.Conn) {
	defer halves.Done()
	queue := make(chan chunk, 64)
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				_, delay, _ := p.state(l.source)
				select {
				case queue <- chunk{data: buf[:n], due: time.Now().Add(delay)}:
				case <-l.closed:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer reader.Wait()
	for c := range queue {
		if !p.wait(l, c.due) {
			l.close()
			return
		}
		// Counted as it passes the gate, before the write: a reader that
		// sees the bytes arrive must also see them counted.
		p.forwarded.Add(int64(len(c.data)))
		if _, err := dst.Write(c.data); err != nil {
			l.close()
			return
		}
	}
	// src reached EOF (or was closed): pass the half-close on.
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// wait holds a chunk until the rules let its source pass and its due time
// has come; it reports false when the link or the proxy closed meanwhile.
func (p *Proxy) wait(l *link, dueAt time.Time) bool {
	for {
		blocked, _, changed := p.state(l.source)
		var timer *time.Timer
		var due <-chan time.Time // nil while blocked: only a change ends the wait
		if !blocked {
			d := time.Until(dueAt)
			if d <= 0 {
				return true
			}
			timer = time.NewTimer(d)
			due = timer.C
		}
		closed := false
		select {
		case <-due: // check the rules again
		case <-changed:
		case <-l.closed:
			closed = true
		case <-p.done:
			closed = true
		}
		if timer != nil {
			timer.Stop()
		}
		if closed {
			return false
		}
	}
}

// link is one proxied connection: a, the caller's side; b, the target's.
type link struct {
	a, b   net.Conn
	source string // who dialed, when the proxy can tell; "" otherwise
	once   sync.Once
	closed chan struct{}
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.closed)
		_ = l.a.Close()
		_ = l.b.Close()
	})
}

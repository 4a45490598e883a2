package crawler

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"crawl/internal/netguard"
)

// politeness keeps per-host limits that hold per host no matter which site's
// crawl asks (a requisite on another site's host waits in the same line as
// that site's own pages), and the same limits per server address: many
// hosts of a zone often share one small server (11 .kp domains had one
// address), and it should see no more than one host would.
type politeness struct {
	parallel     int // per host
	addrParallel int // per address
	delay        time.Duration

	mu    sync.Mutex
	hosts map[string]*gate
	addrs map[string]*gate

	// started, if set (tests), is told of every turn given, with the
	// line ("host NAME" or "addr ADDR"), the instant the gate counted it
	// from and the requests then in flight in that line; it runs with mu
	// held, so the order of calls is the order of turns.
	started func(line string, at time.Time, inflight int)
}

// gate is one host's (or one address's) line: at most `parallel` requests
// in flight, and each request starts no earlier than `delay` after the
// previous one started and after the previous one ended. Waiters are
// served in the order they took their ticket, so with HostParallel 1 a
// host's URLs are fetched (and their discoveries committed) in frontier
// order, which keeps the trap counters, and so the set of captures, the
// same when a crawl is interrupted and resumed.
type gate struct {
	parallel int
	inflight int
	next     time.Time     // earliest start of the next request
	delay    time.Duration // Config.Delay, raised by robots.txt Crawl-delay (hosts only)
	queue    []*ticket     // waiting, in turn order
	wake     chan struct{} // closed and replaced whenever the line moves
	failures int           // consecutive fetches without a response (hosts only)
	failed   string        // set aside: the last error (hosts only)
}

// ticket is a place in a host's line; addr, when not "", names the
// address line the request joins once the host's turn has come. A gate,
// once made, stays in its map for the life of the politeness, so a ticket
// keeps a pointer to its own.
type ticket struct {
	g      *gate
	line   string // "host NAME" or "addr ADDR", for started
	addr   string
	inAddr *ticket // the place in the address's line, once taken
}

func newPoliteness(parallel, addrParallel int, delay time.Duration) *politeness {
	if addrParallel <= 0 {
		addrParallel = parallel
	}
	return &politeness{parallel: parallel, addrParallel: addrParallel, delay: delay,
		hosts: map[string]*gate{}, addrs: map[string]*gate{}}
}

func (p *politeness) gate(host string) *gate {
	g := p.hosts[host]
	if g == nil {
		g = &gate{parallel: p.parallel, delay: p.delay, wake: make(chan struct{})}
		p.hosts[host] = g
	}
	return g
}

func (p *politeness) addrGate(addr string) *gate {
	g := p.addrs[addr]
	if g == nil {
		g = &gate{parallel: p.addrParallel, delay: p.delay, wake: make(chan struct{})}
		p.addrs[addr] = g
	}
	return g
}

func (g *gate) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// take queues a ticket for host (whose requests go to addr, "" if not
// known): at the back, or at the front for fetches that others wait on
// (robots.txt).
func (p *politeness) take(host, addr string, front bool) *ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gate(host)
	t := &ticket{g: g, line: "host " + host, addr: addr}
	if front {
		g.queue = append([]*ticket{t}, g.queue...)
	} else {
		g.queue = append(g.queue, t)
	}
	return t
}

// drop gives up a ticket that will not be used (or was already used).
func (p *politeness) drop(t *ticket) {
	if t == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropLocked(t)
	if t.inAddr != nil {
		p.dropLocked(t.inAddr)
	}
}

func (p *politeness) dropLocked(t *ticket) {
	g := t.g
	if i := slices.Index(g.queue, t); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		g.broadcast()
	}
}

// wait blocks until the ticket's turn comes, first in its host's line,
// then in its address's; the caller must call release once the request
// has ended. On error the ticket is dropped (and a host turn already
// taken is given back).
func (p *politeness) wait(ctx context.Context, t *ticket) error {
	if err := p.waitGate(ctx, t); err != nil {
		return err
	}
	if t.addr == "" {
		return nil
	}
	p.mu.Lock()
	g := p.addrGate(t.addr)
	t.inAddr = &ticket{g: g, line: "addr " + t.addr}
	g.queue = append(g.queue, t.inAddr)
	p.mu.Unlock()
	if err := p.waitGate(ctx, t.inAddr); err != nil {
		p.mu.Lock()
		p.releaseLocked(t.g, 0)
		p.mu.Unlock()
		return err
	}
	// The request starts now: the host's next start counts from here,
	// not from when its host turn came.
	p.mu.Lock()
	if g := t.g; time.Now().Add(g.delay).After(g.next) {
		g.next = time.Now().Add(g.delay)
	}
	p.mu.Unlock()
	return nil
}

// waitGate waits for t to be at the head of its gate's line with a free
// slot and the delay passed, and takes the slot.
func (p *politeness) waitGate(ctx context.Context, t *ticket) error {
	g := t.g
	for {
		p.mu.Lock()
		now := time.Now()
		head := len(g.queue) > 0 && g.queue[0] == t
		if head && g.inflight < g.parallel && !now.Before(g.next) {
			g.queue = g.queue[1:]
			g.inflight++
			g.next = now.Add(g.delay)
			g.broadcast()
			if p.started != nil {
				p.started(t.line, now, g.inflight)
			}
			p.mu.Unlock()
			return nil
		}
		wake := g.wake
		var tm *time.Timer
		var due <-chan time.Time
		if head && g.inflight < g.parallel {
			tm = time.NewTimer(g.next.Sub(now))
			due = tm.C
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-wake:
		case <-due:
		}
		if tm != nil {
			tm.Stop()
		}
		if err := ctx.Err(); err != nil {
			p.mu.Lock()
			p.dropLocked(t)
			p.mu.Unlock()
			return err
		}
	}
}

// acquire waits for a turn at the front of the host's line (then in the
// address's line, at its back).
func (p *politeness) acquire(ctx context.Context, host, addr string) (*ticket, error) {
	t := p.take(host, addr, true)
	return t, p.wait(ctx, t)
}

// release ends a request. backoff pushes the host's next start further out
// (429/503 with Retry-After); the address's next start is only pushed by
// the delay.
func (p *politeness) release(t *ticket, backoff time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(t.g, backoff)
	if t.inAddr != nil {
		p.releaseLocked(t.inAddr.g, 0)
	}
}

func (p *politeness) releaseLocked(g *gate, backoff time.Duration) {
	g.inflight--
	now := time.Now()
	if n := now.Add(g.delay); n.After(g.next) {
		g.next = n
	}
	if backoff > 0 {
		if n := now.Add(backoff); n.After(g.next) {
			g.next = n
		}
	}
	g.broadcast()
}

// setDelay raises a host's delay (robots.txt Crawl-delay); it never lowers
// it below the configured delay.
func (p *politeness) setDelay(host string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := p.gate(host); d > g.delay {
		g.delay = d
	}
}

// outcome records whether a fetch got a response. After max consecutive
// failures the host is set aside; it returns the reason once that happened.
// A refused address (netguard) sets the host aside at once: the refusal
// holds for the whole run, so trying again would only repeat it.
func (p *politeness) outcome(host string, err error, max int) (setAside string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gate(host)
	if err == nil {
		g.failures = 0
		return g.failed
	}
	g.failures++
	var refused *netguard.RefusedError
	switch {
	case g.failed != "":
	case errors.As(err, &refused):
		g.failed = refused.Error()
	case max > 0 && g.failures >= max:
		g.failed = err.Error()
	}
	return g.failed
}

// failed returns why a host was set aside, or "".
func (p *politeness) failed(host string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gate(host).failed
}

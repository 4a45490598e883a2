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
// crawl asks: a requisite on another site's host waits in the same line as
// that site's own pages.
type politeness struct {
	parallel int
	delay    time.Duration

	mu    sync.Mutex
	hosts map[string]*gate
}

// gate is one host's line: at most `parallel` requests in flight, and each
// request starts no earlier than `delay` after the previous one started and
// after the previous one ended. Waiters are served in the order they took
// their ticket, so with HostParallel 1 a host's URLs are fetched (and their
// discoveries committed) in frontier order, which keeps the trap counters,
// and so the set of captures, the same when a crawl is interrupted and
// resumed.
type gate struct {
	inflight int
	next     time.Time     // earliest start of the next request
	delay    time.Duration // Config.Delay, raised by robots.txt Crawl-delay
	queue    []*ticket     // waiting, in turn order
	wake     chan struct{} // closed and replaced whenever the line moves
	failures int           // consecutive fetches without a response
	failed   string        // set aside: the last error
}

// ticket is a place in a host's line.
type ticket struct{ host string }

func newPoliteness(parallel int, delay time.Duration) *politeness {
	return &politeness{parallel: parallel, delay: delay, hosts: map[string]*gate{}}
}

func (p *politeness) gate(host string) *gate {
	g := p.hosts[host]
	if g == nil {
		g = &gate{delay: p.delay, wake: make(chan struct{})}
		p.hosts[host] = g
	}
	return g
}

func (g *gate) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// take queues a ticket for host: at the back, or at the front for fetches
// that others wait on (robots.txt).
func (p *politeness) take(host string, front bool) *ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gate(host)
	t := &ticket{host: host}
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
	g := p.gate(t.host)
	if i := slices.Index(g.queue, t); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		g.broadcast()
	}
}

// wait blocks until the ticket's turn comes; the caller must call release
// once the request has ended. On error the ticket is dropped.
func (p *politeness) wait(ctx context.Context, t *ticket) error {
	for {
		p.mu.Lock()
		g := p.gate(t.host)
		now := time.Now()
		head := len(g.queue) > 0 && g.queue[0] == t
		if head && g.inflight < p.parallel && !now.Before(g.next) {
			g.queue = g.queue[1:]
			g.inflight++
			g.next = now.Add(g.delay)
			g.broadcast()
			p.mu.Unlock()
			return nil
		}
		wake := g.wake
		var tm *time.Timer
		var due <-chan time.Time
		if head && g.inflight < p.parallel {
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
			p.drop(t)
			return err
		}
	}
}

// acquire waits for a turn at the front of the host's line.
func (p *politeness) acquire(ctx context.Context, host string) error {
	return p.wait(ctx, p.take(host, true))
}

// release ends a request. backoff pushes the host's next start further out
// (429/503 with Retry-After).
func (p *politeness) release(host string, backoff time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gate(host)
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

package crawler

import (
	"context"
	"sync"
	"time"
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
// after the previous one ended.
type gate struct {
	inflight int
	next     time.Time     // earliest start of the next request
	delay    time.Duration // Config.Delay, raised by robots.txt Crawl-delay
	wake     chan struct{} // closed and replaced when a slot frees up
	failures int           // consecutive fetches without a response
	failed   string        // set aside: the last error
}

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

// acquire waits for the host's turn. The caller must call release once the
// request has ended.
func (p *politeness) acquire(ctx context.Context, host string) error {
	for {
		p.mu.Lock()
		g := p.gate(host)
		now := time.Now()
		if g.inflight < p.parallel && !now.Before(g.next) {
			g.inflight++
			g.next = now.Add(g.delay)
			p.mu.Unlock()
			return nil
		}
		wake := g.wake
		var t *time.Timer
		var wait <-chan time.Time
		if g.inflight < p.parallel {
			t = time.NewTimer(g.next.Sub(now))
			wait = t.C
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-wake:
		case <-wait:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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
	close(g.wake)
	g.wake = make(chan struct{})
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
func (p *politeness) outcome(host string, err error, max int) (setAside string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gate(host)
	if err == nil {
		g.failures = 0
		return g.failed
	}
	g.failures++
	if max > 0 && g.failures >= max && g.failed == "" {
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

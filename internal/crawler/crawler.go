package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocolly/colly/v2"

	"crawl/internal/archive"
	"crawl/internal/netguard"
	"crawl/internal/wire"
)

// Host is one web host of a site and the addresses discovery found for it.
// The crawler connects there, never through the system resolver (national
// zones often resolve nowhere else).
type Host struct {
	Name  string
	Addrs []string
}

// Site is one crawl unit: its hosts are the scope for pages, and the seeds
// default to http://HOST/ for each host (a redirect to https is followed).
type Site struct {
	Name  string
	Hosts []Host
	Seeds []string
}

// Status is where a site or a host stands in the crawl. A site is
// StatusCrawling in the state from its start until it ends; a SiteResult, a
// HostResult and the archive.HostStatus record written for each host only
// ever say done, partial or failed (the words of archive.Status*).
type Status string

const (
	StatusCrawling Status = "crawling" // begun, not ended: the next Run resumes it
	StatusDone     Status = archive.StatusDone
	StatusPartial  Status = archive.StatusPartial
	StatusFailed   Status = archive.StatusFailed
)

// Final tells whether a site has ended: a later Run skips it, unless
// Config.Recrawl starts a new snapshot.
func (s Status) Final() bool {
	return s == StatusDone || s == StatusPartial || s == StatusFailed
}

// Summary is the outcome of one Run.
type Summary struct {
	Sites   []SiteResult
	Pages   int64 // responses written in this run, robots.txt included
	Bytes   int64 // raw response bytes of those captures
	Errors  int64 // fetches without a response
	Resumed int64 // frontier entries completed from a capture an interrupted run wrote (Config.Archived)
	Elapsed time.Duration
	Stopped bool // the context was cancelled before every site finished
}

// SiteResult is one site's outcome. Counts cover the site's whole snapshot,
// including earlier interrupted runs.
type SiteResult struct {
	Name    string
	Status  Status // done, partial, failed
	Reason  string // why partial or failed: "stopped", "max-pages", "site-timeout", a host error
	Pages   int64
	Bytes   int64
	Errors  int64
	Skipped bool          // already finished in an earlier run; nothing fetched now
	Elapsed time.Duration // this run's time on the site
	Hosts   []HostResult
}

// HostResult is one host's share of a site.
type HostResult struct {
	Name   string
	Status Status
	Error  string
	Pages  int64
	Bytes  int64
}

// tagHeader carries a fetch's id through the wire transport so the exchange
// it records is matched to the request that made it.
const tagHeader = "X-Crawl-Fetch"

// Crawler crawls sites through a recording transport into a WARC writer.
// Create it with New; one Run at a time.
type Crawler struct {
	cfg       Config
	log       *slog.Logger
	state     *State
	ownState  bool
	commits   *committer       // during Run: applies completions to state
	collector *colly.Collector // the fetch engine (engine.go)
	transport *wire.Transport  // under the collector; keeps connections alive
	ua        string
	polite    *politeness
	extra     []string // Config.Scope in hostName form

	fetchID atomic.Uint64
	pending sync.Map // tag -> *pending, between fetch, collyShim and OnExchange

	connectTo map[string]string // Config.ConnectTo: "host:port" -> "addr:port"

	mu     sync.Mutex
	addrs  map[string][]netip.Addr // discovered addresses per host
	robots map[string]*robotsSlot  // origin -> answer

	stats stats
}

// New checks the config and opens the state.
func New(cfg Config) (*Crawler, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// One Limits, filled in: it is compared with the index's (page.Parsed).
	cfg.Parse = cfg.Parse.Normalized()
	c := &Crawler{
		cfg:    cfg,
		log:    cfg.Logger,
		ua:     cfg.userAgent(),
		polite: newPoliteness(cfg.HostParallel, cfg.PerAddressParallel, cfg.Delay),
		addrs:  map[string][]netip.Addr{},
		robots: map[string]*robotsSlot{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, d := range cfg.Scope {
		c.extra = append(c.extra, hostName(d))
	}
	c.state = cfg.State
	if c.state == nil {
		st, err := OpenState(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		c.state, c.ownState = st, true
	}
	connectTo := map[string]string{}
	for _, ct := range cfg.ConnectTo {
		from, to, _ := parseConnectTo(ct) // checked in check()
		connectTo[from] = to
	}
	c.connectTo = connectTo
	c.transport = wire.NewTransport(wire.Options{
		ConnectTo:  connectTo,
		Control:    netguard.New(cfg.AllowAddresses).Control,
		Resolve:    c.resolve,
		MaxBody:    cfg.MaxBody,
		Timeout:    cfg.Timeout,
		TagHeader:  tagHeader,
		OnExchange: c.onExchange,
	})
	client := &http.Client{
		Transport: &collyShim{next: c.transport, pending: &c.pending, maxParse: c.cfg.Parse.MaxBody, log: c.log},
		// Each redirect hop is its own capture; the crawler queues Location
		// itself (in scope, with a hop limit). colly's own redirect handler,
		// which would mark targets visited, is never installed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.collector = newCollector(client, c.cfg.Parse.MaxBody)
	c.collector.OnResponseHeaders(onResponseHeaders)
	c.collector.OnError(onError)
	return c, nil
}

// Close closes the state if New opened it.
func (c *Crawler) Close() error {
	if c.ownState {
		return c.state.Close()
	}
	return nil
}

// errNoAddress: a host outside the discovered ones and outside Scope. The
// crawler never asks the system resolver about those.
var errNoAddress = errors.New("no discovered address")

func (c *Crawler) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	host = hostName(host)
	c.mu.Lock()
	a, ok := c.addrs[host]
	c.mu.Unlock()
	if ok && len(a) > 0 {
		return a, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if inDomains(host, c.extra) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	return nil, fmt.Errorf("resolve %s: %w", host, errNoAddress)
}

// addressOf names the server a URL's requests go to, for politeness per
// address: the ConnectTo target's address, else the host's first
// discovered address (the one the transport tries first), else the host
// itself when it is an address; "" when unknown (a Scope host the system
// resolves), and then only the host's own limits apply.
func (c *Crawler) addressOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if to, ok := c.connectTo[strings.ToLower(net.JoinHostPort(u.Hostname(), port))]; ok {
		if a, _, err := net.SplitHostPort(to); err == nil {
			return a
		}
		return to
	}
	host := hostName(u.Hostname())
	c.mu.Lock()
	a := c.addrs[host]
	c.mu.Unlock()
	if len(a) > 0 {
		return a[0].String()
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return ""
}

// Run crawls the sites, resuming whatever an earlier run left in the state.
// When ctx is cancelled, no new fetch starts, in-flight fetches get
// StopGrace to finish, the frontier stays in the state, and Run returns the
// summary so far with Stopped set (and a nil error).
func (c *Crawler) Run(ctx context.Context, sites []Site) (Summary, error) {
	start := time.Now()
	zone := map[string]bool{}
	c.mu.Lock()
	for _, s := range sites {
		for _, h := range s.Hosts {
			name := hostName(h.Name)
			zone[name] = true
			for _, a := range h.Addrs {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					c.log.Warn("ignoring bad address", "host", h.Name, "addr", a)
					continue
				}
				if ip = ip.Unmap(); !slices.Contains(c.addrs[name], ip) {
					c.addrs[name] = append(c.addrs[name], ip)
				}
			}
		}
	}
	c.mu.Unlock()
	if c.cfg.Recrawl {
		if err := c.state.forgetRobots(); err != nil {
			return Summary{}, err
		}
	}

	// In-flight fetches outlive cancellation by StopGrace, so a stop loses
	// as little as possible; then they are aborted.
	fetchCtx, cancelFetch := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFetch()
	stopAfter := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(c.cfg.StopGrace, cancelFetch)
		context.AfterFunc(fetchCtx, func() { t.Stop() })
	})
	defer stopAfter()

	c.commits = newCommitter(c.state, c.syncArchive, commitEvery)
	c.stats.reset(len(sites))
	progressDone := c.startProgress()

	results := make([]SiteResult, len(sites))
	sem := make(chan struct{}, c.cfg.HostsAtOnce)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for i, s := range sites {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i] = c.unstarted(s)
			continue
		}
		if c.commits.failed() != nil {
			// The state takes no more commits: a site begun now would be
			// fetched for nothing. The next run resumes it.
			<-sem
			results[i] = c.unstarted(s)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := c.crawlSite(ctx, fetchCtx, s, zone)
			results[i] = r
			if err != nil {
				errOnce.Do(func() { firstErr = err })
			}
		}()
	}
	wg.Wait()
	if err := c.commits.close(); err != nil {
		errOnce.Do(func() { firstErr = err })
	}
	progressDone()
	// Hang up the connections kept alive: the run is over.
	c.transport.CloseIdleConnections()

	sum := Summary{
		Sites:   results,
		Pages:   c.stats.pages.Load(),
		Bytes:   c.stats.bytes.Load(),
		Errors:  c.stats.errors.Load(),
		Resumed: c.stats.resumed.Load(),
		Elapsed: time.Since(start),
		Stopped: ctx.Err() != nil,
	}
	c.printSummary(sum)
	return sum, firstErr
}

// unstarted is the result of a site the run never reached.
func (c *Crawler) unstarted(s Site) SiteResult {
	r := SiteResult{Name: s.Name, Status: StatusPartial, Reason: reasonStopped}
	if rec, err := c.state.site(s.Name); err == nil {
		r.Pages, r.Bytes, r.Errors = rec.Pages, rec.Bytes, rec.Errors
	}
	return r
}

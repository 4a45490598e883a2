package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/temoto/robotstxt"

	"crawl/internal/archive"
	"crawl/internal/page"
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

// Site and host outcomes in a Summary.
const (
	StatusDone    = archive.StatusDone
	StatusPartial = archive.StatusPartial
	StatusFailed  = archive.StatusFailed
)

// Summary is the outcome of one Run.
type Summary struct {
	Sites   []SiteResult
	Pages   int64 // responses written in this run, robots.txt included
	Bytes   int64 // raw response bytes of those captures
	Errors  int64 // fetches without a response
	Elapsed time.Duration
	Stopped bool // the context was cancelled before every site finished
}

// SiteResult is one site's outcome. Counts cover the site's whole snapshot,
// including earlier interrupted runs.
type SiteResult struct {
	Name    string
	Status  string // done, partial, failed
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
	Status string
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
	collector *colly.Collector // the fetch engine (engine.go)
	ua        string
	polite    *politeness
	extra     []string // Config.Scope in hostName form

	fetchID atomic.Uint64
	pending sync.Map // tag -> *pending, between fetch, collyShim and OnExchange

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
	c := &Crawler{
		cfg:    cfg,
		log:    cfg.Logger,
		ua:     cfg.userAgent(),
		polite: newPoliteness(cfg.HostParallel, cfg.Delay),
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
	t := wire.NewTransport(wire.Options{
		ConnectTo:  connectTo,
		Resolve:    c.resolve,
		MaxBody:    cfg.MaxBody,
		Timeout:    cfg.Timeout,
		TagHeader:  tagHeader,
		OnExchange: c.onExchange,
	})
	client := &http.Client{
		Transport: &collyShim{next: t, pending: &c.pending, maxParse: cfg.MaxParse, log: c.log},
		// Each redirect hop is its own capture; the crawler queues Location
		// itself (in scope, with a hop limit). colly's own redirect handler,
		// which would mark targets visited, is never installed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.collector = newCollector(client, cfg.MaxParse)
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
	progressDone()

	sum := Summary{
		Sites:   results,
		Pages:   c.stats.pages.Load(),
		Bytes:   c.stats.bytes.Load(),
		Errors:  c.stats.errors.Load(),
		Elapsed: time.Since(start),
		Stopped: ctx.Err() != nil,
	}
	c.printSummary(sum)
	return sum, firstErr
}

// unstarted is the result of a site the run never reached.
func (c *Crawler) unstarted(s Site) SiteResult {
	r := SiteResult{Name: s.Name, Status: StatusPartial, Reason: "stopped"}
	if rec, err := c.state.site(s.Name); err == nil {
		r.Pages, r.Bytes, r.Errors = rec.Pages, rec.Bytes, rec.Errors
	}
	return r
}

// siteCrawl is one site's crawl in progress.
type siteCrawl struct {
	site  Site
	scope *scope

	mu  sync.Mutex
	rec *siteRecord
}

func (c *Crawler) crawlSite(ctx, fetchCtx context.Context, s Site, zone map[string]bool) (SiteResult, error) {
	rec, err := c.state.site(s.Name)
	if err != nil {
		return c.unstarted(s), err
	}
	final := rec.Status == StatusDone || rec.Status == StatusPartial || rec.Status == StatusFailed
	if final && c.cfg.Recrawl {
		if err := c.state.resetSite(s.Name); err != nil {
			return c.unstarted(s), err
		}
		rec = &siteRecord{Hosts: map[string]*tally{}}
		final = false
	}
	if final {
		c.stats.sitesDone.Add(1)
		c.stats.sitesQueued.Add(-1)
		return c.result(s, rec, true), nil
	}
	begin := time.Now()
	c.stats.sitesQueued.Add(-1)
	c.stats.sitesActive.Add(1)
	defer c.stats.sitesActive.Add(-1)
	defer c.stats.sitesDone.Add(1)

	sc := &siteCrawl{site: s, rec: rec, scope: &scope{site: map[string]bool{}, zone: zone, extra: c.extra}}
	for _, h := range s.Hosts {
		sc.scope.site[hostName(h.Name)] = true
	}
	if rec.Status == "" {
		rec.Status = "crawling"
		rec.Started = time.Now().UTC()
	}
	var seeds []*entry
	raw := s.Seeds
	if len(raw) == 0 {
		for _, h := range s.Hosts {
			raw = append(raw, "http://"+h.Name+"/")
		}
	}
	for _, r := range raw {
		n, err := page.Normalize(r, nil)
		if err != nil {
			c.log.Warn("bad seed", "site", s.Name, "seed", r, "err", err)
			continue
		}
		seeds = append(seeds, &entry{URL: n})
	}
	if !rec.Seeded {
		if err := c.state.seed(s.Name, seeds, rec); err != nil {
			return c.unstarted(s), err
		}
	}

	siteCtx := ctx
	if c.cfg.SiteTimeout > 0 {
		var cancel context.CancelFunc
		siteCtx, cancel = context.WithTimeout(ctx, c.cfg.SiteTimeout)
		defer cancel()
	}
	// robots.txt of the site's hosts one after the other: www's often
	// redirects to the apex's (or http's to https's), which is then known
	// and not fetched twice. With IgnoreRobots it is still fetched and
	// archived (it is part of the site), just not obeyed.
	for _, e := range seeds {
		if u, err := url.Parse(e.URL); err == nil {
			if _, err := c.robotsFor(siteCtx, fetchCtx, sc, u); err != nil {
				c.log.Debug("robots.txt", "url", e.URL, "err", err)
			}
		}
	}

	slots := c.cfg.HostParallel * max(1, len(s.Hosts))
	slots = min(slots, 64)
	done := make(chan error, slots)
	var (
		queue    []*entry
		cursor   []byte
		inflight int
		reason   string
		stateErr error
	)
	waitOne := func() {
		if err := <-done; err != nil && stateErr == nil {
			stateErr = err
		}
		inflight--
	}
	for stateErr == nil {
		if err := siteCtx.Err(); err != nil {
			reason = "stopped"
			if ctx.Err() == nil {
				reason = "site-timeout"
			}
			break
		}
		sc.mu.Lock()
		pages := sc.rec.Pages
		sc.mu.Unlock()
		if c.cfg.MaxPages > 0 && pages+int64(inflight) >= int64(c.cfg.MaxPages) {
			if inflight > 0 {
				waitOne()
				continue
			}
			reason = "max-pages"
			break
		}
		if len(queue) == 0 {
			queue, err = c.state.load(s.Name, cursor, 256)
			if err != nil {
				stateErr = err
				break
			}
			if len(queue) > 0 {
				cursor = queue[len(queue)-1].key
			} else if inflight == 0 {
				break // frontier empty, nothing in flight: the site is complete
			} else {
				waitOne()
				continue
			}
		}
		if inflight >= slots {
			waitOne()
			continue
		}
		e := queue[0]
		queue = queue[1:]
		inflight++
		// The host's ticket is taken here, in frontier order, not when the
		// goroutine gets going: see gate.
		var tk *ticket
		if u, err := url.Parse(e.URL); err == nil {
			tk = c.polite.take(hostOf(u), false)
		}
		go func() { done <- c.visit(siteCtx, fetchCtx, sc, e, tk) }()
	}
	for inflight > 0 {
		waitOne()
	}
	if stateErr != nil && reason == "" {
		reason = "state: " + stateErr.Error()
	}

	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch reason {
	case "":
		sc.rec.Status = StatusDone
	case "stopped":
		// Stays "crawling": the next run resumes it.
	default:
		sc.rec.Status = StatusPartial
		sc.rec.Reason = reason
	}
	if reason == "" && sc.rec.Pages == 0 && sc.rec.Errors > 0 {
		sc.rec.Status = StatusFailed
		sc.rec.Reason = "no host answered"
	}
	if sc.rec.Status != "crawling" {
		sc.rec.Ended = time.Now().UTC()
	}
	if err := c.state.saveSite(s.Name, sc.rec); err != nil && stateErr == nil {
		stateErr = err
	}
	r := c.result(s, sc.rec, false)
	r.Elapsed = time.Since(begin)
	if reason == "stopped" {
		r.Status, r.Reason = StatusPartial, "stopped"
	}
	for _, h := range r.Hosts {
		hs := archive.HostStatus{Host: h.Name, Status: h.Status, Error: h.Error, Pages: h.Pages, Bytes: h.Bytes, Time: time.Now().UTC()}
		if _, err := c.cfg.Writer.WriteMetadata(archive.HostStatusURI(h.Name), hs.Time, archive.ContentType, archive.Encode(hs)); err != nil && stateErr == nil {
			stateErr = fmt.Errorf("host status %s: %w", h.Name, err)
		}
	}
	c.log.Info("site finished", "site", s.Name, "status", r.Status, "reason", r.Reason, "pages", r.Pages, "errors", r.Errors)
	return r, stateErr
}

// result builds a SiteResult from a site record; rec must not change meanwhile.
func (c *Crawler) result(s Site, rec *siteRecord, skipped bool) SiteResult {
	r := SiteResult{Name: s.Name, Status: rec.Status, Reason: rec.Reason, Pages: rec.Pages, Bytes: rec.Bytes, Errors: rec.Errors, Skipped: skipped}
	if r.Status == "crawling" || r.Status == "" {
		r.Status = StatusPartial
	}
	for _, h := range s.Hosts {
		name := hostName(h.Name)
		t := rec.Hosts[name]
		if t == nil {
			t = &tally{}
		}
		hr := HostResult{Name: name, Status: r.Status, Pages: t.Pages, Bytes: t.Bytes}
		switch {
		case t.Failed != "":
			hr.Status, hr.Error = StatusFailed, t.Failed
		case t.Pages == 0 && t.Errors > 0:
			hr.Status, hr.Error = StatusFailed, t.Last
		case r.Status == StatusFailed && t.Pages > 0:
			hr.Status = StatusPartial
		}
		if r.Status == StatusPartial && hr.Error == "" && r.Reason != "" {
			hr.Error = r.Reason
		}
		r.Hosts = append(r.Hosts, hr)
	}
	return r
}

// visit fetches one frontier entry, archives what came back, queues what it
// links to, and commits all of it to the state. An entry left uncommitted
// (cancelled before it was fetched) stays in the frontier for the next run.
func (c *Crawler) visit(siteCtx, fetchCtx context.Context, sc *siteCrawl, e *entry, tk *ticket) error {
	defer c.polite.drop(tk) // a no-op once the ticket was served
	comp := &completion{site: sc.site.Name, done: e}
	u, err := url.Parse(e.URL)
	if err != nil || tk == nil {
		c.log.Warn("unparseable frontier url", "url", e.URL, "err", err)
		return c.finish(sc, comp, "", nil)
	}
	host := hostOf(u)
	if why := c.polite.failed(host); why != "" {
		c.log.Debug("host set aside, skipping", "url", e.URL, "why", why)
		return c.finish(sc, comp, "", nil)
	}
	if !c.cfg.IgnoreRobots {
		rules, err := c.robotsFor(siteCtx, fetchCtx, sc, u)
		if err != nil {
			if siteCtx.Err() != nil {
				return nil // stopped while waiting: the entry stays queued
			}
			return err
		}
		if rules != nil && !rules.TestAgent(robotsPath(u), robotsAgent) {
			c.log.Debug("disallowed by robots.txt", "url", e.URL)
			return c.finish(sc, comp, "", nil)
		}
	}
	if err := c.polite.wait(siteCtx, tk); err != nil {
		return nil // stopped while waiting for the host's turn: stays queued
	}
	// The host's turn ends after the commit, so with HostParallel 1 one
	// host's discoveries are committed in the order its URLs were fetched.
	backoff := time.Duration(0)
	defer func() { c.polite.release(host, backoff) }()
	f := c.fetch(fetchCtx, u)
	if f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable {
		backoff = c.retryAfter(f.header)
		if e.Retries < c.cfg.MaxRetries {
			re := *e
			re.Retries++
			comp.requeue = &re
		}
	}
	if f.aborted && fetchCtx.Err() != nil {
		// Aborted after the stop grace: keep it for the next run.
		f.close()
		return nil
	}
	if why := c.polite.outcome(host, f.err, c.cfg.HostMaxErrors); why != "" && f.err != nil {
		c.log.Warn("host set aside after repeated failures", "host", host, "err", why)
	}
	defer f.close()

	werr := c.archive(sc, u, host, f)
	if werr != nil {
		return werr // the archive cannot take records: stop this site, keep the entry
	}
	comp.found, comp.maxVariants = c.links(sc, e, u, f), c.cfg.MaxQueryVariants
	return c.finish(sc, comp, host, f)
}

// finish updates the site's counters with the fetch from host, if there
// was one, and commits the completion.
func (c *Crawler) finish(sc *siteCrawl, comp *completion, host string, f *fetched) error {
	sc.mu.Lock()
	if f != nil {
		t := sc.rec.Hosts[host]
		if t == nil {
			t = &tally{}
			sc.rec.Hosts[host] = t
		}
		if f.err != nil {
			sc.rec.Errors++
			t.Errors++
			t.Last = f.err.Error()
		} else {
			sc.rec.Pages++
			sc.rec.Bytes += f.size
			t.Pages++
			t.Bytes += f.size
		}
		t.Failed = c.polite.failed(host)
	}
	var err error
	comp.recBytes, err = json.Marshal(sc.rec)
	sc.mu.Unlock()
	if err != nil {
		return err
	}
	return c.state.commit(comp)
}

// links returns the in-scope, trap-free URLs a capture leads to.
func (c *Crawler) links(sc *siteCrawl, e *entry, u *url.URL, f *fetched) []*entry {
	var out []*entry
	// add takes a normalised absolute URL: page.Parse and page.ParseCSS give
	// nothing else, and a redirect's Location is normalised below.
	add := func(n string, requisite bool, depth, hops int) {
		nu, err := url.Parse(n)
		if err != nil || !sc.scope.allows(nu, requisite) {
			return
		}
		if why := trapReason(nu, n, c.cfg.MaxURLLength, c.cfg.MaxSegmentRepeat); why != "" {
			c.log.Debug("trap rule", "url", n, "rule", why)
			return
		}
		out = append(out, &entry{URL: n, Depth: depth, Requisite: requisite, Hops: hops, variant: variantKey(nu)})
	}
	if f.err != nil {
		return nil
	}
	if f.status >= 300 && f.status < 400 {
		if loc := f.header.Get("Location"); loc != "" && e.Hops < c.cfg.MaxRedirects {
			if n, err := page.Normalize(loc, u); err == nil {
				add(n, e.Requisite, e.Depth, e.Hops+1)
			}
		}
		return out
	}
	if f.status < 200 || f.status >= 300 || len(f.body) == 0 {
		return nil
	}
	ct := f.header.Get("Content-Type")
	switch {
	case isCSS(ct, u):
		for _, l := range page.ParseCSS(f.body, ct, u) {
			add(l.URL, true, e.Depth, 0)
		}
	default:
		// Parse sniffs the body itself: what is not HTML is ErrNotHTML.
		p, err := page.Parse(f.body, ct, u)
		if err != nil {
			if !errors.Is(err, page.ErrNotHTML) {
				c.log.Debug("parse", "url", u.String(), "err", err)
			}
			return nil
		}
		for _, l := range p.Links {
			if l.Requisite {
				add(l.URL, true, e.Depth, 0)
				continue
			}
			// A requisite (a frame) is fetched for its own requisites only:
			// following its links would leave the page being rendered.
			if e.Requisite {
				continue
			}
			if c.cfg.MaxDepth > 0 && e.Depth+1 > c.cfg.MaxDepth {
				continue
			}
			add(l.URL, false, e.Depth+1, 0)
		}
	}
	return out
}

func isCSS(ct string, u *url.URL) bool {
	mt := mediaType(ct)
	if mt == "text/css" {
		return true
	}
	return mt == "" && strings.HasSuffix(strings.ToLower(u.Path), ".css")
}

// retryAfter is how long a 429/503 asks us to wait: Retry-After (seconds or
// a date) up to the cap; without it, a few times the delay (at least 5s).
func (c *Crawler) retryAfter(h http.Header) time.Duration {
	d := max(4*c.cfg.Delay, 5*time.Second)
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			d = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	}
	return max(0, min(d, c.cfg.RetryAfterCap))
}

func robotsPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// robotsSlot serialises the one robots.txt fetch of an origin.
type robotsSlot struct {
	mu     sync.Mutex
	loaded bool
	rules  *robotstxt.RobotsData // nil: everything allowed
}

// robotsFor returns the robots.txt rules of u's origin,
// fetching (and archiving) robots.txt once per origin and run; the answer is
// kept in the state so a resumed crawl does not ask again.
func (c *Crawler) robotsFor(siteCtx, fetchCtx context.Context, sc *siteCrawl, u *url.URL) (*robotstxt.RobotsData, error) {
	origin := u.Scheme + "://" + u.Host
	c.mu.Lock()
	slot := c.robots[origin]
	if slot == nil {
		slot = &robotsSlot{}
		c.robots[origin] = slot
	}
	c.mu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.loaded {
		return slot.rules, nil
	}
	rec, ok, err := c.state.robots(origin)
	if err != nil {
		return nil, err
	}
	if !ok {
		rec, err = c.fetchRobots(siteCtx, fetchCtx, sc, origin)
		if err != nil {
			return nil, err
		}
		if err := c.state.saveRobots(origin, rec); err != nil {
			return nil, err
		}
	}
	var rules *robotstxt.RobotsData
	if rec.Status != 0 {
		data, err := robotstxt.FromStatusAndBytes(rec.Status, rec.Body)
		if err != nil {
			// Unparseable or an odd status: a lenient reader allows all, as
			// browsers and most crawlers do.
			c.log.Debug("robots.txt unusable, allowing all", "origin", origin, "err", err)
		} else {
			rules = data
			if cd := data.FindGroup(robotsAgent).CrawlDelay; cd > 0 && !c.cfg.IgnoreRobots {
				c.polite.setDelay(hostOf(u), min(cd, c.cfg.CrawlDelayCap))
			}
		}
	}
	slot.rules, slot.loaded = rules, true
	return rules, nil
}

// robotsAgent is the product token robots.txt groups are matched against.
const robotsAgent = "crawl"

// robotsMaxRedirects follows RFC 9309 §2.3.1.2 (at least five hops).
const robotsMaxRedirects = 5

// robotsMaxBody: RFC 9309 asks crawlers to parse at least 500 KiB.
const robotsMaxBody = 512 << 10

func (c *Crawler) fetchRobots(siteCtx, fetchCtx context.Context, sc *siteCrawl, origin string) (*robotsRecord, error) {
	target := origin + "/robots.txt"
	var via []string // other origins whose robots.txt redirected here: the answer is theirs too
	answer := func(rec *robotsRecord) (*robotsRecord, error) {
		for _, o := range via {
			if err := c.state.saveRobots(o, rec); err != nil {
				return nil, err
			}
		}
		return rec, nil
	}
	for hop := 0; ; hop++ {
		u, err := url.Parse(target)
		if err != nil {
			return answer(&robotsRecord{Error: err.Error()})
		}
		if hop > 0 && u.Path == "/robots.txt" && u.RawQuery == "" {
			// http -> https or www -> apex: that origin's robots.txt may
			// be known already; fetching it again would be a duplicate.
			o := u.Scheme + "://" + u.Host
			if rec, ok, err := c.state.robots(o); err != nil {
				return nil, err
			} else if ok {
				return answer(rec)
			}
			via = append(via, o)
		}
		host := hostOf(u)
		if err := c.polite.acquire(siteCtx, host); err != nil {
			return nil, err
		}
		f := c.fetch(fetchCtx, u)
		c.polite.release(host, 0)
		if f.aborted && fetchCtx.Err() != nil {
			f.close()
			return nil, fetchCtx.Err()
		}
		werr := c.archive(sc, u, host, f)
		f.close()
		if werr != nil {
			return nil, werr
		}
		if f.err != nil {
			c.polite.outcome(host, f.err, c.cfg.HostMaxErrors)
			return answer(&robotsRecord{Error: f.err.Error()})
		}
		if f.status >= 300 && f.status < 400 && hop < robotsMaxRedirects {
			if loc := f.header.Get("Location"); loc != "" {
				if n, err := page.Normalize(loc, u); err == nil {
					target = n
					continue
				}
			}
		}
		if f.status >= 300 && f.status < 400 {
			return answer(&robotsRecord{Status: http.StatusNotFound}) // unfollowable redirect: no robots.txt
		}
		body := f.body
		if len(body) > robotsMaxBody {
			body = body[:robotsMaxBody]
		}
		return answer(&robotsRecord{Status: f.status, Body: body})
	}
}

// fetched is one fetch's outcome, as the crawler needs it after archiving.
type fetched struct {
	ex      *wire.Exchange
	status  int
	header  http.Header
	body    []byte // decoded (gzip/deflate) and capped at MaxParse, for parsing
	size    int64  // raw response bytes on the wire
	err     error  // no response
	aborted bool   // cut by cancellation
}

func (f *fetched) close() {
	if f.ex != nil {
		f.ex.Close()
	}
}

// fetch performs one GET through the colly collector, over the recording
// transport (see engine.go).
func (c *Crawler) fetch(ctx context.Context, u *url.URL) *fetched {
	f := &fetched{}
	tag := strconv.FormatUint(c.fetchID.Add(1), 10)
	p := &pending{ctx: ctx, u: u, f: f}
	c.pending.Store(tag, p)
	defer func() {
		c.pending.Delete(tag)
		if f.ex != nil {
			if f.ex.Response != nil {
				f.size = f.ex.Response.Size()
			}
			if f.err == nil && f.ex.Err != nil {
				f.err = f.ex.Err
			}
		}
	}()
	hdr := http.Header{}
	hdr.Set("User-Agent", c.ua)
	hdr.Set("Accept", "text/html,application/xhtml+xml,text/css,*/*;q=0.8")
	hdr.Set("Accept-Encoding", "gzip")
	hdr.Set(tagHeader, tag)
	cctx := colly.NewContext()
	cctx.Put(pendingKey, p)
	err := c.collector.Request(http.MethodGet, u.String(), nil, cctx, hdr)
	if err != nil && !p.got {
		// colly refused before sending (its URL parser, for one).
		f.err = fmt.Errorf("request %s: %w", u, err)
	}
	if f.err != nil {
		f.status, f.header, f.body = 0, nil, nil
	}
	f.aborted = ctx.Err() != nil
	return f
}

// archive writes a fetch as a request/response pair, or a FetchError record
// when no response came back.
func (c *Crawler) archive(sc *siteCrawl, u *url.URL, host string, f *fetched) error {
	now := time.Now().UTC()
	if f.ex != nil && f.ex.Response != nil {
		res, err := c.cfg.Writer.WriteExchange(f.ex.WARC())
		if err != nil {
			return fmt.Errorf("archive %s: %w", u, err)
		}
		c.stats.pages.Add(1)
		c.stats.bytes.Add(f.size)
		if res.Revisit {
			c.stats.revisits.Add(1)
		}
		if f.ex.CertError != "" {
			c.log.Info("certificate problem (recorded anyway)", "url", u.String(), "err", f.ex.CertError)
		}
		if f.ex.Truncated != "" {
			c.log.Info("response truncated", "url", u.String(), "why", f.ex.Truncated)
		}
		return nil
	}
	if f.err == nil {
		f.err = errors.New("no response recorded")
	}
	c.stats.errors.Add(1)
	fe := archive.FetchError{URL: u.String(), Host: host, Error: f.err.Error(), Time: now}
	if _, err := c.cfg.Writer.WriteMetadata(u.String(), now, archive.ContentType, archive.Encode(fe)); err != nil {
		return fmt.Errorf("archive fetch error of %s: %w", u, err)
	}
	c.log.Debug("fetch failed", "url", u.String(), "err", f.err)
	return nil
}

// mayHoldLinks tells from a Content-Type whether a body is worth reading
// for links: HTML, CSS, XML, any text, or no type at all (then page.Parse
// sniffs). Images, media, archives and the like are not read.
func mayHoldLinks(contentType string) bool {
	mt := mediaType(contentType)
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), strings.Contains(mt, "html"), strings.Contains(mt, "xml"):
		return true
	}
	return false
}

// mediaType is a Content-Type without its parameters, lowercase.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

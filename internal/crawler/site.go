package crawler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"crawl/internal/archive"
	"crawl/internal/httpmsg"
	"crawl/internal/page"
	"crawl/internal/wire"
)

// siteCrawl is one site's crawl in progress.
type siteCrawl struct {
	site    Site
	scope   *scope
	resumed bool // begun by an earlier run

	mu  sync.Mutex
	rec *siteRecord
}

// Why a site ended short of done, in SiteResult.Reason (a host error or a
// state error may be there too).
const (
	reasonStopped     = "stopped"      // the run was stopped: the next Run resumes the site
	reasonMaxPages    = "max-pages"    // Config.MaxPages reached
	reasonSiteTimeout = "site-timeout" // Config.SiteTimeout reached
	reasonNoAnswer    = "no host answered"
)

// crawlSite crawls one site to its end (or the run's stop), resuming what
// the state holds of it, and writes each host's outcome to the archive.
func (c *Crawler) crawlSite(ctx, fetchCtx context.Context, s Site, zone map[string]bool) (SiteResult, error) {
	rec, err := c.state.site(s.Name)
	if err != nil {
		return c.unstarted(s), err
	}
	final := rec.Status.Final()
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

	// A site still crawling was interrupted: what it had in flight may
	// be archived already (see Config.Archived).
	resumed := rec.Status == StatusCrawling
	sc := &siteCrawl{site: s, rec: rec, resumed: resumed, scope: &scope{site: map[string]bool{}, zone: zone, extra: c.extra}}
	for _, h := range s.Hosts {
		sc.scope.site[hostName(h.Name)] = true
	}
	if rec.Status == "" {
		rec.Status = StatusCrawling
		rec.Started = time.Now().UTC()
	}
	seeds := c.seeds(s)
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

	reason, stateErr := c.schedule(ctx, siteCtx, fetchCtx, sc)
	return c.endSite(sc, begin, reason, stateErr)
}

// seeds returns a site's seed entries: its Seeds, or http://HOST/ for each
// of its hosts.
func (c *Crawler) seeds(s Site) []*entry {
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
	return seeds
}

// schedule is the site's scheduler loop: it takes frontier entries in the
// order they were queued and visits each in a goroutine of its own, up to
// HostParallel per host of the site at once, until the frontier is empty
// with nothing in flight, MaxPages is reached, the site's time is up or the
// run stops. It returns why the site ended short ("" when it is complete)
// and the first state error, after every visit it started has returned.
func (c *Crawler) schedule(ctx, siteCtx, fetchCtx context.Context, sc *siteCrawl) (reason string, stateErr error) {
	// Entries in flight: with HostParallel above 1 a host's turn ends when
	// its response is read (see visit), so more visits may be parsing or
	// archiving while the next requests go out. Four times as many keep the requests going
	// through those waits (BenchmarkSite, 2 cores: 0.76 s per crawl with
	// twice as many, 0.68 s with four times; the requests in flight are
	// still HostParallel per host).
	slots := c.cfg.HostParallel * max(1, len(sc.site.Hosts))
	if c.cfg.HostParallel > 1 {
		slots *= 4
	}
	slots = min(slots, maxSlots)
	done := make(chan error, slots)
	var (
		queue    []*entry
		cursor   []byte
		inflight int
		err      error
		// An interrupted run had at most maxSlots entries in flight
		// (whatever its HostParallel and hosts were), and took them in
		// frontier order, and at most maxUncommitted more waited for
		// their commit: they are among the first entries now, up to the
		// key suspectsEnd. Entries this run queues come after it: they
		// are fetched (a 429 requeued here, say, is not taken from its
		// own archived 429).
		suspectsEnd []byte
	)
	if sc.resumed && c.cfg.Archived != nil {
		head, err := c.state.load(sc.site.Name, nil, maxSlots+maxUncommitted)
		if err != nil {
			return "state: " + err.Error(), err
		}
		if len(head) > 0 {
			suspectsEnd = head[len(head)-1].key
		}
	}
	waitOne := func() {
		if err := <-done; err != nil && stateErr == nil {
			stateErr = err
		}
		inflight--
	}
	for stateErr == nil {
		if err := siteCtx.Err(); err != nil {
			reason = reasonStopped
			if ctx.Err() == nil {
				reason = reasonSiteTimeout
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
			reason = reasonMaxPages
			break
		}
		if len(queue) == 0 {
			queue, err = c.state.load(sc.site.Name, cursor, 256)
			if err == nil && len(queue) == 0 {
				// What the finished visits found is in the committer's
				// group: commit it now rather than wait for its time.
				if err = c.commits.flush(); err == nil {
					queue, err = c.state.load(sc.site.Name, cursor, 256)
				}
			}
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
		e.resumed = suspectsEnd != nil && bytes.Compare(e.key, suspectsEnd) <= 0
		// The host's ticket is taken here, in frontier order, not when the
		// goroutine gets going: see gate.
		var tk *ticket
		if u, err := url.Parse(e.URL); err == nil {
			tk = c.polite.take(hostOf(u), c.addressOf(u), false)
		}
		go func() { done <- c.visit(siteCtx, fetchCtx, sc, e, tk) }()
	}
	for inflight > 0 {
		waitOne()
	}
	// Everything the visits handed over is committed before the site's
	// end is (endSite), or the run's.
	if err := c.commits.flush(); err != nil && stateErr == nil {
		stateErr = err
	}
	if stateErr != nil && reason == "" {
		reason = "state: " + stateErr.Error()
	}
	return reason, stateErr
}

// endSite records how the site ended, in the state and, for each host, as
// an archive.HostStatus record, and returns the site's result.
func (c *Crawler) endSite(sc *siteCrawl, begin time.Time, reason string, stateErr error) (SiteResult, error) {
	s := sc.site
	sc.mu.Lock()
	defer sc.mu.Unlock()
	// When the committer failed before the site's completions were all
	// committed, the state holds the site as its last committed
	// completion left it, and the archive holds more: the site stays
	// StatusCrawling, with that record, and the next run resumes it
	// (taking what was archived meanwhile from the archive).
	uncommitted := stateErr != nil && c.commits.failed() != nil
	switch {
	case uncommitted:
	case reason == "":
		sc.rec.Status = StatusDone
	case reason == reasonStopped:
		// Stays StatusCrawling: the next run resumes it.
	default:
		sc.rec.Status = StatusPartial
		sc.rec.Reason = reason
	}
	if !uncommitted && reason == "" && sc.rec.Pages == 0 && (sc.rec.Errors > 0 || sc.rec.anySetAside()) {
		sc.rec.Status = StatusFailed
		sc.rec.Reason = reasonNoAnswer
	}
	if sc.rec.Status != StatusCrawling {
		sc.rec.Ended = time.Now().UTC()
	}
	r := c.result(s, sc.rec, false)
	r.Elapsed = time.Since(begin)
	if reason == reasonStopped || uncommitted {
		r.Status, r.Reason = StatusPartial, reason
	}
	// The hosts' outcomes go to the archive before the state says the
	// site ended: a site the state holds as ended is never crawled again,
	// so a kill -9 (or a failed write) between the two must leave it to
	// be ended again by the next run, not without its outcome records.
	var recErr error
	for _, h := range r.Hosts {
		hs := archive.HostStatus{Host: h.Name, Status: string(h.Status), Error: h.Error, Pages: h.Pages, Bytes: h.Bytes, Time: time.Now().UTC()}
		if err := archive.WriteHostStatus(c.cfg.Writer, hs); err != nil && recErr == nil {
			recErr = err
		}
	}
	if recErr == nil && sc.rec.Status != StatusCrawling {
		recErr = c.syncArchive() // and on disk, before a state that outlives a power loss says so
	}
	if stateErr == nil {
		stateErr = recErr
	}
	if !uncommitted && recErr == nil {
		if err := c.state.saveSite(s.Name, sc.rec); err != nil && stateErr == nil {
			stateErr = err
		}
	}
	c.log.Info("site finished", "site", s.Name, "status", r.Status, "reason", r.Reason, "pages", r.Pages, "errors", r.Errors)
	return r, stateErr
}

// result builds a SiteResult from a site record; rec must not change meanwhile.
func (c *Crawler) result(s Site, rec *siteRecord, skipped bool) SiteResult {
	r := SiteResult{Name: s.Name, Status: rec.Status, Reason: rec.Reason, Pages: rec.Pages, Bytes: rec.Bytes, Errors: rec.Errors, Skipped: skipped}
	if !r.Status.Final() {
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

// fromArchive completes an entry from a capture the archive already holds
// from this snapshot (written before a kill -9 kept its commit from the
// state): its links are read from the record, nothing is fetched. done is
// false when there is no such capture.
func (c *Crawler) fromArchive(ctx context.Context, sc *siteCrawl, e *entry, u *url.URL, host string, comp *completion) (done bool, err error) {
	sc.mu.Lock()
	since := sc.rec.Started
	sc.mu.Unlock()
	block, id, ok, err := c.cfg.Archived(ctx, e.URL, since)
	if err != nil {
		c.log.Warn("looking up an earlier capture", "url", e.URL, "err", err)
		return false, nil // fetch it
	}
	if !ok || (e.BusyID != "" && id == e.BusyID) {
		return false, nil // not archived, or only the 429/503 that queued it again
	}
	f := &fetched{size: int64(len(block)), recordID: id}
	// Interim 1xx heads recorded before the response are skipped, as
	// the transport does.
	resp, err := httpmsg.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
	if err != nil {
		return false, nil // not a readable response: fetch it
	}
	f.status, f.header = resp.StatusCode, resp.Header
	// A 429 or 503 is retried, as the killed run would have committed
	// it. (Its Retry-After is long past.)
	c.retryLater(e, f.status, comp)
	if mayHoldLinks(resp.Header.Get("Content-Type")) {
		f.body, _ = wire.ReadDecoded(resp, c.cfg.Parse.MaxBody)
	}
	c.log.Info("taken from the archive, not fetched again", "url", e.URL, "record", id)
	c.stats.resumed.Add(1)
	c.parse(u, f)
	f.body = nil
	// The killed run may not have written the capture's notes: it writes
	// them after queueing the links. (If it had, they are there twice.)
	return true, c.complete(sc, e, u, host, f, comp)
}

// maxSlots bounds a site's visits in flight (schedule's slots).
const maxSlots = 64

// frontierChunk is how many discovered URLs a visit hands to the committer
// at once.
const frontierChunk = 250

// visit fetches one frontier entry, archives what came back, and hands what
// it links to, with the entry's completion, to the committer. An entry left
// uncommitted (cancelled before it was fetched, or killed before its group
// was committed) stays in the frontier for the next run.
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
		return c.finish(sc, comp, host, nil)
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
	if e.resumed {
		if done, err := c.fromArchive(siteCtx, sc, e, u, host, comp); done || err != nil {
			return err
		}
	}
	if err := c.polite.wait(siteCtx, tk); err != nil {
		return nil // stopped while waiting for the host's turn: stays queued
	}
	// With HostParallel 1 the host's turn ends after the completion is
	// handed over, so one host's discoveries are committed in the order
	// its URLs were fetched and a crawl is the same from run to run. Above 1, order is not kept
	// anyway, and the turn ends once the response is read: the server is
	// done with it, and the next request need not wait for this one's
	// parse, archiving and commit (site slots allow for that).
	backoff := time.Duration(0)
	released := false
	defer func() {
		if !released {
			c.polite.release(tk, backoff)
		}
	}()
	f := c.fetch(fetchCtx, u)
	if c.retryLater(e, f.status, comp) {
		backoff = c.retryAfter(f.header)
	}
	if c.cfg.HostParallel > 1 {
		c.polite.release(tk, backoff)
		released = true
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

	c.parse(u, f)
	f.body = nil // parsed: what is left to read is f.page or f.css
	werr := c.archive(sc, u, host, f)
	if werr != nil {
		return werr // the archive cannot take records: stop this site, keep the entry
	}
	return c.complete(sc, e, u, host, f, comp)
}

// complete queues what the archived capture f leads to, notes the limits
// it hit and hands the entry's completion to the committer (finish).
//
// The links go to the committer in chunks of frontierChunk as they are
// found, the last one with the completion: a page of many links never
// builds a second copy of its links, and the committer commits a group
// once it holds commitLinks of them. The chunks are committed in order,
// before the completion; a kill between two leaves the entry in the
// frontier, so the next run fetches it (or takes it from the archive)
// again and queues the rest (the chunks already queued are seen).
func (c *Crawler) complete(sc *siteCrawl, e *entry, u *url.URL, host string, f *fetched, comp *completion) error {
	if comp.requeue != nil {
		// The entry queued again is not this capture: a resumed run
		// fetches it rather than take this from the archive.
		comp.requeue.BusyID = f.recordID
	}
	comp.maxVariants = c.cfg.MaxQueryVariants
	comp.dropped = new(int) // shared with the chunks: the commits count into it, in order
	var serr error
	notes := c.links(sc, e, u, f, func(n *entry) {
		if serr != nil {
			return
		}
		comp.found = append(comp.found, n)
		if len(comp.found) >= frontierChunk {
			serr = c.commits.submit(&completion{site: sc.site.Name, found: comp.found, maxVariants: comp.maxVariants, dropped: comp.dropped})
			comp.found = nil // handed over
		}
	})
	f.page, f.css = nil, nil
	if serr != nil {
		return serr
	}
	// Limits the capture hit are noted before the commit, so a kill
	// cannot lose them (the entry is fetched, or taken from the archive,
	// and noted again).
	if f.ex != nil && f.ex.Truncated != "" {
		notes = append(notes, c.truncationNote(f.ex.Truncated))
	}
	about := noteAbout(e, host, f)
	if err := c.writeNotes(about, notes); err != nil {
		return err
	}
	// The query-variant rule is applied when the completion is
	// committed, so its note is written then. (The closure keeps the
	// note's names, not f: a completion may wait for its group, f's
	// buffers need not.)
	dropped := comp.dropped
	comp.after = func() error {
		if *dropped == 0 {
			return nil
		}
		return c.writeNotes(about, []archive.Note{{Kind: archive.NoteTrap,
			Detail: fmt.Sprintf("%d links dropped by a trap rule (more than %d query strings for one path: --max-query-variants)", *dropped, c.cfg.MaxQueryVariants)}})
	}
	return c.finish(sc, comp, host, f)
}

// truncationNote says how a body was cut (wire.Exchange.Truncated).
func (c *Crawler) truncationNote(why string) archive.Note {
	var detail string
	switch why {
	case "length":
		detail = fmt.Sprintf("length: the body was cut at %d bytes (--max-body)", c.cfg.MaxBody)
	case "time":
		detail = fmt.Sprintf("time: the body was cut by the %v request timeout (--timeout)", c.cfg.Timeout)
	case "disconnect":
		detail = "disconnect: the server closed the connection before the body's end, or its framing broke"
	default:
		detail = why
	}
	return archive.Note{Kind: archive.NoteTruncated, Detail: detail}
}

// noteAbout names the capture f of entry e from host, as a note does.
func noteAbout(e *entry, host string, f *fetched) archive.Note {
	n := archive.Note{URL: e.URL, Host: host, Capture: f.recordID}
	if f.ex != nil {
		n.URL = f.ex.URL // the capture's WARC-Target-URI, exactly
	}
	return n
}

// writeNotes records the limits a capture hit, as archive.Note records
// naming its response record (about, from noteAbout).
func (c *Crawler) writeNotes(about archive.Note, notes []archive.Note) error {
	now := time.Now().UTC()
	for _, n := range notes {
		n.URL, n.Host, n.Capture, n.Time = about.URL, about.Host, about.Capture, now
		if err := archive.WriteNote(c.cfg.Writer, n); err != nil {
			return err
		}
		c.log.Info("limit hit", "url", n.URL, "kind", n.Kind, "detail", n.Detail)
	}
	return nil
}

// finish updates the site's counters with the fetch from host, if there
// was one (f nil with a host: a URL skipped because the host was set
// aside), and hands the completion to the committer.
func (c *Crawler) finish(sc *siteCrawl, comp *completion, host string, f *fetched) error {
	sc.mu.Lock()
	if host != "" {
		t := sc.rec.Hosts[host]
		if t == nil {
			t = &tally{}
			sc.rec.Hosts[host] = t
		}
		switch {
		case f == nil:
		case f.err != nil:
			sc.rec.Errors++
			t.Errors++
			t.Last = f.err.Error()
		default:
			sc.rec.Pages++
			sc.rec.Bytes += f.size
			t.Pages++
			t.Bytes += f.size
		}
		t.Failed = c.polite.failed(host)
	}
	defer sc.mu.Unlock()
	var err error
	comp.recBytes, err = json.Marshal(sc.rec)
	if err != nil {
		return err
	}
	// Handed over under the lock, so the site's records are committed in
	// the order they were made and the state's is the newest: two visits
	// waiting in submit for a commit otherwise go on in any order.
	return c.commits.submit(comp)
}

// retryLater sets comp to queue e again at the end of the frontier when
// status (429, 503) asks to come back later and e has retries left. It
// reports whether status asks to wait.
func (c *Crawler) retryLater(e *entry, status int, comp *completion) bool {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return false
	}
	if e.Retries < c.cfg.MaxRetries {
		re := *e
		re.Retries++
		comp.requeue = &re
	}
	return true
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

// anySetAside reports whether a host of the site was set aside (after
// repeated failures, or because its address is refused): a site with no
// capture and such a host has failed, even if the host's only fetch was
// its robots.txt.
func (r *siteRecord) anySetAside() bool {
	for _, t := range r.Hosts {
		if t.Failed != "" {
			return true
		}
	}
	return false
}

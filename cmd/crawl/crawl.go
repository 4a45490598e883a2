package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"crawl/internal/bytesize"
	"crawl/internal/crawler"
	"crawl/internal/discover"
	"crawl/internal/index"
	"crawl/internal/netguard"
	"crawl/internal/page"
)

func crawlCommand() *command {
	return &command{
		name:    "crawl",
		args:    "[HOST|URL...]",
		summary: "crawl the web hosts the archive knows, or the hosts and seed URLs named",
		detail: `Without arguments, crawls every web host that 'crawl discover' put in the
archive, one site (a discovered domain with its web hosts) at a time per slot.
A HOST argument crawls that host; a URL argument seeds the crawl there, and the
URL's host is its scope. Connections go to the addresses discovery recorded,
never through the system resolver; --connect-to overrides them.

Addresses: loopback, private (RFC 1918), link-local, carrier-grade NAT,
documentation, multicast and the other special-purpose ranges of the IANA
registries are never connected to, whatever names them (zone data,
--connect-to, a seed URL, a redirect): such a host fails with the reason
recorded. --allow-addresses CIDR opens a range on purpose.

Politeness: robots.txt is obeyed (and archived) unless --ignore-robots;
requests to one host are --delay apart, --host-parallel at once, and so are the
requests to one server address, whatever hosts share it (--per-address-parallel
at once, as many as one host by default); Crawl-delay is
honoured up to --crawl-delay-cap; 429 and 503 back off. Run the same command
again to resume an interrupted crawl; --recrawl takes a new snapshot.`,
		run: runCrawl,
	}
}

// crawlFlags registers the crawler's flags with DefaultConfig's defaults.
func (e *env) crawlFlags() *crawler.Config {
	c := crawler.DefaultConfig()
	fs := e.fs
	fs.DurationVar(&c.Delay, "delay", c.Delay, "pause between requests to one host")
	fs.IntVar(&c.HostParallel, "host-parallel", c.HostParallel, "requests in flight per host")
	fs.IntVar(&c.PerAddressParallel, "per-address-parallel", c.PerAddressParallel, "requests in flight per server address, across the hosts that share it (0: as --host-parallel)")
	fs.IntVar(&c.HostsAtOnce, "hosts-at-once", c.HostsAtOnce, "sites crawled side by side")
	fs.DurationVar(&c.CrawlDelayCap, "crawl-delay-cap", c.CrawlDelayCap, "robots.txt Crawl-delay is honoured up to this")
	fs.DurationVar(&c.RetryAfterCap, "retry-after-cap", c.RetryAfterCap, "429/503 Retry-After is honoured up to this")
	fs.IntVar(&c.MaxRetries, "max-retries", c.MaxRetries, "retries of one URL after 429/503")
	fs.IntVar(&c.HostMaxErrors, "host-max-errors", c.HostMaxErrors, "consecutive failed fetches before a host is set aside")
	fs.IntVar(&c.MaxPages, "max-pages", c.MaxPages, "captures per site")
	fs.IntVar(&c.MaxDepth, "max-depth", c.MaxDepth, "link hops from a seed")
	e.byteSizeVar(&c.MaxBody, "max-body", c.MaxBody, "response body `size` kept (10MB, 64MiB, bytes); a longer body is cut and marked truncated")
	// The index always parses with page.DefaultLimits (a rebuild has no
	// crawl flags to go by), and takes the crawler's parse only when its
	// limits are those.
	e.byteSizeVar(&c.Parse.MaxBody, "max-parse", c.Parse.MaxBody, "decoded `size` of one page read for its links (the index reads the default)")
	fs.IntVar(&c.Parse.Config.MaxLinks, "max-links", c.Parse.Config.MaxLinks, "links taken from one page for the crawl (more are dropped, and the capture gets a note)")
	e.delay = &c.Delay
	e.liveSearch = "auto"
	fs.Var(choice{&e.liveSearch, []string{"auto", "on", "off"}}, "live-search", "keep the full-text index up to date during the crawl (`mode`: on, off, or auto, which is on unless --delay 0: a crawl that uses every core leaves it to the next search, serve, or the end of crawl run)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "one request, from connecting to the last byte")
	fs.DurationVar(&c.SiteTimeout, "site-timeout", c.SiteTimeout, "one site's whole crawl")
	fs.IntVar(&c.MaxRedirects, "max-redirects", c.MaxRedirects, "hops of one redirect chain")
	fs.IntVar(&c.MaxURLLength, "max-url-length", c.MaxURLLength, "longer URLs are not queued")
	fs.IntVar(&c.MaxSegmentRepeat, "max-segment-repeat", c.MaxSegmentRepeat, "a path segment repeated more often marks a crawler trap")
	fs.IntVar(&c.MaxQueryVariants, "max-query-variants", c.MaxQueryVariants, "distinct query strings per path")
	fs.BoolVar(&c.IgnoreRobots, "ignore-robots", false, "do not obey robots.txt (it is still fetched and archived)")
	fs.StringVar(&c.UserAgent, "user-agent", "", "User-Agent `string` (default \"crawl/VERSION (+CONTACT)\")")
	fs.Var((*stringList)(&c.ConnectTo), "connect-to", "`HOST:PORT=ADDR:PORT` connection override, like curl's (repeatable)")
	fs.Var((*prefixList)(&c.AllowAddresses), "allow-addresses", "crawl addresses in this special-purpose `CIDR` range too (loopback, private, link-local...: refused otherwise; repeatable)")
	fs.Var((*stringList)(&c.Scope), "scope", "also crawl this `host or domain` and its subdomains (repeatable)")
	fs.BoolVar(&c.Recrawl, "recrawl", false, "take a new snapshot of sites already crawled (unchanged payloads become revisits)")
	fs.DurationVar(&c.StopGrace, "stop-grace", c.StopGrace, "after a stop signal, fetches in flight get this long")
	e.byteSizeVar(&e.memoryLimit, "memory-limit", defaultMemoryLimit, "soft limit of the process's memory (`size`, 192MiB): the garbage collector works harder near it (0: none; GOMEMLIMIT overrides)")
	fs.DurationVar(&c.ProgressInterval, "progress-interval", c.ProgressInterval, "how often progress is logged when stderr is not a terminal")
	return &c
}

// defaultMemoryLimit is the soft memory limit of a crawl. Go's collector
// otherwise lets the heap grow to twice what is live: a crawl whose live
// heap peaks at 150 MB (four pages of 100,000 links parsed at once, their
// search documents analysed) reached 350-450 MB of RSS. Near the limit the
// collector runs more often (never using more than half the CPU for it),
// so the peak stays near the limit while what is live fits under it. With
// the search index written during the crawl too (--live-search on), 256 MiB
// still gave 263-301 MB of RSS on those pages (mapped index files count as
// well); 192 MiB gives about 250 MB, at no measurable cost in CPU.
const defaultMemoryLimit = 192 << 20

// choice is a flag that takes one of a few words.
type choice struct {
	v     *string
	words []string
}

func (c choice) String() string {
	if c.v == nil {
		return ""
	}
	return *c.v
}

func (c choice) Set(s string) error {
	if !slices.Contains(c.words, s) {
		return fmt.Errorf("want one of %s", strings.Join(c.words, ", "))
	}
	*c.v = s
	return nil
}

// deferSearch reports whether the crawl leaves the full-text index for
// later (--live-search): it takes a good part of the CPU, which a crawl
// without delays uses whole; index.db stays live either way.
func (e *env) deferSearch() bool {
	switch e.liveSearch {
	case "off":
		return true
	case "auto":
		return e.delay != nil && *e.delay == 0
	}
	return false
}

// limitMemory sets the soft memory limit from --memory-limit, unless the
// GOMEMLIMIT environment variable has set one already.
//
// Under a limit, the garbage collector also waits for the heap to grow to
// five times the live data (GOGC=400) instead of twice, unless GOGC is
// set: a crawl's live heap is small and its garbage (bodies, parses) is
// plenty, so collections at GOGC=100 took a fifth of a fast crawl's wall
// time (BenchmarkSite, GOGC 100 -> 400: about 1.0 -> 0.85 s per crawl of
// 1,170 pages). The limit is the bound that matters; near it the collector
// works harder whatever GOGC says.
func (e *env) limitMemory() {
	limited := os.Getenv("GOMEMLIMIT") != ""
	if !limited && e.memoryLimit > 0 {
		debug.SetMemoryLimit(e.memoryLimit)
		limited = true
	}
	if limited && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(crawlGCPercent)
	}
}

// crawlGCPercent is GOGC during a crawl under a memory limit (limitMemory).
const crawlGCPercent = 400

// prefixList is a repeatable flag of CIDR prefixes (or addresses), also
// comma-separated.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var ss []string
	for _, x := range *p {
		ss = append(ss, x.String())
	}
	return strings.Join(ss, ",")
}

func (p *prefixList) Set(v string) error {
	ps, err := netguard.ParsePrefixes(strings.Split(v, ","))
	if err != nil {
		return err
	}
	*p = append(*p, ps...)
	return nil
}

func runCrawl(ctx context.Context, e *env, args []string) error {
	cfg := e.crawlFlags()
	w := e.warcFlags()
	targets, err := e.parse(args)
	if err != nil {
		return err
	}
	known, err := knownHosts(ctx, e) // read-only: the lock comes with openSession
	if err != nil && !(len(targets) > 0 && errors.Is(err, index.ErrEmpty)) {
		return err
	}
	var sites []crawler.Site
	if len(targets) == 0 {
		sites = sitesFromHosts(known)
		if len(sites) == 0 {
			return fmt.Errorf("the archive %s knows no web host: run 'crawl discover ZONE' first, or name hosts or URLs", e.archive)
		}
	} else {
		sites, err = sitesFromTargets(e, targets, known)
		if err != nil {
			return err
		}
	}
	e.limitMemory()
	s, err := openSession(e, w, robotsPolicy(cfg), true)
	if err != nil {
		return err
	}
	sum, cerr := crawlSites(ctx, e, s, cfg, w, sites)
	if err := s.Close(); err != nil && cerr == nil {
		cerr = err
	}
	if sum != nil {
		printCrawlSummary(e, sum)
	}
	return cerr
}

// nothingCrawled is the failure of a run in which every site failed and
// nothing was captured. A host with no address known is the usual cause
// (named on the command line, never discovered): the error says what to do.
// Each host's own error is in the archive ('crawl hosts').
func nothingCrawled(sum *crawler.Summary, sites []crawler.Site, cfg *crawler.Config) error {
	if sum.Pages > 0 || sum.Stopped || len(sum.Sites) == 0 {
		return nil
	}
	for _, r := range sum.Sites {
		if r.Skipped || r.Status != crawler.StatusFailed {
			return nil
		}
	}
	var unknown []string
	for _, s := range sites {
		for _, h := range s.Hosts {
			if len(h.Addrs) == 0 && !cfg.Reaches(h.Name) {
				unknown = append(unknown, h.Name)
			}
		}
	}
	if len(unknown) == 0 {
		// The first host's own error says why (a refused address says
		// which flag opens it); the others are in the archive.
		for _, r := range sum.Sites {
			for _, h := range r.Hosts {
				if h.Error != "" {
					more := ""
					if n := len(sites); n > 1 {
						more = fmt.Sprintf(" ('crawl hosts' shows the errors of all %d sites)", n)
					}
					return fmt.Errorf("nothing crawled: %s: %s%s", h.Name, h.Error, more)
				}
			}
		}
		return errors.New("nothing crawled: no host answered ('crawl hosts' shows each host's error)")
	}
	return fmt.Errorf("nothing crawled: no address known for %s: run 'crawl discover ZONE' for the zone it is in, "+
		"or pass --connect-to HOST:PORT=ADDR:PORT (e.g. --connect-to %s:80=ADDR:80)", strings.Join(unknown, ", "), unknown[0])
}

func robotsPolicy(c *crawler.Config) string {
	if c.IgnoreRobots {
		return "ignore"
	}
	return "classic"
}

// crawlSites runs the crawler over sites, writing through the session.
// A run in which every site failed and nothing was captured is a failure
// (nothingCrawled), whichever command asked for it.
func crawlSites(ctx context.Context, e *env, s *session, cfg *crawler.Config, w *warcOptions, sites []crawler.Site) (*crawler.Summary, error) {
	c := *cfg
	c.State = s.state
	c.Writer = s.writer
	// On resume, URLs an interrupted run had in flight are looked up in
	// the index (caught up with the WARC files when the session opened)
	// before they are fetched again.
	c.Archived = s.index.ArchivedSince
	// Without a live full-text index, nobody reads a page's text during
	// the crawl: the index takes the crawler's parse for headlines and
	// links (page.Limits.SameOutline), and the full-text index reads the
	// records again when it catches up.
	c.Parse.Config.SkipText = s.index.SearchDeferred()
	c.Contact = w.contact
	c.Logger = e.log
	c.Progress = e.stderr
	c.ProgressIsTerminal = isTerminal(e.stderr)
	cr, err := crawler.New(c)
	if err != nil {
		return nil, usagef(e.cmd, "%v", err)
	}
	sum, err := cr.Run(ctx, sites)
	if err == nil && sum.Stopped && ctx.Err() != nil {
		err = errInterrupted
	}
	if err == nil {
		err = nothingCrawled(&sum, sites, cfg)
	}
	return &sum, err
}

// printCrawlSummary prints one JSON line per site with --json. Without it
// the crawler has already shown the per-site table on stderr, with the
// progress, so only the totals remain to say.
func printCrawlSummary(e *env, sum *crawler.Summary) {
	if e.json {
		type siteLine struct {
			Site    string `json:"site"`
			Status  string `json:"status"`
			Reason  string `json:"reason,omitempty"`
			Pages   int64  `json:"pages"`
			Bytes   int64  `json:"bytes"`
			Errors  int64  `json:"errors"`
			Skipped bool   `json:"skipped,omitempty"`
		}
		p := e.rows()
		for _, r := range sum.Sites {
			p.add(siteLine{r.Name, string(r.Status), r.Reason, r.Pages, r.Bytes, r.Errors, r.Skipped})
		}
		return
	}
	stopped := ""
	if sum.Stopped {
		stopped = " (stopped: run the same command again to resume)"
	}
	fmt.Fprintf(e.stderr, "crawl: %d sites, %d responses (robots.txt included), %s, %d fetch errors in %s%s\n",
		len(sum.Sites), sum.Pages, bytesize.Format(sum.Bytes), sum.Errors, sum.Elapsed.Round(1e7), stopped)
}

// knownHosts reads the hosts discovery put into the archive's index.
func knownHosts(ctx context.Context, e *env) ([]index.HostRow, error) {
	r, err := openReader(ctx, e, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Hosts(ctx)
}

// sitesFromHosts groups the web hosts by site.
func sitesFromHosts(hosts []index.HostRow) []crawler.Site {
	bySite := map[string]*crawler.Site{}
	var names []string
	for _, h := range hosts {
		if h.Role != discover.RoleWeb {
			continue
		}
		site := h.Site
		if site == "" {
			site = h.Host
		}
		s := bySite[site]
		if s == nil {
			s = &crawler.Site{Name: site}
			bySite[site] = s
			names = append(names, site)
		}
		s.Hosts = append(s.Hosts, crawler.Host{Name: h.Host, Addrs: h.Addrs})
	}
	sort.Strings(names)
	sites := make([]crawler.Site, 0, len(names))
	for _, n := range names {
		sites = append(sites, *bySite[n])
	}
	return sites
}

// sitesFromTargets makes one site per HOST or URL named on the command line.
// A URL's host is its scope; known addresses come from the index.
func sitesFromTargets(e *env, targets []string, known []index.HostRow) ([]crawler.Site, error) {
	addrs := map[string][]string{}
	for _, h := range known {
		addrs[h.Host] = h.Addrs
	}
	bySite := map[string]*crawler.Site{}
	var order []string
	for _, t := range targets {
		var host, seed string
		if strings.Contains(t, "://") {
			u, err := url.Parse(t)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return nil, usagef(e.cmd, "%q is not an http(s) URL", t)
			}
			norm, err := page.Normalize(t, nil)
			if err != nil {
				return nil, usagef(e.cmd, "%q: %v", t, err)
			}
			nu, _ := url.Parse(norm) // Normalize's output always parses
			host, seed = nu.Hostname(), norm
		} else {
			if strings.ContainsAny(t, "/?# ") {
				return nil, usagef(e.cmd, "%q is neither a host name nor a URL", t)
			}
			// Hosts are keyed as discovery writes them: lowercase A-labels.
			host = index.NormalizeHost(t)
			if host == "" {
				return nil, usagef(e.cmd, "%q is neither a host name nor a URL", t)
			}
		}
		s := bySite[host]
		if s == nil {
			s = &crawler.Site{Name: host, Hosts: []crawler.Host{{Name: host, Addrs: addrs[host]}}}
			bySite[host] = s
			order = append(order, host)
		}
		if seed != "" {
			s.Seeds = append(s.Seeds, seed)
		}
	}
	sites := make([]crawler.Site, 0, len(order))
	for _, h := range order {
		sites = append(sites, *bySite[h])
	}
	return sites, nil
}

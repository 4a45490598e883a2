package crawler

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"crawl/internal/page"
	"crawl/internal/wire"
	"crawl/internal/world"
)

// worldSites turns the world's ground truth into crawl input, as discovery
// would: every host of a site with the site's addresses.
func worldSites(w *world.World) []Site {
	var out []Site
	for _, s := range w.Sites() {
		cs := Site{Name: s.Name}
		for _, h := range s.Hosts {
			cs.Hosts = append(cs.Hosts, Host{Name: h, Addrs: s.Addrs})
		}
		out = append(out, cs)
	}
	return out
}

func startWorld(t testing.TB) *world.World {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := world.Start(ctx, world.Options{SlowPage: 100 * time.Millisecond})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); cancel() })
	return w
}

// expectedURLs is what a complete, robots-obeying crawl of a world site
// captures, computed from the ground truth: for every host (each is seeded),
// robots.txt, the pages not disallowed, the assets, redirects and their
// targets, the failing pages and the large file. The calendar is checked
// separately (it is bounded, not fixed).
func expectedURLs(s world.Site) []string {
	set := map[string]bool{}
	scheme := "http"
	if s.HTTPS {
		scheme = "https"
	}
	for _, h := range s.Hosts {
		if s.HTTPS {
			set["http://"+h+"/robots.txt"] = true
			set["http://"+h+"/"] = true
		}
		if s.WWWRedirect && h == "www."+s.Name {
			set["http://"+h+"/robots.txt"] = true
			set["http://"+h+"/"] = true
			continue
		}
		base := scheme + "://" + h
		set[base+"/robots.txt"] = true
		for _, p := range s.Pages {
			if !slices.ContainsFunc(s.Disallow, func(d string) bool { return strings.HasPrefix(p, d) }) {
				set[base+p] = true
			}
		}
		for _, p := range s.Assets {
			set[base+p] = true
		}
		for from, to := range s.Redirects {
			set[base+from] = true
			if strings.HasPrefix(to, "/") {
				set[base+to] = true
			}
		}
		for p := range s.Errors {
			set[base+p] = true
		}
		if s.Large != "" {
			set[base+s.Large] = true
		}
		if s.Trap != "" {
			set[base+s.Trap] = true
		}
	}
	out := make([]string, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

func TestCrawlWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the whole world")
	}
	t.Parallel()
	w := startWorld(t)
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = w.ConnectTo()
	cfg.Delay = 20 * time.Millisecond
	cfg.MaxBody = 1 << 20 // the 20 MB file is cut (and still captured)
	cfg.HostsAtOnce = 32
	cfg.MaxQueryVariants = 12
	cfg.Timeout = 10 * time.Second
	sites := worldSites(w)
	sum := run(t, cfg, sites...)

	byHost := map[string]string{} // host -> site
	for _, s := range w.Sites() {
		for _, h := range s.Hosts {
			byHost[h] = s.Name
		}
	}
	bySite := map[string][]string{} // site -> URLs
	for _, u := range a.rec.uris("response") {
		pu, _ := url.Parse(u)
		bySite[byHost[pu.Hostname()]] = append(bySite[byHost[pu.Hostname()]], u)
	}
	for _, s := range w.Sites() {
		got := bySite[s.Name]
		var calendar []string
		got = slices.DeleteFunc(got, func(u string) bool {
			if strings.Contains(u, "/calendar?") && !strings.HasSuffix(u, s.Trap) {
				calendar = append(calendar, u)
				return true
			}
			return false
		})
		got = slices.Compact(got)
		if want := expectedURLs(s); !slices.Equal(got, want) {
			t.Errorf("%s: captured URLs differ\n got %q\nwant %q", s.Name, got, want)
		}
		if s.Trap != "" && (len(calendar) == 0 || len(calendar) > cfg.MaxQueryVariants*len(s.Hosts)) {
			t.Errorf("%s: %d calendar pages, want 1..%d", s.Name, len(calendar), cfg.MaxQueryVariants*len(s.Hosts))
		}
	}
	for _, r := range sum.Sites {
		if r.Status != StatusDone {
			t.Errorf("site %s: %s (%s)", r.Name, r.Status, r.Reason)
		}
	}

	// At the servers: nothing disallowed was requested, nothing outside the
	// world was asked for, and each host saw its requests at least Delay apart.
	last := map[string]time.Time{}
	active := 0
	for _, r := range w.Requests() {
		host := strings.ToLower(r.Host)
		if h, _, ok := strings.Cut(host, ":"); ok {
			host = h
		}
		s, ok := w.Site(host)
		if !ok {
			t.Errorf("request to unknown host %q", r.Host)
			continue
		}
		for _, d := range s.Disallow {
			if strings.HasPrefix(r.Path, d) {
				t.Errorf("disallowed %s%s was requested", host, r.Path)
			}
		}
		if prev, ok := last[host]; ok {
			if gap := r.Time.Sub(prev); gap < cfg.Delay {
				t.Errorf("%s: requests %v apart, want >= %v", host, gap, cfg.Delay)
			}
		}
		last[host] = r.Time
		if !strings.HasPrefix(r.UserAgent, "crawl/") {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
	}
	// Several hosts were served side by side: count requests that fell
	// between two requests to another host.
	reqs := w.Requests()
	for i := 1; i+1 < len(reqs); i++ {
		if reqs[i].Host != reqs[i-1].Host && reqs[i].Host != reqs[i+1].Host && reqs[i-1].Host == reqs[i+1].Host {
			active++
		}
	}
	if active < 10 {
		t.Errorf("hosts were not crawled side by side (%d interleavings)", active)
	}

	// The EUC-KR site's headlines come out decoded.
	for _, s := range w.Sites() {
		if s.Charset != "euc-kr" || len(s.Headlines) == 0 {
			continue
		}
		// The home page under one of the hosts is a full response; the
		// other host's copy is a revisit (same payload) without a body.
		var c captured
		for _, r := range a.rec.all() {
			if r.Type == "response" && strings.HasSuffix(r.URI, "/") && strings.Contains(r.URI, s.Name) {
				c = r
			}
		}
		if c.URI == "" {
			t.Fatalf("%s home not captured as a response", s.Name)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.Block)), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := wire.ReadDecoded(resp, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		home, _ := url.Parse(c.URI)
		p, err := page.Parse(body, resp.Header.Get("Content-Type"), home)
		if err != nil {
			t.Fatal(err)
		}
		var heads []string
		for _, h := range p.Headlines {
			if h.Tag != "title" {
				heads = append(heads, h.Text)
			}
		}
		if len(heads) == 0 || !slices.Contains(s.Headlines, heads[0]) {
			t.Errorf("%s: headlines %q, want one of the site's %q", s.Name, heads, s.Headlines[:min(3, len(s.Headlines))])
		}
		break
	}
}

package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/internal/archive"
)

func TestTrapReason(t *testing.T) {
	cases := []struct {
		url  string
		want string
	}{
		{"http://a.test/", ""},
		{"http://a.test/a/b/c/d.html", ""},
		{"http://a.test/a/a/a/x", ""},
		{"http://a.test/a/a/a/a/x", "repeated path segment"},
		{"http://a.test/x/y/x/y/x/y/x/y", "repeated path segment"},
		{"http://a.test/" + strings.Repeat("p", 300), "url too long"},
		{"http://a.test/calendar?month=2016-09", ""},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := trapReason(u, tc.url, 256, 3); got != tc.want {
			t.Errorf("trapReason(%s) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestScope(t *testing.T) {
	s := &scope{
		site:  map[string]bool{"a.test": true, "www.a.test": true},
		zone:  map[string]bool{"a.test": true, "www.a.test": true, "cdn.b.test": true},
		extra: []string{"wide.example"},
	}
	cases := []struct {
		url       string
		requisite bool
		want      bool
	}{
		{"http://a.test/x", false, true},
		{"https://WWW.A.TEST/x", false, true},
		{"http://cdn.b.test/img.png", false, false}, // another site's page: not ours
		{"http://cdn.b.test/img.png", true, true},   // its requisite: fetched
		{"http://outside.example/", true, false},    // outside the zones
		{"http://wide.example/", false, true},       // Scope widens
		{"http://deep.wide.example/", false, true},  // and its subdomains
		{"http://notwide.example/", false, false},   // but not a name that merely ends alike
		{"ftp://a.test/x", false, false},
	}
	for _, tc := range cases {
		u, _ := url.Parse(tc.url)
		if got := s.allows(u, tc.requisite); got != tc.want {
			t.Errorf("allows(%s, requisite=%v) = %v, want %v", tc.url, tc.requisite, got, tc.want)
		}
	}
}

func TestConfigReaches(t *testing.T) {
	cfg := &Config{
		ConnectTo: []string{"Pinned.Test.:80=127.0.0.1:8080", "broken"},
		Scope:     []string{"Wide.Example."},
	}
	cases := []struct {
		host string
		want bool
	}{
		{"pinned.test", true},       // a --connect-to override, case and dot aside
		{"other.test", false},       // no override, no scope
		{"wide.example", true},      // a Scope domain
		{"deep.wide.example", true}, // and its subdomains
		{"notwide.example", false},  // but not a name that merely ends alike
		{"broken", false},           // a malformed override names nothing
	}
	for _, tc := range cases {
		if got := cfg.Reaches(tc.host); got != tc.want {
			t.Errorf("Reaches(%s) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	c := &Crawler{cfg: DefaultConfig()}
	c.cfg.Delay = time.Second
	c.cfg.RetryAfterCap = time.Minute
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", 5 * time.Second},
		{"3", 3 * time.Second},
		{"100000", time.Minute},
		{"soon", 5 * time.Second},
		{"-4", 5 * time.Second},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		if got := c.retryAfter(h); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	a := newTestArchive(t, "")
	good := a.config()
	if _, err := New(good); err != nil {
		t.Fatalf("default config refused: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"no writer":     func(c *Config) { c.Writer = nil },
		"no state":      func(c *Config) { c.State = nil; c.StateDir = "" },
		"host parallel": func(c *Config) { c.HostParallel = 0 },
		"negative":      func(c *Config) { c.Delay = -time.Second },
		"connect-to":    func(c *Config) { c.ConnectTo = []string{"nohost"} },
	} {
		cfg := good
		mutate(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}

// turns records every turn a politeness gives, from the gate itself (no
// clock of the test's own decides anything).
type turns struct {
	mu   sync.Mutex
	at   map[string][]time.Time
	peak map[string]int
}

func watchTurns(p *politeness) *turns {
	tr := &turns{at: map[string][]time.Time{}, peak: map[string]int{}}
	p.started = func(line string, at time.Time, inflight int) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.at[line] = append(tr.at[line], at)
		tr.peak[line] = max(tr.peak[line], inflight)
	}
	return tr
}

// check asserts, for every line, turns at least delay apart (each turn
// counts from the instant the gate gave the last one, so this cannot
// race) and at most parallel in flight.
func (tr *turns) check(t *testing.T, delay time.Duration, parallel map[string]int) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for line, ts := range tr.at {
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < delay {
				t.Errorf("%s: turns %v apart, want >= %v", line, gap, delay)
			}
		}
		if want, ok := parallel[line]; ok && tr.peak[line] > want {
			t.Errorf("%s: %d in flight, want at most %d", line, tr.peak[line], want)
		}
	}
}

// TestPolitenessGaps: one host never sees two requests closer than the
// delay, nor more than HostParallel at once, while another host proceeds
// independently. Driven by events: the first holder of host a keeps its
// turn until host b has had one, which only independent lines allow.
func TestPolitenessGaps(t *testing.T) {
	const delay = 30 * time.Millisecond
	p := newPoliteness(2, 0, delay)
	tr := watchTurns(p)
	bStarted := make(chan struct{})
	var bOnce, aOnce sync.Once
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		host := []string{"a", "b"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := p.acquire(context.Background(), host, "")
			if err != nil {
				t.Error(err)
				return
			}
			defer p.release(tk, 0)
			if host == "b" {
				bOnce.Do(func() { close(bStarted) })
				return
			}
			aOnce.Do(func() {
				select {
				case <-bStarted:
				case <-time.After(time.Minute):
					t.Error("host b never got a turn while host a held one")
				}
			})
		}()
	}
	wg.Wait()
	tr.check(t, delay, map[string]int{"host a": 2, "host b": 2})
	if n := len(tr.at["host a"]) + len(tr.at["host b"]); n != 16 {
		t.Errorf("%d turns, want 16", n)
	}
	// A cancelled wait returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.setDelay("a", time.Hour)
	tk, _ := p.acquire(context.Background(), "a", "")
	p.release(tk, 0)
	if _, err := p.acquire(ctx, "a", ""); err == nil {
		t.Error("acquire under a cancelled context succeeded")
	}
	if n := len(p.hosts["a"].queue); n != 0 {
		t.Errorf("a cancelled wait left %d tickets in line", n)
	}

	// Tickets are served in the order taken, not the order their holders
	// arrive at the gate.
	q := newPoliteness(1, 0, 0)
	var mu sync.Mutex
	var order []int
	var tickets []*ticket
	for i := 0; i < 5; i++ {
		tickets = append(tickets, q.take("h", "", false))
	}
	var owg sync.WaitGroup
	for i := 4; i >= 0; i-- { // arrive in reverse
		owg.Add(1)
		go func() {
			defer owg.Done()
			if err := q.wait(context.Background(), tickets[i]); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.release(tickets[i], 0)
		}()
	}
	owg.Wait()
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("served in order %v, want ticket order", order)
	}
}

// TestPolitenessPerAddress: hosts that share an address share its line
// too (one request at a time there, turns a delay apart), however many
// turns their own lines give; a host on another address goes on while
// the shared one is busy; a cancelled wait for the address gives the
// host's turn back.
func TestPolitenessPerAddress(t *testing.T) {
	const delay = 20 * time.Millisecond
	p := newPoliteness(2, 1, delay)
	tr := watchTurns(p)
	otherStarted := make(chan struct{})
	var otherOnce, holdOnce sync.Once
	var wg sync.WaitGroup
	for i := 0; i < 18; i++ {
		host, addr := []string{"a", "b", "c"}[i%3], "10.9.9.9"
		if i%6 == 5 {
			host, addr = "other", "10.9.9.10"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := p.acquire(context.Background(), host, addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer p.release(tk, 0)
			if host == "other" {
				otherOnce.Do(func() { close(otherStarted) })
				return
			}
			holdOnce.Do(func() {
				select {
				case <-otherStarted:
				case <-time.After(time.Minute):
					t.Error("the other address never got a turn while the shared one was busy")
				}
			})
		}()
	}
	wg.Wait()
	tr.check(t, delay, map[string]int{"addr 10.9.9.9": 1, "addr 10.9.9.10": 1})
	if n := len(tr.at["addr 10.9.9.9"]); n != 15 {
		t.Errorf("%d turns at the shared address, want 15", n)
	}

	// The address is busy: a wait for it that is cancelled gives the
	// host's turn back, so the host is not left at its limit.
	busy, _ := p.acquire(context.Background(), "a", "10.9.9.9")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := p.acquire(ctx, "b", "10.9.9.9")
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait for a busy address succeeded")
	}
	p.release(busy, 0)
	if g := p.hosts["b"]; g.inflight != 0 || len(g.queue) != 0 {
		t.Errorf("host b after a cancelled wait: %d in flight, %d queued", g.inflight, len(g.queue))
	}
	if g := p.addrs["10.9.9.9"]; g.inflight != 0 || len(g.queue) != 0 {
		t.Errorf("address after a cancelled wait: %d in flight, %d queued", g.inflight, len(g.queue))
	}
}

// TestBackoffAndSetAside: a 429 with Retry-After is retried after the
// pause, a host that keeps failing is set aside with its error recorded,
// and the other host of the site goes on.
func TestBackoffAndSetAside(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<a href="/busy.html">busy</a><img src="http://dead.test/a.png"><img src="http://dead.test/b.png">`+
			`<img src="http://dead.test/c.png"><img src="http://dead.test/d.png"><img src="http://dead.test/e.png">`)
	})
	mux.HandleFunc("/busy.html", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		html(w, "<title>finally</title>")
	})
	site, ct, log := startSite(t, "busy.test", mux)
	// dead.test is a zone host whose address refuses connections.
	site.Hosts = append(site.Hosts, Host{Name: "dead.test", Addrs: []string{"127.0.0.1"}})
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = []string{ct, "dead.test:80=127.0.0.1:1"}
	cfg.HostMaxErrors = 2
	cfg.IgnoreRobots = true
	start := time.Now()
	run(t, cfg, site)

	var busyTimes []time.Time
	for _, r := range log.reqs {
		if r.Path == "/busy.html" {
			busyTimes = append(busyTimes, r.Time)
		}
	}
	if len(busyTimes) != 2 || busyTimes[1].Sub(busyTimes[0]) < time.Second {
		t.Errorf("/busy.html fetched at %v (from start %v), want twice, >= 1s apart", busyTimes, start)
	}
	errs := 0
	for _, r := range a.rec.all() {
		if r.Type == "metadata" && strings.HasPrefix(r.URI, "http://dead.test/") {
			errs++
		}
	}
	if errs != cfg.HostMaxErrors {
		t.Errorf("%d fetch errors recorded for dead.test, want %d (then set aside)", errs, cfg.HostMaxErrors)
	}
	hs, ok := a.rec.find("metadata", archive.HostStatusURI("dead.test"))
	var st archive.HostStatus
	if !ok || archive.Decode(hs.Block, &st) != nil || st.Status != archive.StatusFailed || st.Error == "" {
		t.Errorf("dead.test host status %+v (found %v), want failed with its error", st, ok)
	}
	hs, _ = a.rec.find("metadata", archive.HostStatusURI("busy.test"))
	if archive.Decode(hs.Block, &st) != nil || st.Status != archive.StatusDone {
		t.Errorf("busy.test host status %+v, want done", st)
	}
}

// TestLimits: MaxPages and MaxDepth end a site early with the reason
// recorded; MaxQueryVariants bounds a calendar.
func TestLimits(t *testing.T) {
	// "/" links to /d/1 and /cal?n=1; /d/N to /d/N+1 (up to 10); /cal?n=N
	// to /cal?n=N+1 forever.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var d, n int
		fmt.Sscanf(r.URL.Path, "/d/%d", &d)
		fmt.Sscanf(r.URL.Query().Get("n"), "%d", &n)
		body := fmt.Sprintf(`<a href="/cal?n=%d">next</a>`, n+1)
		if d < 10 {
			body += fmt.Sprintf(`<a href="/d/%d">deeper</a>`, d+1)
		}
		html(w, body)
	})
	cases := []struct {
		name       string
		maxPages   int
		maxDepth   int
		variants   int
		wantStatus Status
		wantMax    int
	}{
		{"max pages", 5, 0, 0, StatusPartial, 5},
		{"max depth", 0, 3, 100, StatusDone, 1 + 3 + 3},
		{"query variants", 0, 1000, 4, StatusDone, 1 + 10 + 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site, ct, _ := startSite(t, "limits.test", mux)
			a := newTestArchive(t, "")
			cfg := a.config()
			cfg.ConnectTo = []string{ct}
			cfg.IgnoreRobots = true
			cfg.MaxPages, cfg.MaxDepth, cfg.MaxQueryVariants = tc.maxPages, tc.maxDepth, tc.variants
			cfg.MaxSegmentRepeat = 0
			sum := run(t, cfg, site)
			r := sum.Sites[0]
			if r.Status != tc.wantStatus {
				t.Errorf("status %s (%s), want %s", r.Status, r.Reason, tc.wantStatus)
			}
			cal := 0
			for _, u := range a.rec.uris("response") {
				if strings.Contains(u, "/cal?") {
					cal++
				}
			}
			if tc.variants > 0 && cal > tc.variants {
				t.Errorf("%d calendar pages, want at most %d", cal, tc.variants)
			}
			if int(r.Pages) != tc.wantMax {
				t.Errorf("%d pages, want exactly %d: %q", r.Pages, tc.wantMax, a.rec.uris("response"))
			}
		})
	}
}

func TestMayHoldLinks(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=euc-kr": true, "TEXT/CSS": true, "application/xhtml+xml": true, "": true,
		"text/plain": true, "image/png": false, "application/octet-stream": false, "video/mp4": false,
	} {
		if got := mayHoldLinks(ct); got != want {
			t.Errorf("mayHoldLinks(%q) = %v, want %v", ct, got, want)
		}
	}
}

// TestStateLocked: a second process on the same archive gets a clear error
// instead of hanging (the lock is per open file, so a second open in this
// process stands in for it).
func TestStateLocked(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := OpenState(dir); !errors.Is(err, ErrStateLocked) {
		t.Errorf("second open: %v, want ErrStateLocked", err)
	}
}

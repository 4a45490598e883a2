package crawler

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/temoto/robotstxt"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestRecrawl: a second snapshot re-fetches everything into a new writer;
// unchanged payloads become revisits (the digests live in the state, so
// this holds across processes), a changed page is a full response.
func TestRecrawl(t *testing.T) {
	version := "one"
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<a href="/same.html">same</a> <a href="/changing.html">changing</a>`)
	})
	mux.HandleFunc("/same.html", func(w http.ResponseWriter, r *http.Request) { html(w, "<title>same</title>") })
	mux.HandleFunc("/changing.html", func(w http.ResponseWriter, r *http.Request) { html(w, "<title>"+version+"</title>") })
	site, ct, log := startSite(t, "re.test", mux)
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{ct}
	run(t, cfg, site)
	a.close() // a new process: new state handle, new writer

	version = "two"
	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{ct}
	cfg.Recrawl = true
	sum := run(t, cfg, site)
	if sum.Sites[0].Skipped || sum.Sites[0].Status != StatusDone {
		t.Fatalf("recrawl result %+v", sum.Sites[0])
	}
	types := map[string]string{}
	for _, r := range b.rec.all() {
		if r.Type == "response" || r.Type == "revisit" {
			types[r.URI] = r.Type
		}
	}
	want := map[string]string{
		"http://re.test/":              "revisit",
		"http://re.test/same.html":     "revisit",
		"http://re.test/changing.html": "response",
		"http://re.test/robots.txt":    "response", // a 404: only 2xx payloads are deduplicated
	}
	for u, ty := range want {
		if types[u] != ty {
			t.Errorf("%s: %q in the second snapshot, want %q", u, types[u], ty)
		}
	}
	if n := len(log.paths()); n != 8 {
		t.Errorf("%d requests over two snapshots, want 8: %q", n, log.paths())
	}
}

// TestCrawlDelay: robots.txt Crawl-delay raises the per-host gap (up to the
// cap), measured at the server.
func TestCrawlDelay(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: crawl\nCrawl-delay: 60\nDisallow: /no/\n\nUser-agent: *\nDisallow: /\n")
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<a href="/a.html">a</a> <a href="/b.html">b</a> <a href="/no/x.html">no</a>`)
	})
	mux.HandleFunc("/a.html", func(w http.ResponseWriter, r *http.Request) { html(w, "a") })
	mux.HandleFunc("/b.html", func(w http.ResponseWriter, r *http.Request) { html(w, "b") })
	site, ct, log := startSite(t, "slow.test", mux)
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = []string{ct}
	cfg.CrawlDelayCap = 250 * time.Millisecond // 60 s asked, capped
	run(t, cfg, site)
	log.mu.Lock()
	defer log.mu.Unlock()
	var paths []string
	for i, r := range log.reqs {
		paths = append(paths, r.Path)
		if i > 1 { // the gap applies once robots.txt has been read
			if gap := r.Time.Sub(log.reqs[i-1].Time); gap < cfg.CrawlDelayCap {
				t.Errorf("%s came %v after the previous request, want >= %v", r.Path, gap, cfg.CrawlDelayCap)
			}
		}
	}
	// Our group (User-agent: crawl) applies, not the * group that disallows all.
	if want := "/robots.txt / /a.html /b.html"; strings.Join(paths, " ") != want {
		t.Errorf("requests %q, want %q", strings.Join(paths, " "), want)
	}
}

// TestConnectsToDiscoveredAddress: without --connect-to the crawler dials
// the address discovery recorded, never the system resolver (the name
// below resolves nowhere).
func TestConnectsToDiscoveredAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.7:0") // any 127.x works on Linux
	if err != nil {
		t.Skip("no 127.0.0.7:", err)
	}
	log := &serverLog{}
	srv := &http.Server{Handler: log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html(w, "<title>found</title>")
	}))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	host := "nowhere.invalid"
	a := newTestArchive(t, "")
	cfg := a.config()
	site := Site{Name: host, Hosts: []Host{{Name: host, Addrs: []string{"127.0.0.7"}}}, Seeds: []string{"http://" + host + ":" + port + "/"}}
	run(t, cfg, site)
	if _, ok := a.rec.find("response", "http://"+host+":"+port+"/"); !ok {
		t.Errorf("home not captured: %q", a.rec.uris("response"))
	}
	if len(log.paths()) == 0 || log.reqs[0].Host != host+":"+port {
		t.Errorf("server saw %+v", log.reqs)
	}

	// A host nobody discovered is not resolved at all: the fetch fails
	// with errNoAddress, recorded as a fetch error.
	c, _ := New(cfg)
	defer c.Close()
	if _, err := c.resolve(t.Context(), "unknown.invalid"); err == nil || !strings.Contains(err.Error(), errNoAddress.Error()) {
		t.Errorf("resolve of an undiscovered host: %v", err)
	}
}

// TestSummaryGolden pins the end-of-run summary format.
func TestSummaryGolden(t *testing.T) {
	var buf bytes.Buffer
	c := &Crawler{cfg: Config{Progress: &buf}}
	c.printSummary(Summary{
		Sites: []SiteResult{
			{Name: "friend.com.test", Status: StatusDone, Pages: 112, Bytes: 2 << 20, Errors: 0},
			{Name: "portal.gov.test", Status: StatusPartial, Reason: "max-pages", Pages: 10000, Bytes: 3 << 30, Errors: 7},
			{Name: "film.com.test", Status: StatusDone, Pages: 40, Bytes: 21 << 20, Skipped: true},
			{Name: "dead.net.test", Status: StatusFailed, Reason: "no host answered", Errors: 5},
		},
		Pages: 10152, Bytes: 3<<30 + 23<<20, Errors: 12, Elapsed: 83*time.Second + 250*time.Millisecond, Stopped: true,
	})
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("summary differs from %s:\n%s", golden, buf.String())
	}
}

// TestProgress: periodic lines when not on a terminal, a redrawn line on
// one.
func TestProgress(t *testing.T) {
	for _, term := range []bool{false, true} {
		var buf syncBuffer
		site, ct, _ := startSite(t, "p.test", treeSite(30))
		a := newTestArchive(t, "")
		cfg := a.config()
		cfg.ConnectTo = []string{ct}
		cfg.Delay = 30 * time.Millisecond
		cfg.Progress = &buf
		cfg.ProgressIsTerminal = term
		cfg.ProgressInterval = 100 * time.Millisecond
		run(t, cfg, site)
		out := buf.String()
		if term {
			if !strings.Contains(out, "\r\033[K") || strings.Count(out, "\n") > 4 {
				t.Errorf("terminal output is not one redrawn line:\n%q", out)
			}
		} else if strings.Count(out, "crawl: sites ") < 3 || strings.Contains(out, "\r") {
			t.Errorf("log output lacks periodic lines:\n%s", out)
		}
		if !strings.Contains(out, "p.test") || !strings.Contains(out, "captures") {
			t.Errorf("no per-site summary:\n%s", out)
		}
	}
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.String()
}

// FuzzConnectTo: any flag value gives a rule or an error, never a panic.
func FuzzConnectTo(f *testing.F) {
	for _, s := range []string{"a.test:80=127.0.0.1:8080", "=", "a:1=", "[::1]:80=[::1]:81", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := parseConnectTo(s)
		if err == nil && (from == "" || to == "") {
			t.Errorf("%q: empty side accepted", s)
		}
	})
}

// FuzzRobots: any robots.txt body, with any status, gives an answer for
// any path without panicking (the parser is temoto/robotstxt; this guards
// our use of it).
func FuzzRobots(f *testing.F) {
	f.Add(200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n", "/private/x")
	f.Add(500, "", "/")
	f.Add(200, "User-agent: crawl\nAllow: /$\nDisallow: /*?\n", "/a?b")
	f.Fuzz(func(t *testing.T, status int, body, path string) {
		data, err := robotstxt.FromStatusAndBytes(status, []byte(body))
		if err != nil {
			return
		}
		data.TestAgent(path, robotsAgent)
		_ = data.FindGroup(robotsAgent).CrawlDelay
	})
}

// FuzzTrapRules: the trap rules and the query-variant key accept any URL.
func FuzzTrapRules(f *testing.F) {
	f.Add("http://a.test/a/a/a/a?x=1")
	f.Add("http://a.test/%zz/../")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		trapReason(u, raw, 2048, 3)
		variantKey(u)
		robotsPath(u)
	})
}

package crawler

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
	"crawl/internal/warc/payloads"
)

// captured is one record the writer reported, as tests need it.
type captured struct {
	Type, URI, ContentType, Truncated string
	ID                                string // WARC-Record-ID
	Block                             []byte
	Parsed                            *page.Parsed // what the crawler handed the writer with a response
}

// recorder collects every record the WARC writer writes (through its
// Observer), so tests see exactly what reached the archive.
type recorder struct {
	mu   sync.Mutex
	recs []captured
}

func (r *recorder) Observe(loc warc.Location, rec warc.Record) {
	b, _ := io.ReadAll(io.NewSectionReader(rec.Block, 0, min(rec.Block.Size(), 1<<16)))
	parsed, _ := rec.Parsed.(*page.Parsed)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, captured{
		Type:        rec.Header.Get("WARC-Type"),
		URI:         rec.Header.Get("WARC-Target-URI"),
		ContentType: rec.Header.Get("Content-Type"),
		Truncated:   rec.Header.Get("WARC-Truncated"),
		ID:          rec.Header.Get("WARC-Record-ID"),
		Block:       b,
		Parsed:      parsed,
	})
}

func (r *recorder) all() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// uris returns the sorted target URIs of records of the given type
// ("response" also counts revisits).
func (r *recorder) uris(typ string) []string {
	var out []string
	for _, c := range r.all() {
		if c.Type == typ || (typ == "response" && c.Type == "revisit") {
			out = append(out, c.URI)
		}
	}
	slices.Sort(out)
	return out
}

func (r *recorder) find(typ, uri string) (captured, bool) {
	for _, c := range r.all() {
		if (c.Type == typ || (typ == "response" && c.Type == "revisit")) && c.URI == uri {
			return c, true
		}
	}
	return captured{}, false
}

// testArchive is a real WARC writer in a temp dir plus a crawler state.
type testArchive struct {
	dir      string
	state    *State
	payloads *payloads.Store
	writer   *warc.Writer
	rec      *recorder
}

func newTestArchive(t testing.TB, dir string) *testArchive {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	for _, d := range []string{"warc", "state"} {
		if err := os.MkdirAll(dir+"/"+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st, err := OpenState(dir + "/state")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := payloads.Open(archive.Layout{Root: dir}.PayloadsPath())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir + "/warc", Observer: rec, Dedupe: pl})
	if err != nil {
		t.Fatal(err)
	}
	a := &testArchive{dir: dir, state: st, payloads: pl, writer: w, rec: rec}
	t.Cleanup(func() { a.close() })
	return a
}

func (a *testArchive) close() {
	if a.writer != nil {
		a.writer.Close()
		a.writer = nil
	}
	if a.state != nil {
		a.state.Close()
		a.state = nil
	}
	if a.payloads != nil {
		a.payloads.Close()
		a.payloads = nil
	}
}

// testConfig is a fast, polite-off config for tests.
func (a *testArchive) config() Config {
	cfg := DefaultConfig()
	cfg.State = a.state
	cfg.Writer = a.writer
	cfg.Delay = 0
	cfg.Timeout = 5 * time.Second
	cfg.StopGrace = 2 * time.Second
	cfg.Contact = "https://example.test/contact"
	cfg.AllowAddresses = loopback
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

// loopback opens the loopback range, where every test server listens: the
// crawler refuses it otherwise (netguard).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// serverLog is a server-side request log.
type serverLog struct {
	mu   sync.Mutex
	reqs []logged
}

type logged struct {
	Time       time.Time
	Host, Path string
	UA         string
}

func (l *serverLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, logged{time.Now(), r.Host, r.URL.RequestURI(), r.UserAgent()})
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *serverLog) paths() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		out = append(out, r.Path)
	}
	return out
}

// startSite serves h on a fresh loopback port and returns the site entry
// and connect-to rule for host.
func startSite(t testing.TB, host string, h http.Handler) (Site, string, *serverLog) {
	t.Helper()
	log := &serverLog{}
	srv := httptest.NewServer(log.wrap(h))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return Site{Name: host, Hosts: []Host{{Name: host, Addrs: []string{"127.0.0.1"}}}},
		host + ":80=127.0.0.1:" + port, log
}

func run(t testing.TB, cfg Config, sites ...Site) Summary {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// No deadline of its own: a crawl slowed down by a busy machine must
	// not end "stopped" (go test's -timeout catches one that hangs).
	sum, err := c.Run(context.Background(), sites)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func html(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, body)
}

func lines(s ...string) string { return strings.Join(s, "\n") }

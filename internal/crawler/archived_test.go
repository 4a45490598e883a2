package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// crashAfter is a Recorder that, once the response of one URL is written,
// closes the crawler's state under it: the record is in the archive, and
// the fetch's commit fails, as when a kill -9 falls between the two.
type crashAfter struct {
	Recorder
	url   string
	state *State
	once  sync.Once
}

func (c *crashAfter) WriteExchange(ex warc.Exchange) (warc.ExchangeResult, error) {
	res, err := c.Recorder.WriteExchange(ex)
	if ex.TargetURI == c.url {
		c.once.Do(func() { c.state.Close() })
	}
	return res, err
}

// archivedIn is a Config.Archived over the finished WARC files of dir,
// read record by record (the index does it with its captures bucket).
func archivedIn(t *testing.T, dir string) func(context.Context, string, time.Time) ([]byte, string, bool, error) {
	return func(_ context.Context, url string, since time.Time) ([]byte, string, bool, error) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
		var block []byte
		var id string
		for _, f := range files {
			err := warc.ReadFile(f, func(r warc.Record, _ warc.Location) error {
				date, _ := time.Parse(time.RFC3339Nano, r.Header.Get("WARC-Date"))
				if r.Header.Get("WARC-Type") == "response" && r.Header.Get("WARC-Target-URI") == url && !date.Before(since) {
					b, err := io.ReadAll(r.Block)
					block, id = b, r.Header.Get("WARC-Record-ID")
					return err
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}
		return block, id, block != nil, nil
	}
}

// TestResumeTakesArchivedCapture: a URL whose capture was written but not
// committed to the state before the crawl died is not fetched again on
// resume: its links come from the record, and its capture stays the one.
func TestResumeTakesArchivedCapture(t *testing.T) {
	requests := map[string]int{}
	var mu sync.Mutex
	site, rule, _ := startSite(t, "r.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/":
			html(w, `<title>home</title><a href="/x">x</a>`)
		case "/x":
			html(w, `<title>x</title><a href="/child">child</a>`)
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.Writer = &crashAfter{Recorder: a.writer, url: "http://r.test/x", state: a.state}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []Site{site}); err == nil || !strings.Contains(err.Error(), "crawler state") {
		t.Fatalf("the crawl went on after its state closed: %v", err)
	}
	a.writer.Close()
	// Abandoned, as after a crash: the dead process's locks on the state
	// and the payload digests go with it.
	a.payloads.Close()
	a.writer, a.state, a.payloads = nil, nil, nil

	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	archived := archivedIn(t, filepath.Join(dir, "warc"))
	var asked []string
	cfg.Archived = func(ctx context.Context, url string, since time.Time) ([]byte, string, bool, error) {
		mu.Lock()
		asked = append(asked, url)
		mu.Unlock()
		return archived(ctx, url, since)
	}
	sum := run(t, cfg, site)
	if sum.Sites[0].Status != StatusDone || sum.Resumed != 1 {
		t.Errorf("resumed run: %+v, want done with 1 entry taken from the archive", sum)
	}
	b.close()
	mu.Lock()
	defer mu.Unlock()
	// The frontier held only /x when the run began: what the run queued
	// itself cannot have been in flight before.
	if strings.Join(asked, " ") != "http://r.test/x" {
		t.Errorf("looked up in the archive: %q, want only http://r.test/x", asked)
	}
	if requests["/x"] != 1 || requests["/child"] != 1 {
		t.Errorf("requests %v: want /x once (its capture was in the archive) and /child, its link, once", requests)
	}
	if got := archivedResponses(t, filepath.Join(dir, "warc")); strings.Join(got, " ") != "http://r.test/ http://r.test/child http://r.test/robots.txt http://r.test/x" {
		t.Errorf("archived %q", got)
	}
}

// diesAfter is a Recorder that dies, as the process would, once the
// response of one URL is written: the crawler's state closes under it and
// every later record is refused. Nothing after that capture (its notes,
// its commit) reaches the archive or the state.
type diesAfter struct {
	Recorder
	url   string
	state *State
	dead  atomic.Bool
}

var errDied = errors.New("the process died")

func (d *diesAfter) WriteExchange(ex warc.Exchange) (warc.ExchangeResult, error) {
	if d.dead.Load() {
		return warc.ExchangeResult{}, errDied
	}
	res, err := d.Recorder.WriteExchange(ex)
	if ex.TargetURI == d.url {
		d.dead.Store(true)
		d.state.Close()
	}
	return res, err
}

func (d *diesAfter) WriteMetadata(uri string, date time.Time, contentType string, body []byte) (warc.Location, error) {
	if d.dead.Load() {
		return warc.Location{}, errDied
	}
	return d.Recorder.WriteMetadata(uri, date, contentType, body)
}

// TestResumeNotesArchivedCapture: a capture taken from the archive on
// resume gets the notes of the limits it hit, which the killed run had
// not written yet: the record is all the archive has of them.
func TestResumeNotesArchivedCapture(t *testing.T) {
	site, rule, _ := startSite(t, "n.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, `<title>home</title><a href="/x">x</a>`)
		case "/x":
			html(w, `<title>x</title><a href="/1">1</a><a href="/2">2</a><a href="/3">3</a>`)
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.Parse.Config.MaxLinks = 2
	cfg.Writer = &diesAfter{Recorder: a.writer, url: "http://n.test/x", state: a.state}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []Site{site}); err == nil {
		t.Fatal("the crawl went on after it died")
	}
	a.writer.Close()
	a.payloads.Close()
	a.writer, a.state, a.payloads = nil, nil, nil

	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	cfg.Parse.Config.MaxLinks = 2
	cfg.Archived = archivedIn(t, filepath.Join(dir, "warc"))
	if sum := run(t, cfg, site); sum.Resumed != 1 {
		t.Fatalf("resumed run: %+v, want 1 entry taken from the archive", sum)
	}
	b.close()

	var xID string
	var notes []archive.Note
	files, _ := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	for _, f := range files {
		err := warc.ReadFile(f, func(r warc.Record, _ warc.Location) error {
			uri := r.Header.Get("WARC-Target-URI")
			switch {
			case r.Header.Get("WARC-Type") == "response" && uri == "http://n.test/x":
				xID = r.Header.Get("WARC-Record-ID")
			case r.Header.Get("WARC-Type") == "metadata" && strings.HasPrefix(uri, archive.NoteURIPrefix):
				var n archive.Note
				b, _ := io.ReadAll(r.Block)
				if err := json.Unmarshal(b, &n); err != nil {
					return err
				}
				notes = append(notes, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(notes) != 1 || notes[0].Kind != archive.NoteLinksCut || notes[0].URL != "http://n.test/x" || notes[0].Capture != xID || xID == "" {
		t.Errorf("notes %+v, want one links-cut note on http://n.test/x naming its capture %s", notes, xID)
	}
}

// TestResumeRetriesArchived429: a URL whose 429 answer was archived but
// not committed before the crawl died is retried on resume, as the killed
// run would have done: the 429 taken from the archive is not the page.
func TestResumeRetriesArchived429(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	requests := map[string]int{}
	var mu sync.Mutex
	site, rule, _ := startSite(t, "b.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/":
			html(w, `<title>home</title><a href="/x">x</a>`)
		case "/x":
			if busy.Load() {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			html(w, `<title>x</title><a href="/child">child</a>`)
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.Writer = &crashAfter{Recorder: a.writer, url: "http://b.test/x", state: a.state}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []Site{site}); err == nil {
		t.Fatal("the crawl went on after its state closed")
	}
	a.writer.Close()
	a.payloads.Close()
	a.writer, a.state, a.payloads = nil, nil, nil

	busy.Store(false)
	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	cfg.Archived = archivedIn(t, filepath.Join(dir, "warc"))
	if sum := run(t, cfg, site); sum.Sites[0].Status != StatusDone {
		t.Errorf("resumed run: %+v, want done", sum)
	}
	b.close()
	mu.Lock()
	defer mu.Unlock()
	if requests["/x"] != 2 || requests["/child"] != 1 {
		t.Errorf("requests %v: want /x twice (its 429 retried) and its link /child once", requests)
	}
}

// TestResumeLooksUpWhateverTheSlots: the entries a killed run can have
// left archived but uncommitted are looked up on resume even when this
// run has fewer slots than the killed one had (a lower --host-parallel):
// the killed run may have had the most slots any run has in flight.
func TestResumeLooksUpWhateverTheSlots(t *testing.T) {
	site, rule, log := startSite(t, "s.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			io.WriteString(w, "User-agent: *\nDisallow: /d/\n")
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	a := newTestArchive(t, "")
	// The state a run with HostParallel 16 left when killed: its 64
	// slots and maxUncommitted completions waiting took the first entries
	// (disallowed here, so that they cost no fetch); the last of them was
	// archived but not committed.
	var es []*entry
	for i := range maxUncommitted + 1 {
		es = append(es, &entry{URL: fmt.Sprintf("http://s.test/d/%d", i)})
	}
	es = append(es, &entry{URL: "http://s.test/x"})
	rec := &siteRecord{Status: StatusCrawling, Started: time.Now().UTC().Add(-time.Minute), Hosts: map[string]*tally{}}
	if err := a.state.seed(site.Name, es, rec); err != nil {
		t.Fatal(err)
	}
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.HostParallel = 1
	var asked []string
	cfg.Archived = func(_ context.Context, url string, _ time.Time) ([]byte, string, bool, error) {
		asked = append(asked, url)
		if url != "http://s.test/x" {
			return nil, "", false, nil
		}
		body := `<a href="/child">child</a>`
		return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body), "<urn:uuid:x>", true, nil
	}
	sum := run(t, cfg, site)
	if sum.Resumed != 1 || !slices.Contains(asked, "http://s.test/x") {
		t.Errorf("resumed run: %+v, looked up %d URLs; want /x taken from the archive", sum, len(asked))
	}
	if got := log.paths(); slices.Contains(got, "/x") || !slices.Contains(got, "/child") {
		t.Errorf("requests %q: want /child, and not /x (archived)", got)
	}
}

// stopAt is a Recorder that stops the run once the response of one URL
// is written, as a Ctrl-C would then.
type stopAt struct {
	Recorder
	url  string
	stop context.CancelFunc
	once sync.Once
}

func (s *stopAt) WriteExchange(ex warc.Exchange) (warc.ExchangeResult, error) {
	res, err := s.Recorder.WriteExchange(ex)
	if ex.TargetURI == s.url {
		s.once.Do(s.stop)
	}
	return res, err
}

// TestResumeFetchesRequeued429: a URL queued again after a 429 is fetched
// again when the crawl resumes, not taken from the archive: the 429
// there is the answer that queued it, not its own.
func TestResumeFetchesRequeued429(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	site, rule, log := startSite(t, "q.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, `<title>home</title><a href="/x">x</a>`)
		case "/x":
			if busy.Swap(false) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			html(w, `<title>x</title><a href="/child">child</a>`)
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.MaxRetries = 1
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cfg.Writer = &stopAt{Recorder: a.writer, url: "http://q.test/x", stop: stop}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := c.Run(ctx, []Site{site}); err != nil || !sum.Stopped {
		t.Fatalf("first run: %+v, %v; want it stopped", sum, err)
	}
	c.Close()
	a.close()

	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	cfg.MaxRetries = 1
	cfg.Archived = archivedIn(t, filepath.Join(dir, "warc"))
	if sum := run(t, cfg, site); sum.Sites[0].Status != StatusDone || sum.Resumed != 0 {
		t.Errorf("resumed run: %+v, want done with nothing taken from the archive", sum)
	}
	if got := log.paths(); strings.Join(got, " ") != "/robots.txt / /x /x /child" {
		t.Errorf("requests %q: want /x again (its retry) and its link /child", got)
	}
}

// refusesHostStatus is a Recorder that cannot write hosts' outcome
// records (a full disk, or a kill -9, at the site's end).
type refusesHostStatus struct{ Recorder }

func (r refusesHostStatus) WriteMetadata(uri string, date time.Time, contentType string, body []byte) (warc.Location, error) {
	if strings.HasPrefix(uri, archive.HostStatusURIPrefix) {
		return warc.Location{}, errDied
	}
	return r.Recorder.WriteMetadata(uri, date, contentType, body)
}

// TestSiteEndsWithItsOutcomes: the state says a site ended only once its
// hosts' outcome records are archived; when they cannot be, the site is
// left to the next run, which ends it and writes them.
func TestSiteEndsWithItsOutcomes(t *testing.T) {
	site, rule, _ := startSite(t, "o.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html(w, "<title>home</title>")
	}))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.Writer = refusesHostStatus{a.writer}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []Site{site}); !errors.Is(err, errDied) {
		t.Fatalf("run whose outcome records failed: %v", err)
	}
	if rec, err := a.state.site(site.Name); err != nil || rec.Status.Final() {
		t.Fatalf("the state holds the site as %q (%v) without its outcome records: the next run would skip it", rec.Status, err)
	}
	a.close()

	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	if sum := run(t, cfg, site); sum.Sites[0].Status != StatusDone {
		t.Errorf("next run: %+v", sum.Sites[0])
	}
	b.close()
	outcomes := 0
	files, _ := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	for _, f := range files {
		warc.ReadFile(f, func(r warc.Record, _ warc.Location) error {
			if r.Header.Get("WARC-Target-URI") == archive.HostStatusURI("o.test") {
				outcomes++
			}
			return nil
		})
	}
	if outcomes != 1 {
		t.Errorf("%d outcome records of o.test, want 1", outcomes)
	}
}

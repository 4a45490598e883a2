package crawler

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	if _, err := c.Run(context.Background(), []Site{site}); err == nil || !strings.Contains(err.Error(), "commit") {
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
	cfg.Archived = archivedIn(t, filepath.Join(dir, "warc"))
	sum := run(t, cfg, site)
	if sum.Sites[0].Status != StatusDone || sum.Resumed != 1 {
		t.Errorf("resumed run: %+v, want done with 1 entry taken from the archive", sum)
	}
	b.close()
	mu.Lock()
	defer mu.Unlock()
	if requests["/x"] != 1 || requests["/child"] != 1 {
		t.Errorf("requests %v: want /x once (its capture was in the archive) and /child, its link, once", requests)
	}
	if got := archivedResponses(t, filepath.Join(dir, "warc")); strings.Join(got, " ") != "http://r.test/ http://r.test/child http://r.test/robots.txt http://r.test/x" {
		t.Errorf("archived %q", got)
	}
}

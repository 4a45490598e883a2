package crawler

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"crawl/internal/archive"
)

// smallSite is a site with every kind of link: pages, a redirect, a
// stylesheet with url(), an image, robots.txt with a disallowed part linked
// from the home page, a 404, and a link out of scope.
func smallSite() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		html(w, lines(`<html><head><title>Home</title><link rel="stylesheet" href="/style.css"></head><body>`,
			`<a href="/a.html">a</a> <a href="b.html#frag">b</a> <a href="/private/secret.html">secret</a>`,
			`<a href="/old">old</a> <a href="/missing.html">missing</a> <a href="http://outside.example/">out</a>`,
			`<img src="/img.png"></body></html>`))
	})
	mux.HandleFunc("/a.html", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html><title>A</title><a href="/">home</a><a href="/b.html">b</a></html>`)
	})
	mux.HandleFunc("/b.html", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html><title>B</title><a href="/a.html?x=1">a with query</a></html>`)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new.html", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new.html", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html><title>New</title></html>`)
	})
	mux.HandleFunc("/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, `body { background: url("bg.gif") }`)
	})
	mux.HandleFunc("/bg.gif", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		fmt.Fprint(w, "GIF89a")
	})
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		fmt.Fprint(w, "\x89PNG\r\n\x1a\n")
	})
	mux.HandleFunc("/private/", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html>secret</html>`)
	})
	return mux
}

func TestCrawlSmallSite(t *testing.T) {
	a := newTestArchive(t, "")
	site, ct, log := startSite(t, "small.test", smallSite())
	cfg := a.config()
	cfg.ConnectTo = []string{ct}
	sum := run(t, cfg, site)

	want := []string{
		"http://small.test/",
		"http://small.test/a.html",
		"http://small.test/a.html?x=1",
		"http://small.test/b.html",
		"http://small.test/bg.gif",
		"http://small.test/img.png",
		"http://small.test/missing.html",
		"http://small.test/new.html",
		"http://small.test/old",
		"http://small.test/robots.txt",
		"http://small.test/style.css",
	}
	if got := a.rec.uris("response"); !slices.Equal(got, want) {
		t.Errorf("captured responses:\n got %q\nwant %q", got, want)
	}
	if got := a.rec.uris("request"); !slices.Equal(got, want) {
		t.Errorf("captured requests:\n got %q\nwant %q", got, want)
	}
	for _, p := range log.paths() {
		if strings.HasPrefix(p, "/private/") {
			t.Errorf("disallowed path requested: %s", p)
		}
	}
	if n := len(log.paths()); n != len(want) {
		t.Errorf("server saw %d requests, want %d (each URL once): %q", n, len(want), log.paths())
	}
	for _, r := range log.reqs {
		if !strings.HasPrefix(r.UA, "crawl/") || !strings.Contains(r.UA, "example.test/contact") {
			t.Errorf("User-Agent %q does not name the tool and contact", r.UA)
			break
		}
	}
	hs, ok := a.rec.find("metadata", archive.HostStatusURI("small.test"))
	if !ok {
		t.Fatal("no host status record")
	}
	var st archive.HostStatus
	if err := archive.Decode(hs.Block, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != archive.StatusDone || st.Pages != int64(len(want)-1) {
		t.Errorf("host status %+v, want done with %d pages", st, len(want)-1)
	}
	if len(sum.Sites) != 1 || sum.Sites[0].Status != StatusDone {
		t.Errorf("summary %+v", sum)
	}

	// Running again resumes a finished site: nothing is fetched twice.
	before := len(log.paths())
	sum = run(t, cfg, site)
	if len(log.paths()) != before || !sum.Sites[0].Skipped {
		t.Errorf("second run fetched %d more, skipped=%v", len(log.paths())-before, sum.Sites[0].Skipped)
	}
}

// TestIgnoreRobots: robots.txt is still fetched and archived, but the
// disallowed part is crawled.
func TestIgnoreRobots(t *testing.T) {
	a := newTestArchive(t, "")
	site, ct, log := startSite(t, "small.test", smallSite())
	cfg := a.config()
	cfg.ConnectTo = []string{ct}
	cfg.IgnoreRobots = true
	run(t, cfg, site)
	if _, ok := a.rec.find("response", "http://small.test/robots.txt"); !ok {
		t.Error("robots.txt not archived")
	}
	if _, ok := a.rec.find("response", "http://small.test/private/secret.html"); !ok {
		t.Errorf("disallowed page not crawled under IgnoreRobots: %q", log.paths())
	}
}

package crawler

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestParseTravelsWithResponse: the crawler parses each HTML page once,
// with Config.Parse, and hands that parse to the writer with the response
// record (for the index); what it follows is that parse's links, cut at
// Parse.Config.MaxLinks. Style sheets, images and redirects carry none.
func TestParseTravelsWithResponse(t *testing.T) {
	site, rule, _ := startSite(t, "p.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Language", "ko")
			html(w, `<title>home</title><link rel=stylesheet href=/s.css><a href=/a>a</a><a href=/b>b</a><a href=/c>c</a><a href=/old>old</a>`)
		case "/a", "/b", "/c":
			html(w, "<title>page "+r.URL.Path+"</title>")
		case "/old":
			http.Redirect(w, r, "/a", http.StatusMovedPermanently)
		case "/s.css":
			w.Header().Set("Content-Type", "text/css")
			w.Write([]byte("body{background:url(/bg.png)}"))
		case "/bg.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG"))
		default:
			http.NotFound(w, r)
		}
	}))
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.Parse.Config.MaxLinks = 3 // the style sheet and /a, /b: /c and /old are cut
	run(t, cfg, site)

	want := cfg.Parse
	got := map[string]string{}
	for _, r := range a.rec.all() {
		if r.Type != "response" {
			continue
		}
		if r.Parsed == nil {
			got[r.URI] = ""
			continue
		}
		if !r.Parsed.Limits.Same(want) || r.Parsed.Limits.Config.MaxLinks != 3 {
			t.Errorf("%s parsed with %+v, want the crawler's limits %+v", r.URI, r.Parsed.Limits, want)
		}
		got[r.URI] = r.Parsed.Page.Title + " " + r.Parsed.Page.Lang
	}
	for uri, title := range map[string]string{
		"http://p.test/": "home ko", "http://p.test/a": "page /a ", "http://p.test/b": "page /b ",
		"http://p.test/s.css": "", "http://p.test/bg.png": "", "http://p.test/robots.txt": "",
	} {
		if g, ok := got[uri]; !ok || strings.TrimSpace(g) != strings.TrimSpace(title) {
			t.Errorf("%s: handed parse %q (captured %v), want %q", uri, g, ok, title)
		}
	}
	for _, uri := range []string{"http://p.test/c", "http://p.test/old"} {
		if _, ok := got[uri]; ok {
			t.Errorf("%s was fetched, but its link was past the cap", uri)
		}
	}
}

// TestManyLinksQueuedInChunks: a page of more links than frontierChunk
// has them all queued (in several transactions), up to the page's links
// cap; the rest are dropped.
func TestManyLinksQueuedInChunks(t *testing.T) {
	const links = 2500 // several chunks
	site, rule, _ := startSite(t, "many.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("<title>many</title>")
		for i := range links {
			fmt.Fprintf(&b, `<a href="/p/%d">%d</a>`, i, i)
		}
		html(w, b.String())
	}))
	for _, tc := range []struct{ maxLinks, want int }{{0, links}, {1200, 1200}} {
		a := newTestArchive(t, "")
		cfg := a.config()
		cfg.ConnectTo = []string{rule}
		cfg.MaxPages = 1 // the home page only: its links stay queued
		cfg.Parse.Config.MaxLinks = tc.maxLinks
		run(t, cfg, site)
		if n, err := a.state.frontierLen("many.test"); err != nil || n != tc.want {
			t.Errorf("max links %d: %d queued (%v), want %d", tc.maxLinks, n, err, tc.want)
		}
	}
}

package crawler

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"crawl/internal/archive"
)

// TestLimitsAreNoted: every limit a capture hits is recorded as an
// archive.Note naming the capture's response record, instead of leaving
// the host done with nothing said: a redirect loop, a chain cut at
// MaxRedirects, a body cut at MaxBody or by a disconnect, links past the
// page's cap, links dropped by the trap rules and by the URL length limit.
func TestLimitsAreNoted(t *testing.T) {
	long := "/" + strings.Repeat("x", 120)
	site, rule, _ := startSite(t, "n.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; p {
		case "/":
			var b strings.Builder
			b.WriteString(`<title>home</title><a href="/loop">l</a><a href="/self">s</a><a href="/r1">r</a><a href="/big">b</a><a href="/cut">c</a><a href="/links">k</a>`)
			fmt.Fprintf(&b, `<a href="/a/a/a/a/x">trap</a><a href="%s">long</a>`, long)
			for i := range 5 {
				fmt.Fprintf(&b, `<a href="/cal?m=%d">m</a>`, i)
			}
			html(w, b.String())
		case "/loop":
			http.Redirect(w, r, "/loop2", http.StatusFound)
		case "/loop2":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/self":
			http.Redirect(w, r, "/self", http.StatusFound)
		case "/r1", "/r2", "/r3", "/r4":
			http.Redirect(w, r, fmt.Sprintf("/r%d", p[2]-'0'+1), http.StatusFound)
		case "/big":
			html(w, strings.Repeat("big ", 2000))
		case "/cut":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "5000")
			w.WriteHeader(200)
			w.Write([]byte("<title>cut</title> only part"))
			w.(http.Flusher).Flush()
			c, _, _ := http.NewResponseController(w).Hijack()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		case "/links":
			var b strings.Builder
			for i := range 10 {
				fmt.Fprintf(&b, `<a href="/l/%d">%d</a>`, i, i)
			}
			html(w, b.String())
		default:
			html(w, "<title>leaf</title>")
		}
	}))
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = []string{rule}
	cfg.MaxRedirects = 2
	cfg.MaxBody = 1000
	cfg.MaxURLLength = 100
	cfg.MaxQueryVariants = 2
	cfg.Parse.Config.MaxLinks = 16 // the home page's links all fit; /links has 10
	run(t, cfg, site)

	// /links' cap: a second crawl with a cap of 5 below.
	responses := map[string]string{} // URL -> record ID
	for _, r := range a.rec.all() {
		if r.Type == "response" || r.Type == "revisit" {
			responses[r.URI] = r.ID
		}
	}
	notes := map[string][]string{} // URL -> kinds
	for _, r := range a.rec.all() {
		if r.Type != "metadata" || !strings.HasPrefix(r.URI, archive.NoteURIPrefix) {
			continue
		}
		var n archive.Note
		if err := json.Unmarshal(r.Block, &n); err != nil {
			t.Fatal(err)
		}
		if r.URI != archive.NoteURI(n.URL) || n.Host != "n.test" || n.Detail == "" || n.Time.IsZero() {
			t.Errorf("note %+v in record %s", n, r.URI)
		}
		if id, ok := responses[n.URL]; !ok || n.Capture != id {
			t.Errorf("note on %s names capture %q, want its response %q", n.URL, n.Capture, id)
		}
		notes[strings.TrimPrefix(n.URL, "http://n.test")] = append(notes[strings.TrimPrefix(n.URL, "http://n.test")], n.Kind)
		t.Logf("%s %s: %s", n.URL, n.Kind, n.Detail)
	}
	want := map[string][]string{
		"/":      {archive.NoteTrap, archive.NoteURLTooLong, archive.NoteTrap}, // segments and length, then the query variants after the commit
		"/loop2": {archive.NoteRedirectLoop},
		"/self":  {archive.NoteRedirectLoop},
		"/r3":    {archive.NoteMaxRedirects},
		"/big":   {archive.NoteTruncated},
		"/cut":   {archive.NoteTruncated},
	}
	for path, kinds := range want {
		if !slices.Equal(notes[path], kinds) {
			t.Errorf("notes on %s: %q, want %q", path, notes[path], kinds)
		}
	}
	for path := range notes {
		if _, ok := want[path]; !ok {
			t.Errorf("unexpected notes on %s: %q", path, notes[path])
		}
	}

	// A page of more links than the cap.
	b := newTestArchive(t, "")
	cfg = b.config()
	cfg.ConnectTo = []string{rule}
	cfg.Parse.Config.MaxLinks = 5
	run(t, cfg, Site{Name: "n.test", Hosts: site.Hosts, Seeds: []string{"http://n.test/links"}})
	var kinds []string
	for _, r := range b.rec.all() {
		if r.Type == "metadata" && r.URI == archive.NoteURI("http://n.test/links") {
			var n archive.Note
			json.Unmarshal(r.Block, &n)
			kinds = append(kinds, n.Kind)
			if !strings.Contains(n.Detail, "more than 5 links") {
				t.Errorf("links-cut detail %q", n.Detail)
			}
		}
	}
	if !slices.Equal(kinds, []string{archive.NoteLinksCut}) {
		t.Errorf("notes on /links with a cap of 5: %q", kinds)
	}
}

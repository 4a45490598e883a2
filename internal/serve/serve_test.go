package serve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/replay/replaytest"
)

var t1 = time.Date(2016, 9, 20, 10, 0, 0, 0, time.UTC)

const htmlType = "text/html; charset=utf-8"

func fixture(t *testing.T) archive.Layout {
	t.Helper()
	home := func(h1 string) []byte {
		return []byte(`<html><head><title>Home of A</title><link rel="stylesheet" href="/s.css"></head><body><h1>` + h1 +
			`</h1><p>The harbour of Seoul.</p><img src="/logo.png"><a href="/news/">news</a></body></html>`)
	}
	return replaytest.Build(t, t.TempDir(), []replaytest.Exchange{
		{URL: "http://a.kp/", Time: t1, Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType}, home("First"))},
		{URL: "http://a.kp/s.css", Time: t1.Add(time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/css"}, []byte(`h1{background:url(bg.gif)}`))},
		{URL: "http://a.kp/logo.png", Time: t1.Add(2 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "image/png"}, []byte("\x89PNGxx"))},
		{URL: "http://a.kp/news/", Time: t1.Add(3 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType},
			[]byte(`<html><head><title>News <b>&amp;</b> views</title></head><body><h1>News</h1><p>Seoul <script>x</script> harbour news.</p></body></html>`))},
		{URL: "http://a.kp/old", Time: t1.Add(4 * time.Second), Response: replaytest.Response(301, map[string]string{"Location": "http://a.kp/news/"}, nil)},
		{URL: "http://a.kp/", Time: t1.Add(48 * time.Hour), Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType}, home("Third"))},
	})
}

func newServer(t *testing.T, layout archive.Layout) *httptest.Server {
	t.Helper()
	srv, _ := newServerOf(t, layout)
	return srv
}

func newServerOf(t *testing.T, layout archive.Layout) (*httptest.Server, *Server) {
	t.Helper()
	s, err := New(Config{Layout: layout, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return srv, s
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, path string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func TestReplay(t *testing.T) {
	srv := newServer(t, fixture(t))
	host := strings.TrimPrefix(srv.URL, "http://")

	// A page at a partial timestamp redirects to its capture's own,
	// without a path cleaner eating the "//" of the URL.
	a := get(t, srv, "/web/2016/http://a.kp/")
	if a.status != http.StatusFound || a.header.Get("Location") != "/web/20160920100000/http://a.kp/" {
		t.Fatalf("partial timestamp: %d %v", a.status, a.header)
	}
	a = get(t, srv, "/web/20160922/a.kp")
	if a.status != http.StatusFound || a.header.Get("Location") != "/web/20160922100000/http://a.kp/" {
		t.Errorf("nearest the next day: %d %v", a.status, a.header.Get("Location"))
	}

	a = get(t, srv, "/web/20160920100000/http://a.kp/")
	if a.status != 200 || !strings.Contains(a.body, "<h1>First</h1>") || !strings.Contains(a.body, `id="crawl-replay-banner"`) ||
		!strings.Contains(a.body, `src="/web/20160920100000im_/http://a.kp/logo.png"`) {
		t.Errorf("replay: %d %s", a.status, a.body)
	}
	h := a.header
	if h.Get("Memento-Datetime") != "Tue, 20 Sep 2016 10:00:00 GMT" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") ||
		!strings.Contains(h.Get("Link"), `<http://`+host+`/timemap/link/http://a.kp/>; rel="timemap"`) ||
		!strings.Contains(h.Get("Link"), `rel="first memento"; datetime="Tue, 20 Sep 2016 10:00:00 GMT"`) ||
		!strings.Contains(h.Get("Link"), `rel="last next memento"`) {
		t.Errorf("memento headers: %v", h)
	}
	// Resources are served from the nearest capture without a redirect.
	a = get(t, srv, "/web/2016im_/http://a.kp/logo.png")
	if a.status != 200 || a.body != "\x89PNGxx" || a.header.Get("Memento-Datetime") != "Tue, 20 Sep 2016 10:00:02 GMT" {
		t.Errorf("image: %d %q %v", a.status, a.body, a.header)
	}
	a = get(t, srv, "/web/20160920100001cs_/http://a.kp/s.css")
	if a.body != "h1{background:url(/web/20160920100001im_/http://a.kp/bg.gif)}" {
		t.Errorf("css: %q", a.body)
	}
	// The raw bytes.
	a = get(t, srv, "/web/20160920100000id_/http://a.kp/")
	if a.status != 200 || !strings.Contains(a.body, `src="/logo.png"`) || strings.Contains(a.body, "crawl-replay-banner") {
		t.Errorf("id_: %d %s", a.status, a.body)
	}
	// A recorded redirect stays inside.
	a = get(t, srv, "/web/20160920100004/http://a.kp/old")
	if a.status != http.StatusMovedPermanently || a.header.Get("Location") != "/web/20160920100004/http://a.kp/news/" {
		t.Errorf("redirect: %d %v", a.status, a.header)
	}
	if a := get(t, srv, "/web/2016/http://a.kp/nothing"); a.status != 404 || !strings.Contains(a.body, "Not in the archive") {
		t.Errorf("not archived: %d %s", a.status, a.body)
	}
	if a := get(t, srv, "/web/2016/ftp://a.kp/"); a.status != 400 {
		t.Errorf("bad target: %d", a.status)
	}
}

func TestMemento(t *testing.T) {
	srv := newServer(t, fixture(t))
	for _, path := range []string{"/web/http://a.kp/", "/timegate/http://a.kp/"} {
		a := get(t, srv, path)
		if a.status != http.StatusFound || a.header.Get("Location") != "/web/20160922100000/http://a.kp/" ||
			a.header.Get("Vary") != "accept-datetime" || !strings.Contains(a.header.Get("Link"), `<http://a.kp/>; rel="original"`) {
			t.Errorf("%s without Accept-Datetime: %d %v", path, a.status, a.header)
		}
		a = get(t, srv, path, "Accept-Datetime", "Tue, 20 Sep 2016 12:00:00 GMT")
		if a.status != http.StatusFound || a.header.Get("Location") != "/web/20160920100000/http://a.kp/" {
			t.Errorf("%s with Accept-Datetime: %d %v", path, a.status, a.header)
		}
		if a := get(t, srv, path, "Accept-Datetime", "Sun"); a.status != http.StatusBadRequest {
			t.Errorf("%s with a bad Accept-Datetime: %d", path, a.status)
		}
	}
	a := get(t, srv, "/timemap/link/http://a.kp/")
	lines := strings.Split(strings.TrimSpace(a.body), "\n")
	if a.status != 200 || a.header.Get("Content-Type") != "application/link-format" || len(lines) != 5 ||
		!strings.HasSuffix(lines[4], `/web/20160922100000/http://a.kp/>; rel="last memento"; datetime="Thu, 22 Sep 2016 10:00:00 GMT"`) {
		t.Errorf("timemap: %d %v\n%s", a.status, a.header, a.body)
	}
	if a := get(t, srv, "/timemap/link/http://a.kp/nothing"); a.status != 404 {
		t.Errorf("timemap of nothing: %d", a.status)
	}
}

func TestCDXEndpoint(t *testing.T) {
	srv := newServer(t, fixture(t))
	a := get(t, srv, "/cdx?url=a.kp/&output=json")
	lines := strings.Split(strings.TrimSpace(a.body), "\n")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/x-ndjson") || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], `{"urlkey":"kp,a)/","timestamp":"20160920100000","url":"http://a.kp/","mime":"text/html","status":"200","digest":"`) {
		t.Errorf("json: %d %v\n%s", a.status, a.header, a.body)
	}
	a = get(t, srv, "/cdx?url=a.kp/*&fl=urlkey,timestamp")
	if a.body != "kp,a)/ 20160920100000\nkp,a)/ 20160922100000\nkp,a)/logo.png 20160920100002\nkp,a)/news 20160920100003\nkp,a)/old 20160920100004\nkp,a)/s.css 20160920100001\n" ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "text/x-cdxj") {
		t.Errorf("prefix: %q", a.body)
	}
	if a := get(t, srv, "/cdx?url=a.kp&matchType=nope"); a.status != 400 || !strings.Contains(a.body, "matchType") {
		t.Errorf("bad query: %d %s", a.status, a.body)
	}
}

func TestUI(t *testing.T) {
	srv := newServer(t, fixture(t))
	a := get(t, srv, "/")
	if a.status != 200 || !strings.Contains(a.body, `<a href="/host/a.kp">a.kp</a>`) || a.header.Get("Content-Security-Policy") != uiCSP {
		t.Errorf("home: %d %s", a.status, a.body)
	}
	a = get(t, srv, "/host/a.kp")
	if a.status != 200 || !strings.Contains(a.body, `href="/web/20160920100002/http://a.kp/logo.png"`) {
		t.Errorf("host captures: %d %s", a.status, a.body)
	}
	a = get(t, srv, "/host/a.kp?tab=headlines")
	if !strings.Contains(a.body, "Home of A") || !strings.Contains(a.body, "Third") {
		t.Errorf("headlines: %s", a.body)
	}
	if a := get(t, srv, "/host/unknown.kp"); a.status != 404 {
		t.Errorf("unknown host: %d", a.status)
	}
	a = get(t, srv, "/web/*/http://a.kp/")
	if a.status != 200 || strings.Count(a.body, `<td class="time">`) != 2 {
		t.Errorf("captures list: %d %s", a.status, a.body)
	}
	a = get(t, srv, "/web/*/http://a.kp/*")
	if a.status != 200 || !strings.Contains(a.body, "/web/*/http://a.kp/s.css") {
		t.Errorf("prefix list: %d %s", a.status, a.body)
	}
	if a := get(t, srv, "/static/style.css"); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %v", a.status, a.header)
	}
	if a := get(t, srv, "/nothing/here"); a.status != 404 {
		t.Errorf("unknown path: %d", a.status)
	}
	if a := get(t, srv, "/sw.js", "Service-Worker", "script"); a.status != http.StatusForbidden {
		t.Errorf("service worker: %d", a.status)
	}
}

func TestSearch(t *testing.T) {
	layout := fixture(t)
	srv, _ := newServerOf(t, layout)
	a := get(t, srv, "/search?q="+url.QueryEscape("harbour"))
	if a.status != 200 || strings.Count(a.body, `<li>`) != 2 || !strings.Contains(a.body, "<mark>harbour</mark>") {
		t.Fatalf("search: %d %s", a.status, a.body)
	}
	// The page's text and title are the archive's, escaped; only the
	// index's marks are markup.
	if !strings.Contains(a.body, `News &lt;b&gt;&amp;&lt;/b&gt; views`) {
		t.Errorf("title not escaped: %s", a.body)
	}
	if strings.Contains(a.body, "<script>x</script>") {
		t.Error("a page's markup reached the search page")
	}
	a = get(t, srv, "/search?q=harbour&n=10&page=2")
	if a.status != 200 || strings.Contains(a.body, "<mark>") {
		t.Errorf("page 2: %d", a.status)
	}
	if a := get(t, srv, "/search?q="+url.QueryEscape(`"unterminated`)); a.status != http.StatusBadRequest || !strings.Contains(a.body, "unterminated quote") {
		t.Errorf("bad query: %d", a.status)
	}

	// While a crawl has the archive's index open, replay and search go
	// on: the crawl lets go of the index between its batches.
	ix, err := index.Open(layout, index.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if a := get(t, srv, "/search?q=harbour"); a.status != 200 || !strings.Contains(a.body, "<mark>") {
		t.Errorf("search during a crawl: %d %s", a.status, a.body)
	}
	if a := get(t, srv, "/web/20160920100000/http://a.kp/"); a.status != 200 {
		t.Errorf("replay during a crawl: %d", a.status)
	}
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a <mark>b</mark> c", "a <mark>b</mark> c"},
		{"&lt;script&gt; <mark>x</mark>", "&lt;script&gt; <mark>x</mark>"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<mark>unclosed", "<mark>unclosed</mark>"},
		{"a </mark> b", "a &lt;/mark&gt; b"},
		{"<mark><b>x</b></mark>", "<mark>&lt;b&gt;x&lt;/b&gt;</mark>"},
	} {
		if got := string(snippet(tc.in)); got != tc.want {
			t.Errorf("snippet(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A request a replayed page made outside the prefix (built by a script)
// is sent back into the archive by its Referer.
func TestEscapedRequests(t *testing.T) {
	srv := newServer(t, fixture(t))
	a := get(t, srv, "/logo.png?x=1", "Referer", srv.URL+"/web/20160920100000/http://a.kp/")
	if a.status != http.StatusTemporaryRedirect || a.header.Get("Location") != "/web/20160920100000/http://a.kp/logo.png?x=1" {
		t.Errorf("escaped: %d %v", a.status, a.header)
	}
	a = get(t, srv, "/logo.png", "Referer", "http://elsewhere.example/web/20160920100000/http://a.kp/")
	if a.status != 404 {
		t.Errorf("a foreign referer: %d", a.status)
	}
}

// Every UI page carries the UI's headers, whatever its status: an error
// page, a URL not archived, an empty capture list and a refused search
// are pages of the UI like the others (no script, nothing from elsewhere).
func TestUIHeadersOnEveryStatus(t *testing.T) {
	srv := newServer(t, fixture(t))
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/", http.StatusOK},
		{"/nothing/here", http.StatusNotFound},
		{"/host/unknown.kp", http.StatusNotFound},
		{"/web/20160920100000/http://nowhere.kp/", http.StatusNotFound},
		{"/web/*/http://nowhere.kp/", http.StatusNotFound},
		{"/web/2016/ftp://a.kp/", http.StatusBadRequest},
		{"/search?q=" + url.QueryEscape(`"unterminated`), http.StatusBadRequest},
	} {
		a := get(t, srv, tc.path)
		if a.status != tc.status || a.header.Get("Content-Security-Policy") != uiCSP ||
			a.header.Get("Content-Type") != htmlType || a.header.Get("X-Content-Type-Options") != "nosniff" ||
			a.header.Get("Content-Length") != strconv.Itoa(len(a.body)) {
			t.Errorf("%s: %d, headers %v; want %d with the UI's headers", tc.path, a.status, a.header, tc.status)
		}
	}
}

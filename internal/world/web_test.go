package world

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for TestImagesDecode
	_ "image/png"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/korean"
)

// client reaches the world's sites by name through ConnectTo, as the crawler
// does, and refuses to dial anything else. Redirects are not followed.
func client(w *World) *http.Client {
	routes := map[string]string{}
	for _, e := range w.ConnectTo() {
		from, to, _ := strings.Cut(e, "=")
		if _, ok := routes[from]; !ok {
			routes[from] = to
		}
	}
	var d net.Dialer
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				to, ok := routes[addr]
				if !ok {
					return nil, fmt.Errorf("test client: %s is outside the world", addr)
				}
				return d.DialContext(ctx, network, to)
			},
			TLSClientConfig:    &tls.Config{RootCAs: w.CertPool()},
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// fetch gets url and returns the response with its body read.
func fetch(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

func TestVirtualHosting(t *testing.T) {
	w := startWorld(t, Options{})
	for _, tc := range []struct {
		name, ip, host, path string
		status               int
		body, location       string
	}{
		{"shared address, first site", sharedA, "friend.com.test", "/", 200, "<title>조선 친선 협회</title>", ""},
		{"shared address, second site", sharedA, "stats.gov.test", "/", 200, "<title>Statistics Bureau</title>", ""},
		{"www served like the apex", sharedA, "www.friend.com.test", "/", 200, "<title>조선 친선 협회</title>", ""},
		{"host header with port and case", sharedA, "Friend.COM.test:80", "/", 200, "<title>조선 친선 협회</title>", ""},
		{"second address of a site", "127.1.1.2", "airline.com.test", "/", 200, "<title>National Airline</title>", ""},
		{"site not published at this address", sharedB, "friend.com.test", "/", 404, "no site friend.com.test", ""},
		{"unknown host", sharedA, "nosuch.test", "/", 404, "no site nosuch.test", ""},
		{"apex without address", sharedA, "gnu.rep.test", "/", 404, "", ""},
		{"www only site", sharedA, "www.gnu.rep.test", "/", 200, "<title>GNU Mirror</title>", ""},
		{"www redirects to the apex", sharedA, "www.trade.com.test", "/news/?a=1", 301, "", "http://trade.com.test/news/?a=1"},
		{"301 inside a site", sharedA, "trade.com.test", "/old.html", 301, "", "/news/"},
		{"500 page", sharedA, "hospital.org.test", "/broken.html", 500, "500 Internal Server Error", ""},
		{"404 page", sharedA, "hospital.org.test", "/missing.html", 404, "/missing.html", ""},
		{"unlinked path", sharedA, "hospital.org.test", "/nothing/here", 404, "", ""},
		{"HTTPS only site over http", "127.1.3.1", "secure.gov.test", "/about.html", 301, "", "https://secure.gov.test/about.html"},
		{"no robots.txt", sharedA, "stats.gov.test", "/robots.txt", 404, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://"+net.JoinHostPort(tc.ip, fmt.Sprint(w.WebPort()))+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !bytes.Contains(body, []byte(tc.body)) {
				t.Errorf("body does not contain %q:\n%s", tc.body, body)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
		})
	}
}

func TestHTTPS(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	resp, body := fetch(t, c, "https://secure.gov.test/")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Government Portal")) {
		t.Fatalf("https home: status %d, body %.200s", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.NegotiatedProtocol == "h2" {
		t.Errorf("want TLS with HTTP/1.1, got %+v", resp.TLS)
	}
	// A plain-HTTP site is not served over TLS, even on the TLS port.
	req, _ := http.NewRequest("GET", "https://"+net.JoinHostPort("127.1.3.1", fmt.Sprint(w.HTTPSPort()))+"/", nil)
	req.Host = "friend.com.test"
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("friend.com.test over TLS: status %d, want 404", resp.StatusCode)
	}
}

// parsed is what a page links to and its headlines.
type parsed struct {
	links     []string // href of a, as written
	resources []string // link href, img src, script src
	headlines []string
}

func parseHTML(t *testing.T, body []byte) parsed {
	t.Helper()
	var p parsed
	z := html.NewTokenizer(bytes.NewReader(body))
	inHead := ""
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("parse HTML: %v", z.Err())
			}
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			attr := func(name string) string {
				for _, a := range tok.Attr {
					if a.Key == name {
						return a.Val
					}
				}
				return ""
			}
			switch tok.Data {
			case "a":
				p.links = append(p.links, attr("href"))
			case "link":
				p.resources = append(p.resources, attr("href"))
			case "img", "script":
				if src := attr("src"); src != "" {
					p.resources = append(p.resources, src)
				}
			case "h1", "h2", "h3":
				inHead = tok.Data
				text.Reset()
			}
		case html.TextToken:
			if inHead != "" {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			if tok := z.Token(); inHead != "" && tok.Data == inHead {
				p.headlines = append(p.headlines, text.String())
				inHead = ""
			}
		}
	}
}

var cssURL = regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)`)

// TestCrawlEverySite walks every site from its home page over the network,
// following same-site links, and checks what it finds against the ground
// truth in Sites: pages, assets, headlines, off-site links and failures.
func TestCrawlEverySite(t *testing.T) {
	w := startWorld(t, Options{SlowPage: time.Millisecond})
	c := client(w)
	decoder := korean.EUCKR.NewDecoder()
	for _, s := range w.Sites() {
		t.Run(s.Name, func(t *testing.T) {
			home, err := url.Parse(s.Home)
			if err != nil {
				t.Fatal(err)
			}
			pages, assets, links := map[string]bool{}, map[string]bool{}, map[string]bool{}
			special := map[string]int{}
			var headlines []string
			queue := []string{"/"}
			seen := map[string]bool{"/": true}
			visit := func(ref string, into []string) []string {
				u, err := home.Parse(ref)
				if err != nil {
					t.Errorf("bad link %q: %v", ref, err)
					return into
				}
				if u.Host != home.Host {
					if !slices.Contains(s.Hosts, u.Host) {
						links[u.String()] = true
					}
					return into
				}
				if !seen[u.RequestURI()] {
					seen[u.RequestURI()] = true
					into = append(into, u.RequestURI())
				}
				return into
			}
			for len(queue) > 0 {
				path := queue[0]
				queue = queue[1:]
				resp, body := fetch(t, c, home.Scheme+"://"+home.Host+path)
				ct := resp.Header.Get("Content-Type")
				switch {
				case resp.StatusCode != 200:
					special[path] = resp.StatusCode
					continue
				case path == s.Trap || path == s.Large:
					special[path] = 200
					continue
				case strings.HasPrefix(ct, "text/html"):
					pages[path] = true
				default:
					assets[path] = true
					if strings.HasPrefix(ct, "text/css") {
						for _, m := range cssURL.FindAllSubmatch(body, -1) {
							queue = visit(string(m[1]), queue)
						}
					}
					continue
				}
				if want := "text/html; charset=" + s.Charset; ct != want {
					t.Errorf("%s: Content-Type %q, want %q", path, ct, want)
				}
				if s.Charset == "euc-kr" {
					if body, err = decoder.Bytes(body); err != nil {
						t.Fatalf("%s: decode EUC-KR: %v", path, err)
					}
				}
				p := parseHTML(t, body)
				headlines = append(headlines, p.headlines...)
				for _, l := range p.links {
					queue = visit(l, queue)
				}
				for _, r := range p.resources {
					queue = visit(r, queue)
				}
			}

			if got := slices.Sorted(maps.Keys(pages)); !slices.Equal(got, s.Pages) {
				t.Errorf("pages found:\n%q\nwant\n%q", got, s.Pages)
			}
			if got := slices.Sorted(maps.Keys(assets)); !slices.Equal(got, s.Assets) {
				t.Errorf("assets found %q, want %q", got, s.Assets)
			}
			if got := slices.Sorted(maps.Keys(links)); !slices.Equal(got, s.Links) {
				t.Errorf("off-site links %q, want %q", got, s.Links)
			}
			want := slices.Clone(s.Headlines)
			sort.Strings(want)
			sort.Strings(headlines)
			if !slices.Equal(headlines, want) {
				t.Errorf("headlines found %q, want %q", headlines, want)
			}
			wantSpecial := map[string]int{}
			for p := range s.Redirects {
				wantSpecial[p] = 301
			}
			for p, code := range s.Errors {
				wantSpecial[p] = code
			}
			if s.Trap != "" {
				wantSpecial[s.Trap] = 200
			}
			if s.Large != "" {
				wantSpecial[s.Large] = 200
			}
			for p, code := range wantSpecial {
				if special[p] != code {
					t.Errorf("%s: status %d, want %d (or not linked)", p, special[p], code)
				}
			}
		})
	}
}

func TestRobots(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	withRobots := 0
	for _, s := range w.Sites() {
		resp, body := fetch(t, c, s.Home+"robots.txt")
		if s.Robots == "" {
			if resp.StatusCode != 404 {
				t.Errorf("%s: robots.txt status %d, want 404", s.Name, resp.StatusCode)
			}
			continue
		}
		withRobots++
		if resp.StatusCode != 200 || string(body) != s.Robots {
			t.Errorf("%s: robots.txt %d %q, want %q", s.Name, resp.StatusCode, body, s.Robots)
		}
		// The "User-agent: *" group's rules; other groups name other robots.
		var disallow []string
		agent := ""
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "User-agent:"); ok {
				agent = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Disallow:"); ok && agent == "*" && strings.TrimSpace(v) != "" {
				disallow = append(disallow, strings.TrimSpace(v))
			}
		}
		for _, h := range s.Hosts {
			if got, _ := w.Site(h); !slices.Equal(got.Disallow, disallow) {
				t.Errorf("Site(%s).Disallow = %q, robots.txt says %q", h, got.Disallow, disallow)
			}
		}
		// The disallowed part exists and is linked, so obeying robots.txt
		// is observable.
		for _, d := range disallow {
			linked := false
			for _, p := range s.Pages {
				linked = linked || strings.HasPrefix(p, d)
			}
			if !linked {
				t.Errorf("%s: no page under disallowed %s", s.Name, d)
			}
		}
	}
	if withRobots < 3 {
		t.Errorf("only %d sites have robots.txt", withRobots)
	}
}

// TestEUCKR checks that EUC-KR pages really are EUC-KR on the wire: declared
// in the header and a meta tag, not UTF-8, and every non-ASCII byte part of a
// KS X 1001 pair (0xA1-0xFE twice), which excludes the CP949 extensions.
func TestEUCKR(t *testing.T) {
	w := startWorld(t, Options{SlowPage: time.Millisecond})
	c := client(w)
	checked := 0
	for _, s := range w.Sites() {
		if s.Charset != "euc-kr" {
			continue
		}
		for _, p := range s.Pages {
			resp, body := fetch(t, c, s.Home+strings.TrimPrefix(p, "/"))
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=euc-kr" {
				t.Errorf("%s%s: Content-Type %q", s.Name, p, ct)
			}
			if !bytes.Contains(body, []byte(`<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">`)) {
				t.Errorf("%s%s: no meta charset", s.Name, p)
			}
			if utf8.Valid(body) {
				t.Errorf("%s%s: body is valid UTF-8, so not Korean in EUC-KR", s.Name, p)
			}
			for i := 0; i < len(body); i++ {
				if body[i] < 0x80 {
					continue
				}
				if i+1 >= len(body) || body[i] < 0xA1 || body[i] > 0xFE || body[i+1] < 0xA1 || body[i+1] > 0xFE {
					t.Fatalf("%s%s: byte %d (%#x) is not part of an EUC-KR pair", s.Name, p, i, body[i])
				}
				i++
			}
			text, err := korean.EUCKR.NewDecoder().Bytes(body)
			if err != nil || !bytes.Contains(text, []byte(s.Title)) {
				t.Errorf("%s%s: decoded page lacks the title %q (err %v)", s.Name, p, s.Title, err)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no EUC-KR page checked")
	}
}

func TestTrapIsEndless(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	site, ok := w.Site("friend.com.test")
	if !ok || site.Trap == "" {
		t.Fatal("friend.com.test has no trap")
	}
	next := regexp.MustCompile(`href="(/calendar\?month=[^"]+)">next`)
	prev := regexp.MustCompile(`href="(/calendar\?month=[^"]+)">previous`)
	seen := map[string]bool{}
	for _, follow := range []*regexp.Regexp{next, prev} {
		path := site.Trap
		for i := range 30 {
			resp, body := fetch(t, c, site.Home+strings.TrimPrefix(path, "/"))
			if resp.StatusCode != 200 {
				t.Fatalf("step %d %s: status %d", i, path, resp.StatusCode)
			}
			m := follow.FindSubmatch(body)
			if m == nil {
				t.Fatalf("step %d %s: no link onwards in %s", i, path, body)
			}
			if i > 0 && seen[path] {
				t.Fatalf("step %d: %s seen before: the trap loops instead of going on", i, path)
			}
			seen[path] = true
			path = string(m[1])
		}
	}
	for _, tc := range []struct {
		month  string
		status int
		next   string
	}{
		{"2016-12", 200, "2017-01"},
		{"99999-12", 200, "100000-01"},
		{"0000-01", 200, "0000-02"},
		{"2016-13", 404, ""},
		{"nonsense", 404, ""},
	} {
		resp, body := fetch(t, c, site.Home+"calendar?month="+tc.month)
		if resp.StatusCode != tc.status {
			t.Errorf("month %s: status %d, want %d", tc.month, resp.StatusCode, tc.status)
		}
		if tc.next != "" && !bytes.Contains(body, []byte("month="+tc.next+`">next`)) {
			t.Errorf("month %s: no link to %s", tc.month, tc.next)
		}
	}
}

func TestLargeFile(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	site, _ := w.Site("film.com.test")
	if site.Large == "" {
		t.Fatal("film.com.test has no large file")
	}
	url := site.Home + strings.TrimPrefix(site.Large, "/")
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != LargeSize || resp.ContentLength != LargeSize {
		t.Errorf("read %d bytes, Content-Length %d, want %d", n, resp.ContentLength, LargeSize)
	}
	golden(t, "large.sha256", fmt.Appendf(nil, "%x\n", h.Sum(nil)))

	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Range", "bytes=1000003-1000010")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := make([]byte, 8)
	largeFile{}.ReadAt(want, 1000003)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, want) {
		t.Errorf("range: status %d, bytes %x, want 206 and %x", resp.StatusCode, part, want)
	}
}

func TestLargeFileReadAt(t *testing.T) {
	// Reads at every alignment must agree with one whole read.
	whole := make([]byte, 64)
	if n, err := (largeFile{}).ReadAt(whole, 0); n != 64 || err != nil {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	for off := range 60 {
		buf := make([]byte, 3)
		largeFile{}.ReadAt(buf, int64(off))
		if !bytes.Equal(buf, whole[off:off+3]) {
			t.Fatalf("offset %d: %x, want %x", off, buf, whole[off:off+3])
		}
	}
	buf := make([]byte, 10)
	if n, err := (largeFile{}).ReadAt(buf, LargeSize-4); n != 4 || err != io.EOF {
		t.Errorf("read across the end: %d, %v; want 4, EOF", n, err)
	}
}

func TestSlowPage(t *testing.T) {
	w := startWorld(t, Options{SlowPage: time.Hour})
	c := client(w)
	site, _ := w.Site("sports.org.test")
	c.Timeout = 300 * time.Millisecond
	if resp, _ := fetch(t, c, site.Home); resp.StatusCode != 200 {
		t.Fatalf("home: status %d", resp.StatusCode)
	}
	_, err := c.Get(site.Home + strings.TrimPrefix(site.Slow, "/"))
	var nerr net.Error
	if !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Errorf("a page delayed by an hour answered within the client timeout: %v", err)
	}
}

func TestRequestsLogged(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	paths := []string{"/", "/about.html", "/missing.html", "/calendar?month=2016-09"}
	for _, p := range paths {
		req, _ := http.NewRequest("GET", "http://friend.com.test"+p, nil)
		req.Header.Set("User-Agent", "world-test/1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := w.Requests()
	if len(got) != len(paths) {
		t.Fatalf("%d requests logged, want %d: %+v", len(got), len(paths), got)
	}
	for i, r := range got {
		want := Request{Host: "friend.com.test", Method: "GET", Path: paths[i], UserAgent: "world-test/1", Status: 200,
			LocalAddr: net.JoinHostPort(sharedA, fmt.Sprint(w.WebPort()))}
		if paths[i] == "/missing.html" {
			want.Status = 404
		}
		if r.Time.IsZero() || !strings.HasPrefix(r.RemoteAddr, "127.") {
			t.Errorf("request %d: time %v, remote %q", i, r.Time, r.RemoteAddr)
		}
		r.Time, r.RemoteAddr = time.Time{}, ""
		if r != want {
			t.Errorf("request %d:\n got %+v\nwant %+v", i, r, want)
		}
	}
}

func TestRequestLogBounded(t *testing.T) {
	log := &requestLog{limit: 4}
	for i := range 10 {
		log.add(Request{Path: fmt.Sprint(i)})
	}
	got := log.snapshot()
	if len(got) == 0 || len(got) > 4 || got[len(got)-1].Path != "9" {
		t.Fatalf("log of limit 4 after 10 requests: %+v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Path >= got[i].Path {
			t.Errorf("log out of order: %+v", got)
		}
	}
}

// FuzzWeb sends arbitrary paths and Host headers to the web handler: it
// must answer without panicking, with a valid status.
func FuzzWeb(f *testing.F) {
	c, err := loadCorpus()
	if err != nil {
		f.Fatal(err)
	}
	sites, err := buildSites(c)
	if err != nil {
		f.Fatal(err)
	}
	hosts := map[string]*site{}
	for _, s := range sites {
		for _, h := range s.Hosts {
			hosts[h] = s
		}
	}
	h := &web{hosts: hosts, slow: time.Millisecond, log: &requestLog{limit: 10}}
	for _, seed := range [][2]string{
		{"friend.com.test", "/calendar?month=2016-09"}, {"friend.com.test", "/calendar?month=-5-3"},
		{"www.trade.com.test", "/x?y"}, {"film.com.test", "/files/archive.bin"}, {"secure.gov.test:80", "/"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, host, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.Contains(target, "archive.bin") {
			return
		}
		req := httptest.NewRequest("HEAD", "/", nil)
		req.URL, req.RequestURI, req.Host = u, target, host
		addr := &net.TCPAddr{IP: net.ParseIP(sharedA), Port: 80}
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, addr))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d for %s %s", rec.Code, host, target)
		}
	})
}

// TestImagesDecode checks that the images are real PNG and GIF files with
// the right Content-Type.
func TestImagesDecode(t *testing.T) {
	w := startWorld(t, Options{})
	c := client(w)
	for _, tc := range []struct{ path, ctype, format string }{
		{"img/logo.png", "image/png", "png"},
		{"img/bg.gif", "image/gif", "gif"},
	} {
		resp, body := fetch(t, c, "http://friend.com.test/"+tc.path)
		if ct := resp.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, ct, tc.ctype)
		}
		_, format, err := image.Decode(bytes.NewReader(body))
		if err != nil || format != tc.format {
			t.Errorf("%s: decoded as %q (%v), want %s", tc.path, format, err, tc.format)
		}
	}
}

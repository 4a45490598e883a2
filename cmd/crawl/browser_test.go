package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"crawl/internal/browsertest"
	"crawl/internal/world"
)

// startServe runs `crawl serve` on the archive on a free loopback port and
// returns its root URL; it stops at the test's end.
func startServe(t *testing.T, archive string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--archive", archive, "--listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("crawl serve: %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("crawl serve said nothing: %v", <-done)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(sc.Text())
	if m == nil {
		t.Fatalf("crawl serve: %q", sc.Text())
	}
	return m[1]
}

// replayedPage is what a replayed page shows in the browser.
type replayedPage struct {
	Location string `json:"location"`
	Title    string `json:"title"`
	H1       string `json:"h1"`
	H1Color  string `json:"h1Color"`
	Charset  string `json:"charset"`
	Banner   bool   `json:"banner"`
	Images   []struct {
		Src string `json:"src"`
		OK  bool   `json:"ok"`
	} `json:"images"`
	Sheets []struct {
		Href    string `json:"href"`
		Rules   int    `json:"rules"`
		Imports []int  `json:"imports"`
	} `json:"sheets"`
	Resources []struct {
		Name   string `json:"name"`
		Status int    `json:"status"`
	} `json:"resources"`
}

// pageState reads what the page shows, once its images (the <img> and
// the style sheet's backgrounds) have come.
const pageState = `(() => {
  const h1 = document.querySelector('h1');
  const sheets = Array.from(document.styleSheets).map(s => {
    try {
      return {href: s.href || '', rules: s.cssRules.length,
        imports: Array.from(s.cssRules).filter(r => r.type === CSSRule.IMPORT_RULE).map(r => r.styleSheet ? r.styleSheet.cssRules.length : -1)};
    } catch (e) { return {href: s.href || '', rules: -1, imports: []}; }
  });
  return {location: location.href, title: document.title, h1: h1 ? h1.innerText : '', charset: document.characterSet,
    h1Color: h1 ? getComputedStyle(h1).color : '', banner: !!document.getElementById('crawl-replay-banner'),
    images: Array.from(document.images).map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0})),
    sheets: sheets,
    resources: performance.getEntriesByType('resource').map(e => ({name: e.name, status: e.responseStatus}))};
})()`

const imagesArrived = `document.readyState === 'complete' &&
  performance.getEntriesByType('resource').filter(e => /\/img\/(bg\.gif|logo\.png)$/.test(e.name) && e.responseEnd > 0).length >= 2`

func openReplayed(t *testing.T, tab *browsertest.Tab, u string) replayedPage {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	if _, err := chromedp.Run(tab.Ctx, chromedp.Poll[bool](imagesArrived, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("%s: the images never came: %v", u, err)
	}
	p, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[replayedPage](pageState))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkLoaded asserts that a replayed page shows its site's title and
// heading, in its charset, with every image and style sheet loaded from
// the archive.
func checkLoaded(t *testing.T, p replayedPage, s world.Site, serve string) {
	t.Helper()
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(serve) + `/web/\d{14}/`).MatchString(p.Location) {
		t.Errorf("%s: at %s, not a replay URL", s.Name, p.Location)
	}
	if p.Title != s.Title || p.H1 != s.Title {
		t.Errorf("%s: title %q, h1 %q; want %q", s.Name, p.Title, p.H1, s.Title)
	}
	if want := map[string]string{"utf-8": "UTF-8", "euc-kr": "EUC-KR"}[s.Charset]; p.Charset != want {
		t.Errorf("%s: charset %s, want %s", s.Name, p.Charset, want)
	}
	// h1 { color: #1f3a93 } from the site's style sheet.
	if p.H1Color != "rgb(31, 58, 147)" {
		t.Errorf("%s: h1 colour %s: the style sheet did not apply", s.Name, p.H1Color)
	}
	if !p.Banner {
		t.Errorf("%s: no replay banner", s.Name)
	}
	if len(p.Images) == 0 {
		t.Errorf("%s: no images", s.Name)
	}
	for _, img := range p.Images {
		if !img.OK || !strings.HasPrefix(img.Src, serve+"/web/") {
			t.Errorf("%s: image %s did not load from the archive", s.Name, img.Src)
		}
	}
	if len(p.Sheets) == 0 {
		t.Errorf("%s: no style sheets", s.Name)
	}
	for _, sh := range p.Sheets {
		if sh.Rules <= 0 {
			t.Errorf("%s: style sheet %s has %d rules", s.Name, sh.Href, sh.Rules)
		}
		for _, n := range sh.Imports {
			if n <= 0 {
				t.Errorf("%s: a sheet @imported by %s did not load (%d rules)", s.Name, sh.Href, n)
			}
		}
	}
	for _, r := range p.Resources {
		if r.Status != http.StatusOK {
			t.Errorf("%s: %s answered %d", s.Name, r.Name, r.Status)
		}
		// Rewritten, not caught by the server's Referer fallback.
		if !strings.HasPrefix(r.Name, serve+"/web/") {
			t.Errorf("%s: %s was requested outside the replay prefix", s.Name, r.Name)
		}
	}
}

// checkStayedHome asserts that every request the tab's pages made, and
// every request of the whole browser, went to the given servers only.
func checkStayedHome(t *testing.T, b *browsertest.Browser, tab *browsertest.Tab, servers ...string) {
	t.Helper()
	urls, blocked := tab.Requests()
	if len(urls) == 0 {
		t.Error("no request recorded")
	}
	if out := browsertest.Outside(urls, servers...); len(out) > 0 {
		t.Errorf("requests left the server: %q", out)
	}
	if len(blocked) > 0 {
		t.Errorf("requests blocked by the browser (a URL the rewriting missed): %q", blocked)
	}
	_, refused := b.ProxyRequests()
	if out := browsertest.FromPages(refused); len(out) > 0 {
		t.Errorf("the browser tried to reach other servers: %q", out)
	}
}

// TestBrowser crawls the local world, serves the archive with crawl serve,
// and replays its sites in a real headless Chromium; then packages it with
// crawl wacz and replays that in webrecorder's replayweb.page.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the local world and drives a browser")
	}
	browsertest.Chromium(t)
	c := crawlWorld(t)
	serve := startServe(t, c.archive)
	b := browsertest.New(t, strings.TrimPrefix(serve, "http://"))
	sites := c.world.Sites()

	t.Run("replayed sites", func(t *testing.T) {
		tab := b.NewTab(t, 3*time.Minute)
		euckr := 0
		for _, s := range sites {
			// /web/URL is the TimeGate: it redirects to the latest capture.
			p := openReplayed(t, tab, serve+"/web/"+s.Home)
			checkLoaded(t, p, s, serve)
			if s.Charset == "euc-kr" {
				euckr++
			}
		}
		if euckr == 0 {
			t.Error("no EUC-KR site was checked")
		}
		checkStayedHome(t, b, tab, serve)
	})

	t.Run("redirects and links stay in the archive", func(t *testing.T) {
		tab := b.NewTab(t, time.Minute)
		for _, s := range sites {
			to, ok := s.Redirects["/old.html"]
			if !ok {
				continue
			}
			u, _ := url.Parse(s.Home)
			p := openReplayed(t, tab, serve+"/web/2/"+u.Scheme+"://"+u.Host+"/old.html")
			if !strings.HasSuffix(p.Location, "/"+u.Scheme+"://"+u.Host+to) || p.H1 == "" {
				t.Errorf("%s/old.html: at %s (h1 %q), want the capture of %s", s.Name, p.Location, p.H1, to)
			}
		}
		// Follow the first link of the navigation bar (about.html).
		s := sites[0]
		openReplayed(t, tab, serve+"/web/"+s.Home)
		click(t, tab, "nav a:nth-of-type(2)")
		loc, err := chromedp.Run(tab.Ctx, chromedp.Poll[string](`location.pathname.endsWith('/about.html') && document.readyState === 'complete' ? location.href : ''`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil || !strings.HasPrefix(loc, serve+"/web/") {
			t.Errorf("following a link: at %q, %v", loc, err)
		}
		checkStayedHome(t, b, tab, serve)
	})

	t.Run("search opens replayed pages", func(t *testing.T) {
		tab := b.NewTab(t, time.Minute)
		if err := chromedp.Do(tab.Ctx, chromedp.Navigate(serve+"/search?q="+url.QueryEscape("평양"))); err != nil {
			t.Fatal(err)
		}
		hits, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]struct {
			Title string `json:"title"`
			Marks int    `json:"marks"`
		}](`Array.from(document.querySelectorAll('ol.hits li')).map(li => ({title: li.querySelector('h2').innerText, marks: li.querySelectorAll('.snippet mark').length}))`))
		if err != nil || len(hits) == 0 {
			t.Fatalf("search page: %v %v", hits, err)
		}
		// (The index gives the start of the text, unmarked, for a page
		// that matches in its title only.)
		marked := 0
		for _, h := range hits {
			if h.Marks > 0 {
				marked++
			}
		}
		if marked == 0 {
			t.Errorf("no hit has a highlighted snippet: %+v", hits)
		}
		writeScreenshot(t, tab, "search.png")
		click(t, tab, "ol.hits li h2 a")
		title, err := chromedp.Run(tab.Ctx, chromedp.Poll[string](`location.pathname.startsWith('/web/2') && document.readyState === 'complete' ? document.title : ''`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil || title != hits[0].Title {
			t.Errorf("the first hit opened %q (%v), want %q", title, err, hits[0].Title)
		}
		checkStayedHome(t, b, tab, serve)
	})

	t.Run("screenshot of a replayed page", func(t *testing.T) {
		if os.Getenv("CRAWL_SCREENSHOTS") == "" {
			t.Skip("set CRAWL_SCREENSHOTS=DIR to write the README's screenshots")
		}
		tab := b.NewTab(t, time.Minute)
		for _, s := range sites {
			if s.Name == "library.edu.test" {
				openReplayed(t, tab, serve+"/web/"+s.Home)
				writeScreenshot(t, tab, "replay.png")
			}
		}
		if err := chromedp.Do(tab.Ctx, chromedp.Navigate(serve+"/")); err == nil {
			writeScreenshot(t, tab, "sites.png")
		}
	})

	t.Run("WACZ in replayweb.page", func(t *testing.T) {
		rwp := browsertest.ReplayWebPage(t)
		out := filepath.Join(t.TempDir(), "world.wacz")
		if _, stderr, status := runCLI(t, "wacz", "--archive", c.archive, out); status != 0 {
			t.Fatalf("crawl wacz: %d %s", status, stderr)
		}
		var site world.Site
		for _, s := range sites {
			if s.Charset == "euc-kr" && !s.HTTPS {
				site = s
				break
			}
		}
		page := `<!doctype html><html><head><meta charset="utf-8"><script src="/ui.js"></script></head><body style="margin:0">` +
			`<replay-web-page style="display:block;height:800px" source="/world.wacz" url="` + site.Home + `" replayBase="/" embed="replayonly"></replay-web-page></body></html>`
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, page)
		})
		for _, f := range []string{"ui.js", "sw.js"} {
			mux.HandleFunc("/"+f, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, filepath.Join(rwp, f)) })
		}
		mux.HandleFunc("/world.wacz", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, out) })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		defer srv.Close()
		host := ln.Addr().String()
		b.Allow(host)
		tab := b.NewTab(t, 2*time.Minute)
		if err := chromedp.Do(tab.Ctx, chromedp.Navigate("http://"+host+"/")); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(tab.Ctx, chromedp.Poll[framePage](browsertest.DeepFind, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
		if err != nil {
			t.Fatalf("replayweb.page never showed %s: %v", site.Home, err)
		}
		if got.Title != site.Title || got.H1 != site.Title || got.Charset != "EUC-KR" || !strings.Contains(got.URL, site.Home) {
			t.Errorf("replayweb.page shows %+v, want %q (EUC-KR) from %s", got, site.Title, site.Home)
		}
		if got.Images == 0 || got.ImagesLoaded != got.Images || got.Sheets == 0 || got.H1Color != "rgb(31, 58, 147)" {
			t.Errorf("replayweb.page: %d of %d images, %d sheets, h1 colour %s", got.ImagesLoaded, got.Images, got.Sheets, got.H1Color)
		}
		checkStayedHome(t, b, tab, "http://"+host)
	})
}

// click clicks the first element that matches a CSS selector, as a user
// would, and waits for the page it opens.
func click(t *testing.T, tab *browsertest.Tab, selector string) {
	t.Helper()
	if _, err := chromedp.RunResponse(tab.Ctx, chromedp.Click(selector)); err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// framePage is what browsertest.DeepFind finds in replayweb.page's frame.
type framePage struct {
	URL          string `json:"url"`
	Title        string `json:"title"`
	H1           string `json:"h1"`
	Charset      string `json:"charset"`
	Images       int    `json:"images"`
	ImagesLoaded int    `json:"imagesLoaded"`
	Sheets       int    `json:"sheets"`
	H1Color      string `json:"h1Color"`
}

func writeScreenshot(t *testing.T, tab *browsertest.Tab, name string) {
	dir := os.Getenv("CRAWL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tab.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Error(err)
	}
}

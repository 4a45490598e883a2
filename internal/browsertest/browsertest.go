// Package browsertest runs a real headless Chromium (Debian's chromium)
// for tests, driven with chromedp, and records every request it makes.
//
// The browser starts with the flags that keep it from reaching out on its
// own (no background networking, component updates, sync, QUIC or first-run
// tasks), a fresh profile, and a proxy: every HTTP request of the browser,
// its pages, workers and service workers alike, loopback included, goes
// through a recording proxy in the test process, which forwards only to the
// servers the test allows and refuses the rest. Tabs also record what their
// pages requested through the DevTools network events. So a test can assert
// that nothing left its servers.
//
// Without chromium the tests skip, except under CI=true, where they fail:
// CI must never pass without the browser tests.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the browser, or skips the test (fails it
// under CI=true) when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium; scripts/test does it as root)")
	}
	t.Skip("chromium is not installed (apt-get install chromium): browser tests skipped")
	return ""
}

// Browser is one headless Chromium with a recording proxy.
type Browser struct {
	ctx   context.Context
	proxy *proxy
}

// New starts a browser for the test; it is stopped at the test's end. Only
// requests to the allowed hosts ("127.0.0.1:PORT") are forwarded by the
// proxy; add more with Allow.
func New(t testing.TB, allowed ...string) *Browser {
	t.Helper()
	exe := Chromium(t)
	p, err := startProxy(allowed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,CertificateTransparencyComponentUpdater,AutofillServerCommunication,NetworkTimeServiceQuerying,DialMediaRouteProvider,AccountConsistency"),
		// Sign-in probes go to the Google account server otherwise.
		chromedp.Flag("gaia-url", "http://127.0.0.1:9/"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Every request through the recording proxy, loopback too
		// (<-loopback> removes the implicit bypass of localhost).
		chromedp.ProxyServer("http://" + p.addr),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return &Browser{ctx: ctx, proxy: p}
}

// Allow lets the proxy forward to one more host ("127.0.0.1:PORT").
func (b *Browser) Allow(host string) { b.proxy.allow(host) }

// ProxyRequests are the URLs of every request the browser made through
// the proxy, in order, and those it refused.
func (b *Browser) ProxyRequests() (all, refused []string) { return b.proxy.log() }

// Tab is one browser tab that records its pages' requests.
type Tab struct {
	Ctx context.Context
	mu  sync.Mutex
	req []string
	bad []string
}

// NewTab opens a tab; timeout bounds everything done in it.
func (b *Browser) NewTab(t testing.TB, timeout time.Duration) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	tab := &Tab{Ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			tab.mu.Lock()
			tab.req = append(tab.req, ev.Request.URL)
			tab.mu.Unlock()
		case *network.EventLoadingFailed:
			if ev.BlockedReason != "" {
				tab.mu.Lock()
				tab.bad = append(tab.bad, fmt.Sprintf("request %s blocked: %s", ev.RequestID, ev.BlockedReason))
				tab.mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return tab
}

// Requests returns the URLs the tab's pages requested, in order, and the
// requests the browser blocked (by CSP, say).
func (tab *Tab) Requests() (urls, blocked []string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return slices.Clone(tab.req), slices.Clone(tab.bad)
}

// ChromiumServices are the hosts Chromium itself calls whatever its flags
// (component updates): the proxy refuses them, and they are not the pages'.
var ChromiumServices = []string{"update.googleapis.com", "clients2.google.com", "accounts.google.com",
	"www.googleapis.com", "content-autofill.googleapis.com", "optimizationguide-pa.googleapis.com"}

// FromPages drops the requests of Chromium's own services from urls.
func FromPages(urls []string) []string {
	var out []string
	for _, u := range urls {
		host := u
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		host, _, _ = strings.Cut(host, "/")
		host, _, _ = strings.Cut(host, ":")
		if !slices.Contains(ChromiumServices, host) {
			out = append(out, u)
		}
	}
	return out
}

// Outside returns the URLs among urls that are not on one of the servers
// (by "http://HOST:PORT/" prefix); data:, blob: and about: are local.
func Outside(urls []string, servers ...string) []string {
	var out []string
	for _, u := range urls {
		local := strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") || strings.HasPrefix(u, "about:")
		for _, s := range servers {
			local = local || strings.HasPrefix(u, strings.TrimSuffix(s, "/")+"/")
		}
		if !local {
			out = append(out, u)
		}
	}
	return out
}

// proxy is an HTTP forward proxy that logs every request and forwards
// only to allowed hosts.
type proxy struct {
	addr string
	srv  *http.Server
	tr   *http.Transport

	mu      sync.Mutex
	allowed map[string]bool
	all     []string
	refused []string
}

func startProxy(allowed []string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("browsertest proxy: %w", err)
	}
	p := &proxy{addr: ln.Addr().String(), allowed: map[string]bool{},
		tr: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 16}}
	for _, a := range allowed {
		p.allowed[a] = true
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *proxy) allow(host string) {
	p.mu.Lock()
	p.allowed[host] = true
	p.mu.Unlock()
}

func (p *proxy) log() (all, refused []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.all), slices.Clone(p.refused)
}

func (p *proxy) close() {
	p.srv.Close()
	p.tr.CloseIdleConnections()
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.URL.String()
	if r.Method == http.MethodConnect {
		target = "https://" + r.Host + "/"
	}
	p.mu.Lock()
	p.all = append(p.all, target)
	ok := r.Method != http.MethodConnect && r.URL.Scheme == "http" && p.allowed[r.URL.Host]
	if !ok {
		p.refused = append(p.refused, target)
	}
	p.mu.Unlock()
	if !ok {
		http.Error(w, "browsertest: not one of the test's servers", http.StatusForbidden)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// ReplayWebPage returns the folder of webrecorder's replayweb.page build
// (ui.js, sw.js) installed by `npm ci` in tools/replaywebpage, or skips
// the test (fails it under CI=true) when it is not there.
func ReplayWebPage(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	for err == nil {
		if _, statErr := os.Stat(filepath.Join(dir, "go.mod")); statErr == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			err = os.ErrNotExist
		}
		dir = parent
	}
	pkg := filepath.Join(dir, "tools", "replaywebpage", "node_modules", "replaywebpage")
	if _, statErr := os.Stat(filepath.Join(pkg, "sw.js")); err != nil || statErr != nil {
		msg := "replayweb.page is not installed: run `npm ci --ignore-scripts` in tools/replaywebpage"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return pkg
}

// DeepFind is a JavaScript expression that looks through the page's
// frames and shadow roots (replayweb.page nests both) for the first
// document with a title and an h1, and returns its location, title, h1
// text, charset and whether all its images loaded; null while there is
// none.
const DeepFind = `(() => {
  const seen = new Set(), docs = [];
  function walk(root) {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.tagName === 'IFRAME') {
        let d = null;
        try { d = el.contentDocument; } catch (e) {}
        if (d && !seen.has(d)) { seen.add(d); docs.push(d); walk(d); }
      }
    }
  }
  walk(document);
  for (const d of docs) {
    const h1 = d.querySelector('h1');
    if (!h1 || !d.title || d.readyState !== 'complete') continue;
    const imgs = Array.from(d.images);
    return {url: d.location.href, title: d.title, h1: h1.innerText, charset: d.characterSet,
      images: imgs.length, imagesLoaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
      sheets: d.styleSheets.length, h1Color: d.defaultView.getComputedStyle(h1).color};
  }
  return null;
})()`

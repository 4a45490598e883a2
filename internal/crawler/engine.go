package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/gocolly/colly/v2"

	"crawl/internal/wire"
)

// The fetch engine: one colly Collector whose client runs through
// collyShim over the recording wire.Transport. Why colly's own scheduling,
// robots, redirects and body handling are off, and why the shim exists, is
// in the package doc ("colly as the fetch engine").

// pendingKey is where a fetch's *pending sits in its colly.Context.
const pendingKey = "crawl.fetch"

// pending is one fetch between Crawler.fetch, collyShim and colly's
// callbacks, found by the tag header (shim, onExchange) or the colly.Context
// (callbacks).
type pending struct {
	ctx context.Context // the fetch's own: cancellation aborts it in flight
	u   *url.URL        // the URL the crawler asked for, exactly
	f   *fetched
	got bool // a callback ran
}

// newCollector builds the collector every fetch goes through. Each option
// is set again after NewCollector on purpose: colly applies COLLY_*
// environment variables after the options (COLLY_MAX_BODY_SIZE,
// COLLY_PARSE_HTTP_ERROR_RESPONSE, COLLY_ALLOWED_DOMAINS, COLLY_CACHE_DIR,
// COLLY_IGNORE_ROBOTSTXT, ...), and a crawl must not change with the
// environment it happens to run in. COLLY_FOLLOW_REDIRECTS and
// COLLY_DISABLE_COOKIES only touch colly's own client, which SetClient
// replaces. colly's UserAgent (and COLLY_USER_AGENT) is never consulted:
// colly sets it only on a request without a User-Agent header, and fetch
// always sends one.
func newCollector(client *http.Client, maxParse int64) *colly.Collector {
	col := colly.NewCollector()
	col.Async = false
	col.IgnoreRobotsTxt = true // robotsFor decides, with the answer archived
	col.AllowURLRevisit = true // the state's seen set decides
	col.ParseHTTPErrorResponse = true
	col.MaxBodySize = int(min(maxParse, int64(int(^uint(0)>>1))))
	col.MaxDepth, col.MaxRequests = 0, 0
	col.AllowedDomains, col.DisallowedDomains = nil, nil
	col.URLFilters, col.DisallowedURLFilters = nil, nil
	col.CacheDir, col.CacheExpiration = "", 0
	col.DetectCharset = false
	col.TraceHTTP = false
	col.CheckHead = false
	col.Headers = nil
	col.SetClient(client) // no jar, no timeout of colly's; redirects are not followed
	return col
}

// collyShim sits between colly's client and the wire transport.
type collyShim struct {
	next     http.RoundTripper
	pending  *sync.Map // tag -> *pending
	maxParse int64     // Config.Parse.MaxBody
	log      *slog.Logger
}

// RoundTrip gives the request the fetch's own context and URL, then hands
// colly a body it cannot inflate: for a type that may hold links, none (the
// crawler keeps the body decoded by wire.ReadDecoded: content coding
// undone, at most Config.Parse.MaxBody bytes), with Uncompressed set so colly's backend
// never gunzips (colly v2.3.0 gunzips whenever Uncompressed is false and
// Content-Encoding says gzip, with no cap). Other bodies are left to the
// headers callback, which aborts them unread: the wire transport has
// recorded them already.
func (s *collyShim) RoundTrip(req *http.Request) (*http.Response, error) {
	v, ok := s.pending.Load(req.Header.Get(tagHeader))
	if !ok {
		return nil, fmt.Errorf("fetch %s: request without a crawl fetch", req.URL)
	}
	p := v.(*pending)
	// colly's Context is collector-wide; each fetch has its own (StopGrace).
	// colly re-parses the URL with a WHATWG parser; the crawler's
	// normalised URL is what goes on the wire and into the archive.
	out := req.WithContext(p.ctx)
	out.URL = p.u
	out.Host = p.u.Host
	resp, err := s.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	resp.Uncompressed = true
	if mayHoldLinks(resp.Header.Get("Content-Type")) {
		body, err := wire.ReadDecoded(resp, s.maxParse)
		if err != nil {
			s.log.Debug("body not decodable", "url", p.u.String(), "err", err)
		}
		resp.Body.Close()
		p.f.body = body
		// colly gets no body: nothing registered with it reads one (the
		// crawler parses p.f.body), and it would copy it and convert it
		// to UTF-8 for nobody.
		resp.Body = http.NoBody
		resp.ContentLength = 0
	}
	return resp, nil
}

// onExchange hands the wire transport's record of a fetch to the fetch that
// made it. The transport calls it before its RoundTrip returns, so within
// the fetch (colly runs synchronously); the shim forwards only requests
// with a pending fetch, so an unmatched exchange is never expected, but it
// is closed rather than leaked.
func (c *Crawler) onExchange(ex *wire.Exchange) {
	v, ok := c.pending.Load(ex.Tag)
	if !ok {
		ex.Close()
		return
	}
	v.(*pending).f.ex = ex
}

// onResponseHeaders takes status and header, and aborts the body read when
// the type holds no links: colly never holds an image or a 20 MB download.
func onResponseHeaders(r *colly.Response) {
	p, ok := r.Ctx.GetAny(pendingKey).(*pending)
	if !ok {
		return
	}
	p.got = true
	p.f.status, p.f.header = r.StatusCode, *r.Headers
	if !mayHoldLinks(p.f.header.Get("Content-Type")) {
		r.Request.Abort()
	}
}

// onError takes a fetch error. With ParseHTTPErrorResponse set, 4xx, 5xx
// and 2xx >= 203 are responses, not errors; the abort above is ours.
func onError(r *colly.Response, err error) {
	if r == nil || r.Ctx == nil || errors.Is(err, colly.ErrAbortedAfterHeaders) {
		return
	}
	p, ok := r.Ctx.GetAny(pendingKey).(*pending)
	if !ok {
		return
	}
	p.got = true
	// The transport's error already names the URL and the address.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	p.f.err = err
}

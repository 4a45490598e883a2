package crawler

import (
	"errors"
	"net/url"
	"strings"

	"crawl/internal/page"
)

// links hands emit the in-scope, trap-free URLs a capture leads to, one
// at a time, in document order.
func (c *Crawler) links(sc *siteCrawl, e *entry, u *url.URL, f *fetched, emit func(*entry)) {
	// add takes a normalised absolute URL: page.Parse and page.ParseCSS give
	// nothing else, and a redirect's Location is normalised below.
	add := func(n string, requisite bool, depth, hops int) {
		nu, err := url.Parse(n)
		if err != nil || !sc.scope.allows(nu, requisite) {
			return
		}
		if why := trapReason(nu, n, c.cfg.MaxURLLength, c.cfg.MaxSegmentRepeat); why != "" {
			c.log.Debug("trap rule", "url", n, "rule", why)
			return
		}
		emit(&entry{URL: n, Depth: depth, Requisite: requisite, Hops: hops, variant: variantKey(nu)})
	}
	if f.err != nil {
		return
	}
	if f.status >= 300 && f.status < 400 {
		if loc := f.header.Get("Location"); loc != "" && e.Hops < c.cfg.MaxRedirects {
			if n, err := page.Normalize(loc, u); err == nil {
				add(n, e.Requisite, e.Depth, e.Hops+1)
			}
		}
		return
	}
	for _, l := range f.css {
		add(l.URL, true, e.Depth, 0)
	}
	if p := f.page; p != nil {
		for _, l := range p.Links {
			if l.Requisite {
				add(l.URL, true, e.Depth, 0)
				continue
			}
			// A requisite (a frame) is fetched for its own requisites only:
			// following its links would leave the page being rendered.
			if e.Requisite {
				continue
			}
			if c.cfg.MaxDepth > 0 && e.Depth+1 > c.cfg.MaxDepth {
				continue
			}
			add(l.URL, false, e.Depth+1, 0)
		}
	}
}

// parse reads a 2xx body that may hold links, before it is archived: the
// page travels with the record to the index (warc.Exchange.Parsed), which
// then does not parse it again. CSS gives its url()s; anything else goes
// to page.ParseResponse, which sniffs: what is not HTML is ErrNotHTML.
// The body is the decoded one capped at Parse.MaxBody, as the index would
// read it from the record.
func (c *Crawler) parse(u *url.URL, f *fetched) {
	if f.err != nil || f.status < 200 || f.status >= 300 || len(f.body) == 0 {
		return
	}
	ct := f.header.Get("Content-Type")
	if isCSS(ct, u) {
		f.css = page.ParseCSS(f.body, ct, u)
		return
	}
	p, err := page.ParseResponse(f.body, f.header, u, c.cfg.Parse)
	if err != nil {
		if !errors.Is(err, page.ErrNotHTML) {
			c.log.Debug("parse", "url", u.String(), "err", err)
		}
		return
	}
	f.page = p
}

func isCSS(ct string, u *url.URL) bool {
	mt := mediaType(ct)
	if mt == "text/css" {
		return true
	}
	return mt == "" && strings.HasSuffix(strings.ToLower(u.Path), ".css")
}

// mayHoldLinks tells from a Content-Type whether a body is worth reading
// for links: HTML, CSS, XML, any text, or no type at all (then page.Parse
// sniffs). Images, media, archives and the like are not read.
func mayHoldLinks(contentType string) bool {
	mt := mediaType(contentType)
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), strings.Contains(mt, "html"), strings.Contains(mt, "xml"):
		return true
	}
	return false
}

// mediaType is a Content-Type without its parameters, lowercase.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

package page

import (
	"net/http"
	"net/url"
)

// Limits are everything that decides what a parse of a response body
// gives, apart from the body itself.
type Limits struct {
	MaxBody int64  // decoded body bytes read (DefaultMaxParse when 0)
	Config  Config // Parse's limits (ContentLanguage is taken per response)
}

// DefaultLimits are the limits used when nobody sets them.
func DefaultLimits() Limits { return Limits{MaxBody: DefaultMaxParse, Config: DefaultConfig()} }

// Normalized fills in defaults, so that two Limits that parse alike compare
// equal.
func (l Limits) Normalized() Limits {
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxParse
	}
	l.Config = buildConfig([]Option{WithConfig(l.Config)})
	l.Config.ContentLanguage = ""
	return l
}

// Same reports whether a parse made with l is the parse m would make.
func (l Limits) Same(m Limits) bool { return l.Normalized() == m.Normalized() }

// SameOutline reports whether a parse made with l has the title, headlines
// and links a parse made with m has: the limits may differ in what bounds
// the text only (MaxText, SkipText).
func (l Limits) SameOutline(m Limits) bool {
	l, m = l.Normalized(), m.Normalized()
	l.Config.MaxText, l.Config.SkipText = 0, false
	m.Config.MaxText, m.Config.SkipText = 0, false
	return l == m
}

// ParseResponse parses an HTTP response's decoded body (at most
// lim.MaxBody bytes of it) the one way crawl does: the crawler for the
// links to follow, the index for headlines, links and text. header is the
// response's header (Content-Type, Content-Language).
func ParseResponse(body []byte, header http.Header, base *url.URL, lim Limits) (*Page, error) {
	cfg := lim.Normalized().Config
	cfg.ContentLanguage = header.Get("Content-Language")
	return Parse(body, header.Get("Content-Type"), base, WithConfig(cfg))
}

// Parsed is a page parsed by ParseResponse together with the limits it was
// parsed with. The crawler hands it to the WARC writer with the response
// (warc.Exchange.Parsed), and the index uses it instead of parsing the
// record again when the limits are the index's own.
type Parsed struct {
	Page   *Page
	Limits Limits
}

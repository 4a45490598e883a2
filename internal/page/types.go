package page

import "errors"

// Page is what crawl learns from one HTML document.
type Page struct {
	Charset   string     // the encoding used to decode, e.g. "utf-8", "euc-kr"
	Title     string     // whitespace collapsed
	Headlines []Headline // title first, then h1–h6 in document order
	Links     []Link     // absolute, normalised, fragment dropped, in document order, no duplicates
	Text      string     // visible text: no script, style, noscript, template, svg, navigation boilerplate; whitespace collapsed
	Lang      string     // declared or detected language, e.g. "ko", "en"; "" when unknown
	// Truncated reports that a limit of Config (text, links, headlines) cut
	// something off; what was kept is still correct.
	Truncated bool
	// LinksCut reports that the document held more links than
	// Config.MaxLinks: Links has the first MaxLinks of them.
	LinksCut bool
}

// Headline is one title or h1–h6 element's text.
type Headline struct {
	Tag  string // "title", "h1" … "h6"
	Text string
}

// Link is one URL a document refers to.
type Link struct {
	URL string
	// Requisite is true for what a page needs to render (img, script,
	// stylesheet, CSS url(), icon, media, frame source); false for navigation
	// (a, area, meta refresh, link rel=alternate/canonical/next…).
	//
	// Frame sources (Tag "iframe" or "frame") are requisites of the page that
	// embeds them, so the crawler fetches them even when they sit on another
	// in-scope host, but they are themselves HTML pages: the crawler should
	// parse what it fetches for them and follow their links like any page's.
	Requisite bool
	// Tag says where the URL came from: the element name ("a", "area",
	// "link", "img", "source", "script", "iframe", "frame", "video",
	// "audio", "track", "input", "object", "embed", "body", "td", "image",
	// "use"...), "css" for a CSS url(), "@import" for a CSS @import, and
	// "refresh" for <meta http-equiv=refresh>.
	Tag string
}

// Sentinel errors callers branch on.
var (
	// ErrNotHTML: the body is not HTML (its Content-Type names another
	// type, or it sniffs as binary although served as text/html).
	ErrNotHTML = errors.New("not an HTML document")
	// ErrSkippedScheme: the URL's scheme is not http or https
	// (javascript:, mailto:, tel:, data:, ftp:...).
	ErrSkippedScheme = errors.New("scheme not crawled")
	// ErrInvalidURL: the URL cannot be parsed, even leniently.
	ErrInvalidURL = errors.New("invalid URL")
)

// DefaultMaxParse is how many decoded body bytes of one document are
// parsed, by default: the crawler (for links) and the index (for
// headlines, text and links) both read this many, so that they parse the
// same bytes and get the same answer. It bounds the memory of each fetch in
// flight and of each page being indexed; pages with more HTML than this
// are rare, and their first 8 MiB hold their links and headlines.
const DefaultMaxParse = 8 << 20

// Config bounds what Parse keeps from one document. The zero value of a
// field means "use the default" (see DefaultConfig).
type Config struct {
	MaxText          int    // bytes of visible text kept (default 1 MiB)
	MaxLinks         int    // distinct links kept (default 20,000)
	MaxHeadlines     int    // headlines kept, title included (default 1,000)
	MaxHeadlineBytes int    // bytes per headline, cut on a rune boundary (default 512)
	MaxURLBytes      int    // longer URLs are dropped as junk (default 8 KiB)
	ContentLanguage  string // the HTTP Content-Language header, if any
	// SkipText reads links, title and headlines only: Page.Text stays
	// empty, and Lang is what the page declares or what its title shows.
	// For a reader that needs no text (the crawler, when no full-text
	// index is kept during the crawl): the text is a fifth of Parse.
	SkipText bool
}

// DefaultConfig holds the defaults of every limit, in one place.
func DefaultConfig() Config {
	return Config{
		MaxText:          1 << 20,
		MaxLinks:         20000,
		MaxHeadlines:     1000,
		MaxHeadlineBytes: 512,
		MaxURLBytes:      8 << 10,
	}
}

// Option changes the Config of one Parse call.
type Option func(*Config)

// WithConfig replaces the limits (zero fields keep their defaults).
func WithConfig(c Config) Option { return func(dst *Config) { *dst = c } }

// WithContentLanguage passes the response's Content-Language header, which
// declares the language when <html lang> does not.
func WithContentLanguage(v string) Option {
	return func(c *Config) { c.ContentLanguage = v }
}

// WithMaxText sets how many bytes of visible text are kept.
func WithMaxText(n int) Option { return func(c *Config) { c.MaxText = n } }

// WithMaxLinks sets how many distinct links are kept.
func WithMaxLinks(n int) Option { return func(c *Config) { c.MaxLinks = n } }

func buildConfig(opts []Option) Config {
	c := DefaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	d := DefaultConfig()
	if c.MaxText <= 0 {
		c.MaxText = d.MaxText
	}
	if c.MaxLinks <= 0 {
		c.MaxLinks = d.MaxLinks
	}
	if c.MaxHeadlines <= 0 {
		c.MaxHeadlines = d.MaxHeadlines
	}
	if c.MaxHeadlineBytes <= 0 {
		c.MaxHeadlineBytes = d.MaxHeadlineBytes
	}
	if c.MaxURLBytes <= 0 {
		c.MaxURLBytes = d.MaxURLBytes
	}
	return c
}

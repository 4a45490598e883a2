package page

import (
	"fmt"
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
	"golang.org/x/text/encoding"
)

// linkCollector gathers a document's references as raw strings while the
// document streams past, and resolves them once the document's base URL is
// known: the first <base href> applies to every URL of the page, also to
// those that come before it.
type linkCollector struct {
	base      *whatwg.Url
	cfg       Config
	pending   []pendingLink
	links     []Link
	truncated bool
	// queryEncoding is the document's encoding when it is not UTF-8: a
	// browser percent-encodes the non-ASCII query of an HTML attribute's
	// URL in the document's encoding (WHATWG URL, "encoding override"),
	// so an EUC-KR page's "?q=서울" is fetched as "?q=%BC%AD%BF%EF".
	// CSS URLs always use UTF-8.
	queryEncoding encoding.Encoding
}

type pendingLink struct {
	raw       string
	requisite bool
	tag       string
}

// encodeQuery rewrites the non-ASCII characters of raw's query in enc,
// percent-encoded; characters enc cannot represent become "&#N;" escapes,
// as browsers send them. The path is left alone (always UTF-8).
func encodeQuery(raw string, enc encoding.Encoding) string {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return raw
	}
	end := len(raw)
	if h := strings.IndexByte(raw[q:], '#'); h >= 0 {
		end = q + h
	}
	query := raw[q+1 : end]
	ascii := true
	for i := 0; i < len(query); i++ {
		if query[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return raw
	}
	var sb strings.Builder
	sb.WriteString(raw[:q+1])
	enc8 := enc.NewEncoder()
	for _, r := range query {
		if r < 0x80 {
			sb.WriteRune(r)
			continue
		}
		b, err := enc8.Bytes([]byte(string(r)))
		if err != nil || len(b) == 0 {
			fmt.Fprintf(&sb, "%%26%%23%d%%3B", r) // "&#N;", as browsers send it
			continue
		}
		for _, c := range b {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	sb.WriteString(raw[end:])
	return sb.String()
}

func newLinkCollector(base *whatwg.Url, cfg Config) *linkCollector {
	return &linkCollector{base: base, cfg: cfg}
}

// add queues one reference. What can never be a crawlable URL is dropped
// here, before any parsing: empty and fragment-only references (the page
// itself), and the schemes crawl never fetches.
func (c *linkCollector) add(raw string, requisite bool, tag string) {
	t := strings.Trim(raw, " \t\n\r\f")
	if t == "" || t[0] == '#' || len(t) > c.cfg.MaxURLBytes {
		return
	}
	if hasSchemeFold(t, "javascript:") || hasSchemeFold(t, "mailto:") ||
		hasSchemeFold(t, "tel:") || hasSchemeFold(t, "data:") {
		return
	}
	// Duplicates are common (a menu repeated in header and footer); the
	// bound on pending work is a few times the bound on distinct links.
	if len(c.pending) >= 4*c.cfg.MaxLinks {
		c.truncated = true
		return
	}
	if c.queryEncoding != nil && tag != "css" && tag != "@import" {
		t = encodeQuery(t, c.queryEncoding)
	}
	c.pending = append(c.pending, pendingLink{t, requisite, tag})
}

// resolve turns the queued references into normalised, deduplicated
// links. A URL that is both navigated to and required (an <a> around an
// <img> of the same file) is kept once as each, since the crawler treats
// the two differently.
func (c *linkCollector) resolve() {
	type key struct {
		url       string
		requisite bool
	}
	seen := make(map[key]bool, len(c.pending))
	// Menus repeat the same references; parse each distinct one once.
	type result struct {
		url string
		ok  bool
	}
	parsed := make(map[string]result, len(c.pending))
	plain := newPlainBase(c.base)
	for _, p := range c.pending {
		r, done := parsed[p.raw]
		if !done {
			u, err := plain.normalize(p.raw, c.base)
			r = result{u, err == nil}
			parsed[p.raw] = r
		}
		if !r.ok {
			continue
		}
		u := r.url
		k := key{u, p.requisite}
		if seen[k] {
			continue
		}
		if len(c.links) >= c.cfg.MaxLinks {
			c.truncated = true
			break
		}
		seen[k] = true
		c.links = append(c.links, Link{URL: u, Requisite: p.requisite, Tag: p.tag})
	}
	c.pending = nil
}

func hasSchemeFold(s, scheme string) bool {
	return len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme)
}

// srcsetURLs splits a srcset attribute into its URLs, following the HTML
// standard's algorithm: candidates are separated by commas, but a URL may
// itself contain commas, so a URL is everything up to whitespace (minus
// trailing commas) and its descriptors run to the next comma outside
// parentheses.
func srcsetURLs(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && (isHTMLSpace(s[i]) || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && !isHTMLSpace(s[i]) {
			i++
		}
		u := s[start:i]
		if strings.HasSuffix(u, ",") {
			out = append(out, strings.TrimRight(u, ","))
			continue
		}
		out = append(out, u)
		paren := false
		for i < len(s) {
			c := s[i]
			i++
			if c == '(' {
				paren = true
			} else if c == ')' {
				paren = false
			} else if c == ',' && !paren {
				break
			}
		}
	}
	return out
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// refreshURL extracts the URL of a <meta http-equiv=refresh> content value
// ("5; url=/next", "0;URL='x'", "0, x"), leniently like browsers.
func refreshURL(content string) string {
	s := strings.TrimLeft(content, " \t\n\r\f")
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	s = strings.TrimLeft(s[i:], " \t\n\r\f")
	if s == "" {
		return ""
	}
	if s[0] == ';' || s[0] == ',' {
		s = strings.TrimLeft(s[1:], " \t\n\r\f")
	}
	if len(s) >= 3 && strings.EqualFold(s[:3], "url") {
		t := strings.TrimLeft(s[3:], " \t\n\r\f")
		if strings.HasPrefix(t, "=") {
			s = strings.TrimLeft(t[1:], " \t\n\r\f")
		}
	}
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		q := s[0]
		s = s[1:]
		if j := strings.IndexByte(s, q); j >= 0 {
			s = s[:j]
		}
	}
	return strings.TrimSpace(s)
}

package replay

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"

	xhtml "golang.org/x/net/html"
)

// Rewriter rewrites the URLs of one replayed document so that they point
// into the archive at its capture's time.
type Rewriter struct {
	// Prefix is the replay path prefix, "/web/".
	Prefix string
	// Timestamp is the document's capture time (14 digits): the URLs it
	// refers to are replayed nearest that time.
	Timestamp string
	// Base is the document's URL (absolute http or https).
	Base *url.URL
	// Mod is the document's own modifier: links inside a frame stay in
	// frames (if_), links of a page are pages.
	Mod string
	// Banner is inserted right after the <body> tag (or at the end of a
	// document without one). It must be ASCII, so that it reads the same
	// in any charset. Nil for none.
	Banner []byte
}

// URL rewrites one URL reference found in the document (its bytes as they
// appear, entities and all) for use with modifier mod. What is rewritten
// keeps its bytes: a prefix makes it absolute inside the archive, and the
// browser resolves and encodes the rest exactly as it would have for the
// live page. References that are not http(s) (fragments, javascript:,
// data:, mailto:) come back unchanged.
func (rw *Rewriter) URL(raw []byte, mod string) []byte {
	return rw.url(raw, mod, rw.Base, true)
}

// url rewrites a reference; inAttr says it sits in an HTML attribute value
// (where what it adds must be escaped), not in CSS text.
func (rw *Rewriter) url(raw []byte, mod string, base *url.URL, inAttr bool) []byte {
	// Leading and trailing ASCII whitespace is not part of a URL.
	start, end := 0, len(raw)
	for start < end && isSpace(raw[start]) {
		start++
	}
	for end > start && isSpace(raw[end-1]) {
		end--
	}
	ref := raw[start:end]
	if len(ref) == 0 || ref[0] == '#' {
		return raw
	}
	// Classify on the decoded reference, rewrite the raw one.
	v := string(ref)
	if inAttr && bytes.IndexByte(ref, '&') >= 0 {
		v = html.UnescapeString(v)
		if len(v) > 0 && v[0] != ref[0] {
			// An escaped first character: resolve the whole thing.
			return rw.resolved(v, mod, base, inAttr)
		}
	}
	v = strings.TrimLeft(v, "\t\n\r ")
	if len(v) == 0 {
		return raw
	}
	if hasDotSegment(v) {
		// Dot segments must stop at the site's root, not climb into the
		// replay prefix: resolve them here.
		return rw.resolved(v, mod, base, inAttr)
	}
	var prefix string
	switch {
	case hasScheme(v):
		scheme := strings.ToLower(v[:strings.IndexByte(v, ':')])
		if scheme != "http" && scheme != "https" {
			return raw
		}
		after := v[len(scheme)+1:]
		if !strings.HasPrefix(after, "//") && !strings.HasPrefix(after, `\\`) {
			return rw.resolved(v, mod, base, inAttr) // "http:x", relative to the base
		}
		prefix = ""
	case strings.HasPrefix(v, "//") || strings.HasPrefix(v, `\\`) || strings.HasPrefix(v, `/\`) || strings.HasPrefix(v, `\/`):
		prefix = base.Scheme + ":"
	case v[0] == '/' || v[0] == '\\':
		prefix = origin(base)
	case v[0] == '?':
		prefix = origin(base) + base.EscapedPath()
	default:
		p := base.EscapedPath()
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[:i+1]
		} else {
			p = "/"
		}
		prefix = origin(base) + p
	}
	add := rw.Prefix + rw.Timestamp + mod + "/" + prefix
	if inAttr {
		add = html.EscapeString(add)
	}
	var out []byte
	out = append(out, raw[:start]...)
	out = append(out, add...)
	out = append(out, ref...)
	return append(out, raw[end:]...)
}

// resolved rewrites a reference (decoded) by resolving it fully with
// net/url, for the rare forms a prefix cannot express; the fragment is kept.
func (rw *Rewriter) resolved(v, mod string, base *url.URL, inAttr bool) []byte {
	esc := func(s string) []byte {
		if inAttr {
			s = html.EscapeString(s)
		}
		return []byte(s)
	}
	ref, err := url.Parse(strings.TrimSpace(strings.ReplaceAll(v, `\`, "/")))
	if err != nil {
		return esc(v)
	}
	abs := base.ResolveReference(ref)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return esc(v)
	}
	return esc(rw.Prefix + rw.Timestamp + mod + "/" + abs.String())
}

// hasDotSegment reports whether the path of a reference may hold "." or
// ".." segments (also percent-encoded), which browsers resolve.
func hasDotSegment(v string) bool {
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		v = v[:i]
	}
	return strings.Contains(v, "/.") || strings.Contains(v, `\.`) || strings.HasPrefix(v, ".") ||
		strings.Contains(strings.ToLower(v), "%2e")
}

// Location rewrites a redirect's Location header (relative to the
// document's URL). The target keeps the modifier of the redirect: an image
// that moved is still loaded as an image, raw bytes stay raw.
func (rw *Rewriter) Location(loc string) string {
	ref, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return loc
	}
	abs := rw.Base.ResolveReference(ref)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return loc
	}
	return rw.Prefix + rw.Timestamp + rw.Mod + "/" + abs.String()
}

// Refresh rewrites the URL of a Refresh header or <meta http-equiv=refresh>
// content ("5; url=http://a.kp/").
func (rw *Rewriter) Refresh(content []byte) []byte {
	return rw.refresh(content, rw.Base)
}

func (rw *Rewriter) refresh(content []byte, base *url.URL) []byte {
	m := reRefreshURL.FindSubmatchIndex(content)
	if m == nil {
		return content
	}
	s, e := m[2], m[3]
	if e > s && (content[s] == '"' || content[s] == '\'') {
		q := content[s]
		s++
		if i := bytes.IndexByte(content[s:], q); i >= 0 {
			e = s + i
		}
	}
	var out []byte
	out = append(out, content[:s]...)
	out = append(out, rw.url(content[s:e], rw.linkMod(), base, true)...)
	return append(out, content[e:]...)
}

// reRefreshURL finds the URL of a refresh value: after the delay and a
// separator, optionally "url=".
var reRefreshURL = regexp.MustCompile(`(?i)^\s*[0-9]*(?:\.[0-9]*)?(?:\s*[;,]\s*|\s+)(?:url\s*=\s*)?(\S.*?)\s*$`)

// linkMod is the modifier of links the document navigates to: pages stay
// pages, frames stay frames.
func (rw *Rewriter) linkMod() string {
	if rw.Mod == ModFrame {
		return ModFrame
	}
	return ModPage
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// hasScheme reports whether v starts with "scheme:".
func hasScheme(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// urlAttrs says, per tag, which attributes hold a URL and what it is
// loaded as. "" means a navigation (the document's link modifier).
var urlAttrs = map[string]map[string]string{
	"a":          {"href": ""},
	"area":       {"href": ""},
	"form":       {"action": ""},
	"button":     {"formaction": ""},
	"input":      {"formaction": "", "src": ModImage},
	"img":        {"src": ModImage, "lowsrc": ModImage, "data-src": ModImage},
	"image":      {"href": ModImage, "xlink:href": ModImage},
	"use":        {"href": ModImage, "xlink:href": ModImage},
	"video":      {"src": ModEmbed, "poster": ModImage},
	"audio":      {"src": ModEmbed},
	"source":     {"src": ModEmbed},
	"track":      {"src": ModEmbed},
	"embed":      {"src": ModEmbed},
	"object":     {"data": ModEmbed},
	"script":     {"src": ModJS},
	"iframe":     {"src": ModFrame},
	"frame":      {"src": ModFrame},
	"body":       {"background": ModImage},
	"table":      {"background": ModImage},
	"td":         {"background": ModImage},
	"th":         {"background": ModImage},
	"tr":         {"background": ModImage},
	"blockquote": {},
}

// HTML rewrites a document: the URLs of its tags (see urlAttrs; srcset,
// style attributes, <style> sheets and <meta http-equiv=refresh> too), a
// <base href>, integrity attributes (a rewritten resource would fail its
// hash: renamed _integrity, as pywb does), and the banner after <body>.
// Everything else is copied byte for byte.
func (rw *Rewriter) HTML(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(src)/8+len(rw.Banner))
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	base := rw.Base
	bannerDone := rw.Banner == nil
	inStyle := false
	var raw []byte
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			// A tag cut off by the end of the document is given as the
			// error's raw bytes: keep them.
			out = append(out, z.Raw()...)
			break
		}
		raw = append(raw[:0], z.Raw()...)
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			var tagOut []byte
			tagOut, base = rw.tag(raw, tag, base)
			out = append(out, tagOut...)
			inStyle = tag == "style" && tt == xhtml.StartTagToken
			if tag == "body" && !bannerDone {
				out = append(out, rw.Banner...)
				bannerDone = true
			}
		case xhtml.TextToken:
			if inStyle {
				out = append(out, rw.css(raw, base, false)...)
			} else {
				out = append(out, raw...)
			}
		default:
			inStyle = false
			out = append(out, raw...)
		}
	}
	if !bannerDone {
		out = append(out, rw.Banner...)
	}
	return out
}

// attr is one attribute of a raw start tag: the name (lowercased) and the
// span of its value in the tag's bytes (quotes excluded); no value gives
// an empty span at the name's end.
type attr struct {
	name       string
	nameStart  int
	valueStart int
	valueEnd   int
	hasValue   bool
}

// attrs splits a raw start tag (from '<' to '>') into attributes, as the
// HTML tokenizer does.
func attrs(tag []byte) []attr {
	var out []attr
	i := 1
	for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' {
		i++ // the tag name
	}
	for i < len(tag) {
		for i < len(tag) && (isSpace(tag[i]) || tag[i] == '/') {
			i++
		}
		if i >= len(tag) || tag[i] == '>' {
			break
		}
		ns := i
		i++ // a name may start with '='
		for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' && tag[i] != '=' {
			i++
		}
		a := attr{name: strings.ToLower(string(tag[ns:i])), nameStart: ns, valueStart: i, valueEnd: i}
		j := i
		for j < len(tag) && isSpace(tag[j]) {
			j++
		}
		if j < len(tag) && tag[j] == '=' {
			j++
			for j < len(tag) && isSpace(tag[j]) {
				j++
			}
			a.hasValue = true
			switch {
			case j < len(tag) && (tag[j] == '"' || tag[j] == '\''):
				q := tag[j]
				k := bytes.IndexByte(tag[j+1:], q)
				if k < 0 {
					k = len(tag) - j - 1
					if tag[len(tag)-1] == '>' {
						k--
					}
				}
				a.valueStart, a.valueEnd = j+1, j+1+k
				i = min(j+2+k, len(tag))
			default:
				k := j
				for k < len(tag) && !isSpace(tag[k]) && tag[k] != '>' {
					k++
				}
				a.valueStart, a.valueEnd = j, k
				i = k
			}
		}
		out = append(out, a)
	}
	return out
}

// tag rewrites one start tag; a <base href> also changes the base of the
// URLs that follow it.
func (rw *Rewriter) tag(raw []byte, tag string, base *url.URL) ([]byte, *url.URL) {
	known, isURLTag := urlAttrs[tag]
	as := attrs(raw)
	var (
		out  []byte
		last int
	)
	replace := func(s, e int, with []byte) {
		out = append(out, raw[last:s]...)
		out = append(out, with...)
		last = e
	}
	value := func(a attr) []byte { return raw[a.valueStart:a.valueEnd] }
	get := func(name string) string {
		for _, a := range as {
			if a.name == name && a.hasValue {
				return strings.ToLower(html.UnescapeString(string(value(a))))
			}
		}
		return ""
	}
	linkMod := rw.linkMod()
	newBase := base
	for _, a := range as {
		if !a.hasValue {
			continue
		}
		switch {
		case a.name == "style":
			replace(a.valueStart, a.valueEnd, rw.css(value(a), base, true))
		case a.name == "integrity" && (tag == "script" || tag == "link"):
			replace(a.nameStart, a.nameStart+len("integrity"), []byte("_integrity"))
		case a.name == "srcset" || (a.name == "data-srcset" && tag == "img") || (a.name == "imagesrcset" && tag == "link"):
			replace(a.valueStart, a.valueEnd, rw.srcset(value(a), base))
		case tag == "base" && a.name == "href":
			if ref, err := url.Parse(strings.TrimSpace(html.UnescapeString(string(value(a))))); err == nil {
				if abs := base.ResolveReference(ref); abs.Scheme == "http" || abs.Scheme == "https" {
					newBase = abs
				}
			}
			replace(a.valueStart, a.valueEnd, rw.url(value(a), linkMod, base, true))
		case tag == "link" && a.name == "href":
			replace(a.valueStart, a.valueEnd, rw.url(value(a), linkRelMod(get("rel"), get("as")), base, true))
		case tag == "meta" && a.name == "content" && get("http-equiv") == "refresh":
			replace(a.valueStart, a.valueEnd, rw.refresh(value(a), base))
		case isURLTag:
			mod, ok := known[a.name]
			if !ok {
				continue
			}
			if mod == "" {
				mod = linkMod
			}
			if tag == "input" && a.name == "src" && get("type") != "image" {
				continue
			}
			replace(a.valueStart, a.valueEnd, rw.url(value(a), mod, base, true))
		}
	}
	if out == nil {
		return raw, newBase
	}
	return append(out, raw[last:]...), newBase
}

// linkRelMod is what a <link> loads, by its rel (and as, for preloads).
func linkRelMod(rel, as string) string {
	for _, r := range strings.Fields(rel) {
		switch r {
		case "stylesheet":
			return ModCSS
		case "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "shortcut", "mask-icon":
			return ModImage
		case "preload", "prefetch", "modulepreload":
			switch as {
			case "style":
				return ModCSS
			case "script":
				return ModJS
			case "image", "font":
				return ModImage
			}
		case "alternate", "canonical", "next", "prev", "prerender":
			return ModPage
		}
	}
	return ModEmbed
}

// srcset rewrites each URL of a srcset value ("a.png 1x, b.png 2x"), as
// the HTML standard splits it: a candidate's URL runs to the next
// whitespace, and trailing commas end it.
func (rw *Rewriter) srcset(v []byte, base *url.URL) []byte {
	var out []byte
	i := 0
	for i < len(v) {
		s := i
		for i < len(v) && (isSpace(v[i]) || v[i] == ',') {
			i++
		}
		out = append(out, v[s:i]...)
		if i >= len(v) {
			break
		}
		us := i
		for i < len(v) && !isSpace(v[i]) {
			i++
		}
		ue := i
		for ue > us && v[ue-1] == ',' {
			ue--
		}
		out = append(out, rw.url(v[us:ue], ModImage, base, true)...)
		out = append(out, v[ue:i]...)
		if ue < i {
			continue // the URL ended with commas: no descriptors
		}
		// Descriptors run to the next comma outside parentheses. As in
		// the HTML standard's tokenizer (and page's srcsetURLs, which
		// finds the links a crawl follows), parentheses do not nest: the
		// first ')' closes them.
		s = i
		paren := false
		for i < len(v) && (v[i] != ',' || paren) {
			switch v[i] {
			case '(':
				paren = true
			case ')':
				paren = false
			}
			i++
		}
		out = append(out, v[s:i]...)
	}
	return out
}

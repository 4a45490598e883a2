package page

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	whatwg "github.com/nlnwa/whatwg-url/url"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Parse decodes an HTML document (see Decode; the host of base also feeds
// the Korean fallback) and returns its title, headlines, links, visible
// text and language. base is the document's URL; it may be nil, and then
// only absolute links are kept.
//
// The document is read with the streaming html.Tokenizer rather than
// html.Parse: it never builds a tree, so time and memory stay linear in
// the body even for 10 MB of nested tags, and it cannot fail on bad
// markup. What a tree would give (which element we are in) is tracked
// with a few counters, as documented on walker.
//
// A body that is not HTML (see IsHTML) gives ErrNotHTML.
func Parse(body []byte, contentType string, base *url.URL, opts ...Option) (*Page, error) {
	cfg := buildConfig(opts)
	if !IsHTML(contentType, body) {
		where := "document"
		if base != nil {
			where = base.String()
		}
		return nil, fmt.Errorf("parse %s (%q): %w", truncateForError(where), contentType, ErrNotHTML)
	}
	host := ""
	var docURL *whatwg.Url
	if base != nil {
		host = base.Hostname()
		docURL, _ = urlParser.Parse(base.String())
	}
	doc, enc, cs, _ := decode(body, contentType, host)

	w := &walker{
		cfg:   cfg,
		links: newLinkCollector(nil, cfg),
		text:  textBuf{max: cfg.MaxText},
	}
	if !strings.HasPrefix(cs, "utf-") && cs != "replacement" {
		w.links.queryEncoding = enc
	}
	// Visible text is usually a good part of the document: size the
	// buffer once instead of growing it through many copies.
	if !cfg.SkipText {
		w.text.b.Grow(min(len(doc)/2, cfg.MaxText))
	}
	w.run(doc)

	// The first <base href>, resolved against the document's URL, is the
	// base of every link.
	w.links.base = docURL
	if w.baseHref != "" {
		var b *whatwg.Url
		var err error
		if docURL != nil {
			b, err = docURL.Parse(w.baseHref)
		} else {
			b, err = urlParser.Parse(w.baseHref)
		}
		if err == nil && b != nil && (b.Scheme() == "http" || b.Scheme() == "https") {
			w.links.base = b
		}
	}
	w.links.resolve()

	p := &Page{
		Charset:   cs,
		Title:     w.title,
		Links:     w.links.links,
		Text:      w.text.String(),
		Truncated: w.links.truncated || w.text.full || w.headlinesCut,
		LinksCut:  w.links.truncated,
	}
	if w.title != "" {
		p.Headlines = append(p.Headlines, Headline{Tag: "title", Text: w.title})
	}
	p.Headlines = append(p.Headlines, w.headlines...)
	if len(p.Headlines) > cfg.MaxHeadlines {
		p.Headlines = p.Headlines[:cfg.MaxHeadlines]
		p.Truncated = true
	}
	if p.Links == nil {
		p.Links = []Link{}
	}
	p.Lang = primaryLanguage(w.htmlLang)
	if p.Lang == "" {
		p.Lang = primaryLanguage(w.metaLang)
	}
	if p.Lang == "" {
		p.Lang = primaryLanguage(cfg.ContentLanguage)
	}
	if p.Lang == "" {
		p.Lang = detectLanguage(p.Title, p.Text)
	}
	return p, nil
}

// region is an element whose content is treated apart (hidden, or
// navigation boilerplate) until its end tag. Only the outermost such
// element is tracked: everything inside it is already apart, so only
// nested elements of the same name matter, to find the right end tag.
type region struct {
	tag   string
	depth int
}

func (r *region) active() bool { return r.depth > 0 }

func (r *region) open(tag string) {
	if r.depth == 0 {
		r.tag = tag
	}
	if r.tag == tag {
		r.depth++
	}
}

func (r *region) close(tag string) {
	if r.depth > 0 && r.tag == tag {
		r.depth--
	}
}

// walker holds the state of one pass over a document.
//
// Which text is visible (Page.Text):
//   - never the content of script, style, noscript (read for links only),
//     template, svg, iframe fallback, or an element with the hidden
//     attribute (the "hidden" region);
//   - not navigation boilerplate marked as such (the "boiler" region): nav,
//     [role=navigation|banner|contentinfo|search], and header, footer and
//     aside when they are the page's own (header and footer not inside
//     article, section or main, where a header holds an article's heading;
//     aside not inside article or section, where it is a pull quote);
//   - title text is the Title, not body text.
//
// Headlines are taken everywhere except in the hidden region: a site's h1
// inside its page header is still its headline. Links are taken
// everywhere: the crawler needs navigation links most of all.
type walker struct {
	cfg   Config
	links *linkCollector
	text  textBuf

	title        string
	titleSeen    bool
	headlines    []Headline
	headlinesCut bool
	heading      string // open h1–h6, "" when none
	hbuf         textBuf

	baseHref, htmlLang, metaLang string
	baseSeen                     bool

	rawElem    string // the raw-text element whose content comes next
	hidden     region
	boiler     region
	sectioning int // open article and section elements
	mains      int // open main elements
	linksOnly  bool
}

func (w *walker) run(doc []byte) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			w.endHeading()
			return
		case html.TextToken:
			raw := w.rawElem
			w.rawElem = ""
			w.onText(raw, z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			w.rawElem = ""
			w.onStart(z, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			w.rawElem = ""
			w.onEnd(tagName(z, true))
		default: // comments, doctype
			w.rawElem = ""
		}
	}
}

func (w *walker) onText(raw string, b []byte) {
	switch raw {
	case "script", "noembed", "noframes", "iframe":
		return
	case "style":
		w.links.addCSS(b)
		return
	case "noscript":
		// Lazy-loading pages put the real <img> here; the browser with
		// scripting on never shows it, but the archive wants it.
		if !w.linksOnly {
			sub := &walker{cfg: w.cfg, links: w.links, linksOnly: true}
			sub.run(b)
		}
		return
	case "title":
		if !w.titleSeen && !w.hidden.active() && !w.linksOnly {
			w.titleSeen = true
			var t textBuf
			t.max = w.cfg.MaxHeadlineBytes
			t.write(b)
			w.title = t.String()
		}
		return
	}
	// Visible text (textarea, xmp and plaintext content included).
	if w.linksOnly || w.hidden.active() {
		return
	}
	if w.heading != "" {
		w.hbuf.write(b)
	}
	if !w.boiler.active() && !w.cfg.SkipText {
		w.text.write(b)
	}
}

// attrs holds the attributes of the current tag that Parse looks at.
type attrs []html.Attribute

func (a attrs) get(k string) (string, bool) {
	for _, x := range a {
		if x.Key == k {
			return x.Val, true
		}
	}
	return "", false
}

func (a attrs) val(k string) string { v, _ := a.get(k); return v }

var wantedAttr = map[string]bool{
	"href": true, "src": true, "srcset": true, "data-src": true, "data-srcset": true,
	"data-original": true, "data-lazy-src": true, "poster": true, "data": true,
	"background": true, "rel": true, "type": true, "http-equiv": true, "content": true,
	"lang": true, "hidden": true, "role": true, "style": true, "xlink:href": true,
	"imagesrcset": true,
}

// wantedAttrPrefixes start every name in wantedAttr: an attribute Parse
// reads begins with one of them, in any case.
var wantedAttrPrefixes = namePrefixes(wantedAttr)

// namePrefixes returns the names that no other name starts with
// (srcset and data-src go under src and data).
func namePrefixes(names map[string]bool) [][]byte {
	var out [][]byte
	// In sorted order a name follows every name it starts with, and all
	// the names in between start with that one too: the last kept is
	// the only one to compare with.
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if len(out) > 0 && bytes.HasPrefix([]byte(n), out[len(out)-1]) {
			continue
		}
		out = append(out, []byte(n))
	}
	return out
}

// mayHaveWantedAttr reports whether raw, a start tag's bytes, may hold an
// attribute of wantedAttr: x/net/html copies every attribute it returns,
// and most tags have none Parse reads. It looks where the tokenizer may
// start an attribute name (after white space, '/' or a quote; a value
// counts too, which only makes the filter looser) for a wanted prefix.
// (bytes.EqualFold also folds a few non-ASCII letters: looser still.)
func mayHaveWantedAttr(raw []byte) bool {
	for i := 1; i < len(raw); i++ {
		switch raw[i-1] {
		case ' ', '\t', '\n', '\r', '\f', '/', '"', '\'':
		default:
			continue
		}
		c := raw[i] | 0x20 // ASCII lowercase for letters
		for _, p := range wantedAttrPrefixes {
			if p[0] == c && len(raw)-i >= len(p) && bytes.EqualFold(raw[i:i+len(p)], p) {
				return true
			}
		}
	}
	return false
}

// tagName returns the lowercase name of the current start or end tag.
// x/net/html's TagName copies the name for every tag (to replace NUL
// bytes), and a page has thousands of tags: the name is read from the raw
// token instead, the way the tokenizer delimits it, and known names are
// the atom table's strings. A name with a NUL or a non-ASCII byte, or a
// long one, goes through TagName.
func tagName(z *html.Tokenizer, end bool) string {
	raw := z.Raw()
	skip := 1
	if end {
		skip = 2
	}
	var buf [32]byte
	n := 0
	for _, c := range raw[min(skip, len(raw)):] {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '/' || c == '>' {
			break
		}
		if c == 0 || c >= utf8.RuneSelf || n == len(buf) {
			name, _ := z.TagName()
			return string(name)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	if a := atom.Lookup(buf[:n]); a != 0 {
		return a.String()
	}
	return string(buf[:n])
}

func (w *walker) onStart(z *html.Tokenizer, selfClosing bool) {
	name := tagName(z, false)
	var a attrs
	if mayHaveWantedAttr(z.Raw()) {
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			if k != nil && wantedAttr[string(k)] {
				a = append(a, html.Attribute{Key: string(k), Val: string(v)})
			}
		}
	}
	switch name {
	case "script", "style", "noscript", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext":
		w.rawElem = name
	}
	w.collectLinks(name, a)
	if w.linksOnly {
		return
	}

	if !isInline(name) {
		w.text.space()
		if w.heading != "" {
			w.hbuf.space()
		}
	}
	switch name {
	case "html":
		if w.htmlLang == "" {
			w.htmlLang = a.val("lang")
		}
	case "base":
		if !w.baseSeen {
			if h, ok := a.get("href"); ok {
				w.baseSeen = true
				w.baseHref = h
			}
		}
	case "meta":
		if strings.EqualFold(strings.TrimSpace(a.val("http-equiv")), "content-language") && w.metaLang == "" {
			w.metaLang = a.val("content")
		}
	case "h1", "h2", "h3", "h4", "h5", "h6":
		// A heading start closes an open heading, as the HTML tree
		// builder does.
		w.endHeading()
		if !w.hidden.active() && !selfClosing {
			w.heading = name
			w.hbuf = textBuf{max: w.cfg.MaxHeadlineBytes}
		}
	}
	if selfClosing || voidElements[name] {
		return
	}
	// Regions: count nested same-name elements of an open region.
	if w.hidden.active() {
		w.hidden.open(name)
	} else if name == "svg" || name == "template" || hasAttr(a, "hidden") {
		w.hidden.open(name)
	}
	if w.boiler.active() {
		w.boiler.open(name)
	} else if isBoilerplate(name, a, w.sectioning, w.mains) {
		w.boiler.open(name)
	}
	switch name {
	case "article", "section":
		w.sectioning++
	case "main":
		w.mains++
	}
}

func (w *walker) onEnd(name string) {
	if w.linksOnly {
		return
	}
	if !isInline(name) {
		w.text.space()
		if w.heading != "" {
			w.hbuf.space()
		}
	}
	switch name {
	case "h1", "h2", "h3", "h4", "h5", "h6":
		w.endHeading()
	case "article", "section":
		if w.sectioning > 0 {
			w.sectioning--
		}
	case "main":
		if w.mains > 0 {
			w.mains--
		}
	}
	w.hidden.close(name)
	w.boiler.close(name)
}

func (w *walker) endHeading() {
	if w.heading == "" {
		return
	}
	if t := w.hbuf.String(); t != "" {
		if len(w.headlines) < w.cfg.MaxHeadlines {
			w.headlines = append(w.headlines, Headline{Tag: w.heading, Text: t})
		} else {
			w.headlinesCut = true
		}
	}
	w.heading = ""
	w.hbuf = textBuf{}
}

func hasAttr(a attrs, k string) bool { _, ok := a.get(k); return ok }

// isBoilerplate: see walker.
// header and footer are the page's banner and contentinfo unless inside
// article, section or main; aside is the page's complementary content
// unless inside article or section (ARIA's implicit roles).
func isBoilerplate(name string, a attrs, sectioning, mains int) bool {
	switch name {
	case "nav":
		return true
	case "header", "footer":
		if sectioning+mains == 0 {
			return true
		}
	case "aside":
		if sectioning == 0 {
			return true
		}
	}
	for _, role := range strings.Fields(strings.ToLower(a.val("role"))) {
		switch role {
		case "navigation", "banner", "contentinfo", "search":
			return true
		}
	}
	return false
}

// requisiteRels are link relations whose target the page needs (or will
// soon need) to render; preconnect and dns-prefetch name only an origin,
// and pingback/webmention are endpoints, not documents.
var requisiteRels = map[string]bool{
	"stylesheet": true, "icon": true, "apple-touch-icon": true,
	"apple-touch-icon-precomposed": true, "mask-icon": true, "preload": true,
	"modulepreload": true, "prefetch": true, "manifest": true, "fluid-icon": true,
}

var skippedRels = map[string]bool{
	"preconnect": true, "dns-prefetch": true, "pingback": true, "webmention": true,
}

// collectLinks queues the references of one start tag.
func (w *walker) collectLinks(name string, a attrs) {
	c := w.links
	addAttr := func(attr string, requisite bool) {
		if v, ok := a.get(attr); ok {
			c.add(v, requisite, name)
		}
	}
	addSrcset := func(attr string) {
		if v, ok := a.get(attr); ok {
			for _, u := range srcsetURLs(v) {
				c.add(u, true, name)
			}
		}
	}
	switch name {
	case "a", "area":
		addAttr("href", false)
		addAttr("xlink:href", false) // <a> inside SVG
	case "link":
		rels := strings.Fields(strings.ToLower(a.val("rel")))
		requisite, skip := false, false
		for _, r := range rels {
			requisite = requisite || requisiteRels[r]
			skip = skip || skippedRels[r]
		}
		if skip && !requisite {
			return
		}
		addAttr("href", requisite)
		addSrcset("imagesrcset")
	case "img", "image":
		addAttr("src", true)
		addSrcset("srcset")
		// Lazy loading: the real image often sits in a data attribute.
		addAttr("data-src", true)
		addAttr("data-original", true)
		addAttr("data-lazy-src", true)
		addSrcset("data-srcset")
		if name == "image" { // SVG <image>
			addAttr("href", true)
			addAttr("xlink:href", true)
		}
	case "source":
		addAttr("src", true)
		addSrcset("srcset")
		addSrcset("data-srcset")
	case "script", "iframe", "frame", "embed", "audio", "track":
		addAttr("src", true)
	case "video":
		addAttr("src", true)
		addAttr("poster", true)
	case "input":
		if strings.EqualFold(a.val("type"), "image") {
			addAttr("src", true)
		}
	case "object":
		addAttr("data", true)
	case "body", "table", "td", "th", "tr":
		// Old pages (common in Korean zones) paint with background="...".
		addAttr("background", true)
	case "use":
		addAttr("href", true)
		addAttr("xlink:href", true)
	case "meta":
		if strings.EqualFold(strings.TrimSpace(a.val("http-equiv")), "refresh") {
			if u := refreshURL(a.val("content")); u != "" {
				c.add(u, false, "refresh")
			}
		}
	}
	if v, ok := a.get("style"); ok && strings.Contains(strings.ToLower(v), "url(") {
		c.addCSS([]byte(v))
	}
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true,
	"track": true, "wbr": true, "param": true, "keygen": true, "frame": true, "image": true,
}

// inlineElements do not separate words: "<b>Seo</b>ul" is one word, while
// every other element ("<p>", "<td>", "<br>", "<li>") is a break.
var inlineElements = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "big": true,
	"cite": true, "code": true, "data": true, "del": true, "dfn": true, "em": true,
	"font": true, "i": true, "ins": true, "kbd": true, "label": true, "mark": true,
	"nobr": true, "q": true, "rb": true, "rp": true, "rt": true, "ruby": true,
	"s": true, "samp": true, "small": true, "span": true, "strike": true,
	"strong": true, "sub": true, "sup": true, "time": true, "tt": true, "u": true,
	"var": true, "wbr": true,
}

func isInline(name string) bool { return inlineElements[name] }

// textBuf accumulates text with runs of white space collapsed to one space,
// no leading or trailing space, and at most max bytes (cut on a rune
// boundary). A zero max means unbounded.
type textBuf struct {
	b            strings.Builder
	max          int
	pendingSpace bool
	full         bool
}

// space marks a word break (an element boundary) without writing it yet.
func (t *textBuf) space() {
	if t.b.Len() > 0 {
		t.pendingSpace = true
	}
}

// write adds p, collapsing white space and replacing each invalid UTF-8
// byte with U+FFFD. Runs of other characters are copied whole: this is most
// of a page's bytes, and one rune at a time cost a fifth of Parse.
func (t *textBuf) write(p []byte) {
	for i := 0; i < len(p) && !t.full; {
		j := i
		for j < len(p) {
			c := p[j]
			if c < utf8.RuneSelf {
				if asciiSpace[c] {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRune(p[j:])
			if (r == utf8.RuneError && n == 1) || unicode.IsSpace(r) {
				break
			}
			j += n
		}
		if j > i {
			t.put(p[i:j])
			i = j
			continue
		}
		if p[i] < utf8.RuneSelf {
			i++
			t.space()
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			t.put(replacementChar)
			continue
		}
		t.space() // a Unicode space (the run above stopped at it)
	}
}

// asciiSpace holds the ASCII bytes write takes for a word break: HTML's
// white space, vertical tab, and NUL.
var asciiSpace = [utf8.RuneSelf]bool{' ': true, '\t': true, '\n': true, '\r': true, '\f': true, '\v': true, 0: true}

// put adds run, valid UTF-8 without white space, after the pending space:
// whole when it fits under max, and otherwise the runes of it that fit,
// and then the buffer is full.
func (t *textBuf) put(run []byte) {
	need := len(run)
	if t.pendingSpace {
		need++
	}
	if t.max > 0 && t.b.Len()+need > t.max {
		t.full = true
		room := t.max - t.b.Len()
		if t.pendingSpace {
			room--
		}
		n := 0
		for n < len(run) {
			_, size := utf8.DecodeRune(run[n:])
			if n+size > room {
				break
			}
			n += size
		}
		if n == 0 {
			return
		}
		run = run[:n]
	}
	if t.pendingSpace {
		t.b.WriteByte(' ')
		t.pendingSpace = false
	}
	t.b.Write(run)
}

// replacementChar is what an invalid UTF-8 byte becomes.
var replacementChar = []byte("\uFFFD")

func (t *textBuf) String() string { return t.b.String() }

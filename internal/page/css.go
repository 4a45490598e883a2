package page

import (
	"bytes"
	"mime"
	"net/url"
	"regexp"
	"slices"

	whatwg "github.com/nlnwa/whatwg-url/url"
	"golang.org/x/net/html/charset"
)

// CSS references, found with two regular expressions rather than a full
// CSS tokenizer: Go's regexp is linear-time, so a hostile stylesheet
// cannot make this slow, and the two forms cover what browsers fetch
// (url() in any property, @font-face and image-set, and @import with or
// without url()). Comments are removed first so that commented-out rules
// do not produce fetches.
var (
	cssURL     = regexp.MustCompile(`(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^'")\s][^)\s]*))\s*\)`)
	cssImport  = regexp.MustCompile(`(?i)@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^'")\s;][^)\s;]*))`)
	cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	cssCharset = regexp.MustCompile(`^@charset "([^"]{1,40})";`)
)

// ParseCSS returns the URLs a stylesheet refers to, all requisites:
// @import (Tag "@import") and url() (Tag "css"), resolved against base (the
// stylesheet's own URL), normalised, deduplicated, in order. contentType
// may carry a charset; so may an @charset rule. Bad references are skipped.
func ParseCSS(css []byte, contentType string, base *url.URL) []Link {
	css = decodeCSS(css, contentType)
	var b *whatwg.Url
	if base != nil {
		b, _ = urlParser.Parse(base.String())
	}
	c := newLinkCollector(b, buildConfig(nil))
	c.addCSS(css)
	c.resolve()
	return c.links
}

// decodeCSS converts a stylesheet to UTF-8 (BOM, header, @charset, else
// UTF-8). URLs in CSS are nearly always ASCII, so a wrong guess costs little.
func decodeCSS(css []byte, contentType string) []byte {
	label := ""
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		label = params["charset"]
	}
	if label == "" {
		if m := cssCharset.FindSubmatch(css); m != nil {
			label = string(m[1])
		}
	}
	if bytes.HasPrefix(css, []byte("\xEF\xBB\xBF")) {
		return css[3:]
	}
	if label != "" {
		if e, name := charset.Lookup(label); e != nil && name != "utf-8" {
			if out, err := e.NewDecoder().Bytes(css); err == nil {
				return out
			}
		}
	}
	return css
}

// addCSS collects the references of one stylesheet (a file, a <style>
// element or a style attribute) in source order.
func (c *linkCollector) addCSS(css []byte) {
	css = cssComment.ReplaceAll(css, []byte(" "))
	type ref struct {
		at  int
		raw string
		tag string
	}
	var refs []ref
	for _, m := range cssImport.FindAllSubmatchIndex(css, -1) {
		refs = append(refs, ref{m[0], firstGroup(css, m), "@import"})
	}
	for _, m := range cssURL.FindAllSubmatchIndex(css, -1) {
		refs = append(refs, ref{m[0], firstGroup(css, m), "css"})
	}
	// Document order; an @import url(...) is found by both expressions and
	// the dedupe keeps the first, the @import.
	slices.SortStableFunc(refs, func(a, b ref) int { return a.at - b.at })
	for _, r := range refs {
		c.add(r.raw, true, r.tag)
	}
}

// firstGroup returns the first matched capture group of a submatch index.
func firstGroup(b []byte, m []int) string {
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] >= 0 {
			return string(b[m[i]:m[i+1]])
		}
	}
	return ""
}

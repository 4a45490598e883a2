package replay

import (
	"bytes"
	"html"
	"net/url"
)

// CSS rewrites a style sheet: the URLs of url() (images and fonts, im_)
// and of @import (style sheets, cs_). Everything else is copied byte for
// byte, so a sheet in any ASCII-compatible charset keeps its encoding.
func (rw *Rewriter) CSS(src []byte) []byte { return rw.css(src, rw.Base, false) }

// css rewrites CSS text; inAttr says it is the value of a style attribute
// (still HTML-escaped).
func (rw *Rewriter) css(src []byte, base *url.URL, inAttr bool) []byte {
	if inAttr && bytes.IndexByte(src, '&') >= 0 {
		// Quotes may be written as entities (&quot;): rewrite the
		// decoded text and escape it again.
		out := rw.css([]byte(html.UnescapeString(string(src))), base, false)
		return []byte(html.EscapeString(string(out)))
	}
	var out []byte
	last := 0
	emit := func(s, e int, mod string) {
		out = append(out, src[last:s]...)
		out = append(out, rw.url(src[s:e], mod, base, inAttr)...)
		last = e
	}
	for i := 0; i < len(src); {
		switch {
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 2
			}
		case (src[i] == 'u' || src[i] == 'U') && hasPrefixFold(src[i:], "url(") && (i == 0 || !isNameByte(src[i-1])):
			s, e, next := urlToken(src, i+4)
			if e > s {
				emit(s, e, ModImage)
			}
			i = next
		case src[i] == '@' && hasPrefixFold(src[i:], "@import"):
			j := i + len("@import")
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			switch {
			case j < len(src) && (src[j] == '"' || src[j] == '\''):
				s, e, next := stringToken(src, j)
				if e > s {
					emit(s, e, ModCSS)
				}
				i = next
			case hasPrefixFold(src[j:], "url("):
				s, e, next := urlToken(src, j+4)
				if e > s {
					emit(s, e, ModCSS)
				}
				i = next
			default:
				i = j
			}
		case src[i] == '"' || src[i] == '\'':
			_, _, i = stringToken(src, i) // a string that is not a URL
		default:
			i++
		}
	}
	if out == nil {
		return src
	}
	return append(out, src[last:]...)
}

// urlToken reads the inside of url( ... ) starting after "url(": the span
// of the URL (without quotes and spaces) and where scanning goes on.
func urlToken(src []byte, i int) (s, e, next int) {
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	if i < len(src) && (src[i] == '"' || src[i] == '\'') {
		s, e, next = stringToken(src, i)
		for next < len(src) && isSpace(src[next]) {
			next++
		}
		if next < len(src) && src[next] == ')' {
			next++
		}
		return s, e, next
	}
	s = i
	for i < len(src) && src[i] != ')' && !isSpace(src[i]) {
		if src[i] == '\\' {
			i++
		}
		i++
	}
	e = min(i, len(src))
	for i < len(src) && src[i] != ')' {
		i++
	}
	return s, e, min(i+1, len(src))
}

// stringToken reads a quoted CSS string at src[i]: the span inside the
// quotes and the position after the closing quote.
func stringToken(src []byte, i int) (s, e, next int) {
	q := src[i]
	s = i + 1
	j := s
	for j < len(src) && src[j] != q && src[j] != '\n' {
		if src[j] == '\\' {
			j++
		}
		j++
	}
	e = min(j, len(src))
	return s, e, min(j+1, len(src))
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && bytes.EqualFold(b[:len(p)], []byte(p))
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c >= 0x80
}

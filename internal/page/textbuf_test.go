package page

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceText is textBuf's contract written rune by rune: white space
// runs (HTML's, vertical tab, NUL, Unicode spaces) become one space, none
// leading or trailing; an invalid byte becomes U+FFFD; at most max bytes
// (0: no limit), cut before the rune that would pass it.
func referenceText(max int, parts ...[]byte) (string, bool) {
	var b strings.Builder
	pending, full := false, false
	put := func(s string) {
		need := len(s)
		if pending {
			need++
		}
		if max > 0 && b.Len()+need > max {
			full = true
			return
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		b.WriteString(s)
	}
	for _, p := range parts {
		for len(p) > 0 && !full {
			r, n := utf8.DecodeRune(p)
			seg := p[:n]
			p = p[n:]
			switch {
			case r == utf8.RuneError && n == 1:
				put("\uFFFD")
			case r == 0 || r == '\v' || unicode.IsSpace(r):
				if b.Len() > 0 {
					pending = true
				}
			default:
				put(string(seg))
			}
		}
	}
	return b.String(), full
}

func FuzzTextBuf(f *testing.F) {
	for _, s := range []string{"", " a  b ", "\x00x\vy\u00a0z\u3000w", "\xffab\xc3", "한국어 텍스트", "\u2028a"} {
		f.Add([]byte(s), []byte(" tail"), 0)
		f.Add([]byte(s), []byte("x"), 5)
	}
	f.Fuzz(func(t *testing.T, a, b []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		tb := textBuf{max: max}
		tb.write(a)
		tb.space() // an element boundary between the two writes
		tb.write(b)
		want, full := referenceText(max, a, []byte(" "), b)
		if got := tb.String(); got != want || tb.full != full {
			t.Errorf("write(%q, %q) max %d = %q (full %v), want %q (full %v)", a, b, max, got, tb.full, want, full)
		}
	})
}

package page

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"
)

// Decode converts an HTML body to UTF-8 and names the encoding it used.
//
// The encoding is chosen like a browser does (WHATWG "determining the
// character encoding"): a byte-order mark, then the charset of the
// Content-Type header, then a <meta charset> or <meta http-equiv> in the
// first 1024 bytes. Labels are those of the WHATWG table, so
// "ks_c_5601-1987", "windows-949" and "euc-kr" all mean EUC-KR (which in
// x/text covers Code Page 949/UHC). An unknown label (KPS9566, say) is
// ignored and the next source is tried.
//
// Without a declaration: a body that is valid UTF-8 is UTF-8; otherwise the
// Korean fallback (see koreanFallback) may pick EUC-KR; otherwise the web's
// default, windows-1252.
//
// The result is always valid UTF-8 (undecodable bytes become U+FFFD), an
// empty body gives an empty result and no error, and body is never modified
// nor aliased by the result.
func Decode(body []byte, contentType string) (utf8Body []byte, charsetName string, err error) {
	out, _, name, shared := decode(body, contentType, "")
	if len(out) == 0 {
		return []byte{}, name, nil
	}
	if shared { // the caller gets its own copy, never a window on body
		out = bytes.Clone(out)
	}
	return out, name, nil
}

// decode is Decode without the defensive copy: Parse only reads the result.
// host, when known, feeds the Korean fallback. It also returns the chosen
// encoding, which Parse needs for link queries. shared reports that the
// result is (part of) body itself.
func decode(body []byte, contentType, host string) (out []byte, enc encoding.Encoding, name string, shared bool) {
	enc, name = chooseEncoding(body, contentType, host)
	if name == "utf-8" {
		body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")) // a BOM is not content
		if utf8.Valid(body) {
			return body, enc, name, true
		}
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), enc, name, false
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil || !utf8.Valid(out) {
		// x/text decoders replace rather than fail; this is belt and braces
		// for the promise that the output is valid UTF-8.
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return out, enc, name, false
}

// chooseEncoding applies the policy documented on Decode.
func chooseEncoding(body []byte, contentType, host string) (encoding.Encoding, string) {
	switch {
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		return encoding.Nop, "utf-8"
	case bytes.HasPrefix(body, []byte("\xFE\xFF")):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be"
	case bytes.HasPrefix(body, []byte("\xFF\xFE")):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le"
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		if e, name := lookupCharset(params["charset"]); e != nil {
			return e, name
		}
	}
	if e, name := prescanMeta(body); e != nil {
		// A page that declares Latin-1 in a <meta> but is full of EUC-KR
		// Hangul is an old Korean page with a copied template: trust the
		// bytes. The header, by contrast, is trusted as a browser would.
		if name == "windows-1252" && looksEUCKR(body) {
			return korean.EUCKR, "euc-kr"
		}
		return e, name
	}
	if utf8.Valid(body) {
		return encoding.Nop, "utf-8"
	}
	if koreanFallback(body, host) {
		return korean.EUCKR, "euc-kr"
	}
	e, name := charset.Lookup("windows-1252")
	return e, name
}

// lookupCharset maps a label through the WHATWG table. UTF-16 labels in a
// document that is not UTF-16 (no BOM) mean UTF-8, as in browsers.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.TrimSpace(strings.Trim(strings.TrimSpace(label), `"'`))
	if label == "" {
		return nil, ""
	}
	e, name := charset.Lookup(label)
	if e == nil {
		return nil, ""
	}
	if strings.HasPrefix(name, "utf-16") || name == "utf-8" {
		return encoding.Nop, "utf-8"
	}
	return e, name
}

// prescanMeta finds <meta charset=...> or <meta http-equiv=content-type
// content="...; charset=..."> in the first 1024 bytes, as the WHATWG
// prescan does (x/net/html/charset does the same but does not say whether
// the answer came from a declaration or from its guess).
func prescanMeta(body []byte) (encoding.Encoding, string) {
	if len(body) > 1024 {
		body = body[:1024]
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil, ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var cs, httpEquiv, content string
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "charset":
					cs = string(v)
				case "http-equiv":
					httpEquiv = strings.ToLower(string(v))
				case "content":
					content = string(v)
				}
				if !more {
					break
				}
			}
			if cs != "" {
				if e, n := lookupCharset(cs); e != nil {
					return e, n
				}
			}
			if httpEquiv == "content-type" && content != "" {
				if e, n := lookupCharset(charsetFromContent(content)); e != nil {
					return e, n
				}
			}
		}
	}
}

// charsetFromContent extracts the charset parameter of a Content-Type value
// leniently (pages write "text/html; charset=euc-kr;" and worse).
func charsetFromContent(s string) string {
	i := strings.Index(strings.ToLower(s), "charset")
	if i < 0 {
		return ""
	}
	s = strings.TrimLeft(s[i+len("charset"):], " \t\r\n\f")
	if !strings.HasPrefix(s, "=") {
		return ""
	}
	s = strings.TrimLeft(s[1:], " \t\r\n\f")
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		if j := strings.IndexByte(s[1:], s[0]); j >= 0 {
			return s[1 : 1+j]
		}
		return ""
	}
	if j := strings.IndexAny(s, " \t\r\n\f;"); j >= 0 {
		s = s[:j]
	}
	return s
}

// koreanFallback decides whether an undeclared body that is not UTF-8 is
// EUC-KR rather than windows-1252: a browser in a Korean locale guesses
// EUC-KR, and crawl archives national zones where that is the norm.
//
//   - A host under .kr or .kp with undeclared non-UTF-8 bytes: EUC-KR
//     (there is no Go decoder for the DPRK's KPS 9566; EUC-KR gets its
//     Hangul right more often than windows-1252 gets anything right).
//   - Elsewhere, the bytes themselves decide (looksEUCKR).
func koreanFallback(body []byte, host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "kr" || h == "kp" || strings.HasSuffix(h, ".kr") || strings.HasSuffix(h, ".kp") {
		return true
	}
	return looksEUCKR(body)
}

// looksEUCKR reports whether body decodes as EUC-KR (CP949) without a
// single invalid sequence and mostly to Hangul syllables. Latin-1 text
// essentially never passes: its accented letters rarely pair into valid
// double-byte sequences, and never mostly into Hangul.
func looksEUCKR(body []byte) bool {
	const minHangul = 4
	// Decoding the whole body would cost as much as parsing it; 64 KiB of
	// evidence is plenty.
	sample := body
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
		// Do not cut a double-byte character in two.
		for i := len(sample) - 1; i >= 0 && sample[i] >= 0x80; i-- {
			sample = sample[:i]
		}
	}
	out, err := korean.EUCKR.NewDecoder().Bytes(sample)
	if err != nil {
		return false
	}
	hangul, other := 0, 0
	for _, r := range string(out) {
		switch {
		case r == utf8.RuneError:
			return false
		case r >= 0xAC00 && r <= 0xD7A3 || r >= 0x3131 && r <= 0x318E:
			hangul++
		case r >= 0x80:
			other++
		}
	}
	return hangul >= minHangul && hangul >= 2*other
}

// IsHTMLType reports whether a media type (lowercase, without parameters)
// is one crawl reads as HTML: text/html and application/xhtml+xml. The
// index, replay and WACZ pages list all ask it, so they agree.
func IsHTMLType(mediaType string) bool {
	return mediaType == "text/html" || mediaType == "application/xhtml+xml"
}

// IsHTML reports whether a response is an HTML document, sniffing when the
// header is missing or generic and refusing a body that is evidently binary
// even when the header says text/html (servers lie).
//
// With an HTML header, only a body whose first bytes match a binary
// signature of the WHATWG sniffing table (images, archives, PDF, media), or
// that holds control bytes and no HTML markup at its start, is refused: a
// browser would render it, but it is no page and its "text" would pollute
// the index. Without a usable header the body must sniff as HTML (text/plain
// is never sniffed, as in browsers: a .txt is not a page).
func IsHTML(contentType string, body []byte) bool {
	mt := ""
	if contentType != "" {
		if m, _, err := mime.ParseMediaType(contentType); err == nil {
			mt = m
		} else {
			// "text/html;;charset=..." and friends: keep the type part.
			mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
		}
	}
	start := head(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")), 1024)
	sniffed := http.DetectContentType(start)
	switch mt {
	case "text/html", "application/xhtml+xml":
		if strings.HasPrefix(sniffed, "text/") {
			return true
		}
		// Control bytes make the sniffer say application/octet-stream;
		// a page with a stray NUL still starts like a page.
		return sniffed == "application/octet-stream" && hasMarkup(start)
	case "", "application/octet-stream", "application/unknown", "unknown/unknown", "*/*":
		if strings.HasPrefix(sniffed, "text/html") {
			return true
		}
		// An XHTML page without a header: sniffing calls it text/xml.
		return strings.HasPrefix(sniffed, "text/xml") && hasMarkup(start)
	default:
		return false
	}
}

// hasMarkup: the start of a body holds an html, head or body tag or a
// doctype.
func hasMarkup(start []byte) bool {
	l := bytes.ToLower(start)
	for _, m := range []string{"<html", "<head", "<body", "<!doctype html"} {
		if bytes.Contains(l, []byte(m)) {
			return true
		}
	}
	return false
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

package page

import (
	"fmt"
	"net/url"
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// urlParser parses like a browser (WHATWG URL standard): it trims and strips
// TAB/CR/LF, turns '\' into '/' for http(s), lowercases scheme and host,
// IDNA-maps the host to punycode (UTS #46 non-transitional, the Lookup
// profile of golang.org/x/net/idna), drops the default port and resolves
// dot segments. A stray '%' becomes "%25" so that the result is always a URL
// net/url (and so the crawler's HTTP client) accepts. It holds only options,
// never state, so sharing it is safe.
//
// We use github.com/nlnwa/whatwg-url (colly's own URL parser) instead of
// net/url because net/url is an RFC 3986 parser: it rejects or keeps as-is
// much of what real pages contain and browsers fix (backslashes, spaces,
// Unicode hosts, "http:foo").
var urlParser = whatwg.NewParser(whatwg.WithPercentEncodeSinglePercentSign())

// Normalize turns a URL found in a page (absolute or relative to base) into
// the form crawl fetches and keys its seen set by: a WHATWG-parsed absolute
// http or https URL without fragment, with lowercase scheme and host,
// punycode host, no default port, dot segments resolved, empty path as "/",
// percent-encoding normalised (uppercase hex, unreserved characters
// decoded) and the query kept in its original order (an empty query "?" is
// dropped). base may be nil when rawURL is absolute.
//
// Other schemes give ErrSkippedScheme; unparseable input ErrInvalidURL.
func Normalize(rawURL string, base *url.URL) (string, error) {
	var b *whatwg.Url
	if base != nil {
		var err error
		if b, err = urlParser.Parse(base.String()); err != nil {
			return "", fmt.Errorf("normalize %q: base %q: %w", rawURL, base.String(), ErrInvalidURL)
		}
	}
	return normalizeRef(rawURL, b)
}

// normalizeRef is Normalize with the base already parsed, so that a page's
// links do not parse the base again each.
func normalizeRef(rawURL string, base *whatwg.Url) (string, error) {
	return newPlainBase(base).normalize(rawURL, base)
}

// normalize is normalizeRef with what plainRef needs of base worked out
// (b, from newPlainBase(base)).
func (b plainBase) normalize(rawURL string, base *whatwg.Url) (string, error) {
	if out, ok := b.resolve(rawURL); ok {
		return out, nil
	}
	return parseRef(rawURL, base)
}

// plainRef resolves, without the WHATWG parser, the links most pages are
// made of: a path, relative or from the root, of letters, digits and
// "-._~/" only, with no "." or ".." segment, and maybe a fragment. For those
// the WHATWG parser has nothing to decode, encode or resolve but the
// directory, so its answer is the base's origin, the directory and the path
// as written; it is half of a page's parse time, so it is skipped for them.
// FuzzPlainRef checks the two agree.
func plainRef(rawURL string, base *whatwg.Url) (string, bool) {
	return newPlainBase(base).resolve(rawURL)
}

// plainBase is what plainRef needs of a base, worked out once per page: the
// WHATWG URL's accessors build their strings at each call, and the check
// that net/url takes the result depends on the origin only (the path
// plainRef writes is of characters net/url always takes).
type plainBase struct {
	origin string // "scheme://host"; "" when plainRef never applies
	dir    string // the path through its last '/'; "" when relative paths go to the parser
}

func newPlainBase(base *whatwg.Url) plainBase {
	if base == nil {
		return plainBase{}
	}
	switch base.Scheme() {
	case "http", "https":
	default:
		return plainBase{}
	}
	if base.Username() != "" || base.Password() != "" || base.Hostname() == "" {
		return plainBase{}
	}
	origin := base.Scheme() + "://" + base.Host()
	// As parseRef: never hand the crawler what net/url rejects (a base
	// parsed leniently may have an odd host).
	if _, err := url.Parse(origin + "/"); err != nil {
		return plainBase{}
	}
	b := plainBase{origin: origin}
	dir := base.Pathname()
	// An opaque base path (no '/'), or one with escapes, is left to the
	// parser.
	if i := strings.LastIndexByte(dir, '/'); i >= 0 && strings.HasPrefix(dir, "/") && !strings.Contains(dir[:i+1], "%") {
		b.dir = dir[:i+1]
	}
	return b
}

// resolve is plainRef against this base.
func (b plainBase) resolve(rawURL string) (string, bool) {
	if b.origin == "" || rawURL == "" {
		return "", false
	}
	ref := rawURL
	if i := strings.IndexByte(ref, '#'); i >= 0 {
		ref = ref[:i]
	}
	if ref == "" || strings.HasPrefix(ref, "//") {
		return "", false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			return "", false
		}
	}
	for seg := range strings.SplitSeq(ref, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	if ref[0] == '/' {
		return b.origin + ref, true
	}
	if b.dir == "" {
		return "", false
	}
	return b.origin + b.dir + ref, true
}

// parseRef is normalizeRef through the WHATWG parser.
func parseRef(rawURL string, base *whatwg.Url) (string, error) {
	var (
		u   *whatwg.Url
		err error
	)
	if base != nil {
		u, err = base.Parse(rawURL)
	} else {
		u, err = urlParser.Parse(rawURL)
	}
	if err != nil || u == nil {
		return "", fmt.Errorf("normalize %q: %w", truncateForError(rawURL), ErrInvalidURL)
	}
	switch u.Scheme() {
	case "http", "https":
	default:
		return "", fmt.Errorf("normalize %q: %s: %w", truncateForError(rawURL), u.Scheme(), ErrSkippedScheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("normalize %q: no host: %w", truncateForError(rawURL), ErrInvalidURL)
	}
	var sb strings.Builder
	sb.WriteString(u.Scheme())
	sb.WriteString("://")
	if u.Username() != "" || u.Password() != "" {
		sb.WriteString(u.Username())
		if u.Password() != "" {
			sb.WriteString(":")
			sb.WriteString(u.Password())
		}
		sb.WriteString("@")
	}
	sb.WriteString(u.Host()) // host[:port], default port already dropped
	path := u.Pathname()
	if path == "" {
		path = "/"
	}
	sb.WriteString(normalizePercent(path))
	if q := u.Search(); q != "" { // "" also for a lone "?"
		sb.WriteString(normalizePercent(q))
	}
	out := sb.String()
	// The crawler fetches with net/url; never hand it something it rejects.
	if _, err := url.Parse(out); err != nil {
		return "", fmt.Errorf("normalize %q: %v: %w", truncateForError(rawURL), err, ErrInvalidURL)
	}
	return out, nil
}

// normalizePercent uppercases the hex digits of every %XX escape and decodes
// those that encode an unreserved character (RFC 3986 §6.2.2.2): both forms
// mean the same resource, so the seen set must not tell them apart.
func normalizePercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			sb.WriteByte(c)
			continue
		}
		v := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(v) {
			sb.WriteByte(v)
		} else {
			sb.WriteByte('%')
			sb.WriteByte(upperHex(s[i+1]))
			sb.WriteByte(upperHex(s[i+2]))
		}
		i += 2
	}
	return sb.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// truncateForError keeps error messages short when a page holds a huge URL.
func truncateForError(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

package warc

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// SURT returns the sort-friendly key of rawURL as the Internet Archive's
// `surt` package makes it with its defaults (what pywb and the Wayback
// Machine use as CDX keys): the Google canonicaliser (fragment dropped,
// percent-escapes normalised, host lowercased, IDNA, numeric IPs, dot
// segments) then the IA canonicaliser (www/wwwN stripped, user info and
// default ports dropped, path and query lowercased, session ids removed,
// trailing slash dropped, query arguments sorted), formatted without the
// scheme and without a trailing comma: "http://www.Example.org/a/?b&a" gives
// "org,example)/a?a&b". URIs that have no authority part (dns:, warcinfo:,
// urn:, mailto:, filedesc:) are returned unchanged, as surt does. An empty
// URL gives "-".
func SURT(rawURL string) (string, error) {
	u := strings.TrimSpace(rawURL)
	u = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, u)
	if u == "" {
		return "-", nil
	}
	if strings.HasPrefix(u, "filedesc") {
		return u, nil
	}
	if !reScheme.MatchString(u) {
		u = "http://" + u
	}
	u = reRepeatedHTTP.ReplaceAllString(u, "$1")
	colon := strings.IndexByte(u, ':')
	scheme := strings.ToLower(u[:colon])
	rest := u[colon+1:]
	if !strings.HasPrefix(rest, "//") && !strings.HasPrefix(scheme, "http") {
		// No authority: dns:, warcinfo:, mailto:, urn: keys are the URI itself.
		return u, nil
	}

	// Split like urlsplit: //authority path ?query #fragment.
	var authority, path, query string
	hasQuery := false
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query, hasQuery = rest[i+1:], true
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			authority, path = rest[:i], rest[i:]
		} else {
			authority = rest
		}
	} else {
		path = rest
	}
	if authority == "" && path != "" {
		// "http:////www.vikings.com": the host hides behind extra slashes.
		p := strings.TrimLeft(path, "/")
		if i := strings.IndexByte(p, '/'); i >= 0 {
			authority, path = p[:i], p[i:]
		} else {
			authority, path = p, "/"
		}
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:] // user info is dropped by the IA canonicaliser
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host, port = host[1:i], strings.TrimPrefix(host[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	portNum := 0
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return "", fmt.Errorf("surt %q: bad port %q", rawURL, port)
		}
		portNum = n
	}

	// Google canonicaliser.
	if hasQuery && query != "" {
		query = escapeOnce(unescapeRepeatedly(query))
	}
	host = unescapeRepeatedly(host)
	if !isASCII(host) {
		if a, err := idnaProfile.ToASCII(host); err == nil {
			host = a
		}
	}
	for strings.Contains(host, "..") {
		host = strings.ReplaceAll(host, "..", ".")
	}
	host = strings.Trim(host, ".")
	if ip, ok := numericIPv4(host); ok {
		host = ip
	} else {
		host = escapeOnce(strings.ToLower(host))
	}
	path = escapeOnce(normalizePath(unescapeRepeatedly(path)))

	// IA canonicaliser.
	host = strings.ToLower(host)
	if m := reWWW.FindString(host); m != "" {
		host = host[len(m):]
	}
	if (scheme == "http" && portNum == 80) || (scheme == "https" && portNum == 443) {
		portNum = 0
	}
	path = strings.ToLower(path)
	for _, re := range rePathSessionID {
		if m := re.FindStringSubmatch(path); m != nil {
			path = m[1] + m[3]
		}
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	if query != "" {
		for _, re := range reQuerySessionID {
			if m := re.FindStringSubmatch(query); m != nil {
				query = m[1] + m[2]
			}
		}
		query = alphaReorderQuery(strings.ToLower(query))
	}
	hasQuery = query != ""

	// SURT format, without scheme and trailing comma.
	labels := strings.Split(host, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	var b strings.Builder
	b.WriteString(strings.Join(labels, ","))
	if portNum != 0 {
		b.WriteString(":" + strconv.Itoa(portNum))
	}
	b.WriteByte(')')
	if path != "" {
		b.WriteString(path)
	} else if hasQuery {
		b.WriteByte('/')
	}
	if hasQuery {
		b.WriteString("?" + query)
	}
	return b.String(), nil
}

var (
	reScheme       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+\-.]*:`)
	reRepeatedHTTP = regexp.MustCompile(`^(https?://)+`)
	reWWW          = regexp.MustCompile(`^www\d*\.`)

	rePathSessionID = []*regexp.Regexp{
		regexp.MustCompile(`(?i)^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$`),
		regexp.MustCompile(`(?i)^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$`),
	}
	reQuerySessionID = []*regexp.Regexp{
		regexp.MustCompile(`(?i)^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$`),
		regexp.MustCompile(`(?i)^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$`),
		regexp.MustCompile(`(?i)^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$`),
		regexp.MustCompile(`(?i)^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$`),
		regexp.MustCompile(`(?i)^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$`),
	}

	// Python's "idna" codec (IDNA 2003, nameprep) maps like lookup with
	// transitional processing and allows any ASCII label.
	idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(true), idna.StrictDomainName(false))
)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// unescapeRepeatedly decodes %XX escapes until nothing changes ("%2525" -> "%").
func unescapeRepeatedly(s string) string {
	for {
		u := unescapeOnce(s)
		if u == s {
			return s
		}
		s = u
	}
}

func unescapeOnce(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// escapeOnce percent-escapes what Python's quote() escapes with surt's safe
// set: controls, space, '#', '%', and every byte >= 0x7f.
func escapeOnce(s string) string {
	const safe = "!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// normalizePath resolves "." and ".." segments and collapses empty ones,
// keeping a trailing slash, as the Google canonicaliser does.
func normalizePath(path string) string {
	if path == "" {
		return "/"
	}
	parts := strings.Split(path, "/")[1:]
	var kept []string
	for _, p := range parts {
		switch p {
		case ".":
		case "..":
			if len(kept) > 0 {
				kept = kept[:len(kept)-1]
			} else {
				kept = append(kept, p)
			}
		default:
			kept = append(kept, p)
		}
	}
	var b strings.Builder
	b.WriteByte('/')
	if n := len(kept); n > 0 {
		for _, p := range kept[:n-1] {
			if p != "" {
				b.WriteString(p + "/")
			}
		}
		b.WriteString(kept[n-1])
	}
	return b.String()
}

// numericIPv4 reads hosts the way inet_aton does (decimal, octal "017",
// hex "0x7f", 1 to 4 parts; a bare number is masked to 32 bits as surt
// does), without any lookup.
func numericIPv4(host string) (string, bool) {
	if host == "" {
		return "", false
	}
	allDigits := true
	for i := 0; i < len(host); i++ {
		if host[i] < '0' || host[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		n, err := strconv.ParseUint(host, 10, 64)
		if err != nil {
			return "", false
		}
		n &= 0xffffffff
		return fmt.Sprintf("%d.%d.%d.%d", n>>24, n>>16&0xff, n>>8&0xff, n&0xff), true
	}
	if !reDecimalIP.MatchString(host) && !reOctalIP.MatchString(host) {
		return "", false
	}
	parts := strings.Split(host, ".")
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32) // base prefix: 0 = octal, as inet_aton
		if err != nil {
			return "", false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 255 {
			return "", false
		}
		n |= vals[i] << (24 - 8*uint(i))
	}
	if vals[last] >= 1<<(8*uint(4-last)) {
		return "", false
	}
	n |= vals[last]
	return fmt.Sprintf("%d.%d.%d.%d", n>>24, n>>16&0xff, n>>8&0xff, n&0xff), true
}

var (
	reOctalIP   = regexp.MustCompile(`^(0[0-7]*)(\.[0-7]+)?(\.[0-7]+)?(\.[0-7]+)?$`)
	reDecimalIP = regexp.MustCompile(`^([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$`)
)

// alphaReorderQuery sorts query arguments by name then value, "a" before
// "a=" before "a=x", keeping each argument as written.
func alphaReorderQuery(q string) string {
	if len(q) <= 1 {
		return q
	}
	args := strings.Split(q, "&")
	type arg struct {
		name, value string
		hasValue    bool
	}
	as := make([]arg, len(args))
	for i, a := range args {
		n, v, ok := strings.Cut(a, "=")
		as[i] = arg{n, v, ok}
	}
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].name != as[j].name {
			return as[i].name < as[j].name
		}
		if as[i].hasValue != as[j].hasValue {
			return !as[i].hasValue
		}
		return as[i].value < as[j].value
	})
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(a.name)
		if a.hasValue {
			b.WriteString("=" + a.value)
		}
	}
	return b.String()
}

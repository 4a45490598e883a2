package replay

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"crawl/internal/page"
)

// Modifiers of a replay URL, as pywb names them: what the URL is loaded as.
const (
	ModPage   = ""    // a page in a window: rewritten, with the banner
	ModMain   = "mp_" // the same (pywb's name for a framed page's content)
	ModFrame  = "if_" // a page in a frame: rewritten, no banner
	ModImage  = "im_" // an image (or a font, from CSS)
	ModCSS    = "cs_" // a style sheet: rewritten as CSS whatever its type
	ModJS     = "js_" // a script: served as captured
	ModEmbed  = "oe_" // an object, embed, or other linked resource
	ModOrigin = "id_" // the original bytes and headers: nothing rewritten
)

// ErrBadTarget: the part of a replay URL after the prefix is not a
// timestamp and URL this package can serve.
var ErrBadTarget = errors.New("not a replay target")

// Target is a parsed replay URL: PREFIX TIMESTAMP MOD "/" URL.
type Target struct {
	// Timestamp is as written: 1 to 14 digits (padded by Time), or ""
	// for a TimeGate request (/web/URL: the capture the client's
	// Accept-Datetime, or the latest, asks for).
	Timestamp string
	// List is set for /web/*/URL and /web/2016*/URL: the captures of the
	// URL (within the timestamp's range), not one of them.
	List bool
	Mod  string // one of the Mod constants
	// URL is the archived URL, normalised as the crawler normalises the
	// URLs it fetches (page.Normalize), so that it is found as archived.
	URL string
	// Raw is the URL as the request gave it.
	Raw string
}

// ParsePath parses what follows the replay prefix ("/web/") in a request
// URI (path and query, still percent-encoded, as sent): "20160920123456/http://a.kp/x?q=1",
// "2016im_/a.kp/logo.png", "*/http://a.kp/", or "http://a.kp/" alone. A
// URL without scheme is taken as http; "http:/a.kp" (a slash lost by a path
// cleaner) as "http://a.kp".
func ParsePath(rest string) (Target, error) {
	var t Target
	if i := strings.IndexByte(rest, '/'); i > 0 {
		if ts, mod, list, ok := parseStamp(rest[:i]); ok {
			t.Timestamp, t.Mod, t.List = ts, mod, list
			rest = rest[i+1:]
		}
	}
	t.Raw = rest
	u := rest
	if low := strings.ToLower(u); strings.HasPrefix(low, "http:/") || strings.HasPrefix(low, "https:/") {
		scheme, after, _ := strings.Cut(u, ":")
		u = scheme + "://" + strings.TrimLeft(after, "/")
	} else if !reScheme.MatchString(u) {
		// "a.kp/x", "//a.kp/x", "a.kp:8080/x".
		u = "http://" + strings.TrimLeft(u, "/")
	}
	norm, err := page.Normalize(u, nil)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %q: %v", ErrBadTarget, rest, err)
	}
	t.URL = norm
	return t, nil
}

// parseStamp reads "TIMESTAMP[MOD]", "*", or "TIMESTAMP*".
func parseStamp(s string) (ts, mod string, list, ok bool) {
	if s == "*" {
		return "", "", true, true
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 || n > 14 {
		return "", "", false, false
	}
	ts, rest := s[:n], s[n:]
	switch {
	case rest == "":
		return ts, "", false, true
	case rest == "*":
		return ts, "", true, true
	}
	switch rest {
	case ModMain, ModFrame, ModImage, ModCSS, ModJS, ModEmbed, ModOrigin:
		return ts, rest, false, true
	}
	// Other two-letter modifiers of pywb (fr_, fw_, bn_...): serve as a
	// plain page.
	if len(rest) == 3 && rest[2] == '_' && isLower(rest[0]) && isLower(rest[1]) {
		return ts, "", false, true
	}
	return "", "", false, false
}

// reScheme matches a URL that names another scheme ("ftp://", "mailto:x"),
// not a host and port ("a.kp:8080").
var reScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:(//|[^0-9])`)

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// TimestampLayout formats a time as the 14-digit timestamp of replay URLs
// and CDX lines.
const TimestampLayout = "20060102150405"

// Timestamp is t as 14 digits, UTC.
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// Time is the moment a timestamp of 1 to 14 digits names, padded down as
// pywb does ("2016" is 2016-01-01 00:00:00 UTC). Out-of-range fields are
// clamped, so any run of digits names some moment.
func Time(ts string) (time.Time, error) {
	if ts == "" || len(ts) > 14 || strings.Trim(ts, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%w: timestamp %q", ErrBadTarget, ts)
	}
	full := ts + "10000101000000"[len(ts):]
	num := func(a, b, lo, hi int) int {
		v := 0
		for _, c := range full[a:b] {
			v = v*10 + int(c-'0')
		}
		return min(max(v, lo), hi)
	}
	year := num(0, 4, 1, 9999)
	month := num(4, 6, 1, 12)
	day := num(6, 8, 1, 31)
	hour, minute, sec := num(8, 10, 0, 23), num(10, 12, 0, 59), num(12, 14, 0, 59)
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Month() != time.Month(month) { // 31 February: the month's last day
		t = time.Date(year, time.Month(month)+1, 0, hour, minute, sec, 0, time.UTC)
	}
	return t, nil
}

// Path builds a replay path: prefix + timestamp + mod + "/" + url.
func Path(prefix, ts, mod, url string) string {
	return prefix + ts + mod + "/" + url
}

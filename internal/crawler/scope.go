package crawler

import (
	"net/url"
	"strings"
)

// scope decides which hosts a site's crawl may touch: its own hosts for
// pages, any host of the crawled zones for page requisites, and whatever
// Config.Scope adds for both.
type scope struct {
	site  map[string]bool // the site's own web hosts
	zone  map[string]bool // every host of every site in this run
	extra []string        // Config.Scope: hosts or domains, lowercase, no trailing dot
}

func hostOf(u *url.URL) string { return hostName(u.Hostname()) }

// hostName is the form hosts are compared in: lowercase, no trailing dot.
func hostName(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// inDomains reports whether host is one of domains or below one of them;
// both are in hostName form.
func inDomains(host string, domains []string) bool {
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// allows reports whether a URL may be fetched by this site as a page
// (requisite false) or as a page requisite.
func (s *scope) allows(u *url.URL, requisite bool) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h := hostOf(u)
	if h == "" {
		return false
	}
	if s.site[h] || inDomains(h, s.extra) {
		return true
	}
	return requisite && s.zone[h]
}

// reasonURLTooLong is trapReason's answer for a URL over the length limit.
const reasonURLTooLong = "url too long"

// trapReason says why a URL looks like a crawler trap, or "" if it does not.
// The rules are cheap, need no history, and hold for any site: too long, or a
// path segment repeated over and over (/a/b/a/b/a/b, a relative-link loop).
// The third rule, too many query variants of one path, needs counts and is
// applied in the state (variantKey).
func trapReason(u *url.URL, raw string, maxLen, maxRepeat int) string {
	if maxLen > 0 && len(raw) > maxLen {
		return reasonURLTooLong
	}
	if maxRepeat > 0 {
		counts := map[string]int{}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if seg == "" {
				continue
			}
			counts[seg]++
			if counts[seg] > maxRepeat {
				return "repeated path segment"
			}
		}
	}
	return ""
}

// variantKey names the path whose distinct query strings are counted, or ""
// for a URL without a query (those are never limited by this rule).
func variantKey(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "q\x00" + hostOf(u) + u.EscapedPath()
}

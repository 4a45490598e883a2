package replay

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/warc"
)

// Index is what replay asks of the archive's index; *index.Reader has it.
type Index interface {
	URLCaptures(ctx context.Context, rawURL string) ([]index.CaptureRow, error)
	ScanCaptures(ctx context.Context, host string, subdomains bool, fn func(index.CaptureRow) error) error
}

// Archive finds and reads captures: the index says where a capture is, the
// WARC files under Layout hold it.
type Archive struct {
	Layout archive.Layout
	Index  Index
}

// Captures returns the captures of rawURL (normalised as ParsePath does),
// oldest first. When the URL as written has none, it returns those of the
// URLs that are the same page by pywb's rule, the SURT key: http or https,
// with or without www, the default port, a trailing slash, the case of the
// path, the order of the query's arguments, session ids.
func (a *Archive) Captures(ctx context.Context, rawURL string) ([]index.CaptureRow, error) {
	caps, err := a.Index.URLCaptures(ctx, rawURL)
	if err != nil || len(caps) > 0 {
		return caps, err
	}
	key, err := warc.SURT(rawURL)
	if err != nil {
		return nil, nil
	}
	err = a.scanKey(ctx, rawURL, func(c index.CaptureRow, k string) error {
		if k == key {
			caps = append(caps, c)
		}
		return nil
	})
	slices.SortStableFunc(caps, func(x, y index.CaptureRow) int { return x.Time.Compare(y.Time) })
	return caps, err
}

// scanKey scans the captures of the hosts that share rawURL's SURT host
// (the host, www.host, or host without www) and calls fn with each and its
// SURT key.
func (a *Archive) scanKey(ctx context.Context, rawURL string, fn func(index.CaptureRow, string) error) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	for _, h := range sameSiteHosts(index.NormalizeHost(u.Hostname())) {
		if err := a.scanSURT(ctx, h, false, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanSURT scans the captures of host (with subdomains, of the hosts below
// it too) and calls fn with each and its SURT key; a capture whose URL has
// no key is passed over.
func (a *Archive) scanSURT(ctx context.Context, host string, subdomains bool, fn func(index.CaptureRow, string) error) error {
	return a.Index.ScanCaptures(ctx, host, subdomains, func(c index.CaptureRow) error {
		k, err := warc.SURT(c.URL)
		if err != nil {
			return nil
		}
		return fn(c, k)
	})
}

// sameSiteHosts are the hosts whose URLs SURT may key like host's: SURT
// drops a leading "www." (or "www2.").
func sameSiteHosts(host string) []string {
	bare := host
	if m := reWWW.FindString(host); m != "" && m != host {
		bare = host[len(m):]
	}
	hosts := []string{bare, "www." + bare}
	if host != bare && host != "www."+bare {
		hosts = append(hosts, host)
	}
	return hosts
}

// Nearest returns the index in caps (oldest first) of the capture nearest
// t; of two equally near, the earlier. It returns -1 for no captures.
func Nearest(caps []index.CaptureRow, t time.Time) int {
	best := -1
	var bestDist time.Duration
	for i, c := range caps {
		d := absDur(c.Time.Sub(t))
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

// ByDistance orders the indexes of caps from nearest t to farthest, for
// falling back to the next capture when one cannot be read (as pywb does).
func ByDistance(caps []index.CaptureRow, t time.Time) []int {
	order := make([]int, len(caps))
	for i := range order {
		order[i] = i
	}
	dist := func(i int) time.Duration { return absDur(caps[i].Time.Sub(t)) }
	slices.SortStableFunc(order, func(i, j int) int {
		if c := dist(i) - dist(j); c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return i - j
	})
	return order
}

// absDur is how far apart two moments are, whichever comes first.
func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// reWWW is the prefix SURT drops from a host.
var reWWW = regexp.MustCompile(`^www\d*\.`)

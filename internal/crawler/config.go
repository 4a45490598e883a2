package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// Version names the crawler in the default User-Agent.
const Version = "0.1.0"

// Recorder is where captures go: *warc.Writer implements it. WriteExchange
// must be safe for concurrent use. Its metadata records (fetch errors,
// notes, host outcomes) are written with package archive's helpers.
type Recorder interface {
	WriteExchange(ex warc.Exchange) (warc.ExchangeResult, error)
	archive.MetadataWriter
}

// Config holds every knob of a crawl. DefaultConfig gives each limit its
// default; New rejects values that make no sense.
type Config struct {
	// StateDir holds the crawler's bbolt state (archive.Layout.StateDir()).
	// Ignored when State is set.
	StateDir string
	// State, when set, is used instead of opening StateDir; the caller opened
	// it first (to move an older crawl's payload digests to the WARC
	// writer's store, State.MovePayloads), and closes it.
	State *State
	// Writer receives every capture and metadata record (a *warc.Writer).
	Writer Recorder

	Delay         time.Duration // between requests to one host (start of the next after the end of the previous)
	HostParallel  int           // requests in flight per host
	HostsAtOnce   int           // sites crawled side by side (each site's hosts progress together)
	CrawlDelayCap time.Duration // robots.txt Crawl-delay is honoured up to this
	RetryAfterCap time.Duration // 429/503 Retry-After is honoured up to this
	MaxRetries    int           // 429/503 retries of one URL
	HostMaxErrors int           // consecutive failed fetches before a host is set aside
	// PerAddressParallel is how many requests are in flight per server
	// address, across all the hosts that resolve to it (0: HostParallel):
	// many hosts of a zone may share one small server, which should see no
	// more than one host would. Delay holds per address as well.
	PerAddressParallel int

	MaxPages         int           // captures per site (robots.txt not counted)
	MaxDepth         int           // link hops from a seed (requisites and redirects add none)
	MaxBody          int64         // response body bytes kept; a longer body is cut and marked truncated
	Timeout          time.Duration // one request, from dial to the last body byte
	SiteTimeout      time.Duration // one site's whole crawl
	MaxRedirects     int           // hops of one redirect chain
	MaxURLLength     int           // longer URLs are not queued
	MaxSegmentRepeat int           // a path segment repeated more often than this marks a trap
	MaxQueryVariants int           // distinct query strings per path (the endless calendar ends here)

	// Parse are the limits of the page parse: Parse.MaxBody decoded bytes
	// of a body are read (gzip bombs stop here), Parse.Config bounds what
	// is kept (Parse.Config.MaxLinks: the links taken from one page). The
	// parse travels with the response to the WARC writer's Observer
	// (warc.Exchange.Parsed), so the index, opened with the same Limits,
	// takes it instead of parsing the page again.
	Parse page.Limits

	IgnoreRobots bool     // robots.txt is still fetched and archived, but neither its rules nor its Crawl-delay apply
	UserAgent    string   // default "crawl/VERSION (+CONTACT)"
	Contact      string   // URL or address for site operators
	ConnectTo    []string // HOST:PORT=ADDR:PORT overrides, like curl --connect-to
	Scope        []string // extra hosts or domains (and their subdomains) that may be crawled
	// AllowAddresses opens special-purpose address ranges (loopback,
	// RFC 1918, link-local, ...: see netguard) to the crawl. Without them
	// every connection to such an address is refused, whatever named it
	// (zone data, ConnectTo, a seed URL, a redirect); the refusal is the
	// URL's fetch error and sets its host aside. Tests and the demo, whose
	// servers are on loopback, pass 127.0.0.0/8.
	AllowAddresses []netip.Prefix

	// Recrawl takes a new snapshot of sites already finished (done, partial
	// by a limit, failed): their frontier and seen set are reset, robots.txt
	// is asked again and the seeds are queued again. Payload digests are
	// kept, so unchanged payloads become revisit records. A site still in
	// progress (an interrupted run) is resumed, not reset; to finish an
	// interrupted recrawl, run again without Recrawl.
	Recrawl bool

	// Archived, if set, finds a capture of url that the archive already
	// holds from this snapshot (made at or after since): the raw HTTP
	// response (the record block, perhaps cut) and its WARC-Record-ID.
	// A kill -9 between writing a capture and committing it to the state
	// leaves the URL in the frontier; on resume, the URLs that can have
	// been in flight then are looked up first, and one found is not
	// fetched again: its links are read from the record.
	// (*index.Index).ArchivedSince is one.
	Archived func(ctx context.Context, url string, since time.Time) (response []byte, recordID string, ok bool, err error)

	Logger             *slog.Logger
	Progress           io.Writer // status output; nil: none
	ProgressIsTerminal bool      // redraw one status line (~2x/s) instead of periodic log lines
	ProgressInterval   time.Duration
	StopGrace          time.Duration // after cancellation, in-flight fetches get this long before they are aborted
}

// DefaultConfig returns the defaults: polite to site operators, bounded in
// every dimension.
func DefaultConfig() Config {
	return Config{
		Delay:            time.Second,
		HostParallel:     1,
		HostsAtOnce:      16,
		CrawlDelayCap:    30 * time.Second,
		RetryAfterCap:    2 * time.Minute,
		MaxRetries:       3,
		HostMaxErrors:    5,
		MaxPages:         10000,
		MaxDepth:         50,
		MaxBody:          64 << 20,
		Parse:            page.DefaultLimits(),
		Timeout:          60 * time.Second,
		SiteTimeout:      6 * time.Hour,
		MaxRedirects:     10,
		MaxURLLength:     2048,
		MaxSegmentRepeat: 3,
		MaxQueryVariants: 100,
		Contact:          "",
		ProgressInterval: 10 * time.Second,
		StopGrace:        10 * time.Second,
	}
}

// ErrConfig marks a configuration New refuses.
var ErrConfig = errors.New("crawler: bad config")

func (cfg *Config) check() error {
	var bad []string
	if cfg.Writer == nil {
		bad = append(bad, "no Writer")
	}
	if cfg.State == nil && cfg.StateDir == "" {
		bad = append(bad, "no StateDir")
	}
	for name, v := range map[string]int{"HostParallel": cfg.HostParallel, "HostsAtOnce": cfg.HostsAtOnce} {
		if v < 1 {
			bad = append(bad, fmt.Sprintf("%s %d < 1", name, v))
		}
	}
	for name, v := range map[string]int{"PerAddressParallel": cfg.PerAddressParallel, "MaxPages": cfg.MaxPages, "MaxDepth": cfg.MaxDepth, "MaxRedirects": cfg.MaxRedirects,
		"MaxURLLength": cfg.MaxURLLength, "MaxRetries": cfg.MaxRetries, "HostMaxErrors": cfg.HostMaxErrors,
		"MaxSegmentRepeat": cfg.MaxSegmentRepeat, "MaxQueryVariants": cfg.MaxQueryVariants} {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s %d < 0", name, v))
		}
	}
	for name, v := range map[string]time.Duration{"Delay": cfg.Delay, "Timeout": cfg.Timeout, "SiteTimeout": cfg.SiteTimeout,
		"StopGrace": cfg.StopGrace, "CrawlDelayCap": cfg.CrawlDelayCap, "RetryAfterCap": cfg.RetryAfterCap} {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s %v < 0", name, v))
		}
	}
	if cfg.MaxBody < 0 || cfg.Parse.MaxBody < 0 || cfg.Parse.Config.MaxLinks < 0 {
		bad = append(bad, "negative MaxBody, Parse.MaxBody or Parse.Config.MaxLinks")
	}
	for _, ct := range cfg.ConnectTo {
		if _, _, err := parseConnectTo(ct); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(bad, "; "))
	}
	return nil
}

// userAgent is the configured User-Agent or the default naming tool and contact.
func (cfg *Config) userAgent() string {
	if cfg.UserAgent != "" {
		return cfg.UserAgent
	}
	if cfg.Contact != "" {
		return "crawl/" + Version + " (+" + cfg.Contact + ")"
	}
	return "crawl/" + Version
}

// Reaches reports whether the crawler has a way to a host that discovery
// gave no address: a ConnectTo override, or a Scope domain (whose hosts
// the system resolver finds).
func (cfg *Config) Reaches(host string) bool {
	host = hostName(host)
	for _, ct := range cfg.ConnectTo {
		from, _, err := parseConnectTo(ct)
		if err != nil {
			continue
		}
		if h, _, err := net.SplitHostPort(from); err == nil && hostName(h) == host {
			return true
		}
	}
	var domains []string
	for _, d := range cfg.Scope {
		domains = append(domains, hostName(d))
	}
	return inDomains(host, domains)
}

// parseConnectTo splits "HOST:PORT=ADDR:PORT".
func parseConnectTo(s string) (from, to string, err error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" || !strings.Contains(from, ":") || !strings.Contains(to, ":") {
		return "", "", fmt.Errorf("connect-to %q: want HOST:PORT=ADDR:PORT", s)
	}
	return strings.ToLower(from), to, nil
}

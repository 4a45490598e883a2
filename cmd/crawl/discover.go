package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"crawl/internal/archive"
	"crawl/internal/discover"
)

func discoverCommand() *command {
	return &command{
		name:    "discover",
		args:    "ZONE...",
		summary: "transfer zones (or read zone files) and list every host they name",
		detail: `Looks up each ZONE's nameservers (or asks the --ns servers), transfers the zone
over TCP (AXFR), and walks down its delegations: a child that refuses the transfer
(most do; that is normal) is asked directly for the addresses of its apex and of
each --labels name. Zone files are read with --zone-file: RFC 1035 master files,
saved 'dig AXFR' output, or saved 'dig' answers (e.g. 'dig ANY' for many names);
a zone a file holds is not transferred again. Reverse zones (in-addr.arpa) are
never sites: their PTR records give addresses to the host names they point at,
when those are under a zone being discovered. --offline touches no network at
all: the files are the answer. The hosts, the transfer attempts and every DNS
answer are written into the archive, so 'crawl crawl' and 'crawl hosts' use them.
The summary on stderr counts records dropped, by reason, and the problems that
need your attention (logged as WARN); with --json it is one JSON object. Exit
status 1 when nothing was found, or when a zone file is missing, unreadable or no
zone file at all.`,
		run: runDiscover,
	}
}

// discoverFlags are the flags of discovery shared by discover and run.
type discoverFlags struct {
	ns        stringList
	zoneFiles stringList
	labels    string
	cfg       discover.Config
}

func (e *env) discoverFlags() *discoverFlags {
	f := &discoverFlags{}
	e.fs.Var(&f.ns, "ns", "nameserver `ADDR[:PORT]` to ask for the zones named (repeatable); default: the zone's NS set")
	e.fs.Var(&f.zoneFiles, "zone-file", "read a zone from `FILE` (repeatable; - for stdin)")
	e.fs.StringVar(&f.labels, "labels", "www", "comma-separated `names` probed below a domain that refuses transfers")
	e.fs.IntVar(&f.cfg.Port, "dns-port", 53, "`port` of nameservers found by delegation")
	e.fs.IntVar(&f.cfg.Depth, "depth", 3, "delegation `levels` followed below each zone")
	e.fs.IntVar(&f.cfg.MaxZones, "max-zones", 10000, "zones visited at most in one run")
	e.fs.IntVar(&f.cfg.MaxRecords, "max-records", 5_000_000, "records accepted at most from one transfer or zone file")
	e.fs.IntVar(&f.cfg.MaxBadLines, "max-bad-lines", 20, "a zone file with this many bad lines before as many records is not a zone file; past it, bad lines are only counted")
	e.fs.IntVar(&f.cfg.Concurrency, "dns-concurrency", 16, "zones worked on at once")
	e.fs.DurationVar(&f.cfg.Timeout, "dns-timeout", 5*time.Second, "timeout of one DNS query (and of each message of a transfer)")
	e.fs.DurationVar(&f.cfg.TransferTimeout, "transfer-timeout", 10*time.Minute, "cap on one whole zone transfer")
	e.fs.BoolVar(&f.cfg.Offline, "offline", false, "with --zone-file: touch no network (no transfer, no query, no resolver); the files are the answer")
	return f
}

// check rejects what can be known wrong before any work: --offline with
// nothing to read, and zone files that cannot be read.
func (f *discoverFlags) check(e *env, zones []string) error {
	if len(zones) == 0 && len(f.zoneFiles) == 0 {
		return usagef(e.cmd, "name a ZONE or give --zone-file")
	}
	if f.cfg.Offline && len(f.zoneFiles) == 0 {
		return usagef(e.cmd, "--offline reads zones from --zone-file only: give one")
	}
	return discover.CheckZoneFiles(f.zoneFiles...)
}

// discovery is the outcome of one discover step.
type discovery struct {
	web     []discover.Host // the web hosts, to crawl; other roles are only streamed
	summary discover.Summary
}

// runDiscovery discovers hosts and writes all evidence into the session.
// Each host goes to onHost (when set) as it is found, so that a zone of a
// million names is never held whole; only the web hosts are kept.
func runDiscovery(ctx context.Context, e *env, s *session, f *discoverFlags, zones []string, onHost func(discover.Host) error) (*discovery, error) {
	cfg := f.cfg
	if cfg.Depth == 0 {
		cfg.Depth = -1 // --depth 0 means follow nothing; the package's zero means its default
	}
	cfg.Nameservers = f.ns
	cfg.Labels = splitList(f.labels)
	cfg.ZoneDir = s.layout.ZoneDir()
	cfg.ZoneFiles = f.zoneFiles
	cfg.Logger = e.log
	cfg.Stdin = os.Stdin

	var (
		mu       sync.Mutex
		d        = &discovery{}
		writeErr error
	)
	keep := func(err error) {
		if err != nil && writeErr == nil {
			writeErr = err
		}
	}
	// Hosts go into the archive as they are found, batched by archive.HostLog.
	hosts := archive.NewHostLog(s.writer, time.Now())
	cfg.OnHost = func(h discover.Host) {
		mu.Lock()
		defer mu.Unlock()
		if h.Role == discover.RoleWeb {
			d.web = append(d.web, h)
		}
		if onHost != nil {
			keep(onHost(h))
		}
		keep(hosts.Add(archive.HostEntry{
			Name: h.Name, Site: h.Site, Role: h.Role, Delegated: h.Delegated, Addrs: h.Addrs,
			Zone: h.Zone, Source: h.Source, Nameservers: h.Nameservers,
		}))
	}
	cfg.OnAttempt = func(a discover.Attempt) {
		mu.Lock()
		defer mu.Unlock()
		if a.Outcome != discover.OutcomeTransferred {
			e.log.Debug("zone transfer failed", "zone", a.Zone, "server", a.Server, "outcome", a.Outcome, "error", a.Error)
		}
		keep(archive.WriteAttempt(s.writer, archive.Attempt{
			Zone: a.Zone, Server: a.Server, Outcome: a.Outcome, Error: a.Error, Serial: a.Serial,
			Records: a.Records, Duration: a.Duration.String(), Time: a.Time,
		}))
	}
	cfg.OnTransfer = func(t discover.Transfer) {
		mu.Lock()
		defer mu.Unlock()
		e.log.Info("zone transferred", "zone", t.Zone, "server", t.Server, "serial", t.Serial, "records", t.Records)
		if t.File == "" {
			return
		}
		keep(archive.WriteZoneFile(s.writer, t.Zone, t.Server, t.Time, t.File))
	}
	cfg.OnLookup = func(l discover.Lookup) {
		mu.Lock()
		defer mu.Unlock()
		body := l.Answer
		if body == "" {
			body = fmt.Sprintf("; %s %s: no answer (rcode %s)\n", l.Name, l.Type, l.Rcode)
		}
		keep(archive.WriteDNS(s.writer, fmt.Sprintf("dns:%s?type=%s", l.Name, l.Type), l.Server, l.Time,
			strings.NewReader(body), int64(len(body))))
	}

	// One run reads the files and discovers the zones named, so a zone a
	// file holds is not transferred again, and --offline means no network.
	sum, err := discover.Discover(ctx, cfg, zones...)
	d.summary = sum
	mu.Lock()
	keep(hosts.Close())
	mu.Unlock()
	sort.Slice(d.web, func(i, j int) bool { return d.web[i].Name < d.web[j].Name })
	if writeErr != nil {
		return d, fmt.Errorf("write discovery into the archive: %w", writeErr)
	}
	return d, err // ErrNothingFound (wrapped) when no host was found
}

func runDiscover(ctx context.Context, e *env, args []string) error {
	f := e.discoverFlags()
	w := e.warcFlags()
	zones, err := e.parse(args)
	if err != nil {
		return err
	}
	if err := f.check(e, zones); err != nil {
		return err
	}
	s, err := openSession(e, w, "", false)
	if err != nil {
		return err
	}
	// Hosts are printed as found: in name order within each zone.
	p := e.rows("name", "site", "role", "addrs", "zone", "source")
	p.flushEvery = 1000
	d, derr := runDiscovery(ctx, e, s, f, zones, func(h discover.Host) error {
		return p.add(h, h.Name, h.Site, h.Role, strings.Join(h.Addrs, ","), h.Zone, h.Source)
	})
	if err := p.flush(); err != nil && derr == nil {
		derr = err
	}
	if err := s.Close(); err != nil && derr == nil {
		derr = err
	}
	if d != nil {
		printDiscoverySummary(e, d.summary)
	}
	return derr
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// printDiscoverySummary prints the closing summary on stderr: a line for
// people, or one JSON object with --json (stdout keeps only hosts).
func printDiscoverySummary(e *env, s discover.Summary) {
	if e.json {
		b, err := json.Marshal(struct {
			Discover discover.Summary `json:"discover"`
		}{s})
		if err == nil {
			fmt.Fprintf(e.stderr, "%s\n", b)
		}
		return
	}
	fmt.Fprintln(e.stderr, describeDiscovery(s))
}

// describeDiscovery says what discovery did. A refused transfer that was
// then probed is the normal case and is not a problem; problems are what
// was logged as WARN.
func describeDiscovery(s discover.Summary) string {
	dropped := fmt.Sprintf("%d records dropped", s.Dropped)
	if len(s.Drops) > 0 {
		var parts []string
		for _, reason := range slices.Sorted(maps.Keys(s.Drops)) {
			parts = append(parts, fmt.Sprintf("%d %s", s.Drops[reason], reason))
		}
		dropped += " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("discover: %d zones (%d transferred, %d refused and probed, %d lame, %d from files), "+
		"%d hosts (%d web, %d nameserver, %d mail, %d none), %s, %d problems",
		s.Zones, s.Transferred, s.Probed, s.Lame, s.Files,
		s.Hosts, s.Roles["web"], s.Roles["nameserver"], s.Roles["mail"], s.Roles["none"], dropped, s.Errors)
}

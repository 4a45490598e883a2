package discover

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// job is one zone to work on: a zone given by the caller (servers set) or
// a child found by delegation (del set).
type job struct {
	zone    string   // canonical FQDN
	servers []string // IP:port, for a given zone with Config.Nameservers
	del     *delegation
}

// run is the state of one Discover or ReadZoneFiles call.
type run struct {
	cfg Config

	// mu serialises the callbacks and guards the summary.
	mu  sync.Mutex
	sum Summary

	// zmu guards the zone bookkeeping and the work queue.
	zmu      sync.Mutex
	cond     *sync.Cond
	visited  map[string]bool
	admitted int
	queue    []job
	active   int
	known    map[string][]string     // zone -> servers believed authoritative
	resolved map[string][]netip.Addr // NS name -> addresses

	ptr ptrs // PTR targets in scope; guarded by mu
}

func newRun(cfg Config) *run {
	r := &run{
		cfg:      cfg.withDefaults(),
		visited:  map[string]bool{},
		known:    map[string][]string{},
		resolved: map[string][]netip.Addr{},
	}
	r.sum.Roles = map[string]int{}
	r.sum.Drops = map[string]int{}
	r.ptr.scope = map[string]bool{}
	r.cond = sync.NewCond(&r.zmu)
	return r
}

// report runs fn with the summary locked; callbacks are made inside it so
// they never run concurrently.
func (r *run) report(fn func(*Summary)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&r.sum)
}

// warn reports what needs the user's attention; it counts as a problem.
func (r *run) warn(err error) {
	r.report(func(s *Summary) { s.Errors++ })
	r.cfg.Logger.Warn(err.Error())
}

// info reports the normal course of things, such as a refused transfer.
func (r *run) info(err error) {
	r.cfg.Logger.Info(err.Error())
}

// drop counts records dropped for a reason.
func (r *run) drop(reason string, n int) {
	if n <= 0 {
		return
	}
	r.report(func(s *Summary) { s.Drops[reason] += n })
}

func (r *run) emit(h Host) {
	r.report(func(s *Summary) {
		r.ptr.match(&h)
		s.Hosts++
		s.Roles[h.Role]++
		if r.cfg.OnHost != nil {
			r.cfg.OnHost(h)
		}
	})
}

func (r *run) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sum
	s.Roles = maps.Clone(r.sum.Roles)
	s.Drops = maps.Clone(r.sum.Drops)
	for _, n := range s.Drops { // Dropped is their sum, made here only
		s.Dropped += n
	}
	return s
}

// Discover finds the hosts of the given zones, reading Config.ZoneFiles
// first and transferring the zones they do not hold, following delegations
// down to Config.Depth, and reports them through the callbacks. With
// Config.Offline it never touches the network. It returns when every
// reachable zone was worked on or ctx ended. The error is nil when at least
// one host was found and every file was a zone file; it wraps
// ErrNothingFound when no host was found, ErrZoneFile (before any work)
// when a file cannot be read, ErrNotZoneFile when one is no zone file, and
// reports bad arguments or ctx's end.
func Discover(ctx context.Context, cfg Config, zones ...string) (Summary, error) {
	r := newRun(cfg)
	files := r.cfg.ZoneFiles
	if len(zones) == 0 && len(files) == 0 {
		return r.summary(), errors.New("discover: no zone and no zone file given")
	}
	// Every file is checked before any work: a mistyped name among many
	// must not cost a run.
	if err := CheckZoneFiles(files...); err != nil {
		return r.summary(), fmt.Errorf("discover: %w", err)
	}
	if slices.Contains(files, "-") && r.cfg.Stdin == nil {
		return r.summary(), fmt.Errorf("discover: %w -: no standard input given", ErrZoneFile)
	}
	var named []string
	for _, z := range zones {
		zone, err := canonicalZone(z)
		if err != nil {
			return r.summary(), fmt.Errorf("discover: %w", err)
		}
		named = append(named, zone)
		if !isReverseName(zone) {
			r.ptr.scope[zone] = true
		}
	}
	var servers []string
	if !r.cfg.Offline {
		if r.cfg.ZoneDir != "" {
			if err := os.MkdirAll(r.cfg.ZoneDir, 0o755); err != nil {
				return r.summary(), fmt.Errorf("discover: zone dir: %w", err)
			}
		}
		for _, ns := range r.cfg.Nameservers {
			addrs, err := r.serverAddrs(ctx, ns)
			if err != nil {
				return r.summary(), fmt.Errorf("discover: nameserver %q: %w", ns, err)
			}
			servers = append(servers, addrs...)
		}
	}
	var fileErr error
	if len(files) > 0 {
		fileErr = r.readFiles(ctx, files)
	}
	var jobs []job
	for _, zone := range named {
		r.zmu.Lock()
		seen := r.visited[zone]
		r.zmu.Unlock()
		switch {
		case seen:
			continue // given twice, or read from a file
		case r.cfg.Offline:
			r.warn(fmt.Errorf("zone %s: in no zone file, and %w", display(zone), ErrOffline))
			continue
		}
		r.zmu.Lock()
		r.visited[zone] = true
		r.admitted++
		if len(servers) > 0 {
			r.known[zone] = servers
		}
		r.zmu.Unlock()
		jobs = append(jobs, job{zone: zone, servers: servers})
	}
	r.work(ctx, jobs)
	// PTR targets no forward zone reported are hosts of their own.
	var rest []Host
	r.report(func(*Summary) { rest = r.ptr.rest() })
	for _, h := range rest {
		r.emit(h)
	}
	return r.finish(ctx, fileErr)
}

func (r *run) finish(ctx context.Context, fileErr error) (Summary, error) {
	s := r.summary()
	if err := ctx.Err(); err != nil {
		return s, fmt.Errorf("discover: %w", err)
	}
	if fileErr != nil {
		return s, fmt.Errorf("discover: %w", fileErr)
	}
	if s.Hosts == 0 {
		return s, fmt.Errorf("discover: %d zones: %w", s.Zones, ErrNothingFound)
	}
	return s, nil
}

// canonicalZone turns a zone name as a user types it (maybe Unicode,
// maybe without the trailing dot) into a canonical FQDN of A-labels.
func canonicalZone(z string) (string, error) {
	z = strings.TrimSpace(z)
	if z == "" || z == "." {
		return ".", nil
	}
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(z, "."))
	if err != nil {
		return "", fmt.Errorf("zone %q: %w", z, err)
	}
	fqdn := dns.CanonicalName(ascii)
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return "", fmt.Errorf("zone %q: not a domain name", z)
	}
	return fqdn, nil
}

// serverAddrs turns a --ns value (IP, IP:PORT, or a host name) into IP:port
// strings.
func (r *run) serverAddrs(ctx context.Context, ns string) ([]string, error) {
	if a, err := netip.ParseAddr(ns); err == nil {
		return []string{netip.AddrPortFrom(a, 53).String()}, nil
	}
	host, port, err := net.SplitHostPort(ns)
	if err != nil {
		host, port = ns, "53"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("bad port %q", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{net.JoinHostPort(a.String(), port)}, nil
	}
	ips, err := r.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ip := range ips {
		out = append(out, net.JoinHostPort(ip.Unmap().String(), port))
	}
	return out, nil
}

// work runs jobs, and the jobs they add, on Config.Concurrency workers
// until the queue is empty and no worker is busy. Zones of a tree are
// worked on side by side, so the time is that of the slowest chain.
func (r *run) work(ctx context.Context, jobs []job) {
	r.zmu.Lock()
	r.queue = append(r.queue, jobs...)
	r.zmu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		r.zmu.Lock()
		r.cond.Broadcast()
		r.zmu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			for {
				r.zmu.Lock()
				for len(r.queue) == 0 && r.active > 0 && ctx.Err() == nil {
					r.cond.Wait()
				}
				if len(r.queue) == 0 || ctx.Err() != nil {
					r.cond.Broadcast()
					r.zmu.Unlock()
					return
				}
				j := r.queue[0]
				r.queue = r.queue[1:]
				r.active++
				r.zmu.Unlock()

				r.zone(ctx, j)

				r.zmu.Lock()
				r.active--
				r.cond.Broadcast()
				r.zmu.Unlock()
			}
		})
	}
	wg.Wait()
}

// follow admits a child zone or, when it may not be followed (depth, the
// zone budget, already visited), reports what the parent said about it.
func (r *run) follow(d delegation, offline bool) {
	r.zmu.Lock()
	switch {
	case r.visited[d.zone]:
		r.zmu.Unlock()
		return // its own visit reports its apex
	case offline || d.depth > r.cfg.Depth || r.admitted >= r.cfg.MaxZones:
		r.zmu.Unlock()
		if !isReverseName(d.zone) { // a reverse zone is never a site
			r.emit(delegationHost(d))
		}
		return
	}
	r.visited[d.zone] = true
	r.admitted++
	// Only the queued copy goes to the heap: a TLD's million delegations
	// listed offline stay on the stack.
	queued := d
	r.queue = append(r.queue, job{zone: d.zone, del: &queued})
	r.cond.Signal()
	r.zmu.Unlock()
}

func delegationHost(d delegation) Host {
	h := Host{
		Name: display(d.zone), Site: display(d.zone), Role: RoleNone, Delegated: true,
		Addrs: []string{}, Zone: display(d.parent), Source: SourceDelegation,
		Nameservers: displayAll(d.nameservers),
	}
	if d.implied {
		h.Delegated, h.Source = false, SourceNS
	}
	return h
}

// zone works on one zone: find its servers, try a transfer from each until
// one succeeds, else probe them directly.
func (r *run) zone(ctx context.Context, j job) {
	r.report(func(s *Summary) { s.Zones++ })
	servers, nsNames := j.servers, []string(nil)
	depth := 0
	if j.del != nil {
		depth = j.del.depth
		nsNames = j.del.nameservers
		for _, a := range j.del.addrs {
			servers = append(servers, r.server(a))
		}
		for _, ns := range j.del.unresolved {
			for _, a := range r.resolveName(ctx, ns, 3) {
				servers = append(servers, r.server(a))
			}
		}
	} else if len(servers) == 0 {
		servers, nsNames = r.systemServers(ctx, j.zone)
	}
	servers = dedupe(servers)
	if len(servers) == 0 {
		r.warn(fmt.Errorf("zone %s: %w", display(j.zone), ErrNoServers))
		r.report(func(s *Summary) { s.Lame++ })
		if j.del != nil && !isReverseName(j.zone) {
			r.emit(delegationHost(*j.del))
		}
		return
	}
	r.zmu.Lock()
	if _, ok := r.known[j.zone]; !ok {
		r.known[j.zone] = servers
	}
	r.zmu.Unlock()

	for _, srv := range servers {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		res := transfer(ctx, &r.cfg, j.zone, srv, r.warn)
		if res.outcome == OutcomeNotAuthoritative && r.answersFor(ctx, srv, j.zone) {
			// Knot says NOTAUTH when its ACL denies a transfer; a server
			// that answers the zone's SOA with AA is authoritative, so
			// that is a refusal.
			res.outcome = OutcomeRefused
			res.err = fmt.Errorf("%w (but it answers for the zone authoritatively): %w", res.err, ErrRefused)
		}
		a := Attempt{Zone: display(j.zone), Server: srv, Outcome: res.outcome, Duration: time.Since(start), Time: start}
		if res.err != nil {
			a.Error = res.err.Error()
			// A failed attempt is the normal course of things (most
			// servers refuse, some are down): the zone is then asked
			// directly, and only a zone nothing is learned from is a
			// problem. A transfer cut by the user's own limit is one.
			if errors.Is(res.err, ErrTooManyRecords) {
				r.warn(res.err)
			} else {
				r.info(res.err)
			}
		}
		if res.zone != nil {
			a.Serial, a.Records = res.zone.serial, res.zone.records
		}
		r.report(func(s *Summary) {
			s.Attempts++
			if r.cfg.OnAttempt != nil {
				r.cfg.OnAttempt(a)
			}
		})
		if res.zone == nil {
			continue
		}
		t := Transfer{Zone: a.Zone, Server: srv, Serial: res.zone.serial, Records: res.zone.records, File: res.file, Time: start}
		r.report(func(s *Summary) {
			s.Transferred++
			for reason, n := range res.drops {
				s.Drops[reason] += n
			}
			if r.cfg.OnTransfer != nil {
				r.cfg.OnTransfer(t)
			}
		})
		r.zoneHosts(res.zone, j, nsNames, depth, false)
		return
	}
	r.report(func(s *Summary) { s.Refused++ })
	if isReverseName(j.zone) {
		// Nothing to probe: a reverse zone's names are addresses. One the
		// user named is worth a warning; one found by delegation is not.
		err := fmt.Errorf("reverse zone %s: no transfer, so its PTR records stay unknown", display(j.zone))
		if j.del == nil {
			r.warn(err)
		} else {
			r.info(err)
		}
		return
	}
	r.probe(ctx, j, servers, nsNames)
}

// server is the IP:port of a nameserver found by delegation or
// resolution: delegations carry no port, so Config.Port is used.
func (r *run) server(a netip.Addr) string {
	return netip.AddrPortFrom(a, uint16(r.cfg.Port)).String()
}

// answersFor reports whether server answers zone's SOA authoritatively.
func (r *run) answersFor(ctx context.Context, server, zone string) bool {
	resp, err := r.query(ctx, server, zone, dns.TypeSOA)
	if err != nil || !resp.Authoritative || resp.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range resp.Answer {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == zone {
			return true
		}
	}
	return false
}

// zoneHosts reports a complete zone's hosts and follows its delegations.
// A reverse zone reports no host: its PTR targets in scope are noted, to
// lend their addresses to the hosts of the forward zones.
func (r *run) zoneHosts(z *zoneData, j job, nsNames []string, depth int, offline bool) {
	z.markCuts()
	if isReverseName(z.apex) {
		zone := display(z.apex)
		r.report(func(s *Summary) {
			z.eachPTR(func(a netip.Addr, target string) {
				if !r.ptr.add(target, a, zone) {
					s.Drops[DropOutOfScope]++
				}
			})
		})
	} else {
		opt := hostOptions{apexNS: nsNames, extraNS: nsNames}
		if j.del != nil {
			opt.apexZone = j.del.parent
			opt.skip = j.del.reported
		}
		z.hosts(opt, r.emit)
	}
	z.delegations(depth+1, func(d delegation) { r.follow(d, offline) })
	z.free()
}

// probe asks a zone's servers directly about its apex and each label, for
// a zone no server would transfer.
func (r *run) probe(ctx context.Context, j job, servers, nsNames []string) {
	a := r.authority(j.zone, servers)
	apex, err := a.probe(ctx, j.zone)
	if err != nil {
		r.warn(fmt.Errorf("probe %s: %w", display(j.zone), err))
		r.report(func(s *Summary) { s.Lame++ })
		if j.del != nil {
			r.emit(delegationHost(*j.del))
		}
		return
	}
	r.report(func(s *Summary) { s.Probed++ })
	if len(nsNames) == 0 {
		if resp, err := a.ask(ctx, j.zone, dns.TypeNS); err == nil {
			for _, rr := range resp.Answer {
				if ns, ok := rr.(*dns.NS); ok && dns.CanonicalName(ns.Hdr.Name) == j.zone {
					nsNames = append(nsNames, dns.CanonicalName(ns.Ns))
				}
			}
			slices.Sort(nsNames)
			nsNames = slices.Compact(nsNames)
		}
	}
	isNS := func(name string) bool { return slices.Contains(nsNames, name) }
	host := func(name string, p probeResult) Host {
		h := Host{Name: display(name), Site: display(j.zone), Zone: display(j.zone), Source: SourceProbe, Addrs: []string{}}
		slices.SortFunc(p.addrs, netip.Addr.Compare)
		for _, ad := range p.addrs {
			h.Addrs = append(h.Addrs, ad.String())
		}
		switch {
		case isNS(name):
			h.Role = RoleNameserver
		case p.web:
			h.Role = RoleWeb
		default:
			h.Role = RoleNone
		}
		return h
	}
	h := host(j.zone, apex)
	h.Delegated = j.del == nil || !j.del.implied
	h.Nameservers = displayAll(nsNames)
	if j.del != nil {
		h.Zone = display(j.del.parent)
	}
	r.emit(h)
	for _, label := range r.cfg.Labels {
		name := dns.CanonicalName(label + "." + j.zone)
		if j.zone == "." {
			name = dns.CanonicalName(label)
		}
		if j.del != nil && slices.Contains(j.del.reported, name) {
			continue // the parent's data already gave it
		}
		p, err := a.probe(ctx, name)
		if err != nil {
			r.warn(fmt.Errorf("probe %s: %w", display(name), err))
			continue
		}
		if p.exists {
			r.emit(host(name, p))
		}
	}
}

// systemServers finds a given zone's servers with the system resolver
// (only used when Config.Nameservers is empty).
func (r *run) systemServers(ctx context.Context, zone string) (servers, names []string) {
	nss, err := r.cfg.Resolver.LookupNS(ctx, zone)
	if err != nil {
		r.warn(fmt.Errorf("zone %s: NS lookup: %w", display(zone), err))
		return nil, nil
	}
	for _, ns := range nss {
		name := dns.CanonicalName(ns.Host)
		names = append(names, name)
		ips, err := r.cfg.Resolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			r.warn(fmt.Errorf("zone %s: nameserver %s: %w", display(zone), display(name), err))
			continue
		}
		for _, ip := range ips {
			servers = append(servers, r.server(ip.Unmap()))
		}
	}
	slices.Sort(names)
	return servers, names
}

// resolveName finds the addresses of a nameserver name that no parent
// holds glue for, by asking the servers of the nearest zone we know and
// following referrals down. Glue in a referral is used only for names
// inside the zone of the server that sent it (the bailiwick rule). Only
// when no known zone encloses the name, and the caller gave no
// Nameservers, is the system resolver asked.
func (r *run) resolveName(ctx context.Context, name string, budget int) []netip.Addr {
	r.zmu.Lock()
	if as, ok := r.resolved[name]; ok {
		r.zmu.Unlock()
		return as
	}
	zone, servers := "", []string(nil)
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if s, ok := r.known[name[off:]]; ok {
			zone, servers = name[off:], s
			break
		}
	}
	if zone == "" {
		if s, ok := r.known["."]; ok {
			zone, servers = ".", s
		}
	}
	r.zmu.Unlock()

	var out []netip.Addr
	switch {
	case zone != "":
		out = r.iterate(ctx, name, zone, servers, budget)
	case len(r.cfg.Nameservers) == 0:
		// A nameserver that resolves nowhere is common in a national zone;
		// the zone it serves is reported if it is left without servers.
		ips, err := r.cfg.Resolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			r.info(fmt.Errorf("resolve nameserver %s: %w", display(name), err))
		}
		for _, ip := range ips {
			out = append(out, ip.Unmap())
		}
	default:
		r.info(fmt.Errorf("resolve nameserver %s: no known zone encloses it: %w", display(name), ErrNoServers))
	}
	r.zmu.Lock()
	r.resolved[name] = out
	r.zmu.Unlock()
	return out
}

func (r *run) iterate(ctx context.Context, name, zone string, servers []string, budget int) []netip.Addr {
	for step := 0; step < 8 && len(servers) > 0; step++ {
		var out []netip.Addr
		referred := false
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			for _, srv := range servers {
				resp, err := r.query(ctx, srv, name, qt)
				if err != nil || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError) {
					continue
				}
				if resp.Authoritative {
					for _, rr := range resp.Answer {
						if a, ok := rrAddr(rr); ok {
							out = appendAddr(out, a)
						}
					}
					break
				}
				// A referral: NS records for a zone between ours and the name.
				child, nsNames := "", []string(nil)
				for _, rr := range resp.Ns {
					if ns, ok := rr.(*dns.NS); ok {
						owner := dns.CanonicalName(ns.Hdr.Name)
						if owner != zone && dns.IsSubDomain(zone, owner) && dns.IsSubDomain(owner, name) {
							child = owner
							nsNames = append(nsNames, dns.CanonicalName(ns.Ns))
						}
					}
				}
				if child == "" {
					continue
				}
				var next []string
				for _, rr := range resp.Extra {
					owner := dns.CanonicalName(rr.Header().Name)
					if !dns.IsSubDomain(zone, owner) || !slices.Contains(nsNames, owner) {
						continue // out of bailiwick: never trusted
					}
					if a, ok := rrAddr(rr); ok {
						next = append(next, r.server(a))
					}
				}
				if len(next) == 0 && budget > 0 {
					for _, ns := range nsNames {
						if ns == name {
							continue
						}
						for _, a := range r.resolveName(ctx, ns, budget-1) {
							next = append(next, r.server(a))
						}
					}
				}
				zone, servers, referred = child, dedupe(next), true
				break
			}
			if referred {
				break
			}
		}
		if !referred {
			return out
		}
	}
	return nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

package discover

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Reverse zones (in-addr.arpa, ip6.arpa) name addresses, not web sites.
// They are never listed as sites; their PTR records instead give addresses
// to the host names they point at, when those names are in the scope of
// the zones being discovered (a national reverse zone also names mail
// relays and customers abroad, which are not ours to crawl).

// isReverseName reports whether a canonical name is in the reverse tree.
func isReverseName(name string) bool {
	return name == "arpa." || isSubdomain("in-addr.arpa.", name) || isSubdomain("ip6.arpa.", name)
}

// reverseAddr returns the address a reverse owner name stands for:
// 4.3.2.1.in-addr.arpa. is 1.2.3.4, 32 nibble labels under ip6.arpa. are an
// IPv6 address. An RFC 2317 classless name (10.0/25.2.0.192.in-addr.arpa.)
// stands for the address of its octet labels; its label with a / or - is
// the subnet's name.
func reverseAddr(owner string) (netip.Addr, bool) {
	labels := dns.SplitDomainName(owner)
	switch {
	case isSubdomain("in-addr.arpa.", owner):
		labels = labels[:len(labels)-2]
		var octets []string
		classless := 0
		for i, l := range labels {
			if i > 0 && strings.ContainsAny(l, "/-") {
				classless++
				continue
			}
			octets = append(octets, l)
		}
		if len(octets) != 4 || classless > 1 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, l := range octets {
			v, err := strconv.ParseUint(l, 10, 8)
			if err != nil || len(l) > 3 {
				return netip.Addr{}, false
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), true
	case isSubdomain("ip6.arpa.", owner):
		labels = labels[:len(labels)-2]
		if len(labels) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, l := range labels {
			v, err := strconv.ParseUint(l, 16, 4)
			if err != nil || len(l) != 1 {
				return netip.Addr{}, false
			}
			n := 31 - i // nibble index from the most significant
			b[n/2] |= byte(v) << (4 * (1 - n%2))
		}
		return netip.AddrFrom16(b).Unmap(), true
	}
	return netip.Addr{}, false
}

// ptrHost is one PTR target in scope: the addresses pointing at it.
type ptrHost struct {
	name  string // display form
	addrs []netip.Addr
	zone  string // display form of the reverse zone that named it first
	site  string // deepest site reported above it so far ("" = none yet)
	seen  bool   // reported as a host by a forward zone
}

// ptrs gathers the PTR targets of a run. It is guarded by run.mu (it is
// only used inside run.report).
type ptrs struct {
	scope  map[string]bool       // canonical apexes of the zones being discovered
	byName map[string]*ptrHost   // display name -> target
	above  map[string][]*ptrHost // display name of an ancestor -> targets below it
}

// inScope reports whether a canonical name is at or below a zone being
// discovered, and returns the deepest such zone.
func (p *ptrs) inScope(name string) (string, bool) {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if p.scope[name[off:]] {
			return name[off:], true
		}
	}
	if p.scope["."] {
		return ".", true
	}
	return "", false
}

// add records that addr points at target (canonical); it returns false
// when the target is out of scope.
func (p *ptrs) add(target string, addr netip.Addr, zone string) bool {
	apex, ok := p.inScope(target)
	if !ok {
		return false
	}
	name := display(target)
	h := p.byName[name]
	if h == nil {
		if p.byName == nil {
			p.byName, p.above = map[string]*ptrHost{}, map[string][]*ptrHost{}
		}
		h = &ptrHost{name: name, zone: zone, site: display(apex)}
		p.byName[name] = h
		// Every ancestor between the target and its scope apex may turn
		// out to be the site the target belongs to.
		for off, end := dns.NextLabel(target, 0); !end; off, end = dns.NextLabel(target, off) {
			a := display(target[off:])
			p.above[a] = append(p.above[a], h)
			if target[off:] == apex {
				break
			}
		}
	}
	if !slices.Contains(h.addrs, addr) {
		h.addrs = append(h.addrs, addr)
	}
	return true
}

// match completes a host about to be reported with what the PTR records
// say: a name they point at that has no address of its own gets theirs.
// It also notes the host's site for the targets below it.
func (p *ptrs) match(h *Host) {
	if len(p.byName) == 0 {
		return
	}
	for _, t := range p.above[h.Site] {
		if len(h.Site) > len(t.site) {
			t.site = h.Site
		}
	}
	t := p.byName[h.Name]
	if t == nil {
		return
	}
	t.seen = true
	if len(h.Addrs) > 0 {
		return // the forward data's own addresses are the authority
	}
	slices.SortFunc(t.addrs, netip.Addr.Compare)
	for _, a := range t.addrs {
		h.Addrs = append(h.Addrs, a.String())
	}
	h.Source = SourcePTR
	if h.Role == RoleNone {
		h.Role = RoleWeb
	}
}

// rest returns, in name order, the targets no forward zone reported, as
// hosts of their own.
func (p *ptrs) rest() []Host {
	var out []Host
	for _, t := range p.byName {
		if t.seen {
			continue
		}
		slices.SortFunc(t.addrs, netip.Addr.Compare)
		h := Host{Name: t.name, Site: t.site, Role: RoleWeb, Zone: t.zone, Source: SourcePTR, Addrs: []string{}}
		for _, a := range t.addrs {
			h.Addrs = append(h.Addrs, a.String())
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Host) int { return strings.Compare(a.Name, b.Name) })
	return out
}

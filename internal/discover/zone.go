package discover

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// nameFlags say what a zone's data holds at or about one owner name.
type nameFlags uint16

const (
	flagAddr     nameFlags = 1 << iota // A or AAAA at this owner
	flagCNAME                          // CNAME at this owner
	flagNS                             // NS RRset at this owner
	flagNSTarget                       // target of some NS record
	flagMXTarget                       // target of some MX record
	flagOutside                        // name outside the zone (kept only as an NS target)
	flagCut                            // NS owner other than the apex: a delegation
	flagOccluded                       // at or below a cut (set by cuts())
	flagHasV4
)

const (
	noLink     = -1
	cnameNone  = ^uint32(0)
	cnameOutOf = ^uint32(0) - 1 // CNAME target outside the zone
	maxChain   = 8              // CNAME hops followed inside one zone
)

// nameEntry is one owner name. It is deliberately small: a national zone
// has millions of names and the whole table must stay in memory while the
// zone streams in, since an NS record can come after the glue it explains.
type nameEntry struct {
	flags nameFlags
	cname uint32 // id of the CNAME target, cnameNone or cnameOutOf
	addrs int32  // head of the address list in zoneData.addrs
	ns    int32  // head of the NS target list in zoneData.ns
}

type addrNode struct {
	addr [16]byte
	v4   bool
	next int32
}

type nsNode struct {
	target uint32
	next   int32
}

// zoneData is one zone's records, reduced as they arrive to what the host
// rules need. Names are canonical FQDNs (lowercase, trailing dot).
type zoneData struct {
	apex    string // canonical FQDN
	serial  uint32
	hasSOA  bool
	records int

	index map[string]uint32
	names []string
	ent   []nameEntry
	addrs []addrNode
	ns    []nsNode

	outside int // records skipped because their owner is outside the zone
}

func newZoneData(apex string) *zoneData {
	return &zoneData{apex: dns.CanonicalName(apex), index: make(map[string]uint32)}
}

func (z *zoneData) id(name string) uint32 {
	if id, ok := z.index[name]; ok {
		return id
	}
	id := uint32(len(z.names))
	z.index[name] = id
	z.names = append(z.names, name)
	z.ent = append(z.ent, nameEntry{cname: cnameNone, addrs: noLink, ns: noLink})
	return id
}

func (z *zoneData) inZone(name string) bool { return dns.IsSubDomain(z.apex, name) }

// add takes one record into the zone. It returns ErrOutsideZone for a
// record whose owner is not in the zone; the caller reports and goes on.
func (z *zoneData) add(rr dns.RR) error {
	h := rr.Header()
	owner := dns.CanonicalName(h.Name)
	if !z.inZone(owner) {
		z.outside++
		return fmt.Errorf("%s %s in zone %s: %w", strings.TrimSuffix(owner, "."), dns.TypeToString[h.Rrtype], display(z.apex), ErrOutsideZone)
	}
	z.records++
	switch rr := rr.(type) {
	case *dns.SOA:
		if owner == z.apex && !z.hasSOA {
			z.hasSOA, z.serial = true, rr.Serial
		}
	case *dns.A:
		if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
			z.addAddr(z.id(owner), a)
		}
	case *dns.AAAA:
		if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
			z.addAddr(z.id(owner), a)
		}
	case *dns.CNAME:
		id := z.id(owner)
		z.ent[id].flags |= flagCNAME
		target := dns.CanonicalName(rr.Target)
		if z.inZone(target) {
			t := z.id(target)
			z.ent[id].cname = t
		} else {
			z.ent[id].cname = cnameOutOf
		}
	case *dns.NS:
		id := z.id(owner)
		target := dns.CanonicalName(rr.Ns)
		t := z.id(target)
		e := &z.ent[t]
		e.flags |= flagNSTarget
		if !z.inZone(target) {
			e.flags |= flagOutside
		}
		z.ent[id].flags |= flagNS
		for n := z.ent[id].ns; n != noLink; n = z.ns[n].next {
			if z.ns[n].target == t {
				return nil
			}
		}
		z.ns = append(z.ns, nsNode{target: t, next: z.ent[id].ns})
		z.ent[id].ns = int32(len(z.ns) - 1)
	case *dns.MX:
		target := dns.CanonicalName(rr.Mx)
		if z.inZone(target) {
			z.ent[z.id(target)].flags |= flagMXTarget
		}
	}
	return nil
}

func (z *zoneData) addAddr(id uint32, a netip.Addr) {
	a = a.Unmap()
	b := a.As16()
	for n := z.ent[id].addrs; n != noLink; n = z.addrs[n].next {
		if z.addrs[n].addr == b {
			return
		}
	}
	z.addrs = append(z.addrs, addrNode{addr: b, v4: a.Is4(), next: z.ent[id].addrs})
	z.ent[id].addrs = int32(len(z.addrs) - 1)
	z.ent[id].flags |= flagAddr
	if a.Is4() {
		z.ent[id].flags |= flagHasV4
	}
}

// addrsOf returns the sorted addresses recorded at a name.
func (z *zoneData) addrsOf(id uint32) []netip.Addr {
	var out []netip.Addr
	for n := z.ent[id].addrs; n != noLink; n = z.addrs[n].next {
		a := netip.AddrFrom16(z.addrs[n].addr)
		if z.addrs[n].v4 {
			a = a.Unmap()
		}
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// nsOf returns the sorted NS targets at a name (canonical FQDNs).
func (z *zoneData) nsOf(id uint32) []string {
	var out []string
	for n := z.ent[id].ns; n != noLink; n = z.ns[n].next {
		out = append(out, z.names[z.ns[n].target])
	}
	slices.Sort(out)
	return out
}

// lookupAddrs returns the addresses the zone's data holds for name
// (authoritative or glue), nil if none.
func (z *zoneData) lookupAddrs(name string) []netip.Addr {
	id, ok := z.index[name]
	if !ok {
		return nil
	}
	return z.addrsOf(id)
}

// markCuts flags every delegation and every name at or below one. It runs
// once, when the zone is complete, because records arrive in any order.
func (z *zoneData) markCuts() {
	for id, name := range z.names {
		e := &z.ent[id]
		if e.flags&flagNS != 0 && name != z.apex {
			e.flags |= flagCut
		}
	}
	for id, name := range z.names {
		e := &z.ent[id]
		if e.flags&flagOutside != 0 || name == z.apex {
			continue
		}
		// Walk up from the name to the apex looking for a cut. Suffixes
		// are substrings, so this allocates nothing.
		for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
			suffix := name[off:]
			if suffix == z.apex {
				break
			}
			if pid, ok := z.index[suffix]; ok && z.ent[pid].flags&flagCut != 0 {
				e.flags |= flagOccluded
				break
			}
		}
	}
}

// delegation is a child zone found in a parent's data: where to ask.
type delegation struct {
	zone        string   // canonical FQDN of the child apex
	parent      string   // canonical FQDN of the parent, "" for a given zone
	nameservers []string // canonical FQDNs, sorted
	addrs       []netip.Addr
	unresolved  []string // NS names the parent holds no address for
	depth       int
}

// delegations returns the zone's cuts in name order, with the addresses
// the parent holds for their nameservers. Only addresses inside the parent
// zone are here at all (a zone's data never holds names outside it), which
// is the in-bailiwick rule: glue for a name outside the parent is never
// trusted and the name is resolved instead.
func (z *zoneData) delegations(depth int) []delegation {
	var out []delegation
	for id, name := range z.names {
		e := z.ent[id]
		if e.flags&flagCut == 0 {
			continue
		}
		// A cut below another cut is the child's business.
		if z.occludedAbove(name) {
			continue
		}
		d := delegation{zone: name, parent: z.apex, nameservers: z.nsOf(uint32(id)), depth: depth}
		for _, ns := range d.nameservers {
			if as := z.lookupAddrs(ns); len(as) > 0 {
				d.addrs = append(d.addrs, as...)
			} else {
				d.unresolved = append(d.unresolved, ns)
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b delegation) int { return strings.Compare(a.zone, b.zone) })
	return out
}

// occludedAbove reports whether a strict ancestor of name (below the apex)
// is a cut.
func (z *zoneData) occludedAbove(name string) bool {
	off, end := dns.NextLabel(name, 0)
	for ; !end; off, end = dns.NextLabel(name, off) {
		suffix := name[off:]
		if suffix == z.apex {
			return false
		}
		if pid, ok := z.index[suffix]; ok && z.ent[pid].flags&flagCut != 0 {
			return true
		}
	}
	return false
}

// hostOptions say how the zone was reached, for the apex host.
type hostOptions struct {
	apexZone string // Zone field of the apex host (the parent for a child)
	apexNS   []string
	extraNS  []string // NS names to treat as nameserver targets (the delegation's)
}

// hosts applies the host rules to the zone's own (not occluded) names and
// calls emit for each host in name order. markCuts must have run.
func (z *zoneData) hosts(opt hostOptions, emit func(Host)) {
	for _, ns := range opt.extraNS {
		if id, ok := z.index[ns]; ok {
			z.ent[id].flags |= flagNSTarget
		}
	}
	ids := make([]uint32, 0, len(z.names))
	for id, name := range z.names {
		e := z.ent[id]
		if e.flags&(flagOutside|flagOccluded) != 0 {
			continue
		}
		if name == z.apex {
			ids = append(ids, uint32(id))
			continue
		}
		if e.flags&flagCut != 0 || e.flags&(flagAddr|flagCNAME) == 0 || !hostLabel(name) {
			continue
		}
		ids = append(ids, uint32(id))
	}
	slices.SortFunc(ids, func(a, b uint32) int { return strings.Compare(z.names[a], z.names[b]) })
	site := display(z.apex)
	for _, id := range ids {
		name := z.names[id]
		e := z.ent[id]
		h := Host{Name: display(name), Site: site, Zone: site, Addrs: []string{}}
		addrs, web := z.resolve(id)
		for _, a := range addrs {
			h.Addrs = append(h.Addrs, a.String())
		}
		switch {
		case e.flags&flagAddr != 0 && e.flags&flagHasV4 != 0:
			h.Source = SourceA
		case e.flags&flagAddr != 0:
			h.Source = SourceAAAA
		case e.flags&flagCNAME != 0:
			h.Source = SourceCNAME
		default:
			h.Source = SourceDelegation
		}
		switch {
		case e.flags&flagNSTarget != 0:
			h.Role = RoleNameserver
		case e.flags&flagMXTarget != 0:
			h.Role = RoleMail
		case web:
			h.Role = RoleWeb
		default:
			h.Role = RoleNone
		}
		if name == z.apex {
			h.Delegated = true
			if opt.apexZone != "" {
				h.Zone = display(opt.apexZone)
			}
			ns := z.nsOf(id)
			if len(ns) == 0 {
				ns = opt.apexNS
			}
			h.Nameservers = displayAll(ns)
		}
		emit(h)
	}
}

// resolve follows a name's in-zone CNAME chain and returns the addresses at
// its end, and whether the name counts as a web address: it has addresses,
// or its chain leaves the zone (the target is another zone's business and
// presumably a web host; the crawler resolves it).
func (z *zoneData) resolve(id uint32) ([]netip.Addr, bool) {
	for hop := 0; hop <= maxChain; hop++ {
		e := z.ent[id]
		if e.flags&flagAddr != 0 {
			return z.addrsOf(id), true
		}
		switch {
		case e.cname == cnameOutOf:
			return nil, true
		case e.cname == cnameNone:
			return nil, false
		}
		id = e.cname
		if z.ent[id].flags&flagOccluded != 0 || z.ent[id].flags&flagCut != 0 {
			return nil, true // into a child zone
		}
	}
	return nil, false // a loop
}

// hostLabel reports whether a name can be a web host: no wildcard, no
// _service labels, a valid domain name.
func hostLabel(name string) bool {
	if _, ok := dns.IsDomainName(name); !ok {
		return false
	}
	for _, l := range dns.SplitDomainName(name) {
		if l == "*" || strings.HasPrefix(l, "_") {
			return false
		}
	}
	return true
}

// display turns a canonical FQDN into the output form: no trailing dot,
// and "." for the root.
func display(fqdn string) string {
	if fqdn == "." || fqdn == "" {
		return "."
	}
	return strings.TrimSuffix(fqdn, ".")
}

func displayAll(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = display(n)
	}
	return out
}

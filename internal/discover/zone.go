package discover

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
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
	cnameOutOf = ^uint32(0) // CNAME target outside the zone
	maxChain   = 8          // CNAME hops followed inside one zone
)

// nameEntry is one owner name. It is deliberately small: a national zone
// has millions of names and the whole table must stay in memory while the
// zone streams in, since an NS record can come after the glue it explains.
type nameEntry struct {
	addrs int32 // head of the address list in zoneData.addrs
	ns    int32 // head of the NS target list in zoneData.ns
	flags nameFlags
}

// addrNode is one address; IPv4 is stored IPv4-mapped.
type addrNode struct {
	addr [16]byte
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

	maps  *mappings
	names nameTable
	ent   bigSlice[nameEntry]
	cname map[uint32]uint32 // CNAME owner -> target id or cnameOutOf
	addrs bigSlice[addrNode]
	ns    bigSlice[nsNode]

	outside int // records skipped because their owner is outside the zone
}

func newZoneData(apex string) *zoneData {
	m := &mappings{}
	z := &zoneData{apex: dns.CanonicalName(apex), maps: m, names: newNameTable(m),
		ent: bigSlice[nameEntry]{m: m}, addrs: bigSlice[addrNode]{m: m}, ns: bigSlice[nsNode]{m: m}}
	guardMappings(z, m)
	return z
}

// free releases the zone's memory outside the Go heap; z must not be used
// afterwards.
func (z *zoneData) free() {
	z.maps.releaseAll()
	z.names = nameTable{}
	z.ent, z.addrs, z.ns = bigSlice[nameEntry]{}, bigSlice[addrNode]{}, bigSlice[nsNode]{}
}

func (z *zoneData) id(name string) uint32 {
	id, added := z.names.intern(name)
	if added {
		z.ent.push(nameEntry{addrs: noLink, ns: noLink})
	}
	return id
}

// inZone reports whether the canonical name is at or below the apex. It is
// dns.IsSubDomain without the allocations, for names that are already
// canonical: it runs for every record of a zone.
func (z *zoneData) inZone(name string) bool { return isSubdomain(z.apex, name) }

func isSubdomain(apex, name string) bool {
	if apex == "." {
		return true
	}
	if !strings.HasSuffix(name, apex) {
		return false
	}
	i := len(name) - len(apex)
	if i == 0 {
		return true
	}
	if name[i-1] != '.' {
		return false
	}
	// The dot must not be escaped: count the backslashes before it.
	n := 0
	for j := i - 2; j >= 0 && name[j] == '\\'; j-- {
		n++
	}
	return n%2 == 0
}

// add takes one record into the zone. It returns ErrOutsideZone for a
// record whose owner is not in the zone; the caller reports and goes on.
func (z *zoneData) add(rr dns.RR) error {
	h := rr.Header()
	owner, err := canonicalName(h.Name)
	if err != nil {
		return fmt.Errorf("%s %s in zone %s: %w", h.Name, dns.TypeToString[h.Rrtype], display(z.apex), err)
	}
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
	case *dns.A, *dns.AAAA:
		if a, ok := rrAddr(rr); ok {
			z.addAddr(z.id(owner), a)
		}
	case *dns.CNAME:
		id := z.id(owner)
		z.ent.s[id].flags |= flagCNAME
		target, err := canonicalName(rr.Target)
		if err != nil {
			return fmt.Errorf("%s CNAME: %w", display(owner), err)
		}
		if z.cname == nil {
			z.cname = map[uint32]uint32{}
		}
		if z.inZone(target) {
			z.cname[id] = z.id(target)
		} else {
			z.cname[id] = cnameOutOf
		}
	case *dns.NS:
		target, err := canonicalName(rr.Ns)
		if err != nil {
			return fmt.Errorf("%s NS: %w", display(owner), err)
		}
		id := z.id(owner)
		t := z.id(target)
		e := &z.ent.s[t]
		e.flags |= flagNSTarget
		if !z.inZone(target) {
			e.flags |= flagOutside
		}
		z.ent.s[id].flags |= flagNS
		for n := z.ent.s[id].ns; n != noLink; n = z.ns.s[n].next {
			if z.ns.s[n].target == t {
				return nil
			}
		}
		z.ns.push(nsNode{target: t, next: z.ent.s[id].ns})
		z.ent.s[id].ns = int32(len(z.ns.s) - 1)
	case *dns.MX:
		target, err := canonicalName(rr.Mx)
		if err == nil && z.inZone(target) {
			z.ent.s[z.id(target)].flags |= flagMXTarget
		}
	}
	return nil
}

// addAddr records an address (unmapped, as rrAddr returns it) at a name.
func (z *zoneData) addAddr(id uint32, a netip.Addr) {
	b := a.As16()
	for n := z.ent.s[id].addrs; n != noLink; n = z.addrs.s[n].next {
		if z.addrs.s[n].addr == b {
			return
		}
	}
	z.addrs.push(addrNode{addr: b, next: z.ent.s[id].addrs})
	z.ent.s[id].addrs = int32(len(z.addrs.s) - 1)
	z.ent.s[id].flags |= flagAddr
	if a.Is4() {
		z.ent.s[id].flags |= flagHasV4
	}
}

// rrAddr returns the address of an A or AAAA record, an IPv4-mapped IPv6
// address as IPv4, so the same host is never listed twice.
func rrAddr(rr dns.RR) (netip.Addr, bool) {
	var a netip.Addr
	switch rr := rr.(type) {
	case *dns.A:
		a, _ = netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		a, _ = netip.AddrFromSlice(rr.AAAA.To16())
	}
	return a.Unmap(), a.IsValid()
}

// addrsOf returns the sorted addresses recorded at a name.
func (z *zoneData) addrsOf(id uint32) []netip.Addr {
	var out []netip.Addr
	for n := z.ent.s[id].addrs; n != noLink; n = z.addrs.s[n].next {
		out = append(out, netip.AddrFrom16(z.addrs.s[n].addr).Unmap())
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// nsOf returns the sorted NS targets at a name (canonical FQDNs).
func (z *zoneData) nsOf(id uint32) []string {
	var out []string
	for n := z.ent.s[id].ns; n != noLink; n = z.ns.s[n].next {
		out = append(out, z.names.str(z.ns.s[n].target))
	}
	slices.Sort(out)
	return out
}

// lookupAddrs returns the addresses the zone's data holds for name
// (authoritative or glue), nil if none.
func (z *zoneData) lookupAddrs(name string) []netip.Addr {
	id, ok := z.names.lookup(name)
	if !ok {
		return nil
	}
	return z.addrsOf(id)
}

// markCuts flags every delegation and every name at or below one. It runs
// once, when the zone is complete, because records arrive in any order.
func (z *zoneData) markCuts() {
	apex := []byte(z.apex)
	for id := range z.ent.s {
		e := &z.ent.s[id]
		if e.flags&flagNS != 0 && !bytes.Equal(z.names.bytes(uint32(id)), apex) {
			e.flags |= flagCut
		}
	}
	for id := range z.ent.s {
		e := &z.ent.s[id]
		if e.flags&flagOutside == 0 && z.cutAtOrAbove(z.names.bytes(uint32(id)), 0) {
			e.flags |= flagOccluded
		}
	}
}

// cutAtOrAbove reports whether name[off:] or one of its ancestors below the
// apex is a cut. Suffixes are subslices, so this allocates nothing.
func (z *zoneData) cutAtOrAbove(name []byte, off int) bool {
	apexLen := len(z.apex)
	for ; off >= 0 && len(name)-off > apexLen; off = parentOf(name, off) {
		if pid, ok := z.names.lookupBytes(name[off:]); ok && z.ent.s[pid].flags&flagCut != 0 {
			return true
		}
	}
	return false
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

// delegations calls fn for each of the zone's cuts in name order, with
// the addresses the parent holds for their nameservers. Only addresses
// inside the parent zone are here at all (a zone's data never holds names
// outside it), which is the in-bailiwick rule: glue for a name outside the
// parent is never trusted and the name is resolved instead. One delegation
// is built at a time: a TLD has millions.
func (z *zoneData) delegations(depth int, fn func(delegation)) {
	var cuts []uint32
	for id := range z.ent.s {
		// A cut below another cut is the child's business.
		if z.ent.s[id].flags&flagCut != 0 && !z.occludedAbove(z.names.bytes(uint32(id))) {
			cuts = append(cuts, uint32(id))
		}
	}
	z.sortIDs(cuts)
	for _, id := range cuts {
		d := delegation{zone: z.names.str(id), parent: z.apex, nameservers: z.nsOf(id), depth: depth}
		for _, ns := range d.nameservers {
			if as := z.lookupAddrs(ns); len(as) > 0 {
				d.addrs = append(d.addrs, as...)
			} else {
				d.unresolved = append(d.unresolved, ns)
			}
		}
		fn(d)
	}
}

// occludedAbove reports whether a strict ancestor of name (below the apex)
// is a cut.
func (z *zoneData) occludedAbove(name []byte) bool {
	off := parentOf(name, 0)
	return off >= 0 && z.cutAtOrAbove(name, off)
}

func (z *zoneData) sortIDs(ids []uint32) {
	slices.SortFunc(ids, func(a, b uint32) int { return bytes.Compare(z.names.bytes(a), z.names.bytes(b)) })
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
		if id, ok := z.names.lookup(ns); ok {
			z.ent.s[id].flags |= flagNSTarget
		}
	}
	var ids []uint32
	apexID, hasApex := z.names.lookup(z.apex)
	if !hasApex {
		apexID = z.id(z.apex) // the apex is always listed, data or not
	}
	for id := range z.ent.s {
		e := z.ent.s[id]
		if uint32(id) == apexID {
			ids = append(ids, apexID)
			continue
		}
		if e.flags&(flagOutside|flagOccluded|flagCut) != 0 || e.flags&(flagAddr|flagCNAME) == 0 {
			continue
		}
		if !hostLabel(z.names.bytes(uint32(id))) {
			continue
		}
		ids = append(ids, uint32(id))
	}
	z.sortIDs(ids)
	site := display(z.apex)
	for _, id := range ids {
		name := z.names.str(id)
		e := z.ent.s[id]
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
		e := z.ent.s[id]
		if e.flags&flagAddr != 0 {
			return z.addrsOf(id), true
		}
		target, ok := z.cname[id]
		switch {
		case !ok:
			return nil, false
		case target == cnameOutOf:
			return nil, true
		}
		id = target
		if z.ent.s[id].flags&flagOccluded != 0 || z.ent.s[id].flags&flagCut != 0 {
			return nil, true // into a child zone
		}
	}
	return nil, false // a loop
}

// hostLabel reports whether a name can be a web host: no wildcard, no
// _service labels, a valid domain name.
func hostLabel(name []byte) bool {
	if _, ok := dns.IsDomainName(string(name)); !ok {
		return false
	}
	for off := 0; off >= 0 && off < len(name); off = parentOf(name, off) {
		if name[off] == '_' || name[off] == '*' && (off+1 == len(name) || name[off+1] == '.') {
			return false
		}
	}
	return true
}

// canonicalName lowercases a name and adds the trailing dot. Zone data
// should hold A-labels only; a label with raw UTF-8 (written \DDD by the
// parser, or kept raw) is turned into its A-label, and one that is not valid UTF-8 or
// IDNA is an error, so every name we report is plain lowercase ASCII.
func canonicalName(name string) (string, error) {
	name = dns.CanonicalName(name)
	if plainASCII(name) {
		return name, nil
	}
	labels := dns.SplitDomainName(name)
	for i, l := range labels {
		if plainASCII(l) {
			continue
		}
		raw, high := unescapeLabel(l)
		if !high {
			continue // escapes of ASCII (\. or \032): keep as written
		}
		if !utf8.ValidString(raw) {
			return "", fmt.Errorf("label %q is not UTF-8", l)
		}
		a, err := idna.Lookup.ToASCII(raw)
		if err != nil {
			return "", fmt.Errorf("label %q: %w", l, err)
		}
		labels[i] = strings.ToLower(a)
	}
	return dns.Fqdn(strings.Join(labels, ".")), nil
}

// unescapeLabel decodes \DDD and \X escapes; high says a byte >= 128 was
// among them.
func unescapeLabel(l string) (raw string, high bool) {
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '\\' && i+1 < len(l) {
			if i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
				v := int(l[i+1]-'0')*100 + int(l[i+2]-'0')*10 + int(l[i+3]-'0')
				if v < 256 {
					c = byte(v)
					i += 3
				}
			} else {
				i++
				c = l[i]
			}
		}
		if c >= 0x80 {
			high = true
		}
		b.WriteByte(c)
	}
	return b.String(), high
}

// plainASCII reports a name with no escapes and no bytes >= 128.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '\\' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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

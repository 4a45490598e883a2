package discover

import (
	"bytes"
	"errors"
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
	flagOwner   // owner of some record
	flagImplied // a domain named only by the nameservers below it (set by markCuts)
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

	apexLabels int
	// PTR records of a reverse zone: the address each owner name stands
	// for, and the target, interned in a table of its own (targets are
	// names of other zones, never hosts of this one).
	ptrs     bigSlice[ptrNode]
	ptrNames nameTable
	// reported lists, per implied domain, the names hosts() reported below
	// it, so that the domain's own visit does not report them again.
	reported map[uint32][]string
}

type ptrNode struct {
	addr   [16]byte
	target uint32
}

func newZoneData(apex string) *zoneData {
	m := &mappings{}
	z := &zoneData{apex: dns.CanonicalName(apex), maps: m, names: newNameTable(m),
		ent: bigSlice[nameEntry]{m: m}, addrs: bigSlice[addrNode]{m: m}, ns: bigSlice[nsNode]{m: m},
		ptrs: bigSlice[ptrNode]{m: m}}
	z.apexLabels = dns.CountLabel(z.apex)
	guardMappings(z, m)
	return z
}

// free releases the zone's memory outside the Go heap; z must not be used
// afterwards.
func (z *zoneData) free() {
	z.maps.releaseAll()
	z.names, z.ptrNames = nameTable{}, nameTable{}
	z.ent, z.addrs, z.ns, z.ptrs = bigSlice[nameEntry]{}, bigSlice[addrNode]{}, bigSlice[nsNode]{}, bigSlice[ptrNode]{}
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
// record whose owner is not in the zone, ErrBadName for a name that is no
// domain name, and ErrBadReverseName for a reverse-zone PTR whose owner is
// no address; the caller reports, counts and goes on.
func (z *zoneData) add(rr dns.RR) error {
	owner, err := canonicalName(rr.Header().Name)
	return z.addNamed(rr, owner, err)
}

// addNamed is add with the owner already made canonical (or the error of
// doing so): the zone-file reader needs it first to route the record.
func (z *zoneData) addNamed(rr dns.RR, owner string, err error) error {
	h := rr.Header()
	if err != nil {
		return fmt.Errorf("%s %s in zone %s: %w: %w", h.Name, dns.TypeToString[h.Rrtype], display(z.apex), ErrBadName, err)
	}
	if !z.inZone(owner) {
		return fmt.Errorf("%s %s in zone %s: %w", strings.TrimSuffix(owner, "."), dns.TypeToString[h.Rrtype], display(z.apex), ErrOutsideZone)
	}
	if ptr, ok := rr.(*dns.PTR); ok && isReverseName(owner) {
		// Reverse owners are not interned: a reverse zone's names are
		// addresses, never hosts.
		return z.addPTR(owner, ptr)
	}
	z.records++
	// Every owner is interned, so that a name with records of any type is
	// known to exist (a domain with only a TXT is not empty).
	oid := z.id(owner)
	z.ent.s[oid].flags |= flagOwner
	switch rr := rr.(type) {
	case *dns.SOA:
		if owner == z.apex && !z.hasSOA {
			z.hasSOA, z.serial = true, rr.Serial
		}
	case *dns.A, *dns.AAAA:
		if a, ok := rrAddr(rr); ok {
			z.addAddr(oid, a)
		}
	case *dns.CNAME:
		id := oid
		z.ent.s[id].flags |= flagCNAME
		target, err := canonicalName(rr.Target)
		if err != nil {
			return fmt.Errorf("%s CNAME: %w: %w", display(owner), ErrBadName, err)
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
			return fmt.Errorf("%s NS: %w: %w", display(owner), ErrBadName, err)
		}
		id := oid
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

// dropReason is the Drop constant for an error of add.
func dropReason(err error) string {
	switch {
	case errors.Is(err, ErrOutsideZone):
		return DropOutsideZone
	case errors.Is(err, ErrBadReverseName):
		return DropBadReverse
	}
	return DropBadName
}

// addPTR keeps a reverse-zone PTR as the address its owner stands for and
// its target.
func (z *zoneData) addPTR(owner string, ptr *dns.PTR) error {
	a, ok := reverseAddr(owner)
	if !ok {
		return fmt.Errorf("%s PTR: %w", display(owner), ErrBadReverseName)
	}
	target, err := canonicalName(ptr.Ptr)
	if err != nil {
		return fmt.Errorf("%s PTR: %w: %w", display(owner), ErrBadName, err)
	}
	z.records++
	if z.ptrNames.slots.s == nil {
		z.ptrNames = newNameTable(z.maps)
	}
	t, _ := z.ptrNames.intern(target)
	z.ptrs.push(ptrNode{addr: a.As16(), target: t})
	return nil
}

// eachPTR calls fn with every PTR of the zone: the address and the target
// (a canonical FQDN).
func (z *zoneData) eachPTR(fn func(netip.Addr, string)) {
	for _, p := range z.ptrs.s {
		fn(netip.AddrFrom16(p.addr).Unmap(), z.ptrNames.str(p.target))
	}
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
	// A domain named only by its nameservers (kptc.kp, when the kp zone
	// holds ns1.kptc.kp as an NS target but nothing at kptc.kp and no cut
	// there) is a domain all the same: it is listed as a site and visited
	// like a delegation. Only names one label below the apex qualify: the
	// zone is their registry.
	for id, n := 0, len(z.ent.s); id < n; id++ {
		e := z.ent.s[id]
		if e.flags&flagNSTarget == 0 || e.flags&(flagOutside|flagOccluded|flagCut) != 0 {
			continue
		}
		name := z.names.bytes(uint32(id))
		off := z.domainOffset(name)
		if off <= 0 {
			continue
		}
		did, ok := z.names.lookupBytes(name[off:])
		if ok && z.ent.s[did].flags&(flagOwner|flagCut|flagImplied) != 0 {
			continue
		}
		if !ok {
			did = z.id(string(name[off:])) // copies: interning may move the arena
		}
		z.ent.s[did].flags |= flagImplied
	}
}

// domainOffset returns the offset in name of its ancestor one label below
// the apex (kptc.kp. in ns1.kptc.kp. for the zone kp.), or -1 when name is
// the apex or that ancestor itself.
func (z *zoneData) domainOffset(name []byte) int {
	labels := 0
	for off := 0; off >= 0 && off < len(name) && !(len(name) == 1 && name[0] == '.'); off = parentOf(name, off) {
		labels++
	}
	skip := labels - z.apexLabels - 1
	if skip <= 0 {
		return -1
	}
	off := 0
	for ; skip > 0 && off >= 0; skip-- {
		off = parentOf(name, off)
	}
	return off
}

// impliedDomain returns the id of the implied domain name belongs to.
func (z *zoneData) impliedDomain(name []byte) (uint32, bool) {
	off := z.domainOffset(name)
	if off <= 0 {
		return 0, false
	}
	did, ok := z.names.lookupBytes(name[off:])
	return did, ok && z.ent.s[did].flags&flagImplied != 0
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
	// implied: no cut in the parent, a domain named only by its
	// nameservers; reported lists the names the parent already reported
	// below it (canonical FQDNs).
	implied  bool
	reported []string
}

// delegations calls fn for each of the zone's cuts, and each domain its
// nameservers imply, in name order, with the addresses the parent holds for
// their nameservers. Only addresses
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
	// Domains implied by their nameservers are followed like delegations;
	// their nameservers are the NS targets below them.
	servers := map[uint32][]string{}
	for id := range z.ent.s {
		e := z.ent.s[id]
		if e.flags&flagImplied != 0 {
			cuts = append(cuts, uint32(id))
		}
		if e.flags&flagNSTarget == 0 || e.flags&(flagOutside|flagOccluded|flagCut) != 0 {
			continue
		}
		if did, ok := z.impliedDomain(z.names.bytes(uint32(id))); ok {
			servers[did] = append(servers[did], z.names.str(uint32(id)))
		}
	}
	z.sortIDs(cuts)
	for _, id := range cuts {
		d := delegation{zone: z.names.str(id), parent: z.apex, depth: depth}
		if z.ent.s[id].flags&flagImplied != 0 {
			d.implied, d.nameservers, d.reported = true, servers[id], z.reported[id]
			slices.Sort(d.nameservers)
		} else {
			d.nameservers = z.nsOf(id)
		}
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
	skip     []string // names already reported by the parent (canonical FQDNs)
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
		if slices.Contains(opt.skip, name) {
			continue
		}
		e := z.ent.s[id]
		h := Host{Name: display(name), Site: site, Zone: site, Addrs: []string{}}
		if did, ok := z.impliedDomain(z.names.bytes(id)); ok {
			h.Site = display(z.names.str(did))
			if z.reported == nil {
				z.reported = map[uint32][]string{}
			}
			z.reported[did] = append(z.reported[did], name)
		}
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

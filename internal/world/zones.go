package world

import (
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one DNS zone of the world as its nameservers hold it.
type Zone struct {
	Name        string   // fully qualified, with the trailing dot: "com.test."
	Transfer    bool     // whether its nameservers answer AXFR (the TLD and second-level zones do, leaves refuse)
	Nameservers []string // IP addresses of the servers authoritative for it (no port; see World.DNSPort)
	Text        string   // the zone in master-file format, one record a line, SOA first

	records []dns.RR            // SOA first, in Text order
	names   map[string][]dns.RR // owner name (lower case) -> its records
	exists  map[string]bool     // every owner name and every empty non-terminal above it
}

// TTLs of the world's records: long for the delegation structure, an hour
// for everything else.
const (
	ttlZone = 86400
	ttlHost = 3600
)

// zoneBuilder collects one zone's records as text lines while the country is
// laid out.
type zoneBuilder struct {
	name     string
	transfer bool
	servers  []string
	lines    []string
}

func (b *zoneBuilder) add(owner string, ttl int, typ, rdata string) {
	b.lines = append(b.lines, fmt.Sprintf("%s.\t%d\tIN\t%s\t%s", owner, ttl, typ, rdata))
}

// nsAddr is the address of the k-th nameserver (0-based) of a zone. Second
// number: the second-level zone's position (0 for the TLD and its direct
// leaves); last number: 1-2 for the second-level zone's own servers, 10 and
// up for the leaves below it, two addresses per leaf.
func nsAddr(group, leaf, k int) string {
	if leaf < 0 {
		return fmt.Sprintf("127.53.%d.%d", group, 1+k)
	}
	return fmt.Sprintf("127.53.%d.%d", group, 10+2*leaf+k)
}

// buildZones lays the country out as zones: the TLD, the second-level zones
// and one zone per leaf domain, each with its nameserver addresses.
func buildZones() ([]*Zone, error) {
	var builders []*zoneBuilder
	newZone := func(name string, transfer bool) *zoneBuilder {
		b := &zoneBuilder{name: name, transfer: transfer}
		builders = append(builders, b)
		b.add(name, ttlZone, "SOA", fmt.Sprintf("ns1.%s. hostmaster.%s. %d 3600 900 604800 300", name, name, Serial))
		return b
	}
	// apexNS publishes a zone's own nameservers inside it (authoritative data).
	apexNS := func(b *zoneBuilder, count, group, leaf int) {
		for k := range count {
			b.add(b.name, ttlZone, "NS", fmt.Sprintf("ns%d.%s.", k+1, b.name))
		}
		for k := range count {
			addr := nsAddr(group, leaf, k)
			b.add(fmt.Sprintf("ns%d.%s", k+1, b.name), ttlZone, "A", addr)
			b.servers = append(b.servers, addr)
		}
	}
	// delegate writes a zone cut into the parent: NS records and the glue
	// that makes the in-bailiwick nameservers reachable.
	delegate := func(parent *zoneBuilder, child string, count, group, leaf int) {
		for k := range count {
			parent.add(child, ttlZone, "NS", fmt.Sprintf("ns%d.%s.", k+1, child))
		}
		for k := range count {
			parent.add(fmt.Sprintf("ns%d.%s", k+1, child), ttlZone, "A", nsAddr(group, leaf, k))
		}
	}

	top := newZone(tld, true)
	apexNS(top, 2, 0, -1)
	top.add(tld, ttlHost, "TXT", `"The country of test: a local world for crawl"`)

	sldBuilders := map[string]*zoneBuilder{}
	sldGroup := map[string]int{tld: 0}
	for i, s := range slds {
		b := newZone(s.name, true)
		apexNS(b, s.ns, i+1, -1)
		b.add(s.name, ttlHost, "TXT", fmt.Sprintf(`"registry of %s"`, s.name))
		delegate(top, s.name, s.ns, i+1, -1)
		sldBuilders[s.name] = b
		sldGroup[s.name] = i + 1
	}
	sldBuilders[tld] = top

	leafCount := map[string]int{}
	for _, d := range country {
		parentName := d.name[strings.Index(d.name, ".")+1:]
		parent, ok := sldBuilders[parentName]
		if !ok {
			return nil, fmt.Errorf("world: domain %s: parent zone %s is not in the country", d.name, parentName)
		}
		group, leaf := sldGroup[parentName], leafCount[parentName]
		leafCount[parentName]++

		b := newZone(d.name, false)
		apexNS(b, d.ns, group, leaf)
		delegate(parent, d.name, d.ns, group, leaf)

		web := d.name
		if d.www == wwwOnly {
			web = "www." + d.name
		}
		for _, a := range d.addrs {
			b.add(web, ttlHost, "A", a)
		}
		if d.ipv6 {
			b.add(web, ttlHost, "AAAA", unservedIPv6)
		}
		switch d.www {
		case wwwCNAME:
			b.add("www."+d.name, ttlHost, "CNAME", d.name+".")
		case wwwA, wwwRedirect:
			for _, a := range d.addrs {
				b.add("www."+d.name, ttlHost, "A", a)
			}
		}
		if d.mx {
			b.add(d.name, ttlHost, "MX", fmt.Sprintf("10 relay.%s.", d.name))
			b.add(d.name, ttlHost, "TXT", `"v=spf1 mx -all"`)
			// The relay's address is in 127.25/16: nothing listens there.
			b.add("relay."+d.name, ttlHost, "A", fmt.Sprintf("127.25.%d.%d", group, 1+leaf))
		}
		if d.txt != "" {
			b.add(d.name, ttlHost, "TXT", fmt.Sprintf("%q", d.txt))
		}
	}

	zones := make([]*Zone, 0, len(builders))
	for _, b := range builders {
		z, err := parseZone(b)
		if err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].Name < zones[j].Name })
	return zones, nil
}

// parseZone turns a builder's lines into records through the same parser a
// zone file would go through, so Text and the served data cannot disagree.
func parseZone(b *zoneBuilder) (*Zone, error) {
	z := &Zone{
		Name:        dns.Fqdn(b.name),
		Transfer:    b.transfer,
		Nameservers: b.servers,
		names:       map[string][]dns.RR{},
		exists:      map[string]bool{},
	}
	var text strings.Builder
	for _, line := range b.lines {
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("world: zone %s: %q: %w", z.Name, line, err)
		}
		owner := strings.ToLower(rr.Header().Name)
		z.records = append(z.records, rr)
		z.names[owner] = append(z.names[owner], rr)
		// Mark the owner and every name between it and the apex, so empty
		// non-terminals answer NODATA rather than NXDOMAIN.
		for n := owner; dns.IsSubDomain(z.Name, n); {
			z.exists[n] = true
			if n == z.Name {
				break
			}
			off, end := dns.NextLabel(n, 0)
			if end {
				break
			}
			n = n[off:]
		}
		text.WriteString(rr.String())
		text.WriteByte('\n')
	}
	if _, ok := z.records[0].(*dns.SOA); !ok {
		return nil, fmt.Errorf("world: zone %s does not start with its SOA", z.Name)
	}
	z.Text = text.String()
	return z, nil
}

// soa returns the zone's SOA record.
func (z *Zone) soa() *dns.SOA { return z.records[0].(*dns.SOA) }

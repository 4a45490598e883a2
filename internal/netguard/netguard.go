// Package netguard decides which IP addresses a crawl may connect to.
//
// Zone data, --connect-to rules and seed URLs are input: whoever runs a
// zone can point a name at 127.0.0.1, at 10.0.0.5 on the crawler's own
// network, or at 169.254.169.254 (a cloud's metadata service), and what is
// served there would be archived. So every address the IANA special-purpose
// address registries (IPv4 and IPv6) list, and every other address that is
// not global unicast (multicast, reserved space), is refused unless the
// user opened a range that holds it (Guard's allow list, crawl's
// --allow-addresses). The check is made on the address actually dialled
// (Guard.Control, a net.Dialer hook), so redirects to other hosts and
// connection overrides are covered too.
//
// Sources: https://www.iana.org/assignments/iana-ipv4-special-registry/,
// https://www.iana.org/assignments/iana-ipv6-special-registry/, the IPv4
// multicast and IPv6 address space registries. The table is written out
// here rather than taken from a library (code.dny.dev/ssrf holds the same
// registries) because a refusal must say which range and RFC it hit and
// which prefix opens it, and an IPv4-mapped or NAT64 form must be judged
// by the IPv4 address it carries.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// Range is one special-purpose block: its prefix, what it is for, and the
// RFC that set it aside.
type Range struct {
	Prefix netip.Prefix
	Name   string
	RFC    string
}

// ErrRefused is the class of every refusal: callers branch on it with
// errors.Is; errors.As gives the *RefusedError.
var ErrRefused = errors.New("special-purpose address refused")

// RefusedError says which address was refused, and why.
type RefusedError struct {
	Addr  netip.Addr // as it was to be dialled
	Range Range      // the block it falls in
}

func (e *RefusedError) Error() string {
	what := e.Range.Name
	if e.Range.RFC != "" {
		what += " (" + e.Range.RFC + ")"
	}
	return fmt.Sprintf("address %s is %s: refused; pass --allow-addresses %s to crawl it", e.Addr, what, e.Range.Prefix)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

func r(prefix, name, rfc string) Range {
	return Range{Prefix: netip.MustParsePrefix(prefix), Name: name, RFC: rfc}
}

// special4 is the IPv4 special-purpose registry, plus multicast and the
// limited broadcast address. Lookups take the longest match, so the
// sub-blocks of 192.0.0.0/24 name themselves.
var special4 = []Range{
	r("0.0.0.0/8", `"this network"`, "RFC 791"),
	r("10.0.0.0/8", "private-use", "RFC 1918"),
	r("100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598"),
	r("127.0.0.0/8", "loopback", "RFC 1122"),
	r("169.254.0.0/16", "link-local (cloud metadata services live here)", "RFC 3927"),
	r("172.16.0.0/12", "private-use", "RFC 1918"),
	r("192.0.0.0/24", "IETF protocol assignments", "RFC 6890"),
	r("192.0.0.0/29", "IPv4 service continuity prefix", "RFC 7335"),
	r("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
	r("192.0.0.9/32", "port control protocol anycast", "RFC 7723"),
	r("192.0.0.10/32", "TURN anycast", "RFC 8155"),
	r("192.0.0.170/31", "NAT64/DNS64 discovery", "RFC 8880"),
	r("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
	r("192.31.196.0/24", "AS112-v4", "RFC 7535"),
	r("192.52.193.0/24", "AMT", "RFC 7450"),
	r("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
	r("192.168.0.0/16", "private-use", "RFC 1918"),
	r("192.175.48.0/24", "direct delegation AS112 service", "RFC 7534"),
	r("198.18.0.0/15", "benchmarking", "RFC 2544"),
	r("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
	r("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
	r("224.0.0.0/4", "multicast", "RFC 5771"),
	r("240.0.0.0/4", "reserved", "RFC 1112"),
	r("255.255.255.255/32", "limited broadcast", "RFC 919"),
}

// special6 is the IPv6 special-purpose registry, plus the blocks of the
// address space registry that are not global unicast. Anything outside
// 2000::/3 that no entry names is reserved (globalUnicast below).
var special6 = []Range{
	r("::/128", "unspecified", "RFC 4291"),
	r("::1/128", "loopback", "RFC 4291"),
	r("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", "RFC 8215"),
	r("100::/64", "discard-only", "RFC 6666"),
	r("100:0:0:1::/64", "dummy IPv6 prefix", "RFC 9780"),
	r("2001::/23", "IETF protocol assignments", "RFC 2928"),
	r("2001::/32", "Teredo", "RFC 4380"),
	r("2001:1::1/128", "port control protocol anycast", "RFC 7723"),
	r("2001:1::2/128", "TURN anycast", "RFC 8155"),
	r("2001:1::3/128", "DNS-SD service registration protocol anycast", "RFC 9665"),
	r("2001:2::/48", "benchmarking", "RFC 5180"),
	r("2001:3::/32", "AMT", "RFC 7450"),
	r("2001:4:112::/48", "AS112-v6", "RFC 7535"),
	r("2001:10::/28", "deprecated ORCHID", "RFC 4843"),
	r("2001:20::/28", "ORCHIDv2", "RFC 7343"),
	r("2001:30::/28", "drone remote ID protocol entity tags", "RFC 9374"),
	r("2001:db8::/32", "documentation", "RFC 3849"),
	r("2002::/16", "6to4", "RFC 3056"),
	r("2620:4f:8000::/48", "direct delegation AS112 service", "RFC 7534"),
	r("3fff::/20", "documentation", "RFC 9637"),
	r("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
	r("fc00::/7", "unique-local", "RFC 4193"),
	r("fe80::/10", "link-local", "RFC 4291"),
	r("fec0::/10", "site-local (deprecated)", "RFC 3879"),
	r("ff00::/8", "multicast", "RFC 4291"),
}

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
)

// Special returns the special-purpose block a holds, if any. An
// IPv4-mapped address (::ffff:10.0.0.5) is judged as the IPv4 address it
// is, and so is one in the NAT64 well-known prefix (64:ff9b::10.0.0.5),
// which a translator would carry to that IPv4 address.
func Special(a netip.Addr) (Range, bool) {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		return longest(special4, a)
	}
	if nat64.Contains(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:16]))
		if rg, ok := longest(special4, v4); ok {
			rg.Name += " (in the NAT64 prefix " + nat64.String() + ")"
			rg.Prefix = netip.PrefixFrom(a, 128)
			return rg, true
		}
		return Range{}, false
	}
	if rg, ok := longest(special6, a); ok {
		return rg, true
	}
	if !globalUnicast.Contains(a) {
		return Range{Prefix: netip.PrefixFrom(a, 128), Name: "reserved (not global unicast, outside 2000::/3)", RFC: "RFC 4291"}, true
	}
	return Range{}, false
}

func longest(table []Range, a netip.Addr) (Range, bool) {
	best, found := Range{}, false
	for _, rg := range table {
		if rg.Prefix.Contains(a) && (!found || rg.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = rg, true
		}
	}
	return best, found
}

// Guard refuses special-purpose addresses outside its allowed ranges. The
// zero value allows none of them. It is safe for concurrent use.
type Guard struct {
	allow []netip.Prefix
}

// New returns a Guard that lets the addresses of allow through.
func New(allow []netip.Prefix) *Guard {
	g := &Guard{}
	for _, p := range allow {
		g.allow = append(g.allow, normalPrefix(p))
	}
	return g
}

// normalPrefix masks p, and turns an IPv4-mapped prefix (::ffff:a.b.c.d/N,
// N >= 96) into the IPv4 prefix it means.
func normalPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// ParsePrefixes reads CIDR prefixes ("10.0.0.0/8", "fd00::/8") or bare
// addresses (one address each).
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("address range %q: want a CIDR prefix such as 10.0.0.0/8 or an address", s)
			}
			p = netip.PrefixFrom(a.WithZone(""), a.BitLen())
		}
		out = append(out, normalPrefix(p))
	}
	return out, nil
}

// Check returns nil if a may be connected to: it is not special-purpose,
// or an allowed range holds it. Otherwise the error is a *RefusedError.
func (g *Guard) Check(a netip.Addr) error {
	a = a.WithZone("")
	rg, special := Special(a)
	if !special {
		return nil
	}
	for _, p := range g.allow {
		if p.Contains(a) || p.Contains(a.Unmap()) {
			return nil
		}
	}
	return &RefusedError{Addr: a, Range: rg}
}

// Control is a net.Dialer ControlContext hook: it checks the address the
// socket is about to connect to, after every name was resolved and every
// override applied.
func (g *Guard) Control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %s address %q: %w", network, address, err)
	}
	return g.Check(ap.Addr())
}

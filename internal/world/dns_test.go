package world

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// at is the "IP:PORT" of the world's nameserver on ip.
func at(w *World, ip string) string { return net.JoinHostPort(ip, fmt.Sprint(w.DNSPort())) }

func transfer(t *testing.T, server, zone string) ([]dns.RR, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetAxfr(dns.Fqdn(zone))
	env, err := new(dns.Transfer).In(m, server)
	if err != nil {
		return nil, err
	}
	var rrs []dns.RR
	for e := range env {
		if e.Error != nil {
			return rrs, e.Error
		}
		rrs = append(rrs, e.RR...)
	}
	return rrs, nil
}

func TestTransferAllowed(t *testing.T) {
	w := startWorld(t, Options{})
	for _, tc := range []struct {
		zone, server string
	}{
		{"test.", "127.53.0.1"},
		{"test.", "127.53.0.2"},
		{"com.test.", "127.53.1.1"},
		{"com.test.", "127.53.1.2"},
		{"org.test.", "127.53.2.1"},
		{"gov.test.", "127.53.3.1"},
		{"edu.test.", "127.53.4.1"},
		{"net.test.", "127.53.5.1"},
		{"rep.test.", "127.53.6.1"},
	} {
		t.Run(tc.zone+"@"+tc.server, func(t *testing.T) {
			rrs, err := transfer(t, at(w, tc.server), tc.zone)
			if err != nil {
				t.Fatalf("AXFR: %v", err)
			}
			if len(rrs) < 3 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
				t.Fatalf("transfer does not start and end with the SOA: %v", rrs)
			}
			if soa := rrs[0].(*dns.SOA); soa.Serial != Serial {
				t.Errorf("serial %d, want %d", soa.Serial, Serial)
			}
			var b strings.Builder
			for _, rr := range rrs {
				b.WriteString(rr.String() + "\n")
			}
			golden(t, "axfr/"+strings.TrimSuffix(tc.zone, ".")+".golden", []byte(b.String()))
		})
	}
}

// TestTransferTLDDelegations checks, independently of the golden file, that
// the TLD delegates every second-level zone and agency.test with glue.
func TestTransferTLDDelegations(t *testing.T) {
	w := startWorld(t, Options{})
	rrs, err := transfer(t, w.Nameserver(), "test.")
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string][]string{}
	glue := map[string]string{}
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.NS:
			ns[rr.Hdr.Name] = append(ns[rr.Hdr.Name], rr.Ns)
		case *dns.A:
			glue[rr.Hdr.Name] = rr.A.String()
		}
	}
	for _, child := range []string{"test.", "com.test.", "org.test.", "gov.test.", "edu.test.", "net.test.", "rep.test.", "agency.test."} {
		if len(ns[child]) == 0 {
			t.Errorf("no NS for %s in the TLD zone", child)
		}
		for _, n := range ns[child] {
			if !strings.HasPrefix(glue[n], "127.53.") {
				t.Errorf("no glue for %s (NS of %s)", n, child)
			}
		}
	}
	if len(ns) != 8 {
		t.Errorf("TLD zone has NS sets at %d names, want 8: %v", len(ns), ns)
	}
}

func TestTransferRefused(t *testing.T) {
	w := startWorld(t, Options{})
	for _, tc := range []struct {
		zone, server string
		rcode        int
	}{
		{"friend.com.test.", "127.53.1.10", dns.RcodeRefused},     // the leaf's own server refuses
		{"agency.test.", "127.53.0.10", dns.RcodeRefused},         // the leaf under the TLD too
		{"mail.net.test.", "127.53.5.14", dns.RcodeRefused},       // and the one without a web site
		{"friend.com.test.", "127.53.1.1", dns.RcodeNotAuth},      // the parent holds only the cut
		{"example.org.", "127.53.0.1", dns.RcodeRefused},          // outside the world
		{"com.test.", "127.53.0.1", dns.RcodeNotAuth},             // the TLD server is not com.test's
		{"www.friend.com.test.", "127.53.1.10", dns.RcodeRefused}, // not an apex, and refused anyway
	} {
		t.Run(tc.zone+"@"+tc.server, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetAxfr(tc.zone)
			c := &dns.Client{Net: "tcp"}
			r, _, err := c.Exchange(m, at(w, tc.server))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if len(r.Answer) != 0 {
				t.Errorf("refused transfer carries records: %v", r.Answer)
			}
		})
	}
	t.Run("over UDP", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetAxfr("test.")
		r, _, err := new(dns.Client).Exchange(m, w.Nameserver())
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeFormatError {
			t.Errorf("AXFR over UDP: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
}

// section renders records as sorted "name type data" lines without TTLs.
func section(rrs []dns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		f := strings.SplitN(rr.String(), "\t", 5)
		out = append(out, f[0]+" "+f[3]+" "+f[4])
	}
	sort.Strings(out)
	return out
}

func TestQueries(t *testing.T) {
	w := startWorld(t, Options{})
	soa := func(zone string) string {
		return fmt.Sprintf("%s SOA ns1.%s hostmaster.%s %d 3600 900 604800 300", zone, zone, zone, Serial)
	}
	for _, tc := range []struct {
		name           string
		server         string
		qname          string
		qtype          uint16
		net            string
		rcode          int
		aa             bool
		answer, ns, ex []string
	}{
		{name: "leaf apex A", server: "127.53.1.10", qname: "friend.com.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"friend.com.test. A 127.1.0.10"}},
		{name: "leaf apex A over TCP", server: "127.53.1.11", qname: "friend.com.test.", qtype: dns.TypeA, net: "tcp", aa: true,
			answer: []string{"friend.com.test. A 127.1.0.10"}},
		{name: "www CNAME chased in zone", server: "127.53.1.10", qname: "WWW.Friend.com.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"friend.com.test. A 127.1.0.10", "www.friend.com.test. CNAME friend.com.test."}},
		{name: "CNAME itself", server: "127.53.1.10", qname: "www.friend.com.test.", qtype: dns.TypeCNAME, aa: true,
			answer: []string{"www.friend.com.test. CNAME friend.com.test."}},
		{name: "two addresses", server: "127.53.1.12", qname: "www.airline.com.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"www.airline.com.test. A 127.1.1.1", "www.airline.com.test. A 127.1.1.2"}},
		{name: "AAAA nothing serves", server: "127.53.4.16", qname: "museum.edu.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{"museum.edu.test. AAAA fd7e:57::1"}},
		{name: "NODATA with SOA", server: "127.53.1.10", qname: "friend.com.test.", qtype: dns.TypeAAAA, aa: true,
			ns: []string{soa("friend.com.test.")}},
		{name: "NXDOMAIN with SOA", server: "127.53.1.10", qname: "nothing.friend.com.test.", qtype: dns.TypeA, aa: true,
			rcode: dns.RcodeNameError, ns: []string{soa("friend.com.test.")}},
		{name: "MX with the exchange's address", server: "127.53.1.10", qname: "friend.com.test.", qtype: dns.TypeMX, aa: true,
			answer: []string{"friend.com.test. MX 10 relay.friend.com.test."}, ex: []string{"relay.friend.com.test. A 127.25.1.1"}},
		{name: "TXT", server: "127.53.1.10", qname: "friend.com.test.", qtype: dns.TypeTXT, aa: true,
			answer: []string{`friend.com.test. TXT "friendship with every country"`, `friend.com.test. TXT "v=spf1 mx -all"`}},
		{name: "no web address", server: "127.53.5.14", qname: "mail.net.test.", qtype: dns.TypeA, aa: true,
			ns: []string{soa("mail.net.test.")}},
		{name: "only www has an address", server: "127.53.6.16", qname: "gnu.rep.test.", qtype: dns.TypeA, aa: true,
			ns: []string{soa("gnu.rep.test.")}},
		{name: "IDN", server: "127.53.1.18", qname: "xn--og5b13x.com.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"xn--og5b13x.com.test. A 127.1.0.20"}},
		{name: "TLD refers to com.test with glue", server: "127.53.0.1", qname: "www.friend.com.test.", qtype: dns.TypeA,
			ns: []string{"com.test. NS ns1.com.test.", "com.test. NS ns2.com.test."},
			ex: []string{"ns1.com.test. A 127.53.1.1", "ns2.com.test. A 127.53.1.2"}},
		{name: "com.test refers to the leaf with glue", server: "127.53.1.1", qname: "friend.com.test.", qtype: dns.TypeA,
			ns: []string{"friend.com.test. NS ns1.friend.com.test.", "friend.com.test. NS ns2.friend.com.test."},
			ex: []string{"ns1.friend.com.test. A 127.53.1.10", "ns2.friend.com.test. A 127.53.1.11"}},
		{name: "glue name is referred, not answered", server: "127.53.1.1", qname: "ns1.friend.com.test.", qtype: dns.TypeA,
			ns: []string{"friend.com.test. NS ns1.friend.com.test.", "friend.com.test. NS ns2.friend.com.test."},
			ex: []string{"ns1.friend.com.test. A 127.53.1.10", "ns2.friend.com.test. A 127.53.1.11"}},
		{name: "TLD refers to agency.test", server: "127.53.0.2", qname: "agency.test.", qtype: dns.TypeA,
			ns: []string{"agency.test. NS ns1.agency.test."}, ex: []string{"ns1.agency.test. A 127.53.0.10"}},
		{name: "zone's own NS is authoritative", server: "127.53.1.1", qname: "com.test.", qtype: dns.TypeNS, aa: true,
			answer: []string{"com.test. NS ns1.com.test.", "com.test. NS ns2.com.test."},
			ex:     []string{"ns1.com.test. A 127.53.1.1", "ns2.com.test. A 127.53.1.2"}},
		{name: "DS at a cut answered by the parent", server: "127.53.1.1", qname: "friend.com.test.", qtype: dns.TypeDS, aa: true,
			ns: []string{soa("com.test.")}},
		{name: "NXDOMAIN in a second-level zone", server: "127.53.1.1", qname: "nosuch.com.test.", qtype: dns.TypeA, aa: true,
			rcode: dns.RcodeNameError, ns: []string{soa("com.test.")}},
		{name: "leaf server refuses another zone", server: "127.53.1.10", qname: "agency.test.", qtype: dns.TypeA,
			rcode: dns.RcodeRefused},
		{name: "leaf server refuses its parent", server: "127.53.1.10", qname: "com.test.", qtype: dns.TypeSOA,
			rcode: dns.RcodeRefused},
		{name: "no recursion outside the world", server: "127.53.0.1", qname: "example.org.", qtype: dns.TypeA,
			rcode: dns.RcodeRefused},
		{name: "IXFR not implemented", server: "127.53.0.1", qname: "test.", qtype: dns.TypeIXFR,
			rcode: dns.RcodeNotImplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(tc.qname, tc.qtype)
			m.RecursionDesired = true
			r, _, err := (&dns.Client{Net: tc.net}).Exchange(m, at(w, tc.server))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if r.Authoritative != tc.aa {
				t.Errorf("AA %v, want %v", r.Authoritative, tc.aa)
			}
			if r.RecursionAvailable {
				t.Error("RA set: the world does not recurse")
			}
			if !r.RecursionDesired {
				t.Error("RD not copied from the query")
			}
			for _, s := range []struct {
				what      string
				got, want []string
			}{{"answer", section(r.Answer), tc.answer}, {"authority", section(r.Ns), tc.ns}, {"additional", section(r.Extra), tc.ex}} {
				if s.want == nil {
					s.want = []string{}
				}
				sort.Strings(s.want)
				if !slices.Equal(s.got, s.want) {
					t.Errorf("%s:\n got %q\nwant %q", s.what, s.got, s.want)
				}
			}
		})
	}
}

// TestResolveEverySite resolves every web host of every site the way
// discovery must: from the TLD nameserver, following referrals and glue, then
// asking the leaf's own nameservers. The addresses must be the ground truth.
func TestResolveEverySite(t *testing.T) {
	w := startWorld(t, Options{})
	resolve := func(name string) ([]string, error) {
		server := w.Nameserver()
		for range 6 {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.RecursionDesired = false
			r, _, err := new(dns.Client).Exchange(m, server)
			if err != nil {
				return nil, err
			}
			if r.Authoritative {
				var addrs []string
				for _, rr := range r.Answer {
					if a, ok := rr.(*dns.A); ok {
						addrs = append(addrs, a.A.String())
					}
				}
				sort.Strings(addrs)
				return addrs, nil
			}
			var next string
			for _, rr := range r.Extra {
				if a, ok := rr.(*dns.A); ok {
					next = at(w, a.A.String())
					break
				}
			}
			if next == "" {
				return nil, fmt.Errorf("%s: neither an answer nor a referral with glue from %s: %v", name, server, r)
			}
			server = next
		}
		return nil, fmt.Errorf("%s: too many referrals", name)
	}
	for _, s := range w.Sites() {
		for _, h := range s.Hosts {
			got, err := resolve(dns.Fqdn(h))
			if err != nil {
				t.Errorf("resolve %s: %v", h, err)
				continue
			}
			if !slices.Equal(got, s.Addrs) {
				t.Errorf("%s resolves to %v, want %v", h, got, s.Addrs)
			}
		}
	}
}

// FuzzNameserver feeds arbitrary messages to a nameserver holding every zone:
// it must answer each one without panicking, with a message that packs.
func FuzzNameserver(f *testing.F) {
	zones, err := buildZones()
	if err != nil {
		f.Fatal(err)
	}
	s := &nameserver{zones: zones}
	for _, q := range []struct {
		name string
		t    uint16
	}{{"www.friend.com.test.", dns.TypeA}, {"test.", dns.TypeANY}, {"x.y.z.com.test.", dns.TypeDS}, {".", dns.TypeNS}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.t)
		m.SetEdns0(4096, false)
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(raw); err != nil {
			return
		}
		r := s.answer(m)
		if _, err := r.Pack(); err != nil {
			t.Fatalf("answer to %v does not pack: %v", m, err)
		}
	})
}

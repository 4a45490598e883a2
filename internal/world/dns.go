package world

import (
	"log/slog"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// nameserver answers DNS queries at one address of the world. It is
// authoritative for the zones served there and for nothing else: like a real
// authoritative-only server it refuses questions outside its zones and never
// recurses.
type nameserver struct {
	addr  string
	zones []*Zone
	log   *slog.Logger
}

// udpLimit is the largest UDP answer the world sends, whatever the client
// advertises (the DNS flag day 2020 figure).
const udpLimit = 1232

// axfrChunk is how many records go in one message of a zone transfer; small
// enough that a message never approaches 64 KiB.
const axfrChunk = 100

func (s *nameserver) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	_, tcp := w.RemoteAddr().(*net.TCPAddr)
	if len(r.Question) == 1 && r.Opcode == dns.OpcodeQuery && r.Question[0].Qtype == dns.TypeAXFR {
		s.transfer(w, r, tcp)
		return
	}
	m := s.answer(r)
	opt := r.IsEdns0()
	size := dns.MaxMsgSize
	if !tcp {
		size = dns.MinMsgSize
		if opt != nil {
			size = min(max(int(opt.UDPSize()), dns.MinMsgSize), udpLimit)
		}
	}
	if opt != nil {
		m.SetEdns0(udpLimit, false)
		if opt.Version() != 0 {
			m.Rcode = dns.RcodeBadVers
			m.Answer, m.Ns = nil, nil
		}
	}
	m.Truncate(size)
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns: write answer", "server", s.addr, "err", err)
	}
}

// answer builds the reply to an ordinary query.
func (s *nameserver) answer(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = false
	if r.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	z := s.zoneFor(name)
	if z == nil || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	if q.Qtype == dns.TypeIXFR {
		// No history is kept; clients fall back to AXFR.
		m.Rcode = dns.RcodeNotImplemented
		return m
	}

	if cut := z.cut(name, q.Qtype); cut != "" {
		// A referral: not authoritative, the child's NS set in the
		// authority section and the glue that reaches it.
		ns := z.names[cut]
		m.Ns = copyRRs(ofType(ns, dns.TypeNS))
		m.Extra = z.addresses(m.Ns)
		return m
	}

	m.Authoritative = true
	if !z.exists[name] {
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{dns.Copy(z.soa())}
		return m
	}
	m.Answer = z.lookup(name, q.Qtype)
	if len(m.Answer) == 0 {
		// NODATA: the name exists, the type does not.
		m.Ns = []dns.RR{dns.Copy(z.soa())}
		return m
	}
	// Addresses of nameservers and mail exchangers in the zone save the
	// client a round trip, as real servers do.
	m.Extra = z.addresses(m.Answer)
	return m
}

// transfer answers AXFR: the whole zone, SOA first and last, over TCP only.
func (s *nameserver) transfer(w dns.ResponseWriter, r *dns.Msg, tcp bool) {
	name := strings.ToLower(r.Question[0].Name)
	z := s.zoneFor(name)
	fail := func(rcode int) {
		m := new(dns.Msg)
		m.SetRcode(r, rcode)
		if err := w.WriteMsg(m); err != nil {
			s.log.Debug("dns: write transfer refusal", "server", s.addr, "err", err)
		}
	}
	switch {
	case !tcp:
		// RFC 5936 §4.2: AXFR is a TCP affair.
		fail(dns.RcodeFormatError)
		return
	case z == nil || !z.Transfer:
		fail(dns.RcodeRefused)
		return
	case name != z.Name:
		fail(dns.RcodeNotAuth)
		return
	}
	records := append(copyRRs(z.records), dns.Copy(z.soa()))
	for start := 0; start < len(records); start += axfrChunk {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		m.Compress = true
		m.Answer = records[start:min(start+axfrChunk, len(records))]
		if err := w.WriteMsg(m); err != nil {
			s.log.Debug("dns: write transfer", "server", s.addr, "zone", z.Name, "err", err)
			return
		}
	}
}

// zoneFor returns the most specific zone served here that contains name.
func (s *nameserver) zoneFor(name string) *Zone {
	var best *Zone
	for _, z := range s.zones {
		if dns.IsSubDomain(z.Name, name) && (best == nil || len(z.Name) > len(best.Name)) {
			best = z
		}
	}
	return best
}

// cut returns the delegation point at or above name inside the zone, or ""
// when name is the zone's own data. The DS of a child lives on the parent
// side of the cut, so a DS question at the cut itself is not referred.
func (z *Zone) cut(name string, qtype uint16) string {
	found := ""
	for n := name; n != z.Name && dns.IsSubDomain(z.Name, n); {
		if len(ofType(z.names[n], dns.TypeNS)) > 0 && (n != name || qtype != dns.TypeDS) {
			found = n // keep walking: the highest cut wins
		}
		off, end := dns.NextLabel(n, 0)
		if end {
			break
		}
		n = n[off:]
	}
	return found
}

// lookup returns the records answering name/qtype, following CNAMEs inside
// the zone (never outside: the world does not recurse).
func (z *Zone) lookup(name string, qtype uint16) []dns.RR {
	var answer []dns.RR
	for range 8 { // a CNAME chain longer than this is a loop
		rrs := z.names[name]
		if qtype == dns.TypeANY {
			return append(answer, copyRRs(rrs)...)
		}
		if match := ofType(rrs, qtype); len(match) > 0 {
			return append(answer, copyRRs(match)...)
		}
		cname := ofType(rrs, dns.TypeCNAME)
		if len(cname) == 0 || qtype == dns.TypeCNAME {
			return answer
		}
		answer = append(answer, dns.Copy(cname[0]))
		name = strings.ToLower(cname[0].(*dns.CNAME).Target)
		if !dns.IsSubDomain(z.Name, name) || z.cut(name, qtype) != "" {
			return answer
		}
	}
	return answer
}

// addresses returns the A and AAAA records the zone holds for the targets of
// NS and MX records among rrs (glue, for referrals).
func (z *Zone) addresses(rrs []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, rr := range rrs {
		var target string
		switch rr := rr.(type) {
		case *dns.NS:
			target = rr.Ns
		case *dns.MX:
			target = rr.Mx
		default:
			continue
		}
		for _, a := range z.names[strings.ToLower(target)] {
			if t := a.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
				extra = append(extra, dns.Copy(a))
			}
		}
	}
	return extra
}

func ofType(rrs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// copyRRs copies records before they go into a message, so concurrent
// answers never share the zone's own values.
func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

package discover

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// query asks one server one question without recursion (RD=0), over UDP
// with EDNS0, and again over TCP when the answer is truncated: miekg/dns
// does not fall back by itself. Every query is reported as a Lookup.
func (r *run) query(ctx context.Context, server, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	start := time.Now()
	c := &dns.Client{Net: "udp", Timeout: r.cfg.Timeout}
	resp, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, server)
	}
	l := Lookup{Name: display(dns.CanonicalName(name)), Type: dns.TypeToString[qtype], Server: server, Time: start}
	if err == nil {
		l.Rcode = dns.RcodeToString[resp.Rcode]
		var b strings.Builder
		for _, rr := range resp.Answer {
			b.WriteString(rr.String())
			b.WriteByte('\n')
		}
		l.Answer = b.String()
	}
	r.report(func(s *Summary) {
		s.Lookups++
		if r.cfg.OnLookup != nil {
			r.cfg.OnLookup(l)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", l.Name, l.Type, server, err)
	}
	return resp, nil
}

// authority answers questions about one zone from its servers: it tries
// each server until one answers authoritatively and then keeps asking that
// one (a lame server is not asked again).
type authority struct {
	r       *run
	zone    string   // canonical FQDN
	servers []string // IP:port
	good    int      // index of the server that last answered with AA, -1 none yet
	lame    map[int]error
}

func (r *run) authority(zone string, servers []string) *authority {
	return &authority{r: r, zone: zone, servers: servers, good: -1, lame: map[int]error{}}
}

// ask returns an authoritative answer (NOERROR or NXDOMAIN with AA) or the
// last error when no server gave one.
func (a *authority) ask(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	order := make([]int, 0, len(a.servers))
	if a.good >= 0 {
		order = append(order, a.good)
	}
	for i := range a.servers {
		if i != a.good {
			order = append(order, i)
		}
	}
	var last error = fmt.Errorf("zone %s: %w", display(a.zone), ErrNoServers)
	for _, i := range order {
		if err, bad := a.lame[i]; bad {
			last = err
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		resp, err := a.r.query(ctx, a.servers[i], name, qtype)
		switch {
		case err != nil:
			a.lame[i] = err
			last = err
			continue
		case !resp.Authoritative || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError):
			err = fmt.Errorf("query %s %s at %s: %s, aa=%v: %w", display(dns.CanonicalName(name)), dns.TypeToString[qtype], a.servers[i], dns.RcodeToString[resp.Rcode], resp.Authoritative, ErrNotAuthoritative)
			a.lame[i] = err
			last = err
			continue
		}
		a.good = i
		return resp, nil
	}
	return nil, last
}

// probeResult is what direct queries found about one name.
type probeResult struct {
	addrs  []netip.Addr
	exists bool // some record (address or CNAME) answered for it
	web    bool // addresses, or a CNAME chain leaving the zone
}

// probe asks the zone's servers for A, AAAA and CNAME of name and follows
// in-zone CNAMEs (each hop asked again), up to maxChain hops.
func (a *authority) probe(ctx context.Context, name string) (probeResult, error) {
	var res probeResult
	seen := map[string]bool{}
	cur := dns.CanonicalName(name)
	for hop := 0; hop <= maxChain && !seen[cur]; hop++ {
		seen[cur] = true
		next := ""
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME} {
			resp, err := a.ask(ctx, cur, qt)
			if err != nil {
				return res, err
			}
			for _, rr := range resp.Answer {
				if dns.CanonicalName(rr.Header().Name) != cur {
					continue // a chain the server followed for us; we ask each hop ourselves
				}
				switch rr := rr.(type) {
				case *dns.A, *dns.AAAA:
					if ad, ok := rrAddr(rr); ok {
						res.addrs = appendAddr(res.addrs, ad)
					}
				case *dns.CNAME:
					next = dns.CanonicalName(rr.Target)
				}
			}
		}
		if len(res.addrs) > 0 {
			res.exists, res.web = true, true
			return res, nil
		}
		if next == "" {
			return res, nil
		}
		res.exists = true
		if !dns.IsSubDomain(a.zone, next) {
			res.web = true // out of zone: the crawler resolves it
			return res, nil
		}
		cur = next
	}
	return res, nil
}

func appendAddr(list []netip.Addr, a netip.Addr) []netip.Addr {
	for _, x := range list {
		if x == a {
			return list
		}
	}
	return append(list, a)
}

package discover

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// AXFR behaviours of a test zone.
const (
	axfrRefuse   = "refuse"
	axfrNotAuth  = "notauth"
	axfrCut      = "cut"      // send part of the zone, then close
	axfrSOABad   = "soa-bad"  // closing SOA with another serial
	axfrHang     = "hang"     // never answer
	axfrOutside  = "outside"  // include a record outside the zone
	axfrBadFirst = "badfirst" // first record is not the SOA
)

// testZone is a zone a test server is authoritative for.
type testZone struct {
	apex  string
	rrs   []dns.RR
	axfr  string
	chunk int // records per AXFR message (default 2, so small zones span several)
}

func parseZoneText(t testing.TB, origin, text string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), dns.Fqdn(origin), "")
	zp.SetDefaultTTL(3600)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone %s: %v", origin, err)
	}
	return out
}

// testServer is a real authoritative DNS server (UDP and TCP) on one
// loopback address, built from zone text.
type testServer struct {
	mu      sync.Mutex
	zones   map[string]*testZone
	queries atomic.Int64
	delay   time.Duration
	gauge   *gauge       // shared across servers, optional
	rd      atomic.Int64 // queries that asked for recursion
}

// gauge measures the most queries in flight at once over several servers.
type gauge struct{ now, max atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *gauge) leave() { g.now.Add(-1) }

// freePort finds a port free on 127.0.0.1 for both TCP and UDP; tests use
// one port for many 127.x addresses, as delegations carry no port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startServer(t testing.TB, ip string, port int, zones ...*testZone) *testServer {
	t.Helper()
	s := &testServer{zones: map[string]*testZone{}}
	for _, z := range zones {
		s.zones[dns.CanonicalName(z.apex)] = z
	}
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		l.Close()
		t.Fatalf("listen udp %s: %v", addr, err)
	}
	ready := make(chan struct{}, 2)
	notify := func() { ready <- struct{}{} }
	tcp := &dns.Server{Listener: l, Handler: s, NotifyStartedFunc: notify}
	udp := &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: notify}
	go tcp.ActivateAndServe()
	go udp.ActivateAndServe()
	<-ready
	<-ready
	t.Cleanup(func() {
		tcp.Shutdown()
		udp.Shutdown()
	})
	return s
}

func (s *testServer) zoneFor(name string) *testZone {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *testZone
	for apex, z := range s.zones {
		if dns.IsSubDomain(apex, name) && (best == nil || dns.CountLabel(apex) > dns.CountLabel(best.apex)) {
			best = z
		}
	}
	return best
}

func (s *testServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	s.queries.Add(1)
	if r.RecursionDesired {
		s.rd.Add(1)
	}
	// The gauge is left before the answer goes out, so a client that has
	// its answer is never still counted.
	if s.gauge != nil {
		s.gauge.enter()
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.gauge != nil {
		s.gauge.leave()
	}
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	qname := dns.CanonicalName(q.Name)
	z := s.zoneFor(qname)
	m := new(dns.Msg)
	m.SetReply(r)
	if z == nil {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	if q.Qtype == dns.TypeAXFR {
		if qname != dns.CanonicalName(z.apex) {
			m.Rcode = dns.RcodeNotAuth // not a zone of ours, as real servers say
			w.WriteMsg(m)
			return
		}
		s.serveAXFR(w, r, z)
		return
	}
	// A referral when the name is at or below a cut.
	for _, rr := range z.rrs {
		owner := dns.CanonicalName(rr.Header().Name)
		if rr.Header().Rrtype == dns.TypeNS && owner != dns.CanonicalName(z.apex) && dns.IsSubDomain(owner, qname) {
			for _, x := range z.rrs {
				if x.Header().Rrtype == dns.TypeNS && dns.CanonicalName(x.Header().Name) == owner {
					m.Ns = append(m.Ns, x)
					target := dns.CanonicalName(x.(*dns.NS).Ns)
					for _, g := range z.rrs {
						if dns.CanonicalName(g.Header().Name) == target && (g.Header().Rrtype == dns.TypeA || g.Header().Rrtype == dns.TypeAAAA) {
							m.Extra = append(m.Extra, g)
						}
					}
				}
			}
			w.WriteMsg(m)
			return
		}
	}
	m.Authoritative = true
	exists := false
	cur := qname
	for hop := 0; hop < 8; hop++ {
		var cname *dns.CNAME
		for _, rr := range z.rrs {
			owner := dns.CanonicalName(rr.Header().Name)
			if dns.IsSubDomain(cur, owner) {
				exists = true
			}
			if owner != cur {
				continue
			}
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			} else if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if cname == nil || q.Qtype == dns.TypeCNAME {
			break
		}
		m.Answer = append(m.Answer, cname)
		cur = dns.CanonicalName(cname.Target)
		if !dns.IsSubDomain(dns.CanonicalName(z.apex), cur) {
			break
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

func (s *testServer) serveAXFR(w dns.ResponseWriter, r *dns.Msg, z *testZone) {
	m := new(dns.Msg)
	m.SetReply(r)
	switch z.axfr {
	case axfrRefuse:
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	case axfrNotAuth:
		m.Rcode = dns.RcodeNotAuth
		w.WriteMsg(m)
		return
	case axfrHang:
		time.Sleep(3 * time.Second)
		return
	}
	var soa *dns.SOA
	var rest []dns.RR
	for _, rr := range z.rrs {
		if s, ok := rr.(*dns.SOA); ok && soa == nil {
			soa = s
			continue
		}
		rest = append(rest, rr)
	}
	closing := dns.Copy(soa).(*dns.SOA)
	first := dns.RR(soa)
	switch z.axfr {
	case axfrSOABad:
		closing.Serial++
	case axfrOutside:
		rr, _ := dns.NewRR("www.elsewhere.invalid. 300 IN A 192.0.2.1")
		rest = append(rest, rr)
	case axfrBadFirst:
		first = rest[0]
	}
	// Several envelopes, as real servers send, so a cut stream has
	// something before the cut.
	chunk := z.chunk
	if chunk <= 0 {
		chunk = 2
	}
	env := [][]dns.RR{{first}}
	for i := 0; i < len(rest); i += chunk {
		env = append(env, rest[i:min(i+chunk, len(rest))])
	}
	if z.axfr == axfrCut {
		env = env[:max(1, len(env)/2)]
	} else {
		env = append(env, []dns.RR{closing})
	}
	for _, rrs := range env {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		m.Answer = rrs
		if err := w.WriteMsg(m); err != nil {
			return
		}
	}
	w.Close()
}

// startGarbage starts a TCP server that answers anything with junk bytes.
func startGarbage(t testing.TB, ip string, port int) {
	t.Helper()
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				c.Read(buf)
				// A length prefix of 40 and 40 bytes that are no DNS message.
				c.Write(append([]byte{0, 40}, []byte(strings.Repeat("\xffgarbage", 5))...))
			}()
		}
	}()
}

// testLogger sends the package's warnings to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

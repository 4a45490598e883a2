package discover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// Reverse zones are never sites: their PTR records give addresses to the
// names they point at when those are in the scope of the zones read; a
// name with no address of its own gets theirs, and a name no forward zone
// reported becomes a host of its own.
func TestReverseZones(t *testing.T) {
	got, sum, err := readFiles(t, Config{}, "testdata/reverse.zone", "testdata/kp.zone", "testdata/com.kp.zone")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range got {
		if f := strings.Fields(l); strings.HasSuffix(f[0], ".arpa") || strings.HasSuffix(f[1], ".arpa") {
			t.Errorf("a reverse zone listed as a host or a site: %s", l)
		}
	}
	byName := map[string]string{}
	for _, l := range got {
		name, _, _ := strings.Cut(l, " ")
		byName[name] = l
	}
	want := map[string]string{
		// The forward data's own address stands; the PTR only confirms it.
		"ns1.kptc.kp": "ns1.kptc.kp site=kptc.kp role=nameserver src=A zone=kp addrs=198.51.100.15",
		// Delegations without an address get the PTR's, and so a crawl.
		"airline.com.kp": "airline.com.kp site=airline.com.kp role=web src=PTR zone=com.kp delegated addrs=203.0.113.69 ns=ns1.airline.com.kp,ns2.airline.com.kp",
		"shop.com.kp":    "shop.com.kp site=shop.com.kp role=web src=PTR zone=com.kp delegated addrs=203.0.113.77,203.0.113.78 ns=ns1.shop.com.kp",
		"friend.com.kp":  "friend.com.kp site=friend.com.kp role=none src=delegation zone=com.kp delegated ns=ns1.friend.com.kp,ns2.friend.com.kp",
		// Names no forward zone reported, in the site the files place them.
		"ns1.agency.kp":       "ns1.agency.kp site=agency.kp role=web src=PTR zone=100.51.198.in-addr.arpa addrs=198.51.100.8",
		"library.edu.kp":      "library.edu.kp site=edu.kp role=web src=PTR zone=113.0.203.in-addr.arpa addrs=203.0.113.90,2001:db8::67",
		"mail.library.edu.kp": "mail.library.edu.kp site=edu.kp role=web src=PTR zone=113.0.203.in-addr.arpa addrs=203.0.113.91",
		// An RFC 2317 classless owner name.
		"star.edu.kp": "star.edu.kp site=edu.kp role=web src=PTR zone=113.0.203.in-addr.arpa addrs=203.0.113.12",
	}
	for name, w := range want {
		if byName[name] != w {
			t.Errorf("%s:\n got  %s\n want %s", name, byName[name], w)
		}
	}
	for _, name := range []string{"relay.example.net", "smtp.friend.com.kp"} {
		if l, ok := byName[name]; ok {
			t.Errorf("%s listed: %s", name, l)
		}
	}
	// "#5.100.51.198.in-addr.arpa" is no address; relay.example.net is not
	// ours to crawl.
	wantDrops := map[string]int{DropBadReverse: 1, DropOutOfScope: 1}
	if !maps.Equal(sum.Drops, wantDrops) {
		t.Errorf("dropped %v, want %v", sum.Drops, wantDrops)
	}

	// Alone, the reverse zones name nothing in scope: no host, no site.
	got, sum, err = readFiles(t, Config{}, "testdata/reverse.zone")
	if !errors.Is(err, ErrNothingFound) || len(got) > 0 || sum.Drops[DropOutOfScope] != 11 {
		t.Errorf("reverse zones alone: %v %v %v", err, got, sum.Drops)
	}
}

func TestReverseAddr(t *testing.T) {
	for owner, want := range map[string]string{
		"4.3.2.1.in-addr.arpa.":          "1.2.3.4",
		"10.0/25.2.0.192.in-addr.arpa.":  "192.0.2.10",
		"10.0-127.2.0.192.in-addr.arpa.": "192.0.2.10",
		"2.0.192.in-addr.arpa.":          "",
		"#10.2.0.192.in-addr.arpa.":      "",
		"256.2.0.192.in-addr.arpa.":      "",
		"1.4.3.2.1.in-addr.arpa.":        "",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.": "2001:db8::1",
		"1.0.8.b.d.0.1.0.0.2.ip6.arpa.":                                             "",
		"www.example.":                                                              "",
	} {
		a, ok := reverseAddr(owner)
		if got := map[bool]string{true: a.String(), false: ""}[ok]; got != want {
			t.Errorf("reverseAddr(%s) = %q, want %q", owner, got, want)
		}
	}
}

// A reverse zone transferred live is not a site either, a refused one is
// not probed, and its PTR records serve the forward zone named with it.
func TestReverseLive(t *testing.T) {
	port := freePort(t)
	fwd := "$ORIGIN t.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 127.0.14.1\n"
	rev := "$ORIGIN 2.0.192.in-addr.arpa.\n@ SOA ns.t. host.t. 1 2 3 4 5\n@ NS ns.t.\n7 PTR www.t.\n8 PTR elsewhere.example.\n"
	closed := "$ORIGIN 3.0.192.in-addr.arpa.\n@ SOA ns.t. host.t. 1 2 3 4 5\n@ NS ns.t.\n9 PTR www.t.\n"
	startServer(t, "127.0.14.1", port,
		&testZone{apex: "t", rrs: parseZoneText(t, "t", fwd)},
		&testZone{apex: "2.0.192.in-addr.arpa", rrs: parseZoneText(t, "2.0.192.in-addr.arpa", rev)},
		&testZone{apex: "3.0.192.in-addr.arpa", rrs: parseZoneText(t, "3.0.192.in-addr.arpa", closed), axfr: axfrRefuse})
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.14.1:%d", port)}, Port: port, Logger: testLogger(t)})
	sum, err := Discover(context.Background(), cfg, "t", "2.0.192.in-addr.arpa", "3.0.192.in-addr.arpa")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ns.t site=t role=nameserver src=A zone=t addrs=127.0.14.1",
		"t site=t role=none src=delegation zone=t delegated ns=ns.t",
		"www.t site=t role=web src=PTR zone=2.0.192.in-addr.arpa addrs=192.0.2.7",
	}
	checkLines(t, "hosts", c.lines(), want)
	if sum.Refused != 1 || sum.Probed != 0 || sum.Drops[DropOutOfScope] != 1 || sum.Errors != 1 {
		t.Errorf("summary %+v", sum)
	}
	for _, l := range c.lookups {
		if strings.HasPrefix(l.Name, "www.3.0.192") || l.Name == "3.0.192.in-addr.arpa" {
			t.Errorf("probed the refused reverse zone: %+v", l)
		}
	}
}

// A domain named only by its nameservers (hub.t, from ns1.hub.t in the t
// zone, with no cut at hub.t) is a domain: offline it is listed as a site,
// live it is visited like a delegation (transferred, or its apex and www
// probed), and its nameserver is reported once.
func TestNameserverOnlyDomain(t *testing.T) {
	got, _, err := readFiles(t, Config{}, "testdata/kp.zone")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"kptc.kp site=kptc.kp role=none src=NS zone=kp ns=ns1.kptc.kp,ns2.kptc.kp,ns3.kptc.kp",
		"ns1.kptc.kp site=kptc.kp role=nameserver src=A zone=kp addrs=198.51.100.15",
		"ns2.kptc.kp site=kptc.kp role=nameserver src=A zone=kp addrs=198.51.100.16",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("offline: no %q in\n%s", w, strings.Join(got, "\n"))
		}
	}

	port := freePort(t)
	parent := `$ORIGIN t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.15.1
a NS ns1.hub
b NS ns1.hub2
ns1.hub A 127.0.15.2
ns1.hub2 A 127.0.15.3
`
	startServer(t, "127.0.15.1", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", parent)})
	hub := "$ORIGIN hub.t.\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 127.0.15.2\n@ A 192.0.2.60\nwww A 192.0.2.61\n"
	hub2 := "$ORIGIN hub2.t.\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 127.0.15.3\nwww A 192.0.2.62\nftp A 192.0.2.63\n"
	startServer(t, "127.0.15.2", port, &testZone{apex: "hub.t", rrs: parseZoneText(t, "hub.t", hub), axfr: axfrRefuse},
		&testZone{apex: "a.t", rrs: parseZoneText(t, "a.t", childZoneText("a.t", "127.0.15.2", 1, "")), axfr: axfrRefuse})
	startServer(t, "127.0.15.3", port, &testZone{apex: "hub2.t", rrs: parseZoneText(t, "hub2.t", hub2)},
		&testZone{apex: "b.t", rrs: parseZoneText(t, "b.t", childZoneText("b.t", "127.0.15.3", 2, "")), axfr: axfrRefuse})
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.15.1:%d", port)}, Port: port, Logger: testLogger(t)})
	if _, err := Discover(context.Background(), cfg, "t"); err != nil {
		t.Fatal(err)
	}
	lines := slices.DeleteFunc(c.lines(), func(l string) bool { name, _, _ := strings.Cut(l, " "); return !strings.Contains(name, "hub") })
	want := []string{
		"ftp.hub2.t site=hub2.t role=web src=A zone=hub2.t addrs=192.0.2.63",
		"hub.t site=hub.t role=web src=probe zone=t addrs=192.0.2.60 ns=ns1.hub.t",
		// Transferred: a zone apex, without an address of its own.
		"hub2.t site=hub2.t role=none src=delegation zone=t delegated ns=ns1.hub2.t",
		"ns1.hub.t site=hub.t role=nameserver src=A zone=t addrs=127.0.15.2",
		"ns1.hub2.t site=hub2.t role=nameserver src=A zone=t addrs=127.0.15.3",
		"www.hub.t site=hub.t role=web src=probe zone=hub.t addrs=192.0.2.61",
		"www.hub2.t site=hub2.t role=web src=A zone=hub2.t addrs=192.0.2.62",
	}
	checkLines(t, "hosts of the domains named by their nameservers", lines, want)
}

// tripwire is a resolver that counts every use; an offline run must never
// use it.
func tripwire() (*net.Resolver, *atomic.Int64) {
	var calls atomic.Int64
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		calls.Add(1)
		return nil, errors.New("offline run used the resolver")
	}}, &calls
}

// --offline touches no network: no transfer, no query, no resolver, even
// with the zone named and --ns given; the hosts read from the files are
// the answer.
func TestOfflineTouchesNothing(t *testing.T) {
	port := freePort(t)
	server := startServer(t, "127.0.16.1", port) // answers nothing; only counts
	resolver, calls := tripwire()
	base := Config{Offline: true, Nameservers: []string{fmt.Sprintf("127.0.16.1:%d", port)}, Port: port,
		Resolver: resolver, Logger: testLogger(t)}

	// A named zone with no file: nothing to be had offline, said so.
	var c collector
	_, err := Discover(context.Background(), c.config(base), "kp.")
	if !errors.Is(err, ErrNothingFound) {
		t.Errorf("named zone, no file: %v", err)
	}

	// kp. named and read from kp.zone: its hosts, exit status 0.
	c = collector{}
	cfg := c.config(base)
	cfg.ZoneFiles = []string{"testdata/kp.zone"}
	sum, err := Discover(context.Background(), cfg, "kp.", "elsewhere.")
	if err != nil {
		t.Fatalf("offline with kp.zone: %v", err)
	}
	if sum.Hosts != 8 || sum.Files != 1 || sum.Attempts+sum.Lookups > 0 {
		t.Errorf("summary %+v", sum)
	}
	if sum.Errors != 1 {
		t.Errorf("%d problems, want 1: elsewhere. is in no file", sum.Errors)
	}
	if n, q := calls.Load(), server.queries.Load(); n+q > 0 {
		t.Errorf("offline: %d resolver uses, %d queries to --ns", n, q)
	}
}

// A refused transfer that is then probed is the normal course of things:
// logged at info level, not a problem. A zone nothing could be learned
// from is one.
func TestRefusedIsNormal(t *testing.T) {
	port := startTree(t, "t", "127.0.17.1", []child{
		{label: "refused", ip: "127.0.17.2", axfr: axfrRefuse},
		{label: "notauth", ip: "127.0.17.3", axfr: axfrNotAuth},
		{label: "lame", ip: "127.0.17.4", axfr: "lame"},
	}, nil, 0)
	msgs := &messages{}
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.17.1:%d", port)}, Port: port,
		Logger: slog.New(msgs)})
	sum, err := Discover(context.Background(), cfg, "t")
	if err != nil {
		t.Fatal(err)
	}
	var warns, refusals []string
	for _, m := range msgs.list {
		switch {
		case strings.HasPrefix(m, "WARN"):
			warns = append(warns, m)
		case strings.HasPrefix(m, "INFO") && strings.Contains(m, "refused"):
			refusals = append(refusals, m)
		}
	}
	if sum.Probed != 2 || sum.Lame != 1 || sum.Errors != 1 || len(warns) != 1 || !strings.Contains(warns[0], "lame.t") {
		t.Errorf("probed %d, lame %d, problems %d; warnings %q", sum.Probed, sum.Lame, sum.Errors, warns)
	}
	if len(refusals) != 2 {
		t.Errorf("refusals logged at info: %q", refusals)
	}
}

package discover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// child is one delegated zone of a test tree, served at its own address.
type child struct {
	label string
	ip    string
	axfr  string
	extra string // more zone text
}

func childZoneText(zone, ip string, n int, extra string) string {
	return fmt.Sprintf(`$ORIGIN %s.
@   SOA ns host %d 2 3 4 5
@   NS  ns
ns  A   %s
www A   192.0.2.%d
%s`, zone, 2026000000+n, ip, n, extra)
}

// startTree serves zone parent at parentIP delegating every child (with
// glue) to a server of its own; all on one port. It returns the port.
func startTree(t testing.TB, parent, parentIP string, kids []child, g *gauge, delay time.Duration) int {
	t.Helper()
	port := freePort(t)
	text := fmt.Sprintf("$ORIGIN %s.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A %s\n", parent, parentIP)
	for i, k := range kids {
		if k.ip == "" {
			continue
		}
		zone := k.label + "." + parent
		text += fmt.Sprintf("%s NS ns.%s\nns.%s A %s\n", k.label, k.label, k.label, k.ip)
		switch k.axfr {
		case "closed":
			continue // nothing listens
		case "garbage":
			startGarbage(t, k.ip, port)
			continue
		case "lame": // serves only the parent's delegation: refers, never AA
			ptext := fmt.Sprintf("$ORIGIN %s.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\n%s NS ns.%s\n", parent, k.label, k.label)
			startServer(t, k.ip, port, &testZone{apex: parent, rrs: parseZoneText(t, parent, ptext)})
			continue
		}
		s := startServer(t, k.ip, port, &testZone{apex: zone, axfr: k.axfr,
			rrs: parseZoneText(t, zone, childZoneText(zone, k.ip, i+1, k.extra))})
		s.gauge, s.delay = g, delay
	}
	s := startServer(t, parentIP, port, &testZone{apex: parent, rrs: parseZoneText(t, parent, text)})
	s.gauge, s.delay = g, delay
	return port
}

// Every kind of bad transfer is classified, reported clearly, and the rest
// of the discovery goes on: the good zones are transferred, the bad ones
// probed.
func TestBadTransfers(t *testing.T) {
	var big strings.Builder
	for i := range 60 {
		fmt.Fprintf(&big, "h%d A 192.0.2.200\n", i)
	}
	kids := []child{
		{label: "good", ip: "127.0.1.2"},
		{label: "refused", ip: "127.0.1.3", axfr: axfrRefuse},
		{label: "notauth", ip: "127.0.1.4", axfr: axfrNotAuth}, // NOTAUTH but AA for the zone: refused
		{label: "lame", ip: "127.0.1.13", axfr: "lame"},
		{label: "cut", ip: "127.0.1.5", axfr: axfrCut, extra: "a A 192.0.2.1\nb A 192.0.2.1\nc A 192.0.2.1\nd A 192.0.2.1\n"},
		{label: "soabad", ip: "127.0.1.6", axfr: axfrSOABad},
		{label: "hang", ip: "127.0.1.7", axfr: axfrHang},
		{label: "closed", ip: "127.0.1.8", axfr: "closed"},
		{label: "garbage", ip: "127.0.1.9", axfr: "garbage"},
		{label: "big", ip: "127.0.1.10", extra: big.String()},
		{label: "badfirst", ip: "127.0.1.11", axfr: axfrBadFirst},
		{label: "outside", ip: "127.0.1.12", axfr: axfrOutside},
	}
	port := startTree(t, "t", "127.0.1.1", kids, nil, 0)
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.1.1:%d", port)}, Port: port,
		Timeout: 500 * time.Millisecond, MaxRecords: 50, Logger: testLogger(t), ZoneDir: t.TempDir()})
	sum, err := Discover(context.Background(), cfg, "t")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		outcome string
		err     error
		www     bool // www found anyway (transfer or probe)
	}{
		"t":          {OutcomeTransferred, nil, false},
		"good.t":     {OutcomeTransferred, nil, true},
		"refused.t":  {OutcomeRefused, ErrRefused, true},
		"notauth.t":  {OutcomeRefused, ErrRefused, true},
		"lame.t":     {OutcomeNotAuthoritative, ErrNotAuthoritative, false},
		"cut.t":      {OutcomeBroken, ErrBroken, true},
		"soabad.t":   {OutcomeBroken, ErrSOAMismatch, true},
		"hang.t":     {OutcomeTimeout, ErrTimeout, true},
		"closed.t":   {OutcomeConnectionRefused, ErrConnRefused, false},
		"garbage.t":  {OutcomeBroken, ErrBroken, false},
		"big.t":      {OutcomeBroken, ErrTooManyRecords, true},
		"badfirst.t": {OutcomeBroken, ErrSOAMismatch, true},
		"outside.t":  {OutcomeTransferred, nil, true},
	}
	got := map[string]Attempt{}
	for _, a := range c.attempts {
		if _, dup := got[a.Zone]; dup {
			t.Errorf("zone %s attempted twice at one server", a.Zone)
		}
		got[a.Zone] = a
	}
	hosts := c.byName()
	for zone, w := range want {
		a, ok := got[zone]
		if !ok {
			t.Errorf("%s: no attempt", zone)
			continue
		}
		if a.Outcome != w.outcome {
			t.Errorf("%s: outcome %q (%s), want %q", zone, a.Outcome, a.Error, w.outcome)
		}
		if w.err == nil && a.Error != "" || w.err != nil && !strings.Contains(a.Error, w.err.Error()) {
			t.Errorf("%s: error %q, want it to say %q", zone, a.Error, w.err)
		}
		if zone == "t" {
			continue
		}
		h, ok := hosts["www."+zone]
		if ok != w.www {
			t.Errorf("%s: www found %v, want %v (%+v)", zone, ok, w.www, h)
		}
		if apex := hosts[zone]; apex.Name == "" || !apex.Delegated || apex.Zone != "t" {
			t.Errorf("%s: apex host %+v", zone, apex)
		}
	}
	// The record outside its zone was skipped, not made a host.
	if _, ok := hosts["www.elsewhere.invalid"]; ok {
		t.Error("a name outside the zone became a host")
	}
	if sum.Dropped != 1 {
		t.Errorf("dropped %d records, want 1", sum.Dropped)
	}
	// Only complete transfers are saved; nothing half-written is left.
	files, _ := filepath.Glob(filepath.Join(cfg.ZoneDir, "*"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	slices.Sort(names)
	wantFiles := []string{"good.t_2026000001.zone", "outside.t_2026000012.zone", "t_1.zone"}
	if !slices.Equal(names, wantFiles) {
		t.Errorf("zone dir holds %v, want %v", names, wantFiles)
	}
	if len(c.transfers) != 3 {
		t.Errorf("%d transfers reported, want 3", len(c.transfers))
	}
}

// A transferred zone is saved as a master file that reads back to the
// same hosts, and saving it again replaces it rather than adding a copy.
func TestSavedZoneReadsBack(t *testing.T) {
	port := startTree(t, "t", "127.0.2.1", []child{{label: "a", ip: "127.0.2.2", extra: "mail A 192.0.2.25\n@ MX 10 mail\n"}}, nil, 0)
	dir := t.TempDir()
	var live collector
	cfg := live.config(Config{Nameservers: []string{fmt.Sprintf("127.0.2.1:%d", port)}, Port: port, ZoneDir: dir, Logger: testLogger(t)})
	for range 2 {
		live = collector{}
		if _, err := Discover(context.Background(), cfg, "t"); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 2 {
		t.Fatalf("zone dir %v, want two files", files)
	}
	var file collector
	fcfg := file.config(Config{Offline: true, Logger: testLogger(t)})
	if _, err := ReadZoneFiles(context.Background(), fcfg, files...); err != nil {
		t.Fatal(err)
	}
	if a, b := live.lines(), file.lines(); !slices.Equal(a, b) {
		t.Errorf("live:\n%s\nfrom saved files:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// Several addresses: the first refuses, the second (an AAAA glue record,
// IPv4-mapped so the test stays on 127/8) transfers; --ns may list several
// servers and every one is tried in turn.
func TestEveryAddressTried(t *testing.T) {
	port := freePort(t)
	zone := "multi.t"
	rrs := parseZoneText(t, zone, childZoneText(zone, "127.0.3.2", 7, ""))
	startServer(t, "127.0.3.2", port, &testZone{apex: zone, rrs: rrs, axfr: axfrRefuse})
	startServer(t, "127.0.3.3", port, &testZone{apex: zone, rrs: rrs})
	parent := fmt.Sprintf(`$ORIGIN t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.3.1
multi NS ns.multi
ns.multi A 127.0.3.2
ns.multi AAAA ::ffff:127.0.3.3
`)
	startServer(t, "127.0.3.1", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", parent)})

	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.3.9:%d", port), fmt.Sprintf("127.0.3.1:%d", port)},
		Port: port, Logger: testLogger(t)})
	if _, err := Discover(context.Background(), cfg, "t"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range c.attempts {
		got = append(got, a.Zone+" "+strings.TrimSuffix(a.Server, fmt.Sprintf(":%d", port))+" "+a.Outcome)
	}
	want := []string{
		"t 127.0.3.9 connection-refused",
		"t 127.0.3.1 transferred",
		"multi.t 127.0.3.2 refused",
		"multi.t 127.0.3.3 transferred",
	}
	if !slices.Equal(got, want) {
		t.Errorf("attempts\n got  %v\n want %v", got, want)
	}
	if h := c.byName()["www.multi.t"]; h.Source != SourceA || h.Role != RoleWeb {
		t.Errorf("www.multi.t: %+v", h)
	}
}

// Depth, the zone budget and visited zones bound the walk.
func TestWalkLimits(t *testing.T) {
	// A chain t -> a.t -> b.a.t -> c.b.a.t, each zone its own server.
	port := freePort(t)
	chain := []string{"t", "a.t", "b.a.t", "c.b.a.t"}
	for i, zone := range chain {
		ip := fmt.Sprintf("127.0.4.%d", i+1)
		text := childZoneText(zone, ip, i+1, "")
		if i+1 < len(chain) {
			text += fmt.Sprintf("%s. NS ns.%s.\nns.%s. A 127.0.4.%d\n", chain[i+1], chain[i+1], chain[i+1], i+2)
		}
		startServer(t, ip, port, &testZone{apex: zone, rrs: parseZoneText(t, zone, text)})
	}
	tests := []struct {
		depth, maxZones int
		zones           []string
		transferred     []string
		delegationOnly  []string
	}{
		{depth: 1, zones: []string{"t"}, transferred: []string{"a.t", "t"}, delegationOnly: []string{"b.a.t"}},
		{depth: 5, zones: []string{"t"}, transferred: []string{"a.t", "b.a.t", "c.b.a.t", "t"}},
		{depth: 5, maxZones: 2, zones: []string{"t"}, transferred: []string{"a.t", "t"}, delegationOnly: []string{"b.a.t"}},
		{depth: -1, zones: []string{"t"}, transferred: []string{"t"}, delegationOnly: []string{"a.t"}},
		// A zone given twice: visited once.
		{depth: 3, zones: []string{"t", "t", "T."}, transferred: []string{"a.t", "b.a.t", "c.b.a.t", "t"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("depth=%d,max=%d,%v", tc.depth, tc.maxZones, tc.zones), func(t *testing.T) {
			var c collector
			cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.4.1:%d", port)}, Port: port,
				Depth: tc.depth, MaxZones: tc.maxZones, Logger: testLogger(t)})
			if _, err := Discover(context.Background(), cfg, tc.zones...); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range c.transfers {
				got = append(got, tr.Zone)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.transferred) {
				t.Errorf("transferred %v, want %v", got, tc.transferred)
			}
			var del []string
			seen := map[string]int{}
			for _, h := range c.hosts {
				seen[h.Name]++
				if h.Source == SourceDelegation && h.Name != "t" && !slices.Contains(tc.transferred, h.Name) {
					del = append(del, h.Name)
				}
			}
			slices.Sort(del)
			if !slices.Equal(del, tc.delegationOnly) {
				t.Errorf("listed from the delegation only: %v, want %v", del, tc.delegationOnly)
			}
			for name, n := range seen {
				if n > 1 {
					t.Errorf("%s reported %d times", name, n)
				}
			}
		})
	}
}

// Delegations whose nameservers live in each other's zones, without glue,
// end: the names are resolved by asking the servers we know, with a bound,
// and both zones are listed from the delegation.
func TestDelegationLoop(t *testing.T) {
	port := freePort(t)
	text := `$ORIGIN t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.5.1
x NS ns.y
y NS ns.x
self NS ns.self.other.
`
	startServer(t, "127.0.5.1", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", text)})
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.5.1:%d", port)}, Port: port,
		Timeout: time.Second, Logger: testLogger(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Discover(ctx, cfg, "t"); err != nil {
		t.Fatal(err)
	}
	hosts := c.byName()
	for _, name := range []string{"x.t", "y.t", "self.t"} {
		if h := hosts[name]; h.Source != SourceDelegation || h.Role != RoleNone {
			t.Errorf("%s: %+v", name, h)
		}
	}
	// The out-of-zone name was never sent to any resolver: no known zone
	// encloses it and Nameservers was given.
	for _, l := range c.lookups {
		if strings.HasSuffix(l.Name, "other") {
			t.Errorf("looked up %s at %s", l.Name, l.Server)
		}
	}
}

// NS names outside the parent zone (no glue) are resolved by asking the
// servers we know, following the referral with in-bailiwick glue only.
func TestResolveNameserver(t *testing.T) {
	port := freePort(t)
	parent := `$ORIGIN t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.6.1
site NS ns.hoster
hoster NS ns.hoster
ns.hoster A 127.0.6.2
`
	// The hoster's zone lists its server; the site's zone is served there.
	hoster := `$ORIGIN hoster.t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.6.2
`
	startServer(t, "127.0.6.1", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", parent)})
	startServer(t, "127.0.6.2", port,
		&testZone{apex: "hoster.t", rrs: parseZoneText(t, "hoster.t", hoster), axfr: axfrRefuse},
		&testZone{apex: "site.t", rrs: parseZoneText(t, "site.t", childZoneText("site.t", "127.0.6.2", 3, ""))})
	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.6.1:%d", port)}, Port: port, Logger: testLogger(t)})
	if _, err := Discover(context.Background(), cfg, "t"); err != nil {
		t.Fatal(err)
	}
	if h := c.byName()["www.site.t"]; h.Role != RoleWeb || h.Source != SourceA {
		t.Errorf("www.site.t: %+v", h)
	}
}

// A refused zone is probed: A, AAAA and CNAME of the apex and each label,
// without recursion, following in-zone CNAMEs; an out-of-zone CNAME makes a
// web host without addresses; a lame server (no AA) is not believed.
func TestProbe(t *testing.T) {
	port := freePort(t)
	extra := `@ AAAA 2001:db8::1
shop CNAME www
blog CNAME blogs.hoster.example.
deep CNAME shop
`
	zone := "p.t"
	rrs := parseZoneText(t, zone, childZoneText(zone, "127.0.7.2", 5, extra))
	probed := startServer(t, "127.0.7.2", port, &testZone{apex: zone, rrs: rrs, axfr: axfrRefuse})
	parent := `$ORIGIN t.
@ SOA ns host 1 2 3 4 5
@ NS ns
ns A 127.0.7.1
p NS ns.p
ns.p A 127.0.7.2
lame NS ns.lame
ns.lame A 127.0.7.3
`
	startServer(t, "127.0.7.1", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", parent)})
	// A server that answers for lame.t's names but not authoritatively: it
	// serves a parent of lame.t and refers back (no AA).
	startServer(t, "127.0.7.3", port, &testZone{apex: "t", rrs: parseZoneText(t, "t", parent), axfr: axfrRefuse})

	var c collector
	cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.7.1:%d", port)}, Port: port,
		Labels: []string{"www", "shop", "blog", "deep", "none"}, Logger: testLogger(t)})
	if _, err := Discover(context.Background(), cfg, "t"); err != nil {
		t.Fatal(err)
	}
	got := slices.DeleteFunc(c.lines(), func(l string) bool {
		name, _, _ := strings.Cut(l, " ")
		return !strings.HasSuffix(name, "p.t") && name != "lame.t"
	})
	want := []string{
		"blog.p.t site=p.t role=web src=probe zone=p.t",
		"deep.p.t site=p.t role=web src=probe zone=p.t addrs=192.0.2.5",
		"lame.t site=lame.t role=none src=delegation zone=t delegated ns=ns.lame.t",
		"p.t site=p.t role=web src=probe zone=t delegated addrs=2001:db8::1 ns=ns.p.t",
		"shop.p.t site=p.t role=web src=probe zone=p.t addrs=192.0.2.5",
		"www.p.t site=p.t role=web src=probe zone=p.t addrs=192.0.2.5",
	}
	checkLines(t, "hosts", got, want)
	// Every probe went out without recursion and was reported.
	types := map[string]bool{}
	for _, l := range c.lookups {
		if l.Name == "www.p.t" {
			types[l.Type] = true
			if l.Type == "A" && !strings.Contains(l.Answer, "192.0.2.5") {
				t.Errorf("lookup answer %q", l.Answer)
			}
		}
	}
	if n := probed.rd.Load(); n > 0 || probed.queries.Load() == 0 {
		t.Errorf("%d of %d queries asked for recursion", n, probed.queries.Load())
	}
	if !types["A"] || !types["AAAA"] || !types["CNAME"] {
		t.Errorf("www.p.t asked for %v, want A, AAAA and CNAME", types)
	}
}

// Zones of a tree are worked on side by side (bounded by Concurrency).
func TestConcurrentTree(t *testing.T) {
	var kids []child
	for i := range 8 {
		kids = append(kids, child{label: fmt.Sprintf("c%d", i), ip: fmt.Sprintf("127.0.8.%d", i+2)})
	}
	g := &gauge{}
	port := startTree(t, "t", "127.0.8.1", kids, g, 50*time.Millisecond)
	for _, conc := range []int{1, 4} {
		g.max.Store(0)
		var c collector
		cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("127.0.8.1:%d", port)}, Port: port, Concurrency: conc})
		if _, err := Discover(context.Background(), cfg, "t"); err != nil {
			t.Fatal(err)
		}
		if len(c.transfers) != 9 {
			t.Errorf("concurrency %d: %d transfers", conc, len(c.transfers))
		}
		m := g.max.Load()
		if m > int64(conc) || (conc > 1 && m < 2) {
			t.Errorf("concurrency %d: %d queries in flight at most", conc, m)
		}
	}
}

func TestDiscoverErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Discover(ctx, Config{Nameservers: []string{"127.0.0.1:1"}}); err == nil {
		t.Error("no zone: no error")
	}
	if _, err := Discover(ctx, Config{Nameservers: []string{"127.0.0.1:99999"}}, "t"); err == nil {
		t.Error("bad port: no error")
	}
	if _, err := Discover(ctx, Config{Nameservers: []string{"127.0.0.1:1"}}, "bad..name"); err == nil {
		t.Error("bad zone: no error")
	}
	// Nothing listening: nothing found, said so.
	port := freePort(t)
	sum, err := Discover(ctx, Config{Nameservers: []string{fmt.Sprintf("127.0.9.1:%d", port)}, Timeout: 200 * time.Millisecond}, "t")
	if !errors.Is(err, ErrNothingFound) || sum.Attempts != 1 {
		t.Errorf("nothing listening: %v %+v", err, sum)
	}
}

// Delegations found in a zone file are followed live unless Offline; the
// zone dir is created when missing.
func TestZoneFileFollows(t *testing.T) {
	port := freePort(t)
	zone := "a.t"
	startServer(t, "127.0.11.2", port, &testZone{apex: zone, rrs: parseZoneText(t, zone, childZoneText(zone, "127.0.11.2", 4, ""))})
	file := filepath.Join(t.TempDir(), "t.zone")
	text := "$ORIGIN t.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 127.0.11.1\na NS ns.a\nns.a A 127.0.11.2\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, offline := range []bool{false, true} {
		var c collector
		dir := filepath.Join(t.TempDir(), "zones", "new")
		cfg := c.config(Config{Port: port, Offline: offline, ZoneDir: dir, Logger: testLogger(t)})
		if _, err := ReadZoneFiles(context.Background(), cfg, file); err != nil {
			t.Fatal(err)
		}
		www, ok := c.byName()["www.a.t"]
		if ok == offline {
			t.Errorf("offline=%v: www.a.t found %v (%+v)", offline, ok, www)
		}
		if apex := c.byName()["a.t"]; apex.Zone != "t" || !apex.Delegated {
			t.Errorf("offline=%v: a.t %+v", offline, apex)
		}
		if offline && (len(c.attempts)+len(c.lookups) > 0) {
			t.Errorf("offline read touched the network: %v %v", c.attempts, c.lookups)
		}
		if !offline && len(c.transfers) != 1 {
			t.Errorf("transfers %v", c.transfers)
		}
	}
}

// Cancelling the context stops a transfer that hangs, and Discover says why
// (whenever the cancel lands, the answer is the same).
func TestDiscoverCancel(t *testing.T) {
	port := freePort(t)
	startServer(t, "127.0.12.1", port, &testZone{apex: "t", axfr: axfrHang,
		rrs: parseZoneText(t, "t", childZoneText("t", "127.0.12.1", 1, ""))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Nameservers: []string{fmt.Sprintf("127.0.12.1:%d", port)}, Timeout: time.Minute}
	done := make(chan error, 1)
	go func() {
		_, err := Discover(ctx, cfg, "t")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

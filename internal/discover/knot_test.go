package discover

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The zones served both by Knot and by the in-process server: kt. and
// open.kt. allow transfers, closed.kt. refuses them, sub.open.kt. is
// delegated to a server that does not serve it (lame).
var knotZones = []struct {
	apex, text string
	open       bool
}{
	{"kt.", `$ORIGIN kt.
$TTL 3600
@ SOA ns1 hostmaster 2026010101 3600 900 604800 300
@ NS ns1
ns1 A 127.0.10.1
www A 192.0.2.80
open NS ns1.open
ns1.open A 127.0.10.1
closed NS ns1.closed
ns1.closed A 127.0.10.1
`, true},
	{"open.kt.", `$ORIGIN open.kt.
$TTL 3600
@ SOA ns1 hostmaster 2026010102 3600 900 604800 300
@ NS ns1
@ A 192.0.2.10
@ MX 10 mail
ns1 A 127.0.10.1
www CNAME @
mail A 192.0.2.11
shop A 192.0.2.12
shop AAAA 2001:db8::12
_sip._tcp SRV 0 5 5060 mail
*.wild A 192.0.2.13
blog CNAME blogs.hoster.example.
sub NS ns.sub
ns.sub A 127.0.10.1
`, true},
	{"closed.kt.", `$ORIGIN closed.kt.
$TTL 3600
@ SOA ns1 hostmaster 2026010103 3600 900 604800 300
@ NS ns1
ns1 A 127.0.10.1
@ A 192.0.2.20
www A 192.0.2.21
api A 192.0.2.22
`, false},
}

// startKnot runs knotd on ip:port with knotZones, from its own config in a
// temporary directory, and waits until it answers.
func startKnot(t *testing.T, ip string, port int) {
	t.Helper()
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("knotd not installed (apt-get install -y knot)")
		}
		t.Skip("knotd not installed (apt-get install -y knot)")
	}
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "%[1]s/db"
log:
  - target: stderr
    any: warning
acl:
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "%[1]s"
    file: "%%s.zone"
zone:
`, dir, ip, port)
	for _, z := range knotZones {
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(z.apex, ".")+".zone"), []byte(z.text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "  - domain: %s\n", z.apex)
		if z.open {
			conf.WriteString("    acl: transfer\n")
		}
	}
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd := exec.Command(knotd, "-c", confPath)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait until every zone is loaded: each answers its SOA with AA.
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(15 * time.Second)
	for _, z := range knotZones {
		for {
			m := new(dns.Msg)
			m.SetQuestion(z.apex, dns.TypeSOA)
			r, _, err := c.Exchange(m, fmt.Sprintf("%s:%d", ip, port))
			if err == nil && r.Authoritative && r.Rcode == dns.RcodeSuccess {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("knotd did not serve %s: %v\n%s", z.apex, err, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestKnot transfers the same zones from a real Knot DNS server and from
// the in-process server and gets the same hosts.
func TestKnot(t *testing.T) {
	ip := "127.0.10.1"
	knotPort := freePort(t)
	startKnot(t, ip, knotPort)

	ownPort := freePort(t)
	var zones []*testZone
	for _, z := range knotZones {
		tz := &testZone{apex: z.apex, rrs: parseZoneText(t, z.apex, z.text)}
		if !z.open {
			tz.axfr = axfrRefuse
		}
		zones = append(zones, tz)
	}
	startServer(t, ip, ownPort, zones...)

	run := func(port int) (*collector, []string) {
		var c collector
		cfg := c.config(Config{Nameservers: []string{fmt.Sprintf("%s:%d", ip, port)}, Port: port,
			Timeout: 2 * time.Second, ZoneDir: t.TempDir(), Logger: testLogger(t)})
		if _, err := Discover(context.Background(), cfg, "kt"); err != nil {
			t.Fatal(err)
		}
		return &c, c.lines()
	}
	knot, fromKnot := run(knotPort)
	_, fromOwn := run(ownPort)
	if !slices.Equal(fromKnot, fromOwn) {
		t.Errorf("hosts from Knot:\n%s\nfrom the in-process server:\n%s", strings.Join(fromKnot, "\n"), strings.Join(fromOwn, "\n"))
	}
	want := []string{
		"blog.open.kt site=open.kt role=web src=CNAME zone=open.kt",
		"closed.kt site=closed.kt role=web src=probe zone=kt delegated addrs=192.0.2.20 ns=ns1.closed.kt",
		"kt site=kt role=none src=delegation zone=kt delegated ns=ns1.kt",
		"mail.open.kt site=open.kt role=mail src=A zone=open.kt addrs=192.0.2.11",
		"ns1.kt site=kt role=nameserver src=A zone=kt addrs=127.0.10.1",
		"ns1.open.kt site=open.kt role=nameserver src=A zone=open.kt addrs=127.0.10.1",
		"open.kt site=open.kt role=web src=A zone=kt delegated addrs=192.0.2.10 ns=ns1.open.kt",
		"shop.open.kt site=open.kt role=web src=A zone=open.kt addrs=192.0.2.12,2001:db8::12",
		"sub.open.kt site=sub.open.kt role=none src=delegation zone=open.kt delegated ns=ns.sub.open.kt",
		"www.closed.kt site=closed.kt role=web src=probe zone=closed.kt addrs=192.0.2.21",
		"www.kt site=kt role=web src=A zone=kt addrs=192.0.2.80",
		"www.open.kt site=open.kt role=web src=CNAME zone=open.kt addrs=192.0.2.10",
	}
	checkLines(t, "hosts from Knot:", fromKnot, want)
	outcomes := map[string]string{}
	for _, a := range knot.attempts {
		outcomes[a.Zone] = a.Outcome
	}
	if outcomes["kt"] != OutcomeTransferred || outcomes["open.kt"] != OutcomeTransferred {
		t.Errorf("Knot transfers: %v", outcomes)
	}
	// Knot answers NOTAUTH to a denied transfer; it is authoritative for
	// the zone, so that is a refusal. For a zone it does not serve it is not.
	if o := outcomes["closed.kt"]; o != OutcomeRefused {
		t.Errorf("closed.kt at Knot: %s, want refused", o)
	}
	if o := outcomes["sub.open.kt"]; o != OutcomeNotAuthoritative {
		t.Errorf("sub.open.kt at Knot: %s, want not-authoritative", o)
	}
}

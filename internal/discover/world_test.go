package discover

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"crawl/internal/world"
)

// collector gathers a run's reports, safe for the package's callbacks.
type collector struct {
	mu        sync.Mutex
	hosts     []Host
	attempts  []Attempt
	transfers []Transfer
	lookups   []Lookup
}

func (c *collector) config(cfg Config) Config {
	cfg.OnHost = func(h Host) { c.mu.Lock(); c.hosts = append(c.hosts, h); c.mu.Unlock() }
	cfg.OnAttempt = func(a Attempt) { c.mu.Lock(); c.attempts = append(c.attempts, a); c.mu.Unlock() }
	cfg.OnTransfer = func(t Transfer) { c.mu.Lock(); c.transfers = append(c.transfers, t); c.mu.Unlock() }
	cfg.OnLookup = func(l Lookup) { c.mu.Lock(); c.lookups = append(c.lookups, l); c.mu.Unlock() }
	return cfg
}

func (c *collector) byName() map[string]Host {
	out := map[string]Host{}
	for _, h := range c.hosts {
		out[h.Name] = h
	}
	return out
}

// lines returns the hosts as sorted hostLines.
func (c *collector) lines() []string {
	var out []string
	for _, h := range c.hosts {
		out = append(out, hostLine(h))
	}
	slices.Sort(out)
	return out
}

// TestWorld discovers the local world from its TLD server over the wire and
// checks the exact set of sites, web hosts and addresses against the
// world's ground truth.
func TestWorld(t *testing.T) {
	ctx := context.Background()
	w, err := world.Start(ctx, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	var c collector
	cfg := c.config(Config{Nameservers: []string{w.Nameserver()}, Port: w.DNSPort(), Logger: testLogger(t), ZoneDir: t.TempDir()})
	sum, err := Discover(ctx, cfg, w.TLD())
	if err != nil {
		t.Fatal(err)
	}

	// Every host name is reported once.
	seen := map[string]bool{}
	for _, h := range c.hosts {
		if seen[h.Name] {
			t.Errorf("host %s reported twice", h.Name)
		}
		seen[h.Name] = true
	}

	hosts := c.byName()
	wantWeb := map[string][]string{} // web host -> IPv4 addresses
	wantSites := map[string]bool{}
	for _, s := range w.Sites() {
		wantSites[s.Name] = true
		for _, h := range s.Hosts {
			wantWeb[h] = s.Addrs
		}
	}
	gotWeb := map[string][]string{}
	gotSites := map[string]bool{}
	for _, h := range c.hosts {
		if h.Role != RoleWeb {
			continue
		}
		var v4 []string
		for _, a := range h.Addrs {
			if netip.MustParseAddr(a).Is4() {
				v4 = append(v4, a)
			}
		}
		gotWeb[h.Name] = v4
		gotSites[h.Site] = true
	}
	for name, addrs := range wantWeb {
		if got, ok := gotWeb[name]; !ok {
			t.Errorf("web host %s missing (got %+v)", name, hosts[name])
		} else if !slices.Equal(got, addrs) {
			t.Errorf("web host %s addrs %v, want %v", name, got, addrs)
		}
	}
	for name := range gotWeb {
		if _, ok := wantWeb[name]; !ok {
			t.Errorf("unexpected web host %s: %+v", name, hosts[name])
		}
	}
	for s := range wantSites {
		if !gotSites[s] {
			t.Errorf("site %s missing", s)
		}
	}
	for s := range gotSites {
		if !wantSites[s] {
			t.Errorf("unexpected site %s", s)
		}
	}

	// The domain with nameservers but no web address is listed as none.
	if h := hosts["mail.net.test"]; h.Role != RoleNone || !h.Delegated || h.Site != "mail.net.test" || h.Zone != "net.test" {
		t.Errorf("mail.net.test: %+v", h)
	}
	// The example line of the issue.
	if h := hosts["friend.com.test"]; h.Source != SourceProbe || h.Zone != "com.test" || !h.Delegated ||
		!slices.Equal(h.Addrs, []string{"127.1.0.10"}) || len(h.Nameservers) == 0 {
		t.Errorf("friend.com.test: %+v", h)
	}
	// The TLD and the second-level zones were transferred; the leaves refused.
	var transferred []string
	for _, tr := range c.transfers {
		transferred = append(transferred, tr.Zone)
		if tr.File == "" || tr.Serial == 0 || tr.Records == 0 {
			t.Errorf("transfer %+v: no file, serial or records", tr)
		}
	}
	slices.Sort(transferred)
	want := []string{"com.test", "edu.test", "gov.test", "net.test", "org.test", "rep.test", "test"}
	if !slices.Equal(transferred, want) {
		t.Errorf("transferred %v, want %v", transferred, want)
	}
	for _, a := range c.attempts {
		if strings.HasSuffix(a.Zone, ".com.test") && a.Outcome == OutcomeTransferred {
			t.Errorf("leaf %s transferred", a.Zone)
		}
	}
	if sum.Transferred != len(want) || sum.Probed == 0 || sum.Hosts != len(c.hosts) {
		t.Errorf("summary %+v", sum)
	}
	if len(c.lookups) == 0 {
		t.Error("no direct lookups reported")
	}
}

package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSpecial(t *testing.T) {
	tests := []struct {
		addr   string
		prefix string // "" when the address may be crawled
		name   string // part of the range's name
	}{
		{"8.8.8.8", "", ""},
		{"175.45.176.1", "", ""}, // .kp's own space
		{"0.0.0.0", "0.0.0.0/8", "this network"},
		{"10.0.0.5", "10.0.0.0/8", "private-use"},
		{"172.16.0.1", "172.16.0.0/12", "private-use"},
		{"172.32.0.1", "", ""},
		{"192.168.1.1", "192.168.0.0/16", "private-use"},
		{"100.64.0.1", "100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.1", "127.0.0.0/8", "loopback"},
		{"127.1.2.3", "127.0.0.0/8", "loopback"},
		{"169.254.169.254", "169.254.0.0/16", "link-local"},
		{"192.0.0.8", "192.0.0.8/32", "dummy"},
		{"192.0.0.100", "192.0.0.0/24", "IETF protocol assignments"},
		{"192.0.2.10", "192.0.2.0/24", "TEST-NET-1"},
		{"198.51.100.1", "198.51.100.0/24", "TEST-NET-2"},
		{"203.0.113.9", "203.0.113.0/24", "TEST-NET-3"},
		{"198.19.255.255", "198.18.0.0/15", "benchmarking"},
		{"224.0.0.1", "224.0.0.0/4", "multicast"},
		{"239.255.255.250", "224.0.0.0/4", "multicast"},
		{"240.0.0.1", "240.0.0.0/4", "reserved"},
		{"255.255.255.255", "255.255.255.255/32", "broadcast"},
		{"192.88.99.1", "192.88.99.0/24", "6to4 relay"},
		// IPv6
		{"2a02:6b8::1", "", ""},
		{"::1", "::1/128", "loopback"},
		{"::", "::/128", "unspecified"},
		{"fe80::1", "fe80::/10", "link-local"},
		{"fe80::1%eth0", "fe80::/10", "link-local"},
		{"fd00::1", "fc00::/7", "unique-local"},
		{"fec0::1", "fec0::/10", "site-local"},
		{"ff02::1", "ff00::/8", "multicast"},
		{"2001:db8::1", "2001:db8::/32", "documentation"},
		{"3fff::1", "3fff::/20", "documentation"},
		{"2001::1", "2001::/32", "Teredo"},
		{"2001:2::1", "2001:2::/48", "benchmarking"},
		{"2002:a00:5::1", "2002::/16", "6to4"},
		{"64:ff9b:1::1", "64:ff9b:1::/48", "local-use"},
		{"100::1", "100::/64", "discard"},
		{"5f00::1", "5f00::/16", "SRv6"},
		{"4000::1", "4000::1/128", "not global unicast"},
		{"::a00:5", "::a00:5/128", "not global unicast"}, // IPv4-compatible, deprecated
		// IPv4 inside IPv6: judged by the IPv4 address.
		{"::ffff:10.0.0.5", "10.0.0.0/8", "private-use"},
		{"::ffff:127.0.0.1", "127.0.0.0/8", "loopback"},
		{"::ffff:169.254.169.254", "169.254.0.0/16", "link-local"},
		{"::ffff:8.8.8.8", "", ""},
		{"64:ff9b::10.0.0.5", "64:ff9b::a00:5/128", "private-use (in the NAT64 prefix"},
		{"64:ff9b::8.8.8.8", "", ""},
	}
	for _, tt := range tests {
		rg, ok := Special(netip.MustParseAddr(tt.addr))
		if tt.prefix == "" {
			if ok {
				t.Errorf("%s: special (%v %s), want crawlable", tt.addr, rg.Prefix, rg.Name)
			}
			continue
		}
		if !ok || rg.Prefix.String() != tt.prefix || !strings.Contains(rg.Name, tt.name) || rg.RFC == "" {
			t.Errorf("%s: got %v %q %q (special %v), want %s %q", tt.addr, rg.Prefix, rg.Name, rg.RFC, ok, tt.prefix, tt.name)
		}
	}
}

func TestGuard(t *testing.T) {
	allow, err := ParsePrefixes([]string{"127.0.0.0/8", "10.1.2.3", "::ffff:192.168.0.0/112", "fd00::1/8"})
	if err != nil {
		t.Fatal(err)
	}
	if got := allow[3].String(); got != "fd00::/8" {
		t.Errorf("prefix not masked: %s", got)
	}
	if got := allow[2].String(); got != "192.168.0.0/16" {
		t.Errorf("mapped prefix: %s, want 192.168.0.0/16", got)
	}
	g := New(allow)
	for addr, ok := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::ffff:127.0.0.1": true,
		"10.1.2.3": true, "10.1.2.4": false,
		"192.168.7.7": true, "172.16.0.1": false,
		"fd12::1": true, "fe80::1": false, "::1": false,
		"169.254.169.254": false, "8.8.8.8": true,
	} {
		err := g.Check(netip.MustParseAddr(addr))
		if (err == nil) != ok {
			t.Errorf("%s: %v, want allowed %v", addr, err, ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v is not ErrRefused", addr, err)
		}
	}
	var zero Guard
	err = zero.Check(netip.MustParseAddr("10.0.0.5"))
	want := "address 10.0.0.5 is private-use (RFC 1918): refused; pass --allow-addresses 10.0.0.0/8 to crawl it"
	if err == nil || err.Error() != want {
		t.Errorf("refusal says %q, want %q", err, want)
	}
	var re *RefusedError
	if !errors.As(err, &re) || re.Range.Prefix.String() != "10.0.0.0/8" {
		t.Errorf("errors.As: %v", re)
	}
	for _, bad := range []string{"10.0.0.0/33", "nonsense", ""} {
		if _, err := ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}

// TestControlRefusesDial: as a net.Dialer hook the guard stops the
// connection before any packet leaves; an allowed address connects.
func TestControlRefusesDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	d := net.Dialer{Timeout: 5 * time.Second, ControlContext: New(nil).Control}
	_, err = d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial to loopback: %v, want ErrRefused", err)
	}
	select {
	case <-accepted:
		t.Fatal("the refused dial reached the server")
	default:
	}
	d.ControlContext = New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}).Control
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with loopback allowed: %v", err)
	}
	c.Close()
	<-accepted
}

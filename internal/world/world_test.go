package world

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// startWorld starts a world for one test and stops it when the test ends.
func startWorld(t testing.TB, opts Options) *World {
	t.Helper()
	w, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start world: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close world: %v", err)
		}
	})
	return w
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

func TestZonesGolden(t *testing.T) {
	w := startWorld(t, Options{})
	var b strings.Builder
	for _, z := range w.Zones() {
		fmt.Fprintf(&b, "; zone %s transfer=%v nameservers=%s\n%s\n", z.Name, z.Transfer, strings.Join(z.Nameservers, ","), z.Text)
	}
	golden(t, "zones.golden", []byte(b.String()))
}

func TestCountryShape(t *testing.T) {
	w := startWorld(t, Options{})
	sites := w.Sites()
	if n := len(sites); n < 25 || n > 30 {
		t.Errorf("%d sites, want 25-30", n)
	}
	if !sort.SliceIsSorted(sites, func(i, j int) bool { return sites[i].Name < sites[j].Name }) {
		t.Error("Sites is not sorted by name")
	}
	total := 0
	perAddr := map[string]int{}
	var euckr, https, trap, large, slow, idn, twoAddrs int
	for _, s := range sites {
		if n := len(s.Pages); n < 5 || n > 60 {
			t.Errorf("%s: %d pages, want 5-60", s.Name, n)
		}
		total += len(s.Pages)
		for _, a := range s.Addrs {
			perAddr[a]++
			if strings.HasPrefix(a, "127.53.") || net.ParseIP(a) == nil || !net.ParseIP(a).IsLoopback() {
				t.Errorf("%s: web address %s is not a loopback address outside 127.53/16", s.Name, a)
			}
		}
		if len(s.Addrs) > 1 {
			twoAddrs++
		}
		if s.Charset == "euc-kr" {
			euckr++
		}
		if s.HTTPS {
			https++
		}
		if s.Trap != "" {
			trap++
		}
		if s.Large != "" {
			large++
		}
		if s.Slow != "" {
			slow++
		}
		if strings.HasPrefix(s.Name, "xn--") {
			idn++
		}
	}
	shared := 0
	for _, n := range perAddr {
		if n > 1 {
			shared++
		}
	}
	for _, c := range []struct {
		what string
		n    int
	}{{"EUC-KR sites", euckr}, {"HTTPS sites", https}, {"traps", trap}, {"large files", large}, {"slow pages", slow},
		{"IDN sites", idn}, {"sites with two addresses", twoAddrs}, {"shared addresses", shared}} {
		if c.n == 0 {
			t.Errorf("the world has no %s", c.what)
		}
	}
	if total < 200 || total > 800 {
		t.Errorf("%d pages in all, want a few hundred", total)
	}
	// Nameserver addresses are distinct per name and all in 127.53/16.
	seen := map[string]string{}
	for _, z := range w.Zones() {
		for _, a := range z.Nameservers {
			if !strings.HasPrefix(a, "127.53.") {
				t.Errorf("zone %s: nameserver address %s outside 127.53/16", z.Name, a)
			}
			if other, ok := seen[a]; ok && other != z.Name {
				t.Errorf("nameserver address %s serves both %s and %s", a, other, z.Name)
			}
			seen[a] = z.Name
		}
	}
}

// TestDeterministic starts two worlds and compares everything they serve.
func TestDeterministic(t *testing.T) {
	a, b := startWorld(t, Options{}), startWorld(t, Options{})
	if !reflect.DeepEqual(a.Zones(), b.Zones()) {
		t.Error("two worlds have different zones")
	}
	if !reflect.DeepEqual(a.Sites(), b.Sites()) {
		t.Error("two worlds have different sites")
	}
	digest := func(w *World) [32]byte {
		h := sha256.New()
		for _, s := range w.sites {
			for _, p := range slices.Sorted(maps.Keys(s.files)) {
				fmt.Fprintf(h, "%s %s %s\n", s.Name, p, s.files[p].contentType)
				h.Write(s.files[p].body)
			}
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		return sum
	}
	if digest(a) != digest(b) {
		t.Error("two worlds serve different bytes")
	}
	if a.DNSPort() == b.DNSPort() || a.WebPort() == b.WebPort() {
		t.Error("two worlds share a port")
	}
}

func TestCloseStopsServers(t *testing.T) {
	w, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := net.JoinHostPort("127.1.0.10", fmt.Sprint(w.WebPort()))
	dnsAddr := w.Nameserver()
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	for _, addr := range []string{web, dnsAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
	}
}

func TestContextEndStopsWorld(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := w.Nameserver()
	cancel()
	// Close waits for the shutdown started by the cancellation.
	w.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the context ended", addr)
	}
}

func TestStandardPortsNeedPrivilege(t *testing.T) {
	w, err := Start(context.Background(), Options{StandardPorts: true})
	if err != nil {
		if os.Geteuid() == 0 {
			t.Skipf("ports 53/80/443 unavailable even as root (taken?): %v", err)
		}
		if !strings.Contains(err.Error(), "port 53") {
			t.Errorf("error does not name the port: %v", err)
		}
		return
	}
	defer w.Close()
	if w.DNSPort() != 53 || w.WebPort() != 80 || w.HTTPSPort() != 443 {
		t.Errorf("ports %d/%d/%d, want 53/80/443", w.DNSPort(), w.WebPort(), w.HTTPSPort())
	}
	if got := w.ConnectTo()[0]; !strings.HasSuffix(got, ":80") && !strings.HasSuffix(got, ":443") {
		t.Errorf("ConnectTo %q does not point at a standard port", got)
	}
}

// TestDocMap keeps the map in the package documentation true: every site is
// listed with its addresses, and nothing else is.
func TestDocMap(t *testing.T) {
	w := startWorld(t, Options{})
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, sitesPart, ok := strings.Cut(string(doc), "# Sites")
	if !ok {
		t.Fatal("doc.go has no # Sites section")
	}
	sitesPart, _, _ = strings.Cut(sitesPart, "# Ports")
	listed := map[string]string{}
	for _, line := range strings.Split(sitesPart, "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) >= 2 && strings.HasSuffix(f[0], ".test") && strings.HasPrefix(f[1], "127.") {
			listed[f[0]] = line
		}
	}
	for _, s := range w.Sites() {
		line, ok := listed[s.Name]
		if !ok {
			t.Errorf("doc.go does not list %s", s.Name)
			continue
		}
		delete(listed, s.Name)
		if !strings.Contains(line, strings.Join(s.Addrs, ", ")) {
			t.Errorf("doc.go lists %s without its addresses %v:\n%s", s.Name, s.Addrs, line)
		}
	}
	for name := range listed {
		t.Errorf("doc.go lists %s, which is not a site", name)
	}
}

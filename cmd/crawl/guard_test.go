package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"crawl/internal/world"
)

// TestCrawlRefusesLoopbackUnlessAllowed: without --allow-addresses a host
// on loopback is never contacted, and `crawl hosts` shows it failed with
// the reason and the flag that opens it; with the flag it is crawled.
func TestCrawlRefusesLoopbackUnlessAllowed(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<title>inside</title>"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	dir := t.TempDir()
	args := []string{"crawl", "--archive", dir, "--delay", "0", "--connect-to", "inside.test:80=127.0.0.1:" + port, "inside.test"}
	const why = "address 127.0.0.1 is loopback (RFC 1122): refused; pass --allow-addresses 127.0.0.0/8 to crawl it"
	// Nothing crawled is a failure, and its one line says why.
	if _, stderr, status := runCLI(t, args...); status != 1 || !strings.Contains(stderr, "crawl: nothing crawled: inside.test: "+why) {
		t.Fatalf("crawl: exit status %d, want 1 with the reason\n%s", status, stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the refused server got %d requests", n)
	}
	stdout, stderr, status := runCLI(t, "hosts", "--json", "--archive", dir)
	if status != 0 {
		t.Fatalf("hosts: %d %s", status, stderr)
	}
	var row struct{ Host, Status, Error string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &row); err != nil {
		t.Fatalf("hosts --json %q: %v", stdout, err)
	}
	if row.Host != "inside.test" || row.Status != "failed" || row.Error != why {
		t.Errorf("hosts: %+v, want inside.test failed %q", row, why)
	}

	// Opened on purpose, the same host is crawled (a new snapshot: the
	// first one ended failed).
	args = append([]string{args[0], "--recrawl", "--allow-addresses", "127.0.0.0/8"}, args[1:]...)
	if _, stderr, status := runCLI(t, args...); status != 0 {
		t.Fatalf("crawl --allow-addresses: exit status %d\n%s", status, stderr)
	}
	if requests.Load() == 0 {
		t.Error("with --allow-addresses the host was still not crawled")
	}
}

// TestRunRefusedEverywhereFails: 'crawl run' on a zone whose every web
// host is on loopback, not opened, captures nothing; like 'crawl crawl',
// it fails with the first host's reason, which names the flag.
func TestRunRefusedEverywhereFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := world.Start(ctx, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	args := []string{"run", "--archive", t.TempDir(), "--ns", w.Nameserver(), "--dns-port", strconv.Itoa(w.DNSPort()),
		"--delay", "0", "--hosts-at-once", "32", "--max-retries", "0"}
	for _, c := range w.ConnectTo() {
		args = append(args, "--connect-to", c)
	}
	_, stderr, status := runCLI(t, append(args, w.TLD())...)
	if status != 1 || !strings.Contains(stderr, "crawl: nothing crawled: ") ||
		!strings.Contains(stderr, "pass --allow-addresses 127.0.0.0/8 to crawl it") {
		t.Errorf("crawl run: exit status %d, want 1 with the reason\n%s", status, outputTail([]byte(stderr), 2000))
	}
}

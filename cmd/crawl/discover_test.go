package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"crawl/internal/world"
)

// TestDiscoverTwice checks that discovering the same zones again updates the
// archive rather than duplicating it: the same hosts, one zone file per
// zone and serial.
func TestDiscoverTwice(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := world.Start(ctx, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	args := []string{"discover", "--archive", dir, "--ns", w.Nameserver(), "--dns-port", strconv.Itoa(w.DNSPort()), "--json", w.TLD()}
	c := &crawledWorld{world: w, archive: dir}

	first, stderr, status := runCLI(t, args...)
	if status != 0 {
		t.Fatalf("discover: %d\n%s", status, stderr)
	}
	hosts := mustJSON(t, c.query(t, "hosts"))
	zones, _ := os.ReadDir(filepath.Join(dir, "zones"))

	second, stderr, status := runCLI(t, args...)
	if status != 0 {
		t.Fatalf("discover again: %d\n%s", status, stderr)
	}
	// Zones are worked on concurrently: hosts stream in name order within a
	// zone, zones in the order they finish.
	if sortedLines(first) != sortedLines(second) {
		t.Errorf("the second discovery printed other hosts")
	}
	if again := mustJSON(t, c.query(t, "hosts")); again != hosts {
		t.Errorf("crawl hosts changed after discovering again:\n%s\n%s", hosts, again)
	}
	if again, _ := os.ReadDir(filepath.Join(dir, "zones")); len(again) != len(zones) || len(zones) != 7 {
		t.Errorf("zone files: %d, then %d; want the 7 transferred zones once", len(zones), len(again))
	}
	if _, stderr, status := runCLI(t, "captures", "--archive", dir, "nosuch.test"); status != 1 ||
		strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "unknown host") {
		t.Errorf("captures of an unknown host: status %d, stderr %q; want one line naming it unknown", status, stderr)
	}
	if n := strings.Count(first, "\n"); n != 70 {
		t.Errorf("discover printed %d hosts, want the world's 70", n)
	}
}

func TestDiscoverNothingFound(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.zone")
	if err := os.WriteFile(empty, []byte("; nothing here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runCLI(t, "discover", "--archive", t.TempDir(), "--offline", "--zone-file", empty)
	if status != 1 || !strings.Contains(stderr, "no host found") {
		t.Errorf("status %d, stderr %q: want exit 1 saying nothing was found", status, stderr)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

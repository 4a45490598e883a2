package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
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

// The zone files written for internal/discover's tests, in the shapes of
// the 2016 .kp files.
const savedZones = "../../internal/discover/testdata/"

// listenAll listens on ip for TCP and UDP on one port and counts every
// connection and datagram: a tripwire for a run that must not use the
// network.
func listenAll(t *testing.T, ip string) (port int, contacts *atomic.Int64) {
	t.Helper()
	contacts = new(atomic.Int64)
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); pc.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			contacts.Add(1)
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			contacts.Add(1)
		}
	}()
	return port, contacts
}

// --offline touches no network, even with the zone named and --ns given:
// the hosts read from the file are the answer, with exit status 0.
func TestDiscoverOffline(t *testing.T) {
	port, contacts := listenAll(t, "127.0.78.1")
	stdout, stderr, status := runCLI(t, "discover", "--archive", t.TempDir(), "--offline", "--json",
		"--zone-file", savedZones+"kp.zone", "--ns", "127.0.78.1:"+strconv.Itoa(port), "--dns-port", strconv.Itoa(port), "kp.")
	if status != 0 {
		t.Fatalf("exit status %d:\n%s", status, stderr)
	}
	if n := strings.Count(stdout, "\n"); n != 8 || !strings.Contains(stdout, `"name":"kptc.kp","site":"kptc.kp"`) {
		t.Errorf("%d hosts printed, want kp.zone's 8 with kptc.kp:\n%s", n, stdout)
	}
	if n := contacts.Load(); n > 0 {
		t.Errorf("--offline contacted the --ns server %d times", n)
	}
	if !strings.Contains(stderr, `{"discover":{"zones":1,`) || strings.Contains(stderr, "level=WARN") {
		t.Errorf("stderr %q: want the JSON summary and no warning", stderr)
	}
	if _, stderr, status := runCLI(t, "discover", "--archive", t.TempDir(), "--offline", "kp."); status != 2 || !strings.Contains(stderr, "--zone-file") {
		t.Errorf("--offline without a zone file: status %d, %q", status, stderr)
	}
}

// Zone files are checked before any work, and a file that is no zone file
// stops with one clear error, not a warning per line.
func TestDiscoverBadZoneFiles(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	// --offline: the fixtures' addresses are not on loopback, and a check
	// that came too late must not send anything there.
	_, stderr, status := runCLI(t, "discover", "--archive", archive, "--offline", "--zone-file", savedZones+"kp.zone", "--zone-file", "kp.zoen", "kp.")
	if status != 1 || strings.TrimSpace(stderr) != "crawl: zone file kp.zoen: no such file or directory" {
		t.Errorf("a missing file: status %d, stderr %q", status, stderr)
	}
	if _, err := os.Stat(archive); err == nil {
		t.Errorf("the archive was opened before the files were checked")
	}

	for _, max := range []string{"", "3"} {
		args := []string{"discover", "--archive", archive, "--offline", "--zone-file", savedZones + "binary.bin", "--zone-file", savedZones + "kp.zone"}
		want := "binary.bin: not a zone file (20 bad lines in the first "
		if max != "" {
			args = append(args, "--max-bad-lines", max)
			want = "binary.bin: not a zone file (3 bad lines in the first "
		}
		stdout, stderr, status := runCLI(t, args...)
		if status != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "level=WARN") || strings.Count(stderr, "\n") != 2 {
			t.Errorf("a binary file: status %d, stderr %q; want exit 1, the summary and one line saying %q", status, stderr, want)
		}
		if !strings.Contains(stdout, "kptc.kp") {
			t.Errorf("the good file beside the binary was not read:\n%s", stdout)
		}
	}

	// A few bad lines: the good records are kept, the bad lines counted.
	kp, err := os.ReadFile(savedZones + "kp.zone")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "few.zone")
	text := strings.Replace(string(kp), "edu.kp.", "edu.kp. 86400 IN A 300.1.2.3\nedu.kp.", 1) + "www.kp. IN BOGUS x\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status := runCLI(t, "discover", "--archive", archive, "--offline", "--zone-file", file)
	if status != 0 || strings.Count(stderr, "level=WARN") != 2 || !strings.Contains(stderr, "8 hosts") ||
		!strings.Contains(stderr, "2 records dropped (2 bad-line), 2 problems") || !strings.Contains(stdout, "agency.kp") {
		t.Errorf("a file with two bad lines: status %d\n%s\n%s", status, stdout, stderr)
	}
}

// The summary counts every record dropped, by reason, as a line and in the
// JSON summary of --json.
func TestDiscoverDrops(t *testing.T) {
	_, stderr, status := runCLI(t, "discover", "--archive", t.TempDir(), "--offline", "--zone-file", savedZones+"any-answers.dig")
	if status != 0 || !strings.Contains(stderr, "discover: 10 zones (0 transferred, 0 refused and probed, 0 lame, 10 from files), 13 hosts (9 web, 1 nameserver, 0 mail, 3 none), 2 records dropped (1 bad-line, 1 outside-zone), 2 problems") {
		t.Errorf("status %d, summary:\n%s", status, stderr)
	}
	_, stderr, _ = runCLI(t, "discover", "--archive", t.TempDir(), "--offline", "--json", "--zone-file", savedZones+"any-answers.dig")
	var sum struct {
		Discover struct {
			Hosts, Dropped, Problems int
			Drops                    map[string]int
		}
	}
	line := stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:]
	if err := json.Unmarshal([]byte(line), &sum); err != nil || sum.Discover.Dropped != 2 || sum.Discover.Drops["bad-line"] != 1 ||
		sum.Discover.Drops["outside-zone"] != 1 || sum.Discover.Problems != 2 || sum.Discover.Hosts != 13 {
		t.Errorf("JSON summary %q: %+v %v", line, sum, err)
	}
}

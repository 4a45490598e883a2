package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"crawl/internal/warc"
	"crawl/internal/warc/warciotest"
	"crawl/internal/world"
)

// TestSignalsAndResume drives the real binary: a first SIGINT stops the
// crawl cleanly (no .open file, every WARC readable); two SIGINTs quit at
// once, and the next run repairs the cut file; a last run finishes every
// site, and no URL was archived twice.
func TestSignalsAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and crawls the local world three times")
	}
	bin := buildCrawl(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := world.Start(ctx, world.Options{SlowPage: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	args := []string{"run", "--archive", dir, "--ns", w.Nameserver(), "--dns-port", strconv.Itoa(w.DNSPort()),
		"--delay", "40ms", "--hosts-at-once", "8", "--stop-grace", "2s", "--progress-interval", "1s"}
	args = append(args, crawlTestFlags()...)
	for _, c := range w.ConnectTo() {
		args = append(args, "--connect-to", c)
	}
	args = append(args, w.TLD())
	warcDir := filepath.Join(dir, "warc")

	// start runs the crawl and sends SIGINT once some pages are archived,
	// then again after gap (gap 0: once only).
	start := func(signals int) (int, string) {
		before := archivedBytes(warcDir)
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if archivedBytes(warcDir) > before+200_000 {
				break
			}
		}
		for i := 0; i < signals; i++ {
			cmd.Process.Signal(syscall.SIGINT)
			time.Sleep(100 * time.Millisecond)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}

	// One signal: a clean stop.
	status, stderr := start(1)
	if status != 130 || !strings.Contains(stderr, "stopping") || !strings.Contains(stderr, "run the same command again") {
		t.Fatalf("first run: status %d, want a stop after SIGINT\n%s", status, stderr)
	}
	if open, _ := filepath.Glob(filepath.Join(warcDir, "*.open")); len(open) != 0 {
		t.Errorf("a clean stop left open WARC files: %v", open)
	}
	readAll(t, warcDir)

	// Two signals: out at once; the next run must cope with what is left.
	status, stderr = start(2)
	if status != 130 {
		t.Fatalf("second run: status %d after two SIGINTs, want 130\n%s", status, stderr)
	}

	// Resume to the end.
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if open, _ := filepath.Glob(filepath.Join(warcDir, "*.open")); len(open) != 0 {
		t.Errorf("open WARC files after the last run: %v", open)
	}
	files := readAll(t, warcDir)
	warciotest.Check(t, files...)

	c := &crawledWorld{world: w, archive: dir}
	for _, h := range c.query(t, "hosts") {
		if h["role"] == "web" && h["status"] != "done" {
			t.Errorf("host %s: status %v after resuming, want done", h["host"], h["status"])
		}
	}
	for _, s := range w.Sites() {
		for _, h := range s.Hosts {
			seen := map[string]bool{}
			for _, r := range c.query(t, "captures", h) {
				u := r["url"].(string)
				if seen[u] && !strings.HasSuffix(u, "/robots.txt") {
					t.Errorf("%s archived twice across the interrupted runs", u)
				}
				seen[u] = true
			}
		}
	}
}

func archivedBytes(dir string) int64 {
	var n int64
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// readAll reads every record of every finished WARC file in dir.
func readAll(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files")
	}
	for _, f := range files {
		if err := warc.ReadFile(f, func(warc.Record, warc.Location) error { return nil }); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	return files
}

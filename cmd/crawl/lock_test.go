package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"crawl/internal/world"
)

// TestArchiveLock runs two real processes on one archive (issue 9 point
// 7): while a crawl writes the archive, every other command that writes it
// fails at once, exit status 1, naming the process that holds it, and
// touches nothing (the first crawl's open WARC file keeps its name and
// nothing new appears); the commands that only read work; the first crawl
// ends successfully.
func TestArchiveLock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and crawls the local world")
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
	dns := []string{"--ns", w.Nameserver(), "--dns-port", strconv.Itoa(w.DNSPort())}
	var connect []string
	for _, c := range w.ConnectTo() {
		connect = append(connect, "--connect-to", c)
	}
	args := append(append([]string{"run", "--archive", dir, "--delay", "100ms", "--hosts-at-once", "2"}, dns...), connect...)
	// A real crawl (loopback opened), long enough for the checks below.
	args = append(append(args, "--max-pages", "15"), crawlTestFlags()...)
	args = append(args, w.TLD())
	warcDir := filepath.Join(dir, "warc")

	// A discovery first, so that the archive has a finished WARC file for
	// cdx to read while the crawl writes the next one.
	if out, err := exec.Command(bin, append(append([]string{"discover", "--archive", dir}, dns...), w.TLD())...).CombinedOutput(); err != nil {
		t.Fatalf("discover: %v\n%s", err, out)
	}
	first := exec.Command(bin, args...)
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()

	// Wait for the crawl to be under way: discovery is in the index (the
	// read-only commands have hosts to show) and pages are going into an
	// open WARC file.
	var open []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		open, _ = filepath.Glob(filepath.Join(warcDir, "*.warc.gz.open"))
		if len(open) == 1 && archivedBytes(warcDir) > 50_000 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the first crawl ended before the test could start: %v\n%s", err, firstOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no crawl under way after 60s: %v\n%s", open, firstOut.String())
		}
	}
	warcsBefore := listDir(t, warcDir)
	want := fmt.Sprintf("archive %s in use by process %d (crawl %s)", dir, first.Process.Pid, strings.Join(args, " "))

	seconds := [][]string{
		append([]string{"crawl", "--archive", dir}, connect...),
		args,
		append(append([]string{"discover", "--archive", dir}, dns...), w.TLD()),
		{"reindex", "--archive", dir},
		{"demo", "--archive", dir},
	}
	for _, second := range seconds {
		out, err := exec.Command(bin, second...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("crawl %s: %v, want exit status 1\n%s", second[0], err, out)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("crawl %s says\n%s\nwant %q", second[0], out, want)
		}
		if strings.Contains(string(out), "repaired") {
			t.Errorf("crawl %s repaired a WARC file it does not own:\n%s", second[0], out)
		}
		if _, err := os.Stat(open[0]); err != nil {
			t.Fatalf("after crawl %s, the first crawl's open WARC file is gone: %v", second[0], err)
		}
		if now := listDir(t, warcDir); !slices.Equal(now, warcsBefore) {
			t.Fatalf("after crawl %s, the WARC folder changed: %v -> %v", second[0], warcsBefore, now)
		}
	}

	// The commands that only read take no lock.
	host := w.Sites()[0].Hosts[0]
	for _, q := range [][]string{{"hosts"}, {"captures", host}, {"headlines", host}, {"links", host}, {"search", "서울"}, {"cdx"}} {
		out, err := exec.Command(bin, append(q, "--archive", dir)...).CombinedOutput()
		if strings.Contains(string(out), "in use by process") {
			t.Errorf("crawl %s is refused by the archive lock:\n%s", q[0], out)
		}
		// search answers that the index is locked while a crawl writes it
		// (its own bleve lock, README); the others answer.
		if err != nil && q[0] != "search" {
			t.Errorf("crawl %s during a crawl: %v\n%s", q[0], err, out)
		}
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the first crawl failed: %v\n%s", err, firstOut.String())
		}
	case <-time.After(5 * time.Minute):
		first.Process.Kill()
		t.Fatalf("the first crawl did not end\n%s", firstOut.String())
	}
	if open, _ := filepath.Glob(filepath.Join(warcDir, "*.open")); len(open) != 0 {
		t.Errorf("open WARC files after the first crawl: %v", open)
	}
	readAll(t, warcDir)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

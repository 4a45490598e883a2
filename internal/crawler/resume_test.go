package crawler

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/internal/warc"
	"crawl/internal/world"
)

// stopAfter cancels a crawl once n responses were archived.
type stopAfter struct {
	inner  *recorder
	n      int64
	seen   atomic.Int64
	cancel context.CancelFunc
}

func (s *stopAfter) Observe(loc warc.Location, rec warc.Record) {
	s.inner.Observe(loc, rec)
	if t := rec.Header.Get("WARC-Type"); t == "response" || t == "revisit" {
		if s.seen.Add(1) == s.n {
			s.cancel()
		}
	}
}

// worldRequests counts requests per host+path at a world's servers.
func worldRequests(w *world.World) map[string]int {
	m := map[string]int{}
	for _, r := range w.Requests() {
		m[fmt.Sprint(r.TLS, " ", r.Host, r.Path)]++
	}
	return m
}

// archivedResponses reads every WARC file in dir and returns the sorted
// target URIs of responses and revisits: the archive as a reader sees it.
func archivedResponses(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	var out []string
	for _, f := range files {
		err := warc.ReadFile(f, func(r warc.Record, _ warc.Location) error {
			if ty := r.Header.Get("WARC-Type"); ty == "response" || ty == "revisit" {
				out = append(out, r.Header.Get("WARC-Target-URI"))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s unreadable: %v", f, err)
		}
	}
	sort.Strings(out)
	return out
}

// TestResume interrupts a crawl of the world, runs it again, and compares
// with an uninterrupted crawl: the same captures, nothing fetched twice.
// The interruption also leaves a torn record at the end of the open WARC
// file, as kill -9 during a write would; Mend repairs it before the rerun.
func TestResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls part of the world three times")
	}
	t.Parallel()
	// A part of the world with each kind of site: the trap, www -> apex
	// redirects, HTTPS only, EUC-KR with the large file, robots.txt.
	part := func(w *world.World) []Site {
		return slices.DeleteFunc(worldSites(w), func(s Site) bool {
			return !slices.Contains([]string{"friend.com.test", "trade.com.test", "secure.gov.test", "film.com.test",
				"shop.com.test", "cooks.org.test"}, s.Name)
		})
	}
	configure := func(cfg *Config, w *world.World) {
		cfg.ConnectTo = w.ConnectTo()
		cfg.HostsAtOnce = 4
		cfg.MaxQueryVariants = 6
		cfg.MaxBody = 1 << 20 // the 20 MB file would dominate the test's time
	}

	// Uninterrupted.
	w1 := startWorld(t)
	full := newTestArchive(t, "")
	cfg := full.config()
	configure(&cfg, w1)
	run(t, cfg, part(w1)...)
	full.close()
	want := archivedResponses(t, filepath.Join(full.dir, "warc"))

	// Interrupted after 80 responses.
	w2 := startWorld(t)
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := &stopAfter{inner: a.rec, n: 50, cancel: cancel}
	a.writer.Close()
	var err error
	a.writer, err = warc.NewWriter(warc.WriterOptions{Dir: filepath.Join(dir, "warc"), Observer: stop, Dedupe: a.payloads})
	if err != nil {
		t.Fatal(err)
	}
	cfg = a.config()
	configure(&cfg, w2)
	// Fetches in flight at the stop must finish (every page of the world
	// ends), so that none is fetched again: no clock may cut them.
	cfg.StopGrace = time.Hour
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := c.Run(ctx, part(w2))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Stopped {
		t.Fatal("the crawl was not stopped")
	}
	// kill -9 in the middle of a record: the open file ends in a torn gzip
	// member and is never closed.
	open, _ := filepath.Glob(filepath.Join(dir, "warc", "*.open"))
	if len(open) != 1 {
		t.Fatalf("open WARC files: %q", open)
	}
	f, err := os.OpenFile(open[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff torn record"))
	f.Close()
	a.state.Close()
	// Abandoned, as after a crash: the process is gone, and its file locks
	// with it.
	a.payloads.Close()
	a.state, a.payloads, a.writer = nil, nil, nil
	mid := archivedRequests(w2)

	reports, err := warc.Mend(filepath.Join(dir, "warc"))
	if err != nil || len(reports) != 1 || reports[0].Cut == 0 {
		t.Fatalf("mend: %+v, %v", reports, err)
	}

	// The rerun: a fresh state handle and writer, as a new process would.
	b := newTestArchive(t, dir)
	cfg = b.config()
	configure(&cfg, w2)
	sum = run(t, cfg, part(w2)...)
	for _, r := range sum.Sites {
		if r.Status != StatusDone {
			t.Errorf("after resume %s is %s (%s)", r.Name, r.Status, r.Reason)
		}
	}
	b.close()
	got := archivedResponses(t, filepath.Join(dir, "warc"))
	if !slices.Equal(got, want) {
		t.Errorf("interrupted+resumed crawl differs from an uninterrupted one (%d vs %d captures)\n only after resume: %q\n only uninterrupted: %q",
			len(got), len(want), minus(got, want), minus(want, got))
	}
	for k, n := range worldRequests(w2) {
		if n > 1 {
			t.Errorf("%s requested %d times", k, n)
		}
	}
	if mid == 0 || mid >= len(w2.Requests()) {
		t.Errorf("the interruption did not fall mid-crawl: %d of %d requests before it", mid, len(w2.Requests()))
	}
}

func archivedRequests(w *world.World) int { return len(w.Requests()) }

// TestStopGrace: a cancelled crawl lets in-flight fetches finish within
// StopGrace and then returns, even if a server never finishes. Driven by
// events: the crawl is stopped when the server sees the request for /bad,
// whose body never ends; the server sees the client hang up.
func TestStopGrace(t *testing.T) {
	a := newTestArchive(t, "")
	badStarted, hungUp := make(chan struct{}), make(chan struct{})
	var once sync.Once
	addr := rawServer(t, func(c net.Conn, _ string) {
		once.Do(func() { close(badStarted) })
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"))
		for { // a body that never ends, until the client hangs up
			if _, err := c.Write([]byte(" ")); err != nil {
				close(hungUp)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	cfg := a.config()
	cfg.ConnectTo = []string{"hostile.test:80=" + addr}
	cfg.Timeout = time.Hour // only the stop may end /bad
	cfg.StopGrace = 300 * time.Millisecond
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-badStarted; cancel() }()
	sum, err := c.Run(ctx, []Site{{Name: "hostile.test", Hosts: []Host{{Name: "hostile.test", Addrs: []string{"127.0.0.1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hungUp: // the server's next writes fail once the client closed
	case <-time.After(time.Minute):
		t.Error("Run returned, but the fetch of /bad was never aborted")
	}
	if !sum.Stopped || sum.Sites[0].Status != StatusPartial {
		t.Errorf("summary %+v", sum)
	}
	// /bad was aborted, so it stays queued for the next run, with
	// /good.html that was never started.
	n, err := a.state.frontierLen("hostile.test")
	if err != nil || n != 2 {
		t.Errorf("frontier after stop: %d, %v; want /bad and /good.html still queued", n, err)
	}
}

// minus returns the elements of a not in b (both sorted, with repeats).
func minus(a, b []string) []string {
	count := map[string]int{}
	for _, x := range b {
		count[x]++
	}
	var out []string
	for _, x := range a {
		if count[x] > 0 {
			count[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}

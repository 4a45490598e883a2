package crawler

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
	"crawl/internal/warc/payloads"
	"crawl/internal/world"
)

// killChildEnv carries the child crawl's job (JSON) in TestKill9.
const killChildEnv = "CRAWLER_KILL9_CHILD"

type killJob struct {
	Dir       string
	ConnectTo []string
	Sites     []Site
}

func killConfig(cfg *Config, connectTo []string) {
	cfg.ConnectTo = connectTo
	cfg.AllowAddresses = loopback
	cfg.HostsAtOnce = 4
	cfg.MaxQueryVariants = 6
	cfg.MaxBody = 1 << 20
	cfg.Logger = nil
}

// TestKill9Child is the crawl TestKill9 kills; it does nothing on its own.
func TestKill9Child(t *testing.T) {
	raw := os.Getenv(killChildEnv)
	if raw == "" {
		t.Skip("helper process for TestKill9")
	}
	var job killJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		t.Fatal(err)
	}
	st, err := OpenState(filepath.Join(job.Dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := payloads.Open(archive.Layout{Root: job.Dir}.PayloadsPath())
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: filepath.Join(job.Dir, "warc"), Dedupe: pl})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.State, cfg.Writer = st, w
	killConfig(&cfg, job.ConnectTo)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Run(context.Background(), job.Sites) // killed long before the end
	select {}
}

// TestKill9 kills a crawling process with SIGKILL, mends the WARC it
// left, runs again, and checks the archive against an uninterrupted crawl:
// every URL captured, and at most the few fetches in flight at the kill
// captured twice.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls part of the world twice in two processes")
	}
	t.Parallel()
	part := func(w *world.World) []Site {
		return slices.DeleteFunc(worldSites(w), func(s Site) bool {
			return !slices.Contains([]string{"friend.com.test", "trade.com.test", "secure.gov.test", "airline.com.test"}, s.Name)
		})
	}
	// Uninterrupted, for reference.
	w1 := startWorld(t)
	full := newTestArchive(t, "")
	cfg := full.config()
	killConfig(&cfg, w1.ConnectTo())
	run(t, cfg, part(w1)...)
	full.close()
	want := slices.Compact(archivedResponses(t, filepath.Join(full.dir, "warc")))

	w2 := startWorld(t)
	dir := t.TempDir()
	for _, d := range []string{"warc", "state"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	job, _ := json.Marshal(killJob{Dir: dir, ConnectTo: w2.ConnectTo(), Sites: part(w2)})
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(job))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the crawl is well under way.
	deadline := time.Now().Add(30 * time.Second)
	for len(w2.Requests()) < 40 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	before := len(w2.Requests())
	if before < 40 {
		t.Fatalf("the child made only %d requests", before)
	}

	if _, err := warc.Mend(filepath.Join(dir, "warc")); err != nil {
		t.Fatal(err)
	}
	b := newTestArchive(t, dir)
	cfg = b.config()
	killConfig(&cfg, w2.ConnectTo())
	sum := run(t, cfg, part(w2)...)
	for _, r := range sum.Sites {
		if r.Status != StatusDone {
			t.Errorf("after the kill %s is %s (%s)", r.Name, r.Status, r.Reason)
		}
	}
	b.close()
	got := archivedResponses(t, filepath.Join(dir, "warc"))
	if uniq := slices.Compact(slices.Clone(got)); !slices.Equal(uniq, want) {
		t.Errorf("after kill -9 and resume the archive differs from an uninterrupted crawl\n missing: %q\n extra: %q", minus(want, uniq), minus(uniq, want))
	}
	// Fetches in flight at the kill (and their robots.txt) may be repeated;
	// no more than a site worker's slots can be.
	twice := len(got) - len(slices.Compact(slices.Clone(got)))
	if twice > 4*4 {
		t.Errorf("%d captures repeated after the kill, want only those in flight", twice)
	}
	t.Logf("killed after %d requests; %d captures in all, %d repeated", before, len(got), twice)
}

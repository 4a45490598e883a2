package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crawl/internal/warc"
)

// frontierURLs lists a site's frontier, in order.
func frontierURLs(t *testing.T, st *State, site string) []string {
	t.Helper()
	es, err := st.load(site, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimPrefix(e.URL, "http://c.test/"))
	}
	return out
}

// TestCommitterGroups: completions handed over are committed in the order
// they came, not before their group's time unless flushed; every group
// fsyncs the archive first, while the state does not hold it yet; afters
// run after their completion is in the state and see the query-variant
// rule's count across a visit's chunks.
func TestCommitterGroups(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var syncs atomic.Int32
	var syncedBefore []string // the frontier at each archive sync
	m := newCommitter(st, func() error {
		syncs.Add(1)
		syncedBefore = append(syncedBefore, strings.Join(frontierURLs(t, st, "s"), " "))
		return nil
	}, time.Hour) // no timed group: only flushes and size commit here
	defer m.close()

	e := func(path string) *entry { return &entry{URL: "http://c.test/" + path} }
	variant := func(path string) *entry { n := e(path); n.variant = "c.test/q"; return n }
	if err := m.submit(&completion{site: "s", found: []*entry{e("a"), e("b")}}); err != nil {
		t.Fatal(err)
	}
	if got := frontierURLs(t, st, "s"); len(got) != 0 {
		t.Fatalf("committed before its time or a flush: %q", got)
	}
	// A visit: one chunk and its completion share the dropped count.
	dropped := new(int)
	var afterSaw string
	var afterDropped int
	if err := m.submit(&completion{site: "s", found: []*entry{variant("q?1"), variant("q?2")}, maxVariants: 1, dropped: dropped}); err != nil {
		t.Fatal(err)
	}
	if err := m.submit(&completion{site: "s", found: []*entry{variant("q?3"), e("c")}, maxVariants: 1, dropped: dropped,
		after: func() error {
			afterSaw = strings.Join(frontierURLs(t, st, "s"), " ")
			afterDropped = *dropped
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	if err := m.flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(frontierURLs(t, st, "s"), " "), "a b q?1 c"; got != want {
		t.Errorf("frontier %q, want %q (in the order handed over, one query variant)", got, want)
	}
	if afterSaw != "a b q?1 c" || afterDropped != 2 {
		t.Errorf("after saw frontier %q and %d dropped; want it committed, and 2 dropped over the chunk and the completion", afterSaw, afterDropped)
	}
	if n := syncs.Load(); n != 1 || syncedBefore[0] != "" {
		t.Errorf("%d archive syncs, frontier then %q: want one, before the group was committed", n, syncedBefore)
	}
	// A flush with nothing handed over commits nothing.
	if err := m.flush(); err != nil || syncs.Load() != 1 {
		t.Errorf("empty flush: %v, %d syncs", err, syncs.Load())
	}
	// The entry a completion is done with leaves the frontier.
	es, _ := st.load("s", nil, 1)
	if err := m.submit(&completion{site: "s", done: es[0]}); err != nil {
		t.Fatal(err)
	}
	if err := m.flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(frontierURLs(t, st, "s"), " "); got != "b q?1 c" {
		t.Errorf("after done a: frontier %q", got)
	}
}

// TestCommitterTimedAndLarge: a group is committed on its own after its
// time, and at once when it holds commitAt completions.
func TestCommitterTimedAndLarge(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	committed := make(chan struct{}, 1)
	m := newCommitter(st, nil, 10*time.Millisecond)
	if err := m.submit(&completion{site: "s", found: []*entry{{URL: "http://c.test/t"}}, after: func() error { committed <- struct{}{}; return nil }}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-committed:
	case <-time.After(10 * time.Second):
		t.Fatal("a completion was not committed without a flush")
	}
	m.close()

	m = newCommitter(st, nil, time.Hour)
	defer m.close()
	for i := range commitAt - 1 {
		if err := m.submit(&completion{site: "big", found: []*entry{{URL: fmt.Sprintf("http://c.test/%d", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.submit(&completion{site: "big", found: []*entry{{URL: "http://c.test/last"}}, after: func() error { committed <- struct{}{}; return nil }}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-committed:
	case <-time.After(10 * time.Second):
		t.Fatalf("a group of %d completions was not committed at once", commitAt)
	}
	if got := len(frontierURLs(t, st, "big")); got != commitAt {
		t.Errorf("%d queued, want %d", got, commitAt)
	}
}

// stallingCommitter is a committer whose archive sync, before each group,
// says so on stalled and waits until stall is closed: a disk that stalls.
// Groups are committed only when something asks (no timed group).
func stallingCommitter(st *State) (m *committer, stalled <-chan struct{}, stall chan struct{}) {
	stall = make(chan struct{})
	s := make(chan struct{}, 1)
	m = newCommitter(st, func() error {
		select {
		case s <- struct{}{}:
		default:
		}
		<-stall
		return nil
	}, time.Hour)
	return m, s, stall
}

// TestCommitterBounded: while the disk stalls, at most maxPending
// completions wait; the next one waits for a commit.
func TestCommitterBounded(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, stalled, stall := stallingCommitter(st)
	defer m.close()
	// The first group is taken and stalls in the archive's sync.
	if err := m.submit(&completion{site: "s"}); err != nil {
		t.Fatal(err)
	}
	go m.flush()
	<-stalled
	for range maxPending {
		if err := m.submit(&completion{site: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	handed := make(chan error, 1)
	go func() { handed <- m.submit(&completion{site: "s"}) }()
	select {
	case err := <-handed:
		t.Fatalf("completion %d was taken while the disk stalled (%v): memory is not bounded", maxPending+2, err)
	case <-time.After(50 * time.Millisecond):
	}
	close(stall)
	if err := <-handed; err != nil {
		t.Fatal(err)
	}
}

// TestCommitterFails: a failed commit is returned by the flush that waited
// for it and by every later call, and nothing after it is applied.
func TestCommitterFails(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	boom := errors.New("disk gone")
	fail := atomic.Bool{}
	m := newCommitter(st, func() error {
		if fail.Load() {
			return boom
		}
		return nil
	}, time.Hour)
	ran := false
	fail.Store(true)
	if err := m.submit(&completion{site: "s", found: []*entry{{URL: "http://c.test/lost"}}, after: func() error { ran = true; return nil }}); err != nil {
		t.Fatal(err)
	}
	if err := m.flush(); !errors.Is(err, boom) {
		t.Fatalf("flush: %v, want %v", err, boom)
	}
	fail.Store(false)
	if err := m.submit(&completion{site: "s"}); !errors.Is(err, boom) {
		t.Errorf("submit after a failure: %v", err)
	}
	if err := m.close(); !errors.Is(err, boom) {
		t.Errorf("close: %v", err)
	}
	if ran || len(frontierURLs(t, st, "s")) != 0 {
		t.Errorf("a failed group was applied (after ran: %v)", ran)
	}
}

// syncFailsOnce is a WARC writer whose first fsync fails, as a disk's
// may: the committer cannot commit the group that waited for it.
type syncFailsOnce struct {
	*warc.Writer
	failed atomic.Bool
}

var errSyncFailed = errors.New("fsync: input/output error")

func (w *syncFailsOnce) Sync() error {
	if w.failed.CompareAndSwap(false, true) {
		return errSyncFailed
	}
	return w.Writer.Sync()
}

// TestCommitFailureResumes: a run whose committer failed returns the
// error and leaves its sites, those it had begun and those it had not, for
// the next run to resume: nothing is lost, nothing fetched twice.
func TestCommitFailureResumes(t *testing.T) {
	mux := func(host string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				html(w, `<title>`+host+`</title><a href="/a">a</a><a href="/b">b</a>`)
				return
			}
			html(w, "<title>"+host+r.URL.Path+"</title>")
		})
	}
	s1, rule1, log1 := startSite(t, "one.test", mux("one"))
	s2, rule2, log2 := startSite(t, "two.test", mux("two"))
	dir := t.TempDir()
	a := newTestArchive(t, dir)
	cfg := a.config()
	cfg.ConnectTo = []string{rule1, rule2}
	cfg.HostsAtOnce = 1
	cfg.Writer = &syncFailsOnce{Writer: a.writer}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []Site{s1, s2}); !errors.Is(err, errSyncFailed) {
		t.Fatalf("run: %v, want %v", err, errSyncFailed)
	}
	c.Close()
	a.close()
	if got := log2.paths(); len(got) != 0 {
		t.Errorf("two.test was crawled after the state stopped taking commits: %q", got)
	}

	b := newTestArchive(t, dir)
	cfg = b.config()
	cfg.ConnectTo = []string{rule1, rule2}
	cfg.Archived = archivedIn(t, filepath.Join(dir, "warc"))
	sum := run(t, cfg, s1, s2)
	for _, s := range sum.Sites {
		if s.Status != StatusDone || s.Pages != 3 {
			t.Errorf("resumed %s: %s %q, %d pages; want done with 3", s.Name, s.Status, s.Reason, s.Pages)
		}
	}
	for _, l := range []*serverLog{log1, log2} {
		got := l.paths()
		slices.Sort(got)
		if strings.Join(got, " ") != "/ /a /b /robots.txt" {
			t.Errorf("requests over both runs %q: want each once", got)
		}
	}
}

// TestSiteRecordsCommitInOrder: each completion carries the site's record
// as it was then, and they are committed in the order they were made, so
// the state's record is the newest one, even when completions queue up
// behind a stalled disk (what a kill -9 then leaves is what the next run
// counts from).
func TestSiteRecordsCommitInOrder(t *testing.T) {
	a := newTestArchive(t, "")
	c, err := New(a.config())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Which of the visits waiting goes on first is up to the scheduler:
	// a few rounds make an older record's coming last all but certain
	// without the order kept.
	for round := range 60 {
		var stalled <-chan struct{}
		var stall chan struct{}
		c.commits, stalled, stall = stallingCommitter(a.state)
		// A group is being committed, stalled in the archive's sync...
		if err := c.commits.submit(&completion{site: "other.test"}); err != nil {
			t.Fatal(err)
		}
		go c.commits.flush()
		<-stalled
		// ...maxPending completions wait, and more visits finish
		// meanwhile.
		site := fmt.Sprintf("s%d.test", round)
		sc := &siteCrawl{site: Site{Name: site}, rec: &siteRecord{Status: StatusCrawling, Hosts: map[string]*tally{}}}
		n := maxPending + 100
		errs := make(chan error, n)
		for range n {
			go func() { errs <- c.finish(sc, &completion{site: site}, site, &fetched{size: 1}) }()
		}
		for full := false; !full; {
			time.Sleep(time.Millisecond)
			c.commits.mu.Lock()
			full = len(c.commits.pending) == maxPending
			c.commits.mu.Unlock()
		}
		close(stall)
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if err := c.commits.close(); err != nil {
			t.Fatal(err)
		}
		rec, err := a.state.site(site)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Pages != int64(n) {
			t.Fatalf("round %d: the state's site record counts %d pages, want %d: an older record was committed after a newer one", round, rec.Pages, n)
		}
	}
}

// TestCommitterOneRecordPerSite: of the site records completions carry,
// only each site's newest waits for a group (the group is one
// transaction: the older ones would be overwritten in it), so what waits
// does not grow with a site's record, which has a tally per host, times
// the completions waiting.
func TestCommitterOneRecordPerSite(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, stalled, stall := stallingCommitter(st)
	defer m.close()
	record := func(pages int) []byte { return fmt.Appendf(nil, `{"status":"crawling","pages":%d}`, pages) }
	if err := m.submit(&completion{site: "a.test", recBytes: record(0)}); err != nil {
		t.Fatal(err)
	}
	go m.flush()
	<-stalled
	for i := 1; i <= 100; i++ {
		for _, site := range []string{"a.test", "b.test"} {
			if err := m.submit(&completion{site: site, recBytes: record(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m.mu.Lock()
	records := 0
	for _, c := range m.pending {
		if c.recBytes != nil {
			records++
		}
	}
	m.mu.Unlock()
	if records != 2 {
		t.Errorf("%d site records wait for the next group, want 2 (one per site)", records)
	}
	close(stall)
	if err := m.flush(); err != nil {
		t.Fatal(err)
	}
	for _, site := range []string{"a.test", "b.test"} {
		if rec, err := st.site(site); err != nil || rec.Pages != 100 {
			t.Errorf("%s: %+v %v, want the newest record (100 pages)", site, rec, err)
		}
	}
}

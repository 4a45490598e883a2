package index

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	bolt "go.etcd.io/bbolt"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// writeExchanges writes one exchange per (url, response) pair through a
// real warc.Writer observed by obs (nil: nobody, as when a crawl is killed
// before its index commits). parsed, if set, gives each exchange the page
// the crawler would hand over.
func writeExchanges(t *testing.T, layout archive.Layout, obs warc.Observer, start time.Time, pairs [][2]string, parsed func(url string, resp []byte) any) {
	t.Helper()
	if err := layout.Create(); err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: obs, Info: warc.Info{Hostname: "test"}, Dedupe: sharedDedupe})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p[0])
		ex := warc.Exchange{
			TargetURI: p[0], IP: "127.0.0.2", Date: start.Add(time.Duration(i) * time.Second),
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(strings.NewReader(p[1]), 0, int64(len(p[1]))),
		}
		if parsed != nil {
			ex.Parsed = parsed(p[0], []byte(p[1]))
		}
		if _, err := w.WriteExchange(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// sharedDedupe lets payloads repeat across the writers of one test, as the
// crawler state does across runs; tests that use it reset it.
var sharedDedupe = warc.NewMemoryPayloadIndex(1000)

// emptyArchive opens the index of a new, empty archive (closed after the
// test) and gives the test's writers a fresh shared payload index.
func emptyArchive(t *testing.T) (archive.Layout, *Index) {
	t.Helper()
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return layout, ix
}

func htmlPage(title, body string) string {
	doc := fmt.Sprintf(`<html lang="ko"><head><title>%s</title></head><body><h1>%s</h1><p>%s</p><a href="/next">next</a> <a href="http://other.test/">other</a></body></html>`, title, title, body)
	return string(httpResp(200, map[string]string{"Content-Type": htmlType}, []byte(doc)))
}

// answers renders what every query says, search included (URLs, times,
// scores and snippets), for comparing two indexes of the same archive.
func answers(t *testing.T, q querier, queries ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(dump(t, q))
	for _, qs := range queries {
		hits, err := q.Search(context.Background(), SearchRequest{Query: qs})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			fmt.Fprintf(&b, "%s -> %s %s %.6f %s\n", qs, h.URL, h.Time.Format(time.RFC3339Nano), h.Score, h.Snippet)
		}
	}
	return b.String()
}

func rebuilt(t *testing.T, layout archive.Layout, queries ...string) string {
	t.Helper()
	if _, err := Rebuild(context.Background(), layout, testOptions()); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return answers(t, r, queries...)
}

// TestRevisitIsAPage: where two URLs serve the same bytes, the second
// capture is a revisit record; it is still a page, with its own headlines,
// its links resolved against its own URL, and its own search hit, live,
// after a catch-up that has to find the original in index.db, and rebuilt.
func TestRevisitIsAPage(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	same := htmlPage("평양 소식", "대동강 다리 위에서")
	pairs := [][2]string{{"http://www.friend.test/", same}, {"http://friend.test/", same}}
	queries := []string{"대동강", "평양"}

	check := func(name string, q querier) {
		t.Helper()
		caps, err := q.Captures(context.Background(), "friend.test")
		if err != nil || len(caps) != 1 || !caps[0].Revisit {
			t.Fatalf("%s: captures of friend.test %+v (%v), want one revisit", name, caps, err)
		}
		hl, err := q.Headlines(context.Background(), "friend.test")
		if err != nil || len(hl) != 2 || hl[0].Text != "평양 소식" || hl[0].URL != "http://friend.test/" {
			t.Errorf("%s: headlines of the revisit %+v (%v)", name, hl, err)
		}
		links, err := q.Links(context.Background(), "friend.test", true)
		if err != nil || len(links) != 1 || links[0].To != "http://friend.test/next" {
			t.Errorf("%s: internal links of the revisit %+v (%v), want /next on its own host", name, links, err)
		}
		hits, err := q.Search(context.Background(), SearchRequest{Query: "대동강"})
		var urls []string
		for _, h := range hits {
			urls = append(urls, h.URL)
		}
		slices.Sort(urls)
		if err != nil || !slices.Equal(urls, []string{"http://friend.test/", "http://www.friend.test/"}) {
			t.Errorf("%s: search finds %v (%v), want both URLs", name, urls, err)
		}
	}

	// Live.
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, pairs, nil)
	check("live", ix)
	live := answers(t, ix, queries...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// Caught up after a crash, with the original known only to index.db:
	// the original is indexed in one run, the revisit written while no
	// index was listening.
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout2 := archive.Layout{Root: t.TempDir()}
	ix, err = Open(layout2, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout2, ix, t0, pairs[:1], nil)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout2, nil, t0.Add(time.Second), pairs[1:], nil)
	ix, err = Open(layout2, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	check("caught up", ix)
	if got := answers(t, ix, queries...); got != live {
		t.Errorf("caught up differs from live:\n%s\nwant\n%s", got, live)
	}
	ix.Close()

	if got := rebuilt(t, layout, queries...); got != live {
		t.Errorf("rebuilt differs from live:\n%s\nwant\n%s", got, live)
	}
}

// TestCatchUpAfterKill: records that reached the WARC files while no index
// committed them (a crawl killed between the two) are indexed at the next
// Open, and the index then answers exactly what a rebuild answers.
func TestCatchUpAfterKill(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	var pairs [][2]string
	for i := range 30 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://k.test/%d", i), htmlPage(fmt.Sprintf("쪽 %d 평양", i), fmt.Sprintf("word%d 함흥에서 shared", i))})
	}
	queries := []string{"평양", "shared", "word7", "함흥"}
	// First run: indexed as it goes.
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, pairs[:10], nil)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Second run: killed before the index committed anything.
	writeExchanges(t, layout, nil, t0.Add(time.Hour), pairs[10:20], nil)
	// Third run: catches up, then indexes as it goes.
	ix, err = Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ix.stats.Files != 1 {
		t.Errorf("caught up from %d files, want the one not indexed", ix.stats.Files)
	}
	writeExchanges(t, layout, ix, t0.Add(2*time.Hour), pairs[20:], nil)
	caps, err := ix.Captures(context.Background(), "k.test")
	if err != nil || len(caps) != 30 {
		t.Fatalf("%d captures after the catch-up (%v), want 30", len(caps), err)
	}
	live := answers(t, ix, queries...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rebuilt(t, layout, queries...); got != live {
		t.Errorf("rebuilt differs from caught up:\n%s\nwant\n%s", got, live)
	}
}

// TestSearchQueueOverflow: when the full-text queue is full the crawl does
// not wait; the pages it could not take are read back from the WARC files,
// and search answers what a rebuild answers.
func TestSearchQueueOverflow(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	opts := testOptions()
	opts.SearchQueueBytes = 1 // every page but the one being taken is dropped
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	var pairs [][2]string
	for i := range 40 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://q.test/%d", i), htmlPage(fmt.Sprintf("page %d", i), fmt.Sprintf("term%d 개성에서 common", i))})
	}
	// A search index busy elsewhere (here: paused) does not hold the
	// crawl up.
	resume := ix.search.pause()
	writeExchanges(t, layout, ix, t0, pairs, nil)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	resume()
	if ix.search.drops.Load() == 0 {
		t.Fatal("nothing was dropped: the test does not test the overflow")
	}
	queries := []string{"common", "개성", "term33"}
	hits, err := ix.Search(context.Background(), SearchRequest{Query: "common", Limit: 100})
	if err != nil || len(hits) != 40 {
		t.Fatalf("%d hits (%v), want all 40 pages", len(hits), err)
	}
	live := answers(t, ix, queries...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rebuilt(t, layout, queries...); got != live {
		t.Errorf("rebuilt differs from live:\n%s\nwant\n%s", got, live)
	}
}

// TestParsedPageIsUsed: a page the crawler parsed with the index's limits
// is taken as it is (not parsed again); one parsed with other limits is not.
// A parse without the text (SkipText) is taken only by an index that keeps
// no full-text index during the crawl (DeferSearch).
func TestParsedPageIsUsed(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	resp := htmlPage("real title", "real text")
	noText := page.DefaultLimits()
	noText.Config.SkipText = true
	for _, tc := range []struct {
		limits page.Limits
		defer_ bool
		want   string
	}{
		{page.DefaultLimits(), false, "handed title"},
		{page.Limits{MaxBody: 10}, false, "real title"},
		{noText, false, "real title"},
		{noText, true, "handed title"},
		{page.Limits{MaxBody: 10, Config: page.Config{SkipText: true}}, true, "real title"},
	} {
		sharedDedupe = warc.NewMemoryPayloadIndex(1000)
		layout := archive.Layout{Root: t.TempDir()}
		opts := testOptions()
		opts.DeferSearch = tc.defer_
		ix, err := Open(layout, opts)
		if err != nil {
			t.Fatal(err)
		}
		if ix.SearchDeferred() != tc.defer_ {
			t.Fatalf("SearchDeferred %v with DeferSearch %v", ix.SearchDeferred(), tc.defer_)
		}
		writeExchanges(t, layout, ix, t0, [][2]string{{"http://p.test/", resp}}, func(string, []byte) any {
			return &page.Parsed{Page: &page.Page{Title: "handed title", Headlines: []page.Headline{{Tag: "title", Text: "handed title"}}}, Limits: tc.limits}
		})
		hl, err := ix.Headlines(context.Background(), "p.test")
		if err != nil || len(hl) == 0 || hl[0].Text != tc.want {
			t.Errorf("limits %+v, search deferred %v: headlines %+v (%v), want %q", tc.limits, tc.defer_, hl, err, tc.want)
		}
		ix.Close()
	}
}

// TestParsedPageOfCutRecordIsNotUsed: when the record's block is longer
// than Observe reads (the body limit plus room for the head), the index
// reads less of it than the crawler parsed, so a rebuild could not give
// the crawler's page: the index parses what it read instead.
func TestParsedPageOfCutRecordIsNotUsed(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	lim := page.Limits{MaxBody: 1000}
	opts := testOptions()
	opts.Parse = lim
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	resp := htmlPage("real title", strings.Repeat("long text ", 10<<10)) // past 1000 + 64 KiB
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://p.test/", resp}}, func(string, []byte) any {
		return &page.Parsed{Page: &page.Page{Title: "handed title", Headlines: []page.Headline{{Tag: "title", Text: "handed title"}}}, Limits: lim}
	})
	hl, err := ix.Headlines(context.Background(), "p.test")
	if err != nil || len(hl) == 0 || hl[0].Text != "real title" {
		t.Errorf("headlines %+v (%v), want the index's own parse", hl, err)
	}
}

// TestRecrawlKeepsEveryCapture: a page captured twice with different text
// is found by either text, listed once, with the capture that matched.
func TestRecrawlKeepsEveryCapture(t *testing.T) {
	layout, ix := emptyArchive(t)
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://r.test/", htmlPage("old", "drought then flood")}}, nil)
	writeExchanges(t, layout, ix, t0.Add(24*time.Hour), [][2]string{{"http://r.test/", htmlPage("new", "harvest then flood")}}, nil)
	for _, tc := range []struct {
		q    string
		want time.Time
	}{{"drought", t0}, {"harvest", t0.Add(24 * time.Hour)}} {
		hits, err := ix.Search(context.Background(), SearchRequest{Query: tc.q})
		if err != nil || len(hits) != 1 || !hits[0].Time.Equal(tc.want) {
			t.Errorf("%q: %+v (%v), want the capture of %v", tc.q, hits, err, tc.want)
		}
	}
	if hits, err := ix.Search(context.Background(), SearchRequest{Query: "flood"}); err != nil || len(hits) != 1 {
		t.Errorf("flood: %+v (%v), want the URL once", hits, err)
	}
}

// TestOtherSchemaIsRebuilt: an index.db of another version of crawl is
// refused by readers and rebuilt from the WARC files by the next writer.
func TestOtherSchemaIsRebuilt(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://s.test/", htmlPage("schema", "old version")}}, nil)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(layout.IndexPath(), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("schema"), []byte("crawl-index-0")) })
	db.Close()
	if _, err := OpenReader(layout); !errors.Is(err, ErrSchema) {
		t.Fatalf("reader of another schema: %v, want ErrSchema", err)
	}
	// A query of index.db rebuilds index.db; a search, the search index.
	if err := CatchUp(context.Background(), layout, testOptions(), false, nil); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if caps, err := r.Captures(context.Background(), "s.test"); err != nil || len(caps) != 1 {
		t.Errorf("captures after the rebuild: %v %v", caps, err)
	}
	if err := CatchUp(context.Background(), layout, testOptions(), true, nil); err != nil {
		t.Fatal(err)
	}
	if hits, err := r.Search(context.Background(), SearchRequest{Query: "version"}); err != nil || len(hits) != 1 {
		t.Errorf("after the rebuild: %v %v", hits, err)
	}
}

// TestSearchCatchUpBesideWriter: while a crawl's writer holds index.db, a
// query brings the search index up to date itself (without the writer
// lock); the two take turns on the search index and no page is added twice.
func TestSearchCatchUpBesideWriter(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	opts := testOptions()
	opts.SearchQueueBytes = 1
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var pairs [][2]string
	for i := range 25 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://w.test/%d", i), htmlPage(fmt.Sprintf("page %d", i), "신의주에서 together")})
	}
	// The search index exists (made by the writer's first round), then
	// the crawl's search writer is busy elsewhere.
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	resume := ix.search.pause()
	writeExchanges(t, layout, ix, t0, pairs, nil)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	r0, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r0.SearchPage(context.Background(), SearchRequest{Query: "together"}); err != nil || res.Behind == 0 {
		t.Errorf("before the catch-up: %+v %v, want the search index to say it is behind", res, err)
	}
	if err := CatchUp(context.Background(), layout, testOptions(), true, nil); err != nil {
		t.Fatalf("search catch-up beside a writer: %v", err)
	}
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.SearchPage(context.Background(), SearchRequest{Query: "together", Limit: 100}); err != nil || len(res.Hits) != 25 || res.Behind != 0 {
		t.Errorf("after the catch-up: %d hits, %d bytes behind (%v), want 25 and 0", len(res.Hits), res.Behind, err)
	}
	resume()
	// The crawl's writer now takes its turn: nothing is added twice.
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var docs uint64
	ix.search.withIndex(func(idx bleve.Index) error {
		docs, err = idx.DocCount()
		return err
	})
	if docs != 25 {
		t.Errorf("%d documents, want 25", docs)
	}
}

// TestSearcherFollows: a long-running reader's Searcher finds pages a crawl
// wrote while the crawl's own search writer was busy: it brings the search
// index up to date itself, beside the crawl.
func TestSearcherFollows(t *testing.T) {
	layout, ix := emptyArchive(t)
	resume := ix.search.pause()
	defer resume()
	s := OpenSearcher(layout, testOptions())
	defer s.Close()
	var pairs [][2]string
	for i := range 12 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://f.test/%d", i), htmlPage(fmt.Sprintf("page %d", i), "원산에서 everywhere")})
	}
	writeExchanges(t, layout, ix, t0, pairs, nil)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	// The Searcher looks every searcherEvery; wait for it by asking it to
	// sync now, as its loop does.
	if err := s.ix.search.sync(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(context.Background(), SearchRequest{Query: "everywhere", Limit: 5, Offset: 10})
	if err != nil || res.Total != 12 || len(res.Hits) != 2 {
		t.Errorf("page 3 of 5: %d hits of %d (%v), want 2 of 12", len(res.Hits), res.Total, err)
	}
}

// TestSearcherReadOnly: a Searcher whose search index cannot be opened for
// writing (a read-only archive) still answers, read-only, and says how far
// the search index is behind index.db.
func TestSearcherReadOnly(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://ro.test/", htmlPage("read only", "mountain pass")}}, nil)
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	s := OpenSearcher(layout, testOptions())
	defer s.Close()
	s.ix.search.mu.Lock()
	s.ix.search.openWrite = func(string, time.Duration) (bleve.Index, error) {
		return nil, errors.New("read-only file system")
	}
	s.ix.search.mu.Unlock()
	res, err := s.Search(context.Background(), SearchRequest{Query: "mountain"})
	if err != nil || len(res.Hits) != 1 || res.Behind != 0 {
		t.Errorf("%+v (%v), want the one page, nothing behind", res, err)
	}
}

// TestSnippetsAreStable: the same query on the same index gives the same
// snippets every time (Korean words of three syllables and more are a word
// and its bigrams at one offset; which of them is marked must not vary).
func TestSnippetsAreStable(t *testing.T) {
	layout, ix := emptyArchive(t)
	var pairs [][2]string
	for i := range 8 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://st.test/%d", i),
			htmlPage("도서관 안내", fmt.Sprintf("중앙도서관에서 박물관까지 %d 걸음. 도서관 박물관 도서관에서 책을 읽었다.", i))})
	}
	writeExchanges(t, layout, ix, t0, pairs, nil)
	first := ""
	for round := range 20 {
		got := answers(t, ix, "도서관 박물관", "중앙도서관", "박물관까지")
		if round == 0 {
			first = got
		} else if got != first {
			t.Fatalf("round %d differs:\n%s\nwant\n%s", round, got, first)
		}
	}
}

// TestDeferSearch: a writer that defers the search index leaves it alone
// while open (index.db stays live), and FinishSearch then brings it up to
// what a rebuild gives.
func TestDeferSearch(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	opts := testOptions()
	opts.DeferSearch = true
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	var pairs [][2]string
	for i := range 15 {
		pairs = append(pairs, [2]string{fmt.Sprintf("http://d.test/%d", i), htmlPage(fmt.Sprintf("page %d", i), "해주에서 deferred")})
	}
	writeExchanges(t, layout, ix, t0, pairs, nil)
	if caps, err := ix.Captures(context.Background(), "d.test"); err != nil || len(caps) != 15 {
		t.Fatalf("index.db is not live: %d captures (%v)", len(caps), err)
	}
	if _, err := os.Stat(layout.SearchDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the search index was written while deferred: %v", err)
	}
	queries := []string{"deferred", "해주"}
	live := answers(t, ix, queries...) // FinishSearch first, as a query does
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(live, "http://d.test/14") {
		t.Errorf("after FinishSearch the pages are not found:\n%s", live)
	}
	if got := rebuilt(t, layout, queries...); got != live {
		t.Errorf("rebuilt differs:\n%s\nwant\n%s", got, live)
	}
}

// TestCloseLetsGoOfSearchIndex: a query of the writer's own process that
// is still running when the writer closes does not keep the search index
// open (and locked) after it ends, and a query after Close does not open it
// again: another process (here: a read-only open) gets in.
func TestCloseLetsGoOfSearchIndex(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://c.test/", htmlPage("close", "kaesong")}}, nil)
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	free := func(when string) {
		t.Helper()
		idx, err := openSearch(layout.SearchDir(), false, true, 300*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: the search index is still held: %v", when, err)
		}
		idx.Close()
	}
	// Close while a query holds the index.
	if err := ix.search.withIndex(func(bleve.Index) error { return ix.Close() }); err != nil {
		t.Fatal(err)
	}
	free("after a query that outlived Close")
	if err := ix.search.withIndex(func(bleve.Index) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("query after Close: %v, want ErrClosed", err)
	}
	free("after a query made after Close")

	s := OpenSearcher(layout, testOptions())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(context.Background(), SearchRequest{Query: "kaesong"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Searcher.Search after Close: %v, want ErrClosed", err)
	}
	free("after a Searcher's search made after Close")
}

// TestSearchReadBackTakesWhatIndexTakes: a record read back from its file
// by the search writer (a deferred search index, or pages its queue
// dropped) gives the search document that index.db's writer took from it:
// here a WARC-Type written in capitals by another tool.
func TestSearchReadBackTakesWhatIndexTakes(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	if err := layout.Create(); err != nil {
		t.Fatal(err)
	}
	block := htmlPage("capitals", "hamhung")
	rec := "WARC/1.1\r\nWARC-Type: Response\r\nWARC-Record-ID: <urn:uuid:0b6b1f2e-6b0e-4c39-9d4e-3f6a6c0e0a01>\r\n" +
		"WARC-Date: 2026-08-23T12:00:00Z\r\nWARC-Target-URI: http://case.test/\r\n" +
		"Content-Type: application/http;msgtype=response\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s\r\n\r\n", len(block), block)
	if err := os.WriteFile(filepath.Join(layout.WARCDir(), "20260823120000-other.warc"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.DeferSearch = true
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if hl, err := ix.Headlines(context.Background(), "case.test"); err != nil || len(hl) == 0 {
		t.Fatalf("index.db did not take the page: %v %v", hl, err)
	}
	hits, err := ix.Search(context.Background(), SearchRequest{Query: "hamhung"})
	if err != nil || len(hits) != 1 {
		t.Errorf("search finds %v (%v), want the page index.db has", hits, err)
	}
}

// pause lets go of the index and keeps this writer from taking it again
// (and from committing) until resume is called: for tests that need the
// writer busy elsewhere.
func (sw *searchWriter) pause() (resume func()) {
	sw.release(false)
	sw.mu.Lock()
	if sw.idx != nil && sw.users == 0 { // taken again meanwhile
		sw.idx.Close()
		sw.idx, sw.ckpt, sw.stats = nil, nil, nil
	}
	return sw.mu.Unlock
}

// TestFailedSearchBatchMovesNothing: a bleve batch that fails (here: on an
// index closed underneath it; a full disk in real life) leaves the search
// writer's checkpoint and statistics as they were, so a later commit does
// not store a checkpoint past pages that are not in the index, and the
// next scan reads them back.
func TestFailedSearchBatchMovesNothing(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeExchanges(t, layout, ix, t0, [][2]string{{"http://b.test/", htmlPage("batch", "sinuiju")}}, nil)
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// A search writer without its run loop: this goroutine alone uses it.
	sw := newSearchWriter(&Index{opts: testOptions().withDefaults()}, layout.SearchDir(), false)
	if err := sw.acquire(); err != nil {
		t.Fatal(err)
	}
	ckpt, docs := maps.Clone(sw.ckpt), sw.stats.Docs
	if len(ckpt) == 0 || docs == 0 {
		t.Fatalf("checkpoint %v, %d documents: the index is not the one written", ckpt, docs)
	}
	sw.idx.Close()
	d := newPageDoc("http://b.test/lost", "b.test", &captureValue{Time: t0, RecordID: "<urn:x>"})
	d.loc = warc.Location{File: "lost.warc.gz", Offset: 0, Length: 1000}
	if err := sw.add([]*pageDoc{d}); err == nil {
		t.Fatal("a batch on a closed index did not fail: the test tests nothing")
	}
	if !maps.Equal(sw.ckpt, ckpt) || sw.stats.Docs != docs {
		t.Errorf("after a failed batch: checkpoint %v, %d documents; want %v, %d as before", sw.ckpt, sw.stats.Docs, ckpt, docs)
	}
	if err := sw.commitCheckpoint("other.warc.gz", 10); err == nil {
		t.Fatal("a checkpoint on a closed index did not fail")
	}
	if !maps.Equal(sw.ckpt, ckpt) {
		t.Errorf("after a failed checkpoint: %v, want %v as before", sw.ckpt, ckpt)
	}
}

// TestHandedParseReadsHeadOnly: with the crawler's parse handed on, the
// index reads only the HTTP head of an HTML response (warc.Record's
// PayloadOffset; pageHead, TestPageHead), and all of a text/plain one,
// whose text it reads itself. Either way the live index answers what a
// rebuild answers.
func TestHandedParseReadsHeadOnly(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	pairs := [][2]string{
		{"http://h.test/", htmlPage("harbour news", "ships in the harbour of Nampo")},
		{"http://h.test/notes.txt", string(httpResp(200, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, []byte("lighthouse keepers' notes")))},
		{"http://h.test/gone", string(httpResp(301, map[string]string{"Location": "/"}, nil))},
	}
	handed := 0
	writeExchanges(t, layout, ix, t0, pairs, func(uri string, resp []byte) any {
		r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(resp)), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		u, _ := url.Parse(uri)
		pg, err := page.ParseResponse(body, r.Header, u, page.DefaultLimits())
		if err != nil {
			// text/plain: handed a parse all the same (as a page), which
			// the index must not take for the text it reads itself.
			pg = &page.Page{Title: "not this", Links: []page.Link{}}
		}
		handed++
		return &page.Parsed{Page: pg, Limits: page.DefaultLimits()}
	})
	if handed != len(pairs) {
		t.Fatalf("handed %d parses", handed)
	}
	queries := []string{"harbour", "lighthouse"}
	for _, q := range queries {
		hits, err := ix.Search(context.Background(), SearchRequest{Query: q})
		if err != nil || len(hits) != 1 {
			t.Errorf("%q: %+v (%v), want one hit", q, hits, err)
		}
	}
	caps, err := ix.Captures(context.Background(), "h.test")
	if err != nil || len(caps) != 3 {
		t.Fatalf("captures %+v (%v)", caps, err)
	}
	for _, c := range caps {
		if c.Status == 0 || c.MIME == "" && c.Status == 200 || c.Length == 0 {
			t.Errorf("capture %+v: status and MIME come from the head, the location from the writer", c)
		}
	}
	live := answers(t, ix, queries...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rebuilt(t, layout, queries...); got != live {
		t.Errorf("rebuilt differs from live:\n%s\nwant\n%s", got, live)
	}
}

func TestPageHead(t *testing.T) {
	html := htmlPage("t", "body text")
	plain := string(httpResp(200, map[string]string{"Content-Type": "Text/Plain"}, []byte("text")))
	headLen := func(resp string) int64 { return int64(strings.Index(resp, "\r\n\r\n") + 4) }
	rec := func(resp string, off int64) warc.Record {
		return warc.Record{Block: io.NewSectionReader(strings.NewReader(resp), 0, int64(len(resp))), PayloadOffset: off}
	}
	for _, tc := range []struct {
		name string
		rec  warc.Record
		want string // "" for nil: the whole block is read
	}{
		{"html", rec(html, headLen(html)), html[:headLen(html)]},
		{"text/plain needs its body", rec(plain, headLen(plain)), ""},
		{"offset unknown", rec(html, 0), ""},
		{"offset past the block", rec(html, int64(len(html))+1), ""},
	} {
		if got := pageHead(tc.rec, 1<<20); string(got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testOptions keep tests quick: small batches, short lock waits.
func testOptions() Options {
	return Options{BatchSize: 4, BatchDelay: 5 * time.Millisecond, LockTimeout: 2 * time.Second}
}

// querier is what Index and Reader share.
type querier interface {
	Hosts(context.Context) ([]HostRow, error)
	Captures(context.Context, string) ([]CaptureRow, error)
	Headlines(context.Context, string) ([]HeadlineRow, error)
	Links(context.Context, string, bool) ([]LinkRow, error)
	Search(context.Context, SearchRequest) ([]Hit, error)
}

// dump renders every query answer as JSON lines, the way the CLI prints
// them. WARC file names and offsets vary with the clock and record IDs, so
// captures are dumped without them (TestCaptureLocations checks those).
func dump(t *testing.T, q querier) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	hosts, err := q.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("# hosts\n")
	for _, h := range hosts {
		enc.Encode(h)
	}
	for _, h := range hosts {
		caps, err := q.Captures(ctx, h.Host)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("# captures " + h.Host + "\n")
		for _, c := range caps {
			c.WARC, c.Offset, c.Length = "", 0, 0
			enc.Encode(c)
		}
		hl, err := q.Headlines(ctx, h.Host)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("# headlines " + h.Host + "\n")
		for _, r := range hl {
			enc.Encode(r)
		}
		for _, internal := range []bool{false, true} {
			links, err := q.Links(ctx, h.Host, internal)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("# links " + h.Host + map[bool]string{false: "", true: " --internal"}[internal] + "\n")
			for _, r := range links {
				enc.Encode(r)
			}
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// liveArchive writes the fixture archive with an Index observing it, as a
// crawl does.
func liveArchive(t *testing.T) (archive.Layout, *Index) {
	t.Helper()
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	writeArchive(t, layout, ix)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	return layout, ix
}

func TestIndexGolden(t *testing.T) {
	layout, ix := liveArchive(t)
	live := dump(t, ix)
	golden(t, "archive.golden", live)

	// The same answers from a separate read-only handle (once the search
	// index has caught up: Close does not wait for it)...
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, r); got != live {
		t.Errorf("Reader differs from Index:\n%s\nvs\n%s", got, live)
	}
	liveHits := searchAll(t, r)
	r.Close()

	// ...and after a rebuild from the WARC files alone.
	stats, err := Rebuild(context.Background(), layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Six captures of pages: the revisit of the home page is one too.
	if stats.Files != 1 || stats.Records == 0 || stats.Pages != 6 {
		t.Errorf("rebuild stats %+v, want 1 file and 6 pages", stats)
	}
	r, err = OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := dump(t, r); got != live {
		t.Errorf("after Rebuild:\n%s\nwant\n%s", got, live)
	}
	if got := searchAll(t, r); got != liveHits {
		t.Errorf("search after Rebuild:\n%s\nwant\n%s", got, liveHits)
	}
}

// searchAll runs every probe and renders the hits (URLs and snippets).
func searchAll(t *testing.T, q querier) string {
	var b strings.Builder
	for _, p := range searchProbes {
		hits, err := q.Search(context.Background(), SearchRequest{Query: p.query, Host: p.host})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			b.WriteString(p.query + " -> " + h.URL + " " + h.Snippet + "\n")
		}
	}
	return b.String()
}

var searchProbes = []struct {
	query, host string
	want        []string // URLs, any order
}{
	// Korean inside longer words, UTF-8 page.
	{query: "서울", want: []string{"http://www.a.test/"}},
	{query: "특별시", want: []string{"http://www.a.test/"}},
	{query: "서울특별시", want: []string{"http://www.a.test/"}},
	{query: "광화문", want: []string{"http://www.a.test/"}},
	{query: "서울시장", want: nil}, // its bigrams appear, not in a row
	// Korean decoded from EUC-KR.
	{query: "부산", want: []string{"http://www.a.test/euc"}},
	{query: "광역시", want: []string{"http://www.a.test/euc"}},
	{query: "해수욕장", want: []string{"http://www.a.test/euc"}},
	{query: "title:부산", want: []string{"http://www.a.test/euc"}},
	{query: "인천항", want: []string{"http://b.test/x"}},
	// English stemming.
	{query: "run", want: []string{"http://www.a.test/about"}},
	{query: "runs", want: []string{"http://www.a.test/about"}},
	{query: "parked", want: []string{"http://www.a.test/about"}},
	{query: "librari", want: []string{"http://www.a.test/gz"}},
	{query: "approving", want: []string{"http://www.a.test/gz"}},
	{query: `"approved the budget"`, want: []string{"http://www.a.test/gz"}},
	{query: "+budget -libraries", want: nil},
	{query: "club harbour", want: []string{"http://www.a.test/about", "http://b.test/x"}},
	{query: "harbour", host: "www.a.test", want: nil},
	{query: "host:b.test harbour", want: []string{"http://b.test/x"}},
	{query: "headlines:contact", want: []string{"http://www.a.test/about"}},
	{query: "text:secretary", want: []string{"http://www.a.test/about"}},
	{query: "title:secretary", want: nil},
	{query: "lang:ko", want: []string{"http://www.a.test/", "http://www.a.test/euc"}},
	// Never indexed: 404, redirect, robots.txt.
	{query: "seoul", want: nil},
	{query: "moved", want: nil},
	{query: "gone", want: nil},
}

func TestSearchProbes(t *testing.T) {
	_, ix := liveArchive(t)
	for _, p := range searchProbes {
		hits, err := ix.Search(context.Background(), SearchRequest{Query: p.query, Host: p.host})
		if err != nil {
			t.Fatalf("%q: %v", p.query, err)
		}
		var got []string
		for i, h := range hits {
			got = append(got, h.URL)
			if h.Score <= 0 || (i > 0 && h.Score > hits[i-1].Score) {
				t.Errorf("%q: hit %d score %v not best first", p.query, i, h.Score)
			}
		}
		slices.Sort(got)
		want := slices.Clone(p.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("search %q (host %q) = %v, want %v", p.query, p.host, got, want)
		}
	}
	// Snippets mark the match.
	hits, err := ix.Search(context.Background(), SearchRequest{Query: "광화문"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("광화문: %v %v", hits, err)
	}
	if !strings.Contains(hits[0].Snippet, "<mark>광화문") || hits[0].Title != "서울 소식" || hits[0].Host != "www.a.test" {
		t.Errorf("hit %+v: want a marked snippet, title and host", hits[0])
	}
	if _, err := ix.Search(context.Background(), SearchRequest{Query: "  "}); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("empty query: %v", err)
	}
}

// TestCaptureLocations reads every capture's record back at its
// (warc, offset, length) and compares the URI and date.
func TestCaptureLocations(t *testing.T) {
	layout, ix := liveArchive(t)
	caps, err := ix.Captures(context.Background(), "www.a.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != 8 {
		t.Fatalf("%d captures of www.a.test, want 8", len(caps))
	}
	revisits := 0
	for _, c := range caps {
		f, err := os.Open(filepath.Join(layout.WARCDir(), c.WARC))
		if err != nil {
			t.Fatal(err)
		}
		r, err := warc.NewReader(io.NewSectionReader(f, c.Offset, c.Length))
		if err != nil {
			t.Fatal(err)
		}
		rec, loc, err := r.Next()
		if err != nil {
			t.Fatalf("%s at %s:%d: %v", c.URL, c.WARC, c.Offset, err)
		}
		if got := rec.Header.Get("WARC-Target-URI"); got != c.URL {
			t.Errorf("record at %s:%d is %s, want %s", c.WARC, c.Offset, got, c.URL)
		}
		if d, _ := time.Parse(time.RFC3339Nano, rec.Header.Get("WARC-Date")); !d.Equal(c.Time) {
			t.Errorf("record at %d dated %v, want %v", c.Offset, d, c.Time)
		}
		if loc.Length != c.Length {
			t.Errorf("record at %d is %d bytes long, index says %d", c.Offset, loc.Length, c.Length)
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Errorf("section at %d holds more than one record: %v", c.Offset, err)
		}
		if c.Revisit {
			revisits++
		}
		r.Close()
		f.Close()
	}
	if revisits != 1 {
		t.Errorf("%d revisits, want 1", revisits)
	}
}

// TestObserveTwice feeds every record a second time, as a reindex over an
// existing index would: nothing may be counted twice.
func TestObserveTwice(t *testing.T) {
	layout, ix := liveArchive(t)
	before := dump(t, ix)
	files, _ := warc.Files(layout.WARCDir())
	for _, f := range files {
		if err := warc.ReadFile(f, func(rec warc.Record, loc warc.Location) error {
			ix.Observe(loc, rec)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if after := dump(t, ix); after != before {
		t.Errorf("observing the same records twice changed the index:\n%s\nwas\n%s", after, before)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	empty := archive.Layout{Root: t.TempDir()}
	if _, err := OpenReader(empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("OpenReader of an empty archive: %v, want ErrEmpty", err)
	}
	if _, err := Rebuild(ctx, empty, testOptions()); !errors.Is(err, ErrEmpty) {
		t.Errorf("Rebuild of an empty archive: %v, want ErrEmpty", err)
	}

	layout, ix := liveArchive(t)
	for _, host := range []string{"nowhere.test", "A.TEST"} {
		if _, err := ix.Captures(ctx, host); !errors.Is(err, ErrUnknownHost) || !strings.Contains(err.Error(), strings.ToLower(host)) {
			t.Errorf("Captures(%s): %v, want ErrUnknownHost naming it", host, err)
		}
	}
	if _, err := ix.Captures(ctx, "WWW.A.TEST."); err != nil {
		t.Errorf("host names are case-insensitive with or without the dot: %v", err)
	}

	// A second writer on the same archive is refused, not left waiting.
	opts := testOptions()
	opts.LockTimeout = 100 * time.Millisecond
	if _, err := Open(layout, opts); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "in use by process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Open: %v, want ErrLocked naming the holder", err)
	}
	if _, err := Rebuild(ctx, layout, opts); !errors.Is(err, ErrLocked) {
		t.Errorf("Rebuild while a writer is open: %v, want ErrLocked", err)
	}
	// A reader gets in between batches, even while the writer is open,
	// and search works too: the writer lets go of the search index
	// between batches (a reader waits up to its LockTimeout, longer than
	// the writer's lease).
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if hits, err := r.Search(ctx, SearchRequest{Query: "서울"}); err != nil || len(hits) != 1 {
		t.Errorf("search while a writer is open: %v %v, want the one page", hits, err)
	}
	r.Close()
}

func TestBadRecords(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rec := func(typ, uri, ctype, block string) warc.Record {
		return warc.Record{
			Header: warc.Header{{Name: "WARC-Type", Value: typ}, {Name: "WARC-Target-URI", Value: uri},
				{Name: "WARC-Date", Value: "2026-08-23T12:00:00Z"}, {Name: "Content-Type", Value: ctype},
				{Name: "Content-Length", Value: "1"}},
			Block: io.NewSectionReader(strings.NewReader(block), 0, int64(len(block))),
		}
	}
	for i, r := range []warc.Record{
		rec("response", "not a url", "application/http", "HTTP/1.1 200 OK\r\n\r\n"),
		rec("response", "http://x.test/", "application/http", "garbage"),
		rec("response", "http://x.test/trunc", "application/http", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 999\r\n\r\n<title>cut</title>"),
		rec("response", "http://x.test/gz", "application/http", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\nnot gzip"),
		rec("response", "http://x.test/br", "application/http", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\nxx"),
		rec("metadata", archive.HostURI("y.test"), archive.ContentType, "{not json"),
		rec("metadata", "http://y.test/", archive.ContentType, `{"url":"http://y.test/","error":"timeout"}`),
		rec("metadata", "http://z.test/", "text/plain", "other tool's note"),
		rec("request", "http://x.test/", "application/http", "GET / HTTP/1.1\r\n\r\n"),
		rec("warcinfo", "", "application/warc-fields", "software: x\r\n"),
	} {
		ix.Observe(warc.Location{File: "f.warc.gz", Offset: int64(i * 100), Length: 100}, r)
	}
	rows, err := ix.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(rows)
	want := `[{"host":"x.test","site":"","role":"","addrs":[],"status":"partial","captures":4,"bytes":4,"notes":0,"error":""},` +
		`{"host":"y.test","site":"","role":"","addrs":[],"status":"partial","captures":0,"bytes":0,"notes":0,"error":"timeout"}]`
	if string(got) != want {
		t.Errorf("hosts:\n got %s\nwant %s", got, want)
	}
	hits, err := ix.Search(context.Background(), SearchRequest{Query: "cut"})
	if err != nil || len(hits) != 1 {
		t.Errorf("a truncated page is still indexed: %v %v", hits, err)
	}
}

// TestRebuildCorruptFile: a WARC file with a broken tail is indexed up to
// the bad record, and the error names the file.
func TestRebuildCorruptFile(t *testing.T) {
	layout, ix := liveArchive(t)
	want := dump(t, ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := warc.Files(layout.WARCDir())
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("\x1f\x8b\x08\x00garbage, as a crash mid-record leaves"))
	f.Close()

	stats, err := Rebuild(context.Background(), layout, testOptions())
	if err == nil || !strings.Contains(err.Error(), filepath.Base(files[0])) {
		t.Fatalf("Rebuild over a corrupt file: %v, want an error naming it", err)
	}
	if len(stats.BadFiles) != 1 {
		t.Errorf("BadFiles %v", stats.BadFiles)
	}
	r, err := OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := dump(t, r); got != want {
		t.Errorf("records before the bad spot were lost:\n%s\nwant\n%s", got, want)
	}
}

// TestRebuildCancelled leaves the old index untouched.
func TestRebuildCancelled(t *testing.T) {
	layout, ix := liveArchive(t)
	want := dump(t, ix)
	ix.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Rebuild(ctx, layout, testOptions()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Rebuild: %v", err)
	}
	r, err := OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := dump(t, r); got != want {
		t.Errorf("a cancelled rebuild changed the index")
	}
	if _, err := os.Stat(layout.IndexPath() + ".rebuild"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary index left behind: %v", err)
	}
}

// TestHostsLineWithoutName: a batched hosts record with a nameless line
// (bad input) adds the other hosts and fails nothing else in its commit.
// TestHostsLineWithoutName: a nameless line and a malformed line in a batched
// hosts record cost neither the other lines nor the rest of the batch.
func TestHostsLineWithoutName(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	lines := `{"site":"q.test","zone":"test"}` + "\n" + `{"name":` + "\n" + `{"name":"W.test.","site":"w.test","role":"web","zone":"test"}` + "\n"
	ix.Observe(warc.Location{File: "f.warc.gz"}, warc.Record{
		Header: warc.Header{{Name: "WARC-Type", Value: "metadata"}, {Name: "WARC-Target-URI", Value: archive.HostsURI("test")},
			{Name: "WARC-Date", Value: "2026-08-23T12:00:00Z"}, {Name: "Content-Type", Value: archive.ContentTypeLines}},
		Block: io.NewSectionReader(strings.NewReader(lines), 0, int64(len(lines))),
	})
	ix.Observe(warc.Location{File: "f.warc.gz", Offset: 100, Length: 100},
		captureRecord("http://w.test/", t0, 200, "text/plain", "hello"))
	if err := ix.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	rows, err := ix.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Host != "w.test" || rows[0].Site != "w.test" || rows[0].Role != "web" || rows[0].Captures != 1 {
		got, _ := json.Marshal(rows)
		t.Errorf("hosts: got %s, want only w.test (site w.test, role web, 1 capture)", got)
	}
}

// TestInterimResponses: a capture recorded with interim 1xx heads before its
// final response is that response (status, page, headlines).
func TestInterimResponses(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	html := "<html><head><title>Hinted</title></head><body><h1>After hints</h1></body></html>"
	rec := captureRecord("http://h.test/", t0, 200, "text/html", html)
	block := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
		fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(html), html)
	rec.Block = io.NewSectionReader(strings.NewReader(block), 0, int64(len(block)))
	ix.Observe(warc.Location{File: "f.warc.gz", Offset: 1, Length: 1}, rec)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	caps, err := ix.Captures(context.Background(), "h.test")
	if err != nil || len(caps) != 1 || caps[0].Status != 200 || caps[0].MIME != "text/html" {
		t.Fatalf("captures %+v (%v), want one 200 text/html", caps, err)
	}
	heads, err := ix.Headlines(context.Background(), "h.test")
	if err != nil || len(heads) != 2 || heads[0].Text != "Hinted" || heads[1].Text != "After hints" {
		t.Errorf("headlines %+v (%v), want the final page's title and h1", heads, err)
	}
}

// failingReaderAt is a block whose bytes cannot be read.
type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk gone") }

// TestUnreadableBlock: a record whose block cannot be read is logged and
// left out; the records after it are indexed, and Flush returns (the
// writer does not wait for a decode that never comes; without the fix this
// test hangs).
func TestUnreadableBlock(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rec := func(uri string, block io.ReaderAt, size int64) warc.Record {
		return warc.Record{
			Header: warc.Header{{Name: "WARC-Type", Value: "response"}, {Name: "WARC-Target-URI", Value: uri},
				{Name: "WARC-Date", Value: "2026-08-23T12:00:00Z"}, {Name: "Content-Type", Value: "application/http;msgtype=response"}},
			Block: io.NewSectionReader(block, 0, size),
		}
	}
	good := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<title>after</title>"
	ix.Observe(warc.Location{File: "f.warc.gz", Offset: 0, Length: 100}, rec("http://u.test/bad", failingReaderAt{}, 100))
	ix.Observe(warc.Location{File: "f.warc.gz", Offset: 100, Length: 100}, rec("http://u.test/good", strings.NewReader(good), int64(len(good))))
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	caps, err := ix.Captures(context.Background(), "u.test")
	if err != nil || len(caps) != 1 || caps[0].URL != "http://u.test/good" {
		t.Errorf("captures %+v (%v), want the readable record's", caps, err)
	}
}

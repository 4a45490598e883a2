package index

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/httpmsg"
	"crawl/internal/warc"
)

// TestNotes: crawl's notes (archive.Note) are counted per host and listed
// with the capture they name, the same live and after a rebuild; a note
// indexed twice counts once.
func TestNotes(t *testing.T) {
	sharedDedupe = warc.NewMemoryPayloadIndex(1000)
	layout := archive.Layout{Root: t.TempDir()}
	if err := layout.Create(); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: ix, Info: warc.Info{Hostname: "test"}, Dedupe: sharedDedupe})
	if err != nil {
		t.Fatal(err)
	}
	capture := func(u, body string, at time.Time) string {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: n.test\r\n\r\n", u)
		resp := htmlPage("t", body)
		res, err := w.WriteExchange(warc.Exchange{TargetURI: u, IP: "127.0.0.2", Date: at,
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(strings.NewReader(resp), 0, int64(len(resp)))})
		if err != nil {
			t.Fatal(err)
		}
		return res.ResponseID
	}
	first := capture("http://n.test/", "one", t0)
	capture("http://n.test/", "two", t0.Add(time.Hour)) // a later capture of the same URL, without notes
	other := capture("http://n.test/big", "big", t0)
	for _, n := range []archive.Note{
		{URL: "http://n.test/", Host: "n.test", Kind: archive.NoteTrap, Detail: "3 links dropped", Capture: first, Time: t0},
		{URL: "http://n.test/", Host: "n.test", Kind: archive.NoteLinksCut, Detail: "more than 5 links", Capture: first, Time: t0},
		{URL: "http://n.test/", Host: "n.test", Kind: archive.NoteTrap, Detail: "2 more", Capture: first, Time: t0},
		{URL: "http://n.test/big", Host: "n.test", Kind: archive.NoteTruncated, Detail: "length", Capture: other, Time: t0},
	} {
		if err := archive.WriteNote(w, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	check := func(name string, q querier) {
		t.Helper()
		hosts, err := q.Hosts(context.Background())
		if err != nil || len(hosts) != 1 || hosts[0].Notes != 4 {
			t.Errorf("%s: hosts %+v (%v), want n.test with 4 notes", name, hosts, err)
		}
		caps, err := q.Captures(context.Background(), "n.test")
		if err != nil || len(caps) != 3 {
			t.Fatalf("%s: captures %+v (%v)", name, caps, err)
		}
		want := [][]string{{archive.NoteLinksCut, archive.NoteTrap}, nil, {archive.NoteTruncated}} // /, / an hour later, /big
		for i, c := range caps {
			if !slices.Equal(c.Notes, want[i]) {
				t.Errorf("%s: capture %s at %v has notes %q, want %q", name, c.URL, c.Time, c.Notes, want[i])
			}
		}
	}
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	check("live", ix)
	live := dump(t, ix)
	ix.Close()
	if got := rebuilt(t, layout); got != live {
		t.Errorf("rebuilt differs from live:\n%s\nwant\n%s", got, live)
	}
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	check("rebuilt", r)

	// Reading every record again (a reindex over the index) counts nothing twice.
	files, _ := warc.Files(layout.WARCDir())
	ix2, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		warc.ReadFile(f, func(rec warc.Record, loc warc.Location) error { ix2.Observe(loc, rec); return nil })
	}
	if err := ix2.Flush(); err != nil {
		t.Fatal(err)
	}
	check("observed twice", ix2)
	ix2.Close()
}

// TestArchivedSince: the latest capture of a URL made at or after a time
// is found, with its record ID and block (for a revisit, its original's,
// which holds the payload); an earlier one, or another URL with this one
// as a prefix, is not.
func TestArchivedSince(t *testing.T) {
	layout, ix := emptyArchive(t)
	writeExchanges(t, layout, ix, t0, [][2]string{
		{"http://s.test/a", htmlPage("old", "first")},
		{"http://s.test/ab", htmlPage("other", "other url")},
		{"http://s.test/a", htmlPage("new", "second")},
		{"http://s.test/b", htmlPage("new", "second")}, // the same payload: a revisit
	}, nil)
	ctx := context.Background()
	block, id, ok, err := ix.ArchivedSince(ctx, "http://s.test/a", t0.Add(time.Second))
	if err != nil || !ok || !strings.Contains(string(block), "<title>new</title>") || !strings.HasPrefix(id, "<urn:uuid:") {
		t.Errorf("ArchivedSince(/a, t0+1s): %q %q %v %v", block, id, ok, err)
	}
	if _, _, ok, err := ix.ArchivedSince(ctx, "http://s.test/a", t0.Add(time.Hour)); ok || err != nil {
		t.Errorf("a capture before since was found (%v)", err)
	}
	block, rid, ok, err := ix.ArchivedSince(ctx, "http://s.test/b", t0)
	if err != nil || !ok || !strings.Contains(string(block), "<title>new</title>") || !strings.HasPrefix(rid, "<urn:uuid:") || rid == id {
		t.Errorf("ArchivedSince(/b), a revisit of /a: %q %q %v %v; want /a's block and the revisit's own ID", block, rid, ok, err)
	}
	if _, _, ok, err := ix.ArchivedSince(ctx, "http://s.test/", t0); ok || err != nil {
		t.Errorf("a URL never captured was found (%v)", err)
	}

	// A revisit whose original another archive holds: not found, so the
	// crawl fetches the URL again rather than read links from nowhere.
	other := archive.Layout{Root: t.TempDir()}
	ix2, err := Open(other, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	writeExchanges(t, other, ix2, t0, [][2]string{{"http://s.test/c", htmlPage("new", "second")}}, nil)
	if _, _, ok, err := ix2.ArchivedSince(ctx, "http://s.test/c", t0); ok || err != nil {
		t.Errorf("a revisit without its original was found (%v)", err)
	}
}

// TestArchivedSinceRevisitHead: a revisit is found as its own fetch
// answered, its HTTP head over its original's payload: the same bytes
// may have been served elsewhere as another type (which decides whether
// and how the crawl reads links from them) or framed otherwise.
func TestArchivedSinceRevisitHead(t *testing.T) {
	layout, ix := emptyArchive(t)
	payload := []byte(`<html><title>t</title><a href="/next">next</a></html>`)
	writeExchanges(t, layout, ix, t0, [][2]string{
		{"http://s.test/download", string(httpResp(200, map[string]string{"Content-Type": "application/octet-stream"}, payload))},
		{"http://s.test/page", string(httpResp(200, map[string]string{"Content-Type": "text/html; charset=euc-kr", "Content-Language": "ko", "Transfer-Encoding": "chunked"}, payload))},
	}, nil)
	block, id, ok, err := ix.ArchivedSince(context.Background(), "http://s.test/page", t0)
	if err != nil || !ok {
		t.Fatalf("ArchivedSince(/page): %v %v", ok, err)
	}
	resp, err := httpmsg.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
	if err != nil {
		t.Fatalf("%q: %v", block, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%q: %v", block, err)
	}
	if ct, lang := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Language"); ct != "text/html; charset=euc-kr" || lang != "ko" || !bytes.Equal(body, payload) {
		t.Errorf("revisit of /page read as %s %q, %q, %q; want its own head (text/html; charset=euc-kr, ko) over the payload %q", resp.Status, ct, lang, body, payload)
	}
	if !strings.HasPrefix(id, "<urn:uuid:") {
		t.Errorf("record ID %q", id)
	}
}

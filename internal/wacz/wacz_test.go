package wacz

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/korean"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/replay/replaytest"
	"crawl/internal/warc"
)

var t1 = time.Date(2016, 9, 20, 10, 0, 0, 0, time.UTC)

func fixture(t *testing.T) (archive.Layout, *index.Reader) {
	t.Helper()
	euc, _ := korean.EUCKR.NewEncoder().String(`<html><head><meta charset="euc-kr"><title>도서관</title></head><body><h1>과학</h1></body></html>`)
	page := func(title string) []byte {
		return []byte("<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1></body></html>")
	}
	html := map[string]string{"Content-Type": "text/html; charset=utf-8"}
	layout := replaytest.Build(t, t.TempDir(), []replaytest.Exchange{
		{URL: "http://a.kp/", Time: t1, Response: replaytest.Response(200, html, page("Home"))},
		{URL: "http://a.kp/about.html", Time: t1.Add(time.Second), Response: replaytest.Response(200, html, page("About"))},
		{URL: "http://a.kp/euc.html", Time: t1.Add(2 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/html"}, []byte(euc))},
		{URL: "http://a.kp/logo.png", Time: t1.Add(3 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "image/png"}, []byte("\x89PNG...."))},
		{URL: "http://a.kp/missing", Time: t1.Add(4 * time.Second), Response: replaytest.Response(404, html, page("Not found"))},
		{URL: "http://a.kp/notes.txt", Time: t1.Add(5 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/plain"}, []byte("notes"))},
		{URL: "http://www.b.kp/", Time: t1.Add(6 * time.Second), Response: replaytest.Response(200, html, page("B"))},
		{URL: "http://a.kp/", Time: t1.Add(24 * time.Hour), Response: replaytest.Response(200, html, page("Home"))},
	})
	r, err := index.OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return layout, r
}

func entry(t *testing.T, zr *zip.Reader, name string) []byte {
	t.Helper()
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc) // also checks the CRC
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return b
		}
	}
	t.Fatalf("no %s in the package", name)
	return nil
}

func TestPackage(t *testing.T) {
	layout, r := fixture(t)
	var buf bytes.Buffer
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st, err := Write(context.Background(), layout, r, &buf, Options{Title: "Test", Description: "A *test*.", Software: "crawl test", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))
	if len(files) != 1 || st.WARCFiles != 1 || st.Pages != 4 {
		t.Fatalf("files %v, stats %+v", files, st)
	}
	warcName := "archive/" + filepath.Base(files[0])
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "archive/") && f.Method != zip.Store {
			t.Errorf("%s is compressed (method %d): WARCs must be STORED", f.Name, f.Method)
		}
	}
	want := []string{warcName, "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}

	// The WARC is the file, byte for byte.
	onDisk, _ := os.ReadFile(files[0])
	if got := entry(t, zr, warcName); !bytes.Equal(got, onDisk) {
		t.Error("the stored WARC differs from the file")
	}

	// datapackage.json: every other file with its true size and hash.
	manifest := entry(t, zr, "datapackage.json")
	var pkg DataPackage
	if err := json.Unmarshal(manifest, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Profile != "data-package" || pkg.WACZVersion != "1.1.1" || pkg.Title != "Test" || pkg.Created != "2026-01-02T03:04:05Z" ||
		pkg.Software != "crawl test" || pkg.MainPageURL != "http://a.kp/" || pkg.MainPageDate == "" {
		t.Errorf("datapackage: %+v", pkg)
	}
	var paths []string
	for _, res := range pkg.Resources {
		paths = append(paths, res.Path)
		b := entry(t, zr, res.Path)
		sum := sha256.Sum256(b)
		if res.Hash != "sha256:"+hex.EncodeToString(sum[:]) || res.Bytes != int64(len(b)) || res.Name != filepath.Base(res.Path) {
			t.Errorf("resource %+v: file has %d bytes, sha256 %x", res, len(b), sum)
		}
	}
	if !slices.Equal(paths, want[:3]) {
		t.Errorf("resources %q", paths)
	}
	var digest Digest
	if err := json.Unmarshal(entry(t, zr, "datapackage-digest.json"), &digest); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(manifest)
	if digest.Path != "datapackage.json" || digest.Hash != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("digest %+v", digest)
	}

	// The index is crawl cdx's, sorted bytewise, with file names relative
	// to archive/; each offset reaches a record inside the stored WARC.
	cdx := entry(t, zr, "indexes/index.cdx")
	var wantCDX bytes.Buffer
	if err := warc.CDXJ(context.Background(), files, &wantCDX); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cdx, wantCDX.Bytes()) {
		t.Errorf("index:\n%s\nwant:\n%s", cdx, wantCDX.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(cdx)), "\n")
	if !slices.IsSorted(lines) {
		t.Error("index not sorted")
	}
	var warcEntry *zip.File
	for _, f := range zr.File {
		if f.Name == warcName {
			warcEntry = f
		}
	}
	dataOff, err := warcEntry.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		var row struct {
			Offset, Length int64 `json:",string"`
			Filename, URL  string
		}
		parts := strings.SplitN(l, " ", 3)
		if err := json.Unmarshal([]byte(parts[2]), &row); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if "archive/"+row.Filename != warcName {
			t.Errorf("filename %q", row.Filename)
		}
		// As replayweb.page reads it: a range of the package, one gzip member.
		zr, err := gzip.NewReader(io.NewSectionReader(bytes.NewReader(buf.Bytes()), dataOff+row.Offset, row.Length))
		if err != nil {
			t.Fatalf("%s at %d: %v", row.URL, row.Offset, err)
		}
		head, _ := bufio.NewReader(zr).ReadString('\n')
		if head != "WARC/1.1\r\n" {
			t.Errorf("%s at %d: %q", row.URL, row.Offset, head)
		}
	}

	// pages.jsonl: the header, then the HTML pages with a 2xx status.
	pages := strings.Split(strings.TrimSpace(string(entry(t, zr, "pages/pages.jsonl"))), "\n")
	if pages[0] != `{"format":"json-pages-1.0","id":"pages","title":"All Pages"}` {
		t.Errorf("header %q", pages[0])
	}
	var got []string
	for _, l := range pages[1:] {
		var p struct{ ID, URL, TS, Title string }
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339, p.TS); err != nil || len(p.ID) != 10 {
			t.Errorf("page %q", l)
		}
		got = append(got, p.URL+" "+p.TS+" "+p.Title)
	}
	// The home page's second capture is a revisit, and a page like any
	// capture (with its original's title): the page is the latest.
	wantPages := []string{"http://a.kp/ 2016-09-21T10:00:00Z Home", "http://a.kp/about.html 2016-09-20T10:00:01Z About",
		"http://a.kp/euc.html 2016-09-20T10:00:02Z 도서관", "http://www.b.kp/ 2016-09-20T10:00:06Z B"}
	if !slices.Equal(got, wantPages) {
		t.Errorf("pages:\n%q\nwant\n%q", got, wantPages)
	}
}

func TestWriteFile(t *testing.T) {
	layout, r := fixture(t)
	out := filepath.Join(t.TempDir(), "x.wacz")
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))

	// A file being written is left out, and said so.
	if err := os.Rename(files[0], files[0]+".open"); err != nil {
		t.Fatal(err)
	}
	st, err := WriteFile(context.Background(), layout, r, out, Options{})
	if !errors.Is(err, ErrNoWARC) || len(st.Skipped) != 1 {
		t.Fatalf("only an open file: %+v %v", st, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s: %v", out, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	os.Rename(files[0]+".open", files[0])

	// A damaged file goes in as it is; the error names it.
	onDisk, _ := os.ReadFile(files[0])
	os.WriteFile(files[0], onDisk[:len(onDisk)-40], 0o644)
	st, err = WriteFile(context.Background(), layout, r, out, Options{})
	var damaged *DamagedError
	if !errors.As(err, &damaged) || !strings.Contains(err.Error(), filepath.Base(files[0])) || st.WARCFiles != 1 {
		t.Fatalf("damaged file: %+v %v", st, err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("the package of a damaged archive: %v", err)
	}
	zr.Close()
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("package mode: %v %v", fi.Mode(), err)
	}

	// Cancelled: no package.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out2 := filepath.Join(t.TempDir(), "y.wacz")
	if _, err := WriteFile(ctx, layout, r, out2, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("a cancelled run left %s", out2)
	}
}

// The package streams: writing it allocates a small part of the archive's
// size, however large the archive (no WARC, index or page list is held
// whole).
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 32 MB archive")
	}
	const records, size = 32, 1 << 20
	var exchanges []replaytest.Exchange
	for i := range records {
		body := make([]byte, size)
		rand.Read(body) // incompressible: the WARC files are as large as the bodies
		exchanges = append(exchanges, replaytest.Exchange{URL: fmt.Sprintf("http://big.kp/%d.bin", i), Time: t1.Add(time.Duration(i) * time.Second),
			Response: replaytest.Response(200, map[string]string{"Content-Type": "application/octet-stream"}, body)})
	}
	layout := replaytest.Build(t, t.TempDir(), exchanges)
	r, err := index.OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var archiveBytes int64
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		archiveBytes += fi.Size()
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cw := &countWriter{w: io.Discard}
	if _, err := Write(context.Background(), layout, r, cw, Options{}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("archive %d MB, package %d MB, allocated %.1f MB in all", archiveBytes>>20, cw.n>>20, float64(allocated)/(1<<20))
	if cw.n < archiveBytes {
		t.Fatalf("package of %d bytes for %d bytes of WARC", cw.n, archiveBytes)
	}
	if allocated > uint64(archiveBytes)/4 {
		t.Errorf("writing the package allocated %d bytes for an archive of %d: it does not stream", allocated, archiveBytes)
	}
}

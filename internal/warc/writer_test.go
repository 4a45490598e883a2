package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedClock returns a test clock that starts at a fixed moment and
// advances one millisecond per call, and an ID source counting up.
func fixedHooks(opts *WriterOptions) {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	n := 0
	opts.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
	opts.newID = func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("<urn:uuid:00000000-0000-4000-8000-%012d>", n)
	}
}

func section(s string) *io.SectionReader {
	return io.NewSectionReader(strings.NewReader(s), 0, int64(len(s)))
}

func sha1B32(b []byte) string {
	s := sha1.Sum(b)
	return "sha1:" + base32.StdEncoding.EncodeToString(s[:])
}

// observed collects what the Observer is told.
type observed struct {
	mu   sync.Mutex
	locs []Location
	recs []Header
	data [][]byte
}

func (o *observed) Observe(loc Location, rec Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, _ := io.ReadAll(rec.Block)
	o.locs = append(o.locs, loc)
	o.recs = append(o.recs, rec.Header)
	o.data = append(o.data, b)
}

func newTestWriter(t *testing.T, opts WriterOptions) *Writer {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Info.Hostname == "" {
		opts.Info.Hostname = "test.host"
	}
	if opts.Info.Software == "" {
		opts.Info.Software = "crawl/test"
	}
	fixedHooks(&opts)
	w, err := NewWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

const (
	getReq  = "GET /a HTTP/1.1\r\nHost: example.org\r\nAccept-Encoding: gzip\r\n\r\n"
	headReq = "HEAD /a HTTP/1.1\r\nHost: example.org\r\n\r\n"
	resp200 = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n\r\nhello world"
	chunked = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
)

// readMember decodes exactly the gzip member at loc and parses its record,
// proving that Location addresses a standalone record.
func readMember(t *testing.T, dir string, loc Location) (Header, []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, loc.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw := make([]byte, loc.Length)
	if _, err := f.ReadAt(raw, loc.Offset); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("member at %d: %v", loc.Offset, err)
	}
	zr.Multistream(false)
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("member at %d: %v", loc.Offset, err)
	}
	r, err := NewReader(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := r.Next()
	if err != nil {
		t.Fatalf("member at %d: %v", loc.Offset, err)
	}
	b, _ := io.ReadAll(rec.Block)
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("member at %d holds more than one record: %v", loc.Offset, err)
	}
	return rec.Header, b
}

func TestWriteExchangeRoundTrip(t *testing.T) {
	obs := &observed{}
	w := newTestWriter(t, WriterOptions{Observer: obs})
	dir := w.opts.Dir
	date := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

	r1, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/a", IP: "127.0.0.2", Date: date,
		Request: section(getReq), Response: section(resp200)})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/b", IP: "127.0.0.2", Date: date.Add(time.Second),
		Request: section(getReq), Response: section(chunked)})
	if err != nil {
		t.Fatal(err)
	}
	loc3, err := w.WriteResource("dns:example.org?type=AXFR", "127.0.0.53", date, "text/dns", section("example.org. 3600 IN A 127.0.0.2\n"))
	if err != nil {
		t.Fatal(err)
	}
	loc4, err := w.WriteMetadata("urn:x-crawl:host:example.org", date, "application/json", []byte(`{"name":"example.org"}`))
	if err != nil {
		t.Fatal(err)
	}
	name := w.FileName()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		t.Fatalf("final file missing after Close: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.open")); len(m) != 0 {
		t.Fatalf(".open files left after Close: %v", m)
	}

	// Both responses carry the same payload digest: chunk framing is removed.
	want := sha1B32([]byte("hello world"))
	if r1.PayloadDigest != want || r2.PayloadDigest != want {
		t.Fatalf("payload digests %q, %q; want %q", r1.PayloadDigest, r2.PayloadDigest, want)
	}
	if r1.Revisit || !r2.Revisit {
		t.Fatalf("revisit flags %v %v; want false true", r1.Revisit, r2.Revisit)
	}

	var all []Header
	var locs []Location
	err = ReadFile(filepath.Join(dir, name), func(rec Record, loc Location) error {
		b, _ := io.ReadAll(rec.Block)
		if got := rec.Header.Get("WARC-Block-Digest"); got != sha1B32(b) && rec.Header.Get("WARC-Type") != TypeWarcinfo {
			t.Errorf("%s: block digest %s, want %s", rec.Header.Get("WARC-Type"), got, sha1B32(b))
		}
		all = append(all, rec.Header)
		locs = append(locs, loc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, h := range all {
		types = append(types, h.Get("WARC-Type"))
	}
	if got := strings.Join(types, ","); got != "warcinfo,request,response,request,revisit,resource,metadata" {
		t.Fatalf("record types %s", got)
	}
	info := all[0].Get("WARC-Record-ID")
	for i, h := range all[1:] {
		if h.Get("WARC-Warcinfo-ID") != info {
			t.Errorf("record %d lacks WARC-Warcinfo-ID", i+1)
		}
	}
	if all[1].Get("WARC-Concurrent-To") != all[2].Get("WARC-Record-ID") || all[2].Get("WARC-Concurrent-To") != all[1].Get("WARC-Record-ID") {
		t.Errorf("request/response not linked both ways")
	}
	if all[1].Get("WARC-Date") != "2026-03-04T05:06:07.890123Z" || all[2].Get("WARC-Date") != all[1].Get("WARC-Date") {
		t.Errorf("dates %q %q", all[1].Get("WARC-Date"), all[2].Get("WARC-Date"))
	}
	rv := all[4]
	for name, want := range map[string]string{
		"WARC-Profile":              ProfileIdenticalPayload,
		"WARC-Refers-To":            all[2].Get("WARC-Record-ID"),
		"WARC-Refers-To-Target-URI": "http://example.org/a",
		"WARC-Refers-To-Date":       "2026-03-04T05:06:07.890123Z",
		"WARC-Truncated":            "length",
		"WARC-Payload-Digest":       want,
		"Content-Length":            fmt.Sprint(strings.Index(chunked, "\r\n\r\n") + 4),
	} {
		if got := rv.Get(name); got != want {
			t.Errorf("revisit %s = %q, want %q", name, got, want)
		}
	}
	if got := all[5].Get("WARC-IP-Address"); got != "127.0.0.53" {
		t.Errorf("resource IP %q", got)
	}
	if all[6].Get("WARC-Payload-Digest") != "" {
		t.Errorf("metadata must not carry a payload digest")
	}

	// Every Location returned, read back, and observed is the same and
	// addresses a standalone gzip member holding exactly that record.
	returned := []Location{r1.Request, r1.Response, r2.Request, r2.Response, loc3, loc4}
	for i, loc := range returned {
		if loc != locs[i+1] {
			t.Errorf("record %d: returned %+v, reader says %+v", i+1, loc, locs[i+1])
		}
		h, _ := readMember(t, dir, loc)
		if h.Get("WARC-Record-ID") != all[i+1].Get("WARC-Record-ID") {
			t.Errorf("member at %d holds %s", loc.Offset, h.Get("WARC-Record-ID"))
		}
	}
	if len(obs.locs) != len(locs) {
		t.Fatalf("observer saw %d records, file has %d", len(obs.locs), len(locs))
	}
	for i := range locs {
		if obs.locs[i] != locs[i] {
			t.Errorf("observer location %d = %+v, want %+v", i, obs.locs[i], locs[i])
		}
	}
	if string(obs.data[2]) != resp200 {
		t.Errorf("observer block of the response = %q", obs.data[2])
	}
	// The last record ends the file exactly.
	st, _ := os.Stat(filepath.Join(dir, name))
	last := locs[len(locs)-1]
	if last.Offset+last.Length != st.Size() {
		t.Errorf("last record ends at %d, file is %d bytes", last.Offset+last.Length, st.Size())
	}
}

func TestNoRevisitFor(t *testing.T) {
	cases := []struct {
		name, req, resp, truncated string
	}{
		{"empty body", getReq, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
		{"404", getReq, "HTTP/1.1 404 Not Found\r\nContent-Length: 11\r\n\r\nhello world", ""},
		{"redirect", getReq, "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 11\r\n\r\nhello world", ""},
		{"HEAD", headReq, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", ""},
		{"truncated", getReq, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", "length"},
		{"cut short", getReq, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello world", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTestWriter(t, WriterOptions{})
			defer w.Close()
			for i := 0; i < 2; i++ {
				res, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(c.req), Response: section(c.resp), Truncated: c.truncated})
				if err != nil {
					t.Fatal(err)
				}
				if res.Revisit {
					t.Fatalf("write %d became a revisit", i)
				}
			}
		})
	}
}

func TestTruncatedResponseMarked(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	res, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(getReq),
		Response: section("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello world")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Truncated != "disconnect" || res.PayloadDigest != sha1B32([]byte("hello world")) {
		t.Fatalf("result %+v", res)
	}
	w.Close()
	h, _ := readMember(t, w.opts.Dir, res.Response)
	if h.Get("WARC-Truncated") != "disconnect" {
		t.Fatalf("WARC-Truncated = %q", h.Get("WARC-Truncated"))
	}
}

func TestRotationBetweenExchanges(t *testing.T) {
	w := newTestWriter(t, WriterOptions{MaxFileSize: 1})
	var files []string
	for i := 0; i < 3; i++ {
		res, err := w.WriteExchange(Exchange{TargetURI: fmt.Sprintf("http://example.org/%d", i), Request: section(getReq),
			Response: section(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		if res.Request.File != res.Response.File {
			t.Fatalf("pair split across %s and %s", res.Request.File, res.Response.File)
		}
		files = append(files, res.Request.File)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if files[0] == files[1] || files[1] == files[2] {
		t.Fatalf("no rotation: %v", files)
	}
	for _, f := range files {
		var types []string
		if err := ReadFile(filepath.Join(w.opts.Dir, f), func(r Record, _ Location) error {
			types = append(types, r.Header.Get("WARC-Type"))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(types, ",") != "warcinfo,request,response" {
			t.Errorf("%s holds %v", f, types)
		}
	}
}

func TestFileNames(t *testing.T) {
	dir := t.TempDir()
	// Two writers (as two processes would) in one folder, same clock: the
	// names must differ by serial.
	var names []string
	for i := 0; i < 2; i++ {
		opts := WriterOptions{Dir: dir, Prefix: "kp crawl", Info: Info{Hostname: "crawler~1:8443"}}
		fixedHooks(&opts)
		w, err := NewWriter(opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteMetadata("", time.Time{}, "text/plain", []byte("x")); err != nil {
			t.Fatal(err)
		}
		names = append(names, w.FileName())
		defer w.Close()
	}
	want := []string{
		"kp-crawl-20260102030405125-00000-crawler-1-8443.warc.gz",
		"kp-crawl-20260102030405125-00001-crawler-1-8443.warc.gz",
	}
	if names[0] != want[0] || names[1] != want[1] {
		t.Fatalf("names %v, want %v", names, want)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n+".open")); err != nil {
			t.Errorf("%s.open not there while writing: %v", n, err)
		}
	}
}

func TestBadFieldsRejected(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	defer w.Close()
	for _, uri := range []string{"", "http://x/ y", "http://x/\r\nWARC-Type: evil", "<http://x/>"} {
		_, err := w.WriteExchange(Exchange{TargetURI: uri, Request: section(getReq), Response: section(resp200)})
		if !errors.Is(err, ErrBadField) {
			t.Errorf("uri %q: err %v, want ErrBadField", uri, err)
		}
	}
	if _, err := w.WriteMetadata("", time.Time{}, "text/plain\r\nX: y", nil); !errors.Is(err, ErrBadField) {
		t.Errorf("content type with CRLF: %v", err)
	}
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://x/", IP: "localhost", Request: section(getReq), Response: section(resp200)}); !errors.Is(err, ErrBadField) {
		t.Errorf("IP that is a name: %v", err)
	}
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://x/", Truncated: "bogus", Request: section(getReq), Response: section(resp200)}); !errors.Is(err, ErrBadField) {
		t.Errorf("bad truncated value: %v", err)
	}
	if w.FileName() != "" {
		t.Errorf("rejected writes created a file")
	}
}

func TestWriteAfterClose(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteMetadata("", time.Time{}, "", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestConcurrentWrites: writers in parallel, files rotating under them, and
// Sync called all along (as the crawler does before each commit of its
// state): every record lands, and a Sync that meets a file just rotated
// away is no error (rotation fsynced it).
func TestConcurrentWrites(t *testing.T) {
	w := newTestWriter(t, WriterOptions{MaxFileSize: 4000})
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync before the first file: %v", err)
	}
	stop := make(chan struct{})
	synced := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				synced <- n
				return
			default:
			}
			if err := w.Sync(); err != nil {
				t.Errorf("Sync while writing: %v", err)
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				body := fmt.Sprintf("body %d/%d", g, i)
				resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				if _, err := w.WriteExchange(Exchange{TargetURI: fmt.Sprintf("http://example.org/%d/%d", g, i), Request: section(getReq), Response: section(resp)}); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	if n := <-synced; n == 0 {
		t.Error("no Sync ran while writing")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Errorf("Sync after Close: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(w.opts.Dir, "*.warc.gz"))
	n := 0
	for _, f := range files {
		if err := ReadFile(f, func(r Record, _ Location) error {
			if r.Header.Get("WARC-Type") == TypeResponse {
				n++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n != 100 {
		t.Fatalf("%d responses in %d files, want 100", n, len(files))
	}
}

func TestSHA256Digest(t *testing.T) {
	w := newTestWriter(t, WriterOptions{Digest: "sha256"})
	res, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(getReq), Response: section("HTTP/1.1 204 No Content\r\n\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if res.PayloadDigest != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty payload sha256 = %s", res.PayloadDigest)
	}
}

// bufioReader is a helper for parse tests.
func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func TestIPCanonical(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	res, err := w.WriteExchange(Exchange{TargetURI: "http://[::1]:8080/", IP: "[0:0:0:0:0:0:0:1]", Request: section(getReq), Response: section(resp200)})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	h, _ := readMember(t, w.opts.Dir, res.Response)
	if got := h.Get("WARC-IP-Address"); got != "::1" {
		t.Fatalf("WARC-IP-Address %q, want ::1", got)
	}
}

// flakyReaderAt fails every read once armed: the body changes under the
// writer between its digest pass and its copy pass (a failing disk, a
// truncated spool file).
type flakyReaderAt struct {
	data  string
	armed *bool
}

func (f flakyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if *f.armed {
		return 0, errors.New("spool file vanished")
	}
	return strings.NewReader(f.data).ReadAt(p, off)
}

// TestFailedWriteLeavesNoTrace: when the response cannot be copied after
// the request record is already in the file, the pair is cut out whole and
// the next write lands where it would have.
func TestFailedWriteLeavesNoTrace(t *testing.T) {
	obs := &observed{}
	w := newTestWriter(t, WriterOptions{Observer: obs})
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/ok", Request: section(getReq), Response: section(resp200)}); err != nil {
		t.Fatal(err)
	}
	armed := false
	// Arm the failure after the digest pass: wrap Observer-free path by
	// arming from a PayloadIndex lookup, which runs between the passes.
	w.dedupe = armingIndex{PayloadIndex: w.dedupe, arm: &armed}
	resp := flakyReaderAt{data: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew", armed: &armed}
	_, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/bad", Request: section(getReq), Response: io.NewSectionReader(resp, 0, int64(len(resp.data)))})
	if err == nil || !strings.Contains(err.Error(), "spool file vanished") {
		t.Fatalf("err %v", err)
	}
	res, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/after", Request: section(getReq), Response: section(resp200)})
	if err != nil {
		t.Fatal(err)
	}
	name := w.FileName()
	w.Close()
	var uris []string
	var locs []Location
	if err := ReadFile(filepath.Join(w.opts.Dir, name), func(r Record, l Location) error {
		uris = append(uris, r.Header.Get("WARC-Type")+" "+r.Header.Get("WARC-Target-URI"))
		locs = append(locs, l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := "warcinfo ,request http://example.org/ok,response http://example.org/ok,request http://example.org/after,revisit http://example.org/after"
	if strings.Join(uris, ",") != want {
		t.Fatalf("file holds %v", uris)
	}
	if locs[3] != res.Request || locs[4] != res.Response {
		t.Errorf("locations after the failure are off: %+v %+v vs %+v", res.Request, res.Response, locs[3:])
	}
	if len(obs.locs) != 5 {
		t.Errorf("observer saw %d records; the failed pair must not be reported", len(obs.locs))
	}
}

type armingIndex struct {
	PayloadIndex
	arm *bool
}

func (a armingIndex) Seen(d string) (string, time.Time, bool) {
	*a.arm = true
	return a.PayloadIndex.Seen(d)
}

// TestSerialUniqueUnderRace: many writers (as many processes would) open
// files in one folder at the same instant; O_EXCL gives each its own name.
func TestSerialUniqueUnderRace(t *testing.T) {
	dir := t.TempDir()
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 8
	names := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			opts := WriterOptions{Dir: dir, Info: Info{Hostname: "same"}}
			opts.now = func() time.Time { return fixed }
			w, err := NewWriter(opts)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := w.WriteMetadata("", time.Time{}, "text/plain", []byte("x")); err != nil {
				t.Error(err)
				return
			}
			names[i] = w.FileName()
			if i%2 == 0 {
				w.Close() // some finish (rename) while others still open
			} else {
				defer w.Close()
			}
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("two writers share %s (all: %v)", n, names)
		}
		seen[n] = true
	}
}

// TestPayloadDigestOfBrokenFraming: the payload digest where the framing is
// odd. An HTTP/1.0 body is its raw bytes whatever Transfer-Encoding says (as
// net/http reads it); a malformed chunked body's payload is every byte after
// the head (see analyze); a chunked body merely cut short keeps the payload
// decoded before the cut. Each is WARC-Truncated when its framing never
// ended.
func TestPayloadDigestOfBrokenFraming(t *testing.T) {
	const te = "Transfer-Encoding: chunked\r\n\r\n"
	cases := []struct {
		name, head, body, payload, truncated string
	}{
		{"HTTP/1.0 chunked is raw", "HTTP/1.0 200 OK\r\n" + te, "2\r\nok\r\n0\r\n\r\n", "2\r\nok\r\n0\r\n\r\n", ""},
		{"bad hex size", "HTTP/1.1 200 OK\r\n" + te, "2\r\nok\r\nzz\r\nabc\r\n0\r\n\r\n", "2\r\nok\r\nzz\r\nabc\r\n0\r\n\r\n", "disconnect"},
		{"no CRLF after data", "HTTP/1.1 200 OK\r\n" + te, "2\r\nokX0\r\n\r\n", "2\r\nokX0\r\n\r\n", "disconnect"},
		{"bare LF", "HTTP/1.1 200 OK\r\n" + te, "2\nok\n0\n\n", "2\nok\n0\n\n", "disconnect"},
		{"cut mid chunk", "HTTP/1.1 200 OK\r\n" + te, "2\r\nok\r\n5\r\nab", "okab", "disconnect"},
		{"well formed", "HTTP/1.1 200 OK\r\n" + te, "2\r\nok\r\n0\r\n\r\n", "ok", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTestWriter(t, WriterOptions{})
			res, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(getReq), Response: section(c.head + c.body)})
			if err != nil {
				t.Fatal(err)
			}
			if want := sha1B32([]byte(c.payload)); res.PayloadDigest != want {
				t.Errorf("payload digest %s, want %s (of %q)", res.PayloadDigest, want, c.payload)
			}
			w.Close()
			h, _ := readMember(t, w.opts.Dir, res.Response)
			if got := h.Get("WARC-Truncated"); got != c.truncated || res.Truncated != c.truncated {
				t.Errorf("WARC-Truncated %q, want %q", got, c.truncated)
			}
		})
	}
}

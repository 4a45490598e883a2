package warc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"crawl/internal/warc/warciotest"
)

// TestWarcioAgrees writes files with every record kind (and a rotated,
// sha256 set) and has webrecorder's warcio.js read them: every record must
// parse and verify, and warcio's own CDXJ must agree with CDXJ() on url,
// digest, status, mime, offset, length and filename.
func TestWarcioAgrees(t *testing.T) {
	warciotest.Tool(t)
	dir := t.TempDir()
	files := []string{writeEveryKind(t, dir)}

	// A second set: sha256 digests, rotation after every exchange.
	opts := WriterOptions{Dir: dir, Prefix: "rotated", Digest: "sha256", MaxFileSize: 1, Info: Info{Hostname: "h", Software: "crawl/test"}}
	fixedHooks(&opts)
	n := 0
	opts.newID = func() string { n++; return fmt.Sprintf("<urn:uuid:00000000-0000-4000-9000-%012d>", n) } // distinct from the first file's
	w, err := NewWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		body := strings.Repeat("x", i*1000)
		if _, err := w.WriteExchange(Exchange{TargetURI: fmt.Sprintf("http://127.0.0.3:8080/p%d", i), IP: "127.0.0.3",
			Request:  section("GET / HTTP/1.1\r\nHost: 127.0.0.3:8080\r\n\r\n"),
			Response: section(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rotated, _ := filepath.Glob(filepath.Join(dir, "rotated-*.warc.gz"))
	if len(rotated) != 3 {
		t.Fatalf("%d rotated files", len(rotated))
	}
	files = append(files, rotated...)

	warciotest.Check(t, files...)

	var ours bytes.Buffer
	if err := CDXJ(context.Background(), files, &ours); err != nil {
		t.Fatal(err)
	}
	type row map[string]string
	parse := func(line string) row {
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			t.Fatalf("bad CDXJ line %q", line)
		}
		var r row
		if err := json.Unmarshal([]byte(parts[2]), &r); err != nil {
			t.Fatalf("bad CDXJ json %q: %v", line, err)
		}
		return r
	}
	byPlace := map[string]row{}
	for _, l := range strings.Split(strings.TrimSpace(ours.String()), "\n") {
		r := parse(l)
		byPlace[r["filename"]+"@"+r["offset"]] = r
	}
	theirs := warciotest.CDXJ(t, files...)
	if len(theirs) != len(byPlace) {
		t.Errorf("warcio indexed %d records, CDXJ() %d", len(theirs), len(byPlace))
	}
	for _, l := range theirs {
		w := parse(l)
		o, ok := byPlace[w["filename"]+"@"+w["offset"]]
		if !ok {
			t.Errorf("warcio indexes a record CDXJ() lacks: %s", l)
			continue
		}
		for _, f := range []string{"url", "digest", "status", "mime", "offset", "length", "filename"} {
			if w[f] != o[f] {
				t.Errorf("%s@%s field %s: warcio %q, ours %q", w["filename"], w["offset"], f, w[f], o[f])
			}
		}
	}
}

// TestWarcioCheckCanFail proves the independent check is not a rubber
// stamp: a wrong payload digest and a request without its response fail.
func TestWarcioCheckCanFail(t *testing.T) {
	warciotest.Tool(t)
	dir := t.TempDir()
	info := "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\nWARC-Date: 2026-01-01T00:00:00.000000Z\r\n" +
		"Content-Type: application/warc-fields\r\nWARC-Block-Digest: " + sha1B32([]byte("a: b\r\n")) + "\r\nContent-Length: 6\r\n\r\na: b\r\n\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	record := func(typ, id, concurrent, block, payloadDigest string) string {
		s := "WARC/1.1\r\nWARC-Type: " + typ + "\r\nWARC-Record-ID: " + id + "\r\nWARC-Date: 2026-01-01T00:00:00.000000Z\r\n" +
			"WARC-Target-URI: http://x/\r\nWARC-Warcinfo-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
		if concurrent != "" {
			s += "WARC-Concurrent-To: " + concurrent + "\r\n"
		}
		s += "WARC-Block-Digest: " + sha1B32([]byte(block)) + "\r\n"
		if payloadDigest != "" {
			s += "WARC-Payload-Digest: " + payloadDigest + "\r\n"
		}
		return s + fmt.Sprintf("Content-Length: %d\r\n\r\n%s\r\n\r\n", len(block), block)
	}
	const reqID, respID = "<urn:uuid:00000000-0000-4000-8000-000000000002>", "<urn:uuid:00000000-0000-4000-8000-000000000003>"
	req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	cases := map[string]struct {
		records string
		want    string
	}{
		// The digest of the raw (chunked) body is what a non-compliant writer records.
		"payload digest over chunk framing": {record("request", reqID, respID, req, "") + record("response", respID, reqID, resp, sha1B32([]byte("5\r\nhello\r\n0\r\n\r\n"))), "payload digest"},
		"request without response":          {record("request", reqID, respID, req, ""), "not a record of this file"},
	}
	good := record("request", reqID, respID, req, "") + record("response", respID, reqID, resp, sha1B32([]byte("hello")))
	cases["control: correct file"] = struct{ records, want string }{good, ""}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			for _, rec := range []string{info, c.records} {
				zw := gzip.NewWriter(&buf)
				zw.Write([]byte(rec))
				zw.Close()
			}
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".warc.gz")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, ok := warciotest.Run(t, "check", p)
			if c.want == "" {
				if !ok {
					t.Fatalf("control file rejected:\n%s", stderr)
				}
				return
			}
			if ok || !strings.Contains(stderr, c.want) {
				t.Fatalf("ok=%v, stderr %q; want a failure mentioning %q", ok, stderr, c.want)
			}
		})
	}
}

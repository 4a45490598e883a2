package warc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeEveryKind writes one file holding every record kind crawl makes and
// returns its path.
func writeEveryKind(t testing.TB, dir string) string {
	opts := WriterOptions{Dir: dir, Info: Info{Hostname: "crawler1", Software: "crawl/test"}}
	fixedHooks(&opts)
	w, err := NewWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	gz := gzipped("<html><title>x</title></html>")
	exchanges := []Exchange{
		{TargetURI: "http://www.example/", Request: section("GET / HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n\r\nhello world")},
		{TargetURI: "http://www.example/copy?b=2&a=1", Request: section("GET /copy?b=2&a=1 HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n")},
		{TargetURI: "http://www.example/gz", Request: section("GET /gz HTTP/1.1\r\nHost: www.example\r\nAccept-Encoding: gzip\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(gz), gz))},
		{TargetURI: "http://www.example/close", Request: section("GET /close HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the connection closes")},
		{TargetURI: "http://www.example/missing", Request: section("GET /missing HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")},
		{TargetURI: "http://www.example/old", Request: section("GET /old HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 301 Moved Permanently\r\nLocation: http://www.example/\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n")},
		{TargetURI: "http://www.example/cached", Request: section("GET /cached HTTP/1.1\r\nHost: www.example\r\nIf-None-Match: \"x\"\r\n\r\n"),
			Response: section("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")},
		{TargetURI: "http://www.example/empty", Request: section("GET /empty HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 204 No Content\r\n\r\n")},
		{TargetURI: "http://www.example/head", Request: section("HEAD /head HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n")},
		{TargetURI: "http://www.example/big", Truncated: "length", Request: section("GET /big HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nfirst bytes")},
		{TargetURI: "http://www.example/cut", Request: section("GET /cut HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nonly part")},
	}
	for i, ex := range exchanges {
		ex.IP = "127.0.0.2"
		ex.Date = date.Add(time.Duration(i) * time.Second)
		if _, err := w.WriteExchange(ex); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.WriteResource("dns:example?type=AXFR", "127.0.0.53", date, "text/dns", section("www.example.\t60\tIN\tA\t127.0.0.2\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteMetadata("urn:x-crawl:host:www.example", date, "application/json", []byte(`{"name":"www.example"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteMetadata("http://www.example/", date, ContentTypeWarcFields, []byte("via: http://www.example/\r\n")); err != nil {
		t.Fatal(err)
	}
	name := w.FileName()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func TestCDXJGolden(t *testing.T) {
	path := writeEveryKind(t, t.TempDir())
	var out bytes.Buffer
	if err := CDXJ(context.Background(), []string{path}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if !slices.IsSorted(lines) {
		t.Errorf("not sorted bytewise:\n%s", out.String())
	}
	golden := filepath.Join("testdata", "golden", "every-kind.cdxj")
	if *update {
		os.WriteFile(golden, out.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if out.String() != string(want) {
		t.Errorf("CDXJ differs from golden:\n--- got ---\n%s--- want ---\n%s", out.String(), want)
	}
}

func TestCDXJDamagedFileAndExternalSort(t *testing.T) {
	dir := t.TempDir()
	path := writeEveryKind(t, dir)
	data, _ := os.ReadFile(path)
	broken := filepath.Join(dir, "broken.warc.gz")
	os.WriteFile(broken, data[:len(data)-20], 0o644)

	var out bytes.Buffer
	err := CDXJ(context.Background(), []string{path, broken}, &out)
	if err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("error %v does not name the damaged file", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// The damaged copy lost only its last record, an unindexed warc-fields one.
	nb := 0
	for _, l := range lines {
		if strings.Contains(l, `"filename":"broken.warc.gz"`) {
			nb++
		}
	}
	if nb != len(lines)/2 {
		t.Errorf("%d of %d lines from the damaged copy", nb, len(lines))
	}

	// The same lines through tiny sorted runs merged from disk.
	s := &lineSorter{runBytes: 200}
	for i := len(lines) - 1; i >= 0; i-- {
		s.add(lines[i])
	}
	if len(s.runs) < 2 {
		t.Fatalf("only %d runs spilled", len(s.runs))
	}
	var merged bytes.Buffer
	if err := s.writeTo(&merged); err != nil {
		t.Fatal(err)
	}
	s.cleanup()
	if merged.String() != out.String() {
		t.Errorf("external sort differs:\n%s\nvs\n%s", merged.String(), out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := CDXJ(ctx, []string{path}, &out); err != context.Canceled {
		t.Errorf("cancelled CDXJ returned %v", err)
	}
}

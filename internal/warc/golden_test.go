package warc

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crawl/internal/httpmsg"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestGoldenRecords checks whole files byte for byte (decompressed), with a
// fixed clock and ID source: warcinfo, resource, metadata, request/response,
// revisit and truncated records, in both digest algorithms.
func TestGoldenRecords(t *testing.T) {
	date := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	info := Info{
		Software: "crawl/1.0.0 (abc123)", Operator: "Example Archive", Contact: "archive@example.org",
		Robots: "classic", Hostname: "crawler1", IsPartOf: "job-7", Description: "AXFR of example. from 127.0.0.53",
		CommandLine: []string{"crawl", "run", "--zone", "example.", "--operator", "Example Archive"},
	}
	gz := gzipped("<html>hello</html>")
	cases := []struct {
		name   string
		digest string
		write  func(w *Writer) error
	}{
		{"metadata", "", func(w *Writer) error {
			_, err := w.WriteMetadata("urn:x-crawl:host:www.example", date, "application/json", []byte(`{"name":"www.example"}`))
			return err
		}},
		{"resource-dns", "", func(w *Writer) error {
			_, err := w.WriteResource("dns:example?type=AXFR", "127.0.0.53", date, "text/dns",
				section("example.\t3600\tIN\tSOA\tns.example. admin.example. 1 3600 600 86400 60\nwww.example.\t3600\tIN\tA\t127.0.0.2\n"))
			return err
		}},
		{"exchange-chunked-gzip", "", func(w *Writer) error {
			resp := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(gz), gz)
			_, err := w.WriteExchange(Exchange{TargetURI: "http://www.example/", IP: "127.0.0.2", Date: date,
				Request: section("GET / HTTP/1.1\r\nHost: www.example\r\nAccept-Encoding: gzip\r\n\r\n"), Response: section(resp)})
			return err
		}},
		{"revisit", "", func(w *Writer) error {
			for i, uri := range []string{"http://www.example/a", "http://www.example/b"} {
				_, err := w.WriteExchange(Exchange{TargetURI: uri, IP: "127.0.0.2", Date: date.Add(time.Duration(i) * time.Minute),
					Request:  section("GET /x HTTP/1.1\r\nHost: www.example\r\n\r\n"),
					Response: section("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nsame!")})
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"truncated", "", func(w *Writer) error {
			_, err := w.WriteExchange(Exchange{TargetURI: "http://www.example/big", IP: "::1", Date: date, Truncated: "length",
				Request:  section("GET /big HTTP/1.1\r\nHost: www.example\r\n\r\n"),
				Response: section("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst bytes only")})
			return err
		}},
		{"sha256", "sha256", func(w *Writer) error {
			_, err := w.WriteExchange(Exchange{TargetURI: "http://www.example/", IP: "127.0.0.2", Date: date,
				Request: section("GET / HTTP/1.1\r\nHost: www.example\r\n\r\n"), Response: section(resp200)})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTestWriter(t, WriterOptions{Digest: c.digest, Info: info, Prefix: "golden"})
			if err := c.write(w); err != nil {
				t.Fatal(err)
			}
			name := w.FileName()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			verifyDigests(t, filepath.Join(w.opts.Dir, name))
			f, err := os.Open(filepath.Join(w.opts.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			got = append([]byte("# file "+name+"\n"), got...)
			golden := filepath.Join("testdata", "golden", c.name+".warc")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden file:\n--- got ---\n%s\n--- want ---\n%s", c.name, got, want)
			}
		})
	}
}

// verifyDigests recomputes every block and payload digest of a file
// independently of the writer's code path (whole-buffer hashing).
func verifyDigests(t *testing.T, path string) {
	t.Helper()
	err := ReadFile(path, func(rec Record, loc Location) error {
		block, _ := io.ReadAll(rec.Block)
		typ := rec.Header.Get("WARC-Type")
		bd := rec.Header.Get("WARC-Block-Digest")
		algo, err := newDigestAlgo(strings.SplitN(bd, ":", 2)[0])
		if err != nil {
			t.Errorf("%s at %d: block digest %q", typ, loc.Offset, bd)
			return nil
		}
		h := algo.new()
		h.Write(block)
		if got := algo.format(h); got != bd {
			t.Errorf("%s at %d: block digest %s, computed %s", typ, loc.Offset, bd, got)
		}
		pd := rec.Header.Get("WARC-Payload-Digest")
		if pd == "" || typ == TypeRevisit {
			return nil
		}
		var payload []byte
		switch typ {
		case TypeResponse:
			var buf bytes.Buffer
			if _, err := httpmsg.Read(bufioReader(string(block)), "", 0, &buf); err != nil {
				t.Errorf("response at %d: %v", loc.Offset, err)
			}
			payload = buf.Bytes()
		default:
			payload = block
		}
		h = algo.new()
		h.Write(payload)
		if got := algo.format(h); got != pd {
			t.Errorf("%s at %d: payload digest %s, computed %s", typ, loc.Offset, pd, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

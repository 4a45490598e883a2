package crawler

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc/warciotest"
	"crawl/internal/wire"
)

// rawServer answers on a loopback port with hand-written bytes, for the
// shapes net/http will not produce. "/" links to /bad and /good.html; /bad
// runs the hostile handler; everything else is ordinary.
func rawServer(t *testing.T, bad func(c net.Conn, path string)) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go func() { <-done; c.Close() }()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				path := req.URL.RequestURI()
				switch {
				case path == "/":
					body := `<html><title>home</title><a href="/bad">bad</a> <a href="/good.html">good</a></html>`
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
				case path == "/good.html":
					body := `<html><title>good</title></html>`
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
				case strings.HasPrefix(path, "/bad"):
					bad(c, path)
				default:
					fmt.Fprint(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// gzipBomb is a 64 KiB gzip stream that inflates to 64 MiB of zeros
// (made with `head -c 64M /dev/zero | gzip -9`; compressing it here would
// cost seconds under -race).
func gzipBomb(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/bomb-64MiB.gz")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHostileServers(t *testing.T) {
	bomb := gzipBomb(t)
	html200 := func(c net.Conn, extra string, body []byte) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n%sConnection: close\r\n\r\n", extra)
		c.Write(body)
	}
	cases := []struct {
		name string
		bad  func(c net.Conn, path string)
		// want: "error" (a FetchError record), "truncated:KIND" (a response
		// marked WARC-Truncated), or "response" (a complete response).
		want     string
		maxCount int // most captures of /bad* (redirect chains); 0 means 1
	}{
		{"trickling headers", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for i := 0; i < 1000; i++ {
				if _, err := io.WriteString(c, "X"); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, "error", 0},
		{"endless body", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
			chunk := bytes.Repeat([]byte("<p>endless</p>"), 1000)
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, "truncated:length", 0},
		{"gzip bomb", func(c net.Conn, _ string) {
			html200(c, fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", len(bomb)), bomb)
		}, "response", 0},
		{"malformed status line", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 OK-ish\r\nContent-Length: 2\r\n\r\nhi")
		}, "error", 0},
		{"redirect loop", func(c net.Conn, path string) {
			next := "/bad2"
			if path == "/bad2" {
				next = "/bad"
			}
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", next)
		}, "response", 2},
		{"endless redirect chain", func(c net.Conn, path string) {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: %sx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", path)
		}, "response", 4}, // MaxRedirects 3: /bad + 3 hops
		{"megabyte of headers", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			line := "X-Padding: " + strings.Repeat("a", 1000) + "\r\n"
			for i := 0; i < 1024; i++ {
				if _, err := io.WriteString(c, line); err != nil {
					return
				}
			}
			io.WriteString(c, "Content-Length: 0\r\n\r\n")
		}, "error", 0},
		{"reset mid-body", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><a href=\"/good.html\">")
			time.Sleep(50 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0) // close with RST
		}, "truncated:disconnect", 0},
		{"content-length longer than body", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html>short</html>")
		}, "truncated:disconnect", 0},
		{"content-length shorter than body", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>and much more that is not counted</html>")
		}, "response", 0},
		{"binary served as text/html", func(c net.Conn, _ string) {
			body := make([]byte, 64<<10)
			for i := range body {
				body[i] = byte(i*7 + i/251)
			}
			html200(c, fmt.Sprintf("Content-Length: %d\r\n", len(body)), body)
		}, "response", 0},
		{"invalid UTF-8", func(c net.Conn, _ string) {
			body := []byte("<html><title>\xff\xfe\xc3(</title><a href=\"/bad-\xff\xfe.html\">x</a>\xed\xa0\x80</html>")
			html200(c, fmt.Sprintf("Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n", len(body)), body)
		}, "response", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, tc.bad)
			_, port, _ := net.SplitHostPort(addr)
			a := newTestArchive(t, "")
			cfg := a.config()
			cfg.ConnectTo = []string{"hostile.test:80=127.0.0.1:" + port}
			cfg.Timeout = 2 * time.Second
			cfg.MaxBody = 1 << 20
			cfg.Parse.MaxBody = 1 << 20
			cfg.MaxRedirects = 3
			site := Site{Name: "hostile.test", Hosts: []Host{{Name: "hostile.test", Addrs: []string{"127.0.0.1"}}}}
			start := time.Now()
			sum := run(t, cfg, site)
			t.Logf("finished in %v: %+v", time.Since(start), sum.Sites[0])

			if _, ok := a.rec.find("response", "http://hostile.test/good.html"); !ok {
				t.Errorf("the crawl did not go on: /good.html not captured; got %q", a.rec.uris("response"))
			}
			bad := "http://hostile.test/bad"
			var got string
			count := 0
			for _, r := range a.rec.all() {
				if !strings.HasPrefix(r.URI, bad) {
					continue
				}
				switch r.Type {
				case "response", "revisit":
					count++
					if r.URI == bad {
						got = "response"
						if r.Truncated != "" {
							got = "truncated:" + r.Truncated
						}
					}
				case "metadata":
					count++
					var fe archive.FetchError
					if err := archive.Decode(r.Block, &fe); err != nil || fe.Error == "" {
						t.Errorf("fetch error record %q: %v %+v", r.Block, err, fe)
					}
					if r.URI == bad {
						got = "error"
						t.Logf("recorded cause: %s", fe.Error)
					}
				}
			}
			if got != tc.want {
				t.Errorf("/bad recorded as %q, want %q", got, tc.want)
			}
			if max := max(tc.maxCount, 1); count > max {
				t.Errorf("%d captures of /bad*, want at most %d", count, max)
			}
			if sum.Sites[0].Status != StatusDone {
				t.Errorf("site status %s (%s), want done", sum.Sites[0].Status, sum.Sites[0].Reason)
			}
		})
	}
}

func TestDecodedBodyBoundsGzipBomb(t *testing.T) {
	bomb := gzipBomb(t)
	resp := &http.Response{Header: http.Header{"Content-Encoding": {"gzip"}}, Body: io.NopCloser(bytes.NewReader(bomb))}
	body, err := wire.ReadDecoded(resp, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) != 1<<20 {
		t.Errorf("decoded %d bytes, want the 1 MiB limit", len(body))
	}
}

// TestHostileFramingsPassWarcio crawls a server whose pages break HTTP/1.x
// body framing every way we know (issue 9 point 4) and has warcio-check, an
// independent reader built on webrecorder's warcio.js, verify every record
// written: whatever the server sent, the records must pass. A malformed
// chunked body's payload digest is that of every byte after the head (see
// warc.Writer.analyze); an HTTP/1.0 body's raw bytes are its payload.
func TestHostileFramingsPassWarcio(t *testing.T) {
	warciotest.Tool(t)
	const te = "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
	page := "<html><title>x</title></html>"
	pages := []string{
		"HTTP/1.1 200 OK\r\n" + te + "zz\r\n" + page + "\r\n0\r\n\r\n",                                             // bad hex size first
		"HTTP/1.1 200 OK\r\n" + te + "6\r\n<html>\r\nzz\r\n" + page + "\r\n0\r\n\r\n",                              // bad hex size later
		"HTTP/1.1 200 OK\r\n" + te + "0x6\r\n<html>\r\n0\r\n\r\n",                                                  // 0x prefix
		"HTTP/1.1 200 OK\r\n" + te + " 6\r\n<html>\r\n0\r\n\r\n",                                                   // leading space
		"HTTP/1.1 200 OK\r\n" + te + "-6\r\n<html>\r\n0\r\n\r\n",                                                   // signed size
		"HTTP/1.1 200 OK\r\n" + te + "00000000000000006\r\n<html>\r\n0\r\n\r\n",                                    // 17 digits
		"HTTP/1.1 200 OK\r\n" + te + "6\r\n<html>XX1\r\nx\r\n0\r\n\r\n",                                            // no CRLF after data
		"HTTP/1.1 200 OK\r\n" + te + "6\n<html>\n0\n\n",                                                            // LF-only chunk lines
		"HTTP/1.1 200 OK\r\n" + te + "4\r\n<html>\r\n0\r\n\r\n",                                                    // chunk longer than said
		"HTTP/1.1 200 OK\r\n" + te + "6\r\n<html>\r\n0\r\nX-T: 1\n\n",                                              // trailer ends in LF
		"HTTP/1.1 200 OK\r\n" + te + "6;" + strings.Repeat("e", 5000) + "\r\n<html>\r\n0\r\n\r\n",                  // size line too long
		"HTTP/1.1 200 OK\r\n" + te + "100\r\n<html>",                                                               // cut mid chunk
		"HTTP/1.1 200 OK\r\n" + te + "6\r\n<html>\r\n",                                                             // no last chunk
		"HTTP/1.1 200 OK\r\n" + te + "ffffffffffffffff\r\n<html>",                                                  // huge size, cut
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n" + te + "3\r\n\x1f\x8b\x08\r\nzz\r\n",                       // gzip, bad size
		"HTTP/1.0 200 OK\r\n" + te + "6\r\n<html>\r\n0\r\n\r\n",                                                    // HTTP/1.0: TE ignored
		"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n" + te + "6\r\n<html>\r\n0\r\n\r\n",                               // HTTP/1.0, length
		"HTTP/2.0 200 OK\r\n" + te + "6\r\n<html>\r\n0\r\n\r\n",                                                    // a later version: TE counts
		"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 7\r\n\r\n<html>and more",                          // lengths disagree
		strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 17) + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>", // many interim heads
		"HTTP/1.1 099 Odd\r\nContent-Length: 6\r\n\r\n<html>",                                                      // status under 100
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				var i int
				switch _, err := fmt.Sscanf(req.URL.Path, "/bad/%d", &i); {
				case req.URL.Path == "/":
					var b strings.Builder
					for i := range pages {
						fmt.Fprintf(&b, `<a href="/bad/%d">%d</a> `, i, i)
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", b.Len(), b.String())
				case err == nil && i >= 0 && i < len(pages):
					io.WriteString(c, pages[i])
				default:
					io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.ConnectTo = []string{"hostile.test:80=127.0.0.1:" + port}
	cfg.IgnoreRobots = true
	cfg.HostParallel = 4
	run(t, cfg, Site{Name: "hostile.test", Hosts: []Host{{Name: "hostile.test", Addrs: []string{"127.0.0.1"}}}})
	a.close()

	for i := range pages {
		u := fmt.Sprintf("http://hostile.test/bad/%d", i)
		if _, ok := a.rec.find("response", u); !ok {
			if _, ok := a.rec.find("metadata", u); !ok {
				t.Errorf("%s: no record", u)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(a.dir, "warc", "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC file")
	}
	warciotest.Check(t, files...)
}

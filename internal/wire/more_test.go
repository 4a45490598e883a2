package wire

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// A body larger than SpoolMemory goes to a temp file in SpoolDir, is served
// to the caller from there, and the file is gone once both the Exchange and
// the body are closed.
func TestLargeBodySpoolsToDiskAndIsReleased(t *testing.T) {
	body := strings.Repeat(repeat(1000), 1000) // 1 MB
	srv := startRawServer(t, nil, writeAll(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
	dir := t.TempDir()
	var got *Exchange
	var filesDuring int
	tr := NewTransport(Options{
		ConnectTo:   map[string]string{"site.test:80": srv.addr()},
		SpoolDir:    dir,
		SpoolMemory: 64 << 10,
		OnExchange: func(e *Exchange) {
			got = e
			entries, _ := os.ReadDir(dir)
			filesDuring = len(entries)
		},
	})
	req, _ := http.NewRequest("GET", "http://site.test/big", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if filesDuring != 1 {
		t.Errorf("%d spool files while the exchange was open, want 1 (the response)", filesDuring)
	}
	if got.Response.Size() < int64(len(body)) {
		t.Errorf("record has %d bytes", got.Response.Size())
	}
	got.Close() // the caller's body must survive this
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != body {
		t.Fatalf("body after Exchange.Close: %d bytes, %v", len(b), err)
	}
	resp.Body.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("spool files left: %v", entries)
	}
	if _, err := got.Response.ReadAt(make([]byte, 1), 0); !errors.Is(err, errReleased) {
		t.Errorf("read after release: %v, want errReleased", err)
	}
}

func TestTagHeaderTravelsToTheExchangeButNotTheWire(t *testing.T) {
	srv := startRawServer(t, nil, writeAll("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	var got *Exchange
	tr := NewTransport(Options{
		ConnectTo:  map[string]string{"site.test:80": srv.addr()},
		TagHeader:  "X-Capture-Id",
		OnExchange: func(e *Exchange) { got = e },
	})
	req, _ := http.NewRequest("GET", "http://site.test/", nil)
	req.Header.Set("X-Capture-Id", "c-42")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer got.Close()
	if got.Tag != "c-42" {
		t.Errorf("Tag %q", got.Tag)
	}
	if bytes.Contains(readAll(t, got.Request), []byte("c-42")) {
		t.Error("the tag header went out on the wire")
	}
	if req.Header.Get("X-Capture-Id") != "c-42" {
		t.Error("the caller's request was modified")
	}
}

// Under http.Client every redirect hop is its own exchange; many exchanges
// at once each get their own bytes.
func TestClientRedirectsAndConcurrency(t *testing.T) {
	srv := startRawServer(t, nil, func(c *serverConn) {
		req := string(c.readBytes())
		path := strings.Fields(req)[1]
		if strings.HasPrefix(path, "/from/") {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: /to/%s\r\nContent-Length: 0\r\n\r\n", path[len("/from/"):])
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(path), path)
	})
	var mu sync.Mutex
	exchanges := map[string]*Exchange{}
	tr := NewTransport(Options{
		ConnectTo: map[string]string{"site.test:80": srv.addr()},
		OnExchange: func(e *Exchange) {
			mu.Lock()
			exchanges[e.URL] = e
			mu.Unlock()
		},
	})
	client := &http.Client{Transport: tr}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := client.Get(fmt.Sprintf("http://site.test/from/%d", i))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("/to/%d", i); string(b) != want {
				t.Errorf("body %q, want %q", b, want)
			}
		})
	}
	wg.Wait()
	if len(exchanges) != 2*n {
		t.Fatalf("%d exchanges, want %d", len(exchanges), 2*n)
	}
	for url, e := range exchanges {
		path := strings.TrimPrefix(url, "http://site.test")
		reqLine := "GET " + path + " HTTP/1.1\r\n"
		if !bytes.HasPrefix(readAll(t, e.Request), []byte(reqLine)) {
			t.Errorf("%s: request record %q", url, readAll(t, e.Request))
		}
		resp := string(readAll(t, e.Response))
		if strings.HasPrefix(path, "/from/") != strings.Contains(resp, "302 Found") ||
			strings.HasPrefix(path, "/to/") && !strings.HasSuffix(resp, path) {
			t.Errorf("%s: response record %q", url, resp)
		}
		e.Close()
	}
}

func TestDecodedBody(t *testing.T) {
	text := "안녕, wire: " + repeat(3000)
	enc := func(w func(io.Writer) io.WriteCloser) string {
		var b bytes.Buffer
		zw := w(&b)
		io.WriteString(zw, text)
		zw.Close()
		return b.String()
	}
	gz := enc(func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	zl := enc(func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })
	raw := enc(func(w io.Writer) io.WriteCloser { fw, _ := flate.NewWriter(w, 5); return fw })
	var stackedBuf bytes.Buffer
	zlw := zlib.NewWriter(&stackedBuf)
	io.WriteString(zlw, gz)
	zlw.Close()
	stacked := stackedBuf.String()
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 2<<20))
	zw.Close()
	cases := []struct {
		coding, body string
		limit        int64
		want         string
		err          error
	}{
		{"", text, 1 << 20, text, nil},
		{"identity", text, 1 << 20, text, nil},
		{"gzip", gz, 1 << 20, text, nil},
		{"x-gzip", gz, 1 << 20, text, nil},
		{"deflate", zl, 1 << 20, text, nil},
		{"deflate", raw, 1 << 20, text, nil},
		{"gzip, deflate", stacked, 1 << 20, text, nil}, // gzip applied first, so undone last
		{"deflate, gzip", stacked, 1 << 20, "", errors.New("")},
		{"gzip", gz, int64(len(text)), text, nil},
		{"gzip", gz, int64(len(text)) - 1, "", ErrDecodedTooLarge},
		{"gzip", bomb.String(), 1 << 20, "", ErrDecodedTooLarge},
		{"br", "x", 1 << 20, "", ErrUnsupportedEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.coding, func(t *testing.T) {
			resp := &http.Response{Header: http.Header{"Content-Encoding": {tc.coding}}, Body: io.NopCloser(strings.NewReader(tc.body))}
			rc, err := DecodedBody(resp, tc.limit)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(rc)
				rc.Close()
			}
			switch {
			case tc.err == nil && (err != nil || string(got) != tc.want):
				t.Errorf("got %d bytes, %v", len(got), err)
			case tc.err != nil && err == nil:
				t.Errorf("no error, want %v", tc.err)
			case tc.err != nil && tc.err.Error() != "" && !errors.Is(err, tc.err):
				t.Errorf("error %v, want %v", err, tc.err)
			}
		})
	}
}

func FuzzDecodedBody(f *testing.F) {
	f.Add("gzip", []byte(gzipped("hello")))
	f.Add("deflate", []byte{0x78, 0x9c, 0x01, 0x00, 0x00, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, coding string, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Encoding": {coding}}, Body: io.NopCloser(bytes.NewReader(body))}
		rc, err := DecodedBody(resp, 4096)
		if err != nil {
			return
		}
		defer rc.Close()
		n, _ := io.Copy(io.Discard, rc)
		if n > 4096 {
			t.Fatalf("decoded %d bytes past the limit", n)
		}
	})
}

// BenchmarkRoundTrip compares a recorded fetch with a plain http.Transport
// fetch of the same loopback page (keep-alive off for both, so the
// difference is the recording: tee, spool, framing scan, re-parse).
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{10 << 10, 1 << 20} {
		body := strings.Repeat("x", size)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, body)
		})}
		go srv.Serve(ln)
		url := "http://" + ln.Addr().String() + "/"
		fetch := func(b *testing.B, rt http.RoundTripper) {
			b.SetBytes(int64(size))
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		b.Run(fmt.Sprintf("plain/%dKiB", size>>10), func(b *testing.B) {
			fetch(b, &http.Transport{DisableKeepAlives: true, DisableCompression: true})
		})
		b.Run(fmt.Sprintf("wire/%dKiB", size>>10), func(b *testing.B) {
			fetch(b, NewTransport(Options{SpoolDir: b.TempDir()}))
		})
		srv.Close()
	}
}

// A caller that gives up (a crawl shutting down) ends the exchange at once:
// the body so far is recorded, cut as "time".
func TestCallerCancelEndsExchange(t *testing.T) {
	started := make(chan struct{})
	srv := startRawServer(t, nil, func(c *serverConn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes")
		// Trickle for a while before the caller gives up, so the head has
		// surely been parsed and the cancel lands in the body.
		for i := 0; ; i++ {
			if i == 20 {
				close(started)
			}
			if _, err := io.WriteString(c, "."); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var got *Exchange
	tr := NewTransport(Options{
		ConnectTo:  map[string]string{"site.test:80": srv.addr()},
		OnExchange: func(e *Exchange) { got = e },
	})
	go func() { <-started; cancel() }()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://site.test/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	defer got.Close()
	if got.Truncated != "time" {
		t.Errorf("Truncated %q, want time", got.Truncated)
	}
	if !strings.HasPrefix(string(body), "first bytes....") {
		t.Errorf("body %q", body)
	}
}

func TestReadDecoded(t *testing.T) {
	text := repeat(3000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, text[:1500])
	zw.Flush() // what is flushed decodes even if the rest never comes
	flushed := gz.Len()
	io.WriteString(zw, text[1500:])
	zw.Close()
	cases := []struct {
		name, coding, body string
		limit              int64
		want               string
		wantErr            bool
		length             int64 // Content-Length; 0 here means unknown (-1)
	}{
		{"plain", "", text, 1 << 20, text, false, 0},
		{"gzip", "gzip", gz.String(), 1 << 20, text, false, 0},
		{"longer than limit is cut without error", "gzip", gz.String(), 100, text[:100], false, 0},
		{"broken gzip keeps what came before", "gzip", gz.String()[:flushed+2], 1 << 20, text[:1500], false, 0},
		{"not gzip at all", "gzip", "plain text", 1 << 20, "", true, 0},
		{"unknown coding", "br", text, 1 << 20, "", true, 0},
		// Read into a buffer of the length given: exact, cut, or grown
		// when the length was wrong.
		{"plain of known length", "", text, 1 << 20, text, false, int64(len(text))},
		{"plain of known length, cut at limit", "", text, 100, text[:100], false, int64(len(text))},
		{"plain of exactly the limit", "", text, int64(len(text)), text, false, int64(len(text))},
		{"plain longer than its length said", "", text, 1 << 20, text, false, 10},
		{"gzip of known length", "gzip", gz.String(), 1 << 20, text, false, int64(gz.Len())},
		{"a length far past the bytes sent", "", text, 64 << 20, text, false, 1 << 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{Header: http.Header{"Content-Encoding": {tc.coding}}, Body: io.NopCloser(strings.NewReader(tc.body)), ContentLength: -1}
			if tc.length > 0 {
				resp.ContentLength = tc.length
			}
			got, err := ReadDecoded(resp, tc.limit)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}

// TestReadDecodedPresizeBounded: a Content-Length is the server's word; a
// body that claims a terabyte and sends a few bytes costs no more than
// presizeMax of buffer.
func TestReadDecodedPresizeBounded(t *testing.T) {
	resp := &http.Response{Header: http.Header{}, Body: io.NopCloser(strings.NewReader("tiny")), ContentLength: 1 << 40}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := ReadDecoded(resp, 64<<20)
	runtime.ReadMemStats(&after)
	if err != nil || string(got) != "tiny" {
		t.Fatalf("%q, %v", got, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*presizeMax {
		t.Errorf("allocated %d bytes for a 4-byte body that claimed 1 TiB; want at most %d", n, 2*presizeMax)
	}
}

// TestReadDecodedOfTransport: a response of the Transport read for parsing
// gives the payload whichever way it came, and the plain ones (no chunked
// coding, no content coding, kept in memory) without a copy: the bytes of
// the spool itself, which the record keeps unchanged.
func TestReadDecodedOfTransport(t *testing.T) {
	text := repeat(3000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, text)
	zw.Close()
	chunked := fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 1000, text[:1000], 2000, text[1000:])
	cases := []struct {
		name     string
		method   string
		response string
		limit    int64
		spoolMem int64
		want     string
		inPlace  bool // served from the spool without a copy
	}{
		{"plain", "GET", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(text), text), 1 << 20, 0, text, true},
		{"identity named", "GET", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: Identity\r\nContent-Length: %d\r\n\r\n%s", len(text), text), 1 << 20, 0, text, true},
		{"cut at the limit", "GET", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(text), text), 100, 0, text[:100], true},
		{"interim head first", "GET", fmt.Sprintf("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(text), text), 1 << 20, 0, text, true},
		{"to the close", "GET", "HTTP/1.0 200 OK\r\n\r\n" + text, 1 << 20, 0, text, true},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 1 << 20, 0, text, false},
		{"gzip", "GET", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", gz.Len(), gz.String()), 1 << 20, 0, text, false},
		{"spooled to a file", "GET", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(text), text), 1 << 20, 1024, text, false},
		{"HEAD", "HEAD", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(text)), 1 << 20, 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRawServer(t, nil, writeAll(tc.response))
			var ex *Exchange
			tr := NewTransport(Options{
				ConnectTo:   map[string]string{"site.test:80": srv.addr()},
				SpoolDir:    t.TempDir(),
				SpoolMemory: tc.spoolMem,
				OnExchange:  func(e *Exchange) { ex = e },
			})
			req, _ := http.NewRequest(tc.method, "http://site.test/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer ex.Close()
			record := readAll(t, ex.Response)
			got, err := ReadDecoded(resp, tc.limit)
			resp.Body.Close()
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %d bytes (%v), want %d", len(got), err, len(tc.want))
			}
			if inPlace := resp.Body.(*spoolBody).payload != nil && identity(resp.Header); inPlace != tc.inPlace {
				t.Errorf("served from the spool: %v, want %v", inPlace, tc.inPlace)
			}
			if tc.inPlace && cap(got) != len(got) {
				t.Errorf("the body has room past its end (cap %d, len %d): an append would write into the spool", cap(got), len(got))
			}
			if again := readAll(t, ex.Response); !bytes.Equal(again, record) {
				t.Error("the record changed")
			}
		})
	}
}

// TestReadDecodedAfterRead: ReadDecoded reads what is left of the body, as
// it does of any body, also when the Transport could hand out the
// spool's bytes without a copy: a caller that read the first bytes itself
// does not get them a second time.
func TestReadDecodedAfterRead(t *testing.T) {
	text := repeat(3000)
	srv := startRawServer(t, nil, writeAll(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(text), text)))
	tr := NewTransport(Options{
		ConnectTo: map[string]string{"site.test:80": srv.addr()},
		SpoolDir:  t.TempDir(),
	})
	req, _ := http.NewRequest("GET", "http://site.test/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDecoded(resp, 1<<20)
	if err != nil || string(head)+string(got) != text {
		t.Errorf("read %q, then ReadDecoded gave %d bytes starting %.20q (%v); want the %d bytes after the first 100", head[:20], len(got), got, err, len(text)-100)
	}
}

package wire

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
}

func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

// wireCase is one server behaviour and what the record of it must be.
type wireCase struct {
	name   string
	method string
	tls    bool
	script func(c *serverConn)
	opts   func(o *Options)

	wantErr       error  // sentinel; the exchange has no response
	wantAnyErr    bool   // some fetch error (no sentinel class)
	wantTruncated string // "", "length", "time", "disconnect"
	// wantResponse maps what the server sent to what the record must hold;
	// nil means exactly what was sent.
	wantResponse func(sent []byte) []byte
	prefixOnly   bool   // an RST may destroy bytes in flight: the record is a prefix of what was sent
	wantStatus   int    // status the caller sees
	wantBody     string // body the caller reads (content coding kept)
	wantDecoded  string // body after DecodedBody, if set
}

var helloGzip = gzipped("hello, wire")

const (
	fixedHead = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nx-lower-case: v\r\nContent-Type: text/plain\r\n\r\n"
)

func cutAt(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:n] } }

func wireCases() []wireCase {
	endless := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"
	endlessChunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	return []wireCase{
		{name: "fixed-length", script: writeAll(fixedHead + "hello, wire"), wantStatus: 200, wantBody: "hello, wire"},
		{name: "chunked",
			script:     writeAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" + chunk("hello") + "2;ext=1\r\n, \r\n" + chunk("wire") + "0\r\nX-Trailer: t\r\n\r\n"),
			wantStatus: 200, wantBody: "hello, wire"},
		{name: "gzip",
			script:     writeAll(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(helloGzip), helloGzip)),
			wantStatus: 200, wantBody: helloGzip, wantDecoded: "hello, wire"},
		{name: "chunked-gzip",
			script:     writeAll("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(helloGzip[:7]) + chunk(helloGzip[7:]) + "0\r\n\r\n"),
			wantStatus: 200, wantBody: helloGzip, wantDecoded: "hello, wire"},
		{name: "close-delimited",
			script:     writeAll("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server hangs up"),
			wantStatus: 200, wantBody: "until the server hangs up"},
		{name: "lf-only-head",
			script:     writeAll("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
			wantStatus: 200, wantBody: "ok"},
		{name: "interim-103",
			script:     writeAll("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			wantStatus: 200, wantBody: "ok"},
		{name: "204", script: writeAll("HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n"), wantStatus: 204},
		{name: "304", script: writeAll("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), wantStatus: 304},
		{name: "head", method: "HEAD", script: writeAll("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), wantStatus: 200},
		{name: "redirect",
			script:     writeAll("HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"),
			wantStatus: 301},
		{name: "truncated-mid-body",
			script:        writeAll("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + repeat(40)),
			wantTruncated: "disconnect", wantStatus: 200, wantBody: repeat(40)},
		{name: "content-length-longer",
			script:        writeAll("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello"),
			wantTruncated: "disconnect", wantStatus: 200, wantBody: "hello"},
		{name: "content-length-shorter",
			script:       writeAll("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more than promised"),
			wantResponse: cutAt(len("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")),
			wantStatus:   200, wantBody: "hello"},
		{name: "chunked-disconnect",
			script:        writeAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("hello") + "10\r\nbroken"),
			wantTruncated: "disconnect", wantStatus: 200, wantBody: "hellobroken"},
		{name: "endless-body",
			script: func(c *serverConn) {
				io.WriteString(c, endless)
				for {
					if _, err := io.WriteString(c, repeat(4096)); err != nil {
						return
					}
				}
			},
			opts:          func(o *Options) { o.MaxBody = 10000 },
			wantTruncated: "length", wantResponse: cutAt(len(endless) + 10000),
			wantStatus: 200, wantBody: strings.Repeat(repeat(4096), 3)[:10000]},
		{name: "endless-chunked",
			script: func(c *serverConn) {
				io.WriteString(c, endlessChunked)
				for {
					if _, err := io.WriteString(c, chunk(repeat(1000))); err != nil {
						return
					}
				}
			},
			opts:          func(o *Options) { o.MaxBody = 2500 },
			wantTruncated: "length", wantResponse: cutAt(len(endlessChunked) + 2*len(chunk(repeat(1000))) + len("3e8\r\n") + 500),
			wantStatus: 200, wantBody: repeat(1000) + repeat(1000) + repeat(500)},
		{name: "endless-slow-body",
			script: func(c *serverConn) {
				io.WriteString(c, endless)
				for {
					if _, err := io.WriteString(c, "x"); err != nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			},
			opts:          func(o *Options) { o.Timeout = 300 * time.Millisecond },
			wantTruncated: "time", wantStatus: 200, prefixOnly: true},
		{name: "trickled-headers",
			script: func(c *serverConn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\n")
				for {
					if _, err := io.WriteString(c, "X"); err != nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			},
			opts:    func(o *Options) { o.HeaderTimeout = 300 * time.Millisecond },
			wantErr: ErrHeaderTimeout},
		{name: "megabyte-of-headers",
			script: func(c *serverConn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\n")
				for i := 0; i < 1<<20/64; i++ {
					if _, err := fmt.Fprintf(c, "X-Junk-%06d: %s\r\n", i, repeat(47)); err != nil {
						return
					}
				}
				io.WriteString(c, "Content-Length: 0\r\n\r\n")
			},
			opts:    func(o *Options) { o.MaxHeaderBytes = 64 << 10 },
			wantErr: ErrHeaderTooLarge},
		{name: "malformed-status-line", script: writeAll("HTCPCP/1.0 418 I'm a teapot\r\n\r\n"), wantErr: ErrMalformedResponse},
		{name: "malformed-status-code", script: writeAll("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"), wantErr: ErrMalformedResponse},
		{name: "not-http", script: writeAll("SSH-2.0-OpenSSH_9.6\r\n"), wantErr: ErrMalformedResponse},
		{name: "reset-mid-body",
			script: func(c *serverConn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+repeat(2000))
				time.Sleep(100 * time.Millisecond) // let the bytes arrive; the RST may still destroy some
				c.reset()
			},
			prefixOnly: true, wantTruncated: "disconnect", wantStatus: 200},
		{name: "reset-before-response", script: func(c *serverConn) { c.reset() }, wantAnyErr: true},
		{name: "silent-server",
			script: func(c *serverConn) { c.Read(make([]byte, 1)) }, // waits for the client to hang up
			opts:   func(o *Options) { o.Timeout = 300 * time.Millisecond }, wantAnyErr: true},
		{name: "tls-self-signed", tls: true, script: writeAll(fixedHead + "hello, wire"), wantStatus: 200, wantBody: "hello, wire"},
		{name: "tls-verify-refuses", tls: true, script: writeAll(fixedHead + "hello, wire"),
			opts: func(o *Options) { o.VerifyCertificates = true }, wantAnyErr: true},
	}
}

func TestTransportRecordsWireBytes(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			var tlsConfig *tls.Config
			if tc.tls {
				tlsConfig = selfSigned(t)
			}
			srv := startRawServer(t, tlsConfig, tc.script)
			scheme := "http"
			if tc.tls {
				scheme = "https"
			}
			opts := Options{
				ConnectTo: map[string]string{"site.test:8080": srv.addr()},
				Timeout:   10 * time.Second,
			}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			var got *Exchange
			opts.OnExchange = func(e *Exchange) {
				if got != nil {
					t.Error("OnExchange called twice")
				}
				got = e
			}
			tr := NewTransport(opts)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, scheme+"://site.test:8080/path?q=1", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := tr.RoundTrip(req)
			if got == nil {
				t.Fatal("OnExchange not called")
			}
			defer got.Close()
			var body []byte
			if resp != nil {
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
				}
				body, err = io.ReadAll(resp.Body)
				if err != nil {
					t.Errorf("read body: %v", err)
				}
				resp.Body.Close()
				if tc.wantDecoded != "" {
					encoded := &http.Response{Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body))}
					rc, err := DecodedBody(encoded, 1<<20)
					if err != nil {
						t.Fatal(err)
					}
					dec, err := io.ReadAll(rc)
					if err != nil || string(dec) != tc.wantDecoded {
						t.Errorf("decoded body %q, %v; want %q", dec, err, tc.wantDecoded)
					}
					rc.Close()
				}
			}
			srv.close() // the server's side is complete after this
			sc := srv.lastConn(t)

			if req := readAll(t, got.Request); !bytes.Equal(req, sc.readBytes()) {
				t.Errorf("recorded request\n%q\nserver read\n%q", req, sc.readBytes())
			}
			if got.IP != "127.0.0.1" {
				t.Errorf("IP %q", got.IP)
			}
			if got.URL != "http://site.test:8080/path?q=1" && got.URL != "https://site.test:8080/path?q=1" {
				t.Errorf("URL %q", got.URL)
			}
			switch {
			case tc.wantErr != nil || tc.wantAnyErr:
				if err == nil || !errors.Is(got.Err, err) {
					t.Fatalf("RoundTrip error %v, Exchange.Err %v", err, got.Err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v, want %v", err, tc.wantErr)
				}
				if resp != nil || got.Response != nil {
					t.Error("a failed exchange has a response")
				}
				return
			case err != nil:
				t.Fatalf("RoundTrip: %v", err)
			}
			if got.Truncated != tc.wantTruncated {
				t.Errorf("Truncated %q, want %q", got.Truncated, tc.wantTruncated)
			}
			rec := readAll(t, got.Response)
			sent := sc.sentBytes()
			switch {
			case tc.prefixOnly:
				if !bytes.HasPrefix(sent, rec) || !bytes.Contains(rec, []byte("\r\n\r\n")) {
					t.Errorf("record %q is not a prefix with a head of what was sent", rec)
				}
			case tc.wantResponse != nil:
				if want := tc.wantResponse(sent); !bytes.Equal(rec, want) {
					t.Errorf("recorded response\n%q\nwant\n%q", rec, want)
				}
			default:
				if !bytes.Equal(rec, sent) {
					t.Errorf("recorded response\n%q\nserver sent\n%q", rec, sent)
				}
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("caller body %q, want %q", body, tc.wantBody)
			}
			if tc.tls {
				if got.TLS == nil || resp.TLS == nil || got.CertError == "" {
					t.Errorf("TLS state %v, cert error %q", got.TLS, got.CertError)
				}
			} else if got.TLS != nil {
				t.Error("TLS state on plain HTTP")
			}
			if !tc.prefixOnly { // an RST or a deadline makes the record's length a matter of timing
				// The caller's body is the payload: de-chunked, still content-coded.
				checkWARCGolden(t, tc.name, got, body)
			}
		})
	}
	checkGoroutines(t, before)
}

func readAll(t *testing.T, r *io.SectionReader) []byte {
	t.Helper()
	if r == nil {
		return nil
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGoroutines waits for goroutines started by a test to end: a leak
// (a reader or dialer left behind) keeps the count up.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestResolveTriesAddressesInOrder(t *testing.T) {
	srv := startRawServer(t, nil, writeAll(fixedHead+"hello, wire"))
	_, port, _ := net.SplitHostPort(srv.addr())
	var asked []string
	tr := NewTransport(Options{
		// 127.0.0.3 has no listener on this port: the connection is refused
		// and the next address is tried.
		Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			asked = append(asked, host)
			return []netip.Addr{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.1")}, nil
		},
	})
	req, _ := http.NewRequest("GET", "http://site.test:"+port+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(asked) != 1 || asked[0] != "site.test" {
		t.Errorf("resolved %q", asked)
	}
}

func TestFetchErrorsWithoutResponse(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()
	errNX := errors.New("no such host")
	cases := []struct {
		name string
		opts Options
		want error
	}{
		{"refused", Options{ConnectTo: map[string]string{"site.test:80": refused}}, nil},
		{"resolve-fails", Options{Resolve: func(context.Context, string) ([]netip.Addr, error) { return nil, errNX }}, errNX},
		{"no-addresses", Options{Resolve: func(context.Context, string) ([]netip.Addr, error) { return nil, nil }}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got *Exchange
			tc.opts.OnExchange = func(e *Exchange) { got = e }
			req, _ := http.NewRequest("GET", "http://site.test/", nil)
			resp, err := NewTransport(tc.opts).RoundTrip(req)
			if err == nil || resp != nil {
				t.Fatalf("resp %v, err %v", resp, err)
			}
			if got == nil || got.Err == nil || got.Response != nil {
				t.Fatalf("exchange %+v", got)
			}
			defer got.Close()
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if got.Request.Size() != 0 {
				t.Errorf("nothing was sent, but the request record has %d bytes", got.Request.Size())
			}
		})
	}
}

// TestControlVetsDialledAddress: Control sees the address actually dialled
// (after ConnectTo or Resolve); its error ends that attempt, the next
// address is tried, and when every address is refused the fetch error
// wraps the refusal.
func TestControlVetsDialledAddress(t *testing.T) {
	srv := startRawServer(t, nil, writeAll(fixedHead+"hello, wire"))
	_, port, _ := net.SplitHostPort(srv.addr())
	errNo := errors.New("not this one")
	var dialled []string
	control := func(_ context.Context, network, address string, _ syscall.RawConn) error {
		dialled = append(dialled, address)
		if strings.HasPrefix(address, "127.0.0.9:") {
			return errNo
		}
		return nil
	}
	tr := NewTransport(Options{
		Control: control,
		Resolve: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.1")}, nil
		},
	})
	req, _ := http.NewRequest("GET", "http://site.test:"+port+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := []string{"127.0.0.9:" + port, "127.0.0.1:" + port}; !slices.Equal(dialled, want) {
		t.Errorf("dialled %q, want %q", dialled, want)
	}

	// A ConnectTo target is vetted like any other address.
	dialled = nil
	var got *Exchange
	tr = NewTransport(Options{Control: control, ConnectTo: map[string]string{"site.test:80": "127.0.0.9:" + port},
		OnExchange: func(e *Exchange) { got = e }})
	req, _ = http.NewRequest("GET", "http://site.test/", nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, errNo) {
		t.Fatalf("fetch through a refused ConnectTo target: %v, want the refusal", err)
	}
	if got == nil || !errors.Is(got.Err, errNo) || got.Request.Size() != 0 {
		t.Errorf("exchange %+v: want the refusal and nothing sent", got)
	}
	got.Close()
	if want := []string{"127.0.0.9:" + port}; !slices.Equal(dialled, want) {
		t.Errorf("dialled %q, want %q", dialled, want)
	}
}

package wire

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestKeepAliveAttribution: connections are kept alive and reused, and
// every exchange's record holds its own request and its own response,
// whatever connection carried it, with requests in flight at once.
func TestKeepAliveAttribution(t *testing.T) {
	for _, tc := range []struct {
		name string
		// closeAfter: the server hangs up after this many responses on a
		// connection without saying so, as servers with short keep-alive
		// limits do: a request sent on the dead connection is retried.
		closeAfter int
		// tls: the record holds the plaintext of each exchange on a
		// kept-alive TLS connection.
		tls bool
	}{{"kept", 0, false}, {"server-hangs-up", 2, false}, {"tls", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var tlsConfig *tls.Config
			scheme := "http"
			if tc.tls {
				tlsConfig, scheme = selfSigned(t), "https"
			}
			var conns atomic.Int64
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					conns.Add(1)
					if tlsConfig != nil {
						c = tls.Server(c, tlsConfig)
					}
					go func() {
						defer c.Close()
						br := bufio.NewReader(c)
						for served := 0; tc.closeAfter == 0 || served < tc.closeAfter; served++ {
							req, err := http.ReadRequest(br)
							if err != nil {
								return
							}
							body := "body of " + req.URL.Path
							fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
						}
					}()
				}
			}()
			var mu sync.Mutex
			got := map[string]*Exchange{}
			tr := NewTransport(Options{TagHeader: "X-Tag", OnExchange: func(e *Exchange) {
				mu.Lock()
				got[e.Tag] = e
				mu.Unlock()
			}})
			defer tr.CloseIdleConnections()
			const n = 120
			sem := make(chan struct{}, 8)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					req, _ := http.NewRequest("GET", fmt.Sprintf("%s://%s/p%d", scheme, ln.Addr(), i), nil)
					req.Header.Set("X-Tag", fmt.Sprint(i))
					resp, err := tr.RoundTrip(req)
					if err != nil {
						t.Errorf("p%d: %v", i, err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}()
			}
			wg.Wait()
			for i := range n {
				e := got[fmt.Sprint(i)]
				if e == nil {
					t.Fatalf("p%d: no exchange", i)
				}
				req, resp := string(readAll(t, e.Request)), string(readAll(t, e.Response))
				if !strings.HasPrefix(req, fmt.Sprintf("GET /p%d HTTP/1.1\r\n", i)) || strings.Count(req, "GET ") != 1 {
					t.Errorf("p%d: recorded request %q", i, req)
				}
				if !strings.HasSuffix(resp, "\r\n\r\nbody of /p"+fmt.Sprint(i)) || strings.Count(resp, "HTTP/1.1") != 1 {
					t.Errorf("p%d: recorded response %q", i, resp)
				}
				if e.IP != "127.0.0.1" {
					t.Errorf("p%d: IP %q", i, e.IP)
				}
				if (e.TLS != nil) != tc.tls {
					t.Errorf("p%d: TLS state %v", i, e.TLS)
				}
				e.Close()
			}
			if c := conns.Load(); c >= n {
				t.Errorf("%d connections for %d requests: none kept alive", c, n)
			} else {
				t.Logf("%d connections for %d requests", c, n)
			}
		})
	}
}

// TestKeepAliveStrayBytes: a server that sends more than its
// Content-Length never makes an exchange record bytes other than those
// net/http read as its response. Requests in flight at once give net/http
// a waiting request to hand the connection to the moment the body ends,
// before it could see the stray bytes itself.
//
// When the stray bytes came with the response (same-write), they are in
// net/http's buffer when it hands the connection on: the connection is
// dropped and the next request goes out on a fresh one, so every exchange
// succeeds. When they come in a write of their own, they may arrive after
// the next request went out, and nothing on the wire tells them from a
// malformed answer to it: that exchange may fail as malformed, and then
// its record starts with the stray bytes net/http read.
func TestKeepAliveStrayBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		// apart: the stray bytes come in a write of their own after the
		// response, else in the response's own write.
		apart bool
	}{{"same-write", false}, {"own-write", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						br := bufio.NewReader(c)
						for {
							req, err := http.ReadRequest(br)
							if err != nil {
								return
							}
							body := "body of " + req.URL.Path
							resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
							if tc.apart {
								io.WriteString(c, resp)
								io.WriteString(c, "STRAY")
							} else {
								io.WriteString(c, resp+"STRAY")
							}
						}
					}()
				}
			}()
			var mu sync.Mutex
			got := map[string]*Exchange{}
			tr := NewTransport(Options{TagHeader: "X-Tag", OnExchange: func(e *Exchange) {
				mu.Lock()
				got[e.Tag] = e
				mu.Unlock()
			}})
			defer tr.CloseIdleConnections()
			// The race this guards against is lost by net/http a few times
			// in a thousand exchanges.
			const n = 1000
			sem := make(chan struct{}, 8)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/p%d", ln.Addr(), i), nil)
					req.Header.Set("X-Tag", fmt.Sprint(i))
					resp, err := tr.RoundTrip(req)
					if err != nil {
						if !tc.apart || !errors.Is(err, ErrMalformedResponse) {
							t.Errorf("p%d: %v", i, err)
						}
						return
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if want := fmt.Sprintf("body of /p%d", i); err != nil || string(b) != want {
						t.Errorf("p%d: body %q (%v), want %q", i, b, err, want)
					}
				}()
			}
			wg.Wait()
			for i := range n {
				e := got[fmt.Sprint(i)]
				if e == nil {
					t.Fatalf("p%d: no exchange", i)
				}
				if e.Err == nil {
					resp := string(readAll(t, e.Response))
					if !strings.HasPrefix(resp, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(resp, "\r\n\r\nbody of /p"+fmt.Sprint(i)) {
						t.Errorf("p%d: recorded response %q", i, resp)
					}
				} else if !strings.HasPrefix(string(readAll(t, e.Request)), fmt.Sprintf("GET /p%d ", i)) {
					t.Errorf("p%d: recorded request %q", i, readAll(t, e.Request))
				}
				e.Close()
			}
		})
	}
}

package wire

import (
	"bufio"
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
	}{{"kept", 0}, {"server-hangs-up", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var conns atomic.Int64
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					conns.Add(1)
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
					req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/p%d", ln.Addr(), i), nil)
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

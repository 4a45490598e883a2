package crawler

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// addressLog is what one server address sees: every request's arrival and
// the end of its handler, and the most requests in flight at once.
type addressLog struct {
	mu       sync.Mutex
	inflight int
	peak     int
	spans    [][2]time.Time // arrival, end of handler
	hosts    map[string]int
}

// serve listens on addr (any port) and serves html pages there, logging;
// first, if set, runs inside the first request's handler.
func (l *addressLog) serve(t *testing.T, addr string, first func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Skip("no "+addr+":", err)
	}
	var once sync.Once
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		l.mu.Lock()
		l.inflight++
		l.peak = max(l.peak, l.inflight)
		l.hosts[r.Host]++
		l.mu.Unlock()
		if first != nil {
			once.Do(first)
		}
		if r.URL.Path == "/" {
			html(w, `<title>home</title><a href="/1">1</a><a href="/2">2</a><a href="/3">3</a>`)
		} else {
			html(w, "<title>page</title>")
		}
		l.mu.Lock()
		l.inflight--
		l.spans = append(l.spans, [2]time.Time{arrived, time.Now()})
		l.mu.Unlock()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestPolitenessPerAddressServerSide: three hosts on one server address,
// crawled as three sites side by side, reach that address one request at
// a time and a delay apart, as one host would (the server's own record:
// the gap from one handler's end to the next arrival is a lower bound of
// the crawler's, so it is no race); a host on another address is crawled
// meanwhile.
func TestPolitenessPerAddressServerSide(t *testing.T) {
	const delay = 25 * time.Millisecond
	shared := &addressLog{hosts: map[string]int{}}
	other := &addressLog{hosts: map[string]int{}}
	otherSeen := make(chan struct{})
	var otherOnce sync.Once
	otherPort := other.serve(t, "127.0.0.4", func() { otherOnce.Do(func() { close(otherSeen) }) })
	sharedPort := shared.serve(t, "127.0.0.3", func() {
		// Hold the shared address: a second request there now would break
		// its limit (give one the chance to come), while the other address
		// must be served meanwhile.
		select {
		case <-otherSeen:
		case <-time.After(time.Minute):
			t.Error("the other address was not crawled while the shared one was busy")
		}
		time.Sleep(100 * time.Millisecond)
	})

	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.Delay = delay
	cfg.HostsAtOnce = 4
	var sites []Site
	for _, h := range []string{"a.test", "b.test", "c.test"} {
		cfg.ConnectTo = append(cfg.ConnectTo, h+":80=127.0.0.3:"+sharedPort)
		sites = append(sites, Site{Name: h, Hosts: []Host{{Name: h, Addrs: []string{"127.0.0.3"}}}})
	}
	cfg.ConnectTo = append(cfg.ConnectTo, "d.test:80=127.0.0.4:"+otherPort)
	sites = append(sites, Site{Name: "d.test", Hosts: []Host{{Name: "d.test", Addrs: []string{"127.0.0.4"}}}})
	run(t, cfg, sites...)

	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.peak != 1 {
		t.Errorf("the shared address had %d requests in flight at once, want 1", shared.peak)
	}
	if len(shared.spans) != 15 || len(shared.hosts) != 3 {
		t.Errorf("the shared address served %d requests for %v, want 15 for 3 hosts", len(shared.spans), shared.hosts)
	}
	for i := 1; i < len(shared.spans); i++ {
		if gap := shared.spans[i][0].Sub(shared.spans[i-1][1]); gap < delay {
			t.Errorf("request %d at the shared address came %v after the previous one ended, want >= %v", i, gap, delay)
		}
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	if len(other.spans) != 5 {
		t.Errorf("the other address served %d requests, want 5", len(other.spans))
	}
}

package crawler

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"crawl/internal/archive"
)

// TestRefusesSpecialAddresses: an address outside the opened ranges is
// never connected to, whoever named it: a redirect to another host of the
// site, a --connect-to rule, a seed URL with an address; each such host
// ends failed with the refusal as its recorded error, while the allowed
// host is crawled.
func TestRefusesSpecialAddresses(t *testing.T) {
	inside := &serverLog{}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("no 127.0.0.2:", err)
	}
	srv := &http.Server{Handler: inside.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html(w, "<title>internal</title>")
	}))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, insidePort, _ := net.SplitHostPort(ln.Addr().String())

	_, rule, _ := startSite(t, "a.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "http://b.test:"+insidePort+"/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	_, outsidePort, _ := net.SplitHostPort(rule[strings.Index(rule, "=")+1:])

	a := newTestArchive(t, "")
	cfg := a.config()
	cfg.AllowAddresses = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	cfg.ConnectTo = []string{"c.test:80=127.0.0.2:" + insidePort}
	sum := run(t, cfg,
		Site{Name: "a.test", Hosts: []Host{{Name: "a.test", Addrs: []string{"127.0.0.1"}}, {Name: "b.test", Addrs: []string{"127.0.0.2"}}},
			Seeds: []string{"http://a.test:" + outsidePort + "/"}},
		Site{Name: "c.test", Hosts: []Host{{Name: "c.test", Addrs: []string{"127.0.0.1"}}}},
		Site{Name: "127.0.0.2", Hosts: []Host{{Name: "127.0.0.2"}}, Seeds: []string{"http://127.0.0.2:" + insidePort + "/"}},
	)
	if n := len(inside.paths()); n != 0 {
		t.Errorf("the refused address got %d requests: %q", n, inside.paths())
	}
	if _, ok := a.rec.find("response", "http://a.test:"+outsidePort+"/"); !ok {
		t.Errorf("the allowed host was not captured: %q", a.rec.uris("response"))
	}

	const why = "address 127.0.0.2 is loopback (RFC 1122): refused; pass --allow-addresses 127.0.0.0/8 to crawl it"
	status := map[string]archive.HostStatus{}
	fetchErrors := map[string]string{}
	for _, r := range a.rec.all() {
		if r.Type != "metadata" {
			continue
		}
		if strings.HasPrefix(r.URI, archive.HostStatusURIPrefix) {
			var hs archive.HostStatus
			if err := json.Unmarshal(r.Block, &hs); err != nil {
				t.Fatal(err)
			}
			status[hs.Host] = hs
			continue
		}
		var fe archive.FetchError
		if err := json.Unmarshal(r.Block, &fe); err == nil {
			fetchErrors[fe.Host] = fe.Error
		}
	}
	for _, host := range []string{"b.test", "c.test", "127.0.0.2"} {
		if hs := status[host]; hs.Status != archive.StatusFailed || hs.Error != why {
			t.Errorf("host status of %s: %s %q, want failed %q", host, hs.Status, hs.Error, why)
		}
		if !strings.Contains(fetchErrors[host], why) {
			t.Errorf("fetch error of %s: %q, want the refusal", host, fetchErrors[host])
		}
	}
	if hs := status["a.test"]; hs.Status != archive.StatusDone {
		t.Errorf("host status of a.test: %+v", hs)
	}
	for _, s := range sum.Sites {
		for _, h := range s.Hosts {
			if h.Name != "a.test" && (h.Status != StatusFailed || h.Error != why) {
				t.Errorf("summary of %s: %s %q", h.Name, h.Status, h.Error)
			}
		}
	}
}

package world

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Options configure a world. The zero value is a world on free high ports
// with a two-second slow page.
type Options struct {
	// StandardPorts binds 53 (DNS), 80 (HTTP) and 443 (HTTPS) instead of
	// free high ports. It needs root (or CAP_NET_BIND_SERVICE).
	StandardPorts bool
	// SlowPage is how long the slow page takes to answer; 0 means 2s.
	SlowPage time.Duration
	// Logger receives the servers' own errors; nil discards them.
	Logger *slog.Logger
	// MaxRequests bounds the request log (Requests); 0 means 100000. When
	// full, the oldest half is dropped.
	MaxRequests int
}

func (o Options) withDefaults() Options {
	if o.SlowPage <= 0 {
		o.SlowPage = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 100000
	}
	return o
}

// ErrPortsBusy is returned by Start when no port number could be found that
// is free on every address of the world.
var ErrPortsBusy = errors.New("world: no port free on every address")

// bindAttempts is how many port numbers Start tries before giving up.
const bindAttempts = 20

// World is a running world: its nameservers and web servers on loopback.
type World struct {
	opts  Options
	zones []*Zone
	sites []*site

	dnsPort, webPort, tlsPort int
	cert                      *x509.Certificate

	dnsServers  []*dns.Server
	httpServers []*http.Server
	requests    *requestLog

	stopAfter func() bool
	closeOnce sync.Once
	closeErr  error
}

// Start builds the world and starts its servers. The world runs until Close
// is called or ctx is done.
func Start(ctx context.Context, opts Options) (*World, error) {
	opts = opts.withDefaults()
	zones, err := buildZones()
	if err != nil {
		return nil, err
	}
	c, err := loadCorpus()
	if err != nil {
		return nil, err
	}
	sites, err := buildSites(c)
	if err != nil {
		return nil, err
	}
	w := &World{opts: opts, zones: zones, sites: sites, requests: &requestLog{limit: opts.MaxRequests}}
	if err := w.startDNS(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.startWeb(ctx); err != nil {
		w.Close()
		return nil, err
	}
	w.stopAfter = context.AfterFunc(ctx, func() { w.Close() })
	opts.Logger.Debug("world started", "nameserver", w.Nameserver(), "web_port", w.webPort, "https_port", w.tlsPort,
		"zones", len(zones), "sites", len(sites))
	return w, nil
}

// startDNS serves every zone at each of its nameserver addresses, UDP and
// TCP, all on one port number.
func (w *World) startDNS(ctx context.Context) error {
	byAddr := map[string][]*Zone{}
	for _, z := range w.zones {
		for _, a := range z.Nameservers {
			byAddr[a] = append(byAddr[a], z)
		}
	}
	addrs := slices.Sorted(maps.Keys(byAddr))
	port := 0
	if w.opts.StandardPorts {
		port = 53
	}
	pcs, lns, port, err := bindShared(ctx, addrs, port, true)
	if err != nil {
		return fmt.Errorf("world: nameservers: %w", err)
	}
	w.dnsPort = port
	var started sync.WaitGroup
	for i, a := range addrs {
		h := &nameserver{addr: a, zones: byAddr[a], log: w.opts.Logger}
		for _, srv := range []*dns.Server{
			{PacketConn: pcs[i], Handler: h},
			{Listener: lns[i], Handler: h, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		} {
			started.Add(1)
			srv.NotifyStartedFunc = started.Done
			w.dnsServers = append(w.dnsServers, srv)
			go func() {
				if err := srv.ActivateAndServe(); err != nil {
					w.opts.Logger.Debug("world: nameserver stopped", "addr", a, "err", err)
				}
			}()
		}
	}
	// Shutdown of a dns.Server that has not started fails, so Close must
	// not run before every server is up.
	started.Wait()
	return nil
}

// startWeb serves every site over HTTP on one port number, and the HTTPS
// sites over TLS on another.
func (w *World) startWeb(ctx context.Context) error {
	hosts := map[string]*site{}
	webAddrs, tlsAddrs := map[string]bool{}, map[string]bool{}
	var tlsNames []string
	var tlsIPs []net.IP
	for _, s := range w.sites {
		for _, h := range s.Hosts {
			hosts[h] = s
		}
		for _, a := range s.Addrs {
			webAddrs[a] = true
			if s.HTTPS {
				tlsAddrs[a] = true
				tlsIPs = append(tlsIPs, net.ParseIP(a))
			}
		}
		if s.HTTPS {
			tlsNames = append(tlsNames, s.Hosts...)
		}
	}
	handler := &web{hosts: hosts, slow: w.opts.SlowPage, log: w.requests}
	newServer := func() *http.Server {
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       30 * time.Second,
			ErrorLog:          slog.NewLogLogger(w.opts.Logger.Handler(), slog.LevelDebug),
		}
		w.httpServers = append(w.httpServers, srv)
		return srv
	}

	port := 0
	if w.opts.StandardPorts {
		port = 80
	}
	_, lns, port, err := bindShared(ctx, slices.Sorted(maps.Keys(webAddrs)), port, false)
	if err != nil {
		return fmt.Errorf("world: web servers: %w", err)
	}
	w.webPort = port
	srv := newServer()
	for _, ln := range lns {
		go srv.Serve(ln)
	}

	if len(tlsAddrs) == 0 {
		return nil
	}
	cert, err := selfSigned(tlsNames, tlsIPs)
	if err != nil {
		return err
	}
	w.cert = cert.Leaf
	port = 0
	if w.opts.StandardPorts {
		port = 443
	}
	_, lns, port, err = bindShared(ctx, slices.Sorted(maps.Keys(tlsAddrs)), port, false)
	if err != nil {
		return fmt.Errorf("world: https servers: %w", err)
	}
	w.tlsPort = port
	// HTTP/1.1 only: the crawler records exchanges as HTTP/1.1 wire bytes.
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	srv = newServer()
	for _, ln := range lns {
		go srv.Serve(tls.NewListener(ln, cfg))
	}
	return nil
}

// bindShared opens a socket on every address with one port number shared by
// all (TCP, and UDP too when udp is set). With port 0 it lets the system pick
// a number on the first address and tries it on the others, starting over
// with a new number when one of them has it taken.
func bindShared(ctx context.Context, addrs []string, port int, udp bool) ([]net.PacketConn, []net.Listener, int, error) {
	var lc net.ListenConfig
	attempts := bindAttempts
	if port != 0 {
		attempts = 1
	}
	var lastErr error
	for range attempts {
		var pcs []net.PacketConn
		var lns []net.Listener
		closeAll := func() {
			for _, pc := range pcs {
				pc.Close()
			}
			for _, ln := range lns {
				ln.Close()
			}
		}
		p := port
		err := func() error {
			for _, a := range addrs {
				if udp {
					pc, err := lc.ListenPacket(ctx, "udp4", net.JoinHostPort(a, strconv.Itoa(p)))
					if err != nil {
						return err
					}
					pcs = append(pcs, pc)
					p = pc.LocalAddr().(*net.UDPAddr).Port
				}
				ln, err := lc.Listen(ctx, "tcp4", net.JoinHostPort(a, strconv.Itoa(p)))
				if err != nil {
					return err
				}
				lns = append(lns, ln)
				p = ln.Addr().(*net.TCPAddr).Port
			}
			return nil
		}()
		if err == nil {
			return pcs, lns, p, nil
		}
		closeAll()
		lastErr = err
		if ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
	}
	if port != 0 {
		return nil, nil, 0, fmt.Errorf("port %d: %w", port, lastErr)
	}
	return nil, nil, 0, fmt.Errorf("%w: %d attempts, last: %w", ErrPortsBusy, attempts, lastErr)
}

// selfSigned makes the HTTPS sites' certificate. It is its own CA, so a
// client can trust exactly it (CertPool) instead of skipping verification.
func selfSigned(names []string, ips []net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("world: certificate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(Serial),
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"The country of test"}},
		NotBefore:             time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("world: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("world: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Close stops every server of the world. It is safe to call more than once.
func (w *World) Close() error {
	w.closeOnce.Do(func() {
		if w.stopAfter != nil {
			w.stopAfter()
		}
		var errs []error
		for _, srv := range w.httpServers {
			// Close, not Shutdown: the slow page and the large file must not
			// hold the world open.
			if err := srv.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, srv := range w.dnsServers {
			if err := srv.ShutdownContext(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			w.closeErr = fmt.Errorf("world: close: %w", err)
		}
	})
	return w.closeErr
}

// TLD is the world's top-level domain, without dots: "test".
func (w *World) TLD() string { return tld }

// Nameserver is "IP:PORT" of a server for the TLD zone, which allows AXFR.
func (w *World) Nameserver() string {
	return net.JoinHostPort(w.zoneByName(tld + ".").Nameservers[0], strconv.Itoa(w.dnsPort))
}

// DNSPort is the port every nameserver of the world listens on (UDP and TCP).
func (w *World) DNSPort() int { return w.dnsPort }

// WebPort is the port every web address listens on for HTTP.
func (w *World) WebPort() int { return w.webPort }

// HTTPSPort is the port the HTTPS sites' addresses listen on for TLS.
func (w *World) HTTPSPort() int { return w.tlsPort }

// CertPool holds only the self-signed certificate of the HTTPS sites, for
// clients that verify them.
func (w *World) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if w.cert != nil {
		pool.AddCert(w.cert)
	}
	return pool
}

// ConnectTo lists the connection overrides that reach the world's web
// servers, in the form "HOST:80=ADDR:PORT" (and "HOST:443=ADDR:PORT" for the
// HTTPS sites), like curl's --connect-to. A host with two addresses has one
// entry per address. Sorted.
func (w *World) ConnectTo() []string {
	var out []string
	for _, s := range w.sites {
		for _, h := range s.Hosts {
			for _, a := range s.Addrs {
				out = append(out, fmt.Sprintf("%s:80=%s", h, net.JoinHostPort(a, strconv.Itoa(w.webPort))))
				if s.HTTPS {
					out = append(out, fmt.Sprintf("%s:443=%s", h, net.JoinHostPort(a, strconv.Itoa(w.tlsPort))))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Sites is the ground truth about every web site, sorted by name. The
// domain with nameservers but no web address is not among them.
func (w *World) Sites() []Site {
	out := make([]Site, len(w.sites))
	for i, s := range w.sites {
		out[i] = s.clone()
	}
	return out
}

// Site returns the site a host name (apex or www) belongs to.
func (w *World) Site(host string) (Site, bool) {
	for _, s := range w.sites {
		if slices.Contains(s.Hosts, host) || s.Name == host {
			return s.clone(), true
		}
	}
	return Site{}, false
}

// Zones returns every zone of the world, sorted by name: the TLD, the
// second-level zones and the leaves.
func (w *World) Zones() []Zone {
	out := make([]Zone, len(w.zones))
	for i, z := range w.zones {
		out[i] = Zone{Name: z.Name, Transfer: z.Transfer, Nameservers: slices.Clone(z.Nameservers), Text: z.Text}
	}
	return out
}

// Requests returns the HTTP requests served so far, in order (at most
// Options.MaxRequests of the latest).
func (w *World) Requests() []Request { return w.requests.snapshot() }

func (w *World) zoneByName(name string) *Zone {
	for _, z := range w.zones {
		if z.Name == name {
			return z
		}
	}
	return nil
}

func (s *site) clone() Site {
	c := s.Site
	c.Hosts = slices.Clone(s.Hosts)
	c.Addrs = slices.Clone(s.Addrs)
	c.Disallow = slices.Clone(s.Disallow)
	c.Pages = slices.Clone(s.Pages)
	c.Assets = slices.Clone(s.Assets)
	c.Links = slices.Clone(s.Links)
	c.Headlines = slices.Clone(s.Headlines)
	c.Redirects = maps.Clone(s.Redirects)
	c.Errors = maps.Clone(s.Errors)
	return c
}

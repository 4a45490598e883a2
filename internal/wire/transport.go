package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync"
	"time"

	"crawl/internal/httpmsg"
)

// Errors callers branch on. They wrap the underlying net/http error.
var (
	// ErrMalformedResponse: the server answered, but not with HTTP/1.x.
	ErrMalformedResponse = errors.New("malformed HTTP response")
	// ErrHeaderTooLarge: the response head exceeded Options.MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("response head too large")
	// ErrHeaderTimeout: no complete response head within Options.HeaderTimeout.
	ErrHeaderTimeout = errors.New("timeout awaiting response head")
)

var (
	errRawLimit  = errors.New("wire: raw response exceeds its size bound")
	errReleased  = errors.New("wire: exchange already released")
	errNoRequest = errors.New("wire: dial outside a RoundTrip")
)

// Transport is an http.RoundTripper that records every exchange's exact wire
// bytes. It speaks HTTP/1.1 only and never decompresses; connections are
// kept alive and reused, one exchange after the other. It is safe for
// concurrent use.
type Transport struct {
	opts  Options
	inner *http.Transport
}

// Kept-alive connections: at most idleConnsPerHost idle per host (a crawl
// has at most --host-parallel requests in flight to one host), closed after
// idleConnTimeout unused.
const (
	idleConnsPerHost = 16
	idleConnTimeout  = 30 * time.Second
)

// NewTransport returns a Transport; zero Options fields take their defaults.
func NewTransport(opts Options) *Transport {
	t := &Transport{opts: opts.withDefaults()}
	if len(opts.ConnectTo) > 0 {
		t.opts.ConnectTo = make(map[string]string, len(opts.ConnectTo))
		for k, v := range opts.ConnectTo {
			t.opts.ConnectTo[strings.ToLower(k)] = v
		}
	}
	var http1 http.Protocols
	http1.SetHTTP1(true)
	t.inner = &http.Transport{
		Proxy:          nil, // an archive records the origin, never a proxy's view
		DialContext:    t.dial,
		DialTLSContext: t.dialTLS,
		// Kept alive: one handshake per host, not per request (polite, and a
		// TLS handshake costs more than most pages). Each exchange on a
		// connection is told apart by net/http's GotConn hook (see
		// recorder.use).
		MaxIdleConnsPerHost:    idleConnsPerHost,
		IdleConnTimeout:        idleConnTimeout,
		DisableCompression:     true, // the caller's Accept-Encoding goes out as is; nothing is decoded behind its back
		ForceAttemptHTTP2:      false,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		Protocols:              &http1,
		ResponseHeaderTimeout:  t.opts.HeaderTimeout,
		MaxResponseHeaderBytes: t.opts.MaxHeaderBytes,
		ExpectContinueTimeout:  time.Second,
		// Every read is a trip through the tee into the spool: fewer, larger
		// reads mean fewer syscalls on both sides.
		ReadBufferSize: 64 << 10,
	}
	return t
}

// RoundTrip performs the request, reads the whole response body (up to
// MaxBody) into a spool, hands the Exchange to OnExchange and returns a
// response whose body is served from the spool. The error, if any, is also in
// the Exchange's Err.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(req.Context(), t.opts.Timeout)
	defer cancel()

	rec := &recorder{
		ctx:    ctx,
		req:    newSpool(t.opts.SpoolDir, t.opts.SpoolMemory),
		resp:   newSpool(t.opts.SpoolDir, t.opts.SpoolMemory),
		rawCap: t.opts.MaxHeaderBytes + 2*t.opts.MaxBody + 64<<10,
		framed: make(chan struct{}),
	}
	rec.req.retain() // the Exchange's references
	rec.resp.retain()
	e := &Exchange{URL: req.URL.String(), Start: start, req: rec.req, resp: rec.resp}

	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if c, ok := info.Conn.(*recordingConn); ok {
			rec.use(c)
		}
	}}
	out := req.Clone(httptrace.WithClientTrace(context.WithValue(ctx, recorderKey{}, rec), trace))
	if t.opts.TagHeader != "" {
		e.Tag = out.Header.Get(t.opts.TagHeader)
		out.Header.Del(t.opts.TagHeader)
	}

	resp, err := t.inner.RoundTrip(out)
	if err == nil {
		e.Truncated = t.drain(ctx, rec, resp.Body)
		resp.Body.Close()
	}
	rec.seal()

	rec.mu.Lock()
	e.IP, e.TLS, e.CertError = rec.ip, rec.tls, rec.certError
	rec.mu.Unlock()
	e.Request = rec.req.section(rec.req.Len())
	if err == nil {
		err = errors.Join(rec.req.Err(), rec.resp.Err())
	}
	if err != nil {
		rec.handOver(false) // net/http closes a connection whose exchange failed
		e.Err = t.fetchError(req, rec, e.IP, err)
		e.Truncated = ""
		t.deliver(e)
		return nil, e.Err
	}

	f := scanFrame(rec.resp, rec.resp.Len(), req.Method, t.opts.MaxBody)
	if f.Cut && e.Truncated == "" {
		e.Truncated = "length"
	}
	// Bytes after the message: net/http may have buffered them as the
	// start of the next response on this connection, where no record
	// would hold them, so the connection is not used again.
	rec.handOver(f.End < rec.resp.Len())
	e.Response = rec.resp.section(f.End)

	rec.resp.retain() // the caller's body holds its own reference
	cresp, err := readResponse(rec.resp.section(f.End), f.End, f.HeadEnd, req)
	if err != nil { // net/http parsed this head a moment ago; only a broken spool gets here
		rec.resp.release()
		e.Err = fmt.Errorf("fetch %s: re-read recorded response: %w", req.URL, err)
		e.Response, e.Truncated = nil, ""
		t.deliver(e)
		return nil, e.Err
	}
	cresp.Body = &spoolBody{r: cresp.Body, s: rec.resp, truncated: e.Truncated != ""}
	if f.Err == nil && !f.Chunked && f.HeadEnd > 0 {
		cresp.Body.(*spoolBody).payload = rec.resp.memory(f.HeadEnd, f.End)
	}
	cresp.TLS = e.TLS
	cresp.Request = req
	t.deliver(e)
	return cresp, nil
}

// CloseIdleConnections closes the connections kept alive for later requests.
func (t *Transport) CloseIdleConnections() { t.inner.CloseIdleConnections() }

func (t *Transport) deliver(e *Exchange) {
	if t.opts.OnExchange != nil {
		t.opts.OnExchange(e)
		return
	}
	e.Close()
}

// drain reads the body to its end or to MaxBody, so the record is complete no
// matter how much the caller reads, and says how it ended.
func (t *Transport) drain(ctx context.Context, rec *recorder, body io.Reader) string {
	_, err := io.CopyN(io.Discard, body, t.opts.MaxBody)
	if err == nil { // MaxBody bytes read: is there more?
		var b [1]byte
		for err == nil {
			var n int
			n, err = body.Read(b[:])
			if n > 0 {
				return "length"
			}
		}
	}
	if err == io.EOF {
		return ""
	}
	rec.mu.Lock()
	overCap := rec.overCap
	rec.mu.Unlock()
	switch {
	case overCap:
		return "length"
	case ctx.Err() != nil:
		// The exchange deadline, or the caller giving up (a crawl shutting
		// down): either way a time bound ended the body.
		return "time"
	default:
		// Closed or reset by the peer, a Content-Length longer than what was
		// sent, or chunk framing that broke off.
		return "disconnect"
	}
}

// fetchError names the class of a failure that left no usable response.
func (t *Transport) fetchError(req *http.Request, rec *recorder, ip string, err error) error {
	where := req.URL.String()
	if ip != "" {
		where += " from " + ip
	}
	var class error
	if n := rec.resp.Len(); n > 0 {
		f := scanFrame(rec.resp, n, req.Method, t.opts.MaxBody)
		switch {
		case errors.Is(f.Err, ErrMalformedResponse):
			class = ErrMalformedResponse
		case f.HeadEnd == 0 && n >= t.opts.MaxHeaderBytes:
			class = ErrHeaderTooLarge
		}
	}
	// net/http does not export this error; its text has been stable since Go 1.1.
	if class == nil && strings.Contains(err.Error(), "timeout awaiting response headers") {
		class = ErrHeaderTimeout
	}
	if class != nil {
		return fmt.Errorf("fetch %s: %w: %w", where, class, err)
	}
	return fmt.Errorf("fetch %s: %w", where, err)
}

func (t *Transport) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return nil, errNoRequest
	}
	c, ip, err := t.connect(rec, addr)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, ip: ip}, nil
}

func (t *Transport) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return nil, errNoRequest
	}
	raw, ip, err := t.connect(rec, addr)
	if err != nil {
		return nil, err
	}
	// A handshake that fails still names the peer contacted; a connection
	// that is made tells each exchange that uses it (recorder.use).
	rec.mu.Lock()
	if rec.conn == nil {
		rec.ip = ip
	}
	rec.mu.Unlock()
	host, _, _ := net.SplitHostPort(addr)
	cfg := &tls.Config{
		// We verify ourselves below, so that an invalid certificate can be
		// recorded (the default) instead of ending the fetch.
		InsecureSkipVerify: true,
		NextProtos:         []string{"http/1.1"},
		MinVersion:         tls.VersionTLS10, // old national sites still speak it; we archive, we don't vouch
	}
	if _, err := netip.ParseAddr(host); err != nil {
		cfg.ServerName = host
	}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(rec.ctx, t.opts.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
	}
	state := tc.ConnectionState()
	certErr := verifyPeer(state, host)
	if certErr != nil && t.opts.VerifyCertificates {
		tc.Close()
		return nil, fmt.Errorf("tls %s: %w", addr, certErr)
	}
	c := &recordingConn{Conn: tc, ip: ip, tls: &state}
	if certErr != nil {
		c.certError = certErr.Error()
	}
	return c, nil
}

// verifyPeer checks the chain against the system roots and the host name.
func verifyPeer(state tls.ConnectionState, host string) error {
	certs := state.PeerCertificates
	if len(certs) == 0 {
		return errors.New("server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter})
	return err
}

// connect opens a TCP connection for addr ("host:port"), honouring ConnectTo
// and trying each resolved address in order; it returns the address it
// reached.
func (t *Transport) connect(rec *recorder, addr string) (net.Conn, string, error) {
	ctx := rec.ctx // the request's values and the exchange deadline; net/http detaches dials from cancellation
	target := addr
	if to, ok := t.opts.ConnectTo[strings.ToLower(addr)]; ok {
		target = to
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, "", fmt.Errorf("connect %s: %w", addr, err)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		resolve := t.opts.Resolve
		if resolve == nil {
			resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		addrs, err = resolve(ctx, host)
		if err != nil {
			return nil, "", fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, "", fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	var errs []error
	for _, a := range addrs {
		d := net.Dialer{Timeout: t.opts.DialTimeout, ControlContext: t.opts.Control}
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, a.Unmap().WithZone("").String(), nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", fmt.Errorf("connect %s: %w", addr, errors.Join(errs...))
}

// readResponse parses the recorded message of size bytes for the caller,
// skipping interim 1xx responses as net/http does. Its buffer holds the
// heads (headEnd bytes, when known) in one read of the spool; the body's
// larger reads go past it to the spool.
func readResponse(r io.Reader, size, headEnd int64, req *http.Request) (*http.Response, error) {
	n := int64(64 << 10)
	if headEnd > 0 {
		n = headEnd + 512
	}
	br := bufio.NewReaderSize(r, int(min(size+1, n)))
	return httpmsg.ReadResponse(br, req)
}

// spoolBody serves the caller from the spool. A truncated body ends with EOF
// at the cut instead of an error: the caller gets what was archived, and the
// Exchange says it was cut.
type spoolBody struct {
	r         io.ReadCloser
	s         *spool
	truncated bool
	once      sync.Once
	// payload is the body's bytes in the spool's memory when they are the
	// payload as sent (no chunked coding) and the spool never went to a
	// file: ReadDecoded takes them without a copy. A Read forgets them:
	// from then on the body is what is left, which only a read gives.
	payload []byte
}

func (b *spoolBody) Read(p []byte) (int, error) {
	b.payload = nil
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.truncated && !errors.Is(err, errReleased) {
		err = io.EOF
	}
	return n, err
}

func (b *spoolBody) Close() error {
	var err error
	b.once.Do(func() { err = b.s.release() })
	return err
}

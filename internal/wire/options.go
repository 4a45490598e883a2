package wire

import (
	"context"
	"net/netip"
	"syscall"
	"time"
)

// Options configure a Transport. The zero value works: every zero field takes
// the default from withDefaults, the one place defaults live.
type Options struct {
	// ConnectTo overrides where a "host:port" connects, like curl --connect-to:
	// "www.example.kr:443" -> "127.0.0.5:8443". Keys are matched case-insensitively.
	// The request (Host header, TLS server name) still names the original host.
	ConnectTo map[string]string

	// Resolve returns the addresses to try, in order (the crawler passes what
	// discover recorded). Nil uses net.DefaultResolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)

	// Control, if set, is each connection attempt's net.Dialer
	// ControlContext hook: it sees the address actually dialled (after
	// ConnectTo and Resolve), and its error ends that attempt before any
	// packet is sent; the next address is tried. The crawler refuses
	// special-purpose addresses here (netguard.Guard.Control), so that no
	// override or redirect can reach one.
	Control func(ctx context.Context, network, address string, c syscall.RawConn) error

	// MaxBody cuts the response body (de-chunked, still content-coded) after
	// this many bytes; the exchange is then Truncated "length". Default 64 MiB.
	MaxBody int64

	// Timeout bounds the whole exchange, dial to last body byte. A body cut by
	// it is Truncated "time"; no response head by then is an Err. Default 2 min.
	Timeout time.Duration

	// HeaderTimeout bounds the wait for the response head after the request is
	// written (a server trickling headers). Default 30 s.
	HeaderTimeout time.Duration

	// DialTimeout bounds each connection attempt (one per address). Default 10 s.
	DialTimeout time.Duration

	// MaxHeaderBytes bounds the response head; more is ErrHeaderTooLarge.
	// Default 256 KiB.
	MaxHeaderBytes int64

	// VerifyCertificates makes an invalid certificate a fetch error. By default
	// (false) an archiver records what the server serves and reports the
	// certificate problem in Exchange.CertError instead.
	VerifyCertificates bool

	// SpoolDir holds temp files for bodies larger than SpoolMemory. Default
	// os.TempDir().
	SpoolDir string

	// SpoolMemory is how many bytes of one message stay in memory before it
	// moves to a temp file. Default 256 KiB.
	SpoolMemory int64

	// TagHeader, if set, names a request header that the Transport removes
	// before sending and copies into Exchange.Tag: the way a caller such as
	// colly, which gives no per-request context, can match exchanges to its
	// requests.
	TagHeader string

	// OnExchange is called once per finished exchange (also for fetch errors),
	// before RoundTrip returns. The callee owns the Exchange and must Close it.
	// When nil, exchanges are released as soon as the response body is closed.
	OnExchange func(*Exchange)
}

const (
	defaultMaxBody        = 64 << 20
	defaultTimeout        = 2 * time.Minute
	defaultHeaderTimeout  = 30 * time.Second
	defaultDialTimeout    = 10 * time.Second
	defaultMaxHeaderBytes = 256 << 10
	defaultSpoolMemory    = 256 << 10
)

func (o Options) withDefaults() Options {
	if o.MaxBody <= 0 {
		o.MaxBody = defaultMaxBody
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = defaultHeaderTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultDialTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	if o.SpoolMemory <= 0 {
		o.SpoolMemory = defaultSpoolMemory
	}
	return o
}

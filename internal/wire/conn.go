package wire

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// recorder is the per-request state that travels from RoundTrip to the dialer
// in the request context. It owns the two spools of one exchange.
type recorder struct {
	ctx    context.Context // the exchange's own context (carries Timeout); dials use it
	req    *spool
	resp   *spool
	rawCap int64 // the response spool never grows much past this

	// io is held shared by every Write on the exchange's connection, from
	// the call to the recording of its bytes, and exclusively by seal: so
	// seal waits for a write the kernel already took but whose goroutine has
	// not yet recorded it (the server may answer before the writer is
	// scheduled again).
	io sync.RWMutex

	mu        sync.Mutex
	conn      *recordingConn // the connection of the exchange (of its last attempt)
	sealed    bool
	ip        string
	tls       *tls.ConnectionState
	certError string
	overCap   bool
}

type recorderKey struct{}

// use makes c the connection of this exchange. net/http calls it (through
// the GotConn trace hook) for every connection it gives the request, new or
// kept alive, before it writes the request; a second call is a retry on a
// fresh connection after a kept-alive one turned out closed, and what the
// failed attempt recorded is dropped.
func (r *recorder) use(c *recordingConn) {
	c.mu.Lock()
	c.cur = r
	c.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != nil {
		r.req.reset()
		r.resp.reset()
		r.overCap = false
	}
	r.conn = c
	r.ip, r.tls, r.certError = c.ip, c.tls, c.certError
}

// seal stops recording: after it the spools are read-only. The connection
// stays open for the next exchange (net/http closes it when it cannot be
// kept). Every byte the caller of the body saw passed through the tee before
// it was returned, so nothing delivered is missing from the record.
func (r *recorder) seal() {
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		if c.cur == r {
			c.cur = nil
		}
		c.mu.Unlock()
	}
	r.io.Lock()
	r.mu.Lock()
	r.sealed = true
	r.mu.Unlock()
	r.io.Unlock()
}

// dropIdleConn closes the exchange's connection, so that it is not reused,
// unless another exchange uses it already (closing it would fail that one).
func (r *recorder) dropIdleConn() {
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		c.Conn.Close()
	}
}

// recordingConn tees every byte read into the response spool and every byte
// written into the request spool of the exchange that uses the connection
// now (keep-alive: several exchanges, one after the other; net/http never
// writes a request on a connection before the previous response was read
// to its end). With TLS it wraps the *tls.Conn, so the record holds the
// plaintext HTTP message. What the dial learnt (address, TLS state)
// belongs to the connection and is copied to each exchange that uses it.
type recordingConn struct {
	net.Conn
	ip        string
	tls       *tls.ConnectionState
	certError string

	mu  sync.Mutex
	cur *recorder // the exchange using the connection, nil between exchanges
}

func (c *recordingConn) current() *recorder {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// Read records into the exchange current when the bytes arrive, not when
// the read began: net/http waits on an idle connection with a read that the
// next exchange's response completes.
func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if r := c.current(); r != nil {
			r.mu.Lock()
			if !r.sealed {
				r.resp.Write(p[:n])
				if r.resp.Len() > r.rawCap {
					// A hostile framing (say one-byte chunks with long
					// extensions) could make the raw message far larger
					// than MaxBody: stop here.
					r.overCap = true
					err = errRawLimit
				}
			}
			r.mu.Unlock()
		}
	}
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	r := c.current()
	if r == nil {
		return c.Conn.Write(p)
	}
	r.io.RLock()
	defer r.io.RUnlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		r.mu.Lock()
		if !r.sealed {
			r.req.Write(p[:n])
		}
		r.mu.Unlock()
	}
	return n, err
}

package wire

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// recorder is the per-request state that travels from RoundTrip to the dialer
// in the request context. It owns the two spools and the one connection.
type recorder struct {
	ctx    context.Context // the exchange's own context (carries Timeout); dials use it
	req    *spool
	resp   *spool
	rawCap int64 // the response spool never grows much past this

	// io is held shared by every Read and Write on the connection, from the
	// call to the recording of its bytes, and exclusively by seal: so seal
	// waits for a write the kernel already took but whose goroutine has not yet
	// recorded it (the server may answer before the writer is scheduled again).
	io sync.RWMutex

	mu        sync.Mutex
	conn      net.Conn
	sealed    bool
	ip        string
	tls       *tls.ConnectionState
	certError string
	overCap   bool
}

type recorderKey struct{}

// attach records the connection the Transport dialled for this request. A
// second connection (which keep-alive off should make impossible) or one that
// arrives after the exchange finished is refused, so bytes are never
// attributed to the wrong exchange.
func (r *recorder) attach(c net.Conn) (net.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed || r.conn != nil {
		c.Close()
		return nil, errStaleDial
	}
	r.conn = c
	return &recordingConn{Conn: c, rec: r}, nil
}

// seal stops recording and closes the connection: after it the spools are
// read-only. Every byte the caller of the body saw passed through the tee
// before it was returned, so nothing delivered is missing from the record.
func (r *recorder) seal() {
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c != nil {
		c.Close() // unblocks any Read or Write still in progress
	}
	r.io.Lock()
	r.mu.Lock()
	r.sealed = true
	r.mu.Unlock()
	r.io.Unlock()
}

// recordingConn tees every byte read into the response spool and every byte
// written into the request spool. With TLS it wraps the *tls.Conn, so the
// record holds the plaintext HTTP message.
type recordingConn struct {
	net.Conn
	rec *recorder
}

func (c *recordingConn) Read(p []byte) (int, error) {
	c.rec.io.RLock()
	defer c.rec.io.RUnlock()
	n, err := c.Conn.Read(p)
	if n > 0 {
		r := c.rec
		r.mu.Lock()
		if !r.sealed {
			r.resp.Write(p[:n])
			if r.resp.Len() > r.rawCap {
				// A hostile framing (say one-byte chunks with long extensions)
				// could make the raw message far larger than MaxBody: stop here.
				r.overCap = true
				err = errRawLimit
			}
		}
		r.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.rec.io.RLock()
	defer c.rec.io.RUnlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		r := c.rec
		r.mu.Lock()
		if !r.sealed {
			r.req.Write(p[:n])
		}
		r.mu.Unlock()
	}
	return n, err
}

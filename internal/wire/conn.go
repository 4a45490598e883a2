package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
)

// errStrayBytes refuses a request on a connection that received bytes no
// exchange asked for. net/http has those bytes in its buffer and would
// read them as the start of the next response, which no record would
// hold; the refused write sends nothing, so net/http drops the connection
// and retries the request on a fresh one.
var errStrayBytes = errors.New("wire: connection received bytes no request asked for")

// recorder is the per-request state that travels from RoundTrip to the dialer
// in the request context. It owns the two spools of one exchange.
type recorder struct {
	ctx    context.Context // the exchange's own context (carries Timeout); dials use it
	req    *spool
	resp   *spool
	rawCap int64 // the response spool never grows much past this

	// framed is closed once the exchange knows where its response ended
	// in what its connection delivered (handOver): the next exchange on
	// the connection waits for that before it writes (use).
	framed chan struct{}

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
//
// A kept-alive connection is handed on the moment net/http has read the
// previous response's body to its end; whether more bytes came after that
// message, the previous exchange learns only when it frames its record.
// So use waits for that (handOver), which refuses the connection if there
// were.
func (r *recorder) use(c *recordingConn) {
	c.mu.Lock()
	prev := c.framed
	c.cur, c.asked, c.framed = r, false, r.framed
	c.mu.Unlock()
	r.mu.Lock()
	if old := r.conn; old != nil {
		r.req.reset()
		r.resp.reset()
		r.overCap = false
		if old != c {
			old.leave(r) // the failed attempt's connection records no more into r
		}
	}
	r.conn = c
	r.ip, r.tls, r.certError = c.ip, c.tls, c.certError
	r.mu.Unlock()
	if prev != nil && prev != r.framed {
		select {
		case <-prev:
		case <-r.ctx.Done(): // the request fails anyway
		}
	}
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
		c.leave(r)
	}
	r.io.Lock()
	r.mu.Lock()
	r.sealed = true
	r.mu.Unlock()
	r.io.Unlock()
}

// handOver lets the next exchange have the connection; stray says the
// response was followed by bytes that belong to no message (a server
// sending more than its Content-Length, say), and then the connection is
// refused to every later request and closed.
func (r *recorder) handOver(stray bool) {
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if stray && c != nil {
		c.mu.Lock()
		c.stray = true
		c.mu.Unlock()
		c.Conn.Close()
	}
	close(r.framed)
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

	mu     sync.Mutex
	cur    *recorder     // the exchange using the connection, nil between exchanges
	asked  bool          // cur has begun writing its request
	framed chan struct{} // the last exchange's recorder.framed, nil before the first
	// stray: bytes came that no exchange asked for, or after a message's
	// end; every later Write fails (errStrayBytes).
	stray bool
}

// leave ends r's use of the connection, if it still uses it.
func (c *recordingConn) leave(r *recorder) {
	c.mu.Lock()
	if c.cur == r {
		c.cur = nil
	}
	c.mu.Unlock()
}

// Read records into the exchange current when the bytes arrive, not when
// the read began: net/http waits on an idle connection with a read that the
// next exchange's response completes. Bytes that arrive between exchanges,
// or before the current one began its request, answer nothing: they are
// recorded nowhere, and the connection takes no more requests.
func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		r := c.cur
		if r == nil || !c.asked {
			c.stray, r = true, nil
		}
		c.mu.Unlock()
		if r != nil {
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
	c.mu.Lock()
	if c.stray {
		c.mu.Unlock()
		return 0, errStrayBytes
	}
	r := c.cur
	c.asked = c.asked || r != nil
	c.mu.Unlock()
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

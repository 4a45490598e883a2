package wire

import (
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"time"
)

// Exchange is one HTTP fetch as it crossed the wire.
type Exchange struct {
	URL   string    // the request URL (WARC-Target-URI)
	IP    string    // peer IP actually connected to, without port; "" if no connection was made
	Start time.Time // when the request began, before the dial
	Tag   string    // value of Options.TagHeader on the request, if any

	// Request holds the raw request bytes as written; Response the raw
	// response bytes as read: interim 1xx responses, status line, headers in
	// order and case, chunked framing and content coding as sent, ending where
	// the message ends (or where MaxBody cut it).
	Request  *io.SectionReader
	Response *io.SectionReader

	// Truncated is "" for a complete response, "length" when MaxBody (or the
	// raw size bound) cut the body, "time" when the deadline did, and
	// "disconnect" when the peer closed or reset the connection mid-body or the
	// body framing broke (a bad chunk size).
	Truncated string

	// Err is a fetch error with no usable response: DNS, refused, reset or
	// timeout before the head, TLS, ErrMalformedResponse, ErrHeaderTooLarge,
	// ErrHeaderTimeout. Response is nil then; Request holds what was sent.
	Err error

	TLS       *tls.ConnectionState // nil for plain HTTP
	CertError string               // why the certificate would not verify ("" if it does or no TLS)

	mu     sync.Mutex
	closed bool
	req    *spool
	resp   *spool
}

// Close releases the exchange's spools (memory and temp files). The response
// body handed to RoundTrip's caller keeps its own reference, so closing the
// Exchange early does not break it. Close is idempotent.
func (e *Exchange) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return errors.Join(e.req.release(), e.resp.release())
}

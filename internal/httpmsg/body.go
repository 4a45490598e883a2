package httpmsg

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strings"
)

// Framing is how a response's body is delimited (RFC 9112 §6.3).
type Framing uint8

const (
	NoBody     Framing = iota // HEAD, 1xx, 204, 304
	Length                    // Content-Length bytes
	Chunked                   // the chunked transfer coding
	UntilClose                // everything to the end of the bytes
)

func (f Framing) String() string {
	switch f {
	case NoBody:
		return "no body"
	case Length:
		return "content-length"
	case Chunked:
		return "chunked"
	}
	return "until close"
}

// Framing says how the body after head h is delimited, for a request with
// the given method ("" reads as GET).
func (h *Head) Framing(method string) Framing {
	switch {
	case strings.EqualFold(method, "HEAD") || h.Status >= 100 && h.Status < 200 || h.Status == 204 || h.Status == 304:
		// A status under 100 is not HTTP's, but net/http reads a body for it.
		return NoBody
	case h.te != teNone && (h.Major > 1 || h.Major == 1 && h.Minor >= 1):
		// Transfer-Encoding overrides Content-Length. A coding other than
		// chunked is one net/http refuses: read to the end.
		if h.te == teChunked {
			return Chunked
		}
		return UntilClose
	case h.ContentLength >= 0:
		return Length
	}
	return UntilClose
}

// ErrMalformedChunk: the chunked coding breaks its own rules (a size that is
// not hex, chunk data not followed by CRLF, a bare LF in a chunk line,
// the trailer section not ending in CRLF CRLF). Unlike a body that is only cut short, its payload after that
// point is undefined: readers differ (net/http stops with an error, warcio
// passes the rest through raw).
var ErrMalformedChunk = errors.New("malformed chunked encoding")

// Message is where one response sits in the bytes read, and how its body
// ended.
type Message struct {
	Head    Head
	HeadLen int64 // bytes of every head, interim ones included, through the final empty line
	Framing Framing
	Payload int64 // payload bytes read: the body with the chunked coding removed
	End     int64 // bytes the message takes, from the start: where a record of it ends
	// Complete: the body ended where its framing says (for UntilClose, at
	// the end of the bytes, before MaxBody).
	Complete bool
	// Cut: the payload goes on past maxBody; End is the cut point.
	Cut bool
	// Err is why the body ended early: io.ErrUnexpectedEOF when the bytes
	// end before the framing does, ErrMalformedChunk (wrapped, with the
	// detail) when the chunked coding is broken. End is then the end of the
	// bytes read.
	Err error
}

// Read reads one response from br: its heads, then its body as the framing
// says, writing the payload (chunked coding removed, content coding kept,
// as WARC 1.1 §6.3.2 defines it) to payload, which may be nil. It stops
// after maxBody payload bytes (<= 0: no limit). method is the request's.
//
// An error means no final head could be read (it wraps ErrNotHTTP): the
// message cannot be framed. A body that breaks off or is malformed is not an
// error of Read: Message.Err says so. Nothing proportional to the body is
// held; payload is written from br's buffer.
func Read(br *bufio.Reader, method string, maxBody int64, payload io.Writer) (Message, error) {
	var m Message
	h, n, err := ReadHead(br)
	m.Head, m.HeadLen, m.End = h, n, n
	if err != nil {
		return m, err
	}
	if maxBody <= 0 {
		maxBody = math.MaxInt64
	}
	if payload == nil {
		payload = io.Discard
	}
	m.Framing = h.Framing(method)
	switch m.Framing {
	case NoBody:
		m.Complete = true
	case Length:
		want := min(h.ContentLength, maxBody)
		got, err := copyN(payload, br, want)
		m.Payload, m.End = got, m.HeadLen+got
		switch {
		case err != nil:
			m.Err = err
		case h.ContentLength > want:
			m.Cut = true
		default:
			m.Complete = true
		}
	case UntilClose:
		got, err := copyN(payload, br, maxBody)
		m.Payload, m.End = got, m.HeadLen+got
		var we *writeError
		switch {
		case errors.As(err, &we):
			m.Err = err
		case err == nil && got == maxBody && peekable(br):
			m.Cut = true
		default:
			m.Complete = true // the end of the bytes is the end of the body
		}
	case Chunked:
		cr := &chunkedReader{br: br}
		got, err := cr.copy(payload, maxBody)
		m.Payload, m.End = got, m.HeadLen+cr.raw
		if err == nil && got == maxBody {
			more, merr := cr.more()
			m.End = m.HeadLen + cr.raw
			if merr != nil {
				err = merr
			} else if more {
				m.Cut = true
				break
			}
		}
		if err != nil {
			m.Err = err
			break
		}
		m.Complete = true
	}
	var we *writeError
	if errors.As(m.Err, &we) {
		return m, we
	}
	return m, nil
}

// writeError is a failure of the payload writer, which Read returns as its
// own error: it says nothing about the message.
type writeError struct{ err error }

func (e *writeError) Error() string { return "httpmsg: write payload: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func peekable(br *bufio.Reader) bool {
	_, err := br.Peek(1)
	return err == nil
}

// copyN copies n bytes from br to w out of br's own buffer; fewer bytes
// left is io.ErrUnexpectedEOF.
func copyN(w io.Writer, br *bufio.Reader, n int64) (int64, error) {
	var done int64
	for done < n {
		b, err := peekSome(br, n-done)
		if len(b) > 0 {
			if _, err := w.Write(b); err != nil {
				return done, &writeError{err}
			}
			br.Discard(len(b))
			done += int64(len(b))
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
	}
	return done, nil
}

// peekSome returns up to n buffered bytes, filling the buffer when it is
// empty.
func peekSome(br *bufio.Reader, n int64) ([]byte, error) {
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return nil, err
		}
	}
	b, _ := br.Peek(int(min(n, int64(br.Buffered()))))
	return b, nil
}

package httpmsg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// maxChunkLine bounds a chunk-size line, as net/http does.
const maxChunkLine = 4096

// chunkedReader removes the chunked coding from a body, by net/http's rules
// (net/http/internal/chunked.go), and counts the raw bytes it consumed, so
// that a caller knows where the message ends or was cut.
type chunkedReader struct {
	br       *bufio.Reader
	n        uint64 // unread bytes of the current chunk
	checkEnd bool   // the CRLF after a chunk's data is next
	done     bool   // the last chunk and the trailer section were read
	raw      int64  // bytes consumed from br
}

// copy writes up to limit payload bytes to w. It returns nil at the end of
// the body, or with limit bytes written (more tells whether the payload goes
// on); io.ErrUnexpectedEOF when the bytes end first; ErrMalformedChunk.
func (cr *chunkedReader) copy(w io.Writer, limit int64) (int64, error) {
	var done int64
	for done < limit {
		if cr.n == 0 {
			if err := cr.next(); err != nil {
				return done, err
			}
			if cr.done {
				return done, nil
			}
		}
		b, err := peekSome(cr.br, int64(min(cr.n, uint64(limit-done))))
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
		if _, err := w.Write(b); err != nil {
			return done, &writeError{err}
		}
		cr.br.Discard(len(b))
		cr.raw += int64(len(b))
		cr.n -= uint64(len(b))
		done += int64(len(b))
		if cr.n == 0 {
			cr.checkEnd = true
		}
	}
	return done, nil
}

// more reads on to the next payload byte, without consuming it, and tells
// whether there is one (false at the end of the body).
func (cr *chunkedReader) more() (bool, error) {
	if cr.n == 0 {
		if err := cr.next(); err != nil {
			return false, err
		}
	}
	return !cr.done, nil
}

// next reads the end of the current chunk and the next chunk-size line;
// after the last chunk, the trailer section.
func (cr *chunkedReader) next() error {
	if cr.done {
		return nil
	}
	if cr.checkEnd {
		b, _ := cr.br.Peek(2)
		switch {
		case len(b) >= 1 && b[0] != '\r', len(b) == 2 && b[1] != '\n':
			return fmt.Errorf("%w: chunk data not followed by CRLF", ErrMalformedChunk)
		case len(b) < 2:
			return io.ErrUnexpectedEOF
		}
		cr.br.Discard(2)
		cr.raw += 2
		cr.checkEnd = false
	}
	line, err := cr.line()
	if err != nil {
		return err
	}
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
		line = line[:len(line)-1]
	}
	line, _, _ = bytes.Cut(line, []byte(";")) // chunk extensions mean nothing to us
	n, err := parseHex(line)
	if err != nil {
		return err
	}
	cr.n = n
	if n > 0 {
		return nil
	}
	// The last chunk: the trailer section, lines up to an empty line. Like
	// net/http, the section must end in CRLF CRLF (a lone CRLF without
	// trailers). Its field lines are not payload, and are read as leniently
	// as header lines.
	budget := int64(MaxHeadBytes)
	crlf := true // the line before ended in CRLF
	for {
		line, raw, err := bufLines{cr.br}.line(budget)
		cr.raw += raw
		budget -= raw
		switch {
		case err == ErrIncomplete:
			return io.ErrUnexpectedEOF
		case err != nil:
			return fmt.Errorf("%w: trailer: %w", ErrMalformedChunk, err)
		case len(line) == 0:
			if !crlf || raw != 2 {
				return fmt.Errorf("%w: trailer section does not end in CRLF CRLF", ErrMalformedChunk)
			}
			cr.done = true
			return nil
		}
		crlf = raw-int64(len(line)) == 2
	}
}

// line reads one chunk-size line, which must end in CRLF with no CR before.
func (cr *chunkedReader) line() ([]byte, error) {
	p, err := cr.br.ReadSlice('\n')
	cr.raw += int64(len(p))
	switch {
	case err == bufio.ErrBufferFull || len(p) > maxChunkLine+1:
		return nil, fmt.Errorf("%w: chunk-size line too long", ErrMalformedChunk)
	case err != nil:
		return nil, io.ErrUnexpectedEOF
	}
	if i := bytes.IndexByte(p, '\r'); i == -1 {
		return nil, fmt.Errorf("%w: chunk-size line ends with a bare LF", ErrMalformedChunk)
	} else if i != len(p)-2 {
		return nil, fmt.Errorf("%w: CR inside a chunk-size line", ErrMalformedChunk)
	}
	return p[:len(p)-2], nil
}

// parseHex reads a chunk size: 1 to 16 hex digits.
func parseHex(v []byte) (uint64, error) {
	if len(v) == 0 || len(v) > 16 {
		return 0, fmt.Errorf("%w: chunk size %q", ErrMalformedChunk, truncate(v, 40))
	}
	var n uint64
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, fmt.Errorf("%w: chunk size %q", ErrMalformedChunk, truncate(v, 40))
		}
		n = n<<4 | uint64(c)
	}
	return n, nil
}

package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// frame is where an HTTP/1.x response message sits inside the raw bytes read
// from a connection. The tee may have read past the end of the message (a
// server that sends more than its Content-Length, or read-ahead after we stopped
// consuming a long body); the record must end where the message does, or the
// payload digest would depend on timing.
type frame struct {
	HeadEnd  int64 // offset just past the final response head's blank line; 0 if the head is incomplete
	End      int64 // where the record ends
	Complete bool  // the body ended where its framing says (false for close-delimited: only EOF tells)
	Cut      bool  // End is the MaxBody point inside a longer body
	Err      error
}

var errIncompleteHead = errors.New("incomplete response head")

const maxFrameLine = 1 << 20 // longer lines are not HTTP

// scanFrame finds the message in the first size bytes of r, for a request with
// the given method, cutting the body after maxBody payload bytes. It accepts
// what net/http accepts (LF-only line ends, 1xx interim responses) and never
// fails on garbage: Err says what was wrong and End falls back to size.
func scanFrame(r io.ReaderAt, size int64, method string, maxBody int64) frame {
	cr := &countingReader{r: io.NewSectionReader(r, 0, size)}
	br := bufio.NewReaderSize(cr, int(min(size+1, 32<<10)))
	pos := func() int64 { return cr.n - int64(br.Buffered()) }
	f := frame{End: size}

	var status int
	var contentLength int64 = -1
	var chunked, http10 bool
	for {
		line, err := readLine(br)
		if err != nil {
			f.Err = errIncompleteHead
			return f
		}
		status, http10, err = parseStatusLine(line)
		if err != nil {
			f.Err = err
			return f
		}
		contentLength, chunked = -1, false
		for {
			line, err := readLine(br)
			if err != nil {
				f.Err = errIncompleteHead
				return f
			}
			if len(line) == 0 {
				break
			}
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				continue // net/http rejects these; the head check in RoundTrip already failed
			}
			v := strings.TrimSpace(string(value))
			switch strings.ToLower(string(bytes.TrimSpace(name))) {
			case "content-length":
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && contentLength < 0 {
					contentLength = n
				}
			case "transfer-encoding":
				codings := strings.Split(v, ",")
				chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
			}
		}
		// 1xx interim responses (100 Continue, 103 Early Hints) precede the real
		// one; 101 switches protocols and ends HTTP on this connection.
		if status >= 100 && status < 200 && status != 101 {
			continue
		}
		break
	}
	f.HeadEnd = pos()
	if http10 {
		// Transfer-Encoding is HTTP/1.1's: net/http (and browsers) ignore it
		// in an older message and read the body by its length or to the close.
		chunked = false
	}

	switch {
	case method == "HEAD" || status < 200 || status == 204 || status == 304:
		f.End, f.Complete = f.HeadEnd, true
	case chunked:
		scanChunked(br, pos, maxBody, &f)
	case contentLength >= 0:
		body := contentLength
		if body > maxBody {
			body, f.Cut = maxBody, true
		}
		if avail := size - f.HeadEnd; avail < body {
			f.End = size
		} else {
			f.End, f.Complete = f.HeadEnd+body, !f.Cut
		}
	default: // close-delimited: everything until the peer closes
		if size-f.HeadEnd > maxBody {
			f.End, f.Cut = f.HeadEnd+maxBody, true
		}
	}
	return f
}

func scanChunked(br *bufio.Reader, pos func() int64, maxBody int64, f *frame) {
	var payload int64
	for {
		line, err := readLine(br)
		if err != nil {
			return // End stays at size: everything received belongs to the body
		}
		hex, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(hex)), 16, 63)
		if err != nil {
			f.Err = fmt.Errorf("bad chunk size %q", truncate(line, 40))
			return
		}
		size := int64(n)
		if size == 0 {
			for { // trailers, up to the blank line
				line, err := readLine(br)
				if err != nil {
					return
				}
				if len(line) == 0 {
					f.End, f.Complete = pos(), true
					return
				}
			}
		}
		if size > maxBody-payload {
			start := pos()
			if _, err := br.Discard(int(maxBody - payload)); err != nil {
				return
			}
			f.End, f.Cut = start+(maxBody-payload), true
			return
		}
		if _, err := br.Discard(int(size)); err != nil {
			return
		}
		payload += size
		if line, err := readLine(br); err != nil || len(line) != 0 {
			if err == nil {
				f.Err = errors.New("chunk not followed by CRLF")
			}
			return
		}
	}
}

// readLine returns one line without its LF or CRLF. A final line without LF
// is incomplete and returns io.ErrUnexpectedEOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		part, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, part...)
			if len(long) > maxFrameLine {
				return nil, errors.New("line too long")
			}
			continue
		}
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		if long != nil {
			part = append(long, part...)
		}
		part = part[:len(part)-1]
		return bytes.TrimSuffix(part, []byte("\r")), nil
	}
}

// parseStatusLine checks a status line the way net/http does
// ("HTTP/1.1 200 OK", reason optional) and returns the code, and whether the
// version is older than HTTP/1.1.
func parseStatusLine(line []byte) (status int, http10 bool, err error) {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/")) {
		return 0, false, fmt.Errorf("%w: status line %q", ErrMalformedResponse, truncate(line, 60))
	}
	code, _, _ := bytes.Cut(bytes.TrimLeft(rest, " "), []byte(" "))
	n, err := strconv.Atoi(string(code))
	if err != nil || len(code) != 3 || n < 100 {
		return 0, false, fmt.Errorf("%w: status line %q", ErrMalformedResponse, truncate(line, 60))
	}
	v := proto[len("HTTP/"):] // "X.Y"; other spellings net/http refuses anyway
	http10 = len(v) == 3 && v[1] == '.' && (v[0] == '0' || v[0] == '1' && v[2] == '0')
	return n, http10, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strconv"
	"strings"
)

// Limits of the HTTP response parsing used for payload digests. They bound
// the memory one malformed response can take; the body itself is streamed.
const (
	maxHTTPHeaderBytes = 1 << 20 // status line and all header lines of one message
	maxInterim         = 16      // 1xx interim responses before the final one
)

// errNotHTTP says the bytes do not start with an HTTP/1.x response header
// block; such a record gets no payload digest (and is never deduplicated).
var errNotHTTP = errors.New("not an HTTP/1.x response")

// httpResponse is what the writer needs to know about a raw response.
type httpResponse struct {
	Status      int
	ContentType string
	HeaderLen   int64 // bytes from the start through the blank line of the final header block
	PayloadLen  int64 // entity-body bytes that arrived (chunk framing removed)
	Complete    bool  // the body arrived whole (framing ended, or close-delimited)
}

// parseResponse reads one raw HTTP/1.x response from r, as it crossed the
// wire, and writes its payload to payload: the entity body with chunked
// transfer coding removed and content coding kept (WARC 1.1 §6.3.3 and what
// gowarc/IA do). Interim 1xx responses are skipped. A HEAD request or a
// 204/304/1xx status has no body. Without Content-Length or chunking the body
// runs to the end of the bytes. A body cut short still yields what arrived,
// with Complete false. method is the request method ("" = GET).
//
// r should be buffered; parseResponse never holds more than one header line
// (at most maxHTTPHeaderBytes) in memory.
func parseResponse(r *bufio.Reader, method string, payload io.Writer) (httpResponse, error) {
	return parseResponseHead(r, method, payload, false, nil)
}

// parseResponseHead is parseResponse; with headOnly it stops after the
// final header block (Status, ContentType and HeaderLen are set). buf, if
// not nil, is the copy buffer, so that a caller can reuse one.
func parseResponseHead(r *bufio.Reader, method string, payload io.Writer, headOnly bool, buf []byte) (httpResponse, error) {
	var res httpResponse
	var hdr struct {
		contentLength int64
		hasLength     bool
		lengthBad     bool
		chunked       bool
		otherTE       bool
	}
	for interim := 0; ; interim++ {
		if interim > maxInterim {
			return res, fmt.Errorf("%w: more than %d interim responses", errNotHTTP, maxInterim)
		}
		hdr.contentLength, hdr.hasLength, hdr.lengthBad, hdr.chunked, hdr.otherTE = 0, false, false, false, false
		res.ContentType = ""
		budget := int64(maxHTTPHeaderBytes)
		line, err := readLine(r, &budget)
		if err != nil {
			return res, fmt.Errorf("%w: status line: %v", errNotHTTP, err)
		}
		status, err := parseStatusLine(line)
		if err != nil {
			return res, err
		}
		res.Status = status
		for {
			line, err := readLine(r, &budget)
			if err != nil {
				return res, fmt.Errorf("%w: header: %v", errNotHTTP, err)
			}
			if len(line) == 0 {
				break
			}
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				continue // tolerate junk lines, as browsers do
			}
			value = bytes.TrimSpace(value)
			switch strings.ToLower(string(bytes.TrimSpace(name))) {
			case "content-length":
				// Repeated identical values are allowed; anything odd makes the length unknown.
				v, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || v < 0 || (hdr.hasLength && v != hdr.contentLength) {
					hdr.lengthBad = true
					continue
				}
				hdr.hasLength, hdr.contentLength = true, v
			case "transfer-encoding":
				codings := strings.Split(strings.ToLower(string(value)), ",")
				last := strings.TrimSpace(codings[len(codings)-1])
				hdr.chunked = last == "chunked"
				hdr.otherTE = last != "chunked"
			case "content-type":
				if res.ContentType == "" {
					res.ContentType = string(value)
				}
			}
		}
		res.HeaderLen += maxHTTPHeaderBytes - budget // readLine charged every raw byte of the block
		// 101 switches protocols: what follows is not HTTP, and not a payload.
		if status >= 100 && status < 200 && status != 101 {
			continue
		}
		break
	}

	if headOnly {
		return res, nil
	}
	status := res.Status
	if strings.EqualFold(method, "HEAD") || status < 200 || status == 204 || status == 304 {
		res.Complete = true
		return res, nil
	}
	body := io.Reader(r) // close-delimited: the body runs to the end of the bytes
	want := int64(-1)    // the payload length the framing promises, if it does
	switch {
	case hdr.chunked:
		// RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
		body = httputil.NewChunkedReader(r)
	case hdr.hasLength && !hdr.lengthBad && !hdr.otherTE:
		// A bad length is unusable framing, and another transfer coding makes
		// the length not the body's: both read to the end, as a client would on close.
		body, want = io.LimitReader(r, hdr.contentLength), hdr.contentLength
	}
	if buf == nil {
		buf = make([]byte, 32<<10)
	}
	n, err := io.CopyBuffer(payload, body, buf)
	res.PayloadLen = n
	// An error is chunk framing that broke off or went bad: the digest keeps
	// what was decoded, and the response is not complete.
	res.Complete = err == nil && (want < 0 || n == want)
	return res, nil
}

// parseStatusLine accepts "HTTP/1.x SSS reason" and returns the status code.
func parseStatusLine(line []byte) (int, error) {
	rest, ok := bytes.CutPrefix(line, []byte("HTTP/1."))
	if !ok || len(rest) < 5 || rest[1] != ' ' {
		return 0, fmt.Errorf("%w: status line %q", errNotHTTP, truncateForError(line))
	}
	code := rest[2:5]
	if len(rest) > 5 && rest[5] != ' ' {
		return 0, fmt.Errorf("%w: status line %q", errNotHTTP, truncateForError(line))
	}
	status, err := strconv.Atoi(string(code))
	if err != nil || status < 100 || status > 999 {
		return 0, fmt.Errorf("%w: status line %q", errNotHTTP, truncateForError(line))
	}
	return status, nil
}

// requestMethod returns the method of a raw HTTP request ("" if unreadable).
func requestMethod(r io.ReaderAt) string {
	var buf [32]byte
	n, _ := r.ReadAt(buf[:], 0)
	m, _, ok := bytes.Cut(buf[:n], []byte(" "))
	if !ok || len(m) == 0 {
		return ""
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return ""
		}
	}
	return string(m)
}

func truncateForError(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

package httpmsg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of head reading. They bound what one hostile response can make a
// reader hold; a body is streamed.
const (
	MaxHeadBytes = 1 << 20 // status line and header lines of one head
	MaxInterim   = 16      // interim 1xx heads before the final one
)

// Errors of head reading. Every one of them is also ErrNotHTTP: the bytes do
// not start with a complete HTTP/1.x response head, so nothing after it can
// be framed.
var (
	ErrNotHTTP      = errors.New("not an HTTP/1.x response")
	ErrIncomplete   = errors.New("incomplete response head") // the bytes end inside a head
	ErrHeadTooLarge = errors.New("response head too large")  // over MaxHeadBytes, or MaxInterim heads
)

// Head is what the readers of a response need from its head.
type Head struct {
	Proto        string // "HTTP/1.1"; "" when no status line was read
	Len          int64  // bytes of this head, from its status line through its empty line
	Major, Minor int
	Status       int
	ContentType  string // the first Content-Type field's value
	Location     string // the first Location field's value

	// ContentLength is -1 when there is none, or it is unusable (not a
	// number, or values that disagree).
	ContentLength int64
	// te is the last coding of the last Transfer-Encoding field: teNone,
	// teChunked or teOther.
	te teCoding
}

type teCoding uint8

const (
	teNone teCoding = iota
	teChunked
	teOther
)

// Interim tells whether h is an interim head that another follows.
func (h *Head) Interim() bool { return interim(h.Status) }

// interim tells whether a status is that of an interim head: a 1xx other
// than 101 Switching Protocols, which is final.
func interim(status int) bool { return status >= 100 && status < 200 && status != 101 }

// ReadHead reads the final head of a response from br, skipping interim 1xx
// heads. n is the number of bytes read, every head included, through the
// final head's empty line. On an error, Head holds what was read of the
// head being read (its Proto is "" when its status line was not read).
func ReadHead(br *bufio.Reader) (h Head, n int64, err error) {
	return readHead(bufLines{br})
}

// ParseHead is ReadHead on bytes in memory; it allocates only the
// ContentType and Location strings.
func ParseHead(b []byte) (h Head, n int64, err error) {
	return readHead(&byteLines{b: b})
}

// lineSource gives a head reader its lines. A line comes without its LF or
// CRLF; raw counts every byte consumed. At the end of the bytes without an
// LF it returns ErrIncomplete; a line over budget bytes, ErrHeadTooLarge.
type lineSource interface {
	line(budget int64) (line []byte, raw int64, err error)
}

func readHead(src lineSource) (Head, int64, error) {
	var total int64
	for interim := 0; ; interim++ {
		if interim > MaxInterim {
			return Head{}, total, fmt.Errorf("%w: %w: more than %d interim heads", ErrNotHTTP, ErrHeadTooLarge, MaxInterim)
		}
		h, n, err := readOneHead(src)
		total += n
		if err != nil || !h.Interim() {
			return h, total, err
		}
	}
}

func readOneHead(src lineSource) (Head, int64, error) {
	h := Head{ContentLength: -1}
	budget := int64(MaxHeadBytes)
	line, raw, err := src.line(budget)
	budget -= raw
	if err != nil {
		return h, raw, fmt.Errorf("%w: status line: %w", ErrNotHTTP, err)
	}
	if err := h.parseStatusLine(line); err != nil {
		return h, raw, err
	}
	total := raw
	lengthBad := false
	for {
		line, raw, err := src.line(budget)
		budget -= raw
		total += raw
		if err != nil {
			return h, total, fmt.Errorf("%w: header: %w", ErrNotHTTP, err)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue // net/http refuses such a line; browsers skip it
		}
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			// Repeated identical values are allowed; anything odd makes the
			// length unknown.
			v, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || !allDigits(value) || (h.ContentLength >= 0 && v != h.ContentLength) {
				lengthBad = true
				continue
			}
			h.ContentLength = v
		case asciiEqualFold(name, "transfer-encoding"):
			last := value
			if i := bytes.LastIndexByte(value, ','); i >= 0 {
				last = value[i+1:]
			}
			h.te = teOther
			if asciiEqualFold(bytes.TrimSpace(last), "chunked") {
				h.te = teChunked
			}
		case asciiEqualFold(name, "content-type") && h.ContentType == "":
			h.ContentType = string(value)
		case asciiEqualFold(name, "location") && h.Location == "":
			h.Location = string(value)
		}
	}
	if lengthBad {
		h.ContentLength = -1
	}
	h.Len = total
	return h, total, nil
}

// parseStatusLine reads "HTTP/X.Y SSS reason" as net/http's ReadResponse
// does: the code is the first word after the version, exactly three digits.
func (h *Head) parseStatusLine(line []byte) error {
	bad := func() error { return fmt.Errorf("%w: status line %q", ErrNotHTTP, truncate(line, 64)) }
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(proto) != len("HTTP/X.Y") || !bytes.HasPrefix(proto, []byte("HTTP/")) || proto[6] != '.' ||
		!isDigit(proto[5]) || !isDigit(proto[7]) {
		return bad()
	}
	code, _, _ := bytes.Cut(bytes.TrimLeft(rest, " "), []byte(" "))
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return bad()
	}
	h.Proto = string(proto)
	h.Major, h.Minor = int(proto[5]-'0'), int(proto[7]-'0')
	h.Status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	return nil
}

// allDigits: net/http takes no sign in a Content-Length.
func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// bufLines reads lines from a bufio.Reader without holding more than one.
type bufLines struct{ br *bufio.Reader }

func (s bufLines) line(budget int64) ([]byte, int64, error) {
	var long []byte
	for {
		part, err := s.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, part...)
			if int64(len(long)) > budget {
				return nil, int64(len(long)), ErrHeadTooLarge
			}
			continue
		}
		raw := int64(len(long) + len(part))
		if raw > budget {
			return nil, raw, ErrHeadTooLarge
		}
		if err != nil {
			if err == io.EOF {
				err = ErrIncomplete
			}
			return nil, raw, err
		}
		if long != nil {
			part = append(long, part...)
		}
		return trimEOL(part), raw, nil
	}
}

// byteLines reads lines from bytes in memory.
type byteLines struct{ b []byte }

func (s *byteLines) line(budget int64) ([]byte, int64, error) {
	i := bytes.IndexByte(s.b, '\n')
	if i < 0 {
		raw := int64(len(s.b))
		s.b = nil
		if raw > budget {
			return nil, raw, ErrHeadTooLarge
		}
		return nil, raw, ErrIncomplete
	}
	line := s.b[:i+1]
	s.b = s.b[i+1:]
	if int64(len(line)) > budget {
		return nil, int64(len(line)), ErrHeadTooLarge
	}
	return trimEOL(line), int64(len(line)), nil
}

// trimEOL drops a line's LF and the CR before it, if any.
func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

package httpmsg

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

const (
	resp200 = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n\r\nhello world"
	chunked = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
)

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func read(raw, method string, maxBody int64) (Message, string, error) {
	var payload bytes.Buffer
	m, err := Read(bufio.NewReader(strings.NewReader(raw)), method, maxBody, &payload)
	return m, payload.String(), err
}

// TestReadPayload: the payload of a response as WARC 1.1 defines it (came
// from warc's parseResponse tests).
func TestReadPayload(t *testing.T) {
	gz := gzipped("hello world")
	cases := []struct {
		name, method, raw string
		status            int
		payload           string
		complete          bool
		headerLen         int // -1: up to the first blank line
		notHTTP           bool
	}{
		{name: "content-length", raw: resp200, status: 200, payload: "hello world", complete: true, headerLen: -1},
		{name: "chunked with extension and trailer", raw: chunked, status: 200, payload: "hello world", complete: true, headerLen: -1},
		{name: "gzip kept", raw: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + gz,
			status: 200, payload: gz, complete: true, headerLen: -1},
		{name: "chunked gzip", raw: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\n" + gz[:5] + "\r\n" + strconv.FormatInt(int64(len(gz)-5), 16) + "\r\n" + gz[5:] + "\r\n0\r\n\r\n",
			status: 200, payload: gz, complete: true, headerLen: -1},
		{name: "close-delimited", raw: "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", status: 200, payload: "until the end", complete: true, headerLen: -1},
		{name: "204 ignores bytes after", raw: "HTTP/1.1 204 No Content\r\n\r\nstray", status: 204, complete: true, headerLen: -1},
		{name: "304", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", status: 304, complete: true, headerLen: -1},
		{name: "HEAD", method: "HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", status: 200, complete: true, headerLen: -1},
		{name: "redirect", raw: "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc", status: 302, payload: "abc", complete: true, headerLen: -1},
		{name: "cut mid body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", status: 200, payload: "only this", complete: false, headerLen: -1},
		{name: "cut mid chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly", status: 200, payload: "only", complete: false, headerLen: -1},
		{name: "chunked without last chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nonly\r\n", status: 200, payload: "only", complete: false, headerLen: -1},
		{name: "TE overrides CL", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status: 200, payload: "abc", complete: true, headerLen: -1},
		{name: "conflicting lengths read to end", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabcd", status: 200, payload: "abcd", complete: true, headerLen: -1},
		{name: "bare LF lines", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nab", status: 200, payload: "ab", complete: true, headerLen: -1},
		{name: "100 continue first", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", status: 200, payload: "ab", complete: true,
			headerLen: len("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")},
		{name: "not HTTP", raw: "SSH-2.0-OpenSSH\r\n", notHTTP: true},
		{name: "empty", raw: "", notHTTP: true},
		{name: "headers never end", raw: "HTTP/1.1 200 OK\r\nX: y\r\n", notHTTP: true},

		// The drift issue 13 found: Transfer-Encoding means nothing in an
		// HTTP/1.0 response; net/http reads its raw bytes as the body.
		{name: "HTTP/1.0 chunked is raw", raw: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			status: 200, payload: "2\r\nok\r\n0\r\n\r\n", complete: true, headerLen: -1},
		{name: "HTTP/1.0 chunked with length", raw: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\nok",
			status: 200, payload: "2\r\n", complete: true, headerLen: -1},
		{name: "signed length reads to end", raw: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nabc",
			status: 200, payload: "abc", complete: true, headerLen: -1},
		{name: "other coding reads to end", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc",
			status: 200, payload: "abc", complete: true, headerLen: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, payload, err := read(c.raw, c.method, 0)
			if c.notHTTP {
				if !errors.Is(err, ErrNotHTTP) {
					t.Fatalf("err %v, want ErrNotHTTP", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Head.Status != c.status || payload != c.payload || m.Complete != c.complete || m.Payload != int64(len(c.payload)) {
				t.Errorf("got status %d payload %q complete %v len %d", m.Head.Status, payload, m.Complete, m.Payload)
			}
			hl := c.headerLen
			if hl < 0 {
				hl = strings.Index(c.raw, "\r\n\r\n") + 4
				if strings.Index(c.raw, "\r\n\r\n") < 0 {
					hl = strings.Index(c.raw, "\n\n") + 2
				}
			}
			if m.HeadLen != int64(hl) {
				t.Errorf("header length %d, want %d", m.HeadLen, hl)
			}
		})
	}
}

// TestMalformedChunked: every way a chunked body can break. A malformed
// coding is ErrMalformedChunk, a body cut short io.ErrUnexpectedEOF; the
// payload is what was decoded before, and the message is not complete.
func TestMalformedChunked(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	cases := []struct {
		name, body string
		payload    string
		malformed  bool // else cut short
	}{
		{"bad hex size", "zz\r\nabc\r\n0\r\n\r\n", "", true},
		{"bad hex after a chunk", "2\r\nok\r\nzz\r\nabc\r\n0\r\n\r\n", "ok", true},
		{"hex with 0x", "0x2\r\nok\r\n0\r\n\r\n", "", true},
		{"signed size", "+2\r\nok\r\n0\r\n\r\n", "", true},
		{"leading space", " 2\r\nok\r\n0\r\n\r\n", "", true},
		{"empty size line", "\r\nok\r\n0\r\n\r\n", "", true},
		{"size over 16 digits", "00000000000000002\r\nok\r\n0\r\n\r\n", "", true},
		{"bare LF size line", "2\nok\r\n0\r\n\r\n", "", true},
		{"CR inside size line", "2\r3\r\nok\r\n0\r\n\r\n", "", true},
		{"size line too long", "2;" + strings.Repeat("x", maxChunkLine) + "\r\nok\r\n0\r\n\r\n", "", true},
		{"data not followed by CRLF", "2\r\nokX\r\n0\r\n\r\n", "ok", true},
		{"data followed by LF only", "2\r\nok\n0\r\n\r\n", "ok", true},
		{"data followed by CR and junk", "2\r\nok\rX0\r\n\r\n", "ok", true},
		{"chunk longer than said", "2\r\nokay\r\n0\r\n\r\n", "ok", true},
		{"trailer section ends in LF", "2\r\nok\r\n0\r\nX: y\n\r\n", "ok", true},
		{"empty trailer section LF", "2\r\nok\r\n0\r\n\n", "ok", true},
		{"bare LF last-chunk line", "2\r\nok\r\n0\n\r\n", "ok", true},

		{"cut in size line", "2\r\nok\r\n1", "ok", false},
		{"cut after size line", "5\r\n", "", false},
		{"cut in data", "5\r\nhel", "hel", false},
		{"cut before CRLF", "2\r\nok", "ok", false},
		{"cut between CR and LF", "2\r\nok\r", "ok", false},
		{"cut before last chunk", "2\r\nok\r\n", "ok", false},
		{"cut in trailers", "2\r\nok\r\n0\r\nX: y\r\n", "ok", false},
		{"no empty line after last chunk", "2\r\nok\r\n0\r\n", "ok", false},
		{"huge size cut", "ffffffffffffffff\r\nabc", "abc", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, payload, err := read(head+c.body, "GET", 0)
			if err != nil {
				t.Fatal(err)
			}
			if payload != c.payload || m.Payload != int64(len(c.payload)) || m.Complete || m.Cut {
				t.Errorf("payload %q (%d) complete %v cut %v; want %q, incomplete", payload, m.Payload, m.Complete, m.Cut, c.payload)
			}
			if c.malformed != errors.Is(m.Err, ErrMalformedChunk) || !c.malformed && m.Err != io.ErrUnexpectedEOF {
				t.Errorf("err %v; malformed %v", m.Err, c.malformed)
			}
		})
	}
}

// TestReadFraming: where the message ends, and the MaxBody cut, for each
// framing (wire's record of a response ends at End).
func TestReadFraming(t *testing.T) {
	cases := []struct {
		name, raw string
		method    string
		maxBody   int64
		framing   Framing
		end       int // -1: len(raw)
		complete  bool
		cut       bool
	}{
		{"fixed", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "GET", 100, Length, 40, true, false},
		{"fixed-cut", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", "GET", 4, Length, 43, false, true},
		{"fixed-exact", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n0123", "GET", 4, Length, -1, true, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 100, Chunked, 59, true, false},
		{"chunked-trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: v\r\n\r\nEXTRA", "GET", 100, Chunked, 65, true, false},
		{"chunked-cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\nabc\r\n0\r\n\r\n", "GET", 3, Chunked, 58, false, true},
		{"chunked-cut-at-chunk-end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\nabc\r\n0\r\n\r\n", "GET", 2, Chunked, 57, false, true},
		{"chunked-exact", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 2, Chunked, 59, true, false},
		{"http10-chunked", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 100, UntilClose, -1, true, false},
		{"http09-chunked", "HTTP/0.9 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET", 100, UntilClose, -1, true, false},
		{"http20-chunked", "HTTP/2.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 100, Chunked, 59, true, false},
		{"close-delimited", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 100, UntilClose, -1, true, false},
		{"close-delimited-cut", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 3, UntilClose, 22, false, true},
		{"close-delimited-exact", "HTTP/1.0 200 OK\r\n\r\nall", "GET", 3, UntilClose, -1, true, false},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", 100, NoBody, -1, true, false},
		{"head-lowercase", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "head", 100, NoBody, -1, true, false},
		{"204", "HTTP/1.1 204 No Content\r\n\r\nEXTRA", "GET", 100, NoBody, 27, true, false},
		{"101", "HTTP/1.1 101 Switching Protocols\r\n\r\nraw", "GET", 100, NoBody, 36, true, false},
		{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", 100, Length, -1, true, false},
		{"status-multiple-spaces", "HTTP/1.1   200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", 100, Length, -1, true, false},
		{"status-000", "HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok", "GET", 100, Length, -1, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := read(tc.raw, tc.method, tc.maxBody)
			if err != nil {
				t.Fatal(err)
			}
			end := tc.end
			if end < 0 {
				end = len(tc.raw)
			}
			if m.Framing != tc.framing || m.End != int64(end) || m.Complete != tc.complete || m.Cut != tc.cut {
				t.Errorf("%v End %d Complete %v Cut %v; want %v %d %v %v (err %v)", m.Framing, m.End, m.Complete, m.Cut, tc.framing, end, tc.complete, tc.cut, m.Err)
			}
		})
	}
}

func TestHead(t *testing.T) {
	cases := []struct {
		name, raw       string
		status          int
		ctype, location string
		n               int // -1: len(raw)
		err             error
	}{
		{"plain", "HTTP/1.1 301 Moved\r\nLocation: /a\r\nLocation: /b\r\nContent-Type: text/html\r\n\r\nbody", 301, "text/html", "/a", -1 - 4, nil},
		{"case and spaces", "HTTP/1.1 200 OK\r\ncontent-TYPE:  text/plain \r\n\r\n", 200, "text/plain", "", -1, nil},
		{"reason optional", "HTTP/1.1 200\r\n\r\n", 200, "", "", -1, nil},
		{"junk line skipped", "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Type: a/b\r\n\r\n", 200, "a/b", "", -1, nil},
		{"incomplete", "HTTP/1.1 200 OK\r\nContent-Le", 200, "", "", -1, ErrIncomplete},
		{"status line only", "HTTP/1.1 200 OK", 0, "", "", -1, ErrIncomplete},
		{"version", "HTTP/1 200 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"version letters", "HTTP/a.b 200 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"ICY", "ICY 200 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"two-digit code", "HTTP/1.1 20 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"four-digit code", "HTTP/1.1 2000 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"code glued to reason", "HTTP/1.1 200OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"signed code", "HTTP/1.1 +20 OK\r\n\r\n", 0, "", "", -1, ErrNotHTTP},
		{"too many interim", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", MaxInterim+1) + "HTTP/1.1 200 OK\r\n\r\n", 0, "", "", -1, ErrHeadTooLarge},
		{"head too large", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("x", MaxHeadBytes) + "\r\n\r\n", 200, "", "", -1, ErrHeadTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, how := range []string{"bufio", "bytes"} {
				var (
					h   Head
					n   int64
					err error
				)
				if how == "bufio" {
					h, n, err = ReadHead(bufio.NewReader(strings.NewReader(c.raw)))
				} else {
					h, n, err = ParseHead([]byte(c.raw))
				}
				if c.err == nil && err != nil || c.err != nil && (!errors.Is(err, c.err) || !errors.Is(err, ErrNotHTTP)) {
					t.Fatalf("%s: err %v, want %v", how, err, c.err)
				}
				if h.Status != c.status || h.ContentType != c.ctype || h.Location != c.location {
					t.Errorf("%s: head %+v", how, h)
				}
				want := c.n
				switch {
				case c.err != nil:
					continue
				case want == -1:
					want = len(c.raw)
				case want < -1:
					want = len(c.raw) + want + 1
				}
				if n != int64(want) {
					t.Errorf("%s: head length %d, want %d", how, n, want)
				}
			}
		})
	}
}

// TestInterimHeads: the final head after interim ones (came from the
// index's skipInterim tests): n is where the final head's body starts, and
// the final head is the one read.
func TestInterimHeads(t *testing.T) {
	final := "HTTP/1.1 200 OK\r\n\r\nbody"
	for _, c := range []struct {
		in     string
		status int
		body   string // what follows the final head
		err    error
	}{
		{final, 200, "body", nil},
		{"HTTP/1.1 100 Continue\r\n\r\n" + final, 200, "body", nil},
		{"HTTP/1.1 103 Hints\nLink: <x>\n\n" + final, 200, "body", nil},
		{"HTTP/1.1 101 Switching Protocols\r\n\r\nraw bytes", 101, "raw bytes", nil},
		{"HTTP/1.1 100 Continue\r\n", 100, "", ErrIncomplete}, // cut off: nothing to skip to
		{"not http", 0, "", ErrNotHTTP},
	} {
		h, n, err := ParseHead([]byte(c.in))
		if h.Status != c.status || !errors.Is(err, c.err) && !(c.err == nil && err == nil) {
			t.Errorf("ParseHead(%q) = status %d, %v; want %d, %v", c.in, h.Status, err, c.status, c.err)
			continue
		}
		if err == nil && c.in[n:] != c.body {
			t.Errorf("ParseHead(%q): body %q, want %q", c.in, c.in[n:], c.body)
		}
		if err == nil && !strings.HasPrefix(c.in[n-h.Len:], c.in[len(c.in)-len(final):len(c.in)-len("body")]) && c.status == 200 {
			t.Errorf("ParseHead(%q): final head at %d", c.in, n-h.Len)
		}
	}
}

// TestReadPayloadWriterError: a failing payload writer is Read's error.
func TestReadPayloadWriterError(t *testing.T) {
	for _, raw := range []string{resp200, chunked, "HTTP/1.0 200 OK\r\n\r\nx"} {
		_, err := Read(bufio.NewReader(strings.NewReader(raw)), "GET", 0, failWriter{})
		if !errors.Is(err, errFail) {
			t.Errorf("%q: err %v, want the writer's", raw, err)
		}
	}
}

var errFail = errors.New("fail")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

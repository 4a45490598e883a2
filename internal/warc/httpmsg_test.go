package warc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func TestParseResponse(t *testing.T) {
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
		{name: "gzip kept", raw: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + itoa(int64(len(gz))) + "\r\n\r\n" + gz,
			status: 200, payload: gz, complete: true, headerLen: -1},
		{name: "chunked gzip", raw: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\n" + gz[:5] + "\r\n" + strings.ToLower(itoaHex(len(gz)-5)) + "\r\n" + gz[5:] + "\r\n0\r\n\r\n",
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var payload bytes.Buffer
			res, err := parseResponse(bufioReader(c.raw), c.method, &payload)
			if c.notHTTP {
				if !errors.Is(err, errNotHTTP) {
					t.Fatalf("err %v, want errNotHTTP", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.status || payload.String() != c.payload || res.Complete != c.complete || res.PayloadLen != int64(len(c.payload)) {
				t.Errorf("got status %d payload %q complete %v len %d", res.Status, payload.String(), res.Complete, res.PayloadLen)
			}
			hl := c.headerLen
			if hl < 0 {
				hl = strings.Index(c.raw, "\r\n\r\n") + 4
				if strings.Index(c.raw, "\r\n\r\n") < 0 {
					hl = strings.Index(c.raw, "\n\n") + 2
				}
			}
			if res.HeaderLen != int64(hl) {
				t.Errorf("header length %d, want %d", res.HeaderLen, hl)
			}
		})
	}
}

func itoaHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%16]}, b...)
		n /= 16
	}
	return string(b)
}

// FuzzParseResponse: any bytes give a result or errNotHTTP, never a panic,
// and the payload is never longer than the input.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{resp200, chunked, "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", ""} {
		f.Add(s, "GET")
	}
	f.Fuzz(func(t *testing.T, raw, method string) {
		var payload bytes.Buffer
		res, err := parseResponse(bufioReader(raw), method, &payload)
		if err != nil {
			if !errors.Is(err, errNotHTTP) {
				t.Fatalf("error %v is not errNotHTTP", err)
			}
			return
		}
		if int64(payload.Len()) != res.PayloadLen || res.PayloadLen > int64(len(raw)) || res.HeaderLen > int64(len(raw)) {
			t.Fatalf("payload %d/%d header %d of %d input bytes", payload.Len(), res.PayloadLen, res.HeaderLen, len(raw))
		}
	})
}

// FuzzReader: any bytes give records then io.EOF or a FormatError, never a
// panic; locations stay inside the input and increase.
func FuzzReader(f *testing.F) {
	var plain bytes.Buffer
	plain.WriteString("WARC/1.1\r\nWARC-Type: metadata\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n")
	f.Add(plain.Bytes())
	f.Add([]byte(gzipped(plain.String())))
	f.Add([]byte(gzipped(plain.String() + plain.String())))
	f.Add([]byte("WARC/1.0\r\nContent-Length: 99999999999\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\n X: folded\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		last := int64(-1)
		for i := 0; i < 10000; i++ {
			rec, loc, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T %v is not a FormatError", err, err)
				}
				if fe.Offset < 0 || fe.Offset > int64(len(data)) {
					t.Fatalf("error offset %d outside %d bytes", fe.Offset, len(data))
				}
				return
			}
			if loc.Offset < last || loc.Offset+loc.Length > int64(len(data)) {
				t.Fatalf("location %+v after %d in %d bytes", loc, last, len(data))
			}
			last = loc.Offset
			if _, err := io.Copy(io.Discard, rec.Block); err != nil {
				t.Fatal(err)
			}
		}
	})
}

package httpmsg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// seeds gathers the fuzz seeds of the three readers this package replaced
// (wire's FuzzScanFrame, warc's FuzzParseResponse, the index's
// FuzzDecodeRecord), plus the malformed framings of TestMalformedChunked.
func seeds() []string {
	s := []string{
		// wire
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nall of it",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		// warc
		resp200, chunked, "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", "",
		// index
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: http://b.test/new\r\nContent-Length: 5\r\n\r\nmoved",
		// the HTTP/1.0 drift
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	}
	for _, b := range []string{"2\r\nok\r\nzz\r\n", "2\nok\r\n0\r\n\r\n", "2\r\nokX\r\n0\r\n\r\n", "2\r\nok\r\n0\r\nbad\r\n\r\n", "5\r\nhel"} {
		s = append(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+b)
	}
	return s
}

// netHTTPBody reads raw as net/http does for the crawler (interim heads
// skipped), returning the body and the error that ended it.
func netHTTPBody(raw []byte, method string) (body []byte, headErr, bodyErr error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return nil, err, nil
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			continue
		}
		if resp.StatusCode == 101 {
			return nil, nil, nil // net/http hands the connection over; no HTTP body
		}
		body, err = io.ReadAll(resp.Body)
		return body, nil, err
	}
}

// FuzzRead checks the reading against net/http, the client whose reading
// the crawler gets: it never panics and stays inside the input; whenever it
// calls a message complete, net/http reads exactly that message without
// error and finds the same body as in the whole input, and it is the
// payload (but for trailer fields net/http refuses, which we skip as
// header lines are skipped); whenever net/http reads a chunked body without error, it is not
// called malformed.
func FuzzRead(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s), false, int64(1<<20))
	}
	f.Fuzz(func(t *testing.T, raw []byte, head bool, maxBody int64) {
		if maxBody <= 0 {
			maxBody = 1 << 20
		}
		method := "GET"
		if head {
			method = "HEAD"
		}
		var payload bytes.Buffer
		m, err := Read(bufio.NewReader(bytes.NewReader(raw)), method, maxBody, &payload)
		if m.End < 0 || m.End > int64(len(raw)) || m.HeadLen > m.End || m.Payload != int64(payload.Len()) || m.Payload > maxBody {
			t.Fatalf("message %+v outside %d bytes (payload %d)", m, len(raw), payload.Len())
		}
		if err != nil {
			if !errors.Is(err, ErrNotHTTP) {
				t.Fatalf("error %v is not ErrNotHTTP", err)
			}
			return
		}
		whole, headErr, bodyErr := netHTTPBody(raw, method)
		if headErr != nil {
			return // net/http refuses a head we read (a bad header line): not the framing's concern
		}
		if m.Framing == Chunked && bodyErr == nil && errors.Is(m.Err, ErrMalformedChunk) {
			t.Fatalf("net/http reads the chunked body %q, we call it malformed: %v", whole, m.Err)
		}
		if !m.Complete || m.Framing == UntilClose || m.Head.Status == 101 {
			return
		}
		if bodyErr != nil {
			if strings.Contains(bodyErr.Error(), "MIME header") {
				return // net/http refuses a trailer field we skip: trailers are not payload
			}
			t.Fatalf("complete for us, net/http fails: %v", bodyErr)
		}
		cut, _, err := netHTTPBody(raw[:m.End], method)
		if err != nil {
			t.Fatalf("net/http rejects the message cut at %d: %v\n%q", m.End, err, raw[:m.End])
		}
		if !bytes.Equal(whole, cut) || !bytes.Equal(whole, payload.Bytes()) {
			t.Fatalf("body %q in the whole input, %q in the cut message, payload %q", whole, cut, payload.Bytes())
		}
	})
}

// FuzzParseHead: the in-memory and the buffered head readers agree.
func FuzzParseHead(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h1, n1, err1 := ParseHead(raw)
		h2, n2, err2 := ReadHead(bufio.NewReaderSize(bytes.NewReader(raw), 16))
		if h1 != h2 || (err1 == nil) != (err2 == nil) || err1 == nil && n1 != n2 || n1 > int64(len(raw)) {
			t.Fatalf("ParseHead %+v %d %v; ReadHead %+v %d %v", h1, n1, err1, h2, n2, err2)
		}
		if err1 != nil && !errors.Is(err1, ErrNotHTTP) {
			t.Fatalf("error %v is not ErrNotHTTP", err1)
		}
	})
}

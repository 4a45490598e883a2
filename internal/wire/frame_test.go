package wire

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
)

func TestScanFrame(t *testing.T) {
	cases := []struct {
		name     string
		raw      string
		method   string
		maxBody  int64
		end      int // -1: len(raw)
		complete bool
		cut      bool
		err      error
	}{
		{"fixed", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "GET", 100, 40, true, false, nil},
		{"fixed-cut", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", "GET", 4, 43, false, true, nil},
		{"fixed-short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", "GET", 100, -1, false, false, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 100, 59, true, false, nil},
		{"chunked-trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: v\r\n\r\nEXTRA", "GET", 100, 65, true, false, nil},
		{"chunked-cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\nabc\r\n0\r\n\r\n", "GET", 3, 58, false, true, nil},
		{"chunked-over-length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET", 100, -1, true, false, nil},
		{"chunked-bad-size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "GET", 100, -1, false, false, errors.New("")},
		{"http10-chunked", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nEXTRA", "GET", 100, -1, false, false, nil},
		{"http10-chunked-length", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\nok", "GET", 100, 69, true, false, nil},
		{"close-delimited", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 100, -1, false, false, nil},
		{"close-delimited-cut", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 3, 22, false, true, nil},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", 100, -1, true, false, nil},
		{"204", "HTTP/1.1 204 No Content\r\n\r\nEXTRA", "GET", 100, 27, true, false, nil},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", 100, -1, true, false, nil},
		{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", 100, -1, true, false, nil},
		{"lf-only", "HTTP/1.1 200 OK\nContent-Length: 2\n\nokEXTRA", "GET", 100, 37, true, false, nil},
		{"incomplete-head", "HTTP/1.1 200 OK\r\nContent-Le", "GET", 100, -1, false, false, errIncompleteHead},
		{"malformed", "ICY 200 OK\r\n\r\n", "GET", 100, -1, false, false, ErrMalformedResponse},
		{"malformed-code", "HTTP/1.1 20 OK\r\n\r\n", "GET", 100, -1, false, false, ErrMalformedResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.raw)
			f := scanFrame(bytes.NewReader(raw), int64(len(raw)), tc.method, tc.maxBody)
			end := tc.end
			if end < 0 {
				end = len(raw)
			}
			if f.End != int64(end) || f.Complete != tc.complete || f.Cut != tc.cut {
				t.Errorf("End %d Complete %v Cut %v; want %d %v %v (err %v)", f.End, f.Complete, f.Cut, end, tc.complete, tc.cut, f.Err)
			}
			switch {
			case tc.err == nil && f.Err != nil:
				t.Errorf("unexpected error %v", f.Err)
			case tc.err != nil && f.Err == nil:
				t.Errorf("no error, want %v", tc.err)
			case tc.err != nil && tc.err.Error() != "" && !errors.Is(f.Err, tc.err):
				t.Errorf("error %v, want %v", f.Err, tc.err)
			}
		})
	}
}

// FuzzScanFrame checks the framing scanner against net/http: it never
// panics, stays inside the input, and whenever it calls a message complete,
// net/http reads exactly that message without error and finds the same body
// as in the whole input.
func FuzzScanFrame(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nall of it",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
	} {
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
		fr := scanFrame(bytes.NewReader(raw), int64(len(raw)), method, maxBody)
		if fr.End < 0 || fr.End > int64(len(raw)) || fr.HeadEnd > fr.End {
			t.Fatalf("frame %+v outside %d bytes", fr, len(raw))
		}
		if !fr.Complete || fr.Err != nil {
			return
		}
		req := &http.Request{Method: method}
		whole, err := bodyOf(raw, 0, req)
		if err != nil {
			return // net/http refuses something we accept (e.g. a bad header line): not our record's concern
		}
		cut, err := bodyOf(raw[:fr.End], fr.HeadEnd, req)
		if err != nil {
			t.Fatalf("net/http rejects the message cut at %d: %v\n%q", fr.End, err, raw[:fr.End])
		}
		if !bytes.Equal(whole, cut) {
			t.Fatalf("body %q in the whole input, %q in the cut message", whole, cut)
		}
		// What ReadDecoded hands out without a copy: the bytes between
		// the head and the end, unless chunked.
		if !fr.Chunked && !bytes.Equal(raw[fr.HeadEnd:fr.End], cut) {
			t.Fatalf("bytes %q after the head, body %q (frame %+v)", raw[fr.HeadEnd:fr.End], cut, fr)
		}
	})
}

func bodyOf(raw []byte, headEnd int64, req *http.Request) ([]byte, error) {
	resp, err := readResponse(bytes.NewReader(raw), int64(len(raw)), headEnd, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

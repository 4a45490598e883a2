package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"crawl/internal/httpmsg"
	"crawl/internal/index"
	"crawl/internal/warc"
)

// Errors callers branch on.
var (
	// ErrNotFound: the index names a WARC file that is not in the archive
	// (neither NAME nor NAME.open).
	ErrNotFound = errors.New("WARC file not in the archive")
	// ErrNoOriginal: a revisit whose original capture is not in the archive.
	ErrNoOriginal = errors.New("the capture a revisit refers to is not in the archive")
)

// Response is a capture ready to serve: the recorded status and headers of
// the final HTTP response (a revisit's own), and its payload (transfer
// coding removed, content coding kept, as the server sent it).
type Response struct {
	Capture index.CaptureRow
	Status  int
	Header  http.Header
	Body    io.ReadCloser
	// Original is the capture the payload came from: Capture itself, or
	// the one a revisit refers to.
	Original index.CaptureRow
	// HTTP is false when the capture is not an HTTP response (raw bytes):
	// Body is then the whole record block.
	HTTP bool
}

// Open reads a capture's record. The caller must close Body.
func (a *Archive) Open(ctx context.Context, c index.CaptureRow) (*Response, error) {
	rec, err := a.openRecord(c)
	if err != nil {
		return nil, err
	}
	resp, err := a.respond(ctx, c, rec)
	if err != nil {
		rec.Close()
		return nil, err
	}
	return resp, nil
}

func (a *Archive) respond(ctx context.Context, c index.CaptureRow, rec *record) (*Response, error) {
	typ := strings.ToLower(rec.header.Get("WARC-Type"))
	if typ != warc.TypeResponse && typ != warc.TypeRevisit {
		return nil, fmt.Errorf("%s at %d: a %s record, not a capture", c.WARC, c.Offset, typ)
	}
	br := bufio.NewReaderSize(rec.block, 16<<10)
	head, err := httpmsg.ReadResponse(br, nil)
	if typ == warc.TypeResponse {
		if err != nil {
			// Captured bytes that are not HTTP: serve them as they are.
			return &Response{Capture: c, Original: c, Status: http.StatusOK,
				Header: http.Header{"Content-Type": {"application/octet-stream"}},
				Body:   readCloser{io.NewSectionReader(rec.block, 0, rec.block.Size()), rec}}, nil
		}
		return &Response{Capture: c, Original: c, Status: head.StatusCode, Header: head.Header,
			Body: readCloser{head.Body, rec}, HTTP: true}, nil
	}

	// A revisit: its own status and headers (or the original's, when it
	// kept none), the original's payload.
	orig, err2 := a.original(ctx, c, rec.header)
	if err2 != nil {
		return nil, err2
	}
	orec, err2 := a.openRecord(orig)
	if err2 != nil {
		return nil, fmt.Errorf("revisit %s: %w", c.URL, err2)
	}
	ohead, err2 := httpmsg.ReadResponse(bufio.NewReaderSize(orec.block, 16<<10), nil)
	if err2 != nil {
		orec.Close()
		return nil, fmt.Errorf("revisit %s: original %s at %s:%d is not HTTP: %w", c.URL, orig.URL, orig.WARC, orig.Offset, err2)
	}
	rec.Close() // the revisit's head is parsed; its record is done
	status, header := ohead.StatusCode, ohead.Header
	if err == nil {
		status, header = head.StatusCode, head.Header.Clone()
		// The payload is the original's bytes: its coding is what they are in.
		header.Del("Content-Encoding")
		if ce := ohead.Header.Values("Content-Encoding"); len(ce) > 0 {
			header["Content-Encoding"] = ce
		}
	}
	return &Response{Capture: c, Original: orig, Status: status, Header: header,
		Body: readCloser{ohead.Body, orec}, HTTP: true}, nil
}

// original finds the capture a revisit stands for: by WARC-Refers-To-Target-URI
// and WARC-Refers-To-Date when it names them, else among the captures of
// its own URL, by payload digest (the latest one before it).
func (a *Archive) original(ctx context.Context, c index.CaptureRow, h warc.Header) (index.CaptureRow, error) {
	uri := strings.Trim(h.Get("WARC-Refers-To-Target-URI"), "<>")
	if uri == "" {
		uri = c.URL
	}
	date, _ := time.Parse(time.RFC3339Nano, h.Get("WARC-Refers-To-Date"))
	digest := h.Get("WARC-Payload-Digest")
	if digest == "" {
		digest = c.Digest
	}
	caps, err := a.Index.URLCaptures(ctx, uri)
	if err != nil {
		return index.CaptureRow{}, err
	}
	best := -1
	for i, o := range caps {
		if o.Revisit || (digest != "" && o.Digest != digest) {
			continue
		}
		if !date.IsZero() {
			if d := o.Time.Sub(date); d > -time.Millisecond && d < time.Millisecond {
				return o, nil
			}
		}
		if !o.Time.After(c.Time) || best < 0 {
			best = i
		}
	}
	if best >= 0 && digest != "" {
		return caps[best], nil
	}
	return index.CaptureRow{}, fmt.Errorf("%w: %s refers to %s at %s", ErrNoOriginal, c.URL, uri, h.Get("WARC-Refers-To-Date"))
}

// record is one WARC record read from its file; Close releases the file
// and the reader's buffers.
type record struct {
	header warc.Header
	block  *io.SectionReader
	r      *warc.Reader
	f      *os.File
}

func (r *record) Close() error {
	err := r.r.Close()
	return errors.Join(err, r.f.Close())
}

// openRecord reads the record at the capture's location. A file being
// written is named NAME.open until it is closed; its records up to the last
// complete one are as good as a closed file's.
func (a *Archive) openRecord(c index.CaptureRow) (*record, error) {
	if c.WARC == "" || strings.ContainsAny(c.WARC, `/\`) || c.WARC == "." || c.WARC == ".." {
		return nil, fmt.Errorf("capture %s: %w: %q", c.URL, ErrNotFound, c.WARC)
	}
	path := filepath.Join(a.Layout.WARCDir(), c.WARC)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(path + ".open")
		if errors.Is(err, os.ErrNotExist) {
			// Closed between the two opens: it has its final name now.
			f, err = os.Open(path)
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("capture %s: %w: %s", c.URL, ErrNotFound, c.WARC)
	}
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", c.URL, err)
	}
	size := c.Length
	if size <= 0 {
		// A record sharing a gzip member: read to the file's end.
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("capture %s: %w", c.URL, err)
		}
		size = fi.Size() - c.Offset
	}
	r, err := warc.NewReader(io.NewSectionReader(f, c.Offset, size))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture %s: %s at %d: %w", c.URL, c.WARC, c.Offset, err)
	}
	rec, _, err := r.Next()
	if err != nil {
		r.Close()
		f.Close()
		return nil, fmt.Errorf("capture %s: %s at %d: %w", c.URL, c.WARC, c.Offset, err)
	}
	return &record{header: rec.Header, block: rec.Block, r: r, f: f}, nil
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

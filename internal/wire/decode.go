package wire

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

var (
	// ErrDecodedTooLarge: a decoded body passed its limit (a gzip bomb).
	ErrDecodedTooLarge = errors.New("decoded body exceeds limit")
	// ErrUnsupportedEncoding: a Content-Encoding DecodedBody cannot undo (br,
	// zstd: no well-kept decoder is in go.mod yet).
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
)

// DecodedBody undoes the response's Content-Encoding (gzip, x-gzip, deflate,
// identity, stacked in any order) for parsing. The archived bytes are not
// touched; only this reader is decoded. Reading more than limit decoded bytes
// fails with ErrDecodedTooLarge. Closing it closes resp.Body.
func DecodedBody(resp *http.Response, limit int64) (io.ReadCloser, error) {
	var r io.Reader = resp.Body
	var closers []io.Closer
	codings := strings.Split(resp.Header.Get("Content-Encoding"), ",")
	// Codings are listed in the order they were applied: undo from the last.
	for i := len(codings) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(codings[i]))
		switch c {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("decode gzip body: %w", err)
			}
			closers = append(closers, zr)
			r = zr
		case "deflate":
			// "deflate" means zlib (RFC 9110), but servers often send raw
			// deflate; peek at the zlib header to tell.
			br := bufio.NewReader(r)
			hdr, _ := br.Peek(2)
			if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, fmt.Errorf("decode deflate body: %w", err)
				}
				closers = append(closers, zr)
				r = zr
			} else {
				fr := flate.NewReader(br)
				closers = append(closers, fr)
				r = fr
			}
		default:
			return nil, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, c)
		}
	}
	return &decodedBody{r: r, left: limit, closers: closers, body: resp.Body}, nil
}

type decodedBody struct {
	r       io.Reader
	left    int64
	closers []io.Closer
	body    io.Closer
}

func (d *decodedBody) Read(p []byte) (int, error) {
	if d.left <= 0 {
		// One more byte tells a body of exactly limit bytes from a longer one.
		var b [1]byte
		for {
			n, err := d.r.Read(b[:])
			if n > 0 {
				return 0, ErrDecodedTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= int64(n)
	return n, err
}

func (d *decodedBody) Close() error {
	var errs []error
	for _, c := range d.closers {
		errs = append(errs, c.Close())
	}
	errs = append(errs, d.body.Close())
	return errors.Join(errs...)
}

// ReadDecoded reads resp's body for a parser: its content coding undone,
// at most limit bytes (a longer body, or a gzip bomb, is cut there without
// error), and a body that breaks off gives what came before the break.
//
// For a response of the Transport whose body has no coding and sits in the
// spool's memory (most pages), the result is those bytes themselves, not a
// copy: it must not be modified.
func ReadDecoded(resp *http.Response, limit int64) ([]byte, error) {
	if sb, ok := resp.Body.(*spoolBody); ok && sb.payload != nil && identity(resp.Header) {
		n := min(int64(len(sb.payload)), max(limit, 0))
		return sb.payload[:n:n], nil
	}
	rc, err := DecodedBody(resp, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// A body of known length without a coding is read into one buffer of
	// its size (plus the byte that tells a longer one), not grown from 512
	// bytes by doubling: most pages are such bodies. The length is the
	// server's word, so the buffer starts at 1 MiB at most and grows from
	// there as the bytes come.
	size := int64(512)
	if resp.ContentLength >= 0 && identity(resp.Header) {
		size = min(resp.ContentLength, limit, presizeMax) + 1
	}
	body, err := readAllSized(rc, size)
	if err != nil && (errors.Is(err, ErrDecodedTooLarge) || len(body) > 0) {
		return body, nil
	}
	return body, err
}

// identity reports whether h names no content coding but identity.
func identity(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return false
			}
		}
	}
	return true
}

// presizeMax bounds the buffer ReadDecoded allocates on a Content-Length.
const presizeMax = 1 << 20

// readAllSized is io.ReadAll starting from a buffer of size bytes.
func readAllSized(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(size, 512))
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
	}
}

package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"crawl/internal/httpmsg"
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
	Chunked  bool  // the body has the chunked coding: its bytes are not the payload
	Err      error
}

var errIncompleteHead = httpmsg.ErrIncomplete

// frameReaders are scanFrame's buffers: one per message scanned adds up to
// a tenth of a crawl's allocations otherwise.
var frameReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// scanFrame finds the message in the first size bytes of r, for a request with
// the given method, cutting the body after maxBody payload bytes. The framing
// is httpmsg's, which reads as net/http does (LF-only header lines, 1xx
// interim responses, Transfer-Encoding ignored before HTTP/1.1). It never
// fails on garbage: Err says what was wrong and End falls back to size.
func scanFrame(r io.ReaderAt, size int64, method string, maxBody int64) frame {
	br := frameReaders.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(r, 0, size))
	defer func() {
		br.Reset(nil) // holds nothing of r while pooled
		frameReaders.Put(br)
	}()
	f := frame{End: size}
	m, err := httpmsg.Read(br, method, maxBody, nil)
	switch {
	case errors.Is(err, httpmsg.ErrIncomplete):
		f.Err = errIncompleteHead
		return f
	case errors.Is(err, httpmsg.ErrHeadTooLarge):
		f.Err = err // not malformed: fetchError classes it by MaxHeaderBytes
		return f
	case err != nil:
		f.Err = fmt.Errorf("%w: %w", ErrMalformedResponse, err)
		return f
	}
	f.HeadEnd = m.HeadLen
	if errors.Is(m.Err, httpmsg.ErrMalformedChunk) {
		f.Err = m.Err
	}
	if m.Err == nil { // else everything received belongs to the body: End stays at size
		f.End = m.End
	}
	f.Cut = m.Cut
	f.Chunked = m.Framing == httpmsg.Chunked
	f.Complete = m.Complete && m.Framing != httpmsg.UntilClose
	return f
}

package warc

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrFormat is wrapped by every error about malformed WARC content (as
// opposed to I/O errors of the underlying reader).
var ErrFormat = errors.New("malformed WARC")

// FormatError says where a file stops being readable: the file (when known)
// and the offset of the record (gzip member) that is bad.
type FormatError struct {
	File   string
	Offset int64
	Err    error
}

func (e *FormatError) Error() string {
	name := e.File
	if name == "" {
		name = "WARC stream"
	}
	return fmt.Sprintf("warc: %s: record at offset %d: %v", name, e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Limits of the reader; they bound memory on hostile input.
const (
	maxRecordHeaderBytes = 1 << 20 // version line and named fields of one record
	maxMemBlock          = 8 << 20 // larger blocks are spooled to a temporary file
)

// Reader iterates the records of one WARC file, gzip (one member per record,
// or several records in one member) or plain, detected from the first bytes.
// It holds at most maxMemBlock bytes of a block in memory; larger blocks go
// to a temporary file, removed by Close.
type Reader struct {
	name       string // for errors: the path as opened
	base       string // for Locations: the base name without ".open"
	src        *countingReader
	compressed bool
	gz         *gzip.Reader
	dec        *bufio.Reader // decompressed bytes of the current member
	inMember   bool
	memberOff  int64
	buf        []byte
	spill      *os.File
	err        error
}

// NewReader returns a Reader over r. If r has a Name method (an *os.File),
// errors name that file.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: &countingReader{br: bufio.NewReaderSize(r, 64<<10)}}
	if n, ok := r.(interface{ Name() string }); ok {
		rd.name = n.Name()
		rd.base = baseName(rd.name)
	}
	magic, err := rd.src.br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("warc: %s: %w", rd.name, err)
	}
	rd.compressed = len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	return rd, nil
}

// Close releases the temporary file used for large blocks, if any.
func (r *Reader) Close() error {
	if r.spill != nil {
		name := r.spill.Name()
		r.spill.Close()
		r.spill = nil
		return os.Remove(name)
	}
	return nil
}

// Next returns the next record and where it sits. The record's Block is
// valid until the following call. At the end it returns io.EOF; on a bad
// spot it returns a *FormatError (wrapping ErrFormat, or the I/O error) and
// keeps returning it.
//
// Location.Length is the record's size on disk. For records that share a
// gzip member (not written by this package, but readable), Offset is the
// member's, Length is 0 for all but the member's last record, whose Length
// spans the whole member.
func (r *Reader) Next() (Record, Location, error) {
	if r.err != nil {
		return Record{}, Location{}, r.err
	}
	rec, loc, err := r.next()
	if err != nil {
		if err != io.EOF {
			var fe *FormatError
			if !errors.As(err, &fe) {
				err = &FormatError{File: r.name, Offset: loc.Offset, Err: err}
			}
		}
		r.err = err
		return Record{}, Location{}, err
	}
	return rec, loc, nil
}

func (r *Reader) next() (Record, Location, error) {
	if !r.compressed {
		// Blank lines between records are tolerated (some writers add extra).
		if err := skipLineEnds(r.src); err != nil {
			return Record{}, Location{Offset: r.src.n}, err
		}
		start := r.src.n
		if _, err := r.src.br.Peek(1); err == io.EOF {
			return Record{}, Location{}, io.EOF
		}
		rec, err := r.readRecord(r.src)
		if err != nil {
			return Record{}, Location{Offset: start}, err
		}
		// The record ends with CRLF CRLF; count it, tolerating bare LFs.
		for i := 0; i < 4; i++ {
			b, err := r.src.br.Peek(1)
			if err != nil || (b[0] != '\r' && b[0] != '\n') {
				break
			}
			r.src.ReadByte()
		}
		return rec, Location{File: r.base, Offset: start, Length: r.src.n - start}, nil
	}

	if !r.inMember {
		start := r.src.n
		if _, err := r.src.br.Peek(1); err == io.EOF {
			return Record{}, Location{}, io.EOF
		}
		var err error
		if r.gz == nil {
			r.gz, err = gzip.NewReader(r.src)
		} else {
			err = r.gz.Reset(r.src)
		}
		if err != nil {
			return Record{}, Location{Offset: start}, fmt.Errorf("%w: gzip header: %v", ErrFormat, err)
		}
		r.gz.Multistream(false)
		if r.dec == nil {
			r.dec = bufio.NewReaderSize(r.gz, 64<<10)
		} else {
			r.dec.Reset(r.gz)
		}
		r.inMember, r.memberOff = true, start
		rec, err := r.readRecord(r.dec)
		if err != nil {
			return Record{}, Location{Offset: start}, wrapGzip(err)
		}
		more, err := r.endOfRecordInMember()
		if err != nil {
			return Record{}, Location{Offset: start}, wrapGzip(err)
		}
		if more {
			return rec, Location{File: r.base, Offset: start}, nil
		}
		return rec, Location{File: r.base, Offset: start, Length: r.src.n - start}, nil
	}
	// A further record inside the same member.
	rec, err := r.readRecord(r.dec)
	if err != nil {
		return Record{}, Location{Offset: r.memberOff}, wrapGzip(err)
	}
	more, err := r.endOfRecordInMember()
	if err != nil {
		return Record{}, Location{Offset: r.memberOff}, wrapGzip(err)
	}
	if more {
		return rec, Location{File: r.base, Offset: r.memberOff}, nil
	}
	// The member's last record: its Location spans the whole member.
	return rec, Location{File: r.base, Offset: r.memberOff, Length: r.src.n - r.memberOff}, nil
}

// endOfRecordInMember consumes the record's trailing line ends and reports
// whether the gzip member holds another record. At the member's end the gzip
// trailer (CRC, size) has been checked.
func (r *Reader) endOfRecordInMember() (more bool, err error) {
	if err := skipLineEnds(r.dec); err != nil {
		return false, err
	}
	b, err := r.dec.Peek(5)
	if err == io.EOF && len(b) == 0 {
		r.inMember = false
		return false, nil
	}
	if bytes.HasPrefix(b, []byte("WARC/")) {
		return true, nil
	}
	if err != nil && err != io.EOF {
		return false, err
	}
	return false, fmt.Errorf("%w: unexpected bytes %q after the record's block", ErrFormat, b)
}

func wrapGzip(err error) error {
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: cut short (%v)", ErrFormat, err)
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return err
}

// lineSource is what record parsing needs: a *bufio.Reader or countingReader.
type lineSource interface {
	io.Reader
	io.ByteReader
	ReadSlice(delim byte) ([]byte, error)
	Peek(n int) ([]byte, error)
}

func skipLineEnds(s lineSource) error {
	for {
		b, err := s.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if b[0] != '\r' && b[0] != '\n' {
			return nil
		}
		s.ReadByte()
	}
}

// readRecord parses one record's header and reads its block.
func (r *Reader) readRecord(s lineSource) (Record, error) {
	budget := int64(maxRecordHeaderBytes)
	line, err := readLine(s, &budget)
	if err != nil {
		return Record{}, fmt.Errorf("%w: version line: %v", ErrFormat, err)
	}
	if !bytes.HasPrefix(line, []byte("WARC/")) {
		return Record{}, fmt.Errorf("%w: no WARC version line (found %q)", ErrFormat, truncateForError(line))
	}
	var h Header
	for {
		line, err := readLine(s, &budget)
		if err != nil {
			return Record{}, fmt.Errorf("%w: header: %v", ErrFormat, err)
		}
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h) > 0 {
			// Folded continuation line (deprecated, but readers accept it).
			h[len(h)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(bytes.TrimSpace(name)) == 0 {
			return Record{}, fmt.Errorf("%w: header line %q", ErrFormat, truncateForError(line))
		}
		h = append(h, Field{Name: string(bytes.TrimSpace(name)), Value: string(bytes.TrimSpace(value))})
	}
	cl := h.Get("Content-Length")
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		return Record{}, fmt.Errorf("%w: Content-Length %q", ErrFormat, cl)
	}
	block, err := r.readBlock(s, n)
	if err != nil {
		return Record{}, err
	}
	return Record{Header: h, Block: block}, nil
}

func (r *Reader) readBlock(s lineSource, n int64) (*io.SectionReader, error) {
	if n <= maxMemBlock {
		if int64(cap(r.buf)) < n {
			r.buf = make([]byte, n)
		}
		b := r.buf[:n]
		if got, err := io.ReadFull(s, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: block cut short: %d of %d bytes", ErrFormat, got, n)
			}
			return nil, err
		}
		return io.NewSectionReader(bytes.NewReader(b), 0, n), nil
	}
	if r.spill == nil {
		f, err := os.CreateTemp("", "warc-block-*")
		if err != nil {
			return nil, fmt.Errorf("spool large block: %w", err)
		}
		r.spill = f
	}
	if err := r.spill.Truncate(0); err != nil {
		return nil, fmt.Errorf("spool large block: %w", err)
	}
	if _, err := r.spill.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spool large block: %w", err)
	}
	got, err := io.CopyN(r.spill, s, n)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: block cut short: %d of %d bytes", ErrFormat, got, n)
		}
		return nil, err
	}
	return io.NewSectionReader(r.spill, 0, n), nil
}

// readLine reads a CRLF/LF-terminated line without its end, within budget.
func readLine(s lineSource, budget *int64) ([]byte, error) {
	var buf []byte
	var n int64
	for {
		frag, err := s.ReadSlice('\n')
		n += int64(len(frag))
		if n > *budget {
			return nil, errors.New("header too large")
		}
		if err == bufio.ErrBufferFull {
			buf = append(buf, frag...)
			continue
		}
		if err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if buf != nil {
			frag = append(buf, frag...)
		}
		*budget -= n
		frag = frag[:len(frag)-1]
		if len(frag) > 0 && frag[len(frag)-1] == '\r' {
			frag = frag[:len(frag)-1]
		}
		return frag, nil
	}
}

// countingReader counts the bytes consumed from a buffered reader, so that
// record offsets are exact although reads are buffered. It is a
// flate.Reader (io.ByteReader), so gzip reads through it without its own
// read-ahead and stops exactly at each member's end.
type countingReader struct {
	br *bufio.Reader
	n  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func (c *countingReader) ReadSlice(delim byte) ([]byte, error) {
	b, err := c.br.ReadSlice(delim)
	c.n += int64(len(b))
	return b, err
}

func (c *countingReader) Peek(n int) ([]byte, error) { return c.br.Peek(n) }

// ReadFile calls fn for every record of the file at path, in order. It
// stops at fn's first error and returns it; a malformed file yields every
// good record and then a *FormatError naming path and the bad offset.
// Locations carry the file's base name.
func ReadFile(path string, fn func(Record, Location) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return err
	}
	defer r.Close()
	base := baseName(path)
	for {
		rec, loc, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		loc.File = base
		if err := fn(rec, loc); err != nil {
			return err
		}
	}
}

// baseName strips the folder and a trailing ".open", so Locations of a file
// being written match the name it will have.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		path = path[i+1:]
	}
	return strings.TrimSuffix(path, ".open")
}

func truncateForError(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

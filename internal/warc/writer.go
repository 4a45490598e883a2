package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"

	"crawl/internal/httpmsg"
)

// Sentinel errors callers branch on.
var (
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("warc: writer closed")
	// ErrBadField means a caller-supplied value (URI, IP, content type) would
	// break the record header; nothing was written.
	ErrBadField = errors.New("warc: bad field value")
	// ErrBroken means an earlier write failed and the file could not be
	// rolled back to its last good record; the writer refuses further writes.
	ErrBroken = errors.New("warc: writer broken by an earlier I/O error")
)

// Defaults of WriterOptions, in one place.
const (
	DefaultPrefix      = "crawl"
	DefaultMaxFileSize = 1_000_000_000 // 1 GB (10^9) as Heritrix and Browsertrix use
	DefaultDigest      = "sha1"
	DefaultRobots      = "classic"
	DefaultDedupeSize  = 200_000 // payload digests the in-memory dedupe index keeps
)

// Info is the content of the warcinfo record that starts every file.
type Info struct {
	Software    string // name/version; default "crawl/<module version> (<vcs revision>)"
	Operator    string
	Contact     string
	Robots      string // robots policy: "classic" (obeys robots.txt, the default) or "off"
	Hostname    string // the crawling machine; default os.Hostname()
	IsPartOf    string // crawl job id
	Description string
	CommandLine []string
}

// WriterOptions configure a Writer. Zero values mean the defaults above.
type WriterOptions struct {
	Dir         string       // folder of the files; must exist
	Prefix      string       // file name prefix, default "crawl"
	MaxFileSize int64        // rotate once a file reaches this size, between records only; default 1e9
	Digest      string       // "sha1" (default, Base32) or "sha256" (lowercase hex)
	Info        Info         // warcinfo content
	Observer    Observer     // told of every record written (the index); nil = none
	Dedupe      PayloadIndex // nil = an in-memory one for this writer (DefaultDedupeSize digests)
	GzipLevel   int          // compress/gzip level; 0 = gzip.DefaultCompression
	// SyncEveryRecord fsyncs after every record or pair, so a power loss
	// loses nothing acknowledged. Off by default: each record is flushed to
	// the OS (it survives a crash of the process) and the file is fsynced at
	// rotation and Close; Mend repairs what a machine crash leaves.
	SyncEveryRecord bool

	// Test hooks: a fixed clock and ID source make golden files possible.
	now   func() time.Time
	newID func() string
}

// Writer appends records to WARC files in one folder. It is safe for
// concurrent use: one mutex guards the one open file. Every write is
// synchronous; when it returns, the record is in the file and its Location is
// exact.
type Writer struct {
	opts   WriterOptions
	algo   digestAlgo
	dedupe PayloadIndex
	host   string // sanitised for file names
	bufs   sync.Pool
	// packers and members serve pack: gzip streams and the members they
	// make, reused across records.
	packers sync.Pool
	members sync.Pool

	mu       sync.Mutex
	f        *os.File
	cw       countWriter
	bw       *bufio.Writer
	gz       *gzip.Writer
	name     string // final base name of the open file
	openPath string
	infoID   string
	gen      int // counts the files opened: the records packed for one fit no other
	serial   int
	hdr      []byte
	copyBuf  []byte
	err      error
	closed   bool
}

// NewWriter checks the options and returns a Writer. The first file is
// created by the first write, so a writer that never writes leaves nothing.
// Call Mend on the folder first if a previous run may have crashed.
func NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.Dir == "" {
		return nil, errors.New("warc: WriterOptions.Dir is empty")
	}
	if st, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("warc: output folder: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("warc: output folder %s is not a directory", opts.Dir)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	opts.Prefix = sanitizeName(opts.Prefix)
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	algo, err := newDigestAlgo(opts.Digest)
	if err != nil {
		return nil, err
	}
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.DefaultCompression
	}
	if _, err := gzip.NewWriterLevel(io.Discard, opts.GzipLevel); err != nil {
		return nil, fmt.Errorf("warc: %w", err)
	}
	if opts.Info.Software == "" {
		opts.Info.Software = defaultSoftware()
	}
	if opts.Info.Robots == "" {
		opts.Info.Robots = DefaultRobots
	}
	if opts.Info.Hostname == "" {
		opts.Info.Hostname, _ = os.Hostname()
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.newID == nil {
		opts.newID = func() string { return "<urn:uuid:" + uuid.NewString() + ">" }
	}
	w := &Writer{opts: opts, algo: algo, dedupe: opts.Dedupe, host: sanitizeName(opts.Info.Hostname)}
	if w.dedupe == nil {
		w.dedupe = NewMemoryPayloadIndex(DefaultDedupeSize)
	}
	if w.host == "" {
		w.host = "localhost"
	}
	w.bufs.New = func() any { return &scratch{br: bufio.NewReaderSize(nil, 64<<10), buf: make([]byte, 32<<10)} }
	w.packers.New = func() any {
		gz, _ := gzip.NewWriterLevel(io.Discard, opts.GzipLevel) // level checked above
		return &packer{gz: gz, buf: make([]byte, 32<<10)}
	}
	w.members.New = func() any { return new(bytes.Buffer) }
	return w, nil
}

func defaultSoftware() string {
	sw := "crawl"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return sw
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		sw += "/" + v
	} else {
		sw += "/devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			sw += " (" + s.Value + ")"
		}
	}
	return sw
}

// sanitizeName keeps [A-Za-z0-9._-] and turns everything else into '-', so a
// file name survives every tool that later handles it.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// analysis is what one pass over a block tells: its digest and, for a
// response, its HTTP framing and payload digest.
type analysis struct {
	blockDigest   string
	payloadDigest string // "" when the response is not parseable HTTP
	http          httpmsg.Message
	httpErr       error
}

// analyze reads block once. For a response it tees the bytes through the
// HTTP reader to digest the payload in the same pass; nothing proportional
// to the body is held.
func (w *Writer) analyze(block *io.SectionReader, response bool, method string) (analysis, error) {
	var a analysis
	bh := w.algo.new()
	src := io.NewSectionReader(block, 0, block.Size())
	sc := w.bufs.Get().(*scratch)
	defer func() {
		sc.br.Reset(nil)
		w.bufs.Put(sc)
	}()
	if !response {
		if _, err := io.CopyBuffer(bh, src, sc.buf); err != nil {
			return a, fmt.Errorf("warc: read block: %w", err)
		}
		a.blockDigest = w.algo.format(bh)
		return a, nil
	}
	tee := &errTee{r: src, w: bh}
	sc.br.Reset(tee)
	ph := w.algo.new()
	a.http, a.httpErr = httpmsg.Read(sc.br, method, 0, ph)
	if tee.err != nil {
		return a, fmt.Errorf("warc: read response: %w", tee.err)
	}
	// Bytes past the end of the message (or all of it, if unparseable)
	// still belong to the block: what the bufio.Reader holds, then the rest.
	if _, err := io.CopyBuffer(io.Discard, sc.br, sc.buf); err != nil {
		return a, fmt.Errorf("warc: read response: %w", err)
	}
	a.blockDigest = w.algo.format(bh)
	if a.httpErr != nil {
		return a, nil
	}
	if errors.Is(a.http.Err, httpmsg.ErrMalformedChunk) {
		// A chunked body whose coding is malformed has no payload that
		// readers agree on past the bad point: net/http stops there with an
		// error, while warcio passes the rest through raw (Python's
		// ChunkedDataReader and warcio.js's dechunk, which reads the whole
		// body raw when the first chunk-size line is the bad one). So the
		// payload digest is that of every byte after the final head, chunk
		// framing included: the bytes the record holds as its payload. That
		// is what pywb's indexer computes for a response without a
		// WARC-Payload-Digest (it hashes record.raw_stream after the HTTP
		// head) and what `warcio check` verifies (its DigestVerifyingReader
		// starts the payload digest where the HTTP head ends), so neither
		// rejects the record. The record is WARC-Truncated (its framing
		// never ended) and never a revisit original. A body that is only
		// cut short keeps the digest of the payload decoded before the cut,
		// which net/http and warcio decode alike.
		ph = w.algo.new()
		body := io.NewSectionReader(block, a.http.HeadLen, block.Size()-a.http.HeadLen)
		if _, err := io.CopyBuffer(ph, body, sc.buf); err != nil {
			return a, fmt.Errorf("warc: read response: %w", err)
		}
	}
	a.payloadDigest = w.algo.format(ph)
	return a, nil
}

// scratch is the per-call reading state of analyze, pooled so that a write
// allocates nothing proportional to the body, or per record.
type scratch struct {
	br  *bufio.Reader
	buf []byte
}

// errTee is io.TeeReader that remembers a read error other than EOF.
type errTee struct {
	r   io.Reader
	w   io.Writer
	err error
}

func (t *errTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.w.Write(p[:n]) // hash.Hash never fails
	}
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// pending is one record ready to be written.
type pending struct {
	header        Header
	block         *io.SectionReader
	parsed        any           // handed to the Observer
	payloadOffset int64         // Record.PayloadOffset, for the Observer
	member        *bytes.Buffer // the record as a gzip member, made by pack; nil: compress it in writeRecords
}

// WriteExchange archives one HTTP fetch: a request record and a response
// record, or a revisit record when the payload was archived before (see
// PayloadIndex). Both records go into the same file, with one WARC-Date, and
// point at each other with WARC-Concurrent-To.
//
// A revisit is made only for a complete 2xx response with a non-empty
// payload: an empty body carries nothing worth deduplicating, and pywb and
// Heritrix resolve revisits against a prior capture that is assumed to be a
// successful one. A truncated response is written in full with WARC-Truncated
// and is never remembered as an original.
func (w *Writer) WriteExchange(ex Exchange) (ExchangeResult, error) {
	var res ExchangeResult
	if ex.Request == nil || ex.Response == nil {
		return res, fmt.Errorf("%w: exchange of %s lacks request or response bytes", ErrBadField, ex.TargetURI)
	}
	if err := checkURI(ex.TargetURI); err != nil {
		return res, err
	}
	ip, err := canonicalIP(ex.IP)
	if err != nil {
		return res, err
	}
	ex.IP = ip
	switch ex.Truncated {
	case "", "length", "time", "disconnect", "unspecified":
	default:
		return res, fmt.Errorf("%w: WARC-Truncated %q", ErrBadField, ex.Truncated)
	}
	reqA, err := w.analyze(ex.Request, false, "")
	if err != nil {
		return res, fmt.Errorf("archive %s: %w", ex.TargetURI, err)
	}
	respA, err := w.analyze(ex.Response, true, requestMethod(ex.Request))
	if err != nil {
		return res, fmt.Errorf("archive %s: %w", ex.TargetURI, err)
	}
	truncated := ex.Truncated
	if truncated == "" && respA.httpErr == nil && !respA.http.Complete {
		truncated = "disconnect" // the body ended before its framing said it would
	}
	date := ex.Date
	if date.IsZero() {
		date = w.opts.now()
	}
	x := exchangeRecords{ex: ex, reqA: reqA, respA: respA, truncated: truncated, date: formatDate(date)}
	x.dedupable = respA.payloadDigest != "" && truncated == "" &&
		respA.http.Head.Status >= 200 && respA.http.Head.Status < 300 && respA.http.Payload > 0

	// The records are compressed before the file lock is taken, so parallel
	// fetches compress in parallel and the lock covers little more than the
	// write (one gzip stream under it held the crawl to one core's 40 MB/s).
	// What the records say depends on the open file (its warcinfo ID) and
	// on the payload index (revisit or not): both are read under the lock
	// first, and again under it before the write; if either changed in
	// between, the records are made again under the lock.
	w.mu.Lock()
	if err := w.ready(); err != nil {
		w.mu.Unlock()
		return res, err
	}
	gen, infoID := w.gen, w.infoID
	x.reqID, x.respID = w.opts.newID(), w.opts.newID()
	x.lookup(w.dedupe)
	w.mu.Unlock()

	recs, err := x.records(w, infoID)
	if err != nil {
		return res, err
	}
	w.pack(recs)
	defer w.unpack(recs)

	w.mu.Lock()
	defer w.mu.Unlock()
	// No rotation here: the first ready chose the file for this pair.
	if err := w.writable(); err != nil {
		return res, err
	}
	wasRevisit := x.revisit
	x.lookup(w.dedupe)
	if w.gen != gen || x.revisit != wasRevisit {
		w.unpack(recs)
		if recs, err = x.records(w, w.infoID); err != nil {
			return res, err
		}
	}
	locs, err := w.writeRecords(recs)
	if err != nil {
		return res, fmt.Errorf("archive %s: %w", ex.TargetURI, err)
	}
	if x.dedupable && !x.revisit {
		rememberOriginal(w.dedupe, respA.payloadDigest, Original{URI: ex.TargetURI, Date: date, RecordID: x.respID})
	}
	res = ExchangeResult{
		Request:       locs[0],
		Response:      locs[1],
		ResponseID:    x.respID,
		PayloadDigest: respA.payloadDigest,
		Revisit:       x.revisit,
		Status:        respA.http.Head.Status,
		Truncated:     truncated,
	}
	return res, nil
}

// exchangeRecords is what WriteExchange knows of one exchange's pair of
// records before it writes them.
type exchangeRecords struct {
	ex            Exchange
	reqA, respA   analysis
	truncated     string
	date          string // WARC-Date
	reqID, respID string
	dedupable     bool
	revisit       bool     // the payload was archived before: a revisit record
	orig          Original // where, when revisit
}

// lookup decides, from the payload index, whether the response is a revisit.
func (x *exchangeRecords) lookup(dedupe PayloadIndex) {
	x.revisit = false
	if x.dedupable {
		x.orig, x.revisit = lookupOriginal(dedupe, x.respA.payloadDigest)
	}
}

// records makes the request record and the response (or revisit) record,
// in a file whose warcinfo record is infoID.
func (x *exchangeRecords) records(w *Writer, infoID string) ([]pending, error) {
	ex := x.ex
	// Both records of a pair open alike, each pointing at the other.
	opening := func(typ, id, other string) Header {
		h := Header{{"WARC-Type", typ}, {"WARC-Record-ID", id}, {"WARC-Date", x.date}, {"WARC-Target-URI", ex.TargetURI}}
		if ex.IP != "" {
			h = append(h, Field{"WARC-IP-Address", ex.IP})
		}
		return append(h, Field{"WARC-Concurrent-To", other}, Field{"WARC-Warcinfo-ID", infoID})
	}
	reqH := append(opening(TypeRequest, x.reqID, x.respID),
		Field{"Content-Type", ContentTypeHTTPRequest},
		Field{"WARC-Block-Digest", x.reqA.blockDigest},
		Field{"Content-Length", itoa(ex.Request.Size())},
	)

	var respH Header
	respBlock := ex.Response
	if x.revisit {
		respBlock = io.NewSectionReader(ex.Response, 0, x.respA.http.HeadLen)
		hdrA, err := w.analyze(respBlock, false, "")
		if err != nil {
			return nil, fmt.Errorf("archive %s: %w", ex.TargetURI, err)
		}
		respH = append(opening(TypeRevisit, x.respID, x.reqID),
			Field{"WARC-Profile", ProfileIdenticalPayload},
		)
		if x.orig.RecordID != "" {
			respH = append(respH, Field{"WARC-Refers-To", x.orig.RecordID})
		}
		respH = append(respH,
			Field{"WARC-Refers-To-Target-URI", x.orig.URI},
			Field{"WARC-Refers-To-Date", formatDate(x.orig.Date)},
			Field{"Content-Type", ContentTypeHTTPResponse},
			Field{"WARC-Block-Digest", hdrA.blockDigest},
			Field{"WARC-Payload-Digest", x.respA.payloadDigest},
			Field{"WARC-Truncated", "length"},
			Field{"Content-Length", itoa(respBlock.Size())},
		)
	} else {
		respH = append(opening(TypeResponse, x.respID, x.reqID),
			Field{"Content-Type", ContentTypeHTTPResponse},
			Field{"WARC-Block-Digest", x.respA.blockDigest},
		)
		if x.respA.payloadDigest != "" {
			respH = append(respH, Field{"WARC-Payload-Digest", x.respA.payloadDigest})
		}
		if x.truncated != "" {
			respH = append(respH, Field{"WARC-Truncated", x.truncated})
		}
		respH = append(respH, Field{"Content-Length", itoa(ex.Response.Size())})
	}
	resp := pending{header: respH, block: respBlock, parsed: ex.Parsed}
	if !x.revisit && x.respA.httpErr == nil {
		resp.payloadOffset = x.respA.http.HeadLen
	}
	return []pending{{header: reqH, block: ex.Request}, resp}, nil
}

// WriteResource archives body as a resource record, e.g. a zone transfer
// under a dns: URI with text/dns content. The payload is the whole block.
func (w *Writer) WriteResource(uri, ip string, date time.Time, contentType string, body *io.SectionReader) (Location, error) {
	if body == nil {
		body = io.NewSectionReader(bytes.NewReader(nil), 0, 0)
	}
	if err := checkURI(uri); err != nil {
		return Location{}, err
	}
	if err := checkFieldValue("Content-Type", contentType, false); err != nil {
		return Location{}, err
	}
	ip, err := canonicalIP(ip)
	if err != nil {
		return Location{}, err
	}
	a, err := w.analyze(body, false, "")
	if err != nil {
		return Location{}, fmt.Errorf("archive resource %s: %w", uri, err)
	}
	if date.IsZero() {
		date = w.opts.now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ready(); err != nil {
		return Location{}, err
	}
	h := Header{
		{"WARC-Type", TypeResource},
		{"WARC-Record-ID", w.opts.newID()},
		{"WARC-Date", formatDate(date)},
		{"WARC-Target-URI", uri},
	}
	if ip != "" {
		h = append(h, Field{"WARC-IP-Address", ip})
	}
	h = append(h, Field{"WARC-Warcinfo-ID", w.infoID})
	if contentType != "" {
		h = append(h, Field{"Content-Type", contentType})
	}
	h = append(h,
		Field{"WARC-Block-Digest", a.blockDigest},
		Field{"WARC-Payload-Digest", a.blockDigest},
		Field{"Content-Length", itoa(body.Size())},
	)
	locs, err := w.writeRecords([]pending{{header: h, block: body}})
	if err != nil {
		return Location{}, fmt.Errorf("archive resource %s: %w", uri, err)
	}
	return locs[0], nil
}

// WriteMetadata archives body as a metadata record about uri (which may be
// empty). Metadata records have no payload digest (WARC 1.1 §6.6).
func (w *Writer) WriteMetadata(uri string, date time.Time, contentType string, body []byte) (Location, error) {
	if uri != "" {
		if err := checkURI(uri); err != nil {
			return Location{}, err
		}
	}
	if err := checkFieldValue("Content-Type", contentType, false); err != nil {
		return Location{}, err
	}
	block := io.NewSectionReader(bytes.NewReader(body), 0, int64(len(body)))
	bh := w.algo.new()
	bh.Write(body)
	if date.IsZero() {
		date = w.opts.now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ready(); err != nil {
		return Location{}, err
	}
	h := Header{
		{"WARC-Type", TypeMetadata},
		{"WARC-Record-ID", w.opts.newID()},
		{"WARC-Date", formatDate(date)},
	}
	if uri != "" {
		h = append(h, Field{"WARC-Target-URI", uri})
	}
	h = append(h, Field{"WARC-Warcinfo-ID", w.infoID})
	if contentType != "" {
		h = append(h, Field{"Content-Type", contentType})
	}
	h = append(h,
		Field{"WARC-Block-Digest", w.algo.format(bh)},
		Field{"Content-Length", itoa(int64(len(body)))},
	)
	locs, err := w.writeRecords([]pending{{header: h, block: block}})
	if err != nil {
		return Location{}, fmt.Errorf("archive metadata %s: %w", uri, err)
	}
	return locs[0], nil
}

// checkURI rejects a WARC-Target-URI that is empty or would break the
// header. (A peer IP is checked by canonicalIP, which accepts only addresses.)
func checkURI(uri string) error {
	if uri == "" {
		return fmt.Errorf("%w: empty WARC-Target-URI", ErrBadField)
	}
	if strings.HasPrefix(uri, "<") {
		return fmt.Errorf("%w: WARC-Target-URI %q has angle brackets (WARC 1.0 style)", ErrBadField, uri)
	}
	return checkFieldValue("WARC-Target-URI", uri, true)
}

// canonicalIP spells a peer address as WARC-IP-Address wants it: a dotted
// quad, or RFC 5952 IPv6 (what net.IP.String gives); "" stays "".
func canonicalIP(ip string) (string, error) {
	if ip == "" {
		return "", nil
	}
	parsed := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if parsed == nil {
		return "", fmt.Errorf("%w: WARC-IP-Address %q is not an IP address", ErrBadField, ip)
	}
	return parsed.String(), nil
}

// ready makes sure a file is open and not due for rotation. Called with mu
// held, before a record or pair, so rotation never splits a pair.
func (w *Writer) ready() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.f != nil && w.cw.n >= w.opts.MaxFileSize {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	return w.writable()
}

// writable makes sure a file is open, without rotating. Called with mu held.
func (w *Writer) writable() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		return w.openFile()
	}
	return nil
}

// openFile creates the next file as NAME.open with O_EXCL, so two writers
// (even in two processes) sharing a folder and a millisecond never share a
// file, and writes its warcinfo record.
func (w *Writer) openFile() error {
	now := w.opts.now().UTC()
	stamp := now.Format("20060102150405") + fmt.Sprintf("%03d", now.Nanosecond()/1e6)
	var f *os.File
	var name, openPath string
	for tries := 0; ; tries++ {
		if tries == 10000 {
			return fmt.Errorf("warc: no free file name in %s after %d serials", w.opts.Dir, tries)
		}
		name = fmt.Sprintf("%s-%s-%05d-%s.warc.gz", w.opts.Prefix, stamp, w.serial, w.host)
		w.serial++
		openPath = filepath.Join(w.opts.Dir, name+".open")
		var err error
		f, err = os.OpenFile(openPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("warc: create file: %w", err)
		}
		// Another writer may have finished and renamed this very name; our
		// .open was created after its rename, so this check cannot race.
		if _, err := os.Lstat(filepath.Join(w.opts.Dir, name)); err == nil {
			f.Close()
			os.Remove(openPath)
			continue
		}
		break
	}
	w.f, w.name, w.openPath = f, name, openPath
	w.cw = countWriter{w: f}
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(&w.cw, 64<<10)
	} else {
		w.bw.Reset(&w.cw)
	}

	w.infoID = w.opts.newID()
	w.gen++
	body := warcinfoBody(w.opts.Info)
	bh := w.algo.new()
	bh.Write(body)
	h := Header{
		{"WARC-Type", TypeWarcinfo},
		{"WARC-Record-ID", w.infoID},
		{"WARC-Date", formatDate(now)},
		{"WARC-Filename", name},
		{"Content-Type", ContentTypeWarcFields},
		{"WARC-Block-Digest", w.algo.format(bh)},
		{"Content-Length", itoa(int64(len(body)))},
	}
	if _, err := w.writeRecords([]pending{{header: h, block: io.NewSectionReader(bytes.NewReader(body), 0, int64(len(body)))}}); err != nil {
		w.f.Close()
		os.Remove(openPath)
		w.f = nil
		if w.err == nil || errors.Is(w.err, ErrBroken) {
			w.err = nil // the broken file is gone; a later write may try a new one
		}
		return err
	}
	return nil
}

// warcinfoBody renders Info as application/warc-fields.
func warcinfoBody(info Info) []byte {
	var b bytes.Buffer
	field := func(name, value string) {
		if value == "" {
			return
		}
		// One line per field: annotated spec #74 says never fold.
		value = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, value)
		b.WriteString(name + ": " + value + "\r\n")
	}
	field("software", info.Software)
	field("format", "WARC File Format 1.1")
	field("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
	field("hostname", info.Hostname)
	field("robots", info.Robots)
	field("operator", info.Operator)
	field("contact", info.Contact)
	field("isPartOf", info.IsPartOf)
	field("description", info.Description)
	field("command-line", quoteArgs(info.CommandLine))
	return b.Bytes()
}

// quoteArgs joins args as a POSIX shell would need them typed.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@+%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// writeRecords appends records, each as its own gzip member, flushes them to
// the OS and tells the Observer. If any write fails the file is cut back to
// where it was, so a pair is written whole or not at all.
func (w *Writer) writeRecords(recs []pending) ([]Location, error) {
	start := w.cw.n
	locs := make([]Location, len(recs))
	fail := func(err error) ([]Location, error) {
		w.bw.Reset(&w.cw)
		if terr := w.f.Truncate(start); terr != nil {
			w.err = fmt.Errorf("%w: %v (after %v)", ErrBroken, terr, err)
			return nil, err
		}
		if _, serr := w.f.Seek(start, io.SeekStart); serr != nil {
			w.err = fmt.Errorf("%w: %v (after %v)", ErrBroken, serr, err)
			return nil, err
		}
		w.cw.n = start
		return nil, err
	}
	if w.copyBuf == nil {
		w.copyBuf = make([]byte, 64<<10)
	}
	for i, r := range recs {
		off := w.cw.n + int64(w.bw.Buffered())
		if r.member != nil {
			if _, err := w.bw.Write(r.member.Bytes()); err != nil {
				return fail(fmt.Errorf("write %s: %w", w.openPath, err))
			}
		} else {
			if w.gz == nil {
				w.gz, _ = gzip.NewWriterLevel(w.bw, w.opts.GzipLevel) // level checked in NewWriter
			} else {
				w.gz.Reset(w.bw)
			}
			if err := compressRecord(w.gz, &w.hdr, w.copyBuf, r); err != nil {
				return fail(fmt.Errorf("write %s: %w", w.openPath, err))
			}
		}
		end := w.cw.n + int64(w.bw.Buffered())
		locs[i] = Location{File: w.name, Offset: off, Length: end - off}
	}
	if err := w.bw.Flush(); err != nil {
		return fail(fmt.Errorf("write %s: %w", w.openPath, err))
	}
	if w.opts.SyncEveryRecord {
		if err := w.f.Sync(); err != nil {
			return fail(fmt.Errorf("sync %s: %w", w.openPath, err))
		}
	}
	if w.opts.Observer != nil {
		for i, r := range recs {
			w.opts.Observer.Observe(locs[i], Record{Header: r.header, Block: io.NewSectionReader(r.block, 0, r.block.Size()), Parsed: r.parsed, PayloadOffset: r.payloadOffset})
		}
	}
	return locs, nil
}

// compressRecord writes r as one gzip member through gz (Reset by the
// caller), using hdr and buf as scratch.
func compressRecord(gz *gzip.Writer, hdr *[]byte, buf []byte, r pending) error {
	*hdr = appendHeader((*hdr)[:0], r.header)
	if _, err := gz.Write(*hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(gz, io.NewSectionReader(r.block, 0, r.block.Size()), buf)
	if err != nil {
		return err
	}
	if n != r.block.Size() {
		return fmt.Errorf("block shrank from %d to %d bytes while writing", r.block.Size(), n)
	}
	if _, err := gz.Write([]byte("\r\n\r\n")); err != nil {
		return err
	}
	return gz.Close()
}

// packLimit is the largest block pack compresses ahead of the lock: the
// compressed copy is held in memory until the write, once per fetch in
// flight, so it is no larger than what the wire keeps of a message in
// memory before it spools to disk (256 KiB by default). A larger block is
// compressed straight into the file.
const packLimit = 256 << 10

// packer is one goroutine's gzip stream and scratch for pack.
type packer struct {
	gz  *gzip.Writer
	hdr []byte
	buf []byte
}

// pack compresses the records whose blocks are at most packLimit bytes
// into gzip members (pending.member), outside the file lock. A record it
// cannot read is left for writeRecords, which reports the error.
func (w *Writer) pack(recs []pending) {
	var p *packer
	for i := range recs {
		r := &recs[i]
		if r.block.Size() > packLimit {
			continue
		}
		if p == nil {
			p = w.packers.Get().(*packer)
			defer w.packers.Put(p)
		}
		m := w.members.Get().(*bytes.Buffer)
		m.Reset()
		p.gz.Reset(m)
		if err := compressRecord(p.gz, &p.hdr, p.buf, *r); err != nil {
			w.members.Put(m)
			continue
		}
		r.member = m
	}
}

// unpack gives the members of recs back to the pool.
func (w *Writer) unpack(recs []pending) {
	for i := range recs {
		if m := recs[i].member; m != nil {
			recs[i].member = nil
			if m.Cap() <= 2*packLimit {
				w.members.Put(m)
			}
		}
	}
}

// closeFile fsyncs, closes and renames the open file to its final name.
func (w *Writer) closeFile() error {
	f, openPath := w.f, w.openPath
	w.f = nil
	if err := w.bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("warc: flush %s: %w", openPath, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("warc: sync %s: %w", openPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("warc: close %s: %w", openPath, err)
	}
	if err := os.Rename(openPath, filepath.Join(w.opts.Dir, w.name)); err != nil {
		return fmt.Errorf("warc: rename %s: %w", openPath, err)
	}
	syncDir(w.opts.Dir)
	return nil
}

// syncDir makes a rename durable; best effort, as some filesystems refuse.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Close finishes the open file (fsync, rename from .open to its final name).
// Later writes return ErrClosed. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.f == nil {
		return nil
	}
	return w.closeFile()
}

// Sync fsyncs the open file, so every record written before the call is on
// disk when it returns (the crawler does it before each commit of its
// state). Writes go on meanwhile; files already rotated were fsynced then.
func (w *Writer) Sync() error {
	w.mu.Lock()
	f, path := w.f, w.openPath
	w.mu.Unlock()
	if f == nil {
		return nil
	}
	if err := f.Sync(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil // rotated or closed meanwhile, and fsynced then
		}
		return fmt.Errorf("warc: sync %s: %w", path, err)
	}
	return nil
}

// FileName returns the final base name of the file being written, or "".
func (w *Writer) FileName() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ""
	}
	return w.name
}

// countWriter counts the bytes that reached the file.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
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

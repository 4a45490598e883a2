package warc

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"crawl/internal/httpmsg"
)

// cdxjRunBytes bounds the index lines held in memory while sorting; beyond
// it, sorted runs go to temporary files and are merged, so memory stays
// bounded however large the archive.
const cdxjRunBytes = 64 << 20

// CDXJ writes a CDXJ index of the records in files to w, sorted bytewise
// (LC_ALL=C order), one line per capture:
//
//	SURT TIMESTAMP14 {"url":…,"mime":…,"status":…,"digest":…,"length":…,"offset":…,"filename":…}
//
// Fields and their spelling follow webrecorder's indexers (warcio.js's
// `cdx-index`, pywb's cdx-indexer): request and warcinfo records and
// application/warc-fields records are not indexed; a revisit has mime
// "warc/revisit"; a response's mime is its HTTP Content-Type without
// parameters; status is the HTTP status of responses and revisits; digest is
// the payload digest without its algorithm label (as warcio.js writes it;
// pywb keeps a non-sha1 label); numbers are strings. A fetch made with a
// method other than GET gets "method" and, as pywb does, a key with
// "__wb_method=<method>" in its query. A truncated response (not a revisit,
// whose truncation is by design) gets "truncated" with the WARC-Truncated
// reason, so replay can tell a partial capture.
//
// Filenames are the files' base names. Damaged files are indexed up to the
// bad spot; the error then names each of them, after the index is written.
func CDXJ(ctx context.Context, files []string, w io.Writer) error {
	s := &lineSorter{runBytes: cdxjRunBytes}
	defer s.cleanup()
	var damaged []error
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := indexFile(ctx, path, s.add)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) || ctx.Err() == nil {
				damaged = append(damaged, err)
				continue
			}
			return err
		}
	}
	if s.err != nil {
		return s.err
	}
	if err := s.writeTo(w); err != nil {
		return fmt.Errorf("cdxj: %w", err)
	}
	return errors.Join(damaged...)
}

// indexFile calls add with the CDXJ line of every indexable record.
func indexFile(ctx context.Context, path string, add func(string)) error {
	var lastReq struct{ id, uri, method string }
	var br *bufio.Reader
	return ReadFile(path, func(rec Record, loc Location) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := rec.Header
		typ := h.Get("WARC-Type")
		uri := h.Get("WARC-Target-URI")
		switch typ {
		case TypeRequest:
			lastReq.id, lastReq.uri, lastReq.method = h.Get("WARC-Record-ID"), uri, requestMethod(rec.Block)
			return nil
		case TypeWarcinfo:
			return nil
		case TypeMetadata, TypeResource:
			if mediaType(h.Get("Content-Type")) == ContentTypeWarcFields {
				return nil
			}
		}
		method := ""
		var status int
		mime := ""
		switch typ {
		case TypeResponse, TypeRevisit:
			if lastReq.uri == uri && (lastReq.id == h.Get("WARC-Concurrent-To") || h.Get("WARC-Concurrent-To") == "") {
				method = lastReq.method
			}
			if rec.Block.Size() > 0 {
				if br == nil {
					br = bufio.NewReaderSize(nil, 16<<10)
				}
				br.Reset(io.NewSectionReader(rec.Block, 0, rec.Block.Size()))
				if head, _, err := httpmsg.ReadHead(br); err == nil {
					status, mime = head.Status, mediaType(head.ContentType)
				}
			}
		default:
			mime = h.Get("Content-Type")
		}
		keyURL := uri
		if method != "" && method != "GET" {
			sep := "?"
			if strings.Contains(keyURL, "?") {
				sep = "&"
			}
			keyURL += sep + "__wb_method=" + strings.ToLower(method)
		} else {
			method = ""
		}
		key, err := SURT(keyURL)
		if err != nil {
			key = uri // an unparseable URI still gets indexed, under itself
		}
		add(CDXJLine(key, timestamp14(h.Get("WARC-Date")), CDXJFields{
			URL:       uri,
			MIME:      mime,
			Status:    status,
			Digest:    h.Get("WARC-Payload-Digest"),
			Length:    loc.Length,
			Offset:    loc.Offset,
			Filename:  loc.File,
			Method:    method,
			Truncated: h.Get("WARC-Truncated"),
			Revisit:   typ == TypeRevisit,
		}.Pairs()))
		return nil
	})
}

// CDXJFields are what a CDXJ line says of one capture (pywb's fields).
type CDXJFields struct {
	URL      string
	MIME     string // the response's media type; a revisit's is "warc/revisit"
	Status   int    // 0: none (not an HTTP response)
	Digest   string // WARC-Payload-Digest, with or without its "sha1:"
	Length   int64
	Offset   int64
	Filename string
	// Method is the request's when not GET (the key then carries
	// __wb_method=, as pywb's does).
	Method    string
	Truncated string // WARC-Truncated; a revisit's is not told
	Revisit   bool
}

// Pairs returns the fields of the line's JSON part, in pywb's order, those
// without a value left out.
func (f CDXJFields) Pairs() [][2]string {
	var p [][2]string
	add := func(k, v string) { p = append(p, [2]string{k, v}) }
	add("url", f.URL)
	mime := f.MIME
	if f.Revisit {
		mime = "warc/revisit"
	}
	if mime != "" {
		add("mime", mime)
	}
	if f.Status != 0 {
		add("status", itoa(int64(f.Status)))
	}
	if d := f.Digest; d != "" {
		if _, v, ok := strings.Cut(d, ":"); ok {
			d = v
		}
		add("digest", d)
	}
	add("length", itoa(f.Length))
	add("offset", itoa(f.Offset))
	add("filename", f.Filename)
	if f.Method != "" {
		add("method", f.Method)
	}
	if f.Truncated != "" && !f.Revisit {
		add("truncated", f.Truncated)
	}
	return p
}

// CDXJLine is one line of a CDXJ index: the SURT key, the 14-digit
// timestamp and the fields as a JSON object in order (as JSON.stringify
// writes it: no HTML escaping). Lines sort bytewise as pywb sorts them.
func CDXJLine(key, timestamp string, pairs [][2]string) string {
	var b strings.Builder
	b.WriteString(key)
	b.WriteByte(' ')
	b.WriteString(timestamp)
	b.WriteByte(' ')
	b.WriteString(JSONObject(pairs))
	return b.String()
}

// JSONObject writes pairs as a JSON object of strings, in order, as
// JSON.stringify does (no HTML escaping).
func JSONObject(pairs [][2]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(f[0]))
		b.WriteByte(':')
		b.WriteString(jsonString(f[1]))
	}
	b.WriteByte('}')
	return b.String()
}

// mediaType is a Content-Type without parameters, trimmed.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// timestamp14 turns a WARC-Date into the 14-digit CDX timestamp.
func timestamp14(date string) string {
	var b []byte
	for i := 0; i < len(date) && len(b) < 14; i++ {
		if c := date[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		} else if c == '.' || c == 'Z' || c == '+' {
			break
		}
	}
	for len(b) < 14 {
		b = append(b, '0')
	}
	return string(b)
}

// jsonString encodes s as JSON.stringify does (no HTML escaping).
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// lineSorter sorts lines bytewise within bounded memory: full runs are
// sorted and spilled to temporary files, then merged.
type lineSorter struct {
	runBytes int
	lines    []string
	size     int
	runs     []*os.File
	err      error
}

func (s *lineSorter) add(line string) {
	if s.err != nil {
		return
	}
	s.lines = append(s.lines, line)
	s.size += len(line) + 16
	if s.size >= s.runBytes {
		s.spill()
	}
}

func (s *lineSorter) spill() {
	slices.Sort(s.lines)
	f, err := os.CreateTemp("", "cdxj-run-*")
	if err != nil {
		s.err = fmt.Errorf("cdxj: sort run: %w", err)
		return
	}
	s.runs = append(s.runs, f)
	bw := bufio.NewWriter(f)
	for _, l := range s.lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		s.err = fmt.Errorf("cdxj: sort run: %w", err)
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.err = fmt.Errorf("cdxj: sort run: %w", err)
	}
	s.lines, s.size = s.lines[:0], 0
}

func (s *lineSorter) writeTo(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if len(s.runs) == 0 {
		slices.Sort(s.lines)
		for _, l := range s.lines {
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}
	if len(s.lines) > 0 {
		s.spill()
		if s.err != nil {
			return s.err
		}
	}
	h := &mergeHeap{}
	for _, f := range s.runs {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		if sc.Scan() {
			heap.Push(h, mergeItem{line: sc.Text(), sc: sc})
		} else if err := sc.Err(); err != nil {
			return err
		}
	}
	for h.Len() > 0 {
		it := (*h)[0]
		bw.WriteString(it.line)
		bw.WriteByte('\n')
		if it.sc.Scan() {
			(*h)[0].line = it.sc.Text()
			heap.Fix(h, 0)
		} else {
			if err := it.sc.Err(); err != nil {
				return err
			}
			heap.Pop(h)
		}
	}
	return bw.Flush()
}

func (s *lineSorter) cleanup() {
	for _, f := range s.runs {
		f.Close()
		os.Remove(f.Name())
	}
}

type mergeItem struct {
	line string
	sc   *bufio.Scanner
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return h[i].line < h[j].line }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
